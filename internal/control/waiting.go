package control

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/scheduler"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/wire"
)

// Tasks waiting for capacity (spec §4.9).
//
// A task whose capacity provider has managed scaling ENABLED and that no
// current instance of the provider takes is not a RunTask failure: it is
// created PROVISIONING, without an instance, and a wait record remembers
// what placing it needs. RunCapacityWaiter re-offers the waiting tasks of
// each cluster to placement, oldest first, whenever the view changes and
// every WaiterConfig.Interval; a placed task becomes PENDING on its
// instance (and its agent gets it), and a task still waiting after
// WaiterConfig.Timeout is stopped with stopCode TaskFailedToStart and
// stoppedReason "TaskFailedToStart: " + the last placement reason. At most
// MaxProvisioningTasks tasks wait per cluster.
//
// Wait records live under "wait/<account>/<region>/<cluster>/" keyed by
// creation time, so one prefix scan finds every waiting task in FIFO
// order. The managed scaling controller reads them as the demand that
// scales a provider out (CapacityDemand).

// MaxProvisioningTasks is the per-cluster cap of tasks waiting for
// capacity (spec §4.9).
const MaxProvisioningTasks = 500

// waitPrefix is the key prefix of wait records.
const waitPrefix = "wait/"

// waitRecord is a task waiting for capacity: what its placement needs.
type waitRecord struct {
	TaskID      string                     `json:"taskId"`
	Cluster     string                     `json:"cluster"`
	Provider    string                     `json:"provider"`
	CreatedAt   time.Time                  `json:"createdAt"`
	TaskDef     string                     `json:"taskDefinitionArn"`
	CPU         int64                      `json:"cpu,omitempty"`
	Memory      int64                      `json:"memory,omitempty"`
	Ports       []string                   `json:"ports,omitempty"`
	UDP         []string                   `json:"udp,omitempty"`
	Group       string                     `json:"group"`
	Strategies  []wire.PlacementStrategy   `json:"placementStrategy,omitempty"`
	Constraints []wire.PlacementConstraint `json:"placementConstraints,omitempty"`
	Reason      string                     `json:"reason,omitempty"` // last placement failure
}

func keyWaitPrefix(ns ecs.Namespace, cluster string) string {
	return waitPrefix + ns.Account + "/" + ns.Region + "/" + cluster + "/"
}

func keyWait(ns ecs.Namespace, cluster string, created time.Time, id string) string {
	return fmt.Sprintf("%s%020d-%s", keyWaitPrefix(ns, cluster), created.UnixNano(), id)
}

func (w *waitRecord) reservation() reservation {
	return reservation{cpu: w.CPU, memory: w.Memory, ports: w.Ports, udp: w.UDP}
}

// managedScaling reports whether a capacity provider (an Auto Scaling
// group provider) has managed scaling ENABLED.
func (c *Control) managedScaling(ns ecs.Namespace, provider string) bool {
	if provider == "" || isFargateProvider(provider) {
		return false
	}
	cp, _ := c.view.get(keyCP(ns, provider)).(*capacityProviderRecord)
	if cp == nil || cp.AutoScalingGroupProvider == nil || cp.AutoScalingGroupProvider.ManagedScaling == nil {
		return false
	}
	return wire.Val(cp.AutoScalingGroupProvider.ManagedScaling.Status) == wire.ManagedScalingStatusEnabled
}

// waitForCapacity turns the tasks a plan left unplaced into tasks waiting
// for capacity where their provider scales (managed scaling ENABLED). It
// returns the records of the waiting tasks it wrote and the indexes of
// the tasks still unplaced. It runs inside the placing transaction.
func (c *Control) waitForCapacity(t tx, ns ecs.Namespace, cluster string, td *taskDefRecord, opts taskOptions, res reservation,
	plan scheduler.Plan, providers []string, strategies []wire.PlacementStrategy, constraints []wire.PlacementConstraint, now time.Time) ([]*taskRecord, []int, error) {
	placed := make([]bool, len(providers))
	for _, p := range plan.Placements {
		placed[p.Task] = true
	}
	var waiting []*taskRecord
	var unplaced []int
	reason := ""
	if len(plan.Failures) > 0 {
		reason = plan.Failures[0].Reason
	}
	for i, p := range providers {
		if placed[i] {
			continue
		}
		if !c.managedScaling(ns, p) {
			unplaced = append(unplaced, i)
			continue
		}
		if len(waiting) == 0 {
			n := 0
			if err := t.List(keyWaitPrefix(ns, cluster), "", func(store.KV) error { n++; return nil }); err != nil {
				return nil, nil, err
			}
			if n+len(providers)-len(plan.Placements) > MaxProvisioningTasks {
				return nil, nil, ecs.Errorf(ecs.ClientError, "The maximum number of tasks in the PROVISIONING state (%d) has been reached for this cluster.", MaxProvisioningTasks)
			}
		}
		o := opts
		o.provider = p
		rec := c.newTask(ns, cluster, td, o, nil, now)
		rec.LastStatus = wire.Ptr(taskProvisioning)
		if err := t.put(keyTask(ns, cluster, rec.ID), rec); err != nil {
			return nil, nil, err
		}
		w := waitRecord{TaskID: rec.ID, Cluster: cluster, Provider: p, CreatedAt: now, TaskDef: wire.Val(td.TaskDefinitionArn),
			CPU: res.cpu, Memory: res.memory, Ports: res.ports, UDP: res.udp, Group: opts.group,
			Strategies: strategies, Constraints: constraints, Reason: reason}
		if err := t.put(keyWait(ns, cluster, now, rec.ID), w); err != nil {
			return nil, nil, err
		}
		waiting = append(waiting, rec)
	}
	return waiting, unplaced, nil
}

