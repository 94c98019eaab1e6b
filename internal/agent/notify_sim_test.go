package agent

import (
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/acs"
	berthrt "github.com/berth-dev/berth/internal/runtime"
	"github.com/berth-dev/berth/internal/runtime/sim"
	"github.com/berth-dev/berth/internal/testkit"
)

// stoppedContainer returns the last STOPPED change reported for the
// container with runtime id id.
func (r *recorder) stoppedContainer(id string) (ContainerChange, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out ContainerChange
	found := false
	for _, tc := range r.tasks {
		for _, c := range tc.Containers {
			if c.RuntimeID == id && c.Status == statusStopped {
				out, found = c, true
			}
		}
	}
	for _, c := range r.containers {
		if c.RuntimeID == id && c.Status == statusStopped {
			out, found = c, true
		}
	}
	return out, found
}

// stoppedTask returns the STOPPED change reported for arn.
func (r *recorder) stoppedTask(arn string) (TaskChange, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, tc := range r.tasks {
		if tc.TaskARN == arn && tc.Status == statusStopped {
			return tc, true
		}
	}
	return TaskChange{}, false
}

// TestEngine_SimExitNotifier runs many tasks on the simulated runtime,
// which is a runtime.ExitNotifier: a running task must hold no goroutine
// (neither its loop nor a wait on its container), and exits, removals
// behind the agent's back and stops must still be recorded as before.
func TestEngine_SimExitNotifier(t *testing.T) {
	rt, err := sim.New(sim.Options{Seed: 11, Timings: &sim.Timings{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close() })
	rec := &recorder{}
	e, err := NewEngine(EngineConfig{
		Runtime: rt, Reporter: rec, DataDir: t.TempDir(),
		Logger:  slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})),
		Backoff: Backoff{Min: 10 * time.Millisecond, Max: 50 * time.Millisecond},
	})
	if err != nil {
		t.Fatalf("NewEngine: %v", err)
	}
	t.Cleanup(func() { e.Close() })
	arn := func(n int) string { return fmt.Sprintf("%s%08x", testTaskARN[:len(testTaskARN)-8], n) }
	task := func(n int, env map[string]string) acs.Task {
		return acs.Task{ARN: arn(n), TaskClusterARN: "arn:aws:ecs:us-east-1:000000000000:cluster/c1", Family: "f", Version: "1",
			DesiredStatus: "RUNNING", NetworkMode: "bridge",
			Containers: []acs.Container{{Name: "app", Image: "i", Essential: true, Environment: env}}}
	}
	running := func(arns ...string) {
		t.Helper()
		testkit.Eventually(t, 30*time.Second, "", func() error {
			for _, a := range arns {
				if s := rec.statuses(a); !slices.Contains(s, statusRunning) {
					return fmt.Errorf("task %s reported %v", a, s)
				}
			}
			return nil
		})
	}
	runtimeID := func(a string) string {
		t.Helper()
		list := taskContainers(t, rt, a)["app"]
		if len(list) != 1 {
			t.Fatalf("task %s containers %+v", a, list)
		}
		return list[0].ID
	}

	const n = 200
	before := runtime.NumGoroutine()
	arns := make([]string, n)
	for i := range arns {
		e.Apply(task(i, nil))
		arns[i] = arn(i)
	}
	running(arns...)
	// A running task that has reported holds no goroutine: its loop runs
	// only when poked, and its container has no goroutine parked in Wait.
	// With either there would be n more. Report workers and the like come
	// and go: allow a small constant for them.
	testkit.Eventually(t, 10*time.Second, "", func() error {
		if grown := runtime.NumGoroutine() - before; grown > n/10 {
			return fmt.Errorf("%d goroutines more for %d running single-container tasks", grown, n)
		}
		return nil
	})

	t.Run("EssentialExit", func(t *testing.T) {
		e.Apply(task(n, map[string]string{"BERTH_SIM_RUN_SECONDS": "0.2", "BERTH_SIM_EXIT_CODE": "3"}))
		testkit.Eventually(t, 10*time.Second, "", func() error {
			if _, ok := rec.stoppedTask(arn(n)); !ok {
				return fmt.Errorf("task reported %v", rec.statuses(arn(n)))
			}
			return nil
		})
		tc, _ := rec.stoppedTask(arn(n))
		c, ok := rec.stoppedContainer(runtimeID(arn(n)))
		if !ok || c.ExitCode == nil || *c.ExitCode != 3 || c.Reason != "" || tc.Reason != "" || tc.ExecutionStoppedAt.IsZero() {
			t.Fatalf("task %+v, container %+v (found %v)", tc, c, ok)
		}
	})

	t.Run("Stop", func(t *testing.T) {
		a := arns[0]
		e.Stop(a)
		testkit.Eventually(t, 10*time.Second, "", func() error {
			if _, ok := rec.stoppedTask(a); !ok {
				return fmt.Errorf("task reported %v", rec.statuses(a))
			}
			return nil
		})
		if c, ok := rec.stoppedContainer(runtimeID(a)); !ok || c.ExitCode == nil || *c.ExitCode != 143 {
			t.Fatalf("container %+v (found %v)", c, ok)
		}
	})

	t.Run("RemovedBehindTheAgent", func(t *testing.T) {
		a := arns[1]
		id := runtimeID(a)
		if err := rt.Remove(t.Context(), id); err != nil {
			t.Fatal(err)
		}
		testkit.Eventually(t, 10*time.Second, "", func() error {
			if _, ok := rec.stoppedTask(a); !ok {
				return fmt.Errorf("task reported %v", rec.statuses(a))
			}
			return nil
		})
		tc, _ := rec.stoppedTask(a)
		if !strings.HasPrefix(tc.Reason, "ContainerMissing: ") {
			t.Fatalf("task %+v", tc)
		}
		if _, err := rt.Inspect(t.Context(), id); !errors.Is(err, berthrt.ErrNotFound) {
			t.Fatalf("Inspect after Remove: %v", err)
		}
	})
}
