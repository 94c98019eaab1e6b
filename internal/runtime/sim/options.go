package sim

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"
)

// Options configure a Runtime. The zero value is a real-time simulator with
// realistic step timings, seed 0, no persistence and no logging.
type Options struct {
	// Clock is the source of time; nil means RealClock.
	Clock Clock
	// Seed drives every random choice (container ids, pull times, the
	// first dynamic host port and IP address): two Runtimes with the same
	// seed given the same calls in the same order make the same choices.
	// Zero is a seed like any other.
	Seed uint64
	// Speed divides every simulated duration: step timings, the BERTH_SIM_*
	// durations, health-check timings, and the grace given to Stop. 0 means
	// 1 (real time); 100 runs the simulated world a hundred times faster.
	// Reported timestamps still come from Clock.
	Speed float64
	// Timings are the step durations at Speed 1; nil means DefaultTimings().
	// &Timings{} makes every step instantaneous.
	Timings *Timings
	// Logger receives debug lines for transitions and warnings for dropped
	// subscribers and failed state-file writes; nil discards.
	Logger *slog.Logger
	// Images are present from the start: pulling them takes no time.
	Images []string
	// EventBuffer is each Events subscriber's channel capacity; a
	// subscriber that falls this far behind is dropped. 0 means 1024.
	EventBuffer int
	// StateFile, when set, makes the simulated containers outlive the
	// process: New restores the Runtime from it when it exists, and every
	// change made through the API (Pull, Create, Start, Stop, Remove) is
	// written to it atomically before the call returns. Meant for one agent
	// (tens of containers): each write encodes the whole state.
	StateFile string
}

// Timings are how long each step takes at Speed 1. Container-level
// BERTH_SIM_*_DELAY knobs override them.
type Timings struct {
	// PullMin and PullMax bound the time to pull an image that is not yet
	// present (uniform, from the seeded source). Present images take 0.
	PullMin, PullMax time.Duration
	// Create and Start are the durations of those calls.
	Create, Start time.Duration
	// Stop is how long a container that honours SIGTERM takes to exit.
	Stop time.Duration
}

// DefaultTimings returns realistic timings for a local Docker Engine.
func DefaultTimings() Timings {
	return Timings{
		PullMin: 50 * time.Millisecond,
		PullMax: 200 * time.Millisecond,
		Create:  5 * time.Millisecond,
		Start:   20 * time.Millisecond,
		Stop:    10 * time.Millisecond,
	}
}

const defaultEventBuffer = 1024

// resolved is Options with the defaults applied.
type resolved struct {
	clock     Clock
	log       *slog.Logger
	speed     float64
	timings   Timings
	evBuf     int
	stateFile string
}

func (o Options) resolve() (resolved, error) {
	r := resolved{
		clock:     o.Clock,
		log:       o.Logger,
		speed:     o.Speed,
		timings:   DefaultTimings(),
		evBuf:     o.EventBuffer,
		stateFile: o.StateFile,
	}
	if r.clock == nil {
		r.clock = RealClock{}
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.speed == 0 {
		r.speed = 1
	}
	if r.speed < 0 || math.IsNaN(r.speed) || math.IsInf(r.speed, 0) {
		return r, fmt.Errorf("sim: speed %v: must be a positive number", o.Speed)
	}
	if o.Timings != nil {
		r.timings = *o.Timings
	}
	t := r.timings
	if t.PullMin < 0 || t.PullMax < 0 || t.Create < 0 || t.Start < 0 || t.Stop < 0 {
		return r, errors.New("sim: timings must not be negative")
	}
	if r.evBuf < 0 {
		return r, fmt.Errorf("sim: event buffer %d: must not be negative", r.evBuf)
	}
	if r.evBuf == 0 {
		r.evBuf = defaultEventBuffer
	}
	return r, nil
}

// scale divides a simulated duration by speed. Negative values are
// sentinels ("never") and pass through.
func scale(d time.Duration, speed float64) time.Duration {
	if d <= 0 || speed == 1 {
		return d
	}
	s := time.Duration(float64(d) / speed)
	if s == 0 {
		s = 1 // a positive duration stays positive, so ordering is kept
	}
	return s
}