// WaiterConfig configures RunCapacityWaiter.
type WaiterConfig struct {
	// Interval is how often waiting tasks are re-offered besides after
	// every change of the view (an instance arriving, a task stopping);
	// default 1 s.
	Interval time.Duration
	// Timeout is how long a task may wait; default 30 minutes (spec
	// §4.9).
	Timeout time.Duration
}

// RunCapacityWaiter places tasks waiting for capacity until ctx ends. The
// server runs one in a goroutine it owns.
func (c *Control) RunCapacityWaiter(ctx context.Context, cfg WaiterConfig) {
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Minute
	}
	c.runLevelTriggered(ctx, cfg.Interval, 20*time.Millisecond, "placing tasks waiting for capacity failed", func(ctx context.Context) error {
		return c.placeWaiting(ctx, cfg)
	})
}

// waitItem is a wait record with its key and namespace.
type waitItem struct {
	key string
	ns  ecs.Namespace
	rec *waitRecord
}

// placeWaiting makes one pass over every waiting task.
func (c *Control) placeWaiting(ctx context.Context, cfg WaiterConfig) error {
	var items []waitItem
	c.view.scan(waitPrefix, "", false, func(key string, obj any) bool {
		w, ok := obj.(*waitRecord)
		if !ok {
			return true
		}
		parts := strings.SplitN(key, "/", 5) // wait, account, region, cluster, rest
		if len(parts) < 5 {
			return true
		}
		ns := ecs.Namespace{Partition: "aws", Account: parts[1], Region: parts[2]}
		ns.Principal = ns.RootPrincipal()
		items = append(items, waitItem{key: key, ns: ns, rec: w})
		return true
	})
	now := c.nowUTC()
	// A provider that could not take its oldest waiting task takes no
	// younger one in this pass (FIFO per provider).
	blocked := map[string]bool{}
	var errs []error
	for _, it := range items {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		pk := nsPrefix(it.ns) + it.rec.Cluster + "|" + it.rec.Provider
		if blocked[pk] && now.Sub(it.rec.CreatedAt) <= cfg.Timeout {
			continue
		}
		placed, err := c.placeWaitingTask(ctx, it, now, cfg.Timeout)
		if err != nil {
			errs = append(errs, err)
		}
		if !placed {
			blocked[pk] = true
		}
	}
	return errors.Join(errs...)
}

