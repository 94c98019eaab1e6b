package autoscaling

import (
	"bytes"
	"encoding/xml"
)

// xmlns is the Query protocol namespace of EC2 Auto Scaling.
const xmlns = "http://autoscaling.amazonaws.com/doc/2011-01-01/"

// The XML output shapes, with the model's element names. Lists are
// <Name><member>…</member></Name>.

type xmlLaunchTemplate struct {
	LaunchTemplateID   string `xml:"LaunchTemplateId,omitempty"`
	LaunchTemplateName string `xml:"LaunchTemplateName,omitempty"`
	Version            string `xml:"Version,omitempty"`
}

func toXMLLaunchTemplate(lt *LaunchTemplateSpec) *xmlLaunchTemplate {
	if lt == nil {
		return nil
	}
	return &xmlLaunchTemplate{LaunchTemplateID: lt.LaunchTemplateID, LaunchTemplateName: lt.LaunchTemplateName, Version: lt.Version}
}

type xmlInstance struct {
	InstanceID              string             `xml:"InstanceId"`
	InstanceType            string             `xml:"InstanceType,omitempty"`
	AutoScalingGroupName    string             `xml:"AutoScalingGroupName,omitempty"` // AutoScalingInstanceDetails only
	AvailabilityZone        string             `xml:"AvailabilityZone"`
	LifecycleState          string             `xml:"LifecycleState"`
	HealthStatus            string             `xml:"HealthStatus"`
	LaunchConfigurationName string             `xml:"LaunchConfigurationName,omitempty"`
	LaunchTemplate          *xmlLaunchTemplate `xml:"LaunchTemplate,omitempty"`
	ProtectedFromScaleIn    bool               `xml:"ProtectedFromScaleIn"`
}

func toXMLInstance(in Instance, group string) xmlInstance {
	health := in.HealthStatus
	if health == "" {
		health = "Healthy"
	}
	return xmlInstance{
		InstanceID:              in.ID,
		InstanceType:            in.InstanceType,
		AutoScalingGroupName:    group,
		AvailabilityZone:        in.AvailabilityZone,
		LifecycleState:          in.LifecycleState,
		HealthStatus:            health,
		LaunchConfigurationName: in.LaunchConfigurationName,
		LaunchTemplate:          toXMLLaunchTemplate(in.LaunchTemplate),
		ProtectedFromScaleIn:    in.ProtectedFromScaleIn,
	}
}

type xmlTag struct {
	ResourceID        string `xml:"ResourceId"`
	ResourceType      string `xml:"ResourceType"`
	Key               string `xml:"Key"`
	Value             string `xml:"Value"`
	PropagateAtLaunch bool   `xml:"PropagateAtLaunch"`
}

type xmlGroup struct {
	AutoScalingGroupName             string             `xml:"AutoScalingGroupName"`
	AutoScalingGroupARN              string             `xml:"AutoScalingGroupARN"`
	LaunchConfigurationName          string             `xml:"LaunchConfigurationName,omitempty"`
	LaunchTemplate                   *xmlLaunchTemplate `xml:"LaunchTemplate,omitempty"`
	MinSize                          int32              `xml:"MinSize"`
	MaxSize                          int32              `xml:"MaxSize"`
	DesiredCapacity                  int32              `xml:"DesiredCapacity"`
	DefaultCooldown                  int32              `xml:"DefaultCooldown"`
	AvailabilityZones                list[string]       `xml:"AvailabilityZones"`
	LoadBalancerNames                struct{}           `xml:"LoadBalancerNames"`
	TargetGroupARNs                  struct{}           `xml:"TargetGroupARNs"`
	HealthCheckType                  string             `xml:"HealthCheckType"`
	HealthCheckGracePeriod           int32              `xml:"HealthCheckGracePeriod"`
	Instances                        *list[xmlInstance] `xml:"Instances,omitempty"`
	CreatedTime                      string             `xml:"CreatedTime"`
	SuspendedProcesses               struct{}           `xml:"SuspendedProcesses"`
	PlacementGroup                   string             `xml:"PlacementGroup,omitempty"`
	VPCZoneIdentifier                string             `xml:"VPCZoneIdentifier,omitempty"`
	EnabledMetrics                   struct{}           `xml:"EnabledMetrics"`
	Status                           string             `xml:"Status,omitempty"`
	Tags                             list[xmlTag]       `xml:"Tags"`
	TerminationPolicies              list[string]       `xml:"TerminationPolicies"`
	NewInstancesProtectedFromScaleIn bool               `xml:"NewInstancesProtectedFromScaleIn"`
	ServiceLinkedRoleARN             string             `xml:"ServiceLinkedRoleARN"`
	MaxInstanceLifetime              *int32             `xml:"MaxInstanceLifetime,omitempty"`
	CapacityRebalance                bool               `xml:"CapacityRebalance"`
	Context                          string             `xml:"Context,omitempty"`
	DesiredCapacityType              string             `xml:"DesiredCapacityType,omitempty"`
	DefaultInstanceWarmup            *int32             `xml:"DefaultInstanceWarmup,omitempty"`
}

