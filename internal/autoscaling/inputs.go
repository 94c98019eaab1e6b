package autoscaling

import "strconv"

// The operations' inputs, hand-written from the model (service-2.json,
// 2011-01-01) for the members this subset uses. Members Berth accepts but
// ignores (load balancers, lifecycle hooks, warm pools, ...) are read only
// far enough to be validated.

// LaunchTemplateSpec is the model's LaunchTemplateSpecification.
type LaunchTemplateSpec struct {
	LaunchTemplateID   string `json:"launchTemplateId,omitempty"`
	LaunchTemplateName string `json:"launchTemplateName,omitempty"`
	Version            string `json:"version,omitempty"`
}

// Tag is one group tag (the model's Tag / TagDescription).
type Tag struct {
	Key               string `json:"key"`
	Value             string `json:"value"`
	PropagateAtLaunch bool   `json:"propagateAtLaunch,omitempty"`
}

// groupSettings are the members CreateAutoScalingGroup and
// UpdateAutoScalingGroup share; nil means "not given".
type groupSettings struct {
	LaunchConfigurationName          *string
	LaunchTemplate                   *LaunchTemplateSpec
	MinSize, MaxSize                 *int32
	DesiredCapacity                  *int32
	DefaultCooldown                  *int32
	AvailabilityZones                []string
	HealthCheckType                  *string
	HealthCheckGracePeriod           *int32
	PlacementGroup                   *string
	VPCZoneIdentifier                *string
	TerminationPolicies              []string
	NewInstancesProtectedFromScaleIn *bool
	CapacityRebalance                *bool
	MaxInstanceLifetime              *int32
	DefaultInstanceWarmup            *int32
	Context                          *string
	DesiredCapacityType              *string
	HasMixedInstancesPolicy          bool
}

// CreateAutoScalingGroupInput is CreateAutoScalingGroupType.
type CreateAutoScalingGroupInput struct {
	AutoScalingGroupName string
	InstanceID           *string
	Tags                 []Tag
	groupSettings
}

// UpdateAutoScalingGroupInput is UpdateAutoScalingGroupType.
type UpdateAutoScalingGroupInput struct {
	AutoScalingGroupName string
	groupSettings
}

// DescribeAutoScalingGroupsInput is AutoScalingGroupNamesType.
type DescribeAutoScalingGroupsInput struct {
	AutoScalingGroupNames []string
	IncludeInstances      *bool
	NextToken             *string
	MaxRecords            *int32
	Filters               []Filter
}

// Filter is one DescribeAutoScalingGroups filter.
type Filter struct {
	Name   string
	Values []string
}

// DeleteAutoScalingGroupInput is DeleteAutoScalingGroupType.
type DeleteAutoScalingGroupInput struct {
	AutoScalingGroupName string
	ForceDelete          bool
}

// SetDesiredCapacityInput is SetDesiredCapacityType.
type SetDesiredCapacityInput struct {
	AutoScalingGroupName string
	DesiredCapacity      int32
	HonorCooldown        bool
}

// SetInstanceProtectionInput is SetInstanceProtectionQuery.
type SetInstanceProtectionInput struct {
	InstanceIDs          []string
	AutoScalingGroupName string
	ProtectedFromScaleIn bool
}

// DescribeAutoScalingInstancesInput is DescribeAutoScalingInstancesType.
type DescribeAutoScalingInstancesInput struct {
	InstanceIDs []string
	MaxRecords  *int32
	NextToken   *string
}

// TerminateInstanceInput is TerminateInstanceInAutoScalingGroupType.
type TerminateInstanceInput struct {
	InstanceID                     string
	ShouldDecrementDesiredCapacity bool
}

// DescribeScalingActivitiesInput is DescribeScalingActivitiesType.
type DescribeScalingActivitiesInput struct {
	ActivityIDs          []string
	AutoScalingGroupName *string
	IncludeDeletedGroups bool
	MaxRecords           *int32
	NextToken            *string
}

