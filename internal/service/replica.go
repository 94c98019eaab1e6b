package service

// reconcileReplica is the REPLICA loop of §7.3, with the replacement rules
// of §2.4 (draining), §7.8 (failed and unhealthy tasks) and §7.12
// (protection):
//
//	keep    := live PRIMARY tasks on usable instances, not unhealthy
//	replace := live tasks of older deployments, on DRAINING instances,
//	           on INACTIVE (lost) instances, or unhealthy PRIMARY tasks
//	total   := live + stopping tasks (lost ones excluded)
//	1. start min(D − |keep|, maxTotal − total) PRIMARY tasks
//	2. scale in: stop |keep| − D keep tasks (not-healthy first, §6.7)
//	3. stop replace tasks: not-healthy ones at once; healthy ones while
//	   healthy − 1 ≥ minHealthy; an unhealthy PRIMARY task is started
//	   first (stopped once enough healthy tasks run without it) unless
//	   there is no room to start its replacement
func (d *decider) reconcileReplica() {
	D := d.desired
	minHealthy := MinimumHealthy(D, d.spec.MinimumHealthyPercent)
	maxTotal := MaximumTotal(D, d.maximumPercent())

	var keep, sick, old, draining, lost []*Task
	total, healthyTotal := 0, 0
	for _, t := range d.tasks {
		if stopped(t) {
			continue
		}
		in := d.inst[t.InstanceID]
		gone := t.InstanceID != "" && in != nil && in.Status == StatusInactive
		if !live(t) {
			if !gone {
				total++
			}
			continue
		}
		if gone {
			lost = append(lost, t)
			continue
		}
		total++
		if d.healthy(t) {
			healthyTotal++
		}
		switch {
		case d.p == nil || t.DeploymentID != d.p.ID:
			old = append(old, t)
			d.old++
		case in != nil && in.Status == StatusDraining:
			draining = append(draining, t)
		case d.unhealthy(t):
			sick = append(sick, t)
		default:
			keep = append(keep, t)
		}
	}

	// 1. Start.
	want, n := D-len(keep), 0
	if want > 0 && d.canLaunch() {
		n = max(0, min(want, maxTotal-total))
	}
	if n > 0 {
		d.out.Launch = append(d.out.Launch, Launch{DeploymentID: d.p.ID, TaskDefinition: d.p.TaskDefinition, Count: n})
	}
	noRoom := n < want

	// 2. Scale in the PRIMARY itself (desiredCount lowered); protected
	// tasks stay (§7.12), and the minimum does not apply.
	keepHealthy := 0
	for _, t := range keep {
		if d.healthy(t) {
			keepHealthy++
		}
	}
	if surplus := len(keep) - D; surplus > 0 {
		free := unprotected(keep)
		if len(free) < surplus {
			d.repeat = append(d.repeat, EventProtected(d.name, d.p.ID))
		}
		for _, t := range d.pick(free, surplus) {
			d.stop(t, d.scalingReason(t))
			if d.healthy(t) {
				healthyTotal--
				keepHealthy--
			}
		}
	}

	// 3. Replace. Lost tasks and tasks that are not healthy go at once.
	d.unsettled = len(sick)+len(draining)+len(lost) > 0
	for _, t := range lost {
		d.stop(t, d.scalingReason(t))
	}
	var candidates []*Task
	for _, t := range draining {
		if !d.healthy(t) {
			d.stop(t, d.scalingReason(t))
		} else {
			candidates = append(candidates, t)
		}
	}
	failed := d.p != nil && d.p.RolloutState == RolloutFailed
	for _, t := range old {
		switch {
		case t.Protected || failed: // a FAILED deployment leaves the old tasks running (§7.6)
		case !d.healthy(t):
			d.stop(t, d.scalingReason(t))
		default:
			candidates = append(candidates, t)
		}
	}
	for i, t := range sick {
		if keepHealthy >= D || noRoom && i == 0 {
			d.stopUnhealthy(t)
		}
	}
	if allow := healthyTotal - minHealthy; allow > 0 {
		for _, t := range d.pick(candidates, allow) {
			d.stop(t, d.scalingReason(t))
		}
	}

	d.stuck = d.old > 0 && d.canLaunch() && n == 0 && len(d.out.Stop) == 0 && maxTotal <= D && minHealthy >= D
}

// unprotected returns the tasks without scale-in protection.
func unprotected(ts []*Task) []*Task {
	var out []*Task
	for _, t := range ts {
		if !t.Protected {
			out = append(out, t)
		}
	}
	return out
}
