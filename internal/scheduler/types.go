package scheduler

import "time"

// Candidate is one container instance as placement sees it: a snapshot the
// caller builds from the instance record. Place never modifies it; the
// charges of a multi-task plan live in the scheduler's own working copy.
type Candidate struct {
	// The members every Place call reads of every candidate come first,
	// within one cache line: at 5,000 instances a call's pass over the
	// candidates is bound by memory, not by its comparisons.

	// RemainingCPU and RemainingMemory are the instance's
	// remainingResources CPU units and MiB (spec §9.2).
	RemainingCPU, RemainingMemory int64
	// Status is the instance status: only ACTIVE instances take tasks.
	Status string
	// AgentConnected is false while the agent has no control session;
	// such an instance fails with reason AGENT.
	AgentConnected bool
	// RemainingENIs is the number of free ENI attachment slots; it is
	// consulted only when Request.ENI is set (awsvpc tasks on EC2).
	RemainingENIs int
	// Fingerprint is Fingerprint(ARN), or 0 to let Place compute it. Ties
	// are broken by it, and at 5,000 identical instances hashing every ARN
	// on every call costs more than the ranking: callers that keep their
	// candidates between calls compute it once. Any other value than
	// Fingerprint(ARN) (or 0) breaks Place's determinism guarantee.
	Fingerprint uint64
	// TaskGroups counts live tasks (desiredStatus RUNNING) per task group
	// ("service:web", "family:batch", ...). Spread, distinctInstance and
	// the task:group subject read it.
	TaskGroups map[string]int

	// ARN is the container instance ARN; it identifies the candidate in
	// Plan.Failures and in every tie-break, so it must be unique.
	ARN string
	// ID is the short container instance ID (the ARN's last segment).
	ID string
	// AgentVersion, EC2InstanceID, RegisteredAt and RunningTasksCount feed
	// the cluster query language subjects of the same names. Empty or zero
	// values mean "unknown": a comparison against them is false.
	AgentVersion      string
	EC2InstanceID     string
	RegisteredAt      time.Time
	RunningTasksCount int
	// Attributes holds built-in (ecs.availability-zone, ecs.instance-type,
	// ecs.os-type, ecs.cpu-architecture, ecs.capability.*, ...) and custom
	// attributes. An attribute without a value maps to "".
	Attributes map[string]string
	// UsedPorts and UsedPortsUDP are the reserved host ports: the
	// agent's reserved set plus every fixed hostPort of live tasks.
	UsedPorts, UsedPortsUDP map[int]bool
	// RemainingGPUs holds the IDs of GPUs no live task holds.
	RemainingGPUs []string
	// Tasks lists the live tasks on the instance. Only PickVictims reads
	// it; Place may be given candidates without it.
	Tasks []TaskInfo
}

// TaskInfo is one live task on a candidate, as scale-in sees it.
type TaskInfo struct {
	ARN   string
	Group string
	// CPU and Memory are the task's reservation, returned to the instance
	// when the task stops (binpack scale-in ranks on the remainder).
	CPU, Memory int64
	// Preferred marks a task ECS stops first on scale-in: unhealthy, or
	// not yet RUNNING (spec §6.7 [impl]).
	Preferred bool
}

// Request describes the tasks to place: Count copies of one task.
type Request struct {
	// Count is the number of tasks (RunTask count, or a service's missing
	// tasks). Zero yields an empty plan.
	Count int
	// CPU and Memory are the task's reservation (spec §9.2).
	CPU, Memory int64
	// Ports and PortsUDP are the task's fixed host ports (bridge or host
	// network mode). Dynamic host ports (0) must not be listed.
	Ports, PortsUDP []int
	// GPUs is the number of GPUs the task needs.
	GPUs int
	// ENI is set for awsvpc tasks on EC2: each takes an ENI slot.
	ENI bool
	// RequiredAttributes are the task definition's requiresAttributes
	// plus the OS and architecture the task needs. An instance without
	// the attribute (or, when Value is set, with another value) fails
	// with reason ATTRIBUTE.
	RequiredAttributes []Attribute
	// AvailabilityZones, when set, are the AZs of the task's awsvpc
	// subnets: an instance elsewhere fails with reason LOCATION.
	AvailabilityZones []string
	// Group is the task group: "service:<name>" for service tasks, the
	// RunTask group (default "family:<family>") for standalone ones.
	// Spread and distinctInstance count tasks of this group.
	Group string
	// Strategies rank the feasible instances, in order (at most 5). Empty
	// means no ranking: a uniformly random feasible instance, which is
	// the RunTask default (RunTaskDefaultStrategies). Services with no
	// strategy must pass ServiceDefaultStrategies.
	Strategies []Strategy
	// Constraints are binding filters (at most 10): the request's and the
	// task definition's memberOf constraints, and distinctInstance.
	Constraints []Constraint
	// Seed drives every random choice. The same Request, Seed and
	// candidates (in any order) give the same Plan.
	Seed uint64
	// Scratch, when set, is working memory Place reuses instead of
	// allocating its per-candidate arrays on every call (at 5,000
	// candidates and thousands of calls a second they were a fifth of
	// the server's allocations). It never changes the plan.
	Scratch *Scratch
}

// Scratch is reusable working memory for Place. The zero value is ready.
// A Scratch must not be used by two Place calls at once; no Plan refers
// to it after Place returns.
type Scratch struct {
	slots []slot
	keys  []uint64
	live  []int32
}

