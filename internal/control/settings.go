package control

import (
	"context"
	"slices"
	"strings"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/wire"
)

// settingRecord is one explicitly set account setting of one principal. The
// account default (PutAccountSettingDefault) is the setting of the account
// root principal.
type settingRecord struct {
	wire.Setting
}

// settingRule is what ECS accepts for one setting, and its AWS default.
type settingRule struct {
	values   []string
	def      string
	readOnly bool   // cannot be changed by users
	fixed    string // the only value ECS still accepts (long ARN formats)
}

// settingRules returns the table of account settings. The long ARN format
// settings can no longer be opted out of (AWS forced every account onto
// them in 2021), so only "enabled" is accepted and Berth's ARNs are always
// long. guardDutyActivate is managed by GuardDuty and read-only here.
func settingRules() map[wire.SettingName]settingRule {
	onOff := []string{"enabled", "disabled"}
	return map[wire.SettingName]settingRule{
		wire.SettingNameServiceLongArnFormat:            {values: onOff, def: "enabled", fixed: "enabled"},
		wire.SettingNameTaskLongArnFormat:               {values: onOff, def: "enabled", fixed: "enabled"},
		wire.SettingNameContainerInstanceLongArnFormat:  {values: onOff, def: "enabled", fixed: "enabled"},
		wire.SettingNameAwsvpcTrunking:                  {values: onOff, def: "disabled"},
		wire.SettingNameContainerInsights:               {values: []string{"enabled", "disabled", "enhanced"}, def: "disabled"},
		wire.SettingNameFargateFIPSMode:                 {values: onOff, def: "disabled"},
		wire.SettingNameTagResourceAuthorization:        {values: []string{"on", "off"}, def: "on"},
		wire.SettingNameFargateTaskRetirementWaitPeriod: {values: []string{"0", "7", "14"}, def: "7"},
		wire.SettingNameGuardDutyActivate:               {values: []string{"on", "off"}, def: "off", readOnly: true},
		wire.SettingNameDefaultLogDriverMode:            {values: []string{"blocking", "non-blocking"}, def: "non-blocking"},
		wire.SettingNameFargateEventWindows:             {values: onOff, def: "disabled"},
	}
}

func checkSettingValue(name wire.SettingName, value string) error {
	r, ok := settingRules()[name]
	if !ok {
		return ecs.Errorf(ecs.InvalidParameter, "The account setting %s is not supported.", name)
	}
	if r.readOnly {
		return ecs.Errorf(ecs.InvalidParameter, "The account setting %s is read-only.", name)
	}
	if !slices.Contains(r.values, value) {
		return ecs.Errorf(ecs.InvalidParameter, "The value '%s' is not valid for the account setting %s. Valid values are: %s.", value, name, strings.Join(r.values, ", "))
	}
	if r.fixed != "" && value != r.fixed {
		return ecs.Errorf(ecs.InvalidParameter, "The %s setting can no longer be changed: all accounts use the long ARN format.", name)
	}
	return nil
}

// resolvePrincipal returns the principal a setting call acts for: the given
// principalArn (an IAM user, role or root ARN of the caller's account), or
// the caller.
func resolvePrincipal(ns ecs.Namespace, arn *string) (string, error) {
	if arn == nil || *arn == "" {
		return ns.Principal, nil
	}
	a, ok := ecs.ParseARN(*arn)
	t := a.Type()
	if !ok || a.Service != "iam" || a.Account != ns.Account || a.Partition != ns.Partition ||
		(a.Resource != "root" && t != "user" && t != "role") {
		return "", ecs.Errorf(ecs.InvalidParameter, "The principalArn '%s' is not valid. Specify the ARN of an IAM user, IAM role or the root user of this account.", *arn)
	}
	return *arn, nil
}

// effectiveSetting returns the value in force for principal: its own, else
// the account default, else AWS's default. The bool says whether a user set
// it (false for the AWS default).
func effectiveSetting(t tx, ns ecs.Namespace, principal string, name wire.SettingName) (string, bool) {
	for _, p := range []string{principal, ns.RootPrincipal()} {
		var rec settingRecord
		if found, err := t.get(keySetting(ns, p, string(name)), &rec); err == nil && found {
			return wire.Val(rec.Value), true
		}
	}
	return settingRules()[name].def, false
}

func (c *Control) putSetting(ctx context.Context, ns ecs.Namespace, principal string, name wire.SettingName, value string) (*wire.Setting, error) {
	if err := checkSettingValue(name, value); err != nil {
		return nil, err
	}
	rec := settingRecord{Setting: wire.Setting{
		Name:         wire.Ptr(name),
		Value:        wire.Ptr(value),
		PrincipalArn: wire.Ptr(principal),
		Type:         wire.Ptr(wire.SettingTypeUser),
	}}
	err := c.update(ctx, func(t tx) error { return t.put(keySetting(ns, principal, string(name)), rec) })
	if err != nil {
		return nil, err
	}
	return &rec.Setting, nil
}

