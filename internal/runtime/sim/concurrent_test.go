package sim

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/berth-dev/berth/internal/runtime"
)

// TestRuntime_Concurrent drives many containers through every call at once
// (run it with -race) and checks that events and final states agree.
func TestRuntime_Concurrent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		timings := DefaultTimings()
		r := newRuntime(t, Options{Timings: &timings, Seed: 3})
		ctx := context.Background()
		evs, _ := r.Events(ctx)
		hc := &runtime.HealthCheck{Interval: time.Second, Retries: 1}
		var wg sync.WaitGroup
		const n = 100
		for i := range n {
			wg.Go(func() {
				s := spec("c"+strconv.Itoa(i), "BERTH_SIM_RUN_SECONDS="+strconv.Itoa(1+i%7), "BERTH_SIM_HEALTH=flap", "BERTH_SIM_FLAP_SECONDS=0.5")
				s.HealthCheck = hc
				s.Ports = []runtime.PortBinding{{ContainerPort: 80}}
				if err := r.Pull(ctx, "img:"+strconv.Itoa(i%3)); err != nil {
					t.Error(err)
					return
				}
				id := run(t, r, s)
				switch i % 3 {
				case 0:
					if err := r.Stop(ctx, id, time.Second); err != nil {
						t.Error(err)
					}
				case 1:
					if _, err := r.Wait(ctx, id); err != nil {
						t.Error(err)
					}
				}
				if _, err := r.List(ctx, map[string]string{runtime.LabelContainerName: s.Name}); err != nil {
					t.Error(err)
				}
				if err := r.Remove(ctx, id); err != nil {
					t.Error(err)
				}
			})
		}
		counts := map[runtime.EventType]int{}
		done := make(chan struct{})
		go func() {
			defer close(done)
			for ev := range evs {
				counts[ev.Type]++
				if ev.Type == runtime.EventDestroy && counts[runtime.EventDestroy] == n {
					return
				}
			}
		}()
		wg.Wait()
		<-done
		if counts[runtime.EventStart] != n || counts[runtime.EventDie] != n || counts[runtime.EventDestroy] != n {
			t.Errorf("events = %v, want %d start, die and destroy", counts, n)
		}
		if list, _ := r.List(ctx, nil); len(list) != 0 || len(r.ports.used) != 0 || len(r.ips.used) != 0 || len(r.sched) != 0 {
			t.Errorf("left behind: %d containers, %d ports, %d addresses, %d scheduled", len(list), len(r.ports.used), len(r.ips.used), len(r.sched))
		}
	})
}

func TestRuntime_StateFileWriteFailureIsLogged(t *testing.T) {
	var logs bytes.Buffer
	path := filepath.Join(t.TempDir(), "missing-dir", "sim.json")
	r := newRuntime(t, Options{StateFile: path, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if _, err := r.Create(context.Background(), spec("app")); err != nil {
		t.Fatalf("Create failed with an unwritable state file: %v", err)
	}
	if !strings.Contains(logs.String(), "cannot write the state file") {
		t.Errorf("no error logged; logs: %s", logs.String())
	}
}
