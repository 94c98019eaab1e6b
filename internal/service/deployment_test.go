package service

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestCircuitBreakerThreshold(t *testing.T) {
	for _, tc := range []struct{ desired, want int }{
		{0, 3}, {1, 3}, {5, 3}, {6, 3}, {7, 4}, {10, 5}, {25, 13}, {399, 200}, {400, 200}, {5000, 200}, {-1, 3},
	} {
		if got := CircuitBreakerThreshold(tc.desired); got != tc.want {
			t.Errorf("CircuitBreakerThreshold(%d) = %d, want %d", tc.desired, got, tc.want)
		}
	}
}

func TestMinimumHealthyMaximumTotal(t *testing.T) {
	for _, tc := range []struct{ d, minPct, maxPct, wantMin, wantMax int }{
		{4, 50, 200, 2, 8}, {2, 75, 150, 2, 3}, {3, 100, 125, 3, 3}, {4, 0, 100, 0, 4}, {0, 100, 200, 0, 0}, {1, 1, 199, 1, 1},
	} {
		if got := MinimumHealthy(tc.d, tc.minPct); got != tc.wantMin {
			t.Errorf("MinimumHealthy(%d, %d) = %d, want %d", tc.d, tc.minPct, got, tc.wantMin)
		}
		if got := MaximumTotal(tc.d, tc.maxPct); got != tc.wantMax {
			t.Errorf("MaximumTotal(%d, %d) = %d, want %d", tc.d, tc.maxPct, got, tc.wantMax)
		}
	}
}

// deployBad completes deployment A in a world, then deploys B whose
// tasks fail (fail) or crash after RUNNING (crash).
func deployBad(t *testing.T, cb CircuitBreaker, crash bool) *world {
	spec := replicaSpec(4, 100, 200)
	spec.CircuitBreaker = cb
	// Crashing tasks must not count as healthy in the moment they run.
	spec.HealthyAfter = 3 * time.Second
	w := newWorld(t, Snapshot{Spec: spec, Deployments: []Deployment{dep(depA, tdA, StatusPrimary, "", 0)}})
	w.run(10)
	w.s.Deployments = append(w.s.Deployments, dep(depB, tdB, StatusPrimary, "", time.Hour))
	w.s.Now = t0.Add(2 * time.Hour)
	if crash {
		w.crash[tdB] = true
	} else {
		w.fail[tdB] = true
	}
	return w
}

func TestDecide_CircuitBreakerRollback(t *testing.T) {
	for _, crash := range []bool{false, true} {
		name := map[bool]string{false: "FailedToStart", true: "CrashAfterRunning"}[crash]
		t.Run(name, func(t *testing.T) {
			w := deployBad(t, CircuitBreaker{Enable: true, Rollback: true}, crash)
			w.check = func(w *world, d Decision) {
				h, _ := w.count()
				if h < 4 {
					t.Fatalf("healthy %d < 4 during a failing deployment (min 100%%)", h)
				}
			}
			var failedAt int
			for i := range 40 {
				d := w.step()
				if hasEvent(d, "deployment failed") {
					failedAt = i
					want := []string{
						"(service web) (deployment " + depB + ") deployment failed: tasks failed to start.",
						"(service web) rolling back to deployment " + depA + ".",
					}
					if !reflect.DeepEqual(d.Events[:2], want) {
						t.Fatalf("events %q", d.Events)
					}
					p := d.Deployments[0]
					if p.ID == depB || p.TaskDefinition != tdA || p.Status != StatusPrimary || p.RolloutState != RolloutInProgress ||
						p.RolloutStateReason != "ECS deployment circuit breaker: rolling back to deploymentId "+depA+"." {
						t.Fatalf("rollback primary %+v", p)
					}
					var failed *Deployment
					for i := range d.Deployments {
						if d.Deployments[i].ID == depB {
							failed = &d.Deployments[i]
						}
					}
					// Without tasks left, the failed deployment is already gone.
					if failed != nil && (failed.RolloutState != RolloutFailed || failed.Status != StatusActive || failed.DesiredCount != 0 ||
						failed.RolloutStateReason != "ECS deployment circuit breaker: tasks failed to start." || failed.FailedTasks < 3) {
						t.Fatalf("failed deployment %+v", failed)
					}
					if !strings.HasPrefix(p.ID, "ecs-svc/") || len(p.ID) != len("ecs-svc/")+19 {
						t.Errorf("derived id %q", p.ID)
					}
					break
				}
			}
			if failedAt == 0 {
				t.Fatalf("breaker never tripped: %+v", w.log[len(w.log)-1].Deployments)
			}
			delete(w.crash, tdB)
			delete(w.fail, tdB)
			d := w.run(40)
			if d.Deployments[0].TaskDefinition != tdA || d.RunningCount != 4 {
				t.Fatalf("after rollback %+v", d)
			}
		})
	}
}