func toXMLGroup(g *Group, withInstances bool) xmlGroup {
	x := xmlGroup{
		AutoScalingGroupName:             g.Name,
		AutoScalingGroupARN:              g.ARN,
		LaunchConfigurationName:          g.LaunchConfigurationName,
		LaunchTemplate:                   toXMLLaunchTemplate(g.LaunchTemplate),
		MinSize:                          g.MinSize,
		MaxSize:                          g.MaxSize,
		DesiredCapacity:                  g.DesiredCapacity,
		DefaultCooldown:                  g.DefaultCooldown,
		AvailabilityZones:                g.AvailabilityZones,
		HealthCheckType:                  g.HealthCheckType,
		HealthCheckGracePeriod:           g.HealthCheckGracePeriod,
		CreatedTime:                      timestamp(g.CreatedTime),
		PlacementGroup:                   g.PlacementGroup,
		VPCZoneIdentifier:                g.VPCZoneIdentifier,
		TerminationPolicies:              g.TerminationPolicies,
		NewInstancesProtectedFromScaleIn: g.NewInstancesProtectedFromScaleIn,
		ServiceLinkedRoleARN:             "arn:aws:iam::" + g.Account + ":role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling",
		MaxInstanceLifetime:              g.MaxInstanceLifetime,
		CapacityRebalance:                g.CapacityRebalance,
		Context:                          g.Context,
		DesiredCapacityType:              g.DesiredCapacityType,
		DefaultInstanceWarmup:            g.DefaultInstanceWarmup,
	}
	if g.Deleting {
		x.Status = "Delete in progress"
	}
	if withInstances {
		l := make(list[xmlInstance], 0, len(g.Instances))
		for _, in := range g.Instances {
			l = append(l, toXMLInstance(in, ""))
		}
		x.Instances = &l
	}
	for _, t := range g.Tags {
		x.Tags = append(x.Tags, xmlTag{ResourceID: g.Name, ResourceType: "auto-scaling-group", Key: t.Key, Value: t.Value, PropagateAtLaunch: t.PropagateAtLaunch})
	}
	return x
}

type xmlActivity struct {
	ActivityID           string `xml:"ActivityId"`
	AutoScalingGroupName string `xml:"AutoScalingGroupName"`
	Description          string `xml:"Description"`
	Cause                string `xml:"Cause"`
	StartTime            string `xml:"StartTime"`
	EndTime              string `xml:"EndTime,omitempty"`
	StatusCode           string `xml:"StatusCode"`
	StatusMessage        string `xml:"StatusMessage,omitempty"`
	Progress             int32  `xml:"Progress"`
	Details              string `xml:"Details,omitempty"`
	AutoScalingGroupARN  string `xml:"AutoScalingGroupARN,omitempty"`
}

func toXMLActivity(a Activity) xmlActivity {
	x := xmlActivity{
		ActivityID:           a.ID,
		AutoScalingGroupName: a.GroupName,
		Description:          a.Description,
		Cause:                a.Cause,
		StartTime:            timestamp(a.StartTime),
		StatusCode:           a.StatusCode,
		StatusMessage:        a.StatusMessage,
		Progress:             a.Progress,
		Details:              a.Details,
		AutoScalingGroupARN:  a.GroupARN,
	}
	if !a.EndTime.IsZero() {
		x.EndTime = timestamp(a.EndTime)
	}
	return x
}

// Results, one per operation with output.

type describeGroupsResult struct {
	AutoScalingGroups list[xmlGroup] `xml:"AutoScalingGroups"`
	NextToken         string         `xml:"NextToken,omitempty"`
}

type describeInstancesResult struct {
	AutoScalingInstances list[xmlInstance] `xml:"AutoScalingInstances"`
	NextToken            string            `xml:"NextToken,omitempty"`
}

type activityResult struct {
	Activity xmlActivity `xml:"Activity"`
}

type activitiesResult struct {
	Activities list[xmlActivity] `xml:"Activities"`
	NextToken  string            `xml:"NextToken,omitempty"`
}

// list is a model list: <Name><member>…</member>…</Name>, written even
// when empty (the SDKs and the aws CLI then show an empty list).
type list[T any] []T

// MarshalXML writes the list's members.
func (l list[T]) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	for _, v := range l {
		if err := e.EncodeElement(v, xml.StartElement{Name: xml.Name{Local: "member"}}); err != nil {
			return err
		}
	}
	return e.EncodeToken(start.End())
}

// marshalResponse renders <ActionResponse><ActionResult>…</ActionResult>
// <ResponseMetadata><RequestId>…</RequestId></ResponseMetadata>. A nil
// result (operations without output) renders no Result element.
func marshalResponse(action, reqID string, result any) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	e := xml.NewEncoder(&b)
	root := xml.StartElement{Name: xml.Name{Local: action + "Response"}, Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: xmlns}}}
	if err := e.EncodeToken(root); err != nil {
		return nil, err
	}
	if result != nil {
		if err := e.EncodeElement(result, xml.StartElement{Name: xml.Name{Local: action + "Result"}}); err != nil {
			return nil, err
		}
	}
	meta := struct {
		RequestID string `xml:"RequestId"`
	}{reqID}
	if err := e.EncodeElement(meta, xml.StartElement{Name: xml.Name{Local: "ResponseMetadata"}}); err != nil {
		return nil, err
	}
	if err := e.EncodeToken(root.End()); err != nil {
		return nil, err
	}
	if err := e.Flush(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
