package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-dev/berth/internal/testkit"
)

const (
	msgClusterNotFound = "Cluster not found."
	msgClusterInactive = "The specified cluster is inactive. Specify an active cluster and try again."
	// defaultAccount is the account of requests whose key names none.
	defaultAccount = "000000000000"
)

// clusterARN is the ARN of a cluster of the default account in us-east-1.
func clusterARN(name string) string {
	return "arn:aws:ecs:us-east-1:" + defaultAccount + ":cluster/" + name
}

// createCluster creates a cluster and returns it.
func createCluster(t *testing.T, c *ecs.Client, name string) *types.Cluster {
	t.Helper()
	out := testkit.Must(c.CreateCluster(ctx(t), &ecs.CreateClusterInput{ClusterName: aws.String(name)}))(t)
	return out.Cluster
}

// deleteCluster deletes a cluster and checks it became INACTIVE.
func deleteCluster(t *testing.T, c *ecs.Client, name string) {
	t.Helper()
	out := testkit.Must(c.DeleteCluster(ctx(t), &ecs.DeleteClusterInput{Cluster: aws.String(name)}))(t)
	if s := aws.ToString(out.Cluster.Status); s != "INACTIVE" {
		t.Fatalf("deleted cluster %s: status %s", name, s)
	}
}

// describeCluster describes one cluster with the given include flags and
// fails unless it is found.
func describeCluster(t *testing.T, c *ecs.Client, name string, include ...types.ClusterField) types.Cluster {
	t.Helper()
	out := testkit.Must(c.DescribeClusters(ctx(t), &ecs.DescribeClustersInput{Clusters: []string{name}, Include: include}))(t)
	if len(out.Clusters) != 1 || len(out.Failures) != 0 {
		t.Fatalf("describe %s: %d clusters, failures %+v", name, len(out.Clusters), out.Failures)
	}
	return out.Clusters[0]
}

// settingValue returns the value of a cluster setting ("" if absent).
func settingValue(settings []types.ClusterSetting, name types.ClusterSettingName) string {
	for _, s := range settings {
		if s.Name == name {
			return aws.ToString(s.Value)
		}
	}
	return ""
}

// tagMap turns tags into a map, failing on duplicate keys.
func tagMap(t *testing.T, tags []types.Tag) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, tg := range tags {
		k := aws.ToString(tg.Key)
		if _, dup := m[k]; dup {
			t.Fatalf("duplicate tag key %q in %+v", k, tags)
		}
		m[k] = aws.ToString(tg.Value)
	}
	return m
}

func tags(kv ...string) []types.Tag {
	out := make([]types.Tag, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, types.Tag{Key: aws.String(kv[i]), Value: aws.String(kv[i+1])})
	}
	return out
}

