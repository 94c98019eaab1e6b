package service

import (
	"testing"
	"time"
)

func TestComputedDesiredCount(t *testing.T) {
	for _, tc := range []struct {
		scale   float64
		desired int
		want    int
	}{
		{100, 3, 3}, {25, 10, 3}, {12.5, 5, 1}, {100, 0, 0}, {0, 10, 0}, {50, 3, 2}, {33.3, 3, 1}, {33.34, 3, 2},
		{1, 1, 1}, {100, 5000, 5000}, {10, 10, 1}, {70, 10, 7}, {-5, 10, 0}, {12, 10, 2},
	} {
		if got := ComputedDesiredCount(tc.scale, tc.desired); got != tc.want {
			t.Errorf("ComputedDesiredCount(%v, %d) = %d, want %d", tc.scale, tc.desired, got, tc.want)
		}
	}
}

func TestStabilityStatus(t *testing.T) {
	spec := Spec{HasHealthChecks: true}
	insts := []Instance{{ID: "i-1", Status: StatusActive}, {ID: "i-2", Status: StatusDraining}}
	ok := func(id, inst string) Task {
		return Task{ID: id, InstanceID: inst, LastStatus: TaskRunning, DesiredStatus: TaskRunning, HealthStatus: HealthHealthy, StartedAt: t0.Add(-time.Hour)}
	}
	cases := []struct {
		name     string
		computed int
		tasks    []Task
		want     string
	}{
		{name: "Steady", computed: 2, tasks: []Task{ok("a", "i-1"), ok("b", "")}, want: StabilitySteady},
		{name: "SteadyZero", computed: 0, tasks: []Task{{ID: "x", LastStatus: TaskStopped}}, want: StabilitySteady},
		{name: "TooFew", computed: 3, tasks: []Task{ok("a", "i-1"), ok("b", "")}, want: StabilityStabilizing},
		{name: "TooMany", computed: 1, tasks: []Task{ok("a", "i-1"), ok("b", "")}, want: StabilityStabilizing},
		{name: "Pending", computed: 2, tasks: []Task{ok("a", "i-1"), {ID: "p", LastStatus: TaskPending, DesiredStatus: TaskRunning}}, want: StabilityStabilizing},
		{name: "OnDraining", computed: 2, tasks: []Task{ok("a", "i-1"), ok("b", "i-2")}, want: StabilityStabilizing},
		{name: "Unhealthy", computed: 2, tasks: []Task{ok("a", "i-1"), func() Task { t := ok("b", ""); t.HealthStatus = "UNKNOWN"; return t }()}, want: StabilityStabilizing},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := StabilityStatus(t0, spec, tc.computed, tc.tasks, insts); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestEventTemplates(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{EventStarted("web", []string{"a", "b"}), "(service web) has started 2 tasks: (task a) (task b)."},
		{EventStopped("web", []string{"a"}), "(service web) has stopped 1 running tasks: (task a)."},
		{EventProtected("web", "ts-1"), "(service web) was unable to reach steady state because task set (ts-1) was unable to scale in. Reason: The number of protected tasks are more than the desired count of tasks"},
		{ReasonScaling("ecs-svc/1"), "Scaling activity initiated by (deployment ecs-svc/1)"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