// PutAccountSetting sets a setting for the caller or the given principal.
func (c *Control) PutAccountSetting(ctx context.Context, ns ecs.Namespace, in *wire.PutAccountSettingRequest) (*wire.PutAccountSettingResponse, error) {
	principal, err := resolvePrincipal(ns, in.PrincipalArn)
	if err != nil {
		return nil, err
	}
	s, err := c.putSetting(ctx, ns, principal, wire.Val(in.Name), wire.Val(in.Value))
	if err != nil {
		return nil, err
	}
	return &wire.PutAccountSettingResponse{Setting: s}, nil
}

// PutAccountSettingDefault sets the account default of a setting (the
// setting of the account's root principal), which applies to every
// principal that has not set its own.
func (c *Control) PutAccountSettingDefault(ctx context.Context, ns ecs.Namespace, in *wire.PutAccountSettingDefaultRequest) (*wire.PutAccountSettingDefaultResponse, error) {
	s, err := c.putSetting(ctx, ns, ns.RootPrincipal(), wire.Val(in.Name), wire.Val(in.Value))
	if err != nil {
		return nil, err
	}
	return &wire.PutAccountSettingDefaultResponse{Setting: s}, nil
}

// DeleteAccountSetting removes a principal's own value of a setting, so the
// account default applies again. It returns the setting that was removed
// (name and principal only when none was set).
func (c *Control) DeleteAccountSetting(ctx context.Context, ns ecs.Namespace, in *wire.DeleteAccountSettingRequest) (*wire.DeleteAccountSettingResponse, error) {
	principal, err := resolvePrincipal(ns, in.PrincipalArn)
	if err != nil {
		return nil, err
	}
	name := wire.Val(in.Name)
	if _, ok := settingRules()[name]; !ok {
		return nil, ecs.Errorf(ecs.InvalidParameter, "The account setting %s is not supported.", name)
	}
	out := &wire.Setting{Name: wire.Ptr(name), PrincipalArn: wire.Ptr(principal)}
	err = c.update(ctx, func(t tx) error {
		var rec settingRecord
		found, err := t.get(keySetting(ns, principal, string(name)), &rec)
		if err != nil || !found {
			return err
		}
		out = &rec.Setting
		return t.Delete(keySetting(ns, principal, string(name)))
	})
	if err != nil {
		return nil, err
	}
	return &wire.DeleteAccountSettingResponse{Setting: out}, nil
}

// ListAccountSettings lists a principal's settings (the caller when no
// principalArn is given): with effectiveSettings, the value in force for
// every setting (own, else account default, else AWS default, the latter
// with type aws_managed); without, only the settings the principal set.
// Filters: name, value. Pagination 1–10, default 10, in setting-name order.
func (c *Control) ListAccountSettings(ctx context.Context, ns ecs.Namespace, in *wire.ListAccountSettingsRequest) (*wire.ListAccountSettingsResponse, error) {
	principal, err := resolvePrincipal(ns, in.PrincipalArn)
	if err != nil {
		return nil, err
	}
	if in.Value != nil && in.Name == nil {
		return nil, ecs.Errorf(ecs.InvalidParameter, "The value filter requires the name filter.")
	}
	n, err := pageSize(in.MaxResults, 10, 10)
	if err != nil {
		return nil, err
	}
	filter := nsPrefix(ns) + "|" + string(wire.Val(in.Name)) + "|" + wire.Val(in.Value) + "|" + principal
	if wire.Val(in.EffectiveSettings) {
		filter += "|effective"
	}
	after, err := c.decodeToken("ListAccountSettings", filter, in.NextToken)
	if err != nil {
		return nil, err
	}
	rules := settingRules()
	names := make([]string, 0, len(rules))
	for name := range rules {
		names = append(names, string(name))
	}
	slices.Sort(names)
	var all []wire.Setting
	for _, name := range names {
		if in.Name != nil && string(*in.Name) != name {
			continue
		}
		var s *wire.Setting
		for i, p := range []string{principal, ns.RootPrincipal()} {
			if i == 1 && !wire.Val(in.EffectiveSettings) {
				break
			}
			if rec, ok := c.view.get(keySetting(ns, p, name)).(*settingRecord); ok {
				cp := rec.Setting
				s = &cp
				break
			}
		}
		if s == nil && wire.Val(in.EffectiveSettings) {
			s = &wire.Setting{
				Name:         wire.Ptr(wire.SettingName(name)),
				Value:        wire.Ptr(rules[wire.SettingName(name)].def),
				PrincipalArn: wire.Ptr(principal),
				Type:         wire.Ptr(wire.SettingTypeAwsManaged),
			}
		}
		if s == nil || (in.Value != nil && wire.Val(s.Value) != *in.Value) {
			continue
		}
		all = append(all, *s)
	}
	out := &wire.ListAccountSettingsResponse{Settings: []wire.Setting{}}
	for _, s := range all {
		if after != "" && string(wire.Val(s.Name)) <= after {
			continue
		}
		if len(out.Settings) == n {
			t := c.encodeToken("ListAccountSettings", filter, string(wire.Val(out.Settings[n-1].Name)))
			out.NextToken = &t
			break
		}
		out.Settings = append(out.Settings, s)
	}
	return out, nil
}
