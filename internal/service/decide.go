package service

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"slices"
	"time"
)

// Decide computes one reconcile pass of the service scheduler for s
// (spec §7): which tasks to start and stop, the new deployments[], the
// events to record and the scheduler state to persist. It is a pure
// function: the same Snapshot gives the same Decision whatever the order
// of its slices, and s is not modified.
func Decide(s Snapshot) Decision {
	d := newDecider(&s)
	d.account()
	d.circuitBreaker()
	if d.daemon {
		d.reconcileDaemon()
	} else {
		d.reconcileReplica()
	}
	d.finish()
	return d.out
}

// decider holds one Decide call's working state.
type decider struct {
	s      *Snapshot
	spec   *Spec
	now    time.Time
	daemon bool
	name   string

	tasks []*Task // sorted by ID, copies
	inst  map[string]*Instance
	deps  []*Deployment // working copies; p is one of them or nil
	p     *Deployment

	desired int
	state   State
	// throttled is set while the launch back-off holds launches.
	throttled bool
	// stopping is the set of tasks this decision stops.
	stopping map[string]bool
	// repeat holds this decision's repeating (suppressible) messages.
	repeat []string
	// old is the number of live tasks of non-PRIMARY deployments; stuck
	// is set by reconcile when it could neither start nor stop any.
	old   int
	stuck bool
	// unsettled is set by reconcile when tasks wait for replacement
	// (draining, unhealthy, lost), which rules out steady state.
	unsettled bool
	// next is the earliest timed wake-up seen so far.
	next time.Time

	out Decision
}

func newDecider(s *Snapshot) *decider {
	d := &decider{
		s:        s,
		spec:     &s.Spec,
		now:      s.Now,
		daemon:   s.Spec.SchedulingStrategy == StrategyDaemon,
		name:     s.ServiceName,
		inst:     make(map[string]*Instance, len(s.Instances)),
		stopping: make(map[string]bool),
	}
	d.state = State{
		Backoff:       s.State.Backoff,
		LastCompleted: s.State.LastCompleted,
		Notices:       slices.Clone(s.State.Notices),
	}
	for i := range s.Tasks {
		t := s.Tasks[i]
		d.tasks = append(d.tasks, &t)
	}
	slices.SortStableFunc(d.tasks, func(a, b *Task) int { return cmp.Compare(a.ID, b.ID) })
	for i := range s.Instances {
		in := s.Instances[i]
		d.inst[in.ID] = &in
	}

	// Deployments: drop INACTIVE entries, pick the PRIMARY (the newest
	// entry marked PRIMARY, else the newest entry), mark the rest ACTIVE.
	for i := range s.Deployments {
		if s.Deployments[i].Status == StatusInactive {
			continue
		}
		dep := s.Deployments[i]
		d.deps = append(d.deps, &dep)
	}
	sortDeployments(d.deps)
	for _, dep := range d.deps {
		if dep.Status == StatusPrimary {
			d.p = dep
			break
		}
	}
	if d.p == nil && len(d.deps) > 0 {
		d.p = d.deps[0]
	}
	if d.daemon {
		for _, in := range d.inst {
			if in.Status == StatusActive && in.Eligible {
				d.desired++
			}
		}
	} else {
		d.desired = max(s.Spec.DesiredCount, 0)
	}
	for _, dep := range d.deps {
		if dep == d.p {
			dep.Status = StatusPrimary
			dep.DesiredCount = d.desired
			if dep.RolloutState == "" {
				dep.RolloutState = RolloutInProgress
				dep.RolloutStateReason = reasonInProgress(dep.ID)
			}
		} else {
			dep.Status = StatusActive
			dep.DesiredCount = 0
		}
	}
	return d
}

