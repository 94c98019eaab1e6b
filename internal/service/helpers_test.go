package service

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const (
	depA = "ecs-svc/1000000000000000001"
	depB = "ecs-svc/2000000000000000002"
	tdA  = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:1"
	tdB  = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:2"
)

// replicaSpec returns a REPLICA spec with the given bounds.
func replicaSpec(desired, minPct, maxPct int) Spec {
	return Spec{SchedulingStrategy: StrategyReplica, DesiredCount: desired, MinimumHealthyPercent: minPct, MaximumPercent: maxPct}
}

// dep returns a deployment created at t0+age.
func dep(id, td, status, rollout string, age time.Duration) Deployment {
	return Deployment{ID: id, TaskDefinition: td, Status: status, RolloutState: rollout, CreatedAt: t0.Add(age), UpdatedAt: t0.Add(age)}
}

// running returns n RUNNING tasks of deployment d, IDs prefix-0.., started
// an hour before t0.
func running(prefix, d string, n int) []Task {
	var out []Task
	for i := range n {
		out = append(out, Task{
			ID: fmt.Sprintf("%s-%02d", prefix, i), DeploymentID: d, LastStatus: TaskRunning, DesiredStatus: TaskRunning,
			HealthStatus: HealthHealthy, StartedAt: t0.Add(-time.Hour), AvailabilityZone: []string{"az-a", "az-b"}[i%2],
		})
	}
	return out
}

// pending returns n PENDING tasks of deployment d.
func pending(prefix, d string, n int) []Task {
	var out []Task
	for i := range n {
		out = append(out, Task{ID: fmt.Sprintf("%s-%02d", prefix, i), DeploymentID: d, LastStatus: TaskPending, DesiredStatus: TaskRunning})
	}
	return out
}

func stopIDs(d Decision) []string {
	var ids []string
	for _, s := range d.Stop {
		ids = append(ids, s.TaskID)
	}
	return ids
}

func launched(d Decision) int {
	n := 0
	for _, l := range d.Launch {
		n += l.Count
	}
	return n
}

func hasEvent(d Decision, substr string) bool {
	return slices.ContainsFunc(d.Events, func(e string) bool { return strings.Contains(e, substr) })
}

// world is a tiny simulation of a cluster for multi-pass tests: every
// tick runs Decide, applies its decision, then moves tasks on one step
// (PENDING → RUNNING, desired-STOPPED → STOPPED). Task definitions listed
// in fail never reach RUNNING; those in crash stop right after RUNNING.
type world struct {
	t    *testing.T
	s    Snapshot
	seq  int
	fail map[string]bool
	// crash task definitions: tasks exit (EssentialContainerExited) one
	// tick after reaching RUNNING.
	crash map[string]bool
	// tick is the simulated time step.
	tick time.Duration
	// check runs after every applied decision.
	check func(w *world, d Decision)
	// instances for new tasks, round-robin (REPLICA) when set.
	log []Decision
}

func newWorld(t *testing.T, s Snapshot) *world {
	if s.Now.IsZero() {
		s.Now = t0
	}
	if s.ServiceName == "" {
		s.ServiceName = "web"
	}
	return &world{t: t, s: s, fail: map[string]bool{}, crash: map[string]bool{}, tick: time.Second}
}

func (w *world) tdOf(id string) string {
	for _, d := range w.s.Deployments {
		if d.ID == id {
			return d.TaskDefinition
		}
	}
	return ""
}

// step runs one Decide and applies it.
func (w *world) step() Decision {
	w.t.Helper()
	d := Decide(w.s)
	w.log = append(w.log, d)
	w.s.State = d.State
	w.s.Deployments = d.Deployments
	w.s.Unplaced = nil
	w.s.NewDeploymentID = ""
	for _, id := range d.Accounted {
		for i := range w.s.Tasks {
			if w.s.Tasks[i].ID == id {
				w.s.Tasks[i].Accounted = true
			}
		}
	}
	for _, st := range d.Stop {
		for i := range w.s.Tasks {
			if w.s.Tasks[i].ID == st.TaskID {
				w.s.Tasks[i].DesiredStatus = TaskStopped
			}
		}
	}
	for _, l := range d.Launch {
		for range l.Count {
			w.seq++
			w.s.Tasks = append(w.s.Tasks, Task{
				ID: fmt.Sprintf("t%04d", w.seq), DeploymentID: l.DeploymentID, InstanceID: l.InstanceID,
				LastStatus: TaskPending, DesiredStatus: TaskRunning, AvailabilityZone: []string{"az-a", "az-b", "az-c"}[w.seq%3],
			})
		}
	}
	if w.check != nil {
		w.check(w, d)
	}
	// Advance.
	w.s.Now = w.s.Now.Add(w.tick)
	for i := range w.s.Tasks {
		t := &w.s.Tasks[i]
		td := w.tdOf(t.DeploymentID)
		switch {
		case t.LastStatus == TaskStopped:
		case t.DesiredStatus == TaskStopped:
			t.LastStatus, t.StoppedAt = TaskStopped, w.s.Now
			if t.StopCode == "" {
				t.StopCode = StopCodeScheduler
			}
		case t.LastStatus == TaskPending && w.fail[td]:
			t.LastStatus, t.DesiredStatus, t.StoppedAt, t.StopCode = TaskStopped, TaskStopped, w.s.Now, StopCodeFailed
		case t.LastStatus == TaskPending:
			t.LastStatus, t.StartedAt, t.HealthStatus = TaskRunning, w.s.Now, HealthHealthy
		case t.LastStatus == TaskRunning && w.crash[td]:
			t.LastStatus, t.DesiredStatus, t.StoppedAt, t.StopCode = TaskStopped, TaskStopped, w.s.Now, StopCodeExited
		}
	}
	// Forget accounted STOPPED tasks, as the controller may.
	w.s.Tasks = slices.DeleteFunc(w.s.Tasks, func(t Task) bool { return t.LastStatus == TaskStopped && t.Accounted })
	return d
}

// run steps until the service is steady with one COMPLETED deployment,
// or fails after max steps.
func (w *world) run(max int) Decision {
	w.t.Helper()
	for range max {
		d := w.step()
		if d.Steady && len(d.Deployments) == 1 && d.Deployments[0].RolloutState == RolloutCompleted {
			return d
		}
	}
	w.t.Fatalf("not steady after %d steps; last decision %+v", max, w.log[len(w.log)-1])
	return Decision{}
}

// count returns the live tasks (all, healthy) of the world after a
// decision was applied, and the non-STOPPED ones.
func (w *world) count() (healthyN, totalN int) {
	for i := range w.s.Tasks {
		t := &w.s.Tasks[i]
		if t.LastStatus == TaskStopped {
			continue
		}
		totalN++
		if healthy(&w.s.Spec, w.s.Now, t) {
			healthyN++
		}
	}
	return
}
