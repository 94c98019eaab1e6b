package autoscaling

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/berth-dev/berth/internal/store"
)

// ControllerConfig configures the group controller.
type ControllerConfig struct {
	Store store.Store
	Log   *slog.Logger
	// Launchers by name (see DefaultLaunchers). A group whose launcher is
	// missing here fails its launches with a reason.
	Launchers map[string]Launcher
	// Endpoint returns the server's base URL, handed to launchers.
	Endpoint func() string
	Now      func() time.Time
	// Rand draws instance ids and breaks zone ties; default: seeded from
	// crypto/rand. Only the controller's loop goroutine uses it.
	Rand   *rand.Rand
	Policy Policy // zero: DefaultPolicy()
	// Resync is the interval of the periodic full pass (default 5 s); store
	// changes under asg/ trigger a pass at once.
	Resync time.Duration
	// OpTimeout bounds one launcher call (default 15 minutes).
	OpTimeout time.Duration
	// MaxConcurrent bounds launcher calls in flight (default 16).
	MaxConcurrent int
	// FailureRetry is the wait before a failed termination is retried
	// (default 10 s).
	FailureRetry time.Duration
	// TerminationHook, when set, holds every termination until it
	// returns (managed draining; see TerminationHook).
	TerminationHook TerminationHook
}

// Controller drives every group's instances towards its desired capacity.
// It is level-triggered: each pass reads every group, asks Decide what to
// change, records the change (new Pending instances, Terminating ones,
// their activities) in one store.Update per group, then calls the group's
// launcher for every Pending or Terminating instance that has no call in
// flight, and records the outcome in another Update. A restart therefore
// repeats unfinished launcher calls, which launchers must tolerate.
//
// Lifecycle: StartController starts the loop, the store watcher and the
// launcher calls; Close cancels them all and waits.
type Controller struct {
	cfg    ControllerConfig
	log    *slog.Logger
	sem    chan struct{}
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	inflight map[string]bool // account/region/instance id with a launcher call running
	// resumed holds the InService instances of Resident launchers that
	// this controller launched or resumed (account/region/instance id).
	resumed map[string]bool
}