func TestDecide_CircuitBreakerWithoutRollback(t *testing.T) {
	w := deployBad(t, CircuitBreaker{Enable: true}, false)
	var d Decision
	for range 30 {
		d = w.step()
		if d.Deployments[0].RolloutState == RolloutFailed {
			break
		}
	}
	if p := d.Deployments[0]; p.ID != depB || p.RolloutState != RolloutFailed || hasEvent(d, "rolling back") {
		t.Fatalf("deployments %+v events %q", d.Deployments, d.Events)
	}
	// A FAILED deployment launches nothing and leaves the old tasks.
	for range 5 {
		d = w.step()
		if len(d.Launch) != 0 || len(d.Stop) != 0 {
			t.Fatalf("after FAILED: %+v", d)
		}
	}
	if d.RunningCount != 4 || len(d.Deployments) != 2 || hasEvent(d, "deployment failed") {
		t.Errorf("final %+v", d)
	}
}

func TestDecide_CircuitBreakerDisabledCountsButNeverTrips(t *testing.T) {
	w := deployBad(t, CircuitBreaker{}, false)
	var d Decision
	for range 40 {
		d = w.step()
	}
	if p := d.Deployments[0]; p.ID != depB || p.RolloutState != RolloutInProgress || p.FailedTasks < 3 {
		t.Fatalf("primary %+v", p)
	}
	if d.State.Backoff.Failures < BackoffAfter {
		t.Errorf("back-off %+v", d.State.Backoff)
	}
}

func TestDecide_CircuitBreakerNoRollbackTarget(t *testing.T) {
	// The first deployment fails: nothing to roll back to.
	spec := replicaSpec(2, 100, 200)
	spec.CircuitBreaker = CircuitBreaker{Enable: true, Rollback: true}
	s := Snapshot{Now: t0, ServiceName: "web", Spec: spec, Deployments: []Deployment{dep(depA, tdA, StatusPrimary, "", 0)},
		Tasks: []Task{
			{ID: "f1", DeploymentID: depA, LastStatus: TaskStopped, StopCode: StopCodeFailed, StoppedAt: t0.Add(-3 * time.Second)},
			{ID: "f2", DeploymentID: depA, LastStatus: TaskStopped, StopCode: StopCodeFailed, StoppedAt: t0.Add(-2 * time.Second)},
		},
		Unplaced: []Launch{{DeploymentID: depA, Count: 1}},
	}
	d := Decide(s)
	if len(d.Deployments) != 1 || d.Deployments[0].RolloutState != RolloutFailed || d.Deployments[0].FailedTasks != 3 {
		t.Fatalf("deployments %+v", d.Deployments)
	}
	if hasEvent(d, "rolling back") || launched(d) != 0 {
		t.Errorf("decision %+v", d)
	}
}

func TestDecide_CircuitBreakerStageOneReset(t *testing.T) {
	spec := replicaSpec(2, 100, 200)
	spec.CircuitBreaker = CircuitBreaker{Enable: true}
	p := dep(depB, tdB, StatusPrimary, RolloutInProgress, 0)
	p.FailedTasks = 2
	s := Snapshot{Now: t0, Spec: spec, Deployments: []Deployment{p},
		Tasks: []Task{
			// failed before the first start: superseded by it
			{ID: "f1", DeploymentID: depB, LastStatus: TaskStopped, StopCode: StopCodeFailed, StoppedAt: t0.Add(-3 * time.Second)},
			{ID: "ok", DeploymentID: depB, LastStatus: TaskRunning, DesiredStatus: TaskRunning, StartedAt: t0.Add(-2 * time.Second)},
			// failed after it: counts in stage 2
			{ID: "f2", DeploymentID: depB, LastStatus: TaskStopped, StopCode: StopCodeExited, StartedAt: t0.Add(-2 * time.Second), StoppedAt: t0.Add(-time.Second)},
		},
		Unplaced: []Launch{{DeploymentID: depB, Count: 5}}, // stage 1 only
	}
	d := Decide(s)
	if got := d.Deployments[0]; !got.HealthStage || got.FailedTasks != 1 || got.RolloutState != RolloutInProgress {
		t.Fatalf("primary %+v", got)
	}
}

