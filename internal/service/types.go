package service

import (
	"time"

	"github.com/berth-dev/berth/internal/scheduler"
)

// Wire values this package reads and writes (spec §2.1, §2.4, §7.5).
const (
	StrategyReplica = "REPLICA"
	StrategyDaemon  = "DAEMON"

	StatusPrimary  = "PRIMARY"
	StatusActive   = "ACTIVE"
	StatusInactive = "INACTIVE"
	StatusDraining = "DRAINING"

	RolloutInProgress = "IN_PROGRESS"
	RolloutCompleted  = "COMPLETED"
	RolloutFailed     = "FAILED"

	TaskProvisioning   = "PROVISIONING"
	TaskPending        = "PENDING"
	TaskActivating     = "ACTIVATING"
	TaskRunning        = "RUNNING"
	TaskStopped        = "STOPPED"
	HealthHealthy      = "HEALTHY"
	HealthUnhealthy    = "UNHEALTHY"
	StopCodeFailed     = "TaskFailedToStart"
	StopCodeExited     = "EssentialContainerExited"
	StopCodeUser       = "UserInitiated"
	StopCodeScheduler  = "ServiceSchedulerInitiated"
	ReasonHealthChecks = "Task failed container health checks"

	// StabilitySteady and StabilityStabilizing are the task-set
	// stabilityStatus values (§8.8).
	StabilitySteady      = "STEADY_STATE"
	StabilityStabilizing = "STABILIZING"
)

// Timing constants of the spec.
const (
	// NoticeRepeat is how long an identical service event is suppressed
	// while its cause persists (§7.7).
	NoticeRepeat = 6 * time.Hour
	// BackoffBase and BackoffMax shape the launch back-off (§7.9 [impl]):
	// after the 3rd consecutive launch failure the k-th waits
	// min(BackoffMax, BackoffBase·2^(k−3)).
	BackoffBase = 10 * time.Second
	BackoffMax  = 15 * time.Minute
	// BackoffAfter is the number of consecutive launch failures before
	// launches are delayed.
	BackoffAfter = 3
)

// Spec is the service as configured: the inputs UpdateService changes
// without creating a deployment (§7.2), already defaulted and validated by
// the caller.
type Spec struct {
	// SchedulingStrategy is REPLICA (also when empty) or DAEMON (§7.1).
	SchedulingStrategy string
	// DesiredCount is the REPLICA service's desiredCount; ignored for
	// DAEMON, whose desired count is its eligible ACTIVE instances.
	DesiredCount int
	// MinimumHealthyPercent and MaximumPercent are the deployment
	// configuration's bounds (§7.3), defaults already applied (REPLICA
	// 100/200, DAEMON 0/100). A MaximumPercent of 0 (never valid) is
	// taken as the default.
	MinimumHealthyPercent, MaximumPercent int
	// CircuitBreaker is deploymentCircuitBreaker (§7.6).
	CircuitBreaker CircuitBreaker
	// HealthCheckGracePeriod is healthCheckGracePeriodSeconds: for that
	// long after a task starts an UNHEALTHY status does not get it stopped
	// (§7.4).
	HealthCheckGracePeriod time.Duration
	// HasHealthChecks is set when an essential container has a
	// healthCheck or the service has load balancers: then a task counts as
	// healthy only with HealthStatus HEALTHY (the caller folds LB target
	// health into Task.HealthStatus).
	HasHealthChecks bool
	// HealthyAfter is how long a task must have been RUNNING before it
	// counts as healthy (§7.4 says 40 s for services without health
	// checks; callers may pass 0 for speed).
	HealthyAfter time.Duration
	// PlacementStrategies are the service's placement strategies, used to
	// choose scale-in victims (§6.3, §6.7); empty means
	// scheduler.ServiceDefaultStrategies. Invalid ones fall back to it.
	PlacementStrategies []scheduler.Strategy
}

// CircuitBreaker is the deployment circuit breaker configuration (§7.6).
type CircuitBreaker struct {
	// Enable turns failure counting and the FAILED rollout state on.
	Enable bool
	// Rollback makes a FAILED deployment roll back to the last COMPLETED
	// one.
	Rollback bool
}