func TestCreateCluster(t *testing.T) {
	t.Parallel()
	m := startServer(t, options{})
	c := defaultClient(m)

	t.Run("DefaultName", func(t *testing.T) {
		out := testkit.Must(c.CreateCluster(ctx(t), &ecs.CreateClusterInput{}))(t)
		cl := out.Cluster
		if aws.ToString(cl.ClusterName) != "default" || aws.ToString(cl.ClusterArn) != clusterARN("default") {
			t.Fatalf("got %s %s", aws.ToString(cl.ClusterName), aws.ToString(cl.ClusterArn))
		}
		if aws.ToString(cl.Status) != "ACTIVE" {
			t.Fatalf("status %s", aws.ToString(cl.Status))
		}
		if cl.RegisteredContainerInstancesCount != 0 || cl.RunningTasksCount != 0 || cl.PendingTasksCount != 0 || cl.ActiveServicesCount != 0 {
			t.Fatalf("counts not zero: %+v", cl)
		}
		if cl.CapacityProviders == nil || cl.DefaultCapacityProviderStrategy == nil || cl.Tags == nil || cl.Statistics == nil {
			t.Fatalf("list members should be present as []: %+v", cl)
		}
		if v := settingValue(cl.Settings, types.ClusterSettingNameContainerInsights); v != "disabled" {
			t.Fatalf("containerInsights %q, want the AWS default disabled", v)
		}
	})

	t.Run("IdempotentOnActiveName", func(t *testing.T) {
		first := testkit.Must(c.CreateCluster(ctx(t), &ecs.CreateClusterInput{
			ClusterName: aws.String("idem"),
			Tags:        tags("team", "a"),
			Settings:    []types.ClusterSetting{{Name: types.ClusterSettingNameContainerInsights, Value: aws.String("enabled")}},
		}))(t).Cluster
		second := testkit.Must(c.CreateCluster(ctx(t), &ecs.CreateClusterInput{
			ClusterName: aws.String("idem"),
			Tags:        tags("team", "b", "other", "x"),
			Settings:    []types.ClusterSetting{{Name: types.ClusterSettingNameContainerInsights, Value: aws.String("disabled")}},
		}))(t).Cluster
		if aws.ToString(second.ClusterArn) != aws.ToString(first.ClusterArn) {
			t.Fatalf("ARN changed: %s → %s", aws.ToString(first.ClusterArn), aws.ToString(second.ClusterArn))
		}
		if got := tagMap(t, second.Tags); len(got) != 1 || got["team"] != "a" {
			t.Fatalf("second create changed tags: %v", got)
		}
		if v := settingValue(second.Settings, types.ClusterSettingNameContainerInsights); v != "enabled" {
			t.Fatalf("second create changed settings: %q", v)
		}
		d := describeCluster(t, c, "idem", types.ClusterFieldTags, types.ClusterFieldSettings)
		if got := tagMap(t, d.Tags); len(got) != 1 || got["team"] != "a" {
			t.Fatalf("stored tags changed: %v", got)
		}
		if v := settingValue(d.Settings, types.ClusterSettingNameContainerInsights); v != "enabled" {
			t.Fatalf("stored settings changed: %q", v)
		}
	})

	t.Run("RecreateAfterDelete", func(t *testing.T) {
		first := createCluster(t, c, "phoenix")
		deleteCluster(t, c, "phoenix")
		out := testkit.Must(c.CreateCluster(ctx(t), &ecs.CreateClusterInput{ClusterName: aws.String("phoenix"), Tags: tags("gen", "2")}))(t)
		if aws.ToString(out.Cluster.Status) != "ACTIVE" || aws.ToString(out.Cluster.ClusterArn) != aws.ToString(first.ClusterArn) {
			t.Fatalf("re-created: %s %s", aws.ToString(out.Cluster.Status), aws.ToString(out.Cluster.ClusterArn))
		}
		if got := tagMap(t, out.Cluster.Tags); got["gen"] != "2" {
			t.Fatalf("re-created cluster has the new request's tags: %v", got)
		}
		if d := describeCluster(t, c, "phoenix"); aws.ToString(d.Status) != "ACTIVE" {
			t.Fatalf("describe after re-create: %s", aws.ToString(d.Status))
		}
	})

	t.Run("ErrInvalidName", func(t *testing.T) {
		for _, name := range []string{"bad name", "bad/name", "dots.not.allowed", strings.Repeat("x", 256), ""} {
			_, err := c.CreateCluster(ctx(t), &ecs.CreateClusterInput{ClusterName: aws.String(name)})
			wantErr[*types.InvalidParameterException](t, err)
			wantMsgContains(t, err, "Cluster name")
		}
		// 255 characters is the maximum.
		createCluster(t, c, strings.Repeat("y", 255))
	})

	t.Run("ErrReservedTag", func(t *testing.T) {
		for _, tg := range [][]types.Tag{tags("aws:owner", "me"), tags("AWS:owner", "me"), tags("owner", "aws:me")} {
			_, err := c.CreateCluster(ctx(t), &ecs.CreateClusterInput{ClusterName: aws.String("reserved"), Tags: tg})
			wantErr[*types.InvalidParameterException](t, err)
		}
		out := testkit.Must(c.DescribeClusters(ctx(t), &ecs.DescribeClustersInput{Clusters: []string{"reserved"}}))(t)
		if len(out.Clusters) != 0 {
			t.Fatal("a refused create must not create the cluster")
		}
	})

	t.Run("ErrTooManyTags", func(t *testing.T) {
		var tg []types.Tag
		for i := range 51 {
			tg = append(tg, tags(fmt.Sprintf("k%d", i), "v")...)
		}
		_, err := c.CreateCluster(ctx(t), &ecs.CreateClusterInput{ClusterName: aws.String("toomany"), Tags: tg})
		wantErr[*types.InvalidParameterException](t, err)
		out := testkit.Must(c.CreateCluster(ctx(t), &ecs.CreateClusterInput{ClusterName: aws.String("fifty"), Tags: tg[:50]}))(t)
		if len(out.Cluster.Tags) != 50 {
			t.Fatalf("got %d tags", len(out.Cluster.Tags))
		}
	})

	t.Run("ContainerInsightsSetting", func(t *testing.T) {
		for _, v := range []string{"enabled", "enhanced", "disabled"} {
			out := testkit.Must(c.CreateCluster(ctx(t), &ecs.CreateClusterInput{
				ClusterName: aws.String("ci-" + v),
				Settings:    []types.ClusterSetting{{Name: types.ClusterSettingNameContainerInsights, Value: aws.String(v)}},
			}))(t)
			if got := settingValue(out.Cluster.Settings, types.ClusterSettingNameContainerInsights); got != v {
				t.Fatalf("containerInsights %q, want %q", got, v)
			}
			if n := len(out.Cluster.Settings); n != 1 {
				t.Fatalf("%d settings, want 1", n)
			}
		}
		_, err := c.CreateCluster(ctx(t), &ecs.CreateClusterInput{
			ClusterName: aws.String("ci-bad"),
			Settings:    []types.ClusterSetting{{Name: types.ClusterSettingNameContainerInsights, Value: aws.String("sometimes")}},
		})
		wantErr[*types.InvalidParameterException](t, err)
	})

	t.Run("ContainerInsightsFromAccountDefault", func(t *testing.T) {
		ac := accountClient(m, "100000000001")
		testkit.Must(ac.PutAccountSettingDefault(ctx(t), &ecs.PutAccountSettingDefaultInput{
			Name: types.SettingNameContainerInsights, Value: aws.String("enhanced"),
		}))(t)
		cl := testkit.Must(ac.CreateCluster(ctx(t), &ecs.CreateClusterInput{ClusterName: aws.String("inherits")}))(t).Cluster
		if v := settingValue(cl.Settings, types.ClusterSettingNameContainerInsights); v != "enhanced" {
			t.Fatalf("new cluster containerInsights %q, want the account default enhanced", v)
		}
		// An explicit setting wins over the account default.
		cl = testkit.Must(ac.CreateCluster(ctx(t), &ecs.CreateClusterInput{
			ClusterName: aws.String("explicit"),
			Settings:    []types.ClusterSetting{{Name: types.ClusterSettingNameContainerInsights, Value: aws.String("disabled")}},
		}))(t).Cluster
		if v := settingValue(cl.Settings, types.ClusterSettingNameContainerInsights); v != "disabled" {
			t.Fatalf("explicit containerInsights %q, want disabled", v)
		}
		// The caller's own setting wins over the account default.
		testkit.Must(ac.PutAccountSetting(ctx(t), &ecs.PutAccountSettingInput{
			Name: types.SettingNameContainerInsights, Value: aws.String("enabled"),
			PrincipalArn: aws.String("arn:aws:iam::100000000001:root"),
		}))(t)
		cl = testkit.Must(ac.CreateCluster(ctx(t), &ecs.CreateClusterInput{ClusterName: aws.String("own")}))(t).Cluster
		if v := settingValue(cl.Settings, types.ClusterSettingNameContainerInsights); v != "enabled" {
			t.Fatalf("containerInsights %q, want the principal's enabled", v)
		}
		// Another account is not affected.
		cl = testkit.Must(accountClient(m, "100000000002").CreateCluster(ctx(t), &ecs.CreateClusterInput{ClusterName: aws.String("inherits")}))(t).Cluster
		if v := settingValue(cl.Settings, types.ClusterSettingNameContainerInsights); v != "disabled" {
			t.Fatalf("other account's cluster containerInsights %q, want disabled", v)
		}
	})

	t.Run("CapacityProvidersAndStrategy", func(t *testing.T) {
		out := testkit.Must(c.CreateCluster(ctx(t), &ecs.CreateClusterInput{
			ClusterName:       aws.String("withcp"),
			CapacityProviders: []string{"FARGATE", "FARGATE_SPOT"},
			DefaultCapacityProviderStrategy: []types.CapacityProviderStrategyItem{
				{CapacityProvider: aws.String("FARGATE"), Base: 1, Weight: 1},
				{CapacityProvider: aws.String("FARGATE_SPOT"), Weight: 4},
			},
		}))(t)
		cl := out.Cluster
		if !slices.Equal(cl.CapacityProviders, []string{"FARGATE", "FARGATE_SPOT"}) {
			t.Fatalf("providers %v", cl.CapacityProviders)
		}
		wantStrategy(t, cl.DefaultCapacityProviderStrategy, "FARGATE", 1, 1, "FARGATE_SPOT", 0, 4)
		if aws.ToString(cl.AttachmentsStatus) != "UPDATE_COMPLETE" {
			t.Fatalf("attachmentsStatus %q", aws.ToString(cl.AttachmentsStatus))
		}
		d := describeCluster(t, c, "withcp")
		wantStrategy(t, d.DefaultCapacityProviderStrategy, "FARGATE", 1, 1, "FARGATE_SPOT", 0, 4)

		_, err := c.CreateCluster(ctx(t), &ecs.CreateClusterInput{
			ClusterName:       aws.String("badcp"),
			CapacityProviders: []string{"nope"},
		})
		wantErr[*types.InvalidParameterException](t, err)
		_, err = c.CreateCluster(ctx(t), &ecs.CreateClusterInput{
			ClusterName:                     aws.String("badcp"),
			CapacityProviders:               []string{"FARGATE"},
			DefaultCapacityProviderStrategy: []types.CapacityProviderStrategyItem{{CapacityProvider: aws.String("FARGATE_SPOT"), Weight: 1}},
		})
		wantErr[*types.InvalidParameterException](t, err)
		wantMsgContains(t, err, "not associated with the cluster")
		if out := testkit.Must(c.DescribeClusters(ctx(t), &ecs.DescribeClustersInput{Clusters: []string{"badcp"}}))(t); len(out.Clusters) != 0 {
			t.Fatal("a refused create must not create the cluster")
		}
	})

	t.Run("ServiceConnectDefaults", func(t *testing.T) {
		out := testkit.Must(c.CreateCluster(ctx(t), &ecs.CreateClusterInput{
			ClusterName:            aws.String("sc"),
			ServiceConnectDefaults: &types.ClusterServiceConnectDefaultsRequest{Namespace: aws.String("internal")},
		}))(t)
		ns := aws.ToString(out.Cluster.ServiceConnectDefaults.Namespace)
		if ns != "arn:aws:servicediscovery:us-east-1:"+defaultAccount+":namespace/internal" {
			t.Fatalf("namespace %q", ns)
		}
		arn := "arn:aws:servicediscovery:us-east-1:" + defaultAccount + ":namespace/ns-abcdef0123456789"
		out = testkit.Must(c.CreateCluster(ctx(t), &ecs.CreateClusterInput{
			ClusterName:            aws.String("sc-arn"),
			ServiceConnectDefaults: &types.ClusterServiceConnectDefaultsRequest{Namespace: aws.String(arn)},
		}))(t)
		if got := aws.ToString(out.Cluster.ServiceConnectDefaults.Namespace); got != arn {
			t.Fatalf("namespace ARN %q, want it kept as given", got)
		}
		if d := describeCluster(t, c, "sc-arn"); aws.ToString(d.ServiceConnectDefaults.Namespace) != arn {
			t.Fatalf("described namespace %+v", d.ServiceConnectDefaults)
		}
		_, err := c.CreateCluster(ctx(t), &ecs.CreateClusterInput{
			ClusterName:            aws.String("sc-empty"),
			ServiceConnectDefaults: &types.ClusterServiceConnectDefaultsRequest{Namespace: aws.String("")},
		})
		wantErr[*types.InvalidParameterException](t, err)
	})
}

