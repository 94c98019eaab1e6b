package autoscaling

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// inst builds an instance launched `age` before t0.
func inst(id, az, state string, age time.Duration, protected bool) Instance {
	return Instance{ID: id, AvailabilityZone: az, LifecycleState: state, LaunchTime: t0.Add(-age), ProtectedFromScaleIn: protected}
}

func TestDecide(t *testing.T) {
	policy := Policy{LaunchBackoff: 10 * time.Second, MaxLaunchBackoff: time.Minute}
	azs := []string{"z-a", "z-b", "z-c"}
	tests := []struct {
		name          string
		group         Group
		now           time.Time
		wantLaunchAZs []string // zones of the launches, sorted
		wantTerminate []string
		wantDelete    bool
	}{
		{
			name:  "Steady",
			group: Group{DesiredCapacity: 2, AvailabilityZones: azs, Instances: []Instance{inst("i-1", "z-a", StateInService, time.Hour, false), inst("i-2", "z-b", StatePending, 0, false)}},
		},
		{
			name:          "ScaleOutFromZeroSpreadsZones",
			group:         Group{DesiredCapacity: 3, AvailabilityZones: azs},
			wantLaunchAZs: []string{"z-a", "z-b", "z-c"},
		},
		{
			name: "ScaleOutFillsEmptiestZone",
			group: Group{DesiredCapacity: 4, AvailabilityZones: azs, Instances: []Instance{
				inst("i-1", "z-a", StateInService, time.Hour, false), inst("i-2", "z-a", StateInService, time.Hour, false), inst("i-3", "z-b", StateInService, time.Hour, false)}},
			wantLaunchAZs: []string{"z-c"},
		},
		{
			name: "TerminatingDoesNotCount",
			group: Group{DesiredCapacity: 1, AvailabilityZones: []string{"z-a"}, Instances: []Instance{
				inst("i-1", "z-a", StateTerminating, time.Hour, false)}},
			wantLaunchAZs: []string{"z-a"},
		},
		{
			name:  "LaunchBackoffAfterFailure",
			group: Group{DesiredCapacity: 1, AvailabilityZones: azs, LaunchFailures: 1, LastLaunchFailure: t0.Add(-5 * time.Second)},
		},
		{
			name:          "LaunchAfterBackoff",
			group:         Group{DesiredCapacity: 1, AvailabilityZones: []string{"z-a"}, LaunchFailures: 1, LastLaunchFailure: t0.Add(-11 * time.Second)},
			wantLaunchAZs: []string{"z-a"},
		},
		{
			name:  "BackoffDoublesPerFailure",
			group: Group{DesiredCapacity: 1, AvailabilityZones: azs, LaunchFailures: 3, LastLaunchFailure: t0.Add(-30 * time.Second)}, // waits 40 s
		},
		{
			name:          "BackoffIsCapped",
			group:         Group{DesiredCapacity: 1, AvailabilityZones: []string{"z-a"}, LaunchFailures: 30, LastLaunchFailure: t0.Add(-61 * time.Second)},
			wantLaunchAZs: []string{"z-a"},
		},
		{
			name: "ScaleInFromFullestZoneOldestFirst",
			group: Group{DesiredCapacity: 2, AvailabilityZones: azs, Instances: []Instance{
				inst("i-1", "z-a", StateInService, time.Hour, false),
				inst("i-2", "z-b", StateInService, 3*time.Hour, false),
				inst("i-3", "z-b", StateInService, 2*time.Hour, false),
			}},
			wantTerminate: []string{"i-2"},
		},
		{
			name: "ScaleInBalancesZones",
			group: Group{DesiredCapacity: 1, AvailabilityZones: azs, Instances: []Instance{
				inst("i-1", "z-a", StateInService, 4*time.Hour, false),
				inst("i-2", "z-b", StateInService, 3*time.Hour, false),
				inst("i-3", "z-b", StateInService, 2*time.Hour, false),
				inst("i-4", "z-c", StateInService, 1*time.Hour, false),
			}},
			// z-b first (2 instances, oldest i-2), then a/b/c tie at 1:
			// by zone name, z-a.
			wantTerminate: []string{"i-2", "i-1", "i-3"},
		},
		{
			name: "ScaleInSkipsProtected",
			group: Group{DesiredCapacity: 0, AvailabilityZones: azs, Instances: []Instance{
				inst("i-1", "z-a", StateInService, 4*time.Hour, true),
				inst("i-2", "z-a", StateInService, 3*time.Hour, false),
			}},
			wantTerminate: []string{"i-2"},
		},
		{
			name: "ScaleInAllProtected",
			group: Group{DesiredCapacity: 0, AvailabilityZones: azs, Instances: []Instance{
				inst("i-1", "z-a", StateInService, 4*time.Hour, true),
			}},
		},
		{
			name: "ScaleInIgnoresTerminating",
			group: Group{DesiredCapacity: 1, AvailabilityZones: azs, Instances: []Instance{
				inst("i-1", "z-a", StateTerminating, 4*time.Hour, false),
				inst("i-2", "z-a", StateInService, 3*time.Hour, false),
			}},
		},
		{
			name: "ScaleInTakesPending",
			group: Group{DesiredCapacity: 0, AvailabilityZones: azs, Instances: []Instance{
				inst("i-1", "z-a", StatePending, 0, false),
			}},
			wantTerminate: []string{"i-1"},
		},
		{
			name: "ForceDeleteTerminatesProtected",
			group: Group{Deleting: true, DesiredCapacity: 2, AvailabilityZones: azs, Instances: []Instance{
				inst("i-1", "z-a", StateInService, time.Hour, true),
				inst("i-2", "z-b", StateTerminating, time.Hour, false),
			}},
			wantTerminate: []string{"i-1"},
		},
		{
			name:       "ForceDeleteEmptyDeletes",
			group:      Group{Deleting: true, DesiredCapacity: 2, AvailabilityZones: azs},
			wantDelete: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := cloneGroup(tt.group)
			plan := Decide(&tt.group, t0, policy, rand.New(rand.NewPCG(1, 2)))
			var zones []string
			for _, l := range plan.Launch {
				zones = append(zones, l.AZ)
				if len(l.InstanceID) != 19 || l.InstanceID[:2] != "i-" {
					t.Errorf("instance id %q", l.InstanceID)
				}
			}
			slices.Sort(zones)
			if !slices.Equal(zones, tt.wantLaunchAZs) {
				t.Errorf("launch zones = %v, want %v", zones, tt.wantLaunchAZs)
			}
			if !slices.Equal(plan.Terminate, tt.wantTerminate) {
				t.Errorf("terminate = %v, want %v", plan.Terminate, tt.wantTerminate)
			}
			if plan.Delete != tt.wantDelete {
				t.Errorf("delete = %v, want %v", plan.Delete, tt.wantDelete)
			}
			if !slices.EqualFunc(before.Instances, tt.group.Instances, func(a, b Instance) bool { return a == b }) {
				t.Errorf("Decide modified the group")
			}
		})
	}
}