// placeWaitingTask places one waiting task, or stops it after the
// timeout, or forgets it when it was stopped meanwhile. It reports whether
// the task left the queue by being placed.
func (c *Control) placeWaitingTask(ctx context.Context, it waitItem, now time.Time, timeout time.Duration) (bool, error) {
	w := it.rec
	task, _ := c.view.get(keyTask(it.ns, w.Cluster, w.TaskID)).(*packedTask)
	if task == nil || wire.Val(task.DesiredStatus) == taskStopped || wire.Val(task.LastStatus) != taskProvisioning || task.ContainerInstanceArn != nil {
		return false, c.update(ctx, func(t tx) error { return t.Delete(it.key) })
	}
	if now.Sub(w.CreatedAt) > timeout {
		reason := "TaskFailedToStart: " + cmp.Or(w.Reason, "RESOURCE:MEMORY")
		return false, c.update(ctx, func(t tx) error {
			rec, err := storedTask(t, it.ns, w.Cluster, w.TaskID)
			if err != nil {
				var e *ecs.Error
				if errors.As(err, &e) {
					return t.Delete(it.key)
				}
				return err
			}
			if wire.Val(rec.LastStatus) == taskProvisioning && rec.ContainerInstanceArn == nil {
				rec.DesiredStatus = wire.Ptr(taskStopped)
				rec.StopCode = wire.Ptr(wire.TaskStopCodeTaskFailedToStart)
				rec.StoppedReason = wire.Ptr(reason)
				markStopped(rec, now)
				rec.Version = wire.Ptr(wire.Val(rec.Version) + 1)
				if err := t.put(keyTask(it.ns, w.Cluster, w.TaskID), rec); err != nil {
					return err
				}
			}
			return t.Delete(it.key)
		})
	}
	ref, ok := parseTaskDefRef(it.ns, w.TaskDef)
	if !ok {
		return false, nil
	}
	td, _ := c.view.get(keyTaskDef(it.ns, ref.family, ref.revision)).(*taskDefRecord)
	if td == nil {
		return false, nil
	}
	res := w.reservation()
	req := placementRequest(td, res, 1, w.Group, w.Strategies, w.Constraints, w.TaskID)
	pre := c.placeFromView(it.ns, w.Cluster, req, res, []string{w.Provider})
	defer pre.done()
	if pre.empty || pre.err != nil || len(pre.plan.Placements) == 0 {
		if len(pre.plan.Failures) > 0 && pre.plan.Failures[0].Reason != w.Reason {
			nw := *w
			nw.Reason = pre.plan.Failures[0].Reason
			return false, c.update(ctx, func(t tx) error {
				if _, err := t.Get(it.key); err != nil {
					if errors.Is(err, store.ErrNotFound) {
						return nil
					}
					return err
				}
				return t.put(it.key, nw)
			})
		}
		return false, nil
	}
	id := lastSegment(pre.plan.Placements[0].ARN)
	rev, err := c.store.Update(ctx, func(stx store.Tx) error {
		t := c.tx(stx)
		rec, err := storedTask(t, it.ns, w.Cluster, w.TaskID)
		if err != nil {
			return err
		}
		if wire.Val(rec.LastStatus) != taskProvisioning || rec.ContainerInstanceArn != nil || wire.Val(rec.DesiredStatus) == taskStopped {
			return t.Delete(it.key)
		}
		cd := &candidate{rec: new(instanceRecord)}
		found, err := t.get(keyInstance(it.ns, w.Cluster, id), cd.rec)
		if err != nil {
			return err
		}
		if !found || !takes(cd.rec, res) {
			return errStalePlacement
		}
		cd.place(res, w.Group)
		rec.ContainerInstanceArn = cd.rec.ContainerInstanceArn
		for _, a := range cd.rec.Attributes {
			if wire.Val(a.Name) == "ecs.availability-zone" {
				rec.AvailabilityZone = a.Value
			}
		}
		rec.ReservedCPU, rec.ReservedMemory, rec.ReservedPorts, rec.ReservedPortsUDP = res.cpu, res.memory, res.ports, res.udp
		if wire.Val(td.NetworkMode) != wire.NetworkModeAwsvpc {
			rec.LastStatus = wire.Ptr(taskPending)
		}
		rec.Version = wire.Ptr(wire.Val(rec.Version) + 1)
		if err := t.put(keyTask(it.ns, w.Cluster, w.TaskID), rec); err != nil {
			return err
		}
		if err := saveCandidates(t, it.ns, []*candidate{cd}); err != nil {
			return err
		}
		return t.Delete(it.key)
	})
	if errors.Is(err, errStalePlacement) {
		return false, nil // the next pass places it again
	}
	if err != nil {
		return false, err
	}
	pre.committed(rev)
	return true, c.view.waitRev(ctx, rev)
}

// CapacityDemand returns the reservations of the tasks waiting for a
// capacity provider's capacity in a namespace, oldest first: the demand
// managed scaling estimates new instances from (spec §4.3).
func (c *Control) CapacityDemand(ns ecs.Namespace, provider string) []WaitingTask {
	var out []WaitingTask
	c.view.scan(waitPrefix+ns.Account+"/"+ns.Region+"/", "", false, func(_ string, obj any) bool {
		if w, ok := obj.(*waitRecord); ok && w.Provider == provider {
			out = append(out, WaitingTask{Cluster: w.Cluster, TaskID: w.TaskID, CPU: w.CPU, Memory: w.Memory, Ports: atoiAll(slices.Concat(w.Ports, w.UDP)), Since: w.CreatedAt})
		}
		return true
	})
	return out
}

// WaitingTask is a task waiting for capacity, as managed scaling sees it.
type WaitingTask struct {
	Cluster, TaskID string
	CPU, Memory     int64
	Ports           []int
	Since           time.Time
}

// allScaling reports whether every task's provider scales (managed
// scaling ENABLED): then an empty cluster is no error, the tasks wait.
func (c *Control) allScaling(ns ecs.Namespace, providers []string) bool {
	for _, p := range providers {
		if !c.managedScaling(ns, p) {
			return false
		}
	}
	return len(providers) > 0
}
