package scaling

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/berth-dev/berth/internal/autoscaling"
	"github.com/berth-dev/berth/internal/capacity"
	"github.com/berth-dev/berth/internal/control"
	"github.com/berth-dev/berth/internal/ecs"
)

// Cluster is what the controller reads and records in ECS;
// *control.Control implements it.
type Cluster interface {
	ManagedProviders() []control.ProviderState
	RecordManagedScaling(ctx context.Context, ns ecs.Namespace, cluster, provider string, r control.ScalingRecord) error
}

// Groups is what the controller does to Auto Scaling groups;
// *autoscaling.Groups implements it.
type Groups interface {
	Get(ctx context.Context, account, region, name string) (*autoscaling.Group, error)
	SetDesiredCapacity(ctx context.Context, account, region, name string, desired int32, cause string) (int32, bool, error)
	SetInstanceProtection(ctx context.Context, account, region, name string, ids []string, protected bool) error
}

var (
	_ Cluster = (*control.Control)(nil)
	_ Groups  = (*autoscaling.Groups)(nil)
)

// DefaultInterval is the evaluation interval: ECS publishes the metric
// every minute (spec §4.1).
const DefaultInterval = time.Minute

// Config configures the controller.
type Config struct {
	Cluster Cluster
	Groups  Groups
	Log     *slog.Logger
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// Interval is the time between evaluations (0: DefaultInterval).
	Interval time.Duration
	// ScaleInAfter is how long the metric must stay below target, and
	// how long after a scale-out, before a scale-in (0:
	// capacity.DefaultScaleInAfter, 15 minutes).
	ScaleInAfter time.Duration
	// InstanceType returns the size of an instance type (nil: the
	// built-in table, autoscaling.LookupInstanceType).
	InstanceType func(name string) (capacity.InstanceType, bool)
}

