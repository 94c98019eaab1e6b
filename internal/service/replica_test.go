package service

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

func TestDecide_Scale(t *testing.T) {
	cases := []struct {
		name        string
		desired     int
		tasks       []Task
		wantLaunch  int
		wantStops   []string
		wantRunning int
		wantPending int
	}{
		{name: "CreateFromNothing", desired: 3, wantLaunch: 3},
		{name: "ScaleUp", desired: 5, tasks: running("a", depA, 2), wantLaunch: 3, wantRunning: 2},
		{name: "AtDesired", desired: 2, tasks: running("a", depA, 2), wantRunning: 2},
		{name: "ScaleDown", desired: 1, tasks: running("a", depA, 3), wantStops: []string{"a-00", "a-01"}, wantRunning: 3},
		{name: "ScaleDownPrefersPending", desired: 2, tasks: append(running("a", depA, 2), pending("p", depA, 1)...),
			wantStops: []string{"p-00"}, wantRunning: 2, wantPending: 1},
		{name: "ScaleToZero", desired: 0, tasks: running("a", depA, 2), wantStops: []string{"a-00", "a-01"}, wantRunning: 2},
		{name: "ScaleUpCappedByMaximum", desired: 4, tasks: append(running("a", depA, 1),
			Task{ID: "s", DeploymentID: depA, LastStatus: TaskRunning, DesiredStatus: TaskStopped}), wantLaunch: 2, wantRunning: 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := Snapshot{Now: t0, ServiceName: "web", Spec: replicaSpec(tc.desired, 100, 100),
				Deployments: []Deployment{dep(depA, tdA, StatusPrimary, RolloutCompleted, 0)}, Tasks: tc.tasks}
			d := Decide(s)
			if got := launched(d); got != tc.wantLaunch {
				t.Errorf("launched %d, want %d", got, tc.wantLaunch)
			}
			if got := stopIDs(d); !slices.Equal(got, tc.wantStops) {
				t.Errorf("stops %v, want %v", got, tc.wantStops)
			}
			for _, st := range d.Stop {
				if st.Reason != "Scaling activity initiated by (deployment "+depA+")" {
					t.Errorf("stop reason %q", st.Reason)
				}
			}
			if d.RunningCount != tc.wantRunning || d.PendingCount != tc.wantPending {
				t.Errorf("running/pending %d/%d, want %d/%d", d.RunningCount, d.PendingCount, tc.wantRunning, tc.wantPending)
			}
			if len(d.Stop) > 0 && !hasEvent(d, fmt.Sprintf("(service web) has stopped %d running tasks:", len(d.Stop))) {
				t.Errorf("no stopped event in %q", d.Events)
			}
			for _, l := range d.Launch {
				if l.DeploymentID != depA || l.TaskDefinition != tdA || l.InstanceID != "" {
					t.Errorf("launch %+v", l)
				}
			}
		})
	}
}

func TestDecide_ScaleDownSpreadsAcrossZones(t *testing.T) {
	// Four tasks in az-a, one in az-b: scale-in to 3 takes both victims
	// from az-a (§6.7), and from the instance with the most tasks.
	var tasks []Task
	for i, inst := range []string{"i-1", "i-1", "i-1", "i-2", "i-3"} {
		tk := running(fmt.Sprint("x", i), depA, 1)[0]
		tk.InstanceID = inst
		tasks = append(tasks, tk)
	}
	s := Snapshot{Now: t0, Spec: replicaSpec(3, 100, 200), Tasks: tasks,
		Deployments: []Deployment{dep(depA, tdA, StatusPrimary, RolloutCompleted, 0)},
		Instances: []Instance{
			{ID: "i-1", Status: StatusActive, AvailabilityZone: "az-a"},
			{ID: "i-2", Status: StatusActive, AvailabilityZone: "az-a"},
			{ID: "i-3", Status: StatusActive, AvailabilityZone: "az-b"},
		}}
	d := Decide(s)
	if len(d.Stop) != 2 {
		t.Fatalf("stops %v", d.Stop)
	}
	for _, id := range stopIDs(d) {
		if id == "x4-00" {
			t.Errorf("stopped the only az-b task: %v", stopIDs(d))
		}
	}
	onI1 := 0
	for _, id := range stopIDs(d) {
		if id < "x3" {
			onI1++
		}
	}
	if onI1 < 1 {
		t.Errorf("want a victim on the busiest instance i-1: %v", stopIDs(d))
	}
}

