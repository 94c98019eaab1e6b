// Package capacity is the arithmetic of ECS cluster auto scaling (spec §4):
// the CapacityProviderReservation metric, the scale-out estimate for tasks
// waiting in PROVISIONING, the target-tracking decision that turns the
// metric into an Auto Scaling group's desired capacity, and the choice of
// instances that managed termination protection protects or gives up.
//
// Everything here is a pure function of its arguments: the clock is an
// argument, nothing is stored between calls, nothing is logged, and map
// order never reaches an output. The controller that reads the cluster,
// keeps the metric's history and writes the group's desired capacity and
// instance protection calls it once per evaluation.
//
//	waiting tasks (PROVISIONING, this provider)   instances (free room, tasks, launch time)
//	        │                                             │
//	        └──▶ EstimateScaleOut (§4.3: binpack onto free room, then onto new
//	             instances of the group's type) ─▶ Estimate{New, Incompatible}
//	                                  │
//	Reservation (§4.2: M/N×100, 100 at 0/0, 200 from zero) ─▶ Metric{Value, M, N}
//	                                  │
//	Decide (§4.2–4.5: target tracking) ─▶ Decision{Desired, Change, Reason}
//	   scale-out: metric > target, no instance warming, steps, ≤ max
//	   scale-in:  metric < target for the whole evaluation period and since
//	              the last scale-out, at most half the group a step, never
//	              below what the tasks need nor below min
//	                                  │
//	Protection (§4.6–4.7) ─▶ Plan{Protect, Unprotect, Terminate}
//
// Where the specification leaves a choice, the choice is marked [impl] in
// the doc comment that makes it.
package capacity
