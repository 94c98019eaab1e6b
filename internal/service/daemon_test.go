package service

import (
	"slices"
	"testing"
	"time"
)

func daemonSpec() Spec {
	return Spec{SchedulingStrategy: StrategyDaemon, MinimumHealthyPercent: 0, MaximumPercent: 100}
}

func daemonTask(id, d, inst string) Task {
	return Task{ID: id, DeploymentID: d, InstanceID: inst, LastStatus: TaskRunning, DesiredStatus: TaskRunning,
		HealthStatus: HealthHealthy, StartedAt: t0.Add(-time.Hour)}
}

func launchTargets(d Decision) []string {
	var ids []string
	for _, l := range d.Launch {
		if l.Count != 1 {
			panic("daemon launch with count != 1")
		}
		ids = append(ids, l.InstanceID)
	}
	return ids
}

func TestDecide_Daemon(t *testing.T) {
	active := func(id string) Instance { return Instance{ID: id, Status: StatusActive, Eligible: true} }
	cases := []struct {
		name        string
		instances   []Instance
		tasks       []Task
		wantLaunch  []string
		wantStops   []string
		wantDesired int
		wantSteady  bool
	}{
		{name: "OneTaskPerInstance", instances: []Instance{active("i-2"), active("i-1"), active("i-3")},
			wantLaunch: []string{"i-1", "i-2", "i-3"}, wantDesired: 3},
		{name: "InstanceJoins", instances: []Instance{active("i-1"), active("i-2")},
			tasks: []Task{daemonTask("a", depA, "i-1")}, wantLaunch: []string{"i-2"}, wantDesired: 2},
		{name: "Steady", instances: []Instance{active("i-1"), active("i-2")},
			tasks: []Task{daemonTask("a", depA, "i-1"), daemonTask("b", depA, "i-2")}, wantDesired: 2, wantSteady: true},
		{name: "InstanceGone", instances: []Instance{active("i-1")},
			tasks: []Task{daemonTask("a", depA, "i-1"), daemonTask("b", depA, "i-9")}, wantStops: []string{"b"}, wantDesired: 1},
		{name: "InstanceInactive", instances: []Instance{active("i-1"), {ID: "i-2", Status: StatusInactive}},
			tasks: []Task{daemonTask("a", depA, "i-1"), daemonTask("b", depA, "i-2")}, wantStops: []string{"b"}, wantDesired: 1},
		{name: "NoLongerEligible", instances: []Instance{active("i-1"), {ID: "i-2", Status: StatusActive}},
			tasks: []Task{daemonTask("a", depA, "i-1"), daemonTask("b", depA, "i-2")}, wantStops: []string{"b"}, wantDesired: 1},
		{name: "DrainingStopsLast", instances: []Instance{active("i-1"), {ID: "i-2", Status: StatusDraining, Eligible: true, OtherTasks: 2}},
			tasks: []Task{daemonTask("a", depA, "i-1"), daemonTask("b", depA, "i-2")}, wantDesired: 1},
		{name: "DrainingEmpty", instances: []Instance{active("i-1"), {ID: "i-2", Status: StatusDraining, Eligible: true}},
			tasks: []Task{daemonTask("a", depA, "i-1"), daemonTask("b", depA, "i-2")}, wantStops: []string{"b"}, wantDesired: 1},
		{name: "Duplicates", instances: []Instance{active("i-1")},
			tasks:     []Task{daemonTask("b", depA, "i-1"), daemonTask("a", depA, "i-1"), {ID: "c", DeploymentID: depA, InstanceID: "i-1", LastStatus: TaskPending}},
			wantStops: []string{"b", "c"}, wantDesired: 1},
		{name: "StoppingTaskBlocksRelaunch", instances: []Instance{active("i-1")},
			tasks: []Task{{ID: "a", DeploymentID: depA, InstanceID: "i-1", LastStatus: TaskRunning, DesiredStatus: TaskStopped}}, wantDesired: 1},
		{name: "Unhealthy", instances: []Instance{active("i-1")},
			tasks:     []Task{func() Task { t := daemonTask("a", depA, "i-1"); t.HealthStatus = HealthUnhealthy; return t }()},
			wantStops: []string{"a"}, wantDesired: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := Snapshot{Now: t0, ServiceName: "agent", Spec: daemonSpec(), Instances: tc.instances, Tasks: tc.tasks,
				Deployments: []Deployment{dep(depA, tdA, StatusPrimary, RolloutCompleted, 0)}}
			d := Decide(s)
			if got := launchTargets(d); !slices.Equal(got, tc.wantLaunch) {
				t.Errorf("launch on %v, want %v", got, tc.wantLaunch)
			}
			if got := stopIDs(d); !slices.Equal(got, tc.wantStops) {
				t.Errorf("stops %v, want %v", got, tc.wantStops)
			}
			if d.DesiredCount != tc.wantDesired || d.Deployments[0].DesiredCount != tc.wantDesired || d.Steady != tc.wantSteady {
				t.Errorf("desired %d steady %v, want %d %v", d.DesiredCount, d.Steady, tc.wantDesired, tc.wantSteady)
			}
		})
	}
}

