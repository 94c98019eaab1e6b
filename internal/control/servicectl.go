package control

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/scheduler"
	"github.com/berth-dev/berth/internal/service"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/wire"
)

// The service controller is level-triggered (STYLE §11): on every view
// change (debounced) and on a resync ticker it reads each ACTIVE or
// DRAINING service with its tasks from the view, asks the decision core
// (package service) what to do, and applies the decision in one store
// transaction per service:
//
//	view ──▶ snapshot(service, deployments, tasks, instances) ──▶ service.Decide
//	                                                                   │
//	store.Update ◀── launch (placement), stop, deployments, counts, events, state
//
// A decision computed from a stale snapshot is dropped: the transaction
// checks the service record's generation, and the next pass (triggered by
// whatever changed it) decides again.

// ServiceControllerConfig configures RunServiceController.
type ServiceControllerConfig struct {
	// Resync is the period of the full pass that runs without any change
	// (timers: back-off, grace periods); default 1 s.
	Resync time.Duration
	// Debounce is the minimum time between passes; default 20 ms.
	Debounce time.Duration
	// HealthyAfter is how long a task without health checks must have
	// been RUNNING to count as healthy (spec §7.4 says 40 s; the default
	// 0 counts it at once, which keeps rollouts fast).
	HealthyAfter time.Duration
}

// RunServiceController runs the service scheduler until ctx ends. The
// server runs one (on the leader) in a goroutine it owns.
func (c *Control) RunServiceController(ctx context.Context, cfg ServiceControllerConfig) {
	if cfg.Resync <= 0 {
		cfg.Resync = time.Second
	}
	if cfg.Debounce <= 0 {
		cfg.Debounce = 20 * time.Millisecond
	}
	c.runLevelTriggered(ctx, cfg.Resync, cfg.Debounce, "service controller pass failed", func(ctx context.Context) error {
		return c.reconcileServices(ctx, cfg)
	})
}

