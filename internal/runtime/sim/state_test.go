package sim

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/berth-dev/berth/internal/runtime"
)

func TestRuntime_SnapshotRestore(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		r1 := newRuntime(t, Options{Seed: 42})
		t0 := time.Now()
		long := run(t, r1, spec("long", "BERTH_SIM_RUN_SECONDS=60", "BERTH_SIM_EXIT_CODE=5"))
		short := run(t, r1, spec("short", "BERTH_SIM_RUN_SECONDS=25"))
		hs := spec("healthy", "BERTH_SIM_HEALTH=flap", "BERTH_SIM_FLAP_SECONDS=10")
		hs.HealthCheck = &runtime.HealthCheck{Interval: 5 * time.Second}
		hs.Ports = []runtime.PortBinding{{ContainerPort: 80}}
		healthy := run(t, r1, hs)
		stubborn := run(t, r1, spec("stubborn", "BERTH_SIM_IGNORE_SIGTERM=1"))
		created, err := r1.Create(ctx, spec("created"))
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Second)
		// A Stop in progress when the agent goes away: killed at t=120.
		stopCtx, cancel := context.WithTimeout(ctx, time.Second)
		r1.Stop(stopCtx, stubborn, 100*time.Second)
		cancel()
		before, _ := r1.List(ctx, nil)
		snap, err := r1.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		idAfterSnapshot, _ := r1.Create(ctx, spec("next"))
		r1.Close()

		time.Sleep(9 * time.Second) // the agent is down; now t=30
		r2 := newRuntime(t, Options{Seed: 1})
		if err := r2.Restore(snap); err != nil {
			t.Fatalf("Restore: %v", err)
		}
		after, err := r2.List(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, st := range after {
			ids = append(ids, st.ID)
		}
		if want := []string{long, short, healthy, stubborn, created}; !slices.Equal(ids, want) {
			t.Fatalf("List after Restore = %v, want %v", ids, want)
		}
		for i, st := range after {
			b := before[i]
			if st.Name != b.Name || st.IPAddress != b.IPAddress || !slices.Equal(st.Ports, b.Ports) || !st.StartedAt.Equal(b.StartedAt) ||
				!st.CreatedAt.Equal(b.CreatedAt) || st.CreatedAt.IsZero() || st.ImageID != b.ImageID {
				t.Errorf("%s changed across Restore: %+v -> %+v", b.Name, b, st)
			}
		}
		states := map[string]runtime.ContainerState{}
		for _, st := range after {
			states[st.Name] = st
		}
		if st := states["short"]; st.State != runtime.StateExited || *st.ExitCode != 0 || st.FinishedAt.Sub(t0) != 25*time.Second {
			t.Errorf("short should have exited at t=25 while the agent was down: %+v", st)
		}
		if st := states["long"]; st.State != runtime.StateRunning {
			t.Errorf("long: %s, want running", st.State)
		}
		// Flap: HEALTHY from 5 s, UNHEALTHY from 15 s, HEALTHY from 25 s.
		if st := states["healthy"]; st.Health != runtime.HealthHealthy {
			t.Errorf("healthy: health %s at t=30, want HEALTHY", st.Health)
		}
		if st := states["created"]; st.State != runtime.StateCreated {
			t.Errorf("created: %s", st.State)
		}
		// The random source and allocators carry on where they were.
		if id, _ := r2.Create(ctx, spec("next")); id != idAfterSnapshot {
			t.Errorf("first id after Restore = %s, want %s", id, idAfterSnapshot)
		}

		res, err := r2.Wait(ctx, long)
		if err != nil || res.ExitCode != 5 {
			t.Fatalf("Wait(long) = %+v, %v", res, err)
		}
		if got := time.Since(t0); got != 60*time.Second {
			t.Errorf("long exited at t=%v, want 60s (its original schedule)", got)
		}
		res, _ = r2.Wait(ctx, stubborn)
		if got := time.Since(t0); got != 120*time.Second || res.ExitCode != 137 {
			t.Errorf("stubborn exited at t=%v with %d, want t=120s with 137", got, res.ExitCode)
		}
		logs, _ := r2.Logs(ctx, stubborn, 0)
		if want := "berth-sim: started stubborn (image public.ecr.aws/docker/library/nginx:latest)\nberth-sim: received SIGTERM\nberth-sim: ignoring SIGTERM\nberth-sim: killed by SIGKILL\nberth-sim: exiting with code 137\n"; string(logs) != want {
			t.Errorf("logs after Restore = %q, want %q", logs, want)
		}
	})
}

