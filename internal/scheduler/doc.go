// Package scheduler is Berth's placement engine: pure decision code that
// turns a request and a snapshot of container instances into a plan. It
// does no I/O, reads no clock, keeps no state and logs nothing; its only
// randomness is derived from a seed in the request, so a plan can be
// replayed from its inputs (DESIGN.md "scheduler is pure").
//
// # Placement (spec §6)
//
//	Place(req, cands)
//	  │
//	  ├─ candidates: status ACTIVE (others are not candidates at all)
//	  ├─ fit, first failing check wins (§6.2 table order):
//	  │    CPU → MEMORY → PORTS → PORTS_UDP → 100-port limit (PORTS) →
//	  │    ENI → GPU → AGENT → ATTRIBUTE → LOCATION
//	  ├─ constraints, in request order (§6.4): memberOf, distinctInstance
//	  ├─ rank the survivors: strategies as a lexicographic chain (§6.3),
//	  │    remaining ties by a seeded pseudo-random priority, then ARN
//	  ├─ take the best, charge it (CPU, memory, ports, ENI, GPUs, group
//	  │    and running-task counts, spread buckets) and re-check only it
//	  └─ repeat for the next task; at the first task that fits nowhere,
//	     stop and report every candidate's reason (Plan.Failures)
//
// One Place call costs one O(n) pass to build its working copy of the n
// candidates, then O(n·k) per task for k strategies, with no sorting: a
// placement changes only the chosen instance's feasibility, so only that
// instance is re-checked.
//
// PlaceOn is StartTask's variant (one task per named instance, no
// strategies). PickVictims is the scale-in mirror of Place for services
// (§6.3, §6.7). ServiceDefaultStrategies and RunTaskDefaultStrategies are
// what callers pass when a request names no strategy.
//
// # Cluster query language (spec §6.5)
//
// ParseExpression compiles memberOf constraints and ListContainerInstances
// filters; Expr.Match evaluates one against an instance, and Place
// evaluates memberOf against the instance as the plan has changed it
// (runningTasksCount and task:group count the tasks already placed).
//
// # Capacity provider strategies (spec §3.4)
//
// Distribute says which provider each new task of a service or RunTask
// uses (base first, then weights); ScaleIn says which provider loses each
// task when a service scales in.
//
// # Caller contract
//
// The caller passes, as candidates, the instances placement may use: the
// cluster's instances for launchType EC2, or those of the chosen capacity
// provider. Instances of any status may be passed (and should be, for
// spread to count the tasks they still run); only ACTIVE ones take tasks.
// ARNs must be unique. Inputs are never modified. Invalid requests are
// *RequestError values (wrapping a *SyntaxError for a malformed
// expression), for the caller to map to InvalidParameterException; an
// unplaceable task is not an error but Plan.Unplaced and Plan.Failures.
package scheduler