// grow returns s resized to n elements, all zero, reusing its array when
// it is large enough.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	s = s[:n]
	clear(s)
	return s
}

// Attribute is a required instance attribute. An empty Value only requires
// the attribute to be present.
type Attribute struct {
	Name, Value string
}

// Strategy is one placement strategy (the wire PlacementStrategy).
type Strategy struct {
	// Type is "binpack", "spread" or "random".
	Type string
	// Field is "cpu" or "memory" for binpack; "instanceId", "host" or
	// "attribute:<name>" for spread; ignored for random.
	Field string
}

// Constraint is one placement constraint (the wire PlacementConstraint).
type Constraint struct {
	// Type is "distinctInstance" or "memberOf".
	Type string
	// Expression is the memberOf cluster query (at most 2000 characters);
	// distinctInstance takes none.
	Expression string
}

// Strategy types, constraint types and fields, as on the wire.
const (
	StrategyBinpack = "binpack"
	StrategySpread  = "spread"
	StrategyRandom  = "random"

	ConstraintDistinctInstance = "distinctInstance"
	ConstraintMemberOf         = "memberOf"

	FieldCPU        = "cpu"
	FieldMemory     = "memory"
	FieldInstanceID = "instanceId"
	FieldHost       = "host"
	// FieldAttributePrefix starts a spread field naming an attribute.
	FieldAttributePrefix = "attribute:"

	// AttributeAZ is the built-in availability zone attribute.
	AttributeAZ = "ecs.availability-zone"

	// StatusActive is the only instance status that takes tasks.
	StatusActive = "ACTIVE"
)

// Limits on a request (spec §6.3, §6.4).
const (
	MaxStrategies       = 5
	MaxConstraints      = 10
	MaxExpressionLength = 2000
	// MaxReservedPorts is the number of host ports (TCP and UDP together)
	// an instance may have reserved (spec §6.2).
	MaxReservedPorts = 100
)

// ServiceDefaultStrategies returns the strategy ECS applies to service tasks
// when the service has none (spec §6.3 "Defaults", §7.10): prefer the
// availability zone with the fewest tasks of the service, then the instance
// with the fewest tasks of the service; remaining ties are random. Given to
// PickVictims it yields the scale-in mirror of §6.7.
func ServiceDefaultStrategies() []Strategy {
	return []Strategy{
		{Type: StrategySpread, Field: FieldAttributePrefix + AttributeAZ},
		{Type: StrategySpread, Field: FieldInstanceID},
	}
}

// RunTaskDefaultStrategies returns the strategy for a standalone RunTask with
// none: random among the feasible instances (spec §6.3 "Defaults", [impl]).
// It places exactly as an empty Request.Strategies does.
func RunTaskDefaultStrategies() []Strategy {
	return []Strategy{{Type: StrategyRandom}}
}

// Plan is the outcome of placing a request.
type Plan struct {
	// Placements holds one entry per placed task, in task order.
	Placements []Placement
	// Unplaced is the number of tasks that could not be placed.
	Unplaced int
	// Failures holds, when Unplaced > 0, every candidate's first failing
	// check at the point the first task could not be placed, one entry
	// per (ARN, Reason), sorted by ARN then Reason (spec §6.8 [impl]).
	// Instances that are not ACTIVE are not candidates and get no entry,
	// so Unplaced > 0 with no Failures means there was no ACTIVE
	// instance at all (the caller words that case itself, e.g. "No
	// Container Instances were found in your cluster.").
	Failures []Failure
	// Closest is the closest matching instance (the candidate that failed
	// latest in the check order, ties to the most remaining memory, then
	// the lowest ARN) for service event messages (spec §6.2); nil when
	// every task was placed or there was no candidate at all.
	Closest *Failure
}

// Placement is one task put on one instance.
type Placement struct {
	// Task is the 0-based index of the task in the request (Place) or of
	// the target (PlaceOn).
	Task int
	// ARN and ID identify the chosen container instance.
	ARN, ID string
	// GPUs are the GPU IDs assigned to the task (the lowest free IDs).
	GPUs []string
}

// Failure is a RunTask/StartTask failures[] entry: an instance and why it
// could not take the task.
type Failure struct {
	ARN, Reason string
}

// Failure reasons (spec §6.2, §6.8). The RESOURCE:*, AGENT, ATTRIBUTE,
// LOCATION, MISSING and INACTIVE codes are ECS's; the constraint texts are
// [impl] (ECS documents the memberOf text as a provisioning stoppedReason,
// and is silent on distinctInstance — Appendix A.10).
const (
	ReasonCPU              = "RESOURCE:CPU"
	ReasonMemory           = "RESOURCE:MEMORY"
	ReasonPorts            = "RESOURCE:PORTS"
	ReasonPortsUDP         = "RESOURCE:PORTS_UDP"
	ReasonENI              = "RESOURCE:ENI"
	ReasonGPU              = "RESOURCE:GPU"
	ReasonAgent            = "AGENT"
	ReasonAttribute        = "ATTRIBUTE"
	ReasonLocation         = "LOCATION"
	ReasonMemberOf         = "MemberOf placement constraint unsatisfied"
	ReasonDistinctInstance = "DistinctInstance placement constraint unsatisfied"
	ReasonMissing          = "MISSING"
	ReasonInactive         = "INACTIVE"
)