func TestDecide_ReplacesStoppedTasks(t *testing.T) {
	tasks := running("a", depA, 2)
	tasks = append(tasks, Task{ID: "dead", DeploymentID: depA, LastStatus: TaskStopped, DesiredStatus: TaskStopped,
		StartedAt: t0.Add(-time.Hour), StoppedAt: t0.Add(-time.Second), StopCode: StopCodeExited})
	s := Snapshot{Now: t0, ServiceName: "web", Spec: replicaSpec(3, 100, 200), Tasks: tasks,
		Deployments: []Deployment{dep(depA, tdA, StatusPrimary, RolloutCompleted, 0)}}
	d := Decide(s)
	if launched(d) != 1 {
		t.Errorf("launched %d, want 1", launched(d))
	}
	if !slices.Equal(d.Accounted, []string{"dead"}) {
		t.Errorf("accounted %v", d.Accounted)
	}
	if d.State.Backoff.Failures != 0 {
		t.Errorf("a task that ran is not a launch failure: %+v", d.State.Backoff)
	}
	// Once accounted, it is not counted again.
	s.Tasks[2].Accounted = true
	if d2 := Decide(s); len(d2.Accounted) != 0 {
		t.Errorf("accounted twice: %v", d2.Accounted)
	}
}

// TestDecide_RollingUpdateFirstPass checks the §7.3 arithmetic of the
// first pass of a deployment from 4 (or 3, 2) old tasks to a new task
// definition.
func TestDecide_RollingUpdateFirstPass(t *testing.T) {
	cases := []struct {
		name             string
		desired          int
		minPct, maxPct   int
		wantLaunch       int
		wantStops        int
		wantStuck        bool
		oldHealthyTasks  int
		newPendingTasks  int
		newHealthyTasks  int
		wantCompletedNow bool
	}{
		{name: "Min0Max100", desired: 4, minPct: 0, maxPct: 100, oldHealthyTasks: 4, wantLaunch: 0, wantStops: 4},
		{name: "Min50Max200", desired: 4, minPct: 50, maxPct: 200, oldHealthyTasks: 4, wantLaunch: 4, wantStops: 2},
		{name: "Min100Max200", desired: 4, minPct: 100, maxPct: 200, oldHealthyTasks: 4, wantLaunch: 4, wantStops: 0},
		{name: "Min50Max100", desired: 4, minPct: 50, maxPct: 100, oldHealthyTasks: 4, wantLaunch: 0, wantStops: 2},
		{name: "Min100Max100Stuck", desired: 4, minPct: 100, maxPct: 100, oldHealthyTasks: 4, wantStuck: true},
		{name: "Min75Desired2StopsNothing", desired: 2, minPct: 75, maxPct: 150, oldHealthyTasks: 2, wantLaunch: 1, wantStops: 0},
		{name: "Max125Desired3StartsNothing", desired: 3, minPct: 50, maxPct: 125, oldHealthyTasks: 3, wantLaunch: 0, wantStops: 1},
		{name: "Min100Max200NewHealthy", desired: 4, minPct: 100, maxPct: 200, oldHealthyTasks: 4, newHealthyTasks: 4, wantStops: 4},
		{name: "Min100Max200NewPending", desired: 4, minPct: 100, maxPct: 200, oldHealthyTasks: 4, newPendingTasks: 4},
		{name: "Min100Max200HalfReady", desired: 4, minPct: 100, maxPct: 200, oldHealthyTasks: 4, newHealthyTasks: 2, newPendingTasks: 2, wantStops: 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tasks := running("old", depA, tc.oldHealthyTasks)
			tasks = append(tasks, running("new", depB, tc.newHealthyTasks)...)
			tasks = append(tasks, pending("newp", depB, tc.newPendingTasks)...)
			s := Snapshot{Now: t0, ServiceName: "web", Spec: replicaSpec(tc.desired, tc.minPct, tc.maxPct), Tasks: tasks,
				Deployments: []Deployment{
					dep(depA, tdA, StatusPrimary, RolloutCompleted, 0), // the caller has not demoted it yet
					dep(depB, tdB, StatusPrimary, "", time.Minute),
				}}
			d := Decide(s)
			if got := launched(d); got != tc.wantLaunch {
				t.Errorf("launched %d, want %d", got, tc.wantLaunch)
			}
			if len(d.Stop) != tc.wantStops {
				t.Errorf("stops %v, want %d", stopIDs(d), tc.wantStops)
			}
			for _, id := range stopIDs(d) {
				if id[:3] != "old" {
					t.Errorf("stopped a new task %s", id)
				}
			}
			if got := hasEvent(d, "was unable to stop or start tasks during a deployment"); got != tc.wantStuck {
				t.Errorf("stuck event %v, want %v: %q", got, tc.wantStuck, d.Events)
			}
			if len(d.Deployments) != 2 || d.Deployments[0].ID != depB || d.Deployments[0].Status != StatusPrimary ||
				d.Deployments[1].Status != StatusActive || d.Deployments[1].DesiredCount != 0 {
				t.Fatalf("deployments %+v", d.Deployments)
			}
			p := d.Deployments[0]
			if p.RolloutState != RolloutInProgress || p.RolloutStateReason != "ECS deployment "+depB+" in progress." || p.DesiredCount != tc.desired {
				t.Errorf("primary %+v", p)
			}
		})
	}
}

