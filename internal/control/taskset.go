package control

import (
	"context"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/service"
	"github.com/berth-dev/berth/internal/wire"
)

// Task sets (spec §8) belong to services with the EXTERNAL deployment
// controller and are stored inside their service record (TaskSets), each
// with a service revision of its launch members. Lifecycle:
//
//	CreateTaskSet ─▶ ACTIVE ──UpdateServicePrimaryTaskSet──▶ PRIMARY
//	    any ──DeleteTaskSet──▶ DRAINING (scale 0) ──(no live task)──▶ removed
//
// The service controller keeps each set's runningCount and pendingCount,
// launches or stops tasks toward computedDesiredCount, and sets
// stabilityStatus.
const (
	taskSetPrimary  = "PRIMARY"
	taskSetActive   = "ACTIVE"
	taskSetDraining = "DRAINING"

	// MaxTaskSets is the number of task sets a service may have (§8.2).
	MaxTaskSets = 5
)

func taskSetARN(ns ecs.Namespace, cluster, service, id string) string {
	return ns.ARN("task-set/" + cluster + "/" + service + "/" + id)
}

// computedDesired is ceil(desired × scale / 100), guarded against
// floating-point noise (spec §8.3).
func computedDesired(desired int32, scale *wire.Scale) int32 {
	v := 100.0
	if scale != nil && scale.Value != nil {
		v = *scale.Value
	}
	n := math.Ceil(float64(desired)*v/100 - 1e-9)
	if n < 0 {
		return 0
	}
	return int32(n)
}

// recomputeTaskSets follows a desired count change on every task set that
// is not DRAINING.
func (r *serviceRecord) recomputeTaskSets(now time.Time) {
	for i := range r.TaskSets {
		ts := &r.TaskSets[i]
		if wire.Val(ts.Status) == taskSetDraining {
			continue
		}
		if n := computedDesired(wire.Val(r.DesiredCount), ts.Scale); n != wire.Val(ts.ComputedDesiredCount) {
			ts.ComputedDesiredCount = wire.Ptr(n)
			ts.UpdatedAt = wire.NewTime(now)
		}
	}
}

// taskSet finds a task set by id or ARN.
func (r *serviceRecord) taskSet(ns ecs.Namespace, ref string) *wire.TaskSet {
	id := ref
	if strings.HasPrefix(ref, "arn:") {
		want := taskSetARN(ns, r.Cluster, r.Name, "")
		if !strings.HasPrefix(ref, want) {
			return nil
		}
		id = strings.TrimPrefix(ref, want)
	}
	for i := range r.TaskSets {
		if wire.Val(r.TaskSets[i].Id) == id {
			return &r.TaskSets[i]
		}
	}
	return nil
}

func errTaskSetNotFound() error {
	return ecs.Errorf(ecs.TaskSetNotFound, "The specified task set does not exist.")
}

// externalService reads a service for a task set call: the service must
// exist, be ACTIVE and use the EXTERNAL deployment controller.
func externalService(t tx, ns ecs.Namespace, clusterRef, ref *string) (*clusterRecord, *serviceRecord, error) {
	cl, rec, err := storedService(t, ns, clusterRef, ref)
	if err != nil {
		return nil, nil, err
	}
	if wire.Val(rec.Status) != serviceActive {
		return nil, nil, errServiceNotActive()
	}
	if !rec.isExternal() {
		return nil, nil, ecs.Errorf(ecs.InvalidParameter, "Task sets are only supported for services that use the EXTERNAL deployment controller.")
	}
	return cl, rec, nil
}

func checkScale(s *wire.Scale) error {
	if s == nil {
		return nil
	}
	if s.Unit != nil && *s.Unit != wire.ScaleUnitPercent {
		return ecs.Errorf(ecs.InvalidParameter, "scale unit must be PERCENT.")
	}
	if v := wire.Val(s.Value); v < 0 || v > 100 || math.IsNaN(v) {
		return ecs.Errorf(ecs.InvalidParameter, "scale value must be between 0 and 100.")
	}
	return nil
}

// taskSetOut renders a task set; tags only when asked.
func taskSetOut(ts wire.TaskSet, withTags bool) *wire.TaskSet {
	if withTags {
		ts.Tags = ecs.TagsOrEmpty(ts.Tags)
	} else {
		ts.Tags = nil
	}
	if ts.LoadBalancers == nil {
		ts.LoadBalancers = []wire.LoadBalancer{}
	}
	if ts.ServiceRegistries == nil {
		ts.ServiceRegistries = []wire.ServiceRegistry{}
	}
	return &ts
}