// wantStrategy checks a strategy against (provider, base, weight) triples.
func wantStrategy(t *testing.T, got []types.CapacityProviderStrategyItem, want ...any) {
	t.Helper()
	if len(got) != len(want)/3 {
		t.Fatalf("strategy %+v, want %v", got, want)
	}
	for i := range got {
		p, b, w := want[3*i].(string), want[3*i+1].(int), want[3*i+2].(int)
		if aws.ToString(got[i].CapacityProvider) != p || got[i].Base != int32(b) || got[i].Weight != int32(w) {
			t.Fatalf("strategy item %d: %s base %d weight %d, want %s base %d weight %d",
				i, aws.ToString(got[i].CapacityProvider), got[i].Base, got[i].Weight, p, b, w)
		}
	}
}

func TestDescribeClusters(t *testing.T) {
	t.Parallel()
	m := startServer(t, options{})
	c := defaultClient(m)

	t.Run("NoNamesDescribesDefault", func(t *testing.T) {
		ac := accountClient(m, "100000000003")
		out := testkit.Must(ac.DescribeClusters(ctx(t), &ecs.DescribeClustersInput{}))(t)
		if len(out.Clusters) != 0 || len(out.Failures) != 1 {
			t.Fatalf("before create: %+v", out)
		}
		f := out.Failures[0]
		if aws.ToString(f.Reason) != "MISSING" || aws.ToString(f.Arn) != "arn:aws:ecs:us-east-1:100000000003:cluster/default" {
			t.Fatalf("failure %s %s", aws.ToString(f.Arn), aws.ToString(f.Reason))
		}
		testkit.Must(ac.CreateCluster(ctx(t), &ecs.CreateClusterInput{}))(t)
		out = testkit.Must(ac.DescribeClusters(ctx(t), &ecs.DescribeClustersInput{}))(t)
		if len(out.Clusters) != 1 || len(out.Failures) != 0 || aws.ToString(out.Clusters[0].ClusterName) != "default" {
			t.Fatalf("after create: %+v", out)
		}
	})

	t.Run("MissingFailures", func(t *testing.T) {
		createCluster(t, c, "present")
		foreign := "arn:aws:ecs:eu-west-1:" + defaultAccount + ":cluster/present"
		nested := clusterARN("other/present")
		out := testkit.Must(c.DescribeClusters(ctx(t), &ecs.DescribeClustersInput{
			Clusters: []string{"present", "absent", clusterARN("present"), foreign, nested},
		}))(t)
		if len(out.Clusters) != 2 {
			t.Fatalf("clusters %d, want 2 (by name and by ARN)", len(out.Clusters))
		}
		for _, cl := range out.Clusters {
			if aws.ToString(cl.ClusterArn) != clusterARN("present") {
				t.Fatalf("cluster %s", aws.ToString(cl.ClusterArn))
			}
		}
		if len(out.Failures) != 3 {
			t.Fatalf("failures %+v", out.Failures)
		}
		if f := out.Failures[2]; aws.ToString(f.Arn) != nested || aws.ToString(f.Reason) != "MISSING" {
			t.Fatalf("failure 2: %s %s", aws.ToString(f.Arn), aws.ToString(f.Reason))
		}
		if f := out.Failures[0]; aws.ToString(f.Arn) != clusterARN("absent") || aws.ToString(f.Reason) != "MISSING" {
			t.Fatalf("failure 0: %s %s", aws.ToString(f.Arn), aws.ToString(f.Reason))
		}
		if f := out.Failures[1]; aws.ToString(f.Arn) != foreign || aws.ToString(f.Reason) != "MISSING" {
			t.Fatalf("failure 1: %s %s", aws.ToString(f.Arn), aws.ToString(f.Reason))
		}
	})

	t.Run("InactiveStillDescribable", func(t *testing.T) {
		createCluster(t, c, "gone")
		deleteCluster(t, c, "gone")
		d := describeCluster(t, c, "gone")
		if aws.ToString(d.Status) != "INACTIVE" || aws.ToString(d.ClusterArn) != clusterARN("gone") {
			t.Fatalf("inactive cluster: %s %s", aws.ToString(d.Status), aws.ToString(d.ClusterArn))
		}
	})

	t.Run("ErrTooManyNames", func(t *testing.T) {
		names := make([]string, 101)
		for i := range names {
			names[i] = fmt.Sprintf("n%d", i)
		}
		_, err := c.DescribeClusters(ctx(t), &ecs.DescribeClustersInput{Clusters: names})
		wantErr[*types.InvalidParameterException](t, err)
		out := testkit.Must(c.DescribeClusters(ctx(t), &ecs.DescribeClustersInput{Clusters: names[:100]}))(t)
		if len(out.Failures) != 100 {
			t.Fatalf("failures %d", len(out.Failures))
		}
	})

	t.Run("Include", func(t *testing.T) {
		createASGProvider(t, c, "inc-cp", true)
		testkit.Must(c.CreateCluster(ctx(t), &ecs.CreateClusterInput{
			ClusterName: aws.String("inc"),
			Tags:        tags("k", "v"),
			Settings:    []types.ClusterSetting{{Name: types.ClusterSettingNameContainerInsights, Value: aws.String("enabled")}},
			Configuration: &types.ClusterConfiguration{ExecuteCommandConfiguration: &types.ExecuteCommandConfiguration{
				Logging: types.ExecuteCommandLoggingDefault,
			}},
			CapacityProviders: []string{"inc-cp"},
		}))(t)
		type check struct {
			field types.ClusterField
			has   func(types.Cluster) bool
		}
		checks := []check{
			{types.ClusterFieldAttachments, func(cl types.Cluster) bool { return len(cl.Attachments) > 0 }},
			{types.ClusterFieldConfigurations, func(cl types.Cluster) bool { return cl.Configuration != nil }},
			{types.ClusterFieldSettings, func(cl types.Cluster) bool { return len(cl.Settings) > 0 }},
			{types.ClusterFieldStatistics, func(cl types.Cluster) bool { return len(cl.Statistics) > 0 }},
			{types.ClusterFieldTags, func(cl types.Cluster) bool { return len(cl.Tags) > 0 }},
		}
		none := describeCluster(t, c, "inc")
		for _, ch := range checks {
			if ch.has(none) {
				t.Errorf("without include, %s members are shown", ch.field)
			}
		}
		if none.Tags == nil || none.Statistics == nil {
			t.Errorf("tags and statistics should be [] without include")
		}
		for _, ch := range checks {
			t.Run(string(ch.field), func(t *testing.T) {
				cl := describeCluster(t, c, "inc", ch.field)
				for _, other := range checks {
					if got := other.has(cl); got != (other.field == ch.field) {
						t.Errorf("include %s: %s shown = %v", ch.field, other.field, got)
					}
				}
			})
		}
		all := describeCluster(t, c, "inc", types.ClusterFieldAttachments, types.ClusterFieldConfigurations,
			types.ClusterFieldSettings, types.ClusterFieldStatistics, types.ClusterFieldTags)
		if all.Configuration.ExecuteCommandConfiguration.Logging != types.ExecuteCommandLoggingDefault {
			t.Errorf("configuration %+v", all.Configuration.ExecuteCommandConfiguration)
		}
		if len(all.Statistics) != 12 {
			t.Errorf("statistics: %d entries", len(all.Statistics))
		}
		for _, kv := range all.Statistics {
			if aws.ToString(kv.Value) != "0" {
				t.Errorf("statistic %s = %s", aws.ToString(kv.Name), aws.ToString(kv.Value))
			}
		}
		if tagMap(t, all.Tags)["k"] != "v" {
			t.Errorf("tags %+v", all.Tags)
		}
		if len(all.Attachments) != 1 || aws.ToString(all.Attachments[0].Type) != "as_policy" {
			t.Errorf("attachments %+v", all.Attachments)
		}
	})
}

