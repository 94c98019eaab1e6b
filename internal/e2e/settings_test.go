package e2e

import (
	"github.com/berth-dev/berth/internal/testkit"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// allSettings are the account settings ListAccountSettings knows, in the
// order it lists them, with their AWS defaults.
var allSettings = []struct {
	name types.SettingName
	def  string
}{
	{types.SettingNameAwsvpcTrunking, "disabled"},
	{types.SettingNameContainerInsights, "disabled"},
	{types.SettingNameContainerInstanceLongArnFormat, "enabled"},
	{types.SettingNameDefaultLogDriverMode, "non-blocking"},
	{types.SettingNameFargateEventWindows, "disabled"},
	{types.SettingNameFargateFipsMode, "disabled"},
	{types.SettingNameFargateTaskRetirementWaitPeriod, "7"},
	{types.SettingNameGuardDutyActivate, "off"},
	{types.SettingNameServiceLongArnFormat, "enabled"},
	{types.SettingNameTagResourceAuthorization, "on"},
	{types.SettingNameTaskLongArnFormat, "enabled"},
}

func rootOf(account string) string { return "arn:aws:iam::" + account + ":root" }

// listSettings pages through ListAccountSettings with the SDK paginator.
func listSettings(t *testing.T, c *ecs.Client, in ecs.ListAccountSettingsInput) []types.Setting {
	t.Helper()
	p := ecs.NewListAccountSettingsPaginator(c, &in)
	var out []types.Setting
	for p.HasMorePages() {
		page := testkit.Must(p.NextPage(ctx(t)))(t)
		if in.MaxResults != 0 && len(page.Settings) > int(in.MaxResults) {
			t.Fatalf("page of %d with maxResults %d", len(page.Settings), in.MaxResults)
		}
		out = append(out, page.Settings...)
		if len(out) > 100 {
			t.Fatal("paginator does not terminate")
		}
	}
	return out
}

// settingOf returns the listed setting of name.
func settingOf(t *testing.T, settings []types.Setting, name types.SettingName) types.Setting {
	t.Helper()
	for _, s := range settings {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("setting %s not listed in %+v", name, settings)
	return types.Setting{}
}

func TestAccountSettings(t *testing.T) {
	t.Parallel()
	m := startServer(t, options{})

	t.Run("PutAndList", func(t *testing.T) {
		c := accountClient(m, "200000000001")
		out := testkit.Must(c.PutAccountSetting(ctx(t), &ecs.PutAccountSettingInput{
			Name: types.SettingNameContainerInsights, Value: aws.String("enabled"),
		}))(t)
		s := out.Setting
		if s.Name != types.SettingNameContainerInsights || aws.ToString(s.Value) != "enabled" ||
			aws.ToString(s.PrincipalArn) != rootOf("200000000001") || s.Type != types.SettingTypeUser {
			t.Fatalf("put %+v", s)
		}
		got := listSettings(t, c, ecs.ListAccountSettingsInput{})
		if len(got) != 1 || got[0].Name != types.SettingNameContainerInsights || aws.ToString(got[0].Value) != "enabled" {
			t.Fatalf("listed %+v", got)
		}
		// Overwrite.
		testkit.Must(c.PutAccountSetting(ctx(t), &ecs.PutAccountSettingInput{Name: types.SettingNameContainerInsights, Value: aws.String("enhanced")}))(t)
		got = listSettings(t, c, ecs.ListAccountSettingsInput{})
		if len(got) != 1 || aws.ToString(got[0].Value) != "enhanced" {
			t.Fatalf("after overwrite %+v", got)
		}
	})

	t.Run("EffectiveSettings", func(t *testing.T) {
		c := accountClient(m, "200000000002")
		got := listSettings(t, c, ecs.ListAccountSettingsInput{EffectiveSettings: true})
		if len(got) != len(allSettings) {
			t.Fatalf("%d effective settings, want %d: %+v", len(got), len(allSettings), got)
		}
		for i, want := range allSettings {
			s := got[i]
			if s.Name != want.name || aws.ToString(s.Value) != want.def || s.Type != types.SettingTypeAwsManaged ||
				aws.ToString(s.PrincipalArn) != rootOf("200000000002") {
				t.Errorf("setting %d: %+v, want %s=%s aws_managed", i, s, want.name, want.def)
			}
		}
		if len(listSettings(t, c, ecs.ListAccountSettingsInput{})) != 0 {
			t.Fatal("without effectiveSettings only explicitly set settings are listed")
		}
		testkit.Must(c.PutAccountSetting(ctx(t), &ecs.PutAccountSettingInput{Name: types.SettingNameAwsvpcTrunking, Value: aws.String("enabled")}))(t)
		got = listSettings(t, c, ecs.ListAccountSettingsInput{EffectiveSettings: true})
		if s := settingOf(t, got, types.SettingNameAwsvpcTrunking); aws.ToString(s.Value) != "enabled" || s.Type != types.SettingTypeUser {
			t.Fatalf("awsvpcTrunking %+v", s)
		}
	})

	t.Run("Pagination", func(t *testing.T) {
		c := accountClient(m, "200000000003")
		for _, size := range []int32{1, 3, 4, 10} {
			got := listSettings(t, c, ecs.ListAccountSettingsInput{EffectiveSettings: true, MaxResults: size})
			if len(got) != len(allSettings) {
				t.Fatalf("maxResults %d: %d settings", size, len(got))
			}
			for i := range got {
				if got[i].Name != allSettings[i].name {
					t.Fatalf("maxResults %d: setting %d is %s, want %s", size, i, got[i].Name, allSettings[i].name)
				}
			}
		}
		first := testkit.Must(c.ListAccountSettings(ctx(t), &ecs.ListAccountSettingsInput{EffectiveSettings: true}))(t)
		if len(first.Settings) != 10 || first.NextToken == nil {
			t.Fatalf("default page: %d settings, next %v", len(first.Settings), first.NextToken)
		}
		// The SDK leaves out a zero maxResults; -1 and 11 reach the server.
		for _, n := range []int32{-1, 11} {
			_, err := c.ListAccountSettings(ctx(t), &ecs.ListAccountSettingsInput{MaxResults: n})
			wantErr[*types.InvalidParameterException](t, err)
		}
	})

	t.Run("Filters", func(t *testing.T) {
		c := accountClient(m, "200000000004")
		testkit.Must(c.PutAccountSetting(ctx(t), &ecs.PutAccountSettingInput{Name: types.SettingNameFargateFipsMode, Value: aws.String("enabled")}))(t)
		got := listSettings(t, c, ecs.ListAccountSettingsInput{EffectiveSettings: true, Name: types.SettingNameFargateFipsMode})
		if len(got) != 1 || aws.ToString(got[0].Value) != "enabled" {
			t.Fatalf("name filter %+v", got)
		}
		got = listSettings(t, c, ecs.ListAccountSettingsInput{EffectiveSettings: true, Name: types.SettingNameFargateFipsMode, Value: aws.String("disabled")})
		if len(got) != 0 {
			t.Fatalf("name+value filter that does not match: %+v", got)
		}
		got = listSettings(t, c, ecs.ListAccountSettingsInput{EffectiveSettings: true, Name: types.SettingNameFargateFipsMode, Value: aws.String("enabled")})
		if len(got) != 1 {
			t.Fatalf("name+value filter that matches: %+v", got)
		}
		got = listSettings(t, c, ecs.ListAccountSettingsInput{Name: types.SettingNameTaskLongArnFormat})
		if len(got) != 0 {
			t.Fatalf("unset setting without effectiveSettings: %+v", got)
		}
		_, err := c.ListAccountSettings(ctx(t), &ecs.ListAccountSettingsInput{Value: aws.String("enabled")})
		wantErr[*types.InvalidParameterException](t, err)
	})

	t.Run("PutDefaultAppliesToPrincipals", func(t *testing.T) {
		const acct = "200000000005"
		c := accountClient(m, acct)
		user := "arn:aws:iam::" + acct + ":user/alice"
		out := testkit.Must(c.PutAccountSettingDefault(ctx(t), &ecs.PutAccountSettingDefaultInput{
			Name: types.SettingNameContainerInsights, Value: aws.String("enabled"),
		}))(t)
		if aws.ToString(out.Setting.PrincipalArn) != rootOf(acct) || aws.ToString(out.Setting.Value) != "enabled" {
			t.Fatalf("default %+v", out.Setting)
		}
		got := listSettings(t, c, ecs.ListAccountSettingsInput{EffectiveSettings: true, PrincipalArn: aws.String(user), Name: types.SettingNameContainerInsights})
		if len(got) != 1 || aws.ToString(got[0].Value) != "enabled" {
			t.Fatalf("user's effective setting %+v, want the account default", got)
		}
		if got := listSettings(t, c, ecs.ListAccountSettingsInput{PrincipalArn: aws.String(user)}); len(got) != 0 {
			t.Fatalf("user's own settings %+v", got)
		}
		// The user's own value wins; deleting it restores the default.
		put := testkit.Must(c.PutAccountSetting(ctx(t), &ecs.PutAccountSettingInput{
			Name: types.SettingNameContainerInsights, Value: aws.String("disabled"), PrincipalArn: aws.String(user),
		}))(t)
		if aws.ToString(put.Setting.PrincipalArn) != user {
			t.Fatalf("put for user %+v", put.Setting)
		}
		got = listSettings(t, c, ecs.ListAccountSettingsInput{EffectiveSettings: true, PrincipalArn: aws.String(user), Name: types.SettingNameContainerInsights})
		if len(got) != 1 || aws.ToString(got[0].Value) != "disabled" || aws.ToString(got[0].PrincipalArn) != user {
			t.Fatalf("user's own setting %+v", got)
		}
		// The root is not affected by the user's setting.
		got = listSettings(t, c, ecs.ListAccountSettingsInput{EffectiveSettings: true, Name: types.SettingNameContainerInsights})
		if aws.ToString(got[0].Value) != "enabled" {
			t.Fatalf("root's setting %+v", got)
		}
		del := testkit.Must(c.DeleteAccountSetting(ctx(t), &ecs.DeleteAccountSettingInput{
			Name: types.SettingNameContainerInsights, PrincipalArn: aws.String(user),
		}))(t)
		if aws.ToString(del.Setting.Value) != "disabled" || aws.ToString(del.Setting.PrincipalArn) != user {
			t.Fatalf("deleted %+v", del.Setting)
		}
		got = listSettings(t, c, ecs.ListAccountSettingsInput{EffectiveSettings: true, PrincipalArn: aws.String(user), Name: types.SettingNameContainerInsights})
		if aws.ToString(got[0].Value) != "enabled" {
			t.Fatalf("after delete, user's effective setting %+v", got)
		}
		// Deleting a setting that is not set answers with name and principal.
		del = testkit.Must(c.DeleteAccountSetting(ctx(t), &ecs.DeleteAccountSettingInput{
			Name: types.SettingNameContainerInsights, PrincipalArn: aws.String(user),
		}))(t)
		if del.Setting.Name != types.SettingNameContainerInsights || aws.ToString(del.Setting.PrincipalArn) != user {
			t.Fatalf("delete of an unset setting %+v", del.Setting)
		}
	})

	t.Run("PrincipalArnRules", func(t *testing.T) {
		const acct = "200000000006"
		c := accountClient(m, acct)
		for _, ok := range []string{
			"arn:aws:iam::" + acct + ":user/bob",
			"arn:aws:iam::" + acct + ":user/division/bob",
			"arn:aws:iam::" + acct + ":role/deployer",
			rootOf(acct),
		} {
			out := testkit.Must(c.PutAccountSetting(ctx(t), &ecs.PutAccountSettingInput{
				Name: types.SettingNameAwsvpcTrunking, Value: aws.String("enabled"), PrincipalArn: aws.String(ok),
			}))(t)
			if aws.ToString(out.Setting.PrincipalArn) != ok {
				t.Fatalf("principal %s: %+v", ok, out.Setting)
			}
		}
		for _, bad := range []string{
			"arn:aws:iam::111111111111:user/bob",
			"arn:aws:iam::111111111111:root",
			"arn:aws:ecs:us-east-1:" + acct + ":cluster/x",
			"arn:aws:iam::" + acct + ":group/admins",
			"bob",
		} {
			_, err := c.PutAccountSetting(ctx(t), &ecs.PutAccountSettingInput{
				Name: types.SettingNameAwsvpcTrunking, Value: aws.String("enabled"), PrincipalArn: aws.String(bad),
			})
			wantErr[*types.InvalidParameterException](t, err)
			_, err = c.ListAccountSettings(ctx(t), &ecs.ListAccountSettingsInput{PrincipalArn: aws.String(bad)})
			wantErr[*types.InvalidParameterException](t, err)
			_, err = c.DeleteAccountSetting(ctx(t), &ecs.DeleteAccountSettingInput{Name: types.SettingNameAwsvpcTrunking, PrincipalArn: aws.String(bad)})
			wantErr[*types.InvalidParameterException](t, err)
		}
	})

	t.Run("LongArnFormats", func(t *testing.T) {
		c := accountClient(m, "200000000007")
		for _, name := range []types.SettingName{types.SettingNameServiceLongArnFormat, types.SettingNameTaskLongArnFormat, types.SettingNameContainerInstanceLongArnFormat} {
			testkit.Must(c.PutAccountSetting(ctx(t), &ecs.PutAccountSettingInput{Name: name, Value: aws.String("enabled")}))(t)
			testkit.Must(c.PutAccountSettingDefault(ctx(t), &ecs.PutAccountSettingDefaultInput{Name: name, Value: aws.String("enabled")}))(t)
			_, err := c.PutAccountSetting(ctx(t), &ecs.PutAccountSettingInput{Name: name, Value: aws.String("disabled")})
			wantErr[*types.InvalidParameterException](t, err)
			_, err = c.PutAccountSettingDefault(ctx(t), &ecs.PutAccountSettingDefaultInput{Name: name, Value: aws.String("disabled")})
			wantErr[*types.InvalidParameterException](t, err)
			got := listSettings(t, c, ecs.ListAccountSettingsInput{EffectiveSettings: true, Name: name})
			if len(got) != 1 || aws.ToString(got[0].Value) != "enabled" {
				t.Fatalf("%s: %+v", name, got)
			}
		}
	})

	t.Run("ErrInvalidValues", func(t *testing.T) {
		c := accountClient(m, "200000000008")
		cases := []struct {
			name  types.SettingName
			value string
		}{
			{types.SettingNameContainerInsights, "on"},
			{types.SettingNameFargateTaskRetirementWaitPeriod, "3"},
			{types.SettingNameTagResourceAuthorization, "enabled"},
			{types.SettingNameGuardDutyActivate, "on"}, // read-only
			{"notASetting", "enabled"},                 // not in the model's enum
		}
		for _, tc := range cases {
			_, err := c.PutAccountSetting(ctx(t), &ecs.PutAccountSettingInput{Name: tc.name, Value: aws.String(tc.value)})
			wantErr[*types.InvalidParameterException](t, err)
			_, err = c.PutAccountSettingDefault(ctx(t), &ecs.PutAccountSettingDefaultInput{Name: tc.name, Value: aws.String(tc.value)})
			wantErr[*types.InvalidParameterException](t, err)
		}
		for _, v := range []string{"0", "7", "14"} {
			testkit.Must(c.PutAccountSetting(ctx(t), &ecs.PutAccountSettingInput{Name: types.SettingNameFargateTaskRetirementWaitPeriod, Value: aws.String(v)}))(t)
		}
		_, err := c.PutAccountSetting(ctx(t), &ecs.PutAccountSettingInput{Name: types.SettingNameContainerInsights}, skipValidation)
		wantErr[*types.InvalidParameterException](t, err)
		wantMsgContains(t, err, "Value null at 'value'")
		if got := listSettings(t, c, ecs.ListAccountSettingsInput{}); len(got) != 1 || got[0].Name != types.SettingNameFargateTaskRetirementWaitPeriod {
			t.Fatalf("refused puts stored something: %+v", got)
		}
	})

	t.Run("AccountsAreSeparate", func(t *testing.T) {
		a, b := accountClient(m, "200000000009"), accountClient(m, "200000000010")
		testkit.Must(a.PutAccountSetting(ctx(t), &ecs.PutAccountSettingInput{Name: types.SettingNameAwsvpcTrunking, Value: aws.String("enabled")}))(t)
		testkit.Must(a.PutAccountSettingDefault(ctx(t), &ecs.PutAccountSettingDefaultInput{Name: types.SettingNameFargateFipsMode, Value: aws.String("enabled")}))(t)
		got := listSettings(t, b, ecs.ListAccountSettingsInput{EffectiveSettings: true})
		for _, s := range got {
			if s.Type != types.SettingTypeAwsManaged {
				t.Fatalf("account B sees %+v", s)
			}
		}
		names := make([]types.SettingName, 0)
		for _, s := range listSettings(t, a, ecs.ListAccountSettingsInput{}) {
			names = append(names, s.Name)
		}
		if !slices.Equal(names, []types.SettingName{types.SettingNameAwsvpcTrunking, types.SettingNameFargateFipsMode}) {
			t.Fatalf("account A's own settings %v", names)
		}
	})
}