// sortDeployments orders deployments newest first (CreatedAt, then ID).
func sortDeployments(deps []*Deployment) {
	slices.SortStableFunc(deps, func(a, b *Deployment) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
}

// wake records t as a candidate for Decision.NextDecisionAt.
func (d *decider) wake(t time.Time) {
	if t.After(d.now) && (d.next.IsZero() || t.Before(d.next)) {
		d.next = t
	}
}

// account counts the stops of STOPPED tasks not yet accounted and the
// unplaced launches: the PRIMARY's circuit-breaker counter (§7.6) and the
// launch back-off (§7.9).
func (d *decider) account() {
	var lastStart, firstStartP time.Time
	for _, t := range d.tasks {
		if t.StartedAt.IsZero() {
			continue
		}
		if t.StartedAt.After(lastStart) {
			lastStart = t.StartedAt
		}
		if d.p != nil && t.DeploymentID == d.p.ID && (firstStartP.IsZero() || t.StartedAt.Before(firstStartP)) {
			firstStartP = t.StartedAt
		}
	}

	// Back-off: a new deployment or a task reaching RUNNING after the
	// latest failure ends the streak.
	b := &d.state.Backoff
	pid := ""
	if d.p != nil {
		pid = d.p.ID
	}
	if b.DeploymentID != pid || lastStart.After(b.LastFailureAt) {
		*b = Backoff{DeploymentID: pid}
	}

	// Circuit breaker: the first RUNNING task ends stage 1 and resets the
	// counter (§7.6).
	p := d.p
	counting := p != nil && p.RolloutState == RolloutInProgress
	if counting && !p.HealthStage && !firstStartP.IsZero() {
		p.HealthStage = true
		p.FailedTasks = 0
	}

	for _, t := range d.tasks {
		if !stopped(t) || t.Accounted {
			continue
		}
		d.out.Accounted = append(d.out.Accounted, t.ID)
		failed, launch := failure(t)
		if !failed {
			continue
		}
		at := failureTime(d.now, t)
		if launch && at.After(lastStart) {
			d.backoffFailure(at, 1)
		}
		if counting && t.DeploymentID == p.ID && (!p.HealthStage || at.After(firstStartP)) {
			p.FailedTasks++
		}
	}
	for _, u := range d.s.Unplaced {
		if u.Count <= 0 {
			continue
		}
		d.backoffFailure(d.now, u.Count)
		if counting && u.DeploymentID == p.ID && !p.HealthStage {
			p.FailedTasks += u.Count
		}
	}
	d.setBackoff()
}

// backoffFailure adds n launch failures at time at.
func (d *decider) backoffFailure(at time.Time, n int) {
	b := &d.state.Backoff
	b.Failures += n
	if at.After(b.LastFailureAt) {
		b.LastFailureAt = at
	}
}

// setBackoff derives NextLaunchAt and the throttle from the counter.
func (d *decider) setBackoff() {
	b := &d.state.Backoff
	b.NextLaunchAt = time.Time{}
	if b.Failures < BackoffAfter {
		return
	}
	b.NextLaunchAt = b.LastFailureAt.Add(BackoffDelay(b.Failures))
	d.repeat = append(d.repeat, EventThrottled(d.name))
	if d.now.Before(b.NextLaunchAt) {
		d.throttled = true
		d.wake(b.NextLaunchAt)
	}
}

// BackoffDelay returns the launch delay after the given number of
// consecutive launch failures (§7.9 [impl]): none below BackoffAfter,
// then BackoffBase doubling per failure up to BackoffMax.
func BackoffDelay(failures int) time.Duration {
	if failures < BackoffAfter {
		return 0
	}
	shift := failures - BackoffAfter
	if shift >= 7 { // 10 s · 2^7 already exceeds 15 min
		return BackoffMax
	}
	return min(BackoffMax, BackoffBase<<shift)
}

// circuitBreaker fails the PRIMARY when its counter reaches the threshold
// and, with rollback, starts a new PRIMARY from the last COMPLETED
// deployment (§7.6).
func (d *decider) circuitBreaker() {
	p := d.p
	if p == nil || !d.spec.CircuitBreaker.Enable || p.RolloutState != RolloutInProgress ||
		p.FailedTasks < CircuitBreakerThreshold(d.desired) {
		return
	}
	p.RolloutState = RolloutFailed
	p.RolloutStateReason = reasonFailed
	d.out.Events = append(d.out.Events, EventDeploymentFailed(d.name, p.ID))
	if !d.spec.CircuitBreaker.Rollback {
		return
	}
	target := d.state.LastCompleted
	if target.ID == "" || target.ID == p.ID {
		target = Deployment{}
		for _, dep := range d.deps { // newest first
			if dep != p && dep.RolloutState == RolloutCompleted {
				target = *dep
				break
			}
		}
	}
	if target.ID == "" {
		return
	}
	id := d.s.NewDeploymentID
	if id == "" {
		id = derivedID(p.ID)
	}
	nd := &Deployment{
		ID:                 id,
		Status:             StatusPrimary,
		RolloutState:       RolloutInProgress,
		RolloutStateReason: reasonRollback(target.ID),
		TaskDefinition:     target.TaskDefinition,
		Revision:           target.Revision,
		DesiredCount:       d.desired,
		CreatedAt:          d.now,
		UpdatedAt:          d.now,
	}
	p.Status = StatusActive
	p.DesiredCount = 0
	d.deps = append([]*Deployment{nd}, d.deps...)
	d.p = nd
	d.state.Backoff = Backoff{DeploymentID: id}
	d.throttled = false
	d.repeat = slices.DeleteFunc(d.repeat, func(m string) bool { return m == EventThrottled(d.name) })
	d.out.Events = append(d.out.Events, EventRollingBack(d.name, target.ID))
}

// derivedID returns a deterministic "ecs-svc/<19 digits>" ID for the
// rollback of the deployment with the given ID.
func derivedID(from string) string {
	h := fnv.New64a()
	h.Write([]byte("rollback/" + from))
	return fmt.Sprintf("ecs-svc/%019d", h.Sum64()%1e19)
}

// seed returns the scale-in random seed: a function of the service and
// its PRIMARY, so that a decision can be replayed.
func (d *decider) seed() uint64 {
	h := fnv.New64a()
	h.Write([]byte(d.name))
	if d.p != nil {
		h.Write([]byte{0})
		h.Write([]byte(d.p.ID))
	}
	return h.Sum64()
}

// canLaunch reports whether the PRIMARY may start tasks now: it exists,
// has not FAILED, and launches are not throttled (§7.5, §7.9).
func (d *decider) canLaunch() bool {
	return d.p != nil && d.p.RolloutState != RolloutFailed && !d.throttled
}

// maximumPercent returns Spec.MaximumPercent, or the scheduling
// strategy's default (REPLICA 200, DAEMON 100, §7.3) when it is not set:
// 0 is never a valid maximum.
func (d *decider) maximumPercent() int {
	switch {
	case d.spec.MaximumPercent > 0:
		return d.spec.MaximumPercent
	case d.daemon:
		return 100
	}
	return 200
}

// stop adds a stop of t with reason.
func (d *decider) stop(t *Task, reason string) {
	if d.stopping[t.ID] {
		return
	}
	d.stopping[t.ID] = true
	d.out.Stop = append(d.out.Stop, Stop{TaskID: t.ID, Reason: reason})
}

// scalingReason is the stop reason for scale-in, replacement and draining.
func (d *decider) scalingReason(t *Task) string {
	if d.p != nil {
		return ReasonScaling(d.p.ID)
	}
	return ReasonScaling(t.DeploymentID)
}

// stopUnhealthy stops an unhealthy task, emits its health event and
// counts it against the PRIMARY's circuit breaker (§7.6 stage 2, §7.8).
func (d *decider) stopUnhealthy(t *Task) {
	reason := t.UnhealthyReason
	if reason == "" {
		reason = ReasonHealthChecks
	}
	d.stop(t, reason)
	d.out.Events = append(d.out.Events, EventUnhealthy(d.name, t.ID))
	if p := d.p; p != nil && t.DeploymentID == p.ID && p.RolloutState == RolloutInProgress {
		p.FailedTasks++
	}
}

// healthy and unhealthy bind the package predicates to the snapshot.
func (d *decider) healthy(t *Task) bool   { return healthy(d.spec, d.now, t) }
func (d *decider) unhealthy(t *Task) bool { return unhealthy(d.spec, d.now, t) }

// timers records the wake-ups of t's health accounting: the end of its
// grace period and the moment it has been RUNNING for HealthyAfter.
func (d *decider) timers(t *Task) {
	if !live(t) || t.LastStatus != TaskRunning || t.StartedAt.IsZero() {
		return
	}
	if t.HealthStatus == HealthUnhealthy {
		d.wake(inGrace(d.spec, d.now, t))
	}
	if d.spec.HealthyAfter > 0 {
		d.wake(t.StartedAt.Add(d.spec.HealthyAfter))
	}
}

// finish computes counts, deployments[], steady state and events.
func (d *decider) finish() {
	slices.SortFunc(d.out.Stop, func(a, b Stop) int { return cmp.Compare(a.TaskID, b.TaskID) })
	if n := len(d.out.Stop); n > 0 {
		ids := make([]string, n)
		for i, st := range d.out.Stop {
			ids[i] = st.TaskID
		}
		d.out.Events = append(d.out.Events, EventStopped(d.name, ids))
	}

	// Per-deployment counts; ACTIVE deployments without tasks left (live
	// or stopping) become INACTIVE and leave the list (§7.3 step 4).
	byDep := make(map[string]*Deployment, len(d.deps))
	for _, dep := range d.deps {
		byDep[dep.ID] = dep
		dep.RunningCount, dep.PendingCount = 0, 0
	}
	remaining := make(map[string]int)
	allHealthy, liveRunning := true, 0
	for _, t := range d.tasks {
		if stopped(t) {
			continue
		}
		d.timers(t)
		remaining[t.DeploymentID]++
		running, pending := t.LastStatus == TaskRunning, pendingStatus(t)
		if running {
			d.out.RunningCount++
		} else if pending {
			d.out.PendingCount++
		}
		if dep := byDep[t.DeploymentID]; dep != nil {
			if running {
				dep.RunningCount++
			} else if pending {
				dep.PendingCount++
			}
		}
		if live(t) && !d.stopping[t.ID] {
			allHealthy = allHealthy && d.healthy(t)
			if running {
				liveRunning++
			}
		}
	}
	d.deps = slices.DeleteFunc(d.deps, func(dep *Deployment) bool {
		return dep != d.p && remaining[dep.ID] == 0
	})

	// Steady state (§7.7): one deployment, running == desired (tasks
	// being stopped aside), nothing pending, every task healthy, and
	// nothing left to do.
	d.out.DesiredCount = d.desired
	d.out.Steady = d.p != nil && len(d.deps) == 1 && d.out.RunningCount == d.desired && liveRunning == d.desired &&
		d.out.PendingCount == 0 && allHealthy && !d.unsettled && len(d.out.Launch) == 0 && len(d.out.Stop) == 0
	if d.out.Steady && d.p.RolloutState == RolloutInProgress {
		// A finished rollout is a new cause: say "steady" again.
		d.state.Notices = slices.DeleteFunc(d.state.Notices, func(n Notice) bool { return n.Message == EventSteady(d.name) })
		d.p.RolloutState = RolloutCompleted
		d.p.RolloutStateReason = reasonCompleted(d.p.ID)
		d.out.Events = append(d.out.Events, EventDeploymentCompleted(d.name, d.p.ID))
	}
	if d.p != nil && d.p.RolloutState == RolloutCompleted {
		d.state.LastCompleted = rollbackTarget(d.p)
	}

	// Repeating messages, in a fixed order.
	var msgs []string
	if d.out.Steady {
		msgs = append(msgs, EventSteady(d.name))
	}
	if d.stuck {
		msgs = append(msgs, EventStuck(d.name))
	}
	msgs = append(msgs, d.repeat...)
	emit, next := notices(d.now, d.state.Notices, msgs)
	d.out.Events = append(d.out.Events, emit...)
	d.state.Notices = next
	for _, n := range next {
		d.wake(n.At.Add(NoticeRepeat))
	}

	// The new deployments[]: PRIMARY first, then ACTIVE newest first;
	// UpdatedAt moves when an entry changed.
	before := make(map[string]Deployment, len(d.s.Deployments))
	for _, dep := range d.s.Deployments {
		before[dep.ID] = dep
	}
	rest := slices.DeleteFunc(slices.Clone(d.deps), func(dep *Deployment) bool { return dep == d.p })
	sortDeployments(rest)
	if d.p != nil {
		rest = append([]*Deployment{d.p}, rest...)
	}
	for _, dep := range rest {
		if old, ok := before[dep.ID]; ok {
			old.UpdatedAt = dep.UpdatedAt
			if old != *dep {
				dep.UpdatedAt = d.now
			}
		}
		d.out.Deployments = append(d.out.Deployments, *dep)
	}
	d.out.State = d.state
	d.out.NextDecisionAt = d.next
}

// rollbackTarget returns what State.LastCompleted keeps of a COMPLETED
// deployment: its identity and configuration, not its changing counts.
func rollbackTarget(dep *Deployment) Deployment {
	return Deployment{
		ID:                 dep.ID,
		Status:             dep.Status,
		RolloutState:       dep.RolloutState,
		RolloutStateReason: dep.RolloutStateReason,
		TaskDefinition:     dep.TaskDefinition,
		Revision:           dep.Revision,
		CreatedAt:          dep.CreatedAt,
	}
}