const (
	maxInt32 = 1<<31 - 1
	minInt32 = -1 << 31
)

func readLaunchTemplate(f *form, name string) *LaunchTemplateSpec {
	if !f.Has(name) {
		return nil
	}
	lt := &LaunchTemplateSpec{}
	if p := f.String(name+".LaunchTemplateId", xmlLen255); p != nil {
		lt.LaunchTemplateID = *p
	}
	if p := f.String(name+".LaunchTemplateName", ltName); p != nil {
		lt.LaunchTemplateName = *p
	}
	if p := f.String(name+".Version", xmlLen255); p != nil {
		lt.Version = *p
	}
	return lt
}

func readSettings(f *form) groupSettings {
	var s groupSettings
	s.LaunchConfigurationName = f.String("LaunchConfigurationName", xmlLen255)
	s.LaunchTemplate = readLaunchTemplate(f, "LaunchTemplate")
	s.HasMixedInstancesPolicy = f.Has("MixedInstancesPolicy")
	s.MinSize = f.Int("MinSize", minInt32, maxInt32)
	s.MaxSize = f.Int("MaxSize", minInt32, maxInt32)
	s.DesiredCapacity = f.Int("DesiredCapacity", minInt32, maxInt32)
	s.DefaultCooldown = f.Int("DefaultCooldown", minInt32, maxInt32)
	s.AvailabilityZones = f.Strings("AvailabilityZones", xmlLen255, maxListLen)
	s.HealthCheckType = f.String("HealthCheckType", xmlLen32)
	s.HealthCheckGracePeriod = f.Int("HealthCheckGracePeriod", minInt32, maxInt32)
	s.PlacementGroup = f.String("PlacementGroup", placementGr)
	s.VPCZoneIdentifier = f.String("VPCZoneIdentifier", xmlLen5000)
	s.TerminationPolicies = f.Strings("TerminationPolicies", xmlLen1600, maxListLen)
	s.NewInstancesProtectedFromScaleIn = f.Bool("NewInstancesProtectedFromScaleIn")
	s.CapacityRebalance = f.Bool("CapacityRebalance")
	s.MaxInstanceLifetime = f.Int("MaxInstanceLifetime", minInt32, maxInt32)
	s.DefaultInstanceWarmup = f.Int("DefaultInstanceWarmup", minInt32, maxInt32)
	s.Context = f.String("Context", xmlString)
	s.DesiredCapacityType = f.String("DesiredCapacityType", xmlLen255)
	f.Strings("LoadBalancerNames", xmlLen255, maxListLen)
	f.Strings("TargetGroupARNs", xmlLen511, maxListLen)
	f.String("ServiceLinkedRoleARN", xmlLen1600)
	return s
}

func readTags(f *form, name string) []Tag {
	var tags []Tag
	for _, n := range f.indexes(name) {
		p := name + ".member." + strconv.Itoa(n)
		t := Tag{Key: f.RequiredString(p+".Key", tagKey)}
		if v := f.String(p+".Value", tagValue); v != nil {
			t.Value = *v
		}
		if b := f.Bool(p + ".PropagateAtLaunch"); b != nil {
			t.PropagateAtLaunch = *b
		}
		f.String(p+".ResourceId", xmlString)
		f.String(p+".ResourceType", xmlString)
		tags = append(tags, t)
	}
	return tags
}

func readFilters(f *form, name string) []Filter {
	var out []Filter
	for _, n := range f.indexes(name) {
		p := name + ".member." + strconv.Itoa(n)
		var flt Filter
		if s := f.String(p+".Name", xmlString); s != nil {
			flt.Name = *s
		}
		flt.Values = f.Strings(p+".Values", xmlString, maxListLen)
		out = append(out, flt)
	}
	return out
}

