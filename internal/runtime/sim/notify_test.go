package sim

import (
	"context"
	"errors"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/leaktest"
	rt "github.com/berth-dev/berth/internal/runtime"
)

// counter is a NotifyExit callback that counts its calls.
type counter struct{ n atomic.Int32 }

func (c *counter) fn() { c.n.Add(1) }

func TestNotifyExit_ExitsLater(t *testing.T) {
	t.Parallel()
	clk := newManualClock()
	r := newRuntime(t, Options{Clock: clk})
	id := run(t, r, spec("job", knobRunSeconds+"=5", "BERTH_SIM_EXIT_CODE=3"))
	var c counter
	if err := r.NotifyExit(id, c.fn); err != nil {
		t.Fatalf("NotifyExit: %v", err)
	}
	clk.Advance(4 * time.Second)
	if n := c.n.Load(); n != 0 {
		t.Fatalf("called %d times before the exit", n)
	}
	clk.Advance(2 * time.Second)
	if n := c.n.Load(); n != 1 {
		t.Fatalf("called %d times after the exit, want 1", n)
	}
	// Wait returns at once now, with the exit.
	res, err := r.Wait(context.Background(), id)
	if err != nil || res.ExitCode != 3 {
		t.Fatalf("Wait = %+v, %v", res, err)
	}
	clk.Advance(time.Minute)
	if n := c.n.Load(); n != 1 {
		t.Fatalf("called %d times, want once", n)
	}
}

func TestNotifyExit_Stop(t *testing.T) {
	t.Parallel()
	r := newRuntime(t, Options{})
	id := run(t, r, spec("web"))
	var c counter
	if err := r.NotifyExit(id, c.fn); err != nil {
		t.Fatal(err)
	}
	if err := r.Stop(context.Background(), id, 0); err != nil {
		t.Fatal(err)
	}
	// Stop returns once the container has exited, and the callback ran
	// before the Runtime's lock was free for Stop to return.
	if n := c.n.Load(); n != 1 {
		t.Fatalf("called %d times after Stop, want 1", n)
	}
}

func TestNotifyExit_AlreadyExited(t *testing.T) {
	t.Parallel()
	clk := newManualClock()
	r := newRuntime(t, Options{Clock: clk})
	id := run(t, r, spec("job", knobRunSeconds+"=1"))
	clk.Advance(2 * time.Second)
	var c counter
	if err := r.NotifyExit(id, c.fn); err != nil {
		t.Fatal(err)
	}
	if n := c.n.Load(); n != 1 {
		t.Fatalf("called %d times for an exited container, want 1 before NotifyExit returns", n)
	}
}

func TestNotifyExit_UnknownID(t *testing.T) {
	t.Parallel()
	r := newRuntime(t, Options{})
	var c counter
	if err := r.NotifyExit("nope", c.fn); !errors.Is(err, rt.ErrNotFound) {
		t.Fatalf("NotifyExit = %v, want ErrNotFound", err)
	}
	if c.n.Load() != 0 {
		t.Fatal("called for an unknown container")
	}
}

// A container removed before it exited (Remove kills a running one; a
// created one never ran) calls the callback, and Wait then reports
// ErrNotFound: the caller's Wait after the callback sees the same thing a
// blocked Wait would have.
func TestNotifyExit_Removed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRuntime(t, Options{})
	running := run(t, r, spec("running"))
	created, err := r.Create(ctx, spec("created"))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{running, created} {
		var c counter
		if err := r.NotifyExit(id, c.fn); err != nil {
			t.Fatal(err)
		}
		if err := r.Remove(ctx, id); err != nil {
			t.Fatal(err)
		}
		if n := c.n.Load(); n != 1 {
			t.Fatalf("%s: called %d times after Remove, want 1", id, n)
		}
		if _, err := r.Wait(ctx, id); !errors.Is(err, rt.ErrNotFound) {
			t.Fatalf("%s: Wait after Remove = %v, want ErrNotFound", id, err)
		}
	}
}

// A callback may take a lock that its caller holds while calling the
// Runtime: callbacks run after the Runtime's lock is released.
func TestNotifyExit_CallbackOutsideLock(t *testing.T) {
	t.Parallel()
	r := newRuntime(t, Options{})
	id := run(t, r, spec("web"))
	done := make(chan struct{})
	if err := r.NotifyExit(id, func() {
		// Calling the Runtime here is not allowed of callers, but it
		// proves the lock is free.
		if _, err := r.Inspect(context.Background(), id); err != nil {
			t.Error(err)
		}
		close(done)
	}); err != nil {
		t.Fatal(err)
	}
	if err := r.Stop(context.Background(), id, 0); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("callback not called")
	}
}

// Callbacks cost no goroutine while their containers run, and a closed
// Runtime drops them: none is called afterwards and nothing is left
// running.
func TestNotifyExit_NoGoroutinesAndClose(t *testing.T) {
	clk := newManualClock()
	r := newRuntime(t, Options{Clock: clk})
	const n = 200
	ids := make([]string, n)
	for i := range ids {
		ids[i] = run(t, r, spec("c"+strconv.Itoa(i), knobRunSeconds+"=10"))
	}
	before := runtime.NumGoroutine()
	var c counter
	for _, id := range ids {
		if err := r.NotifyExit(id, c.fn); err != nil {
			t.Fatal(err)
		}
	}
	if after := runtime.NumGoroutine(); after > before+5 {
		t.Fatalf("%d goroutines after %d NotifyExit calls, %d before", after, n, before)
	}
	r.Close()
	clk.Advance(time.Minute)
	if got := c.n.Load(); got != 0 {
		t.Fatalf("%d callbacks called after Close", got)
	}
	if err := r.NotifyExit(ids[0], c.fn); !errors.Is(err, ErrClosed) {
		t.Fatalf("NotifyExit after Close = %v, want ErrClosed", err)
	}
	if leaked := leaktest.Leaked(2*time.Second, "berth/internal/runtime/sim.(*Runtime).NotifyExit", "berth/internal/runtime/sim.(*Runtime).unlock"); leaked != "" {
		t.Fatalf("leaked goroutines:\n%s", leaked)
	}
}