// runLevelTriggered runs pass at once, then again whenever the view has
// changed (at most once per debounce) and at least every resync, until ctx
// ends; a failed pass is logged with msg and the next one tries again.
// The controllers (services, tasks waiting for capacity) run on it.
func (c *Control) runLevelTriggered(ctx context.Context, resync, debounce time.Duration, msg string, pass func(context.Context) error) {
	changed := make(chan struct{}, 1)
	watchCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	// The watcher turns view changes into one pending signal; it ends with
	// watchCtx, before this function returns.
	go func() {
		defer close(done)
		rev := c.viewRev()
		for {
			r, err := c.WaitChange(watchCtx, rev)
			if err != nil {
				return
			}
			rev = r
			select {
			case changed <- struct{}{}:
			default:
			}
		}
	}()
	defer func() { stop(); <-done }()
	ticker := time.NewTicker(resync)
	defer ticker.Stop()
	for {
		if err := pass(ctx); err != nil && ctx.Err() == nil {
			c.log.Warn(msg, "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(debounce):
		}
		select {
		case <-ctx.Done():
			return
		case <-changed:
		case <-ticker.C:
		}
	}
}

func (c *Control) viewRev() store.Rev {
	c.view.mu.RLock()
	defer c.view.mu.RUnlock()
	return c.view.rev
}

// svcWork is one service of a pass with what the view holds for it.
type svcWork struct {
	ns    ecs.Namespace
	rec   *serviceRecord
	tasks []*taskRecord
}

// reconcileServices runs one pass over every service that is not
// INACTIVE, and purges INACTIVE ones past ServiceRetention.
func (c *Control) reconcileServices(ctx context.Context, cfg ServiceControllerConfig) error {
	now := c.nowUTC()
	var works []*svcWork
	var purge []string
	// Services and their tasks come from the task index, not a scan of
	// the view: a pass costs what the services hold, not what the
	// cluster holds.
	keys, recs := c.view.index.serviceRecords()
	for i, key := range keys {
		r := recs[i]
		if wire.Val(r.Status) == serviceInactive {
			if now.Sub(r.InactiveAt) > ServiceRetention {
				purge = append(purge, key)
			}
			continue
		}
		a, ok := ecs.ParseARN(wire.Val(r.ServiceArn))
		if !ok {
			continue
		}
		ns := ecs.Namespace{Partition: a.Partition, Account: a.Account, Region: a.Region}
		ns.Principal = ns.RootPrincipal()
		works = append(works, &svcWork{ns: ns, rec: r, tasks: c.view.index.groupTasks(nsOf(key)+r.Cluster, "service:"+r.Name)})
	}
	var errs []error
	for _, w := range works {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err := c.reconcileService(ctx, cfg, w, now); err != nil {
			errs = append(errs, fmt.Errorf("service %s: %w", wire.Val(w.rec.ServiceArn), err))
		}
	}
	for _, key := range purge {
		err := c.update(ctx, func(t tx) error {
			rec := new(serviceRecord)
			found, err := t.get(key, rec)
			if err != nil || !found || wire.Val(rec.Status) != serviceInactive || now.Sub(rec.InactiveAt) <= ServiceRetention {
				return err
			}
			return t.Delete(key)
		})
		if err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return errs[0]
	}
	return nil
}

// taskSnapshot converts a task record; accounted reports a STOPPED task
// an earlier decision already counted.
func taskSnapshot(r *taskRecord) service.Task {
	t := service.Task{
		ID: r.ID, DeploymentID: wire.Val(r.StartedBy), AvailabilityZone: wire.Val(r.AvailabilityZone),
		LastStatus: wire.Val(r.LastStatus), DesiredStatus: wire.Val(r.DesiredStatus),
		HealthStatus: string(wire.Val(r.HealthStatus)), StopCode: string(wire.Val(r.StopCode)),
		CPU: r.ReservedCPU, Memory: r.ReservedMemory,
	}
	if r.ContainerInstanceArn != nil {
		t.InstanceID = lastSegment(*r.ContainerInstanceArn)
	}
	if r.StartedAt != nil {
		t.StartedAt = r.StartedAt.Time
	}
	if r.StoppedAt != nil {
		t.StoppedAt = r.StoppedAt.Time
	}
	return t
}

func (r *serviceRecord) accounted(t *taskRecord) bool {
	if wire.Val(t.LastStatus) != taskStopped {
		return false
	}
	if t.StoppedAt != nil && t.StoppedAt.Before(r.AccountedBefore) {
		return true
	}
	return slices.Contains(r.AccountedIDs, t.ID)
}

// accountMargin bounds how long after its stoppedAt a STOPPED task may
// first appear in the view (commit latency).
const accountMargin = 10 * time.Second

// serviceSpec builds the decision core's Spec of a service.
func (c *Control) serviceSpec(ns ecs.Namespace, rec *serviceRecord, cfg ServiceControllerConfig) service.Spec {
	dc := rec.DeploymentConfiguration
	spec := service.Spec{
		SchedulingStrategy:     string(wire.Val(rec.SchedulingStrategy)),
		DesiredCount:           int(wire.Val(rec.DesiredCount)),
		MinimumHealthyPercent:  100,
		MaximumPercent:         200,
		HealthCheckGracePeriod: time.Duration(wire.Val(rec.HealthCheckGracePeriodSeconds)) * time.Second,
		HealthyAfter:           cfg.HealthyAfter,
	}
	if dc != nil {
		spec.MinimumHealthyPercent, spec.MaximumPercent = int(wire.Val(dc.MinimumHealthyPercent)), int(wire.Val(dc.MaximumPercent))
		if cb := dc.DeploymentCircuitBreaker; cb != nil {
			spec.CircuitBreaker = service.CircuitBreaker{Enable: wire.Val(cb.Enable), Rollback: wire.Val(cb.Rollback)}
		}
	}
	for _, s := range rec.PlacementStrategy {
		spec.PlacementStrategies = append(spec.PlacementStrategies, scheduler.Strategy{Type: string(wire.Val(s.Type)), Field: wire.Val(s.Field)})
	}
	if td, err := c.taskDefOf(ns, wire.Val(rec.TaskDefinition)); err == nil {
		for _, cd := range td.ContainerDefinitions {
			if wire.Val(cd.Essential) && cd.HealthCheck != nil {
				spec.HasHealthChecks = true
			}
		}
	}
	return spec
}

// instanceSnapshots returns the cluster's instances as the decision core
// sees them; for a DAEMON service Eligible says whether the service's task
// fits there (or already runs there).
func (c *Control) instanceSnapshots(ns ecs.Namespace, rec *serviceRecord, tasks []*taskRecord) []service.Instance {
	group := "service:" + rec.Name
	var out []service.Instance
	var cands []*candidate
	hosting := map[string]bool{}
	for _, t := range tasks {
		if t.ContainerInstanceArn != nil && wire.Val(t.LastStatus) != taskStopped {
			hosting[lastSegment(*t.ContainerInstanceArn)] = true
		}
	}
	c.view.scan(keyInstancePrefix(ns, rec.Cluster), "", false, func(_ string, obj any) bool {
		r, ok := obj.(*instanceRecord)
		if !ok {
			return true
		}
		if !rec.isDaemon() && !hosting[r.ID] {
			return true
		}
		in := service.Instance{ID: r.ID, Status: wire.Val(r.Status)}
		for _, a := range r.Attributes {
			if wire.Val(a.Name) == scheduler.AttributeAZ {
				in.AvailabilityZone = wire.Val(a.Value)
			}
		}
		sc := schedCandidate(&candidate{rec: r})
		in.RemainingCPU, in.RemainingMemory = sc.RemainingCPU, sc.RemainingMemory
		for g, n := range r.Groups {
			if g != group {
				in.OtherTasks += n
			}
		}
		out = append(out, in)
		if rec.isDaemon() {
			cands = append(cands, &candidate{rec: r})
		}
		return true
	})
	if !rec.isDaemon() {
		return out
	}
	td, err := c.taskDefOf(ns, wire.Val(rec.TaskDefinition))
	if err != nil {
		return out
	}
	res := taskReservation(&td.TaskDefinition, nil)
	for i := range out {
		if hosting[out[i].ID] {
			out[i].Eligible = out[i].Status == instanceActive
			continue
		}
		for _, cd := range cands {
			if cd.rec.ID != out[i].ID {
				continue
			}
			custom, _ := c.view.get(keyAttrs(ns, rec.Cluster, cd.rec.ID)).(*attributesRecord)
			if custom != nil {
				cd.custom = custom.Attributes
			}
			req := placementRequest(td, res, 1, group, nil, rec.PlacementConstraints, rec.Name)
			plan, _, err := schedule(req, []*candidate{cd}, []string{wire.Val(cd.rec.ContainerInstanceArn)})
			out[i].Eligible = err == nil && len(plan.Placements) == 1
		}
	}
	return out
}

// reconcileService decides and applies one service (or, for an EXTERNAL
// service, each of its task sets).
func (c *Control) reconcileService(ctx context.Context, cfg ServiceControllerConfig, w *svcWork, now time.Time) error {
	if w.rec.isExternal() {
		return c.reconcileTaskSets(ctx, cfg, w, now)
	}
	rec := w.rec
	snap := service.Snapshot{
		Now: now, ServiceName: rec.Name, Spec: c.serviceSpec(w.ns, rec, cfg),
		Unplaced: rec.Unplaced, State: rec.SchedState, NewDeploymentID: newDeploymentID(),
	}
	if wire.Val(rec.Status) == serviceDraining {
		snap.Spec.DesiredCount = 0
		snap.Spec.SchedulingStrategy = service.StrategyReplica
	}
	for _, d := range rec.Deps {
		snap.Deployments = append(snap.Deployments, deploymentSnapshot(w.ns, rec, d))
	}
	for _, t := range w.tasks {
		if !rec.accounted(t) {
			snap.Tasks = append(snap.Tasks, taskSnapshot(t))
		}
	}
	snap.Instances = c.instanceSnapshots(w.ns, rec, w.tasks)
	dec := service.Decide(snap)
	return c.applyDecision(ctx, w, snap, dec, now)
}

func deploymentSnapshot(ns ecs.Namespace, rec *serviceRecord, d deploymentRecord) service.Deployment {
	sd := service.Deployment{
		ID: wire.Val(d.Id), Status: wire.Val(d.Status), RolloutState: string(wire.Val(d.RolloutState)),
		RolloutStateReason: wire.Val(d.RolloutStateReason), TaskDefinition: wire.Val(d.TaskDefinition),
		Revision:     serviceRevisionARN(ns, rec.Cluster, rec.Name, wire.Val(d.Id)),
		DesiredCount: int(wire.Val(d.DesiredCount)), RunningCount: int(wire.Val(d.RunningCount)),
		PendingCount: int(wire.Val(d.PendingCount)), FailedTasks: int(wire.Val(d.FailedTasks)), HealthStage: d.HealthStage,
	}
	if d.CreatedAt != nil {
		sd.CreatedAt = d.CreatedAt.Time
	}
	if d.UpdatedAt != nil {
		sd.UpdatedAt = d.UpdatedAt.Time
	}
	return sd
}

// applyDecision writes a decision in one transaction: the decision core's
// deployments, counts, events and state, the task stops and the launches.
func (c *Control) applyDecision(ctx context.Context, w *svcWork, snap service.Snapshot, dec service.Decision, now time.Time) error {
	rec := w.rec
	noop := len(dec.Launch) == 0 && len(dec.Stop) == 0 && len(dec.Events) == 0 && len(dec.Accounted) == 0 &&
		len(rec.Unplaced) == 0 && deploymentsSame(snap.Deployments, dec.Deployments) &&
		int(wire.Val(rec.RunningCount)) == dec.RunningCount && int(wire.Val(rec.PendingCount)) == dec.PendingCount &&
		(!rec.isDaemon() || int(wire.Val(rec.DesiredCount)) == dec.DesiredCount) &&
		stateSame(rec.SchedState, dec.State) && !(wire.Val(rec.Status) == serviceDraining && len(snap.Tasks) == 0 && len(dec.Launch) == 0)
	if noop {
		return nil
	}
	gen := rec.Gen
	ns := w.ns
	return c.update(ctx, func(t tx) error {
		cur := new(serviceRecord)
		found, err := t.get(keyService(ns, rec.Cluster, rec.Name), cur)
		if err != nil || !found || cur.Gen != gen {
			return err // changed meanwhile: the next pass decides again
		}
		cl := new(clusterRecord)
		if found, err := t.get(keyCluster(ns, rec.Cluster), cl); err != nil || !found {
			return err
		}
		for _, st := range dec.Stop {
			if err := stopServiceTask(t, ns, rec.Cluster, st.TaskID, st.Reason, now); err != nil {
				return err
			}
		}
		cur.applyDeployments(ns, dec, now)
		cur.SchedState = dec.State
		cur.RunningCount, cur.PendingCount = wire.Ptr(int32(dec.RunningCount)), wire.Ptr(int32(dec.PendingCount))
		if cur.isDaemon() && wire.Val(cur.Status) == serviceActive {
			cur.DesiredCount = wire.Ptr(int32(dec.DesiredCount))
		}
		for _, ev := range dec.Events {
			cur.addEvent(now, ev)
		}
		cur.account(w.tasks, dec.Accounted, snap.Now)
		cur.Unplaced = nil
		pl := &launcher{c: c, t: t, ns: ns, cl: cl, rec: cur, now: now, tasks: w.tasks}
		for _, l := range dec.Launch {
			lc, ok := cur.launchOf(l.DeploymentID)
			if err := pl.launch(l, lc, ok); err != nil {
				return err
			}
		}
		if err := pl.finish(); err != nil {
			return err
		}
		// The tasks just started are PENDING (or PROVISIONING): count
		// them now rather than on the next pass.
		for i := range cur.Deps {
			if n := pl.perUnit[wire.Val(cur.Deps[i].Id)]; n > 0 {
				cur.Deps[i].PendingCount = wire.Ptr(wire.Val(cur.Deps[i].PendingCount) + int32(n))
				cur.PendingCount = wire.Ptr(wire.Val(cur.PendingCount) + int32(n))
			}
		}
		if wire.Val(cur.Status) == serviceDraining && len(snap.Tasks) == 0 && len(dec.Launch) == 0 && len(dec.Stop) == 0 {
			cur.markInactive(now)
		}
		return putService(t, ns, cur)
	})
}

// account records which STOPPED tasks a decision counted, and advances the
// watermark below which every STOPPED task counts as accounted.
func (r *serviceRecord) account(tasks []*taskRecord, ids []string, snapNow time.Time) {
	r.AccountedIDs = append(r.AccountedIDs, ids...)
	r.AccountedBefore = snapNow.Add(-accountMargin)
	stoppedAt := map[string]time.Time{}
	for _, t := range tasks {
		if t.StoppedAt != nil {
			stoppedAt[t.ID] = t.StoppedAt.Time
		}
	}
	r.AccountedIDs = slices.DeleteFunc(r.AccountedIDs, func(id string) bool {
		at, ok := stoppedAt[id]
		return !ok || at.Before(r.AccountedBefore)
	})
	slices.Sort(r.AccountedIDs)
	r.AccountedIDs = slices.Compact(r.AccountedIDs)
}

func deploymentsSame(a, b []service.Deployment) bool {
	if len(a) != len(b) {
		return false
	}
	byID := map[string]service.Deployment{}
	for _, d := range a {
		byID[d.ID] = d
	}
	for _, d := range b {
		o, ok := byID[d.ID]
		if !ok {
			return false
		}
		o.UpdatedAt, d.UpdatedAt = time.Time{}, time.Time{}
		o.CreatedAt, d.CreatedAt = time.Time{}, time.Time{}
		if o != d {
			return false
		}
	}
	return true
}

func stateSame(a, b service.State) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// putService writes a service record with its generation advanced (the
// controller's staleness check).
func putService(t tx, ns ecs.Namespace, rec *serviceRecord) error {
	rec.Gen++
	return t.put(keyService(ns, rec.Cluster, rec.Name), rec)
}

// applyDeployments folds the decision's deployments[] into Deps, creating
// the rollback deployment the decision may have started, and moves the
// service deployments along (SUCCESSFUL, STOPPED, ROLLBACK_*).
func (r *serviceRecord) applyDeployments(ns ecs.Namespace, dec service.Decision, now time.Time) {
	old := map[string]deploymentRecord{}
	for _, d := range r.Deps {
		old[wire.Val(d.Id)] = d
	}
	// A deployment the decision created is a rollback of the FAILED one.
	for _, d := range dec.Deployments {
		if _, ok := old[d.ID]; ok {
			continue
		}
		good := r.revision(lastSegment(d.Revision))
		var failed *deploymentRecord
		for i := range r.Deps {
			if wire.Val(r.Deps[i].Status) == deploymentPrimary {
				failed = &r.Deps[i]
			}
		}
		if good == nil || failed == nil {
			continue
		}
		failed.RolloutState = wire.Ptr(wire.DeploymentRolloutStateFailed)
		nd := r.rollbackWithID(ns, failed, good, d.ID, "ECS deployment circuit breaker: tasks failed to start.", now)
		old[d.ID] = *nd
	}
	for _, d := range r.Deps {
		old[wire.Val(d.Id)] = d
	}
	var deps []deploymentRecord
	for _, d := range dec.Deployments {
		dr, ok := old[d.ID]
		if !ok {
			continue
		}
		prevState := wire.Val(dr.RolloutState)
		dr.Status = wire.Ptr(d.Status)
		dr.RolloutState = wire.Ptr(wire.DeploymentRolloutState(d.RolloutState))
		if d.RolloutStateReason != "" {
			dr.RolloutStateReason = wire.Ptr(d.RolloutStateReason)
		}
		dr.DesiredCount = wire.Ptr(int32(d.DesiredCount))
		dr.RunningCount, dr.PendingCount = wire.Ptr(int32(d.RunningCount)), wire.Ptr(int32(d.PendingCount))
		dr.FailedTasks = wire.Ptr(int32(d.FailedTasks))
		dr.HealthStage = d.HealthStage
		if !d.UpdatedAt.IsZero() {
			dr.UpdatedAt = wire.NewTime(d.UpdatedAt)
		}
		id := d.ID
		if h := r.history(id); h != nil && h.DeploymentCircuitBreaker != nil {
			h.DeploymentCircuitBreaker.FailureCount = wire.Ptr(int32(d.FailedTasks))
		}
		if string(prevState) != d.RolloutState {
			switch d.RolloutState {
			case service.RolloutCompleted:
				dr.CompletedAt = now
				r.finishHistory(id, wire.ServiceDeploymentStatusSuccessful, "", now)
				if dr.RollbackFrom != "" {
					r.finishHistory(dr.RollbackFrom, wire.ServiceDeploymentStatusRollbackSuccessful, "", now)
				}
			case service.RolloutFailed:
				r.finishHistory(id, wire.ServiceDeploymentStatusStopped, d.RolloutStateReason, now)
			}
		}
		deps = append(deps, dr)
	}
	r.Deps = deps
	if p := r.primary(); p != nil && wire.Val(p.TaskDefinition) != wire.Val(r.TaskDefinition) {
		if rev := r.revision(wire.Val(p.Id)); rev != nil {
			r.applyLaunch(revisionLaunch(rev))
		}
	}
	r.trimHistory()
}

// rollbackWithID is rollback with the id the decision chose.
func (r *serviceRecord) rollbackWithID(ns ecs.Namespace, failed *deploymentRecord, good *wire.ServiceRevision, id, reason string, now time.Time) *deploymentRecord {
	nd := r.rollback(ns, failed, good, reason, now)
	oldID := wire.Val(nd.Id)
	nd.Id = wire.Ptr(id)
	nd.RolloutStateReason = wire.Ptr("ECS deployment " + id + " in progress.")
	for i := range r.Revisions {
		if lastSegment(wire.Val(r.Revisions[i].ServiceRevisionArn)) == idDigits(oldID) {
			r.Revisions[i].ServiceRevisionArn = wire.Ptr(serviceRevisionARN(ns, r.Cluster, r.Name, id))
		}
	}
	return nd
}

// launchOf returns the launch config of a deployment or task set id.
func (r *serviceRecord) launchOf(id string) (launchConfig, bool) {
	for _, ts := range r.TaskSets {
		if wire.Val(ts.Id) == id {
			return taskSetLaunch(ts), true
		}
	}
	if rev := r.revision(id); rev != nil {
		return revisionLaunch(rev), true
	}
	return launchConfig{}, false
}

// stopServiceTask asks a service task to stop as StopTask does, with stop
// code ServiceSchedulerInitiated; a task that never reached an agent (or is
// still PROVISIONING) stops at once.
func stopServiceTask(t tx, ns ecs.Namespace, cluster, id, reason string, now time.Time) error {
	rec := new(taskRecord)
	found, err := t.get(keyTask(ns, cluster, id), rec)
	if err != nil || !found || wire.Val(rec.DesiredStatus) == taskStopped {
		return err
	}
	rec.DesiredStatus = wire.Ptr(taskStopped)
	rec.StopCode = wire.Ptr(wire.TaskStopCodeServiceSchedulerInitiated)
	rec.StoppedReason = wire.Ptr(reason)
	orphan := rec.ContainerInstanceArn == nil && !isFargate(rec)
	if rec.ContainerInstanceArn != nil {
		inst := new(instanceRecord)
		found, err := t.get(keyInstance(ns, cluster, lastSegment(wire.Val(rec.ContainerInstanceArn))), inst)
		if err != nil {
			return err
		}
		orphan = !found || wire.Val(inst.Status) == instanceInactive
	}
	if orphan || wire.Val(rec.LastStatus) == taskProvisioning {
		markStopped(rec, now)
		if err := releaseTask(t, ns, rec); err != nil {
			return err
		}
	}
	*rec.Version++
	return t.put(keyTask(ns, cluster, id), rec)
}

// launcher places a decision's launches inside one transaction.
type launcher struct {
	c     *Control
	t     tx
	ns    ecs.Namespace
	cl    *clusterRecord
	rec   *serviceRecord
	now   time.Time
	tasks []*taskRecord

	cands     []*candidate
	loaded    bool
	providers map[string]int // live tasks of the service per capacity provider
	started   []string
	perUnit   map[string]int // tasks started per deployment or task set id
	events    []string
}

// launch starts l.Count tasks (or one on l.InstanceID) of a deployment.
func (pl *launcher) launch(l service.Launch, lc launchConfig, ok bool) error {
	rec := pl.rec
	if !ok {
		return nil
	}
	td, err := pl.c.taskDefOf(pl.ns, lc.taskDefinition)
	if err != nil {
		rec.Unplaced = append(rec.Unplaced, l)
		return nil
	}
	if pl.providers == nil {
		pl.providers = map[string]int{}
		for _, t := range pl.tasks {
			if wire.Val(t.DesiredStatus) != taskStopped && t.CapacityProviderName != nil {
				pl.providers[*t.CapacityProviderName]++
			}
		}
	}
	providers := make([]string, l.Count)
	if len(lc.strategy) > 0 {
		items := make([]scheduler.StrategyItem, len(lc.strategy))
		for i, it := range lc.strategy {
			items[i] = scheduler.StrategyItem{Provider: wire.Val(it.CapacityProvider), Base: int(wire.Val(it.Base)), Weight: int(wire.Val(it.Weight))}
		}
		dist, err := scheduler.Distribute(items, pl.providers, l.Count)
		if err != nil {
			rec.Unplaced = append(rec.Unplaced, l)
			return nil
		}
		copy(providers, dist)
	}
	group := "service:" + rec.Name
	opts := taskOptions{group: group, startedBy: l.DeploymentID, propagate: wire.Val(rec.PropagateTags),
		managedTags: wire.Val(rec.EnableECSManagedTags), execCommand: wire.Val(rec.EnableExecuteCommand)}
	if opts.propagate == wire.PropagateTagsService {
		opts.tags = rec.Tags
	}
	put := func(task *taskRecord) error {
		if opts.managedTags {
			task.Tags = append(task.Tags, wire.Tag{Key: wire.Ptr("aws:ecs:serviceName"), Value: wire.Ptr(rec.Name)})
		}
		if err := pl.t.put(keyTask(pl.ns, rec.Cluster, task.ID), task); err != nil {
			return err
		}
		if task.CapacityProviderName != nil {
			pl.providers[*task.CapacityProviderName]++
		}
		pl.started = append(pl.started, task.ID)
		if pl.perUnit == nil {
			pl.perUnit = map[string]int{}
		}
		pl.perUnit[l.DeploymentID]++
		return nil
	}
	launchType := func(provider string) wire.LaunchType {
		if provider == "" {
			return lc.launchType
		}
		return wire.LaunchType(launchTypeOf("", provider))
	}
	var ec2 []int // indexes of the tasks that need an instance
	for i := range l.Count {
		lt := launchType(providers[i])
		if lt != wire.LaunchTypeFargate {
			ec2 = append(ec2, i)
			continue
		}
		fg, err := checkFargateRequest(&wire.RunTaskRequest{NetworkConfiguration: lc.network, PlatformVersion: wire.Ptr(lc.platformVersion)}, td)
		if err != nil {
			rec.Unplaced = append(rec.Unplaced, service.Launch{DeploymentID: l.DeploymentID, TaskDefinition: l.TaskDefinition, Count: 1})
			continue
		}
		opts.launchType, opts.provider = lt, providers[i]
		task := pl.c.newTask(pl.ns, rec.Cluster, td, opts, nil, pl.now)
		setFargate(task, pl.ns, td, fg)
		if err := pl.t.put(keyFleet(pl.ns, rec.Cluster, task.ID), fleetRecord{}); err != nil {
			return err
		}
		if err := put(task); err != nil {
			return err
		}
	}
	if len(ec2) == 0 {
		return nil
	}
	if !pl.loaded {
		if pl.cands, err = pl.c.loadCandidates(pl.t, pl.ns, rec.Cluster); err != nil {
			return err
		}
		pl.loaded = true
	}
	unplaced := func(n int, msg string) {
		rec.Unplaced = append(rec.Unplaced, service.Launch{DeploymentID: l.DeploymentID, TaskDefinition: l.TaskDefinition, Count: n, InstanceID: l.InstanceID})
		if !slices.Contains(pl.events, msg) {
			pl.events = append(pl.events, msg)
		}
	}
	ec2Providers := make([]string, len(ec2))
	for j, i := range ec2 {
		ec2Providers[j] = providers[i]
	}
	if len(pl.cands) == 0 && !pl.c.allScaling(pl.ns, ec2Providers) {
		unplaced(len(ec2), fmt.Sprintf("(service %s) was unable to place a task because no container instance met all of its requirements. Reason: No Container Instances were found in your cluster.", rec.Name))
		return nil
	}
	res := taskReservation(&td.TaskDefinition, nil)
	var targets []string
	if l.InstanceID != "" {
		targets = []string{instanceARN(pl.ns, rec.Cluster, l.InstanceID)}
	}
	req := placementRequest(td, res, len(ec2), group, rec.PlacementStrategy, rec.PlacementConstraints, l.DeploymentID+"/"+pl.now.String())
	var plan scheduler.Plan
	var byARN map[string]*candidate
	if len(pl.cands) > 0 {
		if targets == nil {
			// Each task only on capacity of its own provider (an Auto
			// Scaling group's instances), as RunTask places.
			scs := make([]scheduler.Candidate, len(pl.cands))
			byARN = make(map[string]*candidate, len(pl.cands))
			for i, cd := range pl.cands {
				scs[i] = schedCandidate(cd)
				byARN[scs[i].ARN] = cd
			}
			plan, err = placeByProvider(pl.ns, req, scs, ec2Providers, func(p string) (map[string]bool, bool) { return pl.c.providerMembers(pl.ns, p) })
			if err != nil {
				err = ecs.Errorf(ecs.InvalidParameter, "%s", err.Error())
			}
		} else {
			plan, byARN, err = schedule(req, pl.cands, targets)
		}
		if err != nil {
			unplaced(len(ec2), fmt.Sprintf("(service %s) was unable to place a task. Reason: %s", rec.Name, ecs.CodeOf(err)))
			return nil
		}
	}
	for _, p := range plan.Placements {
		cd := byARN[p.ARN]
		cd.place(res, group)
		i := ec2[p.Task]
		opts.launchType, opts.provider = launchType(providers[i]), providers[i]
		if err := put(pl.c.newTask(pl.ns, rec.Cluster, td, opts, cd.rec, pl.now)); err != nil {
			return err
		}
	}
	if len(ec2) > len(plan.Placements) {
		placed := make([]bool, len(ec2))
		for _, p := range plan.Placements {
			placed[p.Task] = true
		}
		var left []string
		for j, p := range ec2Providers {
			if !placed[j] {
				left = append(left, p)
			}
		}
		n, event, err := pl.waitService(td, opts, res, plan, left, put)
		if err != nil {
			return err
		}
		if n > 0 {
			unplaced(n, cmp.Or(event, placementEvent(rec.Name, plan)))
		}
	}
	return nil
}

// finish writes back the instances placement charged and records the
// launch events.
func (pl *launcher) finish() error {
	// One event per 10 tasks keeps messages short on large launches.
	for ids := range slices.Chunk(pl.started, 10) {
		pl.rec.addEvent(pl.now, service.EventStarted(pl.rec.Name, ids))
	}
	for _, msg := range pl.events {
		if len(pl.rec.Events) == 0 || wire.Val(pl.rec.Events[0].Message) != msg {
			pl.rec.addEvent(pl.now, msg)
		}
	}
	return saveCandidates(pl.t, pl.ns, pl.cands)
}

// placementEvent is the §7.11 event for tasks no instance could take.
func placementEvent(service string, plan scheduler.Plan) string {
	const head = "(service %s) was unable to place a task because no container instance met all of its requirements."
	if plan.Closest == nil {
		return fmt.Sprintf(head+" Reason: No Container Instances were found in your cluster.", service)
	}
	id := lastSegment(plan.Closest.ARN)
	var why string
	switch plan.Closest.Reason {
	case scheduler.ReasonCPU:
		why = "has insufficient CPU units available"
	case scheduler.ReasonMemory:
		why = "has insufficient memory available"
	case scheduler.ReasonPorts, scheduler.ReasonPortsUDP:
		why = "is already using a port required by your task"
	case scheduler.ReasonAgent:
		why = `encountered error "AGENT"`
	case scheduler.ReasonAttribute:
		why = "is missing an attribute required by your task"
	default:
		why = "did not satisfy the requirement " + strings.TrimSpace(plan.Closest.Reason)
	}
	return fmt.Sprintf(head+" The closest matching (container-instance %s) %s. For more information, see the Troubleshooting section.", service, id, why)
}
