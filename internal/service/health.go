package service

import "time"

// live reports whether t is one of the service's live tasks (§7.3): wanted
// RUNNING and not yet past RUNNING. An empty desiredStatus counts as
// RUNNING.
func live(t *Task) bool {
	if t.DesiredStatus != "" && t.DesiredStatus != TaskRunning {
		return false
	}
	switch t.LastStatus {
	case TaskProvisioning, TaskPending, TaskActivating, TaskRunning, "":
		return true
	}
	return false
}

// stopped reports whether t has reached STOPPED.
func stopped(t *Task) bool { return t.LastStatus == TaskStopped }

// pendingStatus reports whether t's lastStatus counts as pending for
// pendingCount (§7.5).
func pendingStatus(t *Task) bool {
	switch t.LastStatus {
	case TaskProvisioning, TaskPending, TaskActivating, "":
		return true
	}
	return false
}

// healthy reports whether t counts as healthy for minimumHealthyPercent
// accounting (§7.4): live and RUNNING for at least spec.HealthyAfter and,
// when the service has health checks, HEALTHY. A RUNNING task without a
// StartedAt counts as having started long ago.
func healthy(spec *Spec, now time.Time, t *Task) bool {
	if !live(t) || t.LastStatus != TaskRunning {
		return false
	}
	if spec.HealthyAfter > 0 && !t.StartedAt.IsZero() && now.Before(t.StartedAt.Add(spec.HealthyAfter)) {
		return false
	}
	return !spec.HasHealthChecks || t.HealthStatus == HealthHealthy
}

// unhealthy reports whether t is a live RUNNING task whose health checks
// failed after the grace period, so it must be replaced (§7.4, §7.8).
func unhealthy(spec *Spec, now time.Time, t *Task) bool {
	if !live(t) || t.LastStatus != TaskRunning || t.HealthStatus != HealthUnhealthy {
		return false
	}
	return inGrace(spec, now, t) == time.Time{}
}

// inGrace returns when t's health-check grace period ends, or the zero
// time when it is not inside one.
func inGrace(spec *Spec, now time.Time, t *Task) time.Time {
	if spec.HealthCheckGracePeriod <= 0 || t.StartedAt.IsZero() {
		return time.Time{}
	}
	if end := t.StartedAt.Add(spec.HealthCheckGracePeriod); now.Before(end) {
		return end
	}
	return time.Time{}
}

// failure reports whether a STOPPED task's stop counts as a failure of its
// deployment (§7.6) and whether it is a launch failure, i.e. it never
// reached RUNNING (§7.9). Stops by the scheduler or a user, Spot
// interruptions and termination notices are not failures.
func failure(t *Task) (failed, launch bool) {
	switch t.StopCode {
	case StopCodeFailed:
		return true, true
	case StopCodeExited:
		return true, t.StartedAt.IsZero()
	}
	return false, false
}

// failureTime is when a STOPPED task failed: its StoppedAt, else now.
func failureTime(now time.Time, t *Task) time.Time {
	if t.StoppedAt.IsZero() {
		return now
	}
	return t.StoppedAt
}

// MinimumHealthy returns ceil(desired × minimumHealthyPercent / 100), the
// lower bound on healthy tasks during a deployment (§7.3).
func MinimumHealthy(desired, minimumHealthyPercent int) int {
	if desired <= 0 || minimumHealthyPercent <= 0 {
		return 0
	}
	return (desired*minimumHealthyPercent + 99) / 100
}

// MaximumTotal returns floor(desired × maximumPercent / 100), the upper
// bound on PENDING, RUNNING and STOPPING tasks of the service (§7.3).
func MaximumTotal(desired, maximumPercent int) int {
	if desired <= 0 || maximumPercent <= 0 {
		return 0
	}
	return desired * maximumPercent / 100
}

// CircuitBreakerThreshold returns the number of consecutive failed tasks
// that trips the deployment circuit breaker: min(200, max(3,
// ceil(desired/2))) (§7.6).
func CircuitBreakerThreshold(desired int) int {
	return min(200, max(3, (max(desired, 0)+1)/2))
}