func TestRuntime_StateFile(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		path := filepath.Join(t.TempDir(), "sim.json")
		r1 := newRuntime(t, Options{StateFile: path})
		t0 := time.Now()
		s := spec("app", "BERTH_SIM_RUN_SECONDS=30")
		s.Labels[runtime.LabelTaskARN] = "arn:aws:ecs:us-east-1:123456789012:task/default/0123"
		id := run(t, r1, s)
		gone := run(t, r1, spec("gone"))
		if err := r1.Remove(ctx, gone); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Second)
		r1.Close() // the agent process exits

		time.Sleep(5 * time.Second)
		r2 := newRuntime(t, Options{StateFile: path})
		list, err := r2.List(ctx, map[string]string{runtime.LabelTaskARN: s.Labels[runtime.LabelTaskARN]})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 1 || list[0].ID != id || list[0].State != runtime.StateRunning {
			t.Fatalf("re-attach: List = %+v, want %s running", list, id)
		}
		if all, _ := r2.List(ctx, nil); len(all) != 1 {
			t.Errorf("the removed container came back: %d containers", len(all))
		}
		if _, err := r2.Wait(ctx, id); err != nil {
			t.Fatal(err)
		}
		if got := time.Since(t0); got != 30*time.Second {
			t.Errorf("exited at t=%v, want 30s", got)
		}
		entries, _ := os.ReadDir(filepath.Dir(path))
		if len(entries) != 1 {
			t.Errorf("state directory holds %d files, want only the state file", len(entries))
		}
	})
}

func TestRuntime_RestoreErrors(t *testing.T) {
	good, err := newRuntime(t, Options{}).Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		data  []byte
		setup func(*Runtime)
	}{
		{"Malformed", []byte("{"), nil},
		{"UnknownVersion", []byte(`{"version":99}`), nil},
		{"BadAllocator", []byte(`{"version":1,"nextPort":1,"nextIP":"172.17.0.2"}`), nil},
		{"NotEmpty", good, func(r *Runtime) { run(t, r, spec("app")) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRuntime(t, Options{})
			if tt.setup != nil {
				tt.setup(r)
			}
			if err := r.Restore(tt.data); err == nil {
				t.Error("Restore succeeded")
			}
		})
	}
	t.Run("CorruptStateFile", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "sim.json")
		os.WriteFile(path, []byte("not json"), 0o600)
		if _, err := New(Options{StateFile: path}); err == nil {
			t.Error("New with a corrupt state file succeeded")
		}
	})
}

func TestRuntime_Determinism(t *testing.T) {
	type outcome struct {
		ids, ips []string
		ports    []int
		pull     time.Duration
	}
	play := func(t *testing.T, seed uint64) outcome {
		var o outcome
		synctest.Test(t, func(t *testing.T) {
			timings := DefaultTimings()
			r := newRuntime(t, Options{Seed: seed, Timings: &timings})
			ctx := context.Background()
			start := time.Now()
			if err := r.Pull(ctx, "nginx:1"); err != nil {
				t.Fatal(err)
			}
			o.pull = time.Since(start)
			for i := range 5 {
				s := spec("c" + string(rune('0'+i)))
				s.Ports = []runtime.PortBinding{{ContainerPort: 80}}
				id := run(t, r, s)
				st := inspect(t, r, id)
				o.ids = append(o.ids, id)
				o.ips = append(o.ips, st.IPAddress)
				o.ports = append(o.ports, st.Ports[0].HostPort)
			}
		})
		return o
	}
	same := func(a, b outcome) bool {
		return slices.Equal(a.ids, b.ids) && slices.Equal(a.ips, b.ips) && slices.Equal(a.ports, b.ports) && a.pull == b.pull
	}
	a, b, c := play(t, 1), play(t, 1), play(t, 2)
	if !same(a, b) {
		t.Errorf("seed 1 twice differs:\n%+v\n%+v", a, b)
	}
	if same(a, c) || slices.Equal(a.ports, c.ports) || slices.Equal(a.ids, c.ids) {
		t.Errorf("seeds 1 and 2 agree:\n%+v\n%+v", a, c)
	}
}