// decodeInput reads the input of action from f. Unknown actions are
// reported by the caller before this is reached.
func decodeInput(action string, f *form) (any, error) {
	var in any
	switch action {
	case "CreateAutoScalingGroup":
		in = &CreateAutoScalingGroupInput{
			AutoScalingGroupName: f.RequiredString("AutoScalingGroupName", xmlLen255),
			InstanceID:           f.String("InstanceId", xmlLen19),
			Tags:                 readTags(f, "Tags"),
			groupSettings:        readSettings(f),
		}
		for _, m := range []string{"MinSize", "MaxSize"} {
			if _, ok := f.v[m]; !ok {
				f.fail("Value null at '%s' failed to satisfy constraint: Member must not be null", member(m))
			}
		}
	case "UpdateAutoScalingGroup":
		in = &UpdateAutoScalingGroupInput{
			AutoScalingGroupName: f.RequiredString("AutoScalingGroupName", xmlLen255),
			groupSettings:        readSettings(f),
		}
	case "DescribeAutoScalingGroups":
		in = &DescribeAutoScalingGroupsInput{
			AutoScalingGroupNames: f.Strings("AutoScalingGroupNames", xmlLen255, maxListLen),
			IncludeInstances:      f.Bool("IncludeInstances"),
			NextToken:             f.String("NextToken", xmlString),
			MaxRecords:            f.Int("MaxRecords", minInt32, maxInt32),
			Filters:               readFilters(f, "Filters"),
		}
	case "DeleteAutoScalingGroup":
		d := &DeleteAutoScalingGroupInput{AutoScalingGroupName: f.RequiredString("AutoScalingGroupName", xmlLen255)}
		if b := f.Bool("ForceDelete"); b != nil {
			d.ForceDelete = *b
		}
		in = d
	case "SetDesiredCapacity":
		s := &SetDesiredCapacityInput{
			AutoScalingGroupName: f.RequiredString("AutoScalingGroupName", xmlLen255),
			DesiredCapacity:      f.RequiredInt("DesiredCapacity", minInt32, maxInt32),
		}
		if b := f.Bool("HonorCooldown"); b != nil {
			s.HonorCooldown = *b
		}
		in = s
	case "SetInstanceProtection":
		s := &SetInstanceProtectionInput{
			InstanceIDs:          f.Strings("InstanceIds", xmlLen19, maxListLen),
			AutoScalingGroupName: f.RequiredString("AutoScalingGroupName", xmlLen255),
			ProtectedFromScaleIn: f.RequiredBool("ProtectedFromScaleIn"),
		}
		if !f.Has("InstanceIds") {
			f.fail("Value null at 'instanceIds' failed to satisfy constraint: Member must not be null")
		}
		in = s
	case "DescribeAutoScalingInstances":
		in = &DescribeAutoScalingInstancesInput{
			InstanceIDs: f.Strings("InstanceIds", xmlLen19, maxListLen),
			MaxRecords:  f.Int("MaxRecords", minInt32, maxInt32),
			NextToken:   f.String("NextToken", xmlString),
		}
	case "TerminateInstanceInAutoScalingGroup":
		in = &TerminateInstanceInput{
			InstanceID:                     f.RequiredString("InstanceId", xmlLen19),
			ShouldDecrementDesiredCapacity: f.RequiredBool("ShouldDecrementDesiredCapacity"),
		}
	case "DescribeScalingActivities":
		d := &DescribeScalingActivitiesInput{
			ActivityIDs:          f.Strings("ActivityIds", xmlString, maxListLen),
			AutoScalingGroupName: f.String("AutoScalingGroupName", xmlLen255),
			MaxRecords:           f.Int("MaxRecords", minInt32, maxInt32),
			NextToken:            f.String("NextToken", xmlString),
		}
		if b := f.Bool("IncludeDeletedGroups"); b != nil {
			d.IncludeDeletedGroups = *b
		}
		readFilters(f, "Filters")
		in = d
	default:
		return nil, Errorf(InvalidAction, "The action %s is not valid for this web service.", quote(action))
	}
	if err := f.err(); err != nil {
		return nil, err
	}
	return in, nil
}