func TestDecide_RollbackTargetFromDeployments(t *testing.T) {
	// No LastCompleted in state: the newest COMPLETED ACTIVE entry is the
	// target, and NewDeploymentID names the new deployment.
	spec := replicaSpec(1, 100, 200)
	spec.CircuitBreaker = CircuitBreaker{Enable: true, Rollback: true}
	p := dep(depB, tdB, StatusPrimary, RolloutInProgress, time.Minute)
	p.FailedTasks = 3
	a := dep(depA, tdA, StatusActive, RolloutCompleted, 0)
	a.Revision = "rev-a"
	s := Snapshot{Now: t0.Add(time.Hour), ServiceName: "web", Spec: spec, Deployments: []Deployment{p, a},
		Tasks: running("old", depA, 1), NewDeploymentID: "ecs-svc/3333333333333333333"}
	d := Decide(s)
	got := d.Deployments[0]
	if got.ID != "ecs-svc/3333333333333333333" || got.TaskDefinition != tdA || got.Revision != "rev-a" || !got.CreatedAt.Equal(s.Now) {
		t.Fatalf("primary %+v", got)
	}
	if launched(d) != 1 || d.Launch[0].DeploymentID != got.ID || d.Launch[0].TaskDefinition != tdA {
		t.Errorf("launch %+v", d.Launch)
	}
	// The failed B has no tasks: removed; A keeps its task until replaced.
	if len(d.Deployments) != 2 || d.Deployments[1].ID != depA {
		t.Errorf("deployments %+v", d.Deployments)
	}
}

func TestDecide_Backoff(t *testing.T) {
	spec := replicaSpec(1, 100, 200)
	s := Snapshot{Now: t0, ServiceName: "web", Spec: spec, Deployments: []Deployment{dep(depA, tdA, StatusPrimary, "", 0)}}
	fail := func(i int) {
		s.Tasks = append(s.Tasks, Task{ID: "f" + string(rune('a'+i)), DeploymentID: depA, LastStatus: TaskStopped,
			StopCode: StopCodeFailed, StoppedAt: s.Now})
	}
	var delays []time.Duration
	for i := range 12 {
		fail(i)
		d := Decide(s)
		s.State = d.State
		for j := range s.Tasks {
			s.Tasks[j].Accounted = true
		}
		if d.State.Backoff.Failures != i+1 {
			t.Fatalf("failures %d after %d", d.State.Backoff.Failures, i+1)
		}
		delay := d.State.Backoff.NextLaunchAt.Sub(d.State.Backoff.LastFailureAt)
		if d.State.Backoff.NextLaunchAt.IsZero() {
			delay = 0
		}
		delays = append(delays, delay)
		throttled := delay > 0
		if (launched(d) == 0) != throttled {
			t.Fatalf("step %d: launched %d with delay %v", i, launched(d), delay)
		}
		if throttled && !d.NextDecisionAt.Equal(d.State.Backoff.NextLaunchAt) {
			t.Errorf("next %v, want %v", d.NextDecisionAt, d.State.Backoff.NextLaunchAt)
		}
		if got := hasEvent(d, "(service web) is unable to consistently start tasks successfully."); got != (i == BackoffAfter-1) {
			t.Errorf("step %d: throttle event %v (%q)", i, got, d.Events)
		}
		s.Now = s.Now.Add(delay + time.Second)
	}
	want := []time.Duration{0, 0, 10 * time.Second, 20 * time.Second, 40 * time.Second, 80 * time.Second, 160 * time.Second,
		320 * time.Second, 640 * time.Second, BackoffMax, BackoffMax, BackoffMax}
	if !reflect.DeepEqual(delays, want) {
		t.Errorf("delays %v, want %v", delays, want)
	}

	// Throttled: no launch until NextLaunchAt.
	fail(20)
	d := Decide(s)
	s.State = d.State
	s.Tasks[len(s.Tasks)-1].Accounted = true
	if launched(d) != 0 {
		t.Fatalf("launched while throttled")
	}
	s.Now = d.State.Backoff.NextLaunchAt
	if d := Decide(s); launched(d) != 1 {
		t.Fatalf("no launch at NextLaunchAt: %+v", d)
	}

	// A task reaching RUNNING resets.
	r := running("r", depA, 1)
	r[0].StartedAt = s.Now.Add(-time.Millisecond)
	s2 := s
	s2.Tasks = append(append([]Task(nil), s.Tasks...), r...)
	s2.Spec.DesiredCount = 2
	if d := Decide(s2); d.State.Backoff.Failures != 0 || launched(d) != 1 {
		t.Errorf("not reset by a RUNNING task: %+v", d.State.Backoff)
	}

	// A new deployment resets.
	s3 := s
	s3.Now = s.State.Backoff.LastFailureAt.Add(time.Second)
	s3.Deployments = append(s3.Deployments, dep(depB, tdB, StatusPrimary, "", time.Hour))
	if d := Decide(s3); d.State.Backoff.Failures != 0 || d.State.Backoff.DeploymentID != depB || launched(d) != 1 {
		t.Errorf("not reset by a new deployment: %+v %+v", d.State.Backoff, d.Launch)
	}
}