func TestListClusters(t *testing.T) {
	t.Parallel()
	m := startServer(t, options{})
	c := defaultClient(m)

	t.Run("Empty", func(t *testing.T) {
		out := testkit.Must(c.ListClusters(ctx(t), &ecs.ListClustersInput{}))(t)
		if len(out.ClusterArns) != 0 || out.NextToken != nil {
			t.Fatalf("%+v", out)
		}
	})

	var want []string
	for i := range 7 {
		name := fmt.Sprintf("list-%02d", i)
		createCluster(t, c, name)
		want = append(want, clusterARN(name))
	}
	deleteCluster(t, c, "list-03")
	want = slices.Delete(want, 3, 4)

	t.Run("PaginatorExcludesInactive", func(t *testing.T) {
		for _, size := range []int32{1, 2, 3, 6, 7, 100} {
			p := ecs.NewListClustersPaginator(c, &ecs.ListClustersInput{MaxResults: aws.Int32(size)})
			var got []string
			pages := 0
			for p.HasMorePages() {
				out := testkit.Must(p.NextPage(ctx(t)))(t)
				if len(out.ClusterArns) > int(size) {
					t.Fatalf("page of %d with maxResults %d", len(out.ClusterArns), size)
				}
				got = append(got, out.ClusterArns...)
				pages++
				if pages > 20 {
					t.Fatal("paginator does not terminate")
				}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("maxResults %d: got %v, want %v", size, got, want)
			}
			if wantPages := (len(want) + int(size) - 1) / int(size); pages != wantPages {
				t.Errorf("maxResults %d: %d pages, want %d", size, pages, wantPages)
			}
		}
	})

	t.Run("DefaultPageSize", func(t *testing.T) {
		out := testkit.Must(c.ListClusters(ctx(t), &ecs.ListClustersInput{}))(t)
		if !slices.Equal(out.ClusterArns, want) || out.NextToken != nil {
			t.Fatalf("%+v", out)
		}
	})

	t.Run("ErrMaxResultsBounds", func(t *testing.T) {
		for _, n := range []int32{0, -1, 101} {
			_, err := c.ListClusters(ctx(t), &ecs.ListClustersInput{MaxResults: aws.Int32(n)})
			wantErr[*types.InvalidParameterException](t, err)
		}
	})
}