// CreateTaskSet adds an ACTIVE task set to an EXTERNAL service (spec §8.2):
// its own task definition and launch members (validated as for
// CreateService), scale (default 100 %), external id and tags. A service
// that already has 5 task sets is InvalidParameterException; a client
// token reused with the same request returns the task set it created.
func (c *Control) CreateTaskSet(ctx context.Context, ns ecs.Namespace, in *wire.CreateTaskSetRequest) (*wire.CreateTaskSetResponse, error) {
	if tok := wire.Val(in.ClientToken); len(tok) > 36 || strings.ContainsFunc(tok, func(r rune) bool { return r < 33 || r > 126 }) {
		return nil, ecs.Errorf(ecs.InvalidParameter, "clientToken can have up to 36 ASCII characters between 33 and 126.")
	}
	if err := checkScale(in.Scale); err != nil {
		return nil, err
	}
	if err := ecs.ValidateTags(in.Tags); err != nil {
		return nil, err
	}
	if err := ecs.CheckTagLimit(in.Tags, ecs.InvalidParameter); err != nil {
		return nil, err
	}
	td, err := c.lookupTaskDef(ns, wire.Val(in.TaskDefinition))
	if err != nil {
		return nil, err
	}
	if wire.Val(td.Status) != wire.TaskDefinitionStatusActive {
		return nil, ecs.Errorf(ecs.InvalidParameter, "TaskDefinition is inactive")
	}
	hashIn := *in
	hashIn.ClientToken = nil
	hash := serviceRequestHash(hashIn)
	now := c.nowUTC()
	var out *wire.TaskSet
	err = c.update(ctx, func(t tx) error {
		cl, rec, err := externalService(t, ns, in.Cluster, in.Service)
		if err != nil {
			return err
		}
		if tok := wire.Val(in.ClientToken); tok != "" {
			if bound, ok := rec.TaskSetTokens[tok]; ok {
				id, h, _ := strings.Cut(bound, " ")
				if ts := rec.taskSet(ns, id); ts != nil && h == hash {
					out = taskSetOut(*ts, true)
					return nil
				}
				return ecs.Errorf(ecs.InvalidParameter, "The specified client token has already been used in a request with different parameters.")
			}
		}
		if len(rec.TaskSets) >= MaxTaskSets {
			return ecs.Errorf(ecs.InvalidParameter, "%d deployments exist on the service. Unable to create new TaskSet since this exceeds the maximum limit.", MaxTaskSets)
		}
		lc, _, err := checkedLaunch(cl, td, wire.Val(in.LaunchType), in.CapacityProviderStrategy, in.PlatformVersion, in.NetworkConfiguration,
			in.LoadBalancers, in.ServiceRegistries, len(rec.PlacementConstraints)+len(rec.PlacementStrategy) > 0)
		if err != nil {
			return err
		}
		if len(lc.loadBalancers) > 1 {
			return ecs.Errorf(ecs.InvalidParameter, "A task set can have only one target group.")
		}
		id := newDeploymentID()
		scale := &wire.Scale{Unit: wire.Ptr(wire.ScaleUnitPercent), Value: wire.Ptr(100.0)}
		if in.Scale != nil {
			scale = &wire.Scale{Unit: wire.Ptr(wire.ScaleUnitPercent), Value: wire.Ptr(wire.Val(in.Scale.Value))}
		}
		ts := wire.TaskSet{
			Id: wire.Ptr(id), TaskSetArn: wire.Ptr(taskSetARN(ns, rec.Cluster, rec.Name, id)),
			ServiceArn: rec.ServiceArn, ClusterArn: rec.ClusterArn, ExternalId: in.ExternalId,
			Status: wire.Ptr(taskSetActive), TaskDefinition: wire.Ptr(lc.taskDefinition),
			Scale: scale, ComputedDesiredCount: wire.Ptr(computedDesired(wire.Val(rec.DesiredCount), scale)),
			RunningCount: wire.Ptr(int32(0)), PendingCount: wire.Ptr(int32(0)),
			NetworkConfiguration: lc.network, LoadBalancers: lc.loadBalancers, ServiceRegistries: lc.registries,
			CreatedAt: wire.NewTime(now), UpdatedAt: wire.NewTime(now),
			StabilityStatus: wire.Ptr(wire.StabilityStatusStabilizing), StabilityStatusAt: wire.NewTime(now),
			Tags: in.Tags,
		}
		if wire.Val(ts.ComputedDesiredCount) == 0 {
			ts.StabilityStatus = wire.Ptr(wire.StabilityStatusSteadyState)
		}
		if lc.launchType != "" {
			ts.LaunchType = wire.Ptr(lc.launchType)
		} else {
			ts.CapacityProviderStrategy = lc.strategy
		}
		if lc.platformVersion != "" {
			ts.PlatformVersion = wire.Ptr(lc.platformVersion)
			ts.PlatformFamily = wire.Ptr(fargatePlatformFamily)
		}
		rec.TaskSets = append(rec.TaskSets, ts)
		rec.Revisions = append(rec.Revisions, wire.ServiceRevision{
			ServiceRevisionArn: wire.Ptr(serviceRevisionARN(ns, rec.Cluster, rec.Name, id)),
			ServiceArn:         rec.ServiceArn, ClusterArn: rec.ClusterArn, TaskDefinition: ts.TaskDefinition,
			LaunchType: ts.LaunchType, CapacityProviderStrategy: lc.strategy, NetworkConfiguration: lc.network,
			PlatformVersion: ts.PlatformVersion, PlatformFamily: ts.PlatformFamily,
			LoadBalancers: lc.loadBalancers, ServiceRegistries: lc.registries, CreatedAt: wire.NewTime(now),
			ContainerImages: []wire.ContainerImage{},
		})
		if tok := wire.Val(in.ClientToken); tok != "" {
			if rec.TaskSetTokens == nil {
				rec.TaskSetTokens = map[string]string{}
			}
			rec.TaskSetTokens[tok] = id + " " + hash
		}
		out = taskSetOut(ts, true)
		return putService(t, ns, rec)
	})
	if err != nil {
		return nil, err
	}
	return &wire.CreateTaskSetResponse{TaskSet: out}, nil
}