// TestDecide_RollingUpdateConverges runs whole rollouts in the simulated
// world and checks the §7.3 bounds after every pass: never fewer healthy
// tasks than minHealthy (once there were that many), never more tasks
// than maxTotal.
func TestDecide_RollingUpdateConverges(t *testing.T) {
	cases := []struct {
		desired, minPct, maxPct int
	}{
		{4, 0, 100}, {4, 50, 200}, {4, 100, 200}, {4, 50, 100}, {10, 50, 200}, {10, 90, 110}, {7, 75, 125}, {3, 100, 150}, {1, 0, 100}, {0, 100, 200},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("D%d_min%d_max%d", tc.desired, tc.minPct, tc.maxPct), func(t *testing.T) {
			w := newWorld(t, Snapshot{Spec: replicaSpec(tc.desired, tc.minPct, tc.maxPct),
				Deployments: []Deployment{dep(depA, tdA, StatusPrimary, "", 0)}})
			minHealthy := MinimumHealthy(tc.desired, tc.minPct)
			maxTotal := MaximumTotal(tc.desired, tc.maxPct)
			w.run(20)
			// Deploy B.
			w.s.Deployments = append(w.s.Deployments, dep(depB, tdB, StatusPrimary, "", time.Hour))
			w.s.Now = t0.Add(2 * time.Hour)
			w.check = func(w *world, d Decision) {
				h, total := w.count()
				if h < minHealthy {
					t.Fatalf("healthy %d < minHealthy %d after %+v", h, minHealthy, d)
				}
				if total > maxTotal {
					t.Fatalf("total %d > maxTotal %d after %+v", total, maxTotal, d)
				}
			}
			d := w.run(40)
			if d.Deployments[0].ID != depB || d.RunningCount != tc.desired {
				t.Fatalf("final %+v", d)
			}
			if !hasEvent(d, "(service web) (deployment "+depB+") deployment completed.") || !hasEvent(d, "(service web) has reached a steady state.") {
				t.Errorf("events %q", d.Events)
			}
			if d.State.LastCompleted.ID != depB || d.State.LastCompleted.TaskDefinition != tdB {
				t.Errorf("last completed %+v", d.State.LastCompleted)
			}
			for _, tk := range w.s.Tasks {
				if tk.DeploymentID != depB && tk.LastStatus != TaskStopped {
					t.Errorf("old task left: %+v", tk)
				}
			}
		})
	}
}

