package control

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/wire"
)

// Fargate Spot interruptions (spec §5.5). The fleet reclaims a
// FARGATE_SPOT task with a warning: InterruptSpotTask sets its desired
// status to STOPPED with stopCode SpotInterruption while it still runs
// (the fleet's engine then sends its containers SIGTERM), and the task
// reaches STOPPED when its containers have exited, at the latest when the
// fleet kills them at the end of the warning.
//
//	RUNNING ──InterruptSpotTask──▶ RUNNING, desired STOPPED, stopCode SpotInterruption,
//	                               stoppingAt = the interruption
//	        ──containers exit (SIGTERM; killed after the warning)──▶ STOPPED

// SpotInterruptionReason is the stoppedReason of an interrupted Spot task.
const SpotInterruptionReason = "Your Spot Task was interrupted."

// SpotTask is a FARGATE_SPOT task that has not STOPPED, as the fleet's
// interruption logic sees it.
type SpotTask struct {
	Namespace  ecs.Namespace
	Cluster    string
	ID         string
	ARN        string
	LastStatus string
	// StartedAt is when the task started RUNNING (zero before).
	StartedAt time.Time
	// InterruptedAt is when it was interrupted (zero if it was not).
	InterruptedAt time.Time
	// Stopping is set when its desired status is STOPPED, for whatever
	// reason.
	Stopping bool
}

// SpotTasks returns, from the view, the FARGATE_SPOT tasks of every
// namespace that have not STOPPED, sorted by key, and the view revision
// they reflect (for WaitChange). It is safe for concurrent use.
func (c *Control) SpotTasks() ([]SpotTask, store.Rev) {
	c.view.mu.RLock()
	rev := c.view.rev
	c.view.mu.RUnlock()
	return c.spotTasks(fleetPrefix), rev
}

// spotTasks lists the Spot tasks whose fleet markers are under prefix.
func (c *Control) spotTasks(prefix string) []SpotTask {
	var out []SpotTask
	c.fleetTasks(prefix, func(ns ecs.Namespace, cluster, id string, rec *taskRecord) {
		if wire.Val(rec.CapacityProviderName) != ProviderFargateSpot {
			return
		}
		st := SpotTask{
			Namespace: ns, Cluster: cluster, ID: id, ARN: wire.Val(rec.TaskArn),
			LastStatus: wire.Val(rec.LastStatus), Stopping: wire.Val(rec.DesiredStatus) == taskStopped,
		}
		if rec.StartedAt != nil {
			st.StartedAt = rec.StartedAt.Time
		}
		if wire.Val(rec.StopCode) == wire.TaskStopCodeSpotInterruption && rec.StoppingAt != nil {
			st.InterruptedAt = rec.StoppingAt.Time
		}
		out = append(out, st)
	})
	return out
}

// spotOutcome is what interruptSpotTask did.
type spotOutcome int

const (
	spotInterrupted spotOutcome = iota // interrupted now
	spotStopping                       // already stopping or stopped: left alone
	spotNotSpot                        // not a FARGATE_SPOT task: left alone
)

// InterruptSpotTask interrupts a FARGATE_SPOT task (spec §5.5): desired
// status STOPPED, stopCode SpotInterruption, stoppedReason
// SpotInterruptionReason and stoppingAt now; the fleet stops its
// containers. A task still PROVISIONING stops at once (nothing runs). It
// reports whether the task was interrupted now: a task already stopping
// (interrupted, or stopped for another reason) is left as it is. A task
// that is not a FARGATE_SPOT task is InvalidParameterException; an unknown
// task or cluster is the error DescribeTasks would give.
func (c *Control) InterruptSpotTask(ctx context.Context, ns ecs.Namespace, cluster, task string) (bool, error) {
	o, _, err := c.interruptSpotTask(ctx, ns, cluster, task)
	switch {
	case err != nil:
		return false, err
	case o == spotNotSpot:
		return false, ecs.Errorf(ecs.InvalidParameter, "The task is not a Fargate Spot task.")
	}
	return o == spotInterrupted, nil
}

