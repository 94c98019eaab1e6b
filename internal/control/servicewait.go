package control

import (
	"fmt"
	"slices"

	"github.com/berth-dev/berth/internal/scheduler"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/wire"
)

// Service tasks waiting for capacity (spec §4.9): as for RunTask, a
// service task of a provider with managed scaling that no current
// instance takes is created PROVISIONING with a wait record, and the
// capacity waiter places it as instances arrive. At most
// MaxProvisioningTasks wait per cluster; the service's other tasks stay
// unplaced, with the service event ECS emits, and are launched again on a
// later pass.

// waitService makes the unplaced tasks of a launch wait for capacity where
// their provider scales. providers are the unplaced tasks' providers,
// plan the placement that left them (its failures give the reason); put
// records each waiting task as the service's. It returns how many tasks
// are left unplaced, and the event for them if it is not the placement
// failure's.
func (pl *launcher) waitService(td *taskDefRecord, opts taskOptions, res reservation, plan scheduler.Plan, providers []string, put func(*taskRecord) error) (int, string, error) {
	if !slices.ContainsFunc(providers, func(p string) bool { return pl.c.managedScaling(pl.ns, p) }) {
		return len(providers), "", nil
	}
	cluster := pl.rec.Cluster
	n := 0
	if err := pl.t.List(keyWaitPrefix(pl.ns, cluster), "", func(store.KV) error { n++; return nil }); err != nil {
		return 0, "", err
	}
	room := MaxProvisioningTasks - n
	var sub []string
	limited := false
	for _, p := range providers {
		if !pl.c.managedScaling(pl.ns, p) {
			continue
		}
		if len(sub) == room {
			limited = true
			break
		}
		sub = append(sub, p)
	}
	if len(sub) == 0 {
		return len(providers), pl.limitEvent(limited), nil
	}
	opts.launchType = wire.LaunchType(launchTypeOf("", sub[0]))
	waiting, _, err := pl.c.waitForCapacity(pl.t, pl.ns, cluster, td, opts, res, scheduler.Plan{Failures: plan.Failures}, sub,
		pl.rec.PlacementStrategy, pl.rec.PlacementConstraints, pl.now)
	if err != nil {
		return 0, "", err
	}
	for _, w := range waiting {
		if err := put(w); err != nil {
			return 0, "", err
		}
	}
	return len(providers) - len(waiting), pl.limitEvent(limited), nil
}

// limitEvent is the service event for tasks over the per-cluster cap of
// tasks waiting for capacity, "" when the cap was not reached.
func (pl *launcher) limitEvent(limited bool) string {
	if !limited {
		return ""
	}
	return fmt.Sprintf("(service %s) was unable to place tasks in your cluster because the tasks provisioning capacity limit was exceeded.", pl.rec.Name)
}