func TestUpdateCluster(t *testing.T) {
	t.Parallel()
	m := startServer(t, options{})
	c := defaultClient(m)
	createCluster(t, c, "upd")
	createCluster(t, c, "dead")
	deleteCluster(t, c, "dead")

	t.Run("UpdateClusterSettingsMerges", func(t *testing.T) {
		out := testkit.Must(c.UpdateClusterSettings(ctx(t), &ecs.UpdateClusterSettingsInput{
			Cluster:  aws.String("upd"),
			Settings: []types.ClusterSetting{{Name: types.ClusterSettingNameContainerInsights, Value: aws.String("enhanced")}},
		}))(t)
		if len(out.Cluster.Settings) != 1 || settingValue(out.Cluster.Settings, types.ClusterSettingNameContainerInsights) != "enhanced" {
			t.Fatalf("settings %+v", out.Cluster.Settings)
		}
		d := describeCluster(t, c, clusterARN("upd"), types.ClusterFieldSettings)
		if len(d.Settings) != 1 || settingValue(d.Settings, types.ClusterSettingNameContainerInsights) != "enhanced" {
			t.Fatalf("stored settings %+v", d.Settings)
		}
	})

	t.Run("UpdateClusterMerges", func(t *testing.T) {
		out := testkit.Must(c.UpdateCluster(ctx(t), &ecs.UpdateClusterInput{
			Cluster: aws.String("upd"),
			Configuration: &types.ClusterConfiguration{ExecuteCommandConfiguration: &types.ExecuteCommandConfiguration{
				Logging: types.ExecuteCommandLoggingNone,
			}},
			ServiceConnectDefaults: &types.ClusterServiceConnectDefaultsRequest{Namespace: aws.String("svc")},
		}))(t)
		cl := out.Cluster
		if cl.Configuration == nil || cl.Configuration.ExecuteCommandConfiguration.Logging != types.ExecuteCommandLoggingNone {
			t.Fatalf("configuration %+v", cl.Configuration)
		}
		if !strings.HasSuffix(aws.ToString(cl.ServiceConnectDefaults.Namespace), ":namespace/svc") {
			t.Fatalf("serviceConnectDefaults %+v", cl.ServiceConnectDefaults)
		}
		// Settings are untouched by an update that does not mention them.
		if v := settingValue(cl.Settings, types.ClusterSettingNameContainerInsights); v != "enhanced" {
			t.Fatalf("settings changed: %q", v)
		}
		out = testkit.Must(c.UpdateCluster(ctx(t), &ecs.UpdateClusterInput{
			Cluster:  aws.String("upd"),
			Settings: []types.ClusterSetting{{Name: types.ClusterSettingNameContainerInsights, Value: aws.String("disabled")}},
		}))(t)
		if v := settingValue(out.Cluster.Settings, types.ClusterSettingNameContainerInsights); v != "disabled" || len(out.Cluster.Settings) != 1 {
			t.Fatalf("settings %+v", out.Cluster.Settings)
		}
		if out.Cluster.Configuration == nil || out.Cluster.ServiceConnectDefaults == nil {
			t.Fatalf("an update of settings dropped configuration or serviceConnectDefaults: %+v", out.Cluster)
		}
	})

	t.Run("ErrClusterNotFound", func(t *testing.T) {
		_, err := c.UpdateCluster(ctx(t), &ecs.UpdateClusterInput{Cluster: aws.String("nope"),
			Settings: []types.ClusterSetting{{Name: types.ClusterSettingNameContainerInsights, Value: aws.String("enabled")}}})
		wantErr[*types.ClusterNotFoundException](t, err)
		wantMsg(t, err, msgClusterNotFound)
		_, err = c.UpdateClusterSettings(ctx(t), &ecs.UpdateClusterSettingsInput{Cluster: aws.String("nope"),
			Settings: []types.ClusterSetting{{Name: types.ClusterSettingNameContainerInsights, Value: aws.String("enabled")}}})
		wantErr[*types.ClusterNotFoundException](t, err)
		wantMsg(t, err, msgClusterNotFound)
	})

	t.Run("ErrInactiveCluster", func(t *testing.T) {
		_, err := c.UpdateCluster(ctx(t), &ecs.UpdateClusterInput{Cluster: aws.String("dead"),
			Settings: []types.ClusterSetting{{Name: types.ClusterSettingNameContainerInsights, Value: aws.String("enabled")}}})
		wantErr[*types.InvalidParameterException](t, err)
		wantMsg(t, err, msgClusterInactive)
		_, err = c.UpdateClusterSettings(ctx(t), &ecs.UpdateClusterSettingsInput{Cluster: aws.String("dead"),
			Settings: []types.ClusterSetting{{Name: types.ClusterSettingNameContainerInsights, Value: aws.String("enabled")}}})
		wantErr[*types.InvalidParameterException](t, err)
		wantMsg(t, err, msgClusterInactive)
	})

	t.Run("ErrInvalidSetting", func(t *testing.T) {
		_, err := c.UpdateClusterSettings(ctx(t), &ecs.UpdateClusterSettingsInput{Cluster: aws.String("upd"),
			Settings: []types.ClusterSetting{{Name: types.ClusterSettingNameContainerInsights, Value: aws.String("maybe")}}})
		wantErr[*types.InvalidParameterException](t, err)
		_, err = c.UpdateClusterSettings(ctx(t), &ecs.UpdateClusterSettingsInput{Cluster: aws.String("upd"),
			Settings: []types.ClusterSetting{{Name: "bogusSetting", Value: aws.String("enabled")}}})
		wantErr[*types.InvalidParameterException](t, err)
	})
}

