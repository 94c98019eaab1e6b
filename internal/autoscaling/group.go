package autoscaling

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"time"
)

// Group is the stored record of one Auto Scaling group, instances
// included: every change to a group and its instances is one store.Update
// of this record. Records read from the store are not shared; callers may
// modify the copy they decoded.
type Group struct {
	Name                             string              `json:"name"`
	ARN                              string              `json:"arn"`
	Account                          string              `json:"account"`
	Region                           string              `json:"region"`
	MinSize                          int32               `json:"minSize"`
	MaxSize                          int32               `json:"maxSize"`
	DesiredCapacity                  int32               `json:"desiredCapacity"`
	DefaultCooldown                  int32               `json:"defaultCooldown"`
	LaunchConfigurationName          string              `json:"launchConfigurationName,omitempty"`
	LaunchTemplate                   *LaunchTemplateSpec `json:"launchTemplate,omitempty"`
	AvailabilityZones                []string            `json:"availabilityZones"`
	VPCZoneIdentifier                string              `json:"vpcZoneIdentifier,omitempty"`
	HealthCheckType                  string              `json:"healthCheckType"`
	HealthCheckGracePeriod           int32               `json:"healthCheckGracePeriod"`
	PlacementGroup                   string              `json:"placementGroup,omitempty"`
	TerminationPolicies              []string            `json:"terminationPolicies"`
	NewInstancesProtectedFromScaleIn bool                `json:"newInstancesProtectedFromScaleIn,omitempty"`
	CapacityRebalance                bool                `json:"capacityRebalance,omitempty"`
	MaxInstanceLifetime              *int32              `json:"maxInstanceLifetime,omitempty"`
	DefaultInstanceWarmup            *int32              `json:"defaultInstanceWarmup,omitempty"`
	Context                          string              `json:"context,omitempty"`
	DesiredCapacityType              string              `json:"desiredCapacityType,omitempty"`
	Tags                             []Tag               `json:"tags,omitempty"`
	CreatedTime                      time.Time           `json:"createdTime"`
	// Deleting is set by DeleteAutoScalingGroup with ForceDelete: the
	// controller terminates every instance, then removes the record.
	Deleting bool `json:"deleting,omitempty"`
	// DesiredCause says who last changed DesiredCapacity and how; it
	// prefixes the cause of the scaling activities that follow.
	DesiredCause string     `json:"desiredCause,omitempty"`
	Instances    []Instance `json:"instances,omitempty"`
	// LaunchFailures counts consecutive failed launches (reset by a
	// success); the controller backs off after each.
	LaunchFailures    int       `json:"launchFailures,omitempty"`
	LastLaunchFailure time.Time `json:"lastLaunchFailure,omitzero"`
}

// Instance lifecycle states this package uses (the model's LifecycleState).
//
//	          launcher ok
//	Pending ─────────────▶ InService
//	   │ launcher fails        │ scale-in, Terminate…, force delete
//	   ▼                       ▼
//	(removed, Failed)     Terminating ──launcher ok──▶ (removed)
const (
	StatePending     = "Pending"
	StateInService   = "InService"
	StateTerminating = "Terminating"
)

// Instance is one instance of a group.
type Instance struct {
	ID                      string              `json:"id"`
	AvailabilityZone        string              `json:"availabilityZone"`
	InstanceType            string              `json:"instanceType"`
	LifecycleState          string              `json:"lifecycleState"`
	HealthStatus            string              `json:"healthStatus"`
	ProtectedFromScaleIn    bool                `json:"protectedFromScaleIn,omitempty"`
	LaunchTime              time.Time           `json:"launchTime"`
	LaunchTemplate          *LaunchTemplateSpec `json:"launchTemplate,omitempty"`
	LaunchConfigurationName string              `json:"launchConfigurationName,omitempty"`
	// ActivityID is the scaling activity of the instance's current
	// transition (its launch, then its termination).
	ActivityID string `json:"activityId,omitempty"`
}