// UpdateTaskSet changes a task set's scale (spec §8.4); the controller then
// adds or removes its tasks. A DRAINING task set cannot be scaled.
func (c *Control) UpdateTaskSet(ctx context.Context, ns ecs.Namespace, in *wire.UpdateTaskSetRequest) (*wire.UpdateTaskSetResponse, error) {
	if in.Scale == nil {
		return nil, ecs.Errorf(ecs.InvalidParameter, "scale must be specified.")
	}
	if err := checkScale(in.Scale); err != nil {
		return nil, err
	}
	now := c.nowUTC()
	out, err := c.changeTaskSet(ctx, ns, in.Cluster, in.Service, wire.Val(in.TaskSet), func(rec *serviceRecord, ts *wire.TaskSet) (bool, error) {
		if wire.Val(ts.Status) == taskSetDraining {
			return false, ecs.Errorf(ecs.InvalidParameter, "The task set is being deleted and cannot be updated.")
		}
		// SDKs omit a zero value: a scale without one is 0 %.
		ts.Scale = &wire.Scale{Unit: wire.Ptr(wire.ScaleUnitPercent), Value: wire.Ptr(wire.Val(in.Scale.Value))}
		ts.ComputedDesiredCount = wire.Ptr(computedDesired(wire.Val(rec.DesiredCount), ts.Scale))
		ts.UpdatedAt = wire.NewTime(now)
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	return &wire.UpdateTaskSetResponse{TaskSet: out}, nil
}

// UpdateServicePrimaryTaskSet makes a task set PRIMARY (the previous
// primary becomes ACTIVE) and mirrors its launch members onto the service
// (spec §8.5). A DRAINING task set is InvalidParameterException.
func (c *Control) UpdateServicePrimaryTaskSet(ctx context.Context, ns ecs.Namespace, in *wire.UpdateServicePrimaryTaskSetRequest) (*wire.UpdateServicePrimaryTaskSetResponse, error) {
	now := c.nowUTC()
	out, err := c.changeTaskSet(ctx, ns, in.Cluster, in.Service, wire.Val(in.PrimaryTaskSet), func(rec *serviceRecord, ts *wire.TaskSet) (bool, error) {
		switch wire.Val(ts.Status) {
		case taskSetDraining:
			return false, ecs.Errorf(ecs.InvalidParameter, "The task set is being deleted and cannot be made primary.")
		case taskSetPrimary:
			return false, nil
		}
		for i := range rec.TaskSets {
			if wire.Val(rec.TaskSets[i].Status) == taskSetPrimary {
				rec.TaskSets[i].Status = wire.Ptr(taskSetActive)
				rec.TaskSets[i].UpdatedAt = wire.NewTime(now)
			}
		}
		ts.Status = wire.Ptr(taskSetPrimary)
		ts.UpdatedAt = wire.NewTime(now)
		rec.applyLaunch(taskSetLaunch(*ts))
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	return &wire.UpdateServicePrimaryTaskSetResponse{TaskSet: out}, nil
}

// changeTaskSet runs fn on a task set of an EXTERNAL service inside one
// transaction (an unknown task set is TaskSetNotFoundException) and
// returns the task set as fn left it; the service record is written only
// when fn reports a change. fn MAY RUN MORE THAN ONCE.
func (c *Control) changeTaskSet(ctx context.Context, ns ecs.Namespace, cluster, service *string, ref string, fn func(rec *serviceRecord, ts *wire.TaskSet) (bool, error)) (*wire.TaskSet, error) {
	var out *wire.TaskSet
	err := c.update(ctx, func(t tx) error {
		_, rec, err := externalService(t, ns, cluster, service)
		if err != nil {
			return err
		}
		ts := rec.taskSet(ns, ref)
		if ts == nil {
			return errTaskSetNotFound()
		}
		changed, err := fn(rec, ts)
		if err != nil {
			return err
		}
		out = taskSetOut(*ts, false)
		if !changed {
			return nil
		}
		return putService(t, ns, rec)
	})
	return out, err
}

// taskSetLaunch is a task set's launch config.
func taskSetLaunch(ts wire.TaskSet) launchConfig {
	return launchConfig{
		taskDefinition: wire.Val(ts.TaskDefinition), launchType: wire.Val(ts.LaunchType), strategy: ts.CapacityProviderStrategy,
		platformVersion: wire.Val(ts.PlatformVersion), network: ts.NetworkConfiguration, loadBalancers: ts.LoadBalancers, registries: ts.ServiceRegistries,
	}
}

// clearLaunch removes the per-revision members mirrored from a primary
// task set.
func (r *serviceRecord) clearLaunch() {
	s := &r.Service
	s.TaskDefinition, s.LaunchType, s.CapacityProviderStrategy = nil, nil, nil
	s.PlatformVersion, s.PlatformFamily, s.NetworkConfiguration = nil, nil, nil
	s.LoadBalancers, s.ServiceRegistries = nil, nil
}

// DeleteTaskSet starts deleting a task set (spec §8.6): it becomes
// DRAINING with computedDesiredCount 0, the controller stops its tasks,
// and it disappears once none is left. Without force the set must be
// scaled to zero and must not be the PRIMARY.
func (c *Control) DeleteTaskSet(ctx context.Context, ns ecs.Namespace, in *wire.DeleteTaskSetRequest) (*wire.DeleteTaskSetResponse, error) {
	now := c.nowUTC()
	out, err := c.changeTaskSet(ctx, ns, in.Cluster, in.Service, wire.Val(in.TaskSet), func(rec *serviceRecord, ts *wire.TaskSet) (bool, error) {
		force := wire.Val(in.Force)
		switch {
		case wire.Val(ts.Status) == taskSetDraining:
			return false, nil
		case wire.Val(ts.Status) == taskSetPrimary && !force:
			return false, ecs.Errorf(ecs.InvalidParameter, "The primary task set cannot be deleted without force. Use force to delete it.")
		case wire.Val(ts.ComputedDesiredCount) > 0 && !force:
			return false, ecs.Errorf(ecs.InvalidParameter, "The task set cannot be deleted while it is scaled above 0. Scale it to 0 or use force.")
		}
		if wire.Val(ts.Status) == taskSetPrimary {
			rec.clearLaunch()
		}
		ts.Status = wire.Ptr(taskSetDraining)
		ts.ComputedDesiredCount = wire.Ptr(int32(0))
		ts.UpdatedAt = wire.NewTime(now)
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	return &wire.DeleteTaskSetResponse{TaskSet: out}, nil
}

// DescribeTaskSets describes a service's task sets (all, or the named ones;
// unknown ones are MISSING failures); include TAGS adds tags. A service
// that is INACTIVE is ServiceNotActiveException.
func (c *Control) DescribeTaskSets(ctx context.Context, ns ecs.Namespace, in *wire.DescribeTaskSetsRequest) (*wire.DescribeTaskSetsResponse, error) {
	cl, _, err := c.lookupCluster(ns, in.Cluster)
	if err != nil {
		return nil, err
	}
	cluster := wire.Val(cl.ClusterName)
	name, ok := serviceRef(ns, cluster, wire.Val(in.Service))
	if !ok {
		return nil, errServiceNotFound()
	}
	rec, _ := c.view.get(keyService(ns, cluster, name)).(*serviceRecord)
	if rec == nil {
		return nil, errServiceNotFound()
	}
	if wire.Val(rec.Status) == serviceInactive {
		return nil, errServiceNotActive()
	}
	if !rec.isExternal() {
		return nil, ecs.Errorf(ecs.InvalidParameter, "Task sets are only supported for services that use the EXTERNAL deployment controller.")
	}
	withTags := slices.Contains(in.Include, wire.TaskSetFieldTags)
	out := &wire.DescribeTaskSetsResponse{TaskSets: []wire.TaskSet{}, Failures: []wire.Failure{}}
	if len(in.TaskSets) == 0 {
		for _, ts := range rec.TaskSets {
			out.TaskSets = append(out.TaskSets, *taskSetOut(ts, withTags))
		}
		return out, nil
	}
	for _, ref := range in.TaskSets {
		if ts := rec.taskSet(ns, ref); ts != nil {
			out.TaskSets = append(out.TaskSets, *taskSetOut(*ts, withTags))
			continue
		}
		arn := ref
		if !strings.HasPrefix(ref, "arn:") {
			arn = taskSetARN(ns, cluster, name, ref)
		}
		out.Failures = append(out.Failures, wire.Failure{Arn: wire.Ptr(arn), Reason: wire.Ptr("MISSING")})
	}
	return out, nil
}

// reconcileTaskSets decides each task set of an EXTERNAL service as a
// one-deployment service whose desired count is the set's
// computedDesiredCount (package service's task-set mode), and applies all
// of them in one transaction: tasks, per-set counts and stabilityStatus,
// the service's counts (their sums), and the removal of DRAINING sets
// with no task left. A DRAINING service with no task set left becomes
// INACTIVE.
func (c *Control) reconcileTaskSets(ctx context.Context, cfg ServiceControllerConfig, w *svcWork, now time.Time) error {
	rec := w.rec
	type setDecision struct {
		id   string
		snap service.Snapshot
		dec  service.Decision
	}
	var decs []setDecision
	changed := len(rec.Unplaced) > 0
	running, pending := 0, 0
	for _, ts := range rec.TaskSets {
		id := wire.Val(ts.Id)
		spec := c.serviceSpec(w.ns, rec, cfg)
		spec.SchedulingStrategy = service.StrategyReplica
		spec.DesiredCount = int(wire.Val(ts.ComputedDesiredCount))
		spec.MinimumHealthyPercent, spec.MaximumPercent = 100, 200
		spec.CircuitBreaker = service.CircuitBreaker{}
		dep := service.Deployment{
			ID: id, Status: service.StatusPrimary, RolloutState: service.RolloutCompleted, TaskDefinition: wire.Val(ts.TaskDefinition),
			Revision: serviceRevisionARN(w.ns, rec.Cluster, rec.Name, id), DesiredCount: spec.DesiredCount,
			RunningCount: int(wire.Val(ts.RunningCount)), PendingCount: int(wire.Val(ts.PendingCount)), HealthStage: true,
		}
		if ts.CreatedAt != nil {
			dep.CreatedAt = ts.CreatedAt.Time
		}
		snap := service.Snapshot{Now: now, ServiceName: rec.Name, Spec: spec, Deployments: []service.Deployment{dep},
			State: rec.TaskSetStates[id]}
		var tasks []*taskRecord
		for _, t := range w.tasks {
			if wire.Val(t.StartedBy) == id {
				tasks = append(tasks, t)
				if !rec.accounted(t) {
					snap.Tasks = append(snap.Tasks, taskSnapshot(t))
				}
			}
		}
		for _, u := range rec.Unplaced {
			if u.DeploymentID == id {
				snap.Unplaced = append(snap.Unplaced, u)
			}
		}
		snap.Instances = c.instanceSnapshots(w.ns, rec, tasks)
		dec := service.Decide(snap)
		// Task sets emit no deployment events of their own.
		dec.Events = slices.DeleteFunc(dec.Events, func(e string) bool { return strings.Contains(e, "(deployment ") })
		running += dec.RunningCount
		pending += dec.PendingCount
		stable := taskSetStability(dec, spec.DesiredCount)
		if len(dec.Launch) > 0 || len(dec.Stop) > 0 || len(dec.Events) > 0 || len(dec.Accounted) > 0 ||
			dec.RunningCount != int(wire.Val(ts.RunningCount)) || dec.PendingCount != int(wire.Val(ts.PendingCount)) ||
			stable != wire.Val(ts.StabilityStatus) || !stateSame(dec.State, rec.TaskSetStates[id]) ||
			(wire.Val(ts.Status) == taskSetDraining && len(snap.Tasks) == 0) {
			changed = true
		}
		decs = append(decs, setDecision{id: id, snap: snap, dec: dec})
	}
	if running != int(wire.Val(rec.RunningCount)) || pending != int(wire.Val(rec.PendingCount)) {
		changed = true
	}
	draining := wire.Val(rec.Status) == serviceDraining
	if draining && len(rec.TaskSets) == 0 {
		changed = true
	}
	if !changed {
		return nil
	}
	gen, ns := rec.Gen, w.ns
	return c.update(ctx, func(t tx) error {
		cur := new(serviceRecord)
		found, err := t.get(keyService(ns, rec.Cluster, rec.Name), cur)
		if err != nil || !found || cur.Gen != gen {
			return err
		}
		cl := new(clusterRecord)
		if found, err := t.get(keyCluster(ns, rec.Cluster), cl); err != nil || !found {
			return err
		}
		cur.Unplaced = nil
		pl := &launcher{c: c, t: t, ns: ns, cl: cl, rec: cur, now: now, tasks: w.tasks}
		var accounted []string
		states := map[string]service.State{}
		gone := map[string]bool{}
		for _, sd := range decs {
			ts := cur.taskSet(ns, sd.id)
			if ts == nil {
				continue
			}
			for _, st := range sd.dec.Stop {
				if err := stopServiceTask(t, ns, cur.Cluster, st.TaskID, st.Reason, now); err != nil {
					return err
				}
			}
			lc := taskSetLaunch(*ts)
			for _, l := range sd.dec.Launch {
				if err := pl.launch(l, lc, true); err != nil {
					return err
				}
			}
			for _, ev := range sd.dec.Events {
				cur.addEvent(now, ev)
			}
			accounted = append(accounted, sd.dec.Accounted...)
			states[sd.id] = sd.dec.State
			ts.RunningCount, ts.PendingCount = wire.Ptr(int32(sd.dec.RunningCount)), wire.Ptr(int32(sd.dec.PendingCount))
			if st := taskSetStability(sd.dec, int(wire.Val(ts.ComputedDesiredCount))); st != wire.Val(ts.StabilityStatus) {
				ts.StabilityStatus = wire.Ptr(st)
				ts.StabilityStatusAt = wire.NewTime(now)
				ts.UpdatedAt = wire.NewTime(now)
			}
			if wire.Val(ts.Status) == taskSetDraining && len(sd.snap.Tasks) == 0 && len(sd.dec.Launch) == 0 {
				gone[sd.id] = true
			}
		}
		for i := range cur.TaskSets {
			ts := &cur.TaskSets[i]
			if n := pl.perUnit[wire.Val(ts.Id)]; n > 0 {
				ts.PendingCount = wire.Ptr(wire.Val(ts.PendingCount) + int32(n))
			}
		}
		cur.TaskSets = slices.DeleteFunc(cur.TaskSets, func(ts wire.TaskSet) bool { return gone[wire.Val(ts.Id)] })
		cur.TaskSetStates = states
		cur.account(w.tasks, accounted, now)
		var run, pend int32
		for _, ts := range cur.TaskSets {
			run += wire.Val(ts.RunningCount)
			pend += wire.Val(ts.PendingCount)
		}
		cur.RunningCount, cur.PendingCount = wire.Ptr(run), wire.Ptr(pend)
		if err := pl.finish(); err != nil {
			return err
		}
		if wire.Val(cur.Status) == serviceDraining && len(cur.TaskSets) == 0 {
			cur.markInactive(now)
		}
		cur.trimHistory()
		return putService(t, ns, cur)
	})
}

// taskSetStability is §8.8's stabilityStatus of a decided task set.
func taskSetStability(dec service.Decision, desired int) wire.StabilityStatus {
	if dec.RunningCount == desired && dec.PendingCount == 0 && len(dec.Launch) == 0 && len(dec.Stop) == 0 {
		return wire.StabilityStatusSteadyState
	}
	return wire.StabilityStatusStabilizing
}