func TestBackoffDelay(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want time.Duration
	}{{0, 0}, {2, 0}, {3, 10 * time.Second}, {4, 20 * time.Second}, {9, 640 * time.Second}, {10, BackoffMax}, {1000, BackoffMax}} {
		if got := BackoffDelay(tc.n); got != tc.want {
			t.Errorf("BackoffDelay(%d) = %v, want %v", tc.n, got, tc.want)
		}
	}
}

func TestDecide_SteadyState(t *testing.T) {
	s := Snapshot{Now: t0, ServiceName: "web", Spec: replicaSpec(2, 100, 200), Tasks: running("a", depA, 2),
		Deployments: []Deployment{dep(depA, tdA, StatusPrimary, "", 0)}}
	d := Decide(s)
	if !d.Steady || d.Deployments[0].RolloutState != RolloutCompleted ||
		d.Deployments[0].RolloutStateReason != "ECS deployment "+depA+" completed." ||
		!reflect.DeepEqual(d.Events, []string{
			"(service web) (deployment " + depA + ") deployment completed.",
			"(service web) has reached a steady state.",
		}) {
		t.Fatalf("decision %+v", d)
	}
	if !d.Deployments[0].UpdatedAt.Equal(t0) || d.Deployments[0].RunningCount != 2 {
		t.Errorf("deployment %+v", d.Deployments[0])
	}
	if !d.NextDecisionAt.Equal(t0.Add(NoticeRepeat)) {
		t.Errorf("next %v", d.NextDecisionAt)
	}
	s.Deployments, s.State = d.Deployments, d.State

	// Suppressed within 6 h; nothing changed, so UpdatedAt stays.
	s.Now = t0.Add(time.Hour)
	d = Decide(s)
	if !d.Steady || len(d.Events) != 0 || !d.Deployments[0].UpdatedAt.Equal(t0) {
		t.Fatalf("decision %+v", d)
	}
	// Repeated after 6 h.
	s.Now = t0.Add(NoticeRepeat)
	d = Decide(s)
	if !reflect.DeepEqual(d.Events, []string{"(service web) has reached a steady state."}) {
		t.Fatalf("events %q", d.Events)
	}
	s.State = d.State

	// A task dies: not steady, the notice is forgotten; once replaced the
	// message comes again.
	s.Now = t0.Add(7 * time.Hour)
	s.Tasks = running("a", depA, 1)
	d = Decide(s)
	if d.Steady || len(d.State.Notices) != 0 || launched(d) != 1 {
		t.Fatalf("decision %+v", d)
	}
	s.State = d.State
	s.Tasks = append(s.Tasks, running("b", depA, 1)...)
	if d := Decide(s); !d.Steady || !hasEvent(d, "has reached a steady state.") || hasEvent(d, "deployment completed") {
		t.Fatalf("decision %+v", d)
	}

	// Pending tasks are not steady.
	s.Tasks = append(running("a", depA, 2), pending("p", depA, 1)...)
	if d := Decide(s); d.Steady {
		t.Error("steady with a pending task")
	}
}