// Deployment is one entry of the service's deployments[] (§7.5).
type Deployment struct {
	// ID is "ecs-svc/<19 digits>".
	ID string
	// Status is PRIMARY (the newest, at most one), ACTIVE (older, still
	// with tasks) or INACTIVE (never returned: such entries are removed).
	Status string
	// RolloutState is IN_PROGRESS (also when empty on input), COMPLETED or
	// FAILED; RolloutStateReason is ECS's sentence for it.
	RolloutState, RolloutStateReason string
	// TaskDefinition is the deployment's task definition ARN.
	TaskDefinition string
	// Revision is an opaque reference to the rest of the deployment's
	// configuration (e.g. the service revision ARN); a rollback copies it
	// with TaskDefinition.
	Revision string
	// DesiredCount is the service's desired count for the PRIMARY and 0
	// for ACTIVE deployments ([impl] §7.5).
	DesiredCount int
	// RunningCount and PendingCount count the deployment's tasks by
	// lastStatus (RUNNING; PROVISIONING, PENDING or ACTIVATING).
	RunningCount, PendingCount int
	// FailedTasks is the circuit breaker's consecutive-failure counter
	// (§7.6).
	FailedTasks int
	// HealthStage is set once the deployment had a task reach RUNNING:
	// the circuit breaker's launch stage is over and FailedTasks was reset
	// (§7.6 stage 1 → 2).
	HealthStage bool
	// CreatedAt and UpdatedAt are the entry's timestamps; Decide sets
	// UpdatedAt to Snapshot.Now whenever it changes the entry.
	CreatedAt, UpdatedAt time.Time
}

// Task is one of the service's tasks, as the scheduler sees it.
type Task struct {
	// ID is the task ID (the ARN's last segment), used in events.
	ID string
	// DeploymentID is the deployment (startedBy) the task belongs to.
	DeploymentID string
	// InstanceID is the container instance ID; empty for Fargate.
	InstanceID string
	// AvailabilityZone is the task's AZ, for scale-in balancing (§6.7)
	// when its instance is not in Snapshot.Instances.
	AvailabilityZone string
	// LastStatus and DesiredStatus are the task's statuses (§2.1).
	LastStatus, DesiredStatus string
	// HealthStatus is HEALTHY, UNHEALTHY or UNKNOWN (§2.1).
	HealthStatus string
	// UnhealthyReason overrides the stop reason of an unhealthy
	// replacement (e.g. "Task failed ELB health checks in (target-group
	// ARN)"); empty means ReasonHealthChecks.
	UnhealthyReason string
	// StartedAt is when the task reached RUNNING (zero: never);
	// StoppedAt is when it reached STOPPED.
	StartedAt, StoppedAt time.Time
	// StopCode is the stopped task's stopCode (§2.1). TaskFailedToStart
	// and EssentialContainerExited count as failures (§7.6, §7.9).
	StopCode string
	// Protected is task scale-in protection (§7.12): the task is not
	// stopped for scale-in or deployments.
	Protected bool
	// Accounted is set on a STOPPED task whose stop an earlier Decision
	// already counted (listed in Decision.Accounted).
	Accounted bool
	// CPU and Memory are the task's reservation (binpack scale-in).
	CPU, Memory int64
}

// Instance is a container instance the service's tasks run on or may run
// on.
type Instance struct {
	// ID is the container instance ID, as in Task.InstanceID.
	ID string
	// Status is ACTIVE, DRAINING or INACTIVE (others count as not ACTIVE).
	Status string
	// Eligible (DAEMON) says the instance satisfies the service's
	// constraints and can fit its task.
	Eligible bool
	// AvailabilityZone is the instance's ecs.availability-zone.
	AvailabilityZone string
	// RemainingCPU and RemainingMemory feed binpack scale-in.
	RemainingCPU, RemainingMemory int64
	// OtherTasks is the number of live tasks of other services on the
	// instance: a DAEMON task on a DRAINING instance is stopped only when
	// it is 0, so daemons stop last (§2.4 item 5, §7.1).
	OtherTasks int
}

