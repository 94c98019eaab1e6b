package autoscaling

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/store"
)

// MaxGroups is the per-account, per-region quota of Auto Scaling groups
// (AWS's default).
const MaxGroups = 500

// maxTags is the per-group tag limit.
const maxTags = 50

// ops runs the API operations against the store. Each mutation is one
// store.Update; reads are one store.View.
type ops struct {
	store     store.Store
	now       func() time.Time
	launchers func(name string) bool // whether a launcher name is known
}

func getGroup(r store.Reader, key string) (*Group, error) {
	kv, err := r.Get(key)
	if err != nil {
		return nil, err
	}
	g := new(Group)
	if err := json.Unmarshal(kv.Value, g); err != nil {
		return nil, fmt.Errorf("autoscaling: decode %s: %w", key, err)
	}
	return g, nil
}

func putJSON(tx store.Tx, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("autoscaling: encode %s: %w", key, err)
	}
	return tx.Put(key, b)
}

// mustGroup reads a group that must exist and not be being deleted.
func mustGroup(r store.Reader, ns ecs.Namespace, name string) (*Group, error) {
	g, err := getGroup(r, keyGroup(ns.Account, ns.Region, name))
	if errors.Is(err, store.ErrNotFound) {
		return nil, Errorf(ValidationError, "AutoScalingGroup name not found - AutoScalingGroup %s not found", name)
	}
	if err != nil {
		return nil, err
	}
	if g.Deleting {
		return nil, Errorf(ValidationError, "AutoScalingGroup name not found - AutoScalingGroup %s is pending delete", name)
	}
	return g, nil
}