// TestDecide_DaemonLifecycle follows a daemon as instances come, drain and
// go, then rolls it to a new task definition.
func TestDecide_DaemonLifecycle(t *testing.T) {
	w := newWorld(t, Snapshot{ServiceName: "agent", Spec: daemonSpec(),
		Deployments: []Deployment{dep(depA, tdA, StatusPrimary, "", 0)},
		Instances: []Instance{
			{ID: "i-1", Status: StatusActive, Eligible: true},
			{ID: "i-2", Status: StatusActive, Eligible: true},
		}})
	perInstance := func() map[string]int {
		m := map[string]int{}
		for _, t := range w.s.Tasks {
			if t.LastStatus != TaskStopped {
				m[t.InstanceID]++
			}
		}
		return m
	}
	w.check = func(w *world, d Decision) {
		for inst, n := range perInstance() {
			if n > 1 {
				t.Fatalf("%d tasks on %s after %+v", n, inst, d)
			}
		}
	}
	d := w.run(10)
	if d.RunningCount != 2 {
		t.Fatalf("running %d", d.RunningCount)
	}
	// A third instance joins.
	w.s.Instances = append(w.s.Instances, Instance{ID: "i-3", Status: StatusActive, Eligible: true})
	if d := w.step(); !slices.Equal(launchTargets(d), []string{"i-3"}) {
		t.Fatalf("launch %+v", d.Launch)
	}
	if d := w.run(10); d.RunningCount != 3 || d.DesiredCount != 3 {
		t.Fatalf("decision %+v", d)
	}
	// i-1 drains (no other tasks), i-2 leaves.
	w.s.Instances[0].Status = StatusDraining
	w.s.Instances = slices.Delete(w.s.Instances, 1, 2)
	if d := w.step(); len(d.Stop) != 2 || len(d.Launch) != 0 {
		t.Fatalf("decision %+v", d)
	}
	if d := w.run(10); d.RunningCount != 1 || d.DesiredCount != 1 {
		t.Fatalf("decision %+v", d)
	}
	if got := perInstance(); got["i-3"] != 1 || len(got) != 1 {
		t.Fatalf("tasks %v", got)
	}
	// Rolling update: i-1 back, new task definition. Daemon bounds 0/100:
	// old stopped first, new started once the instance is free.
	w.s.Instances[0].Status = StatusActive
	w.run(10)
	w.s.Deployments = append(w.s.Deployments, dep(depB, tdB, StatusPrimary, "", time.Hour))
	w.s.Now = t0.Add(2 * time.Hour)
	d = w.step()
	if len(d.Stop) != 2 || len(d.Launch) != 0 {
		t.Fatalf("first pass %+v", d)
	}
	d = w.run(10)
	if d.Deployments[0].ID != depB || d.RunningCount != 2 {
		t.Fatalf("final %+v", d)
	}
}

