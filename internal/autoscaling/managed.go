package autoscaling

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/berth-dev/berth/internal/store"
)

// Groups is the Go API of Auto Scaling groups for ECS managed scaling
// (spec §4): what ECS does to a capacity provider's group through its
// target-tracking policy and managed termination protection, without the
// Query protocol. Every mutation is one store.Update of the group record,
// so it composes with the API calls and the group controller like any
// other caller. Safe for concurrent use.
type Groups struct {
	store store.Store
	now   func() time.Time
}

// NewGroups returns the API over s; now is the clock (nil: time.Now).
func NewGroups(s store.Store, now func() time.Time) *Groups {
	if now == nil {
		now = time.Now
	}
	return &Groups{store: s, now: now}
}

// ErrGroupNotFound is returned for a group that does not exist or is
// being deleted.
var ErrGroupNotFound = errors.New("autoscaling: group not found")

// Get returns the group (a copy the caller may keep), or ErrGroupNotFound.
func (gs *Groups) Get(ctx context.Context, account, region, name string) (*Group, error) {
	var g *Group
	err := gs.store.View(ctx, func(r store.Reader) error {
		var err error
		g, err = getGroup(r, keyGroup(account, region, name))
		return err
	})
	if errors.Is(err, store.ErrNotFound) || (err == nil && g.Deleting) {
		return nil, ErrGroupNotFound
	}
	return g, err
}

// SetDesiredCapacity sets the group's desired capacity, brought within
// its min and max size, as a scaling policy does: cause says why (it
// starts the cause of the scaling activities that follow, as
// DescribeScalingActivities shows). It reports the desired capacity set
// and whether it changed; ErrGroupNotFound when the group is gone.
func (gs *Groups) SetDesiredCapacity(ctx context.Context, account, region, name string, desired int32, cause string) (int32, bool, error) {
	var set int32
	var changed bool
	_, err := gs.store.Update(ctx, func(tx store.Tx) error {
		// May run more than once: it touches only tx, set and changed.
		set, changed = 0, false
		g, err := getGroup(tx, keyGroup(account, region, name))
		if errors.Is(err, store.ErrNotFound) || (err == nil && g.Deleting) {
			return ErrGroupNotFound
		}
		if err != nil {
			return err
		}
		set = clamp(desired, g.MinSize, g.MaxSize)
		if set == g.DesiredCapacity {
			return nil
		}
		changed = true
		if cause == "" {
			cause = fmt.Sprintf("At %s a scaling policy changed the desired capacity from %d to %d.", causeTime(gs.now()), g.DesiredCapacity, set)
		}
		g.DesiredCause = cause
		g.DesiredCapacity = set
		return putJSON(tx, keyGroup(account, region, name), g)
	})
	return set, changed, err
}

// SetInstanceProtection sets the scale-in protection of the group's
// instances ids, as managed termination protection does (spec §4.6).
// Instances no longer in the group, or already Terminating, are skipped
// (they may have gone since the caller looked); nothing is written when
// nothing changes. ErrGroupNotFound when the group is gone.
func (gs *Groups) SetInstanceProtection(ctx context.Context, account, region, name string, ids []string, protected bool) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := gs.store.Update(ctx, func(tx store.Tx) error {
		// May run more than once: it touches only tx.
		g, err := getGroup(tx, keyGroup(account, region, name))
		if errors.Is(err, store.ErrNotFound) || (err == nil && g.Deleting) {
			return ErrGroupNotFound
		}
		if err != nil {
			return err
		}
		changed := false
		for _, id := range ids {
			i := g.instance(id)
			if i < 0 || g.Instances[i].LifecycleState == StateTerminating || g.Instances[i].ProtectedFromScaleIn == protected {
				continue
			}
			g.Instances[i].ProtectedFromScaleIn = protected
			changed = true
		}
		if !changed {
			return nil
		}
		return putJSON(tx, keyGroup(account, region, name), g)
	})
	return err
}

// TerminationHook holds an instance's termination back, as an Auto
// Scaling termination lifecycle hook does (ECS's managed draining, spec
// §4.7). The controller calls BeforeTerminate before the launcher's
// Terminate for every terminating instance (scale-in, a user's
// TerminateInstanceInAutoScalingGroup, a force delete), without holding a
// launcher slot, and terminates the instance once it returns nil. It
// must honour ctx; an error is logged and the call repeated after
// ControllerConfig.FailureRetry. It may be called again for the same
// instance (after a restart, or after an error), so it must be
// idempotent.
type TerminationHook interface {
	BeforeTerminate(ctx context.Context, req Request) error
}

// ActivityWaitingForTerminateLifecycleAction is the status of a
// termination held by the TerminationHook (the model's
// ScalingActivityStatusCode).
const ActivityWaitingForTerminateLifecycleAction = "WaitingForTerminateLifecycleAction"

// setActivityStatus sets the status code of an in-progress activity
// (InProgress ⇄ WaitingForTerminateLifecycleAction); a finished or missing
// activity is left alone.
func (c *Controller) setActivityStatus(ctx context.Context, req Request, id, code string) error {
	key := keyActivity(req.Account, req.Region, req.Group, id)
	_, err := c.cfg.Store.Update(ctx, func(tx store.Tx) error {
		kv, err := tx.Get(key)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		var a Activity
		if err := json.Unmarshal(kv.Value, &a); err != nil {
			return fmt.Errorf("autoscaling: decode %s: %w", key, err)
		}
		if a.StatusCode == code || (a.StatusCode != ActivityInProgress && a.StatusCode != ActivityWaitingForTerminateLifecycleAction) {
			return nil
		}
		a.StatusCode = code
		if code == ActivityWaitingForTerminateLifecycleAction {
			a.Progress = 50
		}
		return putJSON(tx, key, a)
	})
	return err
}

// holdTermination runs the TerminationHook for a terminating instance,
// showing the activity as WaitingForTerminateLifecycleAction meanwhile.
// It reports whether the instance may be terminated now; after a hook
// error it waits FailureRetry first (the next pass calls it again).
func (c *Controller) holdTermination(ctx context.Context, req Request, activity string) bool {
	if err := c.setActivityStatus(ctx, req, activity, ActivityWaitingForTerminateLifecycleAction); err != nil && ctx.Err() == nil {
		c.log.Warn("autoscaling: recording a held termination failed", "instance", req.InstanceID, "err", err)
	}
	err := c.cfg.TerminationHook.BeforeTerminate(ctx, req)
	if ctx.Err() != nil {
		return false
	}
	if err != nil {
		c.log.Warn("autoscaling: termination hook failed; retrying", "group", req.Group, "instance", req.InstanceID, "err", err, "in", c.cfg.FailureRetry)
		select {
		case <-time.After(c.cfg.FailureRetry):
		case <-ctx.Done():
		}
		return false
	}
	if err := c.setActivityStatus(ctx, req, activity, ActivityInProgress); err != nil && ctx.Err() == nil {
		c.log.Warn("autoscaling: recording a released termination failed", "instance", req.InstanceID, "err", err)
	}
	return true
}