// zonesOf returns the group's Availability Zones: the given ones, or one
// per subnet of VPCZoneIdentifier (Berth has no EC2 subnets: the n-th
// distinct subnet is in zone <region>a, <region>b, ...).
func zonesOf(region string, azs []string, vpc string) []string {
	if len(azs) > 0 {
		out := []string{}
		for _, z := range azs {
			if !slices.Contains(out, z) {
				out = append(out, z)
			}
		}
		return out
	}
	var subnets []string
	for _, s := range strings.Split(vpc, ",") {
		if s = strings.TrimSpace(s); s != "" && !slices.Contains(subnets, s) {
			subnets = append(subnets, s)
		}
	}
	out := make([]string, 0, len(subnets))
	for i := range subnets {
		out = append(out, region+string(rune('a'+i%26)))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// checkLaunchSource validates the launch template / configuration of a
// create or update.
func checkLaunchSource(s *groupSettings) error {
	if s.HasMixedInstancesPolicy {
		return Errorf(ValidationError, "Berth does not support MixedInstancesPolicy; use LaunchTemplate or LaunchConfigurationName.")
	}
	if s.LaunchTemplate != nil && s.LaunchConfigurationName != nil {
		return Errorf(ValidationError, "Valid requests must contain either LaunchTemplate, LaunchConfigurationName, InstanceId or MixedInstancesPolicy parameter.")
	}
	if lt := s.LaunchTemplate; lt != nil {
		if (lt.LaunchTemplateID == "") == (lt.LaunchTemplateName == "") {
			return Errorf(ValidationError, "Valid requests must contain either launchTemplateId or launchTemplateName parameter.")
		}
		if lt.Version == "" {
			lt.Version = "$Default"
		}
	}
	return nil
}

func checkSizes(min, max, desired int32) error {
	if min < 0 {
		return Errorf(ValidationError, "Min bound, %d, must be greater than or equal to 0", min)
	}
	if max < min {
		return Errorf(ValidationError, "Max bound, %d, must be greater than or equal to min bound, %d", max, min)
	}
	if desired < min || desired > max {
		return Errorf(ValidationError, "Desired capacity:%d must be between the specified min size:%d and max size:%d", desired, min, max)
	}
	return nil
}

func (o *ops) checkTags(tags []Tag) error {
	if len(tags) > maxTags {
		return Errorf(ValidationError, "The number of tags exceeds the limit of %d.", maxTags)
	}
	seen := map[string]bool{}
	for _, t := range tags {
		if seen[t.Key] {
			return Errorf(ValidationError, "Duplicate tag key: %s", t.Key)
		}
		seen[t.Key] = true
		if t.Key == TagLauncher && !o.launchers(t.Value) {
			return Errorf(ValidationError, "Tag %s names the unknown instance launcher %s (Berth has exec, local and sim).", TagLauncher, quote(t.Value))
		}
	}
	return nil
}

// CreateAutoScalingGroup creates a group. Errors: ValidationError,
// AlreadyExists, LimitExceeded.
func (o *ops) CreateAutoScalingGroup(ctx context.Context, ns ecs.Namespace, in *CreateAutoScalingGroupInput) error {
	if in.InstanceID != nil {
		return Errorf(ValidationError, "Berth does not support creating a group from an InstanceId; use LaunchTemplate or LaunchConfigurationName.")
	}
	if err := checkLaunchSource(&in.groupSettings); err != nil {
		return err
	}
	if in.LaunchTemplate == nil && in.LaunchConfigurationName == nil {
		return Errorf(ValidationError, "Valid requests must contain either LaunchTemplate, LaunchConfigurationName, InstanceId or MixedInstancesPolicy parameter.")
	}
	min, max := *in.MinSize, *in.MaxSize
	desired := min
	if in.DesiredCapacity != nil {
		desired = *in.DesiredCapacity
	}
	if err := checkSizes(min, max, desired); err != nil {
		return err
	}
	azs := zonesOf(ns.Region, in.AvailabilityZones, deref(in.VPCZoneIdentifier))
	if len(azs) == 0 {
		return Errorf(ValidationError, "At least one Availability Zone or VPC Subnet is required.")
	}
	if err := o.checkTags(in.Tags); err != nil {
		return err
	}
	now := o.now()
	g := &Group{
		Name:                             in.AutoScalingGroupName,
		ARN:                              "arn:" + ns.Partition + ":autoscaling:" + ns.Region + ":" + ns.Account + ":autoScalingGroup:" + newUUID() + ":autoScalingGroupName/" + in.AutoScalingGroupName,
		Account:                          ns.Account,
		Region:                           ns.Region,
		MinSize:                          min,
		MaxSize:                          max,
		DesiredCapacity:                  desired,
		DefaultCooldown:                  300,
		LaunchTemplate:                   in.LaunchTemplate,
		LaunchConfigurationName:          deref(in.LaunchConfigurationName),
		AvailabilityZones:                azs,
		VPCZoneIdentifier:                deref(in.VPCZoneIdentifier),
		HealthCheckType:                  "EC2",
		HealthCheckGracePeriod:           0,
		PlacementGroup:                   deref(in.PlacementGroup),
		TerminationPolicies:              in.TerminationPolicies,
		NewInstancesProtectedFromScaleIn: derefBool(in.NewInstancesProtectedFromScaleIn),
		CapacityRebalance:                derefBool(in.CapacityRebalance),
		MaxInstanceLifetime:              in.MaxInstanceLifetime,
		DefaultInstanceWarmup:            in.DefaultInstanceWarmup,
		Context:                          deref(in.Context),
		DesiredCapacityType:              deref(in.DesiredCapacityType),
		Tags:                             in.Tags,
		CreatedTime:                      now,
		DesiredCause:                     fmt.Sprintf("At %s a user request created an AutoScalingGroup changing the desired capacity from 0 to %d.", causeTime(now), desired),
	}
	if in.DefaultCooldown != nil {
		g.DefaultCooldown = *in.DefaultCooldown
	}
	if in.HealthCheckType != nil {
		g.HealthCheckType = *in.HealthCheckType
	}
	if in.HealthCheckGracePeriod != nil {
		g.HealthCheckGracePeriod = *in.HealthCheckGracePeriod
	}
	if len(g.TerminationPolicies) == 0 {
		g.TerminationPolicies = []string{"Default"}
	}
	if strings.ContainsAny(g.Name, "\r\n") {
		return Errorf(ValidationError, "The group name must not contain line breaks.")
	}
	_, err := o.store.Update(ctx, func(tx store.Tx) error {
		key := keyGroup(ns.Account, ns.Region, g.Name)
		if _, err := tx.Get(key); err == nil {
			return Errorf(AlreadyExists, "AutoScalingGroup by this name already exists - A group with the name %s already exists", g.Name)
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		n := 0
		err := tx.List(nsPrefix(ns.Account, ns.Region)+"group/", "", func(store.KV) error {
			n++
			if n >= MaxGroups {
				return store.ErrStop
			}
			return nil
		})
		if err != nil {
			return err
		}
		if n >= MaxGroups {
			return Errorf(LimitExceeded, "You have reached your limit of %d Auto Scaling groups in this Region.", MaxGroups)
		}
		return putJSON(tx, key, g)
	})
	return err
}

// UpdateAutoScalingGroup changes a group's settings. A new MinSize above
// the desired capacity raises it, a new MaxSize below lowers it, as AWS
// does when DesiredCapacity is not given. Errors: ValidationError.
func (o *ops) UpdateAutoScalingGroup(ctx context.Context, ns ecs.Namespace, in *UpdateAutoScalingGroupInput) error {
	if err := checkLaunchSource(&in.groupSettings); err != nil {
		return err
	}
	now := o.now()
	_, err := o.store.Update(ctx, func(tx store.Tx) error {
		g, err := mustGroup(tx, ns, in.AutoScalingGroupName)
		if err != nil {
			return err
		}
		min, max, desired := g.MinSize, g.MaxSize, g.DesiredCapacity
		if in.MinSize != nil {
			min = *in.MinSize
		}
		if in.MaxSize != nil {
			max = *in.MaxSize
		}
		if in.DesiredCapacity != nil {
			desired = *in.DesiredCapacity
		} else {
			desired = clamp(desired, min, max)
		}
		if err := checkSizes(min, max, desired); err != nil {
			return err
		}
		if desired != g.DesiredCapacity {
			g.DesiredCause = fmt.Sprintf("At %s a user request update of AutoScalingGroup constraints to min: %d, max: %d, desired: %d changing the desired capacity from %d to %d.",
				causeTime(now), min, max, desired, g.DesiredCapacity, desired)
		}
		g.MinSize, g.MaxSize, g.DesiredCapacity = min, max, desired
		if in.LaunchTemplate != nil {
			g.LaunchTemplate, g.LaunchConfigurationName = in.LaunchTemplate, ""
		}
		if in.LaunchConfigurationName != nil {
			g.LaunchConfigurationName, g.LaunchTemplate = *in.LaunchConfigurationName, nil
		}
		if in.AvailabilityZones != nil || in.VPCZoneIdentifier != nil {
			vpc := g.VPCZoneIdentifier
			if in.VPCZoneIdentifier != nil {
				vpc = *in.VPCZoneIdentifier
			}
			azs := zonesOf(ns.Region, in.AvailabilityZones, vpc)
			if len(azs) > 0 {
				g.AvailabilityZones, g.VPCZoneIdentifier = azs, vpc
			}
		}
		setInt(&g.DefaultCooldown, in.DefaultCooldown)
		setStr(&g.HealthCheckType, in.HealthCheckType)
		setInt(&g.HealthCheckGracePeriod, in.HealthCheckGracePeriod)
		setStr(&g.PlacementGroup, in.PlacementGroup)
		if in.TerminationPolicies != nil {
			g.TerminationPolicies = in.TerminationPolicies
		}
		if in.NewInstancesProtectedFromScaleIn != nil {
			g.NewInstancesProtectedFromScaleIn = *in.NewInstancesProtectedFromScaleIn
		}
		if in.CapacityRebalance != nil {
			g.CapacityRebalance = *in.CapacityRebalance
		}
		if in.MaxInstanceLifetime != nil {
			g.MaxInstanceLifetime = in.MaxInstanceLifetime
		}
		if in.DefaultInstanceWarmup != nil {
			g.DefaultInstanceWarmup = in.DefaultInstanceWarmup
		}
		setStr(&g.Context, in.Context)
		setStr(&g.DesiredCapacityType, in.DesiredCapacityType)
		return putJSON(tx, keyGroup(ns.Account, ns.Region, g.Name), g)
	})
	return err
}

// pageToken encodes the position after which the next page starts.
func pageToken(last string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(last))
}

func parsePageToken(tok *string) (string, error) {
	if tok == nil || *tok == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(*tok)
	if err != nil || len(b) == 0 {
		return "", Errorf(InvalidNextToken, "The token '%s' is invalid.", *tok)
	}
	return string(b), nil
}

func maxRecords(p *int32, def, hi int32) (int, error) {
	if p == nil {
		return int(def), nil
	}
	if *p < 1 || *p > hi {
		return 0, Errorf(ValidationError, "1 validation error detected: Value '%d' at 'maxRecords' failed to satisfy constraint: Member must have value between 1 and %d", *p, hi)
	}
	return int(*p), nil
}

// DescribeAutoScalingGroups lists groups by name (all when no names),
// in name order, MaxRecords (default 50, at most 100) per page. Filters
// tag-key, tag-value and tag:<key> are applied.
func (o *ops) DescribeAutoScalingGroups(ctx context.Context, ns ecs.Namespace, in *DescribeAutoScalingGroupsInput) (*describeGroupsResult, error) {
	limit, err := maxRecords(in.MaxRecords, 50, 100)
	if err != nil {
		return nil, err
	}
	after, err := parsePageToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	for _, f := range in.Filters {
		if f.Name != "tag-key" && f.Name != "tag-value" && !strings.HasPrefix(f.Name, "tag:") {
			return nil, Errorf(ValidationError, "Filter name %s is invalid; use tag-key, tag-value or tag:<key>.", quote(f.Name))
		}
	}
	names := map[string]bool{}
	for _, n := range in.AutoScalingGroupNames {
		names[n] = true
	}
	withInstances := in.IncludeInstances == nil || *in.IncludeInstances
	res := &describeGroupsResult{AutoScalingGroups: list[xmlGroup]{}}
	prefix := nsPrefix(ns.Account, ns.Region) + "group/"
	startAfter := ""
	if after != "" {
		startAfter = prefix + after
	}
	err = o.store.View(ctx, func(r store.Reader) error {
		return r.List(prefix, startAfter, func(kv store.KV) error {
			name := strings.TrimPrefix(kv.Key, prefix)
			if len(names) > 0 && !names[name] {
				return nil
			}
			g := new(Group)
			if err := json.Unmarshal(kv.Value, g); err != nil {
				return fmt.Errorf("autoscaling: decode %s: %w", kv.Key, err)
			}
			if !matchFilters(g, in.Filters) {
				return nil
			}
			if len(res.AutoScalingGroups) == limit {
				res.NextToken = pageToken(res.AutoScalingGroups[limit-1].AutoScalingGroupName)
				return store.ErrStop
			}
			res.AutoScalingGroups = append(res.AutoScalingGroups, toXMLGroup(g, withInstances))
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

func matchFilters(g *Group, filters []Filter) bool {
	for _, f := range filters {
		ok := false
		for _, t := range g.Tags {
			switch {
			case f.Name == "tag-key":
				ok = ok || slices.Contains(f.Values, t.Key)
			case f.Name == "tag-value":
				ok = ok || slices.Contains(f.Values, t.Value)
			default:
				ok = ok || (t.Key == strings.TrimPrefix(f.Name, "tag:") && slices.Contains(f.Values, t.Value))
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// DeleteAutoScalingGroup deletes an empty group at once. A group with
// instances is refused with ResourceInUse unless ForceDelete is set; then
// it is marked "Delete in progress", the controller terminates every
// instance (protected ones too) and removes the group.
func (o *ops) DeleteAutoScalingGroup(ctx context.Context, ns ecs.Namespace, in *DeleteAutoScalingGroupInput) error {
	_, err := o.store.Update(ctx, func(tx store.Tx) error {
		key := keyGroup(ns.Account, ns.Region, in.AutoScalingGroupName)
		g, err := getGroup(tx, key)
		if errors.Is(err, store.ErrNotFound) {
			return Errorf(ValidationError, "AutoScalingGroup name not found - AutoScalingGroup '%s' not found", in.AutoScalingGroupName)
		}
		if err != nil {
			return err
		}
		if g.Deleting {
			if in.ForceDelete {
				return nil
			}
			return Errorf(ScalingActivityInProgress, "You cannot delete an AutoScalingGroup while there are scaling activities in progress for that group.")
		}
		if len(g.Instances) == 0 {
			return tx.Delete(key)
		}
		if !in.ForceDelete {
			for _, i := range g.Instances {
				if i.LifecycleState != StateInService {
					return Errorf(ScalingActivityInProgress, "You cannot delete an AutoScalingGroup while there are scaling activities in progress for that group.")
				}
			}
			return Errorf(ResourceInUse, "You cannot delete an AutoScalingGroup while there are instances or pending Spot instance request(s) still in the group.")
		}
		g.Deleting = true
		g.DesiredCause = fmt.Sprintf("At %s a user request deleted the AutoScalingGroup changing the desired capacity from %d to 0.", causeTime(o.now()), g.DesiredCapacity)
		return putJSON(tx, key, g)
	})
	return err
}

// SetDesiredCapacity sets the group's desired capacity within its bounds.
// HonorCooldown is accepted and ignored (Berth has no cooldowns).
func (o *ops) SetDesiredCapacity(ctx context.Context, ns ecs.Namespace, in *SetDesiredCapacityInput) error {
	now := o.now()
	_, err := o.store.Update(ctx, func(tx store.Tx) error {
		g, err := mustGroup(tx, ns, in.AutoScalingGroupName)
		if err != nil {
			return err
		}
		if in.DesiredCapacity > g.MaxSize {
			return Errorf(ValidationError, "New SetDesiredCapacity value %d is above max value %d for the AutoScalingGroup.", in.DesiredCapacity, g.MaxSize)
		}
		if in.DesiredCapacity < g.MinSize {
			return Errorf(ValidationError, "New SetDesiredCapacity value %d is below min value %d for the AutoScalingGroup.", in.DesiredCapacity, g.MinSize)
		}
		if in.DesiredCapacity == g.DesiredCapacity {
			return nil
		}
		g.DesiredCause = fmt.Sprintf("At %s a user request explicitly set group desired capacity changing the desired capacity from %d to %d.", causeTime(now), g.DesiredCapacity, in.DesiredCapacity)
		g.DesiredCapacity = in.DesiredCapacity
		return putJSON(tx, keyGroup(ns.Account, ns.Region, g.Name), g)
	})
	return err
}

// maxProtectIDs is SetInstanceProtection's per-call limit.
const maxProtectIDs = 50

// SetInstanceProtection sets ProtectedFromScaleIn on instances of the
// group. Errors: ValidationError (an instance not in the group),
// LimitExceeded (more than 50 instances).
func (o *ops) SetInstanceProtection(ctx context.Context, ns ecs.Namespace, in *SetInstanceProtectionInput) error {
	if len(in.InstanceIDs) > maxProtectIDs {
		return Errorf(LimitExceeded, "The number of instance IDs exceeds the limit of %d.", maxProtectIDs)
	}
	_, err := o.store.Update(ctx, func(tx store.Tx) error {
		g, err := mustGroup(tx, ns, in.AutoScalingGroupName)
		if err != nil {
			return err
		}
		for _, id := range in.InstanceIDs {
			i := g.instance(id)
			if i < 0 {
				return Errorf(ValidationError, "The instance %s is not part of Auto Scaling group %s.", id, g.Name)
			}
			g.Instances[i].ProtectedFromScaleIn = in.ProtectedFromScaleIn
		}
		return putJSON(tx, keyGroup(ns.Account, ns.Region, g.Name), g)
	})
	return err
}

// listGroups decodes every group of the namespace.
func listGroups(r store.Reader, account, region string) ([]*Group, error) {
	var out []*Group
	err := r.List(nsPrefix(account, region)+"group/", "", func(kv store.KV) error {
		g := new(Group)
		if err := json.Unmarshal(kv.Value, g); err != nil {
			return fmt.Errorf("autoscaling: decode %s: %w", kv.Key, err)
		}
		out = append(out, g)
		return nil
	})
	return out, err
}

// DescribeAutoScalingInstances lists instances of every group (or the
// given ids), in instance-id order, MaxRecords (default 50, at most 50)
// per page.
func (o *ops) DescribeAutoScalingInstances(ctx context.Context, ns ecs.Namespace, in *DescribeAutoScalingInstancesInput) (*describeInstancesResult, error) {
	limit, err := maxRecords(in.MaxRecords, 50, 50)
	if err != nil {
		return nil, err
	}
	after, err := parsePageToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	var all []xmlInstance
	err = o.store.View(ctx, func(r store.Reader) error {
		groups, err := listGroups(r, ns.Account, ns.Region)
		for _, g := range groups {
			for _, i := range g.Instances {
				if len(in.InstanceIDs) == 0 || slices.Contains(in.InstanceIDs, i.ID) {
					all = append(all, toXMLInstance(i, g.Name))
				}
			}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(all, func(a, b int) bool { return all[a].InstanceID < all[b].InstanceID })
	start := sort.Search(len(all), func(i int) bool { return all[i].InstanceID > after })
	res := &describeInstancesResult{AutoScalingInstances: list[xmlInstance]{}}
	end := min(start+limit, len(all))
	res.AutoScalingInstances = append(res.AutoScalingInstances, all[start:end]...)
	if end < len(all) {
		res.NextToken = pageToken(all[end-1].InstanceID)
	}
	return res, nil
}

// TerminateInstanceInAutoScalingGroup takes an instance out of service:
// it becomes Terminating and the controller terminates it through the
// group's launcher. With ShouldDecrementDesiredCapacity the desired
// capacity drops by one (not below MinSize: ValidationError); without it
// the controller launches a replacement.
func (o *ops) TerminateInstanceInAutoScalingGroup(ctx context.Context, ns ecs.Namespace, in *TerminateInstanceInput) (*activityResult, error) {
	now := o.now()
	var act Activity
	_, err := o.store.Update(ctx, func(tx store.Tx) error {
		groups, err := listGroups(tx, ns.Account, ns.Region)
		if err != nil {
			return err
		}
		for _, g := range groups {
			i := g.instance(in.InstanceID)
			if i < 0 {
				continue
			}
			inst := &g.Instances[i]
			if inst.LifecycleState == StateTerminating {
				kv, err := tx.Get(keyActivity(ns.Account, ns.Region, g.Name, inst.ActivityID))
				if err != nil {
					return fmt.Errorf("autoscaling: activity of %s: %w", inst.ID, err)
				}
				return json.Unmarshal(kv.Value, &act)
			}
			cause := fmt.Sprintf("At %s instance %s was taken out of service in response to a user request.", causeTime(now), inst.ID)
			if in.ShouldDecrementDesiredCapacity {
				if g.DesiredCapacity-1 < g.MinSize {
					return Errorf(ValidationError, "Currently, desiredCapacity (%d) is not allowed to be lower than minSize (%d); decrementing it for instance %s would break that.", g.DesiredCapacity, g.MinSize, inst.ID)
				}
				cause = fmt.Sprintf("At %s instance %s was taken out of service in response to a user request, shrinking the capacity from %d to %d.", causeTime(now), inst.ID, g.DesiredCapacity, g.DesiredCapacity-1)
				g.DesiredCapacity--
				g.DesiredCause = fmt.Sprintf("At %s a user request terminated instance %s changing the desired capacity from %d to %d.", causeTime(now), inst.ID, g.DesiredCapacity+1, g.DesiredCapacity)
			}
			act = Activity{
				ID: newUUID(), GroupName: g.Name, GroupARN: g.ARN,
				Description: "Terminating EC2 instance: " + inst.ID,
				Cause:       cause,
				StatusCode:  ActivityInProgress, Progress: 0, StartTime: now,
			}
			inst.LifecycleState = StateTerminating
			inst.ActivityID = act.ID
			if err := putJSON(tx, keyActivity(ns.Account, ns.Region, g.Name, act.ID), act); err != nil {
				return err
			}
			return putJSON(tx, keyGroup(ns.Account, ns.Region, g.Name), g)
		}
		return Errorf(ValidationError, "Instance Id not found - No managed instance found for instance ID: %s", in.InstanceID)
	})
	if err != nil {
		return nil, err
	}
	return &activityResult{Activity: toXMLActivity(act)}, nil
}

// DescribeScalingActivities lists activities newest first, of one group
// or all, MaxRecords (default 100, at most 100) per page. Activities of
// deleted groups (and of earlier groups of the same name) are shown only
// with IncludeDeletedGroups.
func (o *ops) DescribeScalingActivities(ctx context.Context, ns ecs.Namespace, in *DescribeScalingActivitiesInput) (*activitiesResult, error) {
	limit, err := maxRecords(in.MaxRecords, 100, 100)
	if err != nil {
		return nil, err
	}
	after, err := parsePageToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	var acts []Activity
	err = o.store.View(ctx, func(r store.Reader) error {
		groups, err := listGroups(r, ns.Account, ns.Region)
		if err != nil {
			return err
		}
		live := map[string]bool{}
		for _, g := range groups {
			live[g.ARN] = true
		}
		prefix := keyActivityPrefix(ns.Account, ns.Region)
		if in.AutoScalingGroupName != nil {
			prefix += *in.AutoScalingGroupName + "/"
		}
		return r.List(prefix, "", func(kv store.KV) error {
			var a Activity
			if err := json.Unmarshal(kv.Value, &a); err != nil {
				return fmt.Errorf("autoscaling: decode %s: %w", kv.Key, err)
			}
			if in.AutoScalingGroupName != nil && a.GroupName != *in.AutoScalingGroupName {
				return nil
			}
			if !in.IncludeDeletedGroups && !live[a.GroupARN] {
				return nil
			}
			if len(in.ActivityIDs) > 0 && !slices.Contains(in.ActivityIDs, a.ID) {
				return nil
			}
			acts = append(acts, a)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(acts, func(i, j int) bool {
		if !acts[i].StartTime.Equal(acts[j].StartTime) {
			return acts[i].StartTime.After(acts[j].StartTime)
		}
		return acts[i].ID < acts[j].ID
	})
	start := 0
	if after != "" {
		start = -1
		for i, a := range acts {
			if a.ID == after {
				start = i + 1
				break
			}
		}
		if start < 0 {
			return nil, Errorf(InvalidNextToken, "The token '%s' is invalid.", *in.NextToken)
		}
	}
	res := &activitiesResult{Activities: list[xmlActivity]{}}
	end := min(start+limit, len(acts))
	for _, a := range acts[start:end] {
		res.Activities = append(res.Activities, toXMLActivity(a))
	}
	if end < len(acts) {
		res.NextToken = pageToken(acts[end-1].ID)
	}
	return res, nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func derefBool(p *bool) bool { return p != nil && *p }

func setStr(dst *string, p *string) {
	if p != nil {
		*dst = *p
	}
}

func setInt(dst *int32, p *int32) {
	if p != nil {
		*dst = *p
	}
}

func clamp(v, lo, hi int32) int32 {
	return max(lo, min(v, hi))
}