func TestDecide_DaemonRollingUpdateBounds(t *testing.T) {
	insts := []Instance{{ID: "i-1", Status: StatusActive, Eligible: true}, {ID: "i-2", Status: StatusActive, Eligible: true},
		{ID: "i-3", Status: StatusActive, Eligible: true}, {ID: "i-4", Status: StatusActive, Eligible: true}}
	tasks := []Task{daemonTask("a1", depA, "i-1"), daemonTask("a2", depA, "i-2"), daemonTask("a3", depA, "i-3"), daemonTask("a4", depA, "i-4")}
	deps := []Deployment{dep(depA, tdA, StatusActive, RolloutCompleted, 0), dep(depB, tdB, StatusPrimary, "", time.Minute)}
	cases := []struct {
		name           string
		minPct, maxPct int
		extra          []Task
		wantStops      []string
		wantLaunch     []string
		wantStuck      bool
	}{
		{name: "Min50", minPct: 50, maxPct: 100, wantStops: []string{"a1", "a2"}},
		{name: "Min100Stuck", minPct: 100, maxPct: 100, wantStuck: true},
		{name: "Max200StartFirst", minPct: 100, maxPct: 200, wantLaunch: []string{"i-1", "i-2", "i-3", "i-4"}},
		{name: "SurplusOldFirst", minPct: 75, maxPct: 100, extra: []Task{daemonTask("b3", depB, "i-3")}, wantStops: []string{"a1", "a3"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			spec := daemonSpec()
			spec.MinimumHealthyPercent, spec.MaximumPercent = tc.minPct, tc.maxPct
			s := Snapshot{Now: t0, ServiceName: "agent", Spec: spec, Instances: insts, Tasks: append(slices.Clone(tasks), tc.extra...), Deployments: deps}
			d := Decide(s)
			if got := stopIDs(d); !slices.Equal(got, tc.wantStops) {
				t.Errorf("stops %v, want %v", got, tc.wantStops)
			}
			if got := launchTargets(d); !slices.Equal(got, tc.wantLaunch) {
				t.Errorf("launch %v, want %v", got, tc.wantLaunch)
			}
			if got := hasEvent(d, "was unable to stop or start tasks"); got != tc.wantStuck {
				t.Errorf("stuck %v, want %v", got, tc.wantStuck)
			}
		})
	}
}

func TestDecide_DaemonCircuitBreaker(t *testing.T) {
	spec := daemonSpec()
	spec.CircuitBreaker = CircuitBreaker{Enable: true}
	w := newWorld(t, Snapshot{ServiceName: "agent", Spec: spec, Deployments: []Deployment{dep(depA, tdA, StatusPrimary, "", 0)},
		Instances: []Instance{{ID: "i-1", Status: StatusActive, Eligible: true}}})
	w.fail[tdA] = true
	var d Decision
	for range 10 {
		d = w.step()
		if d.Deployments[0].RolloutState == RolloutFailed {
			break
		}
	}
	if d.Deployments[0].RolloutState != RolloutFailed || d.Deployments[0].FailedTasks != 3 {
		t.Fatalf("deployments %+v", d.Deployments)
	}
	if d := w.step(); len(d.Launch) != 0 {
		t.Errorf("FAILED daemon deployment launched %+v", d.Launch)
	}
}

func TestDecide_DaemonDuplicatesKeepOldest(t *testing.T) {
	a, b, c := daemonTask("a", depA, "i-1"), daemonTask("b", depA, "i-1"), daemonTask("c", depA, "i-1")
	b.StartedAt = t0.Add(-2 * time.Hour)
	c.StartedAt = time.Time{}
	s := Snapshot{Now: t0, Spec: daemonSpec(), Instances: []Instance{{ID: "i-1", Status: StatusActive, Eligible: true}},
		Tasks: []Task{a, b, c}, Deployments: []Deployment{dep(depA, tdA, StatusPrimary, RolloutCompleted, 0)}}
	if d := Decide(s); !slices.Equal(stopIDs(d), []string{"a", "c"}) {
		t.Fatalf("stops %v", stopIDs(d))
	}
}