// State is what the scheduler remembers between decisions. The caller
// stores Decision.State and passes it back in the next Snapshot.
type State struct {
	// Backoff is the launch back-off (§7.9).
	Backoff Backoff
	// LastCompleted is the last deployment that reached COMPLETED, the
	// rollback target (§7.6); zero ID when none.
	LastCompleted Deployment
	// Notices are the repeating events already emitted whose repeats are
	// suppressed while their cause persists, up to NoticeRepeat (§7.7).
	Notices []Notice
}

// Backoff is the throttle for repeatedly failing launches (§7.9).
type Backoff struct {
	// DeploymentID is the PRIMARY the counter belongs to: a new
	// deployment resets it.
	DeploymentID string
	// Failures counts consecutive launch failures (tasks that stopped
	// without reaching RUNNING, and unplaceable launches).
	Failures int
	// LastFailureAt is when the latest counted failure happened.
	LastFailureAt time.Time
	// NextLaunchAt is when launches may resume; zero when not throttled.
	NextLaunchAt time.Time
}

// Notice is an emitted event whose identical repeats are suppressed.
type Notice struct {
	Message string
	At      time.Time
}

// Snapshot is everything Decide reads.
type Snapshot struct {
	// Now is the decision time.
	Now time.Time
	// ServiceName names the service in event messages.
	ServiceName string
	// Spec is the service configuration.
	Spec Spec
	// Deployments is the service's deployments[] (PRIMARY and ACTIVE
	// entries), in any order.
	Deployments []Deployment
	// Tasks are the service's tasks not yet forgotten: live, stopping, and
	// STOPPED ones (the latter needed until Accounted). IDs are unique.
	Tasks []Task
	// Instances are the container instances the caller knows: for DAEMON
	// every instance of the cluster; for REPLICA at least those the
	// service's tasks run on (to see DRAINING and INACTIVE ones). IDs
	// are unique.
	Instances []Instance
	// Unplaced lists the previous Decision's launches the caller could not
	// place, each reported once: they count as launch failures (§7.6
	// stage 1, §7.9).
	Unplaced []Launch
	// State is the previous Decision.State.
	State State
	// NewDeploymentID is the ID for a deployment this decision creates (a
	// rollback); when empty one is derived from the failed deployment's.
	NewDeploymentID string
}

// Decision is what the scheduler wants done.
type Decision struct {
	// Launch lists the tasks to start: for REPLICA one entry with a
	// Count; for DAEMON one entry per instance with Count 1.
	Launch []Launch
	// Stop lists the tasks to stop (desiredStatus STOPPED, stopCode
	// ServiceSchedulerInitiated), sorted by task ID.
	Stop []Stop
	// Deployments is the new deployments[]: PRIMARY first, then ACTIVE
	// ones newest first.
	Deployments []Deployment
	// Events are the service events to record, oldest first (§7.11).
	Events []string
	// Accounted lists the STOPPED tasks whose stop this decision counted;
	// the caller sets Task.Accounted on them (or forgets them).
	Accounted []string
	// State is the scheduler memory to persist.
	State State
	// DesiredCount is the service desiredCount (for DAEMON the number of
	// eligible ACTIVE instances); RunningCount and PendingCount are summed
	// over deployments (§7.5).
	DesiredCount, RunningCount, PendingCount int
	// Steady reports steady state (§7.7).
	Steady bool
	// NextDecisionAt is the earliest time a decision may differ with no
	// change to the inputs (back-off end, grace period or HealthyAfter
	// expiry, event repeat); zero when nothing is timed.
	NextDecisionAt time.Time
}

// Launch is a request to start tasks of a deployment.
type Launch struct {
	// DeploymentID is the deployment the tasks belong to.
	DeploymentID string
	// TaskDefinition is that deployment's task definition.
	TaskDefinition string
	// Count is the number of tasks.
	Count int
	// InstanceID is the DAEMON target instance; empty for REPLICA.
	InstanceID string
}

// Stop is a request to stop one task.
type Stop struct {
	// TaskID is the task to stop.
	TaskID string
	// Reason is the stoppedReason, e.g. "Scaling activity initiated by
	// (deployment ecs-svc/…)" or ReasonHealthChecks (§2.1).
	Reason string
}