func (c *Control) interruptSpotTask(ctx context.Context, ns ecs.Namespace, cluster, task string) (spotOutcome, string, error) {
	now := c.nowUTC()
	var o spotOutcome
	rec, err := c.updateTask(ctx, ns, &cluster, &task, func(_ tx, rec *taskRecord) error {
		switch {
		case !isFargate(rec) || wire.Val(rec.CapacityProviderName) != ProviderFargateSpot:
			o = spotNotSpot
			return errUnchanged
		case wire.Val(rec.DesiredStatus) == taskStopped || wire.Val(rec.LastStatus) == taskStopped:
			o = spotStopping
			return errUnchanged
		}
		o = spotInterrupted
		rec.DesiredStatus = wire.Ptr(taskStopped)
		rec.StopCode = wire.Ptr(wire.TaskStopCodeSpotInterruption)
		rec.StoppedReason = wire.Ptr(SpotInterruptionReason)
		rec.StoppingAt = wire.NewTime(now)
		if wire.Val(rec.LastStatus) == taskProvisioning {
			markStopped(rec, now)
		}
		return nil
	})
	if err != nil {
		return 0, "", err
	}
	return o, wire.Val(rec.TaskArn), nil
}

// SpotInterruptions is the outcome of InterruptSpotTasks.
type SpotInterruptions struct {
	// Interrupted lists the ARNs of the tasks interrupted now.
	Interrupted []string
	// Failures lists the tasks named that could not be interrupted, with
	// the reason: MISSING (no such task), NOT_SPOT (not a FARGATE_SPOT
	// task) or STOPPING (already stopping or stopped).
	Failures []wire.Failure
}

// InterruptSpotTasks interrupts FARGATE_SPOT tasks of one cluster, as
// InterruptSpotTask does: the tasks named (ids or ARNs), or, when none is,
// up to count of the cluster's Spot tasks that are not stopping (every one
// when count is 0), the longest-running first (ties by ARN). An unknown
// cluster is ClusterNotFoundException, an inactive one or a negative count
// InvalidParameterException.
func (c *Control) InterruptSpotTasks(ctx context.Context, ns ecs.Namespace, cluster string, tasks []string, count int) (SpotInterruptions, error) {
	var out SpotInterruptions
	if count < 0 {
		return out, ecs.Errorf(ecs.InvalidParameter, "count must be 0 or more.")
	}
	name, err := clusterName(ns, &cluster)
	if err != nil {
		return out, err
	}
	switch cl, _ := c.view.get(keyCluster(ns, name)).(*clusterRecord); {
	case cl == nil:
		return out, ecs.Errorf(ecs.ClusterNotFound, ecs.MsgClusterNotFound)
	case wire.Val(cl.Status) == statusInactive:
		return out, ecs.Errorf(ecs.InvalidParameter, ecs.MsgClusterInactive)
	}
	if len(tasks) == 0 {
		cands := slices.DeleteFunc(c.spotTasks(keyFleet(ns, name, "")), func(st SpotTask) bool {
			return st.Stopping || st.Namespace.Partition != ns.Partition
		})
		slices.SortFunc(cands, func(a, b SpotTask) int {
			return cmp.Or(startOrder(a, b), cmp.Compare(a.ARN, b.ARN))
		})
		if count > 0 && len(cands) > count {
			cands = cands[:count]
		}
		for _, st := range cands {
			tasks = append(tasks, st.ARN)
		}
	}
	for _, ref := range tasks {
		o, arn, err := c.interruptSpotTask(ctx, ns, name, ref)
		fail := func(reason string) {
			out.Failures = append(out.Failures, wire.Failure{Arn: wire.Ptr(ref), Reason: wire.Ptr(reason)})
		}
		switch {
		case err == nil && o == spotInterrupted:
			out.Interrupted = append(out.Interrupted, arn)
		case err == nil && o == spotStopping:
			fail("STOPPING")
		case err == nil:
			fail("NOT_SPOT")
		case ecs.CodeOf(err) == ecs.InvalidParameter:
			fail("MISSING")
		default:
			return out, err
		}
	}
	return out, nil
}

// startOrder orders Spot tasks by start time, tasks not started yet last.
func startOrder(a, b SpotTask) int {
	switch {
	case a.StartedAt.IsZero() && b.StartedAt.IsZero():
		return 0
	case a.StartedAt.IsZero():
		return 1
	case b.StartedAt.IsZero():
		return -1
	}
	return a.StartedAt.Compare(b.StartedAt)
}
