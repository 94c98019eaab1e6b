package sim

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/runtime"
)

// instant makes every step take no time, so tests only see scripted
// durations.
var instant = &Timings{}

// newRuntime returns a Runtime closed at the end of the test. Call it
// inside the synctest bubble when the test relies on fake time.
func newRuntime(t testing.TB, opts Options) *Runtime {
	t.Helper()
	if opts.Timings == nil {
		opts.Timings = instant
	}
	r, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// spec builds a container spec with the given environment.
func spec(name string, env ...string) runtime.ContainerSpec {
	return runtime.ContainerSpec{
		Name:   name,
		Image:  "public.ecr.aws/docker/library/nginx:latest",
		Env:    env,
		Labels: map[string]string{runtime.LabelContainerName: name},
	}
}

// run creates and starts a container, failing the test on error.
func run(t testing.TB, r *Runtime, s runtime.ContainerSpec) string {
	t.Helper()
	ctx := context.Background()
	id, err := r.Create(ctx, s)
	if err != nil {
		t.Fatalf("Create(%s): %v", s.Name, err)
	}
	if err := r.Start(ctx, id); err != nil {
		t.Fatalf("Start(%s): %v", s.Name, err)
	}
	return id
}

// inspect returns a container's state, failing the test on error.
func inspect(t testing.TB, r *Runtime, id string) runtime.ContainerState {
	t.Helper()
	st, err := r.Inspect(context.Background(), id)
	if err != nil {
		t.Fatalf("Inspect(%s): %v", id, err)
	}
	return st
}

// drain returns the events buffered in ch without blocking.
func drain(ch <-chan runtime.Event) []runtime.Event {
	var evs []runtime.Event
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				return evs
			}
			evs = append(evs, ev)
		default:
			return evs
		}
	}
}

// eventTypes returns the types of evs.
func eventTypes(evs []runtime.Event) []runtime.EventType {
	out := make([]runtime.EventType, len(evs))
	for i, ev := range evs {
		out[i] = ev.Type
	}
	return out
}

// manualClock is a Clock that moves only when Advance is called; due
// callbacks run synchronously in Advance, in time order.
type manualClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*manualTimer
}

type manualTimer struct {
	c    *manualClock
	at   time.Time
	f    func()
	done bool
}

func newManualClock() *manualClock {
	return &manualClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) AfterFunc(d time.Duration, f func()) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &manualTimer{c: c, at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return t
}

func (t *manualTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	if t.done {
		return false
	}
	t.done = true
	return true
}

// Advance moves the clock forward by d, running the callbacks that come
// due.
func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	end := c.now.Add(d)
	c.mu.Unlock()
	for {
		c.mu.Lock()
		c.timers = slices.DeleteFunc(c.timers, func(t *manualTimer) bool { return t.done })
		slices.SortStableFunc(c.timers, func(a, b *manualTimer) int { return a.at.Compare(b.at) })
		if len(c.timers) == 0 || c.timers[0].at.After(end) {
			c.now = end
			c.mu.Unlock()
			return
		}
		t := c.timers[0]
		t.done = true
		c.now = t.at
		c.mu.Unlock()
		t.f()
	}
}
