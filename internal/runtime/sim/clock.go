package sim

import "time"

// Clock is the simulator's source of time. Every timestamp the Runtime
// reports and every delay it simulates goes through its Clock, so tests can
// drive time by hand (or run under testing/synctest with RealClock).
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// AfterFunc calls f in its own goroutine once d has elapsed, unless the
	// returned Timer is stopped first.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a pending AfterFunc call.
type Timer interface {
	// Stop prevents the call if it has not started yet and reports whether
	// it did.
	Stop() bool
}

// RealClock is the wall clock (package time). Under testing/synctest it is
// the bubble's fake clock.
type RealClock struct{}

// Now returns time.Now().
func (RealClock) Now() time.Time { return time.Now() }

// AfterFunc is time.AfterFunc.
func (RealClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }
