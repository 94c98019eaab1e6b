package service

import (
	"cmp"
	"slices"
)

// reconcileDaemon is the DAEMON loop (§7.1, §2.4): one PRIMARY task on
// every eligible ACTIVE instance (D of them).
//
//   - A task on an INACTIVE or unknown instance, or on an ACTIVE instance
//     that is no longer eligible, is stopped and not replaced.
//   - A task on a DRAINING instance is stopped and not replaced, once the
//     instance runs no other service's tasks (daemons stop last).
//   - An unhealthy task is stopped; its replacement starts on a later
//     pass, once the instance is free.
//   - Duplicate PRIMARY tasks on one instance are stopped, keeping the
//     healthiest, oldest one.
//   - Older deployments' tasks are replaced as in §7.3 with the DAEMON
//     bounds (default minimumHealthyPercent 0, maximumPercent 100): not
//     healthy ones at once, healthy ones while healthy − 1 ≥ minHealthy,
//     those on instances that already run a PRIMARY task first.
//   - A PRIMARY task starts on an eligible instance without one when the
//     instance has no task of the service left (live or stopping), or
//     when the service is below maxTotal (start-first, maximumPercent >
//     100 only).
func (d *decider) reconcileDaemon() {
	D := d.desired
	minHealthy := MinimumHealthy(D, d.spec.MinimumHealthyPercent)
	maxTotal := MaximumTotal(D, d.maximumPercent())

	occupied := make(map[string]bool) // instance → has a live or stopping task
	primary := make(map[string][]*Task)
	var old []*Task
	total, healthyTotal := 0, 0
	for _, t := range d.tasks {
		if stopped(t) {
			continue
		}
		in := d.inst[t.InstanceID]
		gone := in == nil || in.Status == StatusInactive
		if !live(t) {
			if !gone {
				total++
				occupied[t.InstanceID] = true
			}
			continue
		}
		if gone {
			d.stop(t, d.scalingReason(t))
			continue
		}
		total++
		occupied[t.InstanceID] = true
		switch {
		case in.Status == StatusDraining:
			d.unsettled = true
			if in.OtherTasks == 0 {
				d.stop(t, d.scalingReason(t))
				continue
			}
		case in.Status != StatusActive || !in.Eligible:
			d.stop(t, d.scalingReason(t))
			continue
		case d.unhealthy(t):
			d.stopUnhealthy(t)
			continue
		case d.p != nil && t.DeploymentID == d.p.ID:
			primary[t.InstanceID] = append(primary[t.InstanceID], t)
		default:
			old = append(old, t)
			d.old++
		}
		if d.healthy(t) {
			healthyTotal++
		}
	}

	// Duplicates: keep the healthiest, then oldest, then lowest ID.
	for _, ts := range primary {
		if len(ts) < 2 {
			continue
		}
		slices.SortFunc(ts, func(a, b *Task) int {
			ha, hb := d.healthy(a), d.healthy(b)
			if ha != hb {
				if ha {
					return -1
				}
				return 1
			}
			if c := cmpStart(a, b); c != 0 {
				return c
			}
			return cmp.Compare(a.ID, b.ID)
		})
		for _, t := range ts[1:] {
			if !t.Protected {
				d.stop(t, d.scalingReason(t))
				if d.healthy(t) {
					healthyTotal--
				}
			}
		}
	}

	// Older deployments: surplus ones (their instance has a PRIMARY task)
	// first, then by instance.
	if d.p == nil || d.p.RolloutState != RolloutFailed {
		slices.SortStableFunc(old, func(a, b *Task) int {
			sa, sb := len(primary[a.InstanceID]) > 0, len(primary[b.InstanceID]) > 0
			if sa != sb {
				if sa {
					return -1
				}
				return 1
			}
			return cmp.Compare(a.InstanceID, b.InstanceID)
		})
		allow := healthyTotal - minHealthy
		for _, t := range old {
			switch {
			case t.Protected:
			case !d.healthy(t):
				d.stop(t, d.scalingReason(t))
			case allow > 0:
				d.stop(t, d.scalingReason(t))
				allow--
			}
		}
	}

	// Start.
	launched := 0
	if d.canLaunch() {
		ids := make([]string, 0, len(d.inst))
		for id, in := range d.inst {
			if in.Status == StatusActive && in.Eligible && len(primary[id]) == 0 {
				ids = append(ids, id)
			}
		}
		slices.Sort(ids)
		for _, id := range ids {
			if occupied[id] && total >= maxTotal {
				continue
			}
			total++
			d.out.Launch = append(d.out.Launch, Launch{DeploymentID: d.p.ID, TaskDefinition: d.p.TaskDefinition, Count: 1, InstanceID: id})
			launched++
		}
	}

	d.stuck = d.old > 0 && d.canLaunch() && launched == 0 && len(d.out.Stop) == 0 && maxTotal <= D && minHealthy >= D
}

// cmpStart orders tasks by StartedAt, never-started ones last.
func cmpStart(a, b *Task) int {
	za, zb := a.StartedAt.IsZero(), b.StartedAt.IsZero()
	switch {
	case za && zb:
		return 0
	case za:
		return 1
	case zb:
		return -1
	}
	return a.StartedAt.Compare(b.StartedAt)
}