func cloneGroup(g Group) Group {
	g.Instances = slices.Clone(g.Instances)
	return g
}

// TestDecide_Deterministic: the same inputs (and seed) give the same plan.
func TestDecide_Deterministic(t *testing.T) {
	g := Group{DesiredCapacity: 6, AvailabilityZones: []string{"a", "b", "c", "d"}}
	p1 := Decide(&g, t0, DefaultPolicy(), rand.New(rand.NewPCG(7, 7)))
	p2 := Decide(&g, t0, DefaultPolicy(), rand.New(rand.NewPCG(7, 7)))
	if !slices.Equal(p1.Launch, p2.Launch) {
		t.Fatalf("plans differ:\n%v\n%v", p1.Launch, p2.Launch)
	}
	counts := map[string]int{}
	ids := map[string]bool{}
	for _, l := range p1.Launch {
		counts[l.AZ]++
		ids[l.InstanceID] = true
	}
	for z, n := range counts {
		if n < 1 || n > 2 {
			t.Errorf("zone %s got %d of 6 instances over 4 zones", z, n)
		}
	}
	if len(ids) != 6 {
		t.Errorf("instance ids not unique: %v", p1.Launch)
	}
}

func TestGroup_LauncherName(t *testing.T) {
	tests := []struct {
		name  string
		group Group
		want  string
	}{
		{"Tag", Group{Tags: []Tag{{Key: TagLauncher, Value: "exec"}}, LaunchTemplate: &LaunchTemplateSpec{LaunchTemplateName: "berth-sim"}}, "exec"},
		{"TemplateExact", Group{LaunchTemplate: &LaunchTemplateSpec{LaunchTemplateName: "berth-sim"}}, "sim"},
		{"TemplatePrefix", Group{LaunchTemplate: &LaunchTemplateSpec{LaunchTemplateName: "berth-local-4cpu"}}, "local"},
		{"LaunchConfiguration", Group{LaunchConfigurationName: "berth-exec-hosts"}, "exec"},
		{"None", Group{LaunchTemplate: &LaunchTemplateSpec{LaunchTemplateName: "web"}}, ""},
		{"TemplateByID", Group{LaunchTemplate: &LaunchTemplateSpec{LaunchTemplateID: "lt-0123"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.group.LauncherName(); got != tt.want {
				t.Errorf("LauncherName() = %q, want %q", got, tt.want)
			}
		})
	}
}