func TestDecide_StuckDeploymentEventSuppressed(t *testing.T) {
	s := Snapshot{Now: t0, ServiceName: "web", Spec: replicaSpec(2, 100, 100), Tasks: running("old", depA, 2),
		Deployments: []Deployment{dep(depA, tdA, StatusActive, RolloutCompleted, 0), dep(depB, tdB, StatusPrimary, "", time.Minute)}}
	d := Decide(s)
	if !hasEvent(d, "was unable to stop or start tasks") || len(d.State.Notices) != 1 {
		t.Fatalf("events %q notices %+v", d.Events, d.State.Notices)
	}
	s.State = d.State
	s.Now = t0.Add(time.Minute)
	if d := Decide(s); hasEvent(d, "was unable to stop or start tasks") {
		t.Errorf("repeated within 6 h: %q", d.Events)
	}
	s.Now = t0.Add(NoticeRepeat)
	if d := Decide(s); !hasEvent(d, "was unable to stop or start tasks") {
		t.Errorf("not repeated after 6 h: %q", d.Events)
	}
}

func TestDecide_Unhealthy(t *testing.T) {
	sick := func(ts []Task, i int, startedAgo time.Duration) []Task {
		ts[i].HealthStatus = HealthUnhealthy
		ts[i].StartedAt = t0.Add(-startedAgo)
		return ts
	}
	spec := func(minPct, maxPct int, grace time.Duration) Spec {
		s := replicaSpec(3, minPct, maxPct)
		s.HasHealthChecks = true
		s.HealthCheckGracePeriod = grace
		return s
	}
	cases := []struct {
		name       string
		spec       Spec
		tasks      []Task
		wantLaunch int
		wantStops  []string
	}{
		{name: "StartFirstWithRoom", spec: spec(100, 200, 0), tasks: sick(running("a", depA, 3), 1, time.Hour), wantLaunch: 1},
		{name: "StopWhenReplacementHealthy", spec: spec(100, 200, 0), tasks: append(sick(running("a", depA, 3), 1, time.Hour), running("r", depA, 1)...),
			wantStops: []string{"a-01"}},
		{name: "StopFirstWithoutRoom", spec: spec(100, 100, 0), tasks: sick(sick(running("a", depA, 3), 1, time.Hour), 2, time.Hour),
			wantStops: []string{"a-01"}},
		{name: "GraceIgnoresUnhealthy", spec: spec(100, 100, 5*time.Minute), tasks: sick(running("a", depA, 3), 1, time.Minute)},
		{name: "AfterGrace", spec: spec(100, 100, 5*time.Minute), tasks: sick(running("a", depA, 3), 1, 10*time.Minute), wantStops: []string{"a-01"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := Snapshot{Now: t0, ServiceName: "web", Spec: tc.spec, Tasks: tc.tasks,
				Deployments: []Deployment{dep(depA, tdA, StatusPrimary, RolloutCompleted, 0)}}
			d := Decide(s)
			if launched(d) != tc.wantLaunch || !slices.Equal(stopIDs(d), tc.wantStops) {
				t.Fatalf("launched %d stops %v, want %d %v", launched(d), stopIDs(d), tc.wantLaunch, tc.wantStops)
			}
			for _, st := range d.Stop {
				if st.Reason != ReasonHealthChecks {
					t.Errorf("reason %q", st.Reason)
				}
				if !hasEvent(d, "(service web) (task "+st.TaskID+") failed container health checks.") {
					t.Errorf("events %q", d.Events)
				}
			}
			if d.Steady {
				t.Error("steady with an unhealthy task")
			}
		})
	}
}