func TestDecide_NoDeployments(t *testing.T) {
	s := Snapshot{Now: t0, Spec: replicaSpec(2, 100, 200), Tasks: running("x", "ecs-svc/orphan", 1)}
	d := Decide(s)
	if len(d.Launch) != 0 || len(d.Stop) != 0 || len(d.Deployments) != 0 || d.Steady {
		t.Fatalf("decision %+v", d)
	}
	s.Spec.DesiredCount = 0
	d = Decide(s)
	if len(d.Stop) != 1 || d.Stop[0].Reason != ReasonScaling("ecs-svc/orphan") {
		t.Errorf("stops %+v", d.Stop)
	}
}

func TestDecide_Deterministic(t *testing.T) {
	var tasks []Task
	tasks = append(tasks, running("old", depA, 6)...)
	tasks = append(tasks, running("new", depB, 3)...)
	tasks = append(tasks, pending("pend", depB, 2)...)
	for i := range tasks {
		tasks[i].InstanceID = []string{"i-1", "i-2", "i-3"}[i%3]
	}
	tasks = append(tasks, Task{ID: "dead", DeploymentID: depB, LastStatus: TaskStopped, StopCode: StopCodeFailed, StoppedAt: t0})
	s := Snapshot{Now: t0, ServiceName: "web", Spec: replicaSpec(4, 50, 150), Tasks: tasks,
		Deployments: []Deployment{dep(depA, tdA, StatusActive, RolloutCompleted, 0), dep(depB, tdB, StatusPrimary, "", time.Minute)},
		Instances: []Instance{
			{ID: "i-1", Status: StatusActive, AvailabilityZone: "az-a"},
			{ID: "i-2", Status: StatusActive, AvailabilityZone: "az-b"},
			{ID: "i-3", Status: StatusDraining, AvailabilityZone: "az-b"},
		}}
	want := Decide(s)
	if len(want.Stop) == 0 {
		t.Fatalf("expected stops: %+v", want)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 50 {
		c := s
		c.Tasks = append([]Task(nil), s.Tasks...)
		c.Deployments = append([]Deployment(nil), s.Deployments...)
		c.Instances = append([]Instance(nil), s.Instances...)
		rng.Shuffle(len(c.Tasks), func(i, j int) { c.Tasks[i], c.Tasks[j] = c.Tasks[j], c.Tasks[i] })
		rng.Shuffle(len(c.Deployments), func(i, j int) { c.Deployments[i], c.Deployments[j] = c.Deployments[j], c.Deployments[i] })
		rng.Shuffle(len(c.Instances), func(i, j int) { c.Instances[i], c.Instances[j] = c.Instances[j], c.Instances[i] })
		if got := Decide(c); !reflect.DeepEqual(got, want) {
			t.Fatalf("decision differs with input order:\n got %+v\nwant %+v", got, want)
		}
	}
	// The input is not modified.
	if s.Tasks[0].DesiredStatus != TaskRunning || s.Deployments[1].RolloutState != "" {
		t.Error("snapshot modified")
	}
}

func TestDecide_InvalidStrategyFallsBack(t *testing.T) {
	spec := replicaSpec(1, 100, 200)
	spec.PlacementStrategies = append(spec.PlacementStrategies, struct{ Type, Field string }{"bogus", ""})
	s := Snapshot{Now: t0, Spec: spec, Tasks: running("a", depA, 3), Deployments: []Deployment{dep(depA, tdA, StatusPrimary, RolloutCompleted, 0)}}
	if d := Decide(s); len(d.Stop) != 2 {
		t.Fatalf("stops %v", d.Stop)
	}
}