// Controller is ECS managed scaling: every Interval it evaluates each
// Auto Scaling group capacity provider with managed scaling ENABLED that
// is associated with a cluster, and applies the step — instance
// protection first (protect busy instances, unprotect the empty ones
// chosen to go), then the group's new desired capacity with the cause of
// the decision — and shows the metric on the cluster's scaling
// attachment.
//
// Lifecycle: Start starts one goroutine; Close stops it and waits. The
// metric's history lives in that goroutine only (a restarted server
// starts a new history, so a scale-in waits a full ScaleInAfter again).
type Controller struct {
	cfg    Config
	log    *slog.Logger
	mem    map[string]memory // by account/region/provider; only the loop (or Evaluate) uses it
	mu     sync.Mutex        // serialises Evaluate with the loop
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New returns a controller that is not running: Evaluate runs one pass
// (tests), Start runs passes every Interval.
func New(cfg Config) (*Controller, error) {
	if cfg.Cluster == nil || cfg.Groups == nil {
		return nil, errors.New("scaling: controller needs a cluster and groups")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.ScaleInAfter <= 0 {
		cfg.ScaleInAfter = capacity.DefaultScaleInAfter
	}
	if cfg.InstanceType == nil {
		cfg.InstanceType = BuiltinInstanceType
	}
	return &Controller{cfg: cfg, log: cfg.Log, mem: map[string]memory{}, cancel: func() {}}, nil
}

// Start starts a controller's loop; the caller must Close it.
func Start(cfg Config) (*Controller, error) {
	c, err := New(cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	c.wg.Go(func() { c.loop(ctx) })
	return c, nil
}

// Close stops the loop and waits for it.
func (c *Controller) Close() error {
	c.cancel()
	c.wg.Wait()
	return nil
}

func (c *Controller) loop(ctx context.Context) {
	t := time.NewTicker(c.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := c.Evaluate(ctx); err != nil && ctx.Err() == nil {
			c.log.Warn("managed scaling: evaluation failed", "err", err)
		}
	}
}

// BuiltinInstanceType is the size of an instance type of the built-in
// table (autoscaling.LookupInstanceType).
func BuiltinInstanceType(name string) (capacity.InstanceType, bool) {
	t, ok := autoscaling.LookupInstanceType(name)
	if !ok {
		return capacity.InstanceType{}, false
	}
	return capacity.InstanceType{CPU: t.CPUUnits(), Memory: t.MemoryMiB}, true
}

// Evaluate runs one evaluation of every provider with managed scaling
// ENABLED and returns the steps it applied. Errors of one provider do not
// stop the others; they are joined.
func (c *Controller) Evaluate(ctx context.Context) ([]Step, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var steps []Step
	var errs []error
	seen := map[string]bool{}
	for _, p := range c.cfg.Cluster.ManagedProviders() {
		if !p.ScalingEnabled() || len(p.Clusters) == 0 {
			continue
		}
		key := p.Namespace.Account + "/" + p.Namespace.Region + "/" + p.Name
		seen[key] = true
		st, err := c.evaluateProvider(ctx, p, c.mem[key], key)
		if err != nil {
			errs = append(errs, fmt.Errorf("provider %s: %w", p.Name, err))
		}
		if st != nil {
			steps = append(steps, *st)
		}
	}
	for k := range c.mem {
		if !seen[k] {
			delete(c.mem, k) // disabled, disassociated or deleted: start afresh
		}
	}
	return steps, errors.Join(errs...)
}

func (c *Controller) evaluateProvider(ctx context.Context, p control.ProviderState, m memory, key string) (*Step, error) {
	ns := p.Namespace
	cluster := p.Clusters[0]
	g, err := c.cfg.Groups.Get(ctx, ns.Account, ns.Region, p.Group)
	if errors.Is(err, autoscaling.ErrGroupNotFound) {
		delete(c.mem, key)
		return nil, c.cfg.Cluster.RecordManagedScaling(ctx, ns, cluster, p.Name, control.ScalingRecord{
			Failure: fmt.Sprintf("The Auto Scaling group %s was not found.", p.Group)})
	}
	if err != nil {
		return nil, err
	}
	typ, ok := c.cfg.InstanceType(g.InstanceType())
	now := c.cfg.Now()
	st := evaluate(evalInput{Provider: p, Group: g, Memory: m, Now: now, ScaleInAfter: c.cfg.ScaleInAfter, Type: typ, TypeOK: ok})
	if err := c.apply(ctx, ns, g, st); err != nil {
		return &st, err
	}
	c.mem[key] = remember(m, st, g, now, c.cfg.ScaleInAfter)
	return &st, c.cfg.Cluster.RecordManagedScaling(ctx, ns, cluster, p.Name, control.ScalingRecord{Metric: st.Metric.Value})
}

// apply makes a step happen: protection first, so that lowering the
// desired capacity can only take the instances chosen to go.
func (c *Controller) apply(ctx context.Context, ns ecs.Namespace, g *autoscaling.Group, st Step) error {
	pr := st.Protection
	if err := c.cfg.Groups.SetInstanceProtection(ctx, ns.Account, ns.Region, g.Name, pr.Protect, true); err != nil {
		return fmt.Errorf("protect: %w", err)
	}
	if err := c.cfg.Groups.SetInstanceProtection(ctx, ns.Account, ns.Region, g.Name, pr.Unprotect, false); err != nil {
		return fmt.Errorf("unprotect: %w", err)
	}
	if !st.Decision.Change {
		c.log.Debug("managed scaling: no change", "provider", st.Provider, "cluster", st.Cluster,
			"metric", st.Metric.Value, "needed", st.Metric.Needed, "instances", st.Metric.Instances, "reason", st.Decision.Reason)
		return nil
	}
	set, changed, err := c.cfg.Groups.SetDesiredCapacity(ctx, ns.Account, ns.Region, g.Name, int32(st.Decision.Desired), st.Decision.Reason)
	if err != nil {
		return fmt.Errorf("set desired capacity: %w", err)
	}
	if changed {
		c.log.Info("managed scaling: desired capacity changed", "provider", st.Provider, "cluster", st.Cluster, "group", g.Name,
			"from", g.DesiredCapacity, "to", set, "metric", st.Metric.Value, "needed", st.Metric.Needed, "instances", st.Metric.Instances)
	}
	return nil
}