func TestDeleteCluster(t *testing.T) {
	t.Parallel()
	m := startServer(t, options{})
	c := defaultClient(m)

	t.Run("ErrClusterNotFound", func(t *testing.T) {
		_, err := c.DeleteCluster(ctx(t), &ecs.DeleteClusterInput{Cluster: aws.String("never")})
		wantErr[*types.ClusterNotFoundException](t, err)
		wantMsg(t, err, msgClusterNotFound)
		_, err = c.DeleteCluster(ctx(t), &ecs.DeleteClusterInput{Cluster: aws.String("arn:aws:ecs:us-west-2:" + defaultAccount + ":cluster/never")})
		wantErr[*types.ClusterNotFoundException](t, err)
	})

	t.Run("SuccessMakesInactive", func(t *testing.T) {
		createCluster(t, c, "del")
		out := testkit.Must(c.DeleteCluster(ctx(t), &ecs.DeleteClusterInput{Cluster: aws.String(clusterARN("del"))}))(t)
		if aws.ToString(out.Cluster.Status) != "INACTIVE" || aws.ToString(out.Cluster.ClusterArn) != clusterARN("del") {
			t.Fatalf("%+v", out.Cluster)
		}
		if d := describeCluster(t, c, "del"); aws.ToString(d.Status) != "INACTIVE" {
			t.Fatalf("describe: %s", aws.ToString(d.Status))
		}
	})

	t.Run("DeleteTwiceReturnsInactive", func(t *testing.T) {
		createCluster(t, c, "twice")
		deleteCluster(t, c, "twice")
		deleteCluster(t, c, "twice")
	})

	t.Run("DisassociatesProviders", func(t *testing.T) {
		createASGProvider(t, c, "del-cp", true)
		testkit.Must(c.CreateCluster(ctx(t), &ecs.CreateClusterInput{
			ClusterName:       aws.String("withprov"),
			CapacityProviders: []string{"del-cp", "FARGATE"},
		}))(t)
		out := testkit.Must(c.DeleteCluster(ctx(t), &ecs.DeleteClusterInput{Cluster: aws.String("withprov")}))(t)
		if len(out.Cluster.CapacityProviders) != 0 || len(out.Cluster.Attachments) != 0 {
			t.Fatalf("deleted cluster keeps providers %v attachments %+v", out.Cluster.CapacityProviders, out.Cluster.Attachments)
		}
		// The provider is free again: another cluster may use its managed
		// scaling, and it may be deleted.
		testkit.Must(c.CreateCluster(ctx(t), &ecs.CreateClusterInput{ClusterName: aws.String("next"), CapacityProviders: []string{"del-cp"}}))(t)
		testkit.Must(c.PutClusterCapacityProviders(ctx(t), &ecs.PutClusterCapacityProvidersInput{
			Cluster: aws.String("next"), CapacityProviders: []string{}, DefaultCapacityProviderStrategy: []types.CapacityProviderStrategyItem{},
		}))(t)
		testkit.Must(c.DeleteCapacityProvider(ctx(t), &ecs.DeleteCapacityProviderInput{CapacityProvider: aws.String("del-cp")}))(t)
	})
}
