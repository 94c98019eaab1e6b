package fleet

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"time"

	"github.com/berth-dev/berth/internal/control"
	"github.com/berth-dev/berth/internal/runtime"
)

// Spot configures the fleet's Fargate Spot interruptions (spec §5.5).
//
// An interruption (at Rate, or on demand through control.InterruptSpotTasks,
// which the server's administrative endpoint calls) sets the task's
// desired status to STOPPED with stopCode SpotInterruption: the fleet's
// engine sends its containers SIGTERM and kills each after its
// stopTimeout (default 30 s), as the ECS agent does. Warning is the
// two-minute warning: when it ends, Fargate reclaims the capacity, and the
// fleet kills whatever of the task still runs. Only FARGATE_SPOT tasks are
// ever interrupted.
type Spot struct {
	// Warning is the time from an interruption to the reclaim (default
	// DefaultSpotWarning, two minutes).
	Warning time.Duration
	// Rate is the mean number of interruptions per RUNNING Spot task and
	// hour (a Poisson process per task); 0, the default, never interrupts
	// by itself.
	Rate float64
	// Interval is how often Rate is applied (default DefaultSpotInterval).
	Interval time.Duration
	// Seed seeds the interruption draws; 0 seeds from the clock.
	Seed uint64
}

// Defaults of Spot.
const (
	DefaultSpotWarning  = 2 * time.Minute
	DefaultSpotInterval = 10 * time.Second
)

// reclaimTimeout bounds the kill of one task's containers.
const reclaimTimeout = 30 * time.Second

// withDefaults fills Spot's defaults in.
func (s Spot) withDefaults() Spot {
	if s.Warning <= 0 {
		s.Warning = DefaultSpotWarning
	}
	if s.Interval <= 0 {
		s.Interval = DefaultSpotInterval
	}
	if s.Rate < 0 || math.IsNaN(s.Rate) || math.IsInf(s.Rate, 0) {
		s.Rate = 0
	}
	return s
}

// StartWithSpot is Start with Spot interruptions configured: a
// server.FleetStarter for `berth server --spot-interruption-warning
// --spot-interruption-rate`.
func StartWithSpot(spot Spot) func(ctx context.Context, c *control.Control, kind, dataDir string, log *slog.Logger) (io.Closer, error) {
	return func(ctx context.Context, c *control.Control, kind, dataDir string, log *slog.Logger) (io.Closer, error) {
		f, err := New(ctx, Config{Control: c, Runtime: kind, DataDir: dataDir, Log: log, Spot: spot})
		if err != nil {
			return nil, err
		}
		return f, nil
	}
}

// spotVictims draws the Spot tasks that rate (mean interruptions per task
// and hour) interrupts over elapsed: each RUNNING task that is not
// stopping, independently, with probability 1 − e^(−rate·hours). rng is
// drawn once per such task, in the order given, so the same tasks, rate,
// elapsed time and seed give the same victims.
func spotVictims(tasks []control.SpotTask, rate float64, elapsed time.Duration, rng *rand.Rand) []control.SpotTask {
	if rate <= 0 || elapsed <= 0 {
		return nil
	}
	p := -math.Expm1(-rate * elapsed.Hours())
	var out []control.SpotTask
	for _, st := range tasks {
		if st.LastStatus != "RUNNING" || st.Stopping {
			continue
		}
		if rng.Float64() < p {
			out = append(out, st)
		}
	}
	return out
}

// reclaimDue returns the interrupted tasks whose warning has ended at now,
// and when the next one's ends (zero if none).
func reclaimDue(tasks []control.SpotTask, warning time.Duration, now time.Time) ([]control.SpotTask, time.Time) {
	var due []control.SpotTask
	var next time.Time
	for _, st := range tasks {
		if st.InterruptedAt.IsZero() {
			continue
		}
		end := st.InterruptedAt.Add(warning)
		if !now.Before(end) {
			due = append(due, st)
		} else {
			next = earliest(next, end)
		}
	}
	return due, next
}

// spot is the interruption loop: it applies the rate every Interval and
// reclaims interrupted tasks at the end of their warning, waking on view
// changes (a new interruption) and when something is due.
func (f *Fleet) spot(ctx context.Context) {
	cfg := f.cfg.Spot
	seed := cfg.Seed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	lastDraw := time.Now()
	reclaimed := map[string]bool{} // tasks killed at the end of their warning
	for ctx.Err() == nil {
		tasks, rev := f.ctl.SpotTasks()
		now := time.Now()
		wait := cfg.Interval
		if cfg.Rate > 0 {
			if next := lastDraw.Add(cfg.Interval); !now.Before(next) {
				for _, st := range spotVictims(tasks, cfg.Rate, now.Sub(lastDraw), rng) {
					f.interrupt(ctx, st)
				}
				lastDraw = now
			} else {
				wait = next.Sub(now)
			}
		}
		due, next := reclaimDue(tasks, cfg.Warning, now)
		live := make(map[string]bool, len(tasks))
		for _, st := range tasks {
			live[st.ARN] = true
		}
		for _, st := range due {
			if reclaimed[st.ARN] {
				continue
			}
			if err := f.reclaim(ctx, st); err != nil {
				if ctx.Err() == nil {
					f.log.Warn("fargate fleet: reclaiming an interrupted Spot task failed; retrying", "task", st.ARN, "err", err, "in", retryDelay)
				}
				next = earliest(next, now.Add(retryDelay))
				continue
			}
			reclaimed[st.ARN] = true
		}
		for arn := range reclaimed {
			if !live[arn] {
				delete(reclaimed, arn)
			}
		}
		if !next.IsZero() {
			wait = min(wait, max(next.Sub(now), 10*time.Millisecond))
		}
		wctx, cancel := context.WithTimeout(ctx, wait)
		_, _ = f.ctl.WaitChange(wctx, rev) // a timeout is a tick
		cancel()
	}
}

// interrupt interrupts one Spot task drawn by the rate.
func (f *Fleet) interrupt(ctx context.Context, st control.SpotTask) {
	done, err := f.ctl.InterruptSpotTask(ctx, st.Namespace, st.Cluster, st.ID)
	switch {
	case err != nil && ctx.Err() == nil:
		f.log.Warn("fargate fleet: interrupting a Spot task failed", "task", st.ARN, "err", err)
	case done:
		f.log.Info("fargate fleet: Spot task interrupted", "task", st.ARN, "warning", f.cfg.Spot.Warning)
	}
}

// reclaim kills the containers of an interrupted task that still run at
// the end of its warning. The engine sees them exit and reports the task
// STOPPED; its stopCode stays SpotInterruption.
func (f *Fleet) reclaim(ctx context.Context, st control.SpotTask) error {
	ctx, cancel := context.WithTimeout(ctx, reclaimTimeout)
	defer cancel()
	list, err := f.rt.List(ctx, map[string]string{runtime.LabelTaskARN: st.ARN})
	if err != nil {
		return err
	}
	var errs []error
	for _, c := range list {
		if c.State != runtime.StateRunning {
			continue
		}
		f.log.Info("fargate fleet: Spot warning over; killing a container", "task", st.ARN, "container", c.ID)
		if err := f.rt.Stop(ctx, c.ID, 0); err != nil && !errors.Is(err, runtime.ErrNotFound) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
