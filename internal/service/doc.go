// Package service is the decision core of Berth's ECS service scheduler
// (spec §7, §8): a pure function from a snapshot of one service to the
// actions that move it toward its desired state. It does no I/O, reads no
// clock (Snapshot.Now is the time), starts no goroutines, keeps no state
// between calls and logs nothing. The caller (the service controller)
// builds the Snapshot from the store, applies the Decision through
// control, persists Decision.State and Decision.Deployments, places the
// launched tasks with the scheduler package, and calls Decide again on the
// next task change, on a resync, or at Decision.NextDecisionAt.
//
// # One pass of Decide
//
//	Snapshot ──► account newly STOPPED tasks (Task.Accounted == false)
//	             │   circuit breaker counter of the PRIMARY (§7.6)
//	             │   launch back-off (§7.9)
//	             ├─► circuit breaker trip: PRIMARY FAILED, optional rollback
//	             │   to the last COMPLETED deployment (a new PRIMARY)
//	             ├─► REPLICA (§7.3) or DAEMON (§7.1) reconcile:
//	             │   start  – new tasks for the PRIMARY within maximumPercent
//	             │   stop   – surplus, old-deployment, draining, unhealthy and
//	             │            lost tasks, never below minimumHealthyPercent
//	             ├─► deployments[]: counts, drained ACTIVE entries removed,
//	             │   IN_PROGRESS → COMPLETED at steady state (§7.5)
//	             └─► steady state and the events of §7.11 ──► Decision
//
// # Deployment rollout (§7.5, §7.6)
//
//	           new deployment (UpdateService, CreateService, rollback)
//	                             │
//	                             ▼
//	   ┌──────────── PRIMARY / IN_PROGRESS ─────────────┐
//	   │ steady state                failedTasks ≥      │
//	   ▼                             threshold          ▼
//	PRIMARY / COMPLETED                         PRIMARY / FAILED
//	   │ superseded                                     │ rollback: a new
//	   ▼                                                │ PRIMARY from the
//	ACTIVE (desiredCount 0) ──no tasks left──► removed  ◄ last COMPLETED one
//
// # Health (§7.4)
//
// A task counts as healthy when it is RUNNING (desiredStatus RUNNING), has
// been RUNNING for Spec.HealthyAfter, and, when Spec.HasHealthChecks, its
// HealthStatus is HEALTHY. A RUNNING task whose HealthStatus is UNHEALTHY
// after the grace period (Spec.HealthCheckGracePeriod from StartedAt) is
// replaced (§7.8).
//
// # Task sets (§8)
//
// ComputedDesiredCount and StabilityStatus are the task-set arithmetic of
// §8.3 and §8.8. A task set's tasks are reconciled by calling Decide with
// a Spec whose DesiredCount is the set's computedDesiredCount, one
// PRIMARY deployment standing for the set, and the circuit breaker off.
package service