// StartController starts the controller; the caller must Close it.
func StartController(cfg ControllerConfig) (*Controller, error) {
	if cfg.Store == nil {
		return nil, errors.New("autoscaling: controller without a store")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Launchers == nil {
		cfg.Launchers = DefaultLaunchers(nil)
	}
	if cfg.Endpoint == nil {
		cfg.Endpoint = func() string { return "" }
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		var seed [16]byte
		_, _ = crand.Read(seed[:])
		cfg.Rand = rand.New(rand.NewPCG(binary.LittleEndian.Uint64(seed[:8]), binary.LittleEndian.Uint64(seed[8:])))
	}
	if cfg.Policy == (Policy{}) {
		cfg.Policy = DefaultPolicy()
	}
	if cfg.Resync <= 0 {
		cfg.Resync = 5 * time.Second
	}
	if cfg.OpTimeout <= 0 {
		cfg.OpTimeout = 15 * time.Minute
	}
	if cfg.MaxConcurrent <= 0 {
		cfg.MaxConcurrent = 16
	}
	if cfg.FailureRetry <= 0 {
		cfg.FailureRetry = 10 * time.Second
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &Controller{cfg: cfg, log: cfg.Log, sem: make(chan struct{}, cfg.MaxConcurrent), cancel: cancel, inflight: map[string]bool{}, resumed: map[string]bool{}}
	wake := make(chan struct{}, 1)
	c.wg.Go(func() { c.watch(ctx, wake) })
	c.wg.Go(func() { c.loop(ctx, wake) })
	return c, nil
}

// Close stops the loop and every launcher call, and waits for them.
// Interrupted calls are repeated by the next controller on this store.
func (c *Controller) Close() error {
	c.cancel()
	c.wg.Wait()
	return nil
}

func (c *Controller) loop(ctx context.Context, wake <-chan struct{}) {
	t := time.NewTicker(c.cfg.Resync)
	defer t.Stop()
	for {
		if err := c.pass(ctx); err != nil && ctx.Err() == nil {
			c.log.Warn("autoscaling: controller pass failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-wake:
		}
	}
}

// watch signals wake on every change under asg/, re-watching when the
// watch ends, until ctx ends.
func (c *Controller) watch(ctx context.Context, wake chan<- struct{}) {
	for ctx.Err() == nil {
		rev, err := c.cfg.Store.Rev(ctx)
		var ch <-chan store.Event
		if err == nil {
			ch, err = c.cfg.Store.Watch(ctx, "asg/", rev)
		}
		if err == nil {
			// A pass after (re)watching covers changes missed in between.
			signal(wake)
			for range ch {
				signal(wake)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func signal(ch chan<- struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// pass reconciles every group once. Groups whose snapshot needs no change
// cost no write: only their in-flight launcher calls are checked.
func (c *Controller) pass(ctx context.Context) error {
	var groups []*Group
	err := c.cfg.Store.View(ctx, func(r store.Reader) error {
		return r.List("asg/", "", func(kv store.KV) error {
			if _, _, _, ok := parseGroupKey(kv.Key); !ok {
				return nil
			}
			g := new(Group)
			if err := json.Unmarshal(kv.Value, g); err != nil {
				c.log.Warn("autoscaling: undecodable group skipped", "key", kv.Key, "err", err)
				return nil
			}
			groups = append(groups, g)
			return nil
		})
	})
	if err != nil {
		return err
	}
	var errs []error
	for _, g := range groups {
		if Decide(g, c.cfg.Now(), c.cfg.Policy, c.cfg.Rand).Empty() {
			c.startCalls(ctx, g)
			continue
		}
		if err := c.reconcile(ctx, g.Account, g.Region, g.Name); err != nil {
			errs = append(errs, fmt.Errorf("group %s: %w", g.Name, err))
		}
	}
	return errors.Join(errs...)
}

// startCalls starts the launcher calls the group's instances need: a
// launch for each Pending one, a termination for each Terminating one,
// and, for a Resident launcher, a launch for each InService one that this
// controller has not launched or resumed yet.
func (c *Controller) startCalls(ctx context.Context, g *Group) {
	resident := false
	if r, ok := c.launcher(g).(Resident); ok {
		resident = r.Resident()
	}
	for _, in := range g.Instances {
		switch {
		case in.LifecycleState == StatePending || in.LifecycleState == StateTerminating:
			c.start(ctx, g, in)
		case in.LifecycleState == StateInService && resident:
			c.resume(ctx, g, in)
		}
	}
}

// resume launches an InService instance of a Resident launcher again,
// unless this controller already has (or a call for it is running). The
// group record does not change: a failure is logged, and the call is
// repeated after FailureRetry.
func (c *Controller) resume(ctx context.Context, g *Group, in Instance) {
	id := g.Account + "/" + g.Region + "/" + in.ID
	c.mu.Lock()
	if c.inflight[id] || c.resumed[id] {
		c.mu.Unlock()
		return
	}
	c.inflight[id] = true
	c.mu.Unlock()
	l, req := c.launcher(g), c.request(g, in)
	c.wg.Go(func() {
		defer func() {
			c.mu.Lock()
			delete(c.inflight, id)
			c.mu.Unlock()
		}()
		select {
		case c.sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		opCtx, cancel := context.WithTimeout(ctx, c.cfg.OpTimeout)
		err := l.Launch(opCtx, req)
		cancel()
		<-c.sem
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			c.log.Info("autoscaling: resumed an in-service instance", "group", req.Group, "instance", req.InstanceID)
			c.mu.Lock()
			c.resumed[id] = true
			c.mu.Unlock()
			return
		}
		c.log.Warn("autoscaling: resuming an in-service instance failed; retrying", "group", req.Group, "instance", req.InstanceID, "err", err, "in", c.cfg.FailureRetry)
		select {
		case <-time.After(c.cfg.FailureRetry):
		case <-ctx.Done():
		}
	})
}

// reconcile applies Decide's plan for one group and starts the launcher
// calls its instances need.
func (c *Controller) reconcile(ctx context.Context, account, region, name string) error {
	key := keyGroup(account, region, name)
	var after *Group
	_, err := c.cfg.Store.Update(ctx, func(tx store.Tx) error {
		// May run more than once: everything below only touches tx, after
		// and the loop goroutine's random source.
		after = nil
		g, err := getGroup(tx, key)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		now := c.cfg.Now()
		plan := Decide(g, now, c.cfg.Policy, c.cfg.Rand)
		if plan.Delete {
			return tx.Delete(key)
		}
		after = g
		if plan.Empty() {
			return nil
		}
		return c.apply(tx, g, plan, now)
	})
	if err != nil || after == nil {
		return err
	}
	c.startCalls(ctx, after)
	return nil
}

// apply records a plan in g (and its activities) inside tx.
func (c *Controller) apply(tx store.Tx, g *Group, plan Plan, now time.Time) error {
	active := g.active()
	if n := int32(len(plan.Launch)); n > 0 {
		cause := fmt.Sprintf("At %s an instance was started in response to a difference between desired and actual capacity, increasing the capacity from %d to %d.", causeTime(now), active, active+n)
		if g.DesiredCause != "" {
			cause = g.DesiredCause + "  " + cause
		}
		for _, l := range plan.Launch {
			act := Activity{
				ID: newUUID(), GroupName: g.Name, GroupARN: g.ARN,
				Description: "Launching a new EC2 instance: " + l.InstanceID,
				Cause:       cause,
				Details:     `{"Availability Zone":"` + l.AZ + `"}`,
				StatusCode:  ActivityInProgress, Progress: 30, StartTime: now,
			}
			if err := putJSON(tx, keyActivity(g.Account, g.Region, g.Name, act.ID), act); err != nil {
				return err
			}
			g.Instances = append(g.Instances, Instance{
				ID: l.InstanceID, AvailabilityZone: l.AZ, InstanceType: g.InstanceType(),
				LifecycleState: StatePending, HealthStatus: "Healthy",
				ProtectedFromScaleIn: g.NewInstancesProtectedFromScaleIn, LaunchTime: now,
				LaunchTemplate: g.LaunchTemplate, LaunchConfigurationName: g.LaunchConfigurationName,
				ActivityID: act.ID,
			})
		}
	}
	if n := int32(len(plan.Terminate)); n > 0 {
		why := fmt.Sprintf("At %s an instance was taken out of service in response to a difference between desired and actual capacity, shrinking the capacity from %d to %d.", causeTime(now), active, active-n)
		if g.Deleting {
			why = fmt.Sprintf("At %s an instance was taken out of service in response to the deletion of the AutoScalingGroup.", causeTime(now))
		}
		if g.DesiredCause != "" {
			why = g.DesiredCause + "  " + why
		}
		for _, id := range plan.Terminate {
			i := g.instance(id)
			act := Activity{
				ID: newUUID(), GroupName: g.Name, GroupARN: g.ARN,
				Description: "Terminating EC2 instance: " + id,
				Cause:       why + fmt.Sprintf("  At %s instance %s was selected for termination.", causeTime(now), id),
				StatusCode:  ActivityInProgress, Progress: 0, StartTime: now,
			}
			if err := putJSON(tx, keyActivity(g.Account, g.Region, g.Name, act.ID), act); err != nil {
				return err
			}
			g.Instances[i].LifecycleState = StateTerminating
			g.Instances[i].ActivityID = act.ID
		}
	}
	return putJSON(tx, keyGroup(g.Account, g.Region, g.Name), g)
}

func (c *Controller) launcher(g *Group) Launcher {
	name := g.LauncherName()
	if l, ok := c.cfg.Launchers[name]; ok {
		return l
	}
	if name == "" {
		return Unavailable{Reason: "the group names no launcher; tag it " + TagLauncher + "=sim|local|exec or use a launch template named berth-<launcher>"}
	}
	return Unavailable{Name: name, Reason: "no such launcher"}
}

func (c *Controller) request(g *Group, in Instance) Request {
	tags := map[string]string{}
	for _, t := range g.Tags {
		if t.PropagateAtLaunch {
			tags[t.Key] = t.Value
		}
	}
	return Request{
		Account: g.Account, Region: g.Region, Group: g.Name, GroupARN: g.ARN,
		InstanceID: in.ID, InstanceType: in.InstanceType, AZ: in.AvailabilityZone,
		Cluster: g.Cluster(), Endpoint: c.cfg.Endpoint(), Tags: tags,
	}
}

// start runs the launcher call an instance needs, unless one is running.
func (c *Controller) start(ctx context.Context, g *Group, in Instance) {
	id := g.Account + "/" + g.Region + "/" + in.ID
	c.mu.Lock()
	if c.inflight[id] {
		c.mu.Unlock()
		return
	}
	c.inflight[id] = true
	c.mu.Unlock()
	l, req, launch := c.launcher(g), c.request(g, in), in.LifecycleState == StatePending
	activity := in.ActivityID
	c.wg.Go(func() {
		defer func() {
			c.mu.Lock()
			delete(c.inflight, id)
			c.mu.Unlock()
		}()
		if !launch && c.cfg.TerminationHook != nil && !c.holdTermination(ctx, req, activity) {
			return
		}
		select {
		case c.sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		opCtx, cancel := context.WithTimeout(ctx, c.cfg.OpTimeout)
		var err error
		if launch {
			err = l.Launch(opCtx, req)
		} else {
			err = l.Terminate(opCtx, req)
		}
		cancel()
		<-c.sem
		if ctx.Err() != nil {
			return // shutting down: the next controller repeats the call
		}
		if err != nil {
			c.log.Warn("autoscaling: launcher call failed", "group", req.Group, "instance", req.InstanceID, "launch", launch, "err", err)
		}
		c.mu.Lock()
		switch {
		case launch && err == nil:
			c.resumed[id] = true // running: no resume needed
		case !launch && err == nil:
			delete(c.resumed, id)
		}
		c.mu.Unlock()
		if ferr := c.finish(ctx, req, activity, launch, err); ferr != nil && ctx.Err() == nil {
			c.log.Warn("autoscaling: recording launcher outcome failed", "instance", req.InstanceID, "err", ferr)
		}
		if err != nil && !launch {
			// Keep the termination marked in flight for a while, so that a
			// failing launcher is not called in a tight loop.
			select {
			case <-time.After(c.cfg.FailureRetry):
			case <-ctx.Done():
			}
		}
	})
}

// finish records the outcome of a launcher call.
func (c *Controller) finish(ctx context.Context, req Request, activityID string, launch bool, callErr error) error {
	key := keyGroup(req.Account, req.Region, req.Group)
	_, err := c.cfg.Store.Update(ctx, func(tx store.Tx) error {
		now := c.cfg.Now()
		g, err := getGroup(tx, key)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		done := []string{activityID}
		if g != nil {
			if i := g.instance(req.InstanceID); i >= 0 {
				in := &g.Instances[i]
				switch {
				case launch && callErr == nil:
					if in.LifecycleState == StatePending {
						in.LifecycleState = StateInService
					}
					g.LaunchFailures = 0
				case launch: // the launch failed: no instance to keep
					if in.ActivityID != activityID {
						done = append(done, in.ActivityID)
					}
					g.Instances = append(g.Instances[:i], g.Instances[i+1:]...)
					g.LaunchFailures++
					g.LastLaunchFailure = now
				case callErr == nil:
					g.Instances = append(g.Instances[:i], g.Instances[i+1:]...)
				}
			}
			if err := putJSON(tx, key, g); err != nil {
				return err
			}
		}
		for n, id := range done {
			akey := keyActivity(req.Account, req.Region, req.Group, id)
			kv, err := tx.Get(akey)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			var a Activity
			if err := json.Unmarshal(kv.Value, &a); err != nil {
				return fmt.Errorf("autoscaling: decode %s: %w", akey, err)
			}
			switch {
			case callErr == nil || n > 0:
				a.StatusCode, a.Progress, a.EndTime, a.StatusMessage = ActivitySuccessful, 100, now, ""
			case launch:
				a.StatusCode, a.Progress, a.EndTime = ActivityFailed, 100, now
				a.StatusMessage = truncate(callErr.Error(), 255)
			default: // a failed termination stays in progress and is retried
				a.StatusMessage = truncate(callErr.Error(), 255)
			}
			if err := putJSON(tx, akey, a); err != nil {
				return err
			}
		}
		return nil
	})
	return err
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
