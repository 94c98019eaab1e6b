package sim

import (
	"container/heap"
	"time"

	"github.com/berth-dev/berth/internal/runtime"
)

// schedule is a min-heap of the containers that have a timed transition
// pending, keyed by their wake time. One Clock timer, armed for the
// earliest wake, drives the whole Runtime: no goroutine exists per
// container, and none at all while nothing is due.
type schedule []*container

func (s schedule) Len() int { return len(s) }

// Less orders by wake time, then by creation, so that simultaneous
// transitions happen (and are reported) in a deterministic order.
func (s schedule) Less(i, j int) bool {
	if c := s[i].wake.Compare(s[j].wake); c != 0 {
		return c < 0
	}
	return s[i].seq < s[j].seq
}
func (s schedule) Swap(i, j int) {
	s[i], s[j] = s[j], s[i]
	s[i].idx = i
	s[j].idx = j
}
func (s *schedule) Push(x any) {
	c := x.(*container)
	c.idx = len(*s)
	*s = append(*s, c)
}
func (s *schedule) Pop() any {
	old := *s
	c := old[len(old)-1]
	old[len(old)-1] = nil
	*s = old[:len(old)-1]
	c.idx = -1
	return c
}

// reschedule recomputes c's wake time from its pending transitions and
// moves it in the schedule. Caller holds mu.
func (r *Runtime) reschedule(c *container) {
	c.wake = c.exitAt
	if !c.healthAt.IsZero() && (c.wake.IsZero() || c.healthAt.Before(c.wake)) {
		c.wake = c.healthAt
	}
	switch {
	case c.wake.IsZero() && c.idx >= 0:
		heap.Remove(&r.sched, c.idx)
	case c.wake.IsZero():
	case c.idx >= 0:
		heap.Fix(&r.sched, c.idx)
	default:
		heap.Push(&r.sched, c)
	}
}

// runDue applies every transition due at or before now, in time order.
// Caller holds mu.
func (r *Runtime) runDue(now time.Time) {
	for len(r.sched) > 0 && !r.sched[0].wake.After(now) {
		r.step(r.sched[0])
	}
}

// step applies c's earliest pending transition, at its scheduled time (not
// at "now", so that late timers do not skew the timeline). Caller holds mu.
func (r *Runtime) step(c *container) {
	at := c.wake
	if !c.exitAt.IsZero() && !c.exitAt.After(at) {
		r.finish(c, c.exitAt, c.exitWhy)
		return
	}
	r.advanceHealth(c, at)
	r.reschedule(c)
}

// advanceHealth sets c's health to its scripted value at time at, emits an
// event if it changed, and records the next change. Caller holds mu.
func (r *Runtime) advanceHealth(c *container, at time.Time) {
	h, next := c.b.Health.at(at.Sub(c.startedAt))
	if h != c.health {
		c.health = h
		r.publish(runtime.Event{Type: runtime.EventHealth, ID: c.id, Health: h, Time: at})
		if r.debug() {
			r.log.Debug("sim: health", "id", c.id, "name", c.name, "health", h)
		}
	}
	c.healthAt = time.Time{}
	if next >= 0 {
		c.healthAt = c.startedAt.Add(next)
	}
}

// finish makes a running container exit at time at. Caller holds mu.
func (r *Runtime) finish(c *container, at time.Time, why exitKind) {
	c.state = runtime.StateExited
	c.finishedAt = at
	c.ended = why
	c.exitCode, c.oom = c.b.exitResult(why)
	c.exitAt, c.exitWhy, c.healthAt = time.Time{}, exitNone, time.Time{}
	r.reschedule(c)
	r.ports.release(c.static)
	r.wakeWaiters(c)
	r.publish(runtime.Event{Type: runtime.EventDie, ID: c.id, Time: at})
	if r.debug() {
		r.log.Debug("sim: exited", "id", c.id, "name", c.name, "code", c.exitCode)
	}
}

// arm points the Runtime's timer at the earliest wake time, replacing a
// timer armed for another time. Caller holds mu.
func (r *Runtime) arm(now time.Time) {
	if len(r.sched) == 0 {
		r.disarm()
		return
	}
	w := r.sched[0].wake
	if r.timer != nil && r.armed.Equal(w) {
		return
	}
	r.disarm()
	gen := r.timerGen
	r.armed = w
	r.timer = r.clock.AfterFunc(max(w.Sub(now), 0), func() { r.fire(gen) })
}

// disarm stops the Runtime's timer. A callback of the stopped timer that
// already started sees a newer generation and does nothing. Caller holds mu.
func (r *Runtime) disarm() {
	if r.timer != nil {
		r.timer.Stop()
		r.timer = nil
	}
	r.timerGen++
}

// fire is the timer's callback: it applies what is due and re-arms. It is
// the only code that runs on a goroutine the Runtime did not get from its
// caller; it holds mu throughout and does nothing once the Runtime is
// closed or the timer superseded. The NotifyExit callbacks of the exits it
// applies run on it too, after mu is released.
func (r *Runtime) fire(gen uint64) {
	r.mu.Lock()
	defer r.unlock()
	if r.closed || gen != r.timerGen {
		return
	}
	r.timer = nil
	now := r.clock.Now()
	r.runDue(now)
	r.arm(now)
}