func TestDecide_UnhealthyCustomReasonAndGraceWakeup(t *testing.T) {
	spec := replicaSpec(1, 100, 200)
	spec.HasHealthChecks = true
	spec.HealthCheckGracePeriod = time.Minute
	tasks := running("a", depA, 1)
	tasks[0].HealthStatus = HealthUnhealthy
	tasks[0].UnhealthyReason = "Task failed ELB health checks in (target-group arn:tg)"
	tasks[0].StartedAt = t0.Add(-30 * time.Second)
	s := Snapshot{Now: t0, Spec: spec, Tasks: tasks, Deployments: []Deployment{dep(depA, tdA, StatusPrimary, RolloutCompleted, 0)}}
	d := Decide(s)
	if len(d.Stop) != 0 || !d.NextDecisionAt.Equal(t0.Add(30*time.Second)) {
		t.Fatalf("stops %v next %v", d.Stop, d.NextDecisionAt)
	}
	s.Now = t0.Add(30 * time.Second)
	s.Spec.MaximumPercent = 100
	d = Decide(s)
	if len(d.Stop) != 1 || d.Stop[0].Reason != tasks[0].UnhealthyReason {
		t.Fatalf("stops %+v", d.Stop)
	}
}

func TestDecide_Draining(t *testing.T) {
	mk := func() []Task {
		ts := running("a", depA, 3)
		for i := range ts {
			ts[i].InstanceID = fmt.Sprint("i-", i)
		}
		return ts
	}
	insts := []Instance{{ID: "i-0", Status: StatusDraining}, {ID: "i-1", Status: StatusActive}, {ID: "i-2", Status: StatusActive}}
	cases := []struct {
		name           string
		minPct, maxPct int
		tasks          []Task
		wantLaunch     int
		wantStops      []string
	}{
		{name: "StartFirst", minPct: 100, maxPct: 200, tasks: mk(), wantLaunch: 1},
		{name: "StopFirst", minPct: 50, maxPct: 100, tasks: mk(), wantStops: []string{"a-00"}},
		{name: "BlockedAt100_100", minPct: 100, maxPct: 100, tasks: mk()},
		{name: "ReplacementHealthy", minPct: 100, maxPct: 200, tasks: append(mk(), running("r", depA, 1)...), wantStops: []string{"a-00"}},
		{name: "PendingStoppedAtOnce", minPct: 100, maxPct: 100, tasks: func() []Task {
			ts := mk()
			ts[0].LastStatus = TaskPending
			return ts
		}(), wantStops: []string{"a-00"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := Snapshot{Now: t0, Spec: replicaSpec(3, tc.minPct, tc.maxPct), Tasks: tc.tasks, Instances: insts,
				Deployments: []Deployment{dep(depA, tdA, StatusPrimary, RolloutCompleted, 0)}}
			d := Decide(s)
			if launched(d) != tc.wantLaunch || !slices.Equal(stopIDs(d), tc.wantStops) {
				t.Fatalf("launched %d stops %v, want %d %v", launched(d), stopIDs(d), tc.wantLaunch, tc.wantStops)
			}
			if d.Steady {
				t.Error("steady while draining")
			}
		})
	}
}

func TestDecide_LostInstanceTasksReplaced(t *testing.T) {
	ts := running("a", depA, 2)
	ts[0].InstanceID = "gone"
	s := Snapshot{Now: t0, Spec: replicaSpec(2, 100, 100), Tasks: ts, Instances: []Instance{{ID: "gone", Status: StatusInactive}},
		Deployments: []Deployment{dep(depA, tdA, StatusPrimary, RolloutCompleted, 0)}}
	d := Decide(s)
	if launched(d) != 1 || !slices.Equal(stopIDs(d), []string{"a-00"}) {
		t.Fatalf("launched %d stops %v", launched(d), stopIDs(d))
	}
}