// Activity is a stored scaling activity.
type Activity struct {
	ID            string    `json:"id"`
	GroupName     string    `json:"groupName"`
	GroupARN      string    `json:"groupArn"`
	Description   string    `json:"description"`
	Cause         string    `json:"cause"`
	Details       string    `json:"details,omitempty"`
	StatusCode    string    `json:"statusCode"`
	StatusMessage string    `json:"statusMessage,omitempty"`
	Progress      int32     `json:"progress"`
	StartTime     time.Time `json:"startTime"`
	EndTime       time.Time `json:"endTime,omitzero"`
}

// Activity status codes (the model's ScalingActivityStatusCode).
const (
	ActivityInProgress = "InProgress"
	ActivitySuccessful = "Successful"
	ActivityFailed     = "Failed"
)

// Tags that configure Berth's handling of a group (see the package doc).
const (
	TagLauncher     = "berth:launcher"
	TagInstanceType = "berth:instance-type"
	TagCluster      = "berth:cluster"
)

// DefaultInstanceType is the instance type of a group without a
// berth:instance-type tag.
const DefaultInstanceType = "t3.medium"

// tag returns the value of the group's tag key.
func (g *Group) tag(key string) (string, bool) {
	for _, t := range g.Tags {
		if t.Key == key {
			return t.Value, true
		}
	}
	return "", false
}

// InstanceType is the type of the group's new instances.
func (g *Group) InstanceType() string {
	if v, ok := g.tag(TagInstanceType); ok && v != "" {
		return v
	}
	return DefaultInstanceType
}

// Cluster is the ECS cluster the group's instances join.
func (g *Group) Cluster() string {
	if v, ok := g.tag(TagCluster); ok && v != "" {
		return v
	}
	return "default"
}

// LauncherName returns the name of the launcher that runs the group's
// instances: the berth:launcher tag, else the launch template (or launch
// configuration) name when it is "berth-<launcher>" or starts with
// "berth-<launcher>-"; "" when the group names none.
func (g *Group) LauncherName() string {
	if v, ok := g.tag(TagLauncher); ok {
		return v
	}
	name := g.LaunchConfigurationName
	if g.LaunchTemplate != nil {
		name = g.LaunchTemplate.LaunchTemplateName
	}
	rest, ok := strings.CutPrefix(name, "berth-")
	if !ok {
		return ""
	}
	l, _, _ := strings.Cut(rest, "-")
	return l
}

// instance returns the index of the instance with id, or -1.
func (g *Group) instance(id string) int {
	for i := range g.Instances {
		if g.Instances[i].ID == id {
			return i
		}
	}
	return -1
}

// active counts the instances that are not terminating.
func (g *Group) active() int32 {
	var n int32
	for _, in := range g.Instances {
		if in.LifecycleState != StateTerminating {
			n++
		}
	}
	return n
}

// Keys. Every key lives under asg/<account>/<region>/, so control's view
// (which keeps ns/… and fleet records) ignores them.
func nsPrefix(account, region string) string { return "asg/" + account + "/" + region + "/" }

func keyGroup(account, region, name string) string {
	return nsPrefix(account, region) + "group/" + name
}

func keyActivityPrefix(account, region string) string {
	return nsPrefix(account, region) + "activity/"
}

func keyActivity(account, region, group, id string) string {
	return keyActivityPrefix(account, region) + group + "/" + id
}

// parseGroupKey splits asg/<account>/<region>/group/<name>.
func parseGroupKey(key string) (account, region, name string, ok bool) {
	parts := strings.SplitN(key, "/", 5)
	if len(parts) != 5 || parts[0] != "asg" || parts[3] != "group" {
		return "", "", "", false
	}
	return parts[1], parts[2], parts[4], true
}

// newUUID returns a random (version 4) UUID from crypto/rand.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return formatUUID(b)
}

func formatUUID(b [16]byte) string {
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// timestamp formats t as the Query protocol's ISO 8601 timestamps.
func timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// causeTime formats t as AWS writes it in activity causes.
func causeTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }
