package sim

import (
	"context"
	"errors"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/berth-dev/berth/internal/runtime"
)

func TestRuntime_RunToExit(t *testing.T) {
	tests := []struct {
		name     string
		env      []string
		wantCode int
		wantOOM  bool
		wantRun  time.Duration
	}{
		{"Exit0", []string{"BERTH_SIM_RUN_SECONDS=5"}, 0, false, 5 * time.Second},
		{"Exit3", []string{"BERTH_SIM_RUN_SECONDS=2.5", "BERTH_SIM_EXIT_CODE=3"}, 3, false, 2500 * time.Millisecond},
		{"ExitImmediately", []string{"BERTH_SIM_RUN_SECONDS=0", "BERTH_SIM_EXIT_CODE=1"}, 1, false, 0},
		{"OOMKilled", []string{"BERTH_SIM_RUN_SECONDS=1", "BERTH_SIM_OOM=1"}, 137, true, time.Second},
		{"LastValueWins", []string{"BERTH_SIM_EXIT_CODE=1", "BERTH_SIM_RUN_SECONDS=1", "BERTH_SIM_EXIT_CODE=2"}, 2, false, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := newRuntime(t, Options{})
				ctx := context.Background()
				evs, err := r.Events(ctx)
				if err != nil {
					t.Fatal(err)
				}
				start := time.Now()
				id := run(t, r, spec("app", tt.env...))
				res, err := r.Wait(ctx, id)
				if err != nil {
					t.Fatalf("Wait: %v", err)
				}
				if got := time.Since(start); got != tt.wantRun {
					t.Errorf("ran %v, want %v", got, tt.wantRun)
				}
				if res.ExitCode != tt.wantCode || res.OOMKilled != tt.wantOOM {
					t.Errorf("Wait = %+v, want code %d oom %v", res, tt.wantCode, tt.wantOOM)
				}
				st := inspect(t, r, id)
				if st.State != runtime.StateExited || st.ExitCode == nil || *st.ExitCode != tt.wantCode {
					t.Errorf("Inspect = %+v", st)
				}
				if got := st.FinishedAt.Sub(st.StartedAt); got != tt.wantRun {
					t.Errorf("FinishedAt-StartedAt = %v, want %v", got, tt.wantRun)
				}
				want := []runtime.EventType{runtime.EventStart, runtime.EventDie}
				if got := eventTypes(drain(evs)); !slices.Equal(got, want) {
					t.Errorf("events = %v, want %v", got, want)
				}
			})
		})
	}
}

func TestRuntime_Stop(t *testing.T) {
	tests := []struct {
		name     string
		env      []string
		grace    time.Duration
		wantCode int
		wantTook time.Duration // from Stop to exit
		wantLogs string
	}{
		{"SIGTERMExit143", nil, 30 * time.Second, 143, 10 * time.Millisecond,
			"received SIGTERM\nberth-sim: exiting with code 143\n"},
		{"SlowStopKilled137", []string{"BERTH_SIM_STOP_DELAY=5"}, 2 * time.Second, 137, 2 * time.Second,
			"received SIGTERM\nberth-sim: killed by SIGKILL\nberth-sim: exiting with code 137\n"},
		{"IgnoreSIGTERMKilled137AfterGrace", []string{"BERTH_SIM_IGNORE_SIGTERM=1"}, 30 * time.Second, 137, 30 * time.Second,
			"ignoring SIGTERM\nberth-sim: killed by SIGKILL\nberth-sim: exiting with code 137\n"},
		{"GraceZeroKillsAtOnce", nil, 0, 137, 0, "exiting with code 137\n"},
		{"ExitsOnItsOwnFirst", []string{"BERTH_SIM_RUN_SECONDS=1", "BERTH_SIM_EXIT_CODE=4", "BERTH_SIM_IGNORE_SIGTERM=1"},
			10 * time.Second, 4, time.Second, "exiting with code 4\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				timings := DefaultTimings()
				r := newRuntime(t, Options{Timings: &timings})
				ctx := context.Background()
				id := run(t, r, spec("app", tt.env...))
				start := time.Now()
				if err := r.Stop(ctx, id, tt.grace); err != nil {
					t.Fatalf("Stop: %v", err)
				}
				if got := time.Since(start); got != tt.wantTook {
					t.Errorf("Stop took %v, want %v", got, tt.wantTook)
				}
				res, err := r.Wait(ctx, id)
				if err != nil || res.ExitCode != tt.wantCode {
					t.Errorf("Wait = %+v, %v; want code %d", res, err, tt.wantCode)
				}
				logs, err := r.Logs(ctx, id, len(tt.wantLogs))
				if err != nil || string(logs) != tt.wantLogs {
					t.Errorf("Logs = %q, %v; want %q", logs, err, tt.wantLogs)
				}
				// Stopping an exited container is not an error.
				if err := r.Stop(ctx, id, time.Second); err != nil {
					t.Errorf("second Stop: %v", err)
				}
			})
		})
	}
}

func TestRuntime_StopShorterGraceBringsExitForward(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRuntime(t, Options{})
		id := run(t, r, spec("app", "BERTH_SIM_IGNORE_SIGTERM=1"))
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := r.Stop(ctx, id, time.Minute); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Stop with short ctx = %v, want DeadlineExceeded", err)
		}
		if st := inspect(t, r, id); st.State != runtime.StateRunning {
			t.Fatalf("state after abandoned Stop = %s", st.State)
		}
		start := time.Now()
		if err := r.Stop(context.Background(), id, 5*time.Second); err != nil {
			t.Fatal(err)
		}
		if got := time.Since(start); got != 5*time.Second {
			t.Errorf("second Stop took %v, want 5s", got)
		}
	})
}

func TestRuntime_StopCreatedDoesNothing(t *testing.T) {
	r := newRuntime(t, Options{})
	ctx := context.Background()
	id, err := r.Create(ctx, spec("app"))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Stop(ctx, id, time.Second); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if st := inspect(t, r, id); st.State != runtime.StateCreated {
		t.Errorf("state = %s, want created", st.State)
	}
}

func TestRuntime_Failures(t *testing.T) {
	tests := []struct {
		name    string
		image   string
		env     []string
		step    string // where it fails: pull, create or start
		wantErr error
	}{
		{"PullMissingByName", "registry.local/berth-sim-missing/app:1", nil, "pull", runtime.ErrImagePull},
		{"PullMissingTag", "nginx:missing", nil, "pull", runtime.ErrImagePull},
		{"PullEmptyImage", "", nil, "pull", runtime.ErrImagePull},
		{"CreateMissingImage", "nginx:missing", nil, "create", runtime.ErrImagePull},
		{"FailPull", "nginx:1", []string{"BERTH_SIM_FAIL=pull"}, "create", runtime.ErrImagePull},
		{"FailCreate", "nginx:1", []string{"BERTH_SIM_FAIL=create"}, "create", runtime.ErrCreate},
		{"BadKnobValue", "nginx:1", []string{"BERTH_SIM_RUN_SECONDS=soon"}, "create", runtime.ErrCreate},
		{"UnknownKnob", "nginx:1", []string{"BERTH_SIM_RUN_SECOND=1"}, "create", runtime.ErrCreate},
		{"FailStart", "nginx:1", []string{"BERTH_SIM_FAIL=start"}, "start", runtime.ErrStart},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := newRuntime(t, Options{})
				ctx := context.Background()
				evs, _ := r.Events(ctx)
				s := spec("app", tt.env...)
				s.Image = tt.image
				err := r.Pull(ctx, tt.image)
				if tt.step == "pull" {
					if !errors.Is(err, tt.wantErr) {
						t.Fatalf("Pull = %v, want %v", err, tt.wantErr)
					}
					return
				}
				if tt.image != "nginx:missing" && err != nil {
					t.Fatalf("Pull: %v", err)
				}
				id, err := r.Create(ctx, s)
				if tt.step == "create" {
					if !errors.Is(err, tt.wantErr) {
						t.Fatalf("Create = %v, want %v", err, tt.wantErr)
					}
					if list, _ := r.List(ctx, nil); len(list) != 0 {
						t.Errorf("List after failed Create = %d containers", len(list))
					}
					return
				}
				if err != nil {
					t.Fatalf("Create: %v", err)
				}
				if err := r.Start(ctx, id); !errors.Is(err, tt.wantErr) {
					t.Fatalf("Start = %v, want %v", err, tt.wantErr)
				}
				st := inspect(t, r, id)
				if st.State != runtime.StateExited || st.ExitCode == nil || *st.ExitCode != 128 || st.Error == "" {
					t.Errorf("Inspect after failed start = %+v", st)
				}
				res, err := r.Wait(ctx, id)
				if err != nil || res.ExitCode != 128 || res.Error == "" {
					t.Errorf("Wait = %+v, %v", res, err)
				}
				if got := eventTypes(drain(evs)); !slices.Equal(got, []runtime.EventType{runtime.EventDie}) {
					t.Errorf("events = %v, want [die]", got)
				}
			})
		})
	}
}

func TestRuntime_NotFound(t *testing.T) {
	r := newRuntime(t, Options{})
	ctx := context.Background()
	const id = "0123456789abcdef"
	calls := map[string]error{
		"Start":   r.Start(ctx, id),
		"Stop":    r.Stop(ctx, id, time.Second),
		"Remove":  r.Remove(ctx, id),
		"Wait":    func() error { _, err := r.Wait(ctx, id); return err }(),
		"Inspect": func() error { _, err := r.Inspect(ctx, id); return err }(),
		"Logs":    func() error { _, err := r.Logs(ctx, id, 0); return err }(),
	}
	for name, err := range calls {
		if !errors.Is(err, runtime.ErrNotFound) {
			t.Errorf("%s = %v, want ErrNotFound", name, err)
		}
	}
}

func TestRuntime_DuplicateName(t *testing.T) {
	r := newRuntime(t, Options{})
	ctx := context.Background()
	if _, err := r.Create(ctx, spec("app")); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Create(ctx, spec("app")); !errors.Is(err, runtime.ErrCreate) {
		t.Errorf("second Create = %v, want ErrCreate", err)
	}
}

func TestRuntime_PullTimings(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		timings := DefaultTimings()
		r := newRuntime(t, Options{Timings: &timings, Images: []string{"present:1"}})
		ctx := context.Background()
		took := func(image string) time.Duration {
			start := time.Now()
			if err := r.Pull(ctx, image); err != nil {
				t.Fatalf("Pull(%s): %v", image, err)
			}
			return time.Since(start)
		}
		if d := took("present:1"); d != 0 {
			t.Errorf("pull of a listed image took %v, want 0", d)
		}
		if d := took("new:1"); d < timings.PullMin || d > timings.PullMax {
			t.Errorf("first pull took %v, want within [%v, %v]", d, timings.PullMin, timings.PullMax)
		}
		if d := took("new:1"); d != 0 {
			t.Errorf("second pull took %v, want 0", d)
		}
	})
}

func TestRuntime_StepTimings(t *testing.T) {
	tests := []struct {
		name              string
		env               []string
		speed             float64
		create, startTook time.Duration
	}{
		{"Defaults", nil, 1, 5 * time.Millisecond, 20 * time.Millisecond},
		{"Knobs", []string{"BERTH_SIM_CREATE_DELAY=1", "BERTH_SIM_PULL_DELAY=2", "BERTH_SIM_START_DELAY=0.5"}, 1, 3 * time.Second, 500 * time.Millisecond},
		{"Speed10", []string{"BERTH_SIM_CREATE_DELAY=1", "BERTH_SIM_START_DELAY=0.5"}, 10, 100 * time.Millisecond, 50 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				timings := DefaultTimings()
				r := newRuntime(t, Options{Timings: &timings, Speed: tt.speed})
				ctx := context.Background()
				start := time.Now()
				id, err := r.Create(ctx, spec("app", tt.env...))
				if err != nil {
					t.Fatal(err)
				}
				if got := time.Since(start); got != tt.create {
					t.Errorf("Create took %v, want %v", got, tt.create)
				}
				start = time.Now()
				if err := r.Start(ctx, id); err != nil {
					t.Fatal(err)
				}
				if got := time.Since(start); got != tt.startTook {
					t.Errorf("Start took %v, want %v", got, tt.startTook)
				}
			})
		})
	}
}

func TestRuntime_SpeedScalesRunAndGrace(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRuntime(t, Options{Speed: 100})
		ctx := context.Background()
		start := time.Now()
		id := run(t, r, spec("short", "BERTH_SIM_RUN_SECONDS=10"))
		if _, err := r.Wait(ctx, id); err != nil {
			t.Fatal(err)
		}
		if got := time.Since(start); got != 100*time.Millisecond {
			t.Errorf("10 s at speed 100 ran %v, want 100ms", got)
		}
		id = run(t, r, spec("stubborn", "BERTH_SIM_IGNORE_SIGTERM=1"))
		start = time.Now()
		if err := r.Stop(ctx, id, 30*time.Second); err != nil {
			t.Fatal(err)
		}
		if got := time.Since(start); got != 300*time.Millisecond {
			t.Errorf("30 s grace at speed 100 took %v, want 300ms", got)
		}
	})
}

func TestRuntime_Wait(t *testing.T) {
	t.Run("ReturnsOnExit", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			r := newRuntime(t, Options{})
			id := run(t, r, spec("app", "BERTH_SIM_RUN_SECONDS=3", "BERTH_SIM_EXIT_CODE=7"))
			results := make(chan runtime.ExitResult, 3)
			for range 3 { // several waiters share one exit
				go func() {
					res, err := r.Wait(context.Background(), id)
					if err != nil {
						t.Errorf("Wait: %v", err)
					}
					results <- res
				}()
			}
			for range 3 {
				if res := <-results; res.ExitCode != 7 {
					t.Errorf("ExitCode = %d, want 7", res.ExitCode)
				}
			}
		})
	})
	t.Run("CtxEnds", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			r := newRuntime(t, Options{})
			id := run(t, r, spec("app"))
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if _, err := r.Wait(ctx, id); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Wait = %v, want DeadlineExceeded", err)
			}
		})
	})
	t.Run("ErrClosed", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			r := newRuntime(t, Options{})
			id := run(t, r, spec("app"))
			errc := make(chan error, 1)
			go func() {
				_, err := r.Wait(context.Background(), id)
				errc <- err
			}()
			synctest.Wait()
			r.Close()
			if err := <-errc; !errors.Is(err, ErrClosed) {
				t.Errorf("Wait = %v, want ErrClosed", err)
			}
			if _, err := r.Inspect(context.Background(), id); !errors.Is(err, ErrClosed) {
				t.Errorf("Inspect after Close = %v, want ErrClosed", err)
			}
		})
	})
	t.Run("RemovedBeforeStart", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			r := newRuntime(t, Options{})
			ctx := context.Background()
			id, err := r.Create(ctx, spec("app"))
			if err != nil {
				t.Fatal(err)
			}
			errc := make(chan error, 1)
			go func() {
				_, err := r.Wait(ctx, id)
				errc <- err
			}()
			synctest.Wait()
			if err := r.Remove(ctx, id); err != nil {
				t.Fatal(err)
			}
			if err := <-errc; !errors.Is(err, runtime.ErrNotFound) {
				t.Errorf("Wait = %v, want ErrNotFound", err)
			}
		})
	})
}

func TestRuntime_Remove(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRuntime(t, Options{})
		ctx := context.Background()
		evs, _ := r.Events(ctx)
		id := run(t, r, spec("app"))
		waited := make(chan runtime.ExitResult, 1)
		go func() {
			res, _ := r.Wait(ctx, id)
			waited <- res
		}()
		synctest.Wait()
		if err := r.Remove(ctx, id); err != nil {
			t.Fatalf("Remove: %v", err)
		}
		if res := <-waited; res.ExitCode != 137 {
			t.Errorf("Wait after Remove = %+v, want 137", res)
		}
		want := []runtime.EventType{runtime.EventStart, runtime.EventDie, runtime.EventDestroy}
		if got := eventTypes(drain(evs)); !slices.Equal(got, want) {
			t.Errorf("events = %v, want %v", got, want)
		}
		if _, err := r.Inspect(ctx, id); !errors.Is(err, runtime.ErrNotFound) {
			t.Errorf("Inspect after Remove = %v", err)
		}
		if err := r.Remove(ctx, id); !errors.Is(err, runtime.ErrNotFound) {
			t.Errorf("second Remove = %v, want ErrNotFound", err)
		}
		// The name is free again.
		if _, err := r.Create(ctx, spec("app")); err != nil {
			t.Errorf("Create with the removed name: %v", err)
		}
	})
}

func TestRuntime_RestartExited(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRuntime(t, Options{})
		ctx := context.Background()
		id := run(t, r, spec("app", "BERTH_SIM_RUN_SECONDS=1", "BERTH_SIM_EXIT_CODE=2"))
		if _, err := r.Wait(ctx, id); err != nil {
			t.Fatal(err)
		}
		if err := r.Start(ctx, id); err != nil {
			t.Fatalf("Start of an exited container: %v", err)
		}
		st := inspect(t, r, id)
		if st.State != runtime.StateRunning || st.ExitCode != nil || !st.FinishedAt.IsZero() {
			t.Errorf("after restart: %+v", st)
		}
		if res, err := r.Wait(ctx, id); err != nil || res.ExitCode != 2 {
			t.Errorf("Wait = %+v, %v", res, err)
		}
	})
}

func TestRuntime_List(t *testing.T) {
	r := newRuntime(t, Options{})
	ctx := context.Background()
	mk := func(name, task string) string {
		s := spec(name)
		s.Labels[runtime.LabelTaskARN] = task
		s.Labels[runtime.LabelCluster] = "default"
		id, err := r.Create(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	a1, a2, b1 := mk("a1", "task/a"), mk("a2", "task/a"), mk("b1", "task/b")
	if err := r.Start(ctx, a2); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		labels map[string]string
		want   []string
	}{
		{"All", nil, []string{a1, a2, b1}},
		{"ByTask", map[string]string{runtime.LabelTaskARN: "task/a"}, []string{a1, a2}},
		{"AllLabelsMustMatch", map[string]string{runtime.LabelTaskARN: "task/a", runtime.LabelContainerName: "a2"}, []string{a2}},
		{"NoMatch", map[string]string{runtime.LabelCluster: "other"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			list, err := r.List(ctx, tt.labels)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, st := range list {
				got = append(got, st.ID)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("List = %v, want %v", got, tt.want)
			}
		})
	}
	// Callers own what List returns.
	list, _ := r.List(ctx, nil)
	list[0].Labels[runtime.LabelTaskARN] = "mutated"
	if st := inspect(t, r, a1); st.Labels[runtime.LabelTaskARN] != "task/a" {
		t.Errorf("List shares label maps with the runtime")
	}
}

func TestRuntime_Logs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRuntime(t, Options{})
		ctx := context.Background()
		s := spec("web", "BERTH_SIM_RUN_SECONDS=1", "BERTH_SIM_EXIT_CODE=3", "BERTH_SIM_OUTPUT=listening on :80")
		s.Image = "nginx:1"
		id := run(t, r, s)
		if _, err := r.Wait(ctx, id); err != nil {
			t.Fatal(err)
		}
		want := "berth-sim: started web (image nginx:1)\nlistening on :80\nberth-sim: exiting with code 3\n"
		tests := []struct {
			name string
			max  int
			want string
		}{
			{"All", 0, want},
			{"Tail", 10, want[len(want)-10:]},
			{"MaxAboveSize", 10000, want},
		}
		for _, tt := range tests {
			got, err := r.Logs(ctx, id, tt.max)
			if err != nil || string(got) != tt.want {
				t.Errorf("%s: Logs = %q, %v; want %q", tt.name, got, err, tt.want)
			}
		}
	})
}

func TestRuntime_ManualClock(t *testing.T) {
	clock := newManualClock()
	r := newRuntime(t, Options{Clock: clock})
	ctx := context.Background()
	evs, _ := r.Events(ctx)
	hc := &runtime.HealthCheck{Test: []string{"CMD", "true"}, Interval: 5 * time.Second}
	s := spec("app", "BERTH_SIM_RUN_SECONDS=10")
	s.HealthCheck = hc
	id := run(t, r, s)
	clock.Advance(9 * time.Second)
	if st := inspect(t, r, id); st.State != runtime.StateRunning || st.Health != runtime.HealthHealthy {
		t.Fatalf("after 9s: %s %s, want running HEALTHY", st.State, st.Health)
	}
	clock.Advance(time.Second)
	st := inspect(t, r, id)
	if st.State != runtime.StateExited || st.FinishedAt != st.StartedAt.Add(10*time.Second) {
		t.Fatalf("after 10s: %+v", st)
	}
	want := []runtime.EventType{runtime.EventStart, runtime.EventHealth, runtime.EventDie}
	if got := eventTypes(drain(evs)); !slices.Equal(got, want) {
		t.Errorf("events = %v, want %v", got, want)
	}
}

func TestNew_BadOptions(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{"NegativeSpeed", Options{Speed: -1}},
		{"NegativeTiming", Options{Timings: &Timings{Start: -1}}},
		{"NegativeEventBuffer", Options{EventBuffer: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.opts); err == nil {
				t.Error("New succeeded")
			}
		})
	}
}

func TestRuntime_ChangesDuringStepDelays(t *testing.T) {
	t.Run("RemovedDuringStart", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			r := newRuntime(t, Options{})
			ctx := context.Background()
			id, err := r.Create(ctx, spec("app", "BERTH_SIM_START_DELAY=1"))
			if err != nil {
				t.Fatal(err)
			}
			errc := make(chan error, 1)
			go func() { errc <- r.Start(ctx, id) }()
			synctest.Wait()
			if err := r.Remove(ctx, id); err != nil {
				t.Fatal(err)
			}
			if err := <-errc; !errors.Is(err, runtime.ErrNotFound) {
				t.Errorf("Start = %v, want ErrNotFound", err)
			}
		})
	})
	t.Run("ClosedDuringPull", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			timings := DefaultTimings()
			r := newRuntime(t, Options{Timings: &timings})
			errc := make(chan error, 1)
			go func() { errc <- r.Pull(context.Background(), "nginx:1") }()
			synctest.Wait()
			r.Close()
			if err := <-errc; !errors.Is(err, ErrClosed) {
				t.Errorf("Pull = %v, want ErrClosed", err)
			}
		})
	})
	t.Run("ShortStepsEndBeforeCtxAndClose", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			// A 20 ms create (at most plainSleepMax) is not cut short:
			// ctx's end and Close are reported once it is over.
			r := newRuntime(t, Options{})
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
			defer cancel()
			start := time.Now()
			if _, err := r.Create(ctx, spec("app", "BERTH_SIM_CREATE_DELAY=0.02")); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Create = %v, want DeadlineExceeded", err)
			}
			if d := time.Since(start); d != 20*time.Millisecond {
				t.Errorf("Create returned after %v, want 20ms", d)
			}
			errc := make(chan error, 1)
			go func() {
				_, err := r.Create(context.Background(), spec("app", "BERTH_SIM_CREATE_DELAY=0.02"))
				errc <- err
			}()
			synctest.Wait()
			r.Close()
			if err := <-errc; !errors.Is(err, ErrClosed) {
				t.Errorf("Create = %v, want ErrClosed", err)
			}
		})
	})
	t.Run("CtxEndsDuringCreate", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			r := newRuntime(t, Options{})
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			if _, err := r.Create(ctx, spec("app", "BERTH_SIM_CREATE_DELAY=2")); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Create = %v, want DeadlineExceeded", err)
			}
			if list, _ := r.List(context.Background(), nil); len(list) != 0 {
				t.Errorf("abandoned Create left %d containers", len(list))
			}
		})
	})
}