func TestDecide_Protected(t *testing.T) {
	ts := running("a", depA, 3)
	ts[0].Protected, ts[1].Protected = true, true
	s := Snapshot{Now: t0, ServiceName: "web", Spec: replicaSpec(1, 100, 200), Tasks: ts,
		Deployments: []Deployment{dep(depA, tdA, StatusPrimary, RolloutCompleted, 0)}}
	d := Decide(s)
	if !slices.Equal(stopIDs(d), []string{"a-02"}) {
		t.Errorf("stops %v", stopIDs(d))
	}
	if !hasEvent(d, "(service web) was unable to reach steady state because task set ("+depA+") was unable to scale in.") {
		t.Errorf("events %q", d.Events)
	}

	// Protected old tasks block the deployment.
	old := running("old", depA, 2)
	old[0].Protected = true
	s = Snapshot{Now: t0, Spec: replicaSpec(2, 0, 100), Tasks: old,
		Deployments: []Deployment{dep(depA, tdA, StatusActive, RolloutCompleted, 0), dep(depB, tdB, StatusPrimary, "", time.Minute)}}
	d = Decide(s)
	if !slices.Equal(stopIDs(d), []string{"old-01"}) {
		t.Errorf("stops %v", stopIDs(d))
	}
}

func TestDecide_HealthyAfter(t *testing.T) {
	spec := replicaSpec(2, 100, 200)
	spec.HealthyAfter = 40 * time.Second
	ts := running("a", depA, 2)
	ts[1].StartedAt = t0.Add(-10 * time.Second)
	s := Snapshot{Now: t0, Spec: spec, Tasks: ts, Deployments: []Deployment{dep(depA, tdA, StatusPrimary, "", 0)}}
	d := Decide(s)
	if d.Steady || d.Deployments[0].RolloutState != RolloutInProgress {
		t.Fatalf("steady before HealthyAfter: %+v", d)
	}
	if !d.NextDecisionAt.Equal(t0.Add(30 * time.Second)) {
		t.Errorf("next %v", d.NextDecisionAt)
	}
	s.Now = t0.Add(30 * time.Second)
	if d := Decide(s); !d.Steady || d.Deployments[0].RolloutState != RolloutCompleted {
		t.Errorf("not steady after HealthyAfter: %+v", d)
	}
}

func TestDecide_DefaultMaximumPercent(t *testing.T) {
	// MaximumPercent 0 means the default: REPLICA 200, so a 100 % minimum
	// deployment still starts all new tasks first.
	s := Snapshot{Now: t0, Spec: replicaSpec(2, 100, 0), Tasks: running("old", depA, 2),
		Deployments: []Deployment{dep(depA, tdA, StatusActive, RolloutCompleted, 0), dep(depB, tdB, StatusPrimary, "", time.Minute)}}
	if d := Decide(s); launched(d) != 2 || len(d.Stop) != 0 {
		t.Fatalf("decision %+v", d)
	}
	s.Spec.SchedulingStrategy = StrategyDaemon
	s.Instances = []Instance{{ID: "i-1", Status: StatusActive, Eligible: true}}
	s.Tasks = []Task{daemonTask("old", depA, "i-1")}
	if d := Decide(s); launched(d) != 0 || len(d.Stop) != 0 || !hasEvent(d, "unable to stop or start") {
		t.Fatalf("daemon decision %+v", d)
	}
}

func TestDecide_NewTaskRecords(t *testing.T) {
	// A just-created task (no lastStatus yet) is live and pending; a
	// STOPPED one without StoppedAt fails at Now.
	s := Snapshot{Now: t0, Spec: replicaSpec(2, 100, 200), Deployments: []Deployment{dep(depA, tdA, StatusPrimary, "", 0)},
		Tasks: []Task{{ID: "n", DeploymentID: depA}, {ID: "f", DeploymentID: depA, LastStatus: TaskStopped, StopCode: StopCodeFailed}}}
	d := Decide(s)
	if launched(d) != 1 || d.PendingCount != 1 || d.Deployments[0].PendingCount != 1 {
		t.Fatalf("decision %+v", d)
	}
	if b := d.State.Backoff; b.Failures != 1 || !b.LastFailureAt.Equal(t0) || d.Deployments[0].FailedTasks != 1 {
		t.Errorf("backoff %+v deployment %+v", b, d.Deployments[0])
	}
}
