package service

import (
	"math"
	"time"
)

// ComputedDesiredCount returns a task set's computedDesiredCount (§8.3):
// ceil(desired × scalePercent / 100), always rounded up, with a 1e-9
// guard so that exact products (100 % of 3) are not pushed up by
// floating-point error. A non-positive scale or desired count gives 0.
func ComputedDesiredCount(scalePercent float64, desired int) int {
	if desired <= 0 || !(scalePercent > 0) {
		return 0
	}
	return int(math.Ceil(float64(desired)*scalePercent/100 - 1e-9))
}

// StabilityStatus returns a task set's stabilityStatus (§8.8):
// STEADY_STATE when its RUNNING tasks number computedDesired, none is
// pending, none runs on a DRAINING container instance, and every live task
// is healthy (§7.4, judged with spec's health settings at now); otherwise
// STABILIZING. tasks are the task set's tasks (STOPPED ones are ignored);
// instances are looked up by Task.InstanceID.
func StabilityStatus(now time.Time, spec Spec, computedDesired int, tasks []Task, instances []Instance) string {
	draining := make(map[string]bool)
	for _, in := range instances {
		if in.Status == StatusDraining {
			draining[in.ID] = true
		}
	}
	running := 0
	for i := range tasks {
		t := &tasks[i]
		if stopped(t) {
			continue
		}
		if pendingStatus(t) || draining[t.InstanceID] {
			return StabilityStabilizing
		}
		if t.LastStatus == TaskRunning {
			running++
		}
		if live(t) && !healthy(&spec, now, t) {
			return StabilityStabilizing
		}
	}
	if running != computedDesired {
		return StabilityStabilizing
	}
	return StabilitySteady
}
