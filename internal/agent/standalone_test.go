package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/acs"
	"github.com/berth-dev/berth/internal/runtime"
	"github.com/berth-dev/berth/internal/testkit"
)

// recorder is a Reporter that keeps what it is sent; with refuse set it
// refuses every change for good.
type recorder struct {
	mu         sync.Mutex
	tasks      []TaskChange
	containers []ContainerChange
	refuse     bool
}

func (r *recorder) SubmitTask(_ context.Context, ch TaskChange) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tasks = append(r.tasks, ch)
	if r.refuse {
		return fmt.Errorf("%w: no", ErrRefused)
	}
	return nil
}

func (r *recorder) SubmitContainer(_ context.Context, _ string, ch ContainerChange) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.containers = append(r.containers, ch)
	return nil
}

// statuses returns the task statuses reported for arn, in order.
func (r *recorder) statuses(arn string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, ch := range r.tasks {
		if ch.TaskARN == arn {
			out = append(out, ch.Status)
		}
	}
	return out
}

func TestEngine_Sim(t *testing.T) {
	dir := t.TempDir()
	rt := newSim(t, dir)
	ctx := t.Context()
	// The task's network namespace: a container the caller made.
	pauseID, err := rt.Create(ctx, runtime.ContainerSpec{Name: "pause-1", Image: "pause"})
	if err == nil {
		err = rt.Start(ctx, pauseID)
	}
	if err != nil {
		t.Fatal(err)
	}
	pause, _ := rt.Inspect(ctx, pauseID)
	rec := &recorder{}
	newEngine := func() *Engine {
		e, err := NewEngine(EngineConfig{
			Runtime: rt, Reporter: rec, DataDir: dir,
			Logger:     slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelInfo})),
			Backoff:    Backoff{Min: 10 * time.Millisecond, Max: 50 * time.Millisecond},
			NetworkFor: func(*acs.Task) string { return "container:pause-1" },
		})
		if err != nil {
			t.Fatalf("NewEngine: %v", err)
		}
		t.Cleanup(func() { e.Close() })
		return e
	}
	e := newEngine()
	task := acs.Task{ARN: testTaskARN, TaskClusterARN: "arn:aws:ecs:us-east-1:000000000000:cluster/c1", Family: "f", Version: "1",
		DesiredStatus: "RUNNING", NetworkMode: "awsvpc",
		Containers: []acs.Container{{Name: "app", Image: "i", Essential: true, PortMappings: []acs.PortMapping{{ContainerPort: 80}}}}}
	e.Apply(task)
	e.Apply(task) // idempotent
	testkit.Eventually(t, 10*time.Second, "", func() error {
		if s := rec.statuses(testTaskARN); !slices.Equal(s, []string{"RUNNING"}) {
			return fmt.Errorf("reported %v", s)
		}
		return nil
	})
	list := taskContainers(t, rt, testTaskARN)["app"]
	if len(list) != 1 || list[0].IPAddress != pause.IPAddress || list[0].Labels[runtime.LabelCluster] != "c1" || len(list[0].Ports) != 0 {
		t.Fatalf("container %+v (pause address %s)", list, pause.IPAddress)
	}
	if got := e.Tasks(); !slices.Equal(got, []string{testTaskARN}) {
		t.Fatalf("Tasks %v", got)
	}

	// A new engine on the same directory takes the task over.
	e.Close()
	e = newEngine()
	if got := e.Tasks(); !slices.Equal(got, []string{testTaskARN}) {
		t.Fatalf("Tasks after the restart %v", got)
	}
	e.Stop(testTaskARN)
	testkit.Eventually(t, 10*time.Second, "", func() error {
		if s := rec.statuses(testTaskARN); !slices.Equal(s, []string{"RUNNING", "STOPPED"}) {
			return fmt.Errorf("reported %v", s)
		}
		return nil
	})

	// A change the Reporter refuses is not sent again.
	rec.mu.Lock()
	rec.refuse = true
	rec.mu.Unlock()
	other := task
	other.ARN = testTaskARN[:len(testTaskARN)-1] + "0"
	e.Apply(other)
	testkit.Eventually(t, 10*time.Second, "", func() error {
		if s := rec.statuses(other.ARN); len(s) == 0 {
			return errors.New("nothing reported")
		}
		return nil
	})
	time.Sleep(200 * time.Millisecond)
	if s := rec.statuses(other.ARN); !slices.Equal(s, []string{"RUNNING"}) {
		t.Fatalf("a refused change was retried: %v", s)
	}
}

func TestNewEngine_Errors(t *testing.T) {
	rt := newSim(t, t.TempDir())
	for _, cfg := range []EngineConfig{
		{Reporter: &recorder{}, DataDir: t.TempDir()},
		{Runtime: rt, DataDir: t.TempDir()},
		{Runtime: rt, Reporter: &recorder{}},
	} {
		if e, err := NewEngine(cfg); err == nil {
			e.Close()
			t.Errorf("NewEngine(%+v) succeeded", cfg)
		}
	}
}
