package scaling

import (
	"context"
	"time"

	"github.com/berth-dev/berth/internal/autoscaling"
	"github.com/berth-dev/berth/internal/control"
	"github.com/berth-dev/berth/internal/ecs"
)

// Drainer is managed draining (spec §4.7) as an Auto Scaling termination
// hook: before a group terminates an instance, the instance's container
// instance is set DRAINING (when a capacity provider of the group has
// managed draining ENABLED), the service scheduler replaces its service
// tasks elsewhere, and the termination proceeds once no non-daemon task is
// left on it, or after MaxWait.
type Drainer struct {
	Control interface {
		DrainForTermination(ctx context.Context, ns ecs.Namespace, group, ec2ID string) (control.DrainState, error)
	}
	// Poll is how often the instance's tasks are looked at (0: 1 s).
	Poll time.Duration
	// MaxWait bounds the wait (0: ECS's 48 hours).
	MaxWait time.Duration
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

var _ autoscaling.TerminationHook = (*Drainer)(nil)

// DefaultDrainWait is how long ECS waits for a draining instance's tasks
// before it lets the termination proceed.
const DefaultDrainWait = 48 * time.Hour

// BeforeTerminate drains the instance and returns once it may be
// terminated. It is idempotent; a restart starts the wait afresh.
func (d *Drainer) BeforeTerminate(ctx context.Context, req autoscaling.Request) error {
	poll, wait, now := d.Poll, d.MaxWait, d.Now
	if poll <= 0 {
		poll = time.Second
	}
	if wait <= 0 {
		wait = DefaultDrainWait
	}
	if now == nil {
		now = time.Now
	}
	ns := ecs.Namespace{Partition: "aws", Account: req.Account, Region: req.Region}
	ns.Principal = ns.RootPrincipal()
	deadline := now().Add(wait)
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		st, err := d.Control.DrainForTermination(ctx, ns, req.Group, req.InstanceID)
		if err != nil {
			return err
		}
		if !st.Managed || st.Tasks == 0 || !now().Before(deadline) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
