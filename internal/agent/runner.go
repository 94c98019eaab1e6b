package agent

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/berth-dev/berth/internal/acs"
	"github.com/berth-dev/berth/internal/runtime"
)

// reasonOOM is ECS's reason for a container the kernel killed for memory.
const reasonOOM = "OutOfMemoryError: Container killed due to memory usage"

// runner runs one task. Its loop (see loop) is the only one that decides:
// it starts containers as their dependencies allow, stops them in reverse
// dependency order when the task is to stop, and decides the task's
// status. Operations that block on the runtime (start, wait, stop) run in
// goroutines of their own, change the state under mu and wake the loop;
// the report worker sends what changed to the server. On a runtime that
// is a runtime.ExitNotifier a running container has no wait goroutine:
// the runtime's callback marks its exit and the loop starts a wait that
// returns at once (see watch). The loop runs only while there is something
// to look at: a task that waits holds no goroutine of its own.
//
// The runner has two contexts. ctx is its shutdown context: it ends when
// the agent stops, and every goroutine of the runner then returns without
// touching the containers. killCtx is the task's life: it ends when the
// task is to stop, which abandons pulls in progress.
type runner struct {
	e   *engine
	arn string
	log *slog.Logger

	ctx     context.Context
	cancel  context.CancelFunc
	killCtx context.Context
	kill    context.CancelFunc

	// act is the loop's activation state (loopIdle, ...): poke starts a
	// loop goroutine only when none runs.
	act atomic.Int32
	wg  sync.WaitGroup // the operations and the report worker

	// Owned by the loop (one activation at a time; each hands over to the
	// next through act): whether adopt has run, the timer that pokes the
	// loop at its next wake time, the next health poll, and the stop of the
	// context.AfterFunc that pokes the loop when ctx ends.
	adopted   bool
	engineWG  *sync.WaitGroup // the engine's count of runners; set by start
	timer     *time.Timer
	nextPoll  time.Time
	stopWatch func() bool

	// specs and specErrs are the compiled containers, and tokens their
	// task metadata tokens; immutable.
	specs    []runtime.ContainerSpec
	specErrs []error
	tokens   []string

	mu      sync.Mutex
	st      taskState
	ops     []opState
	begun   time.Time // when the runner started, for dependency timeouts
	gen     uint64    // bumped by every change of st
	removed bool      // the state file is gone: save no more
	// reporting is set while the report worker (reportLoop) runs; it is
	// started by the loop only, and clears it when it ends.
	reporting bool

	saveMu sync.Mutex
	saved  uint64 // guarded by saveMu
}

// opState is what is in flight for one container. Guarded by mu.
type opState struct {
	busy     bool      // a start operation runs
	stopping bool      // a stop operation was issued
	healthAt time.Time // when Health was last set from the runtime
	// exitOf is the id of the container whose exit the runtime reported
	// through runtime.ExitNotifier and whose wait operation the loop has
	// yet to start; "" when none.
	exitOf string
}

// newTaskState is the state of a task the agent has just been sent. An
// invalid task starts out STOPPED with the reason, to be reported as such.
func newTaskState(t acs.Task) taskState {
	st := taskState{Task: t, Desired: statusRunning, Status: statusPending}
	if t.DesiredStatus == statusStopped {
		st.Desired = statusStopped
	}
	for _, c := range t.Containers {
		st.Containers = append(st.Containers, containerState{Name: c.Name, RuntimeName: runtimeName(&t, c.Name)})
	}
	if err := validateTask(&t); err != nil {
		st.Desired, st.Status, st.Reason = statusStopped, statusStopped, "UnrecognizedTask: "+err.Error()
		for i := range st.Containers {
			st.Containers[i].Status = statusStopped
		}
	}
	return st
}

func newRunner(e *engine, st taskState) *runner {
	r := &runner{
		e:     e,
		arn:   st.Task.ARN,
		log:   e.log.With("task", st.Task.ARN),
		st:    st,
		ops:   make([]opState, len(st.Containers)),
		begun: e.now(),
		gen:   1,
	}
	r.ctx, r.cancel = context.WithCancel(e.ctx)
	r.killCtx, r.kill = context.WithCancel(r.ctx)
	if st.Desired == statusStopped {
		r.kill()
	}
	names := make([]string, len(st.Containers))
	r.tokens = make([]string, len(st.Containers))
	for i, c := range r.st.Containers {
		names[i] = c.RuntimeName
		if c.MetadataToken == "" { // a new task, or one of an older agent
			r.st.Containers[i].MetadataToken = newMetadataToken()
		}
		r.tokens[i] = r.st.Containers[i].MetadataToken
	}
	var ignored []string
	in := specInput{
		Cluster:     e.cfg.Cluster,
		Names:       names,
		VolumesDir:  e.volumesDir(),
		StopTimeout: e.cfg.StopTimeout,
	}
	if in.Cluster == "" { // an Engine serves every cluster: the task's, by name
		arn := st.Task.TaskClusterARN
		in.Cluster = arn[strings.LastIndexByte(arn, '/')+1:]
	}
	if e.networkFor != nil && st.Task.NetworkMode == "awsvpc" {
		in.AwsvpcMode = e.networkFor(&r.st.Task)
	}
	r.specs, r.specErrs, ignored = taskSpecs(&r.st.Task, in)
	if len(ignored) > 0 {
		r.log.Warn("the runtime cannot apply some container settings; they are ignored", "settings", ignored)
	}
	return r
}

// logsInfo reports whether l writes info lines: the calls made for every
// task check it first, so that an agent logging less does not box their
// attributes either.
func logsInfo(l *slog.Logger) bool { return l.Enabled(context.Background(), slog.LevelInfo) }

// The activation states of a runner's loop (runner.act).
const (
	loopIdle    int32 = iota // no loop goroutine: the next poke starts one
	loopRunning              // a loop goroutine is looking
	loopPoked                // it is, and was poked since it began its look
	loopDone                 // the runner has ended: pokes do nothing
)

// poke wakes the loop: it starts a loop goroutine when none runs, or marks
// the running one to look again. It takes no lock and never blocks.
func (r *runner) poke() {
	for {
		switch r.act.Load() {
		case loopIdle:
			if r.act.CompareAndSwap(loopIdle, loopRunning) {
				go r.loop()
				return
			}
		case loopRunning:
			if r.act.CompareAndSwap(loopRunning, loopPoked) {
				return
			}
		default: // poked already, or done
			return
		}
	}
}

// pokeReport starts the report worker when there is a change to send and
// it is not running. Caller holds mu and is the loop (so that the worker
// joins wg before the loop's last activation waits for it).
func (r *runner) pokeReport() {
	if !r.reporting && r.reportDue() {
		r.reporting = true
		r.wg.Go(r.reportLoop)
	}
}

// touch records a change of st. Caller holds mu.
func (r *runner) touch() { r.gen++ }

// stop makes the task's desired status STOPPED. It is idempotent.
func (r *runner) stop() {
	r.mu.Lock()
	if r.st.Desired != statusStopped {
		r.st.Desired = statusStopped
		r.touch()
		r.log.Info("stopping the task")
	}
	r.mu.Unlock()
	r.kill()
	r.poke()
}

// desired returns the task's desired status and whether it has STOPPED.
func (r *runner) desired() (desired string, stopped bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.st.Desired, r.st.Status == statusStopped
}

// start begins the runner's life: its first activation adopts the
// task's containers. The engine counts the runner in its wait group until
// finish.
func (r *runner) start(wg *sync.WaitGroup) {
	wg.Add(1)
	r.engineWG = wg
	r.act.Store(loopRunning)
	go r.loop()
}

// loop is one activation of the runner's loop: a goroutine that looks at
// the task (turn) until nothing has poked it since its last look, then
// ends, leaving a timer armed for the next time-based wake-up. A runner
// whose task is running and reported therefore holds no goroutine, nor
// its stack, nor a timer: `berth sim` runs 100,000 of them in one process,
// and parked goroutines were most of its memory and of its collector's
// work. Activations never overlap (act hands the loop from one to the
// next), so the loop's state needs no lock. The last activation, once the
// task is cleaned up or the agent stops, waits for the runner's
// operations and tells the engine (finish).
func (r *runner) loop() {
	for {
		r.act.Store(loopRunning) // pokes from here on ask for another look
		if r.turn() {
			r.finish()
			return
		}
		if r.act.CompareAndSwap(loopRunning, loopIdle) {
			return
		}
	}
}

// turn is one look of the loop: it adopts the task's containers on the
// first, then steps the task as far as it goes without waiting and arms
// the timer for the next wake-up. It reports whether the runner is over:
// the agent is stopping, or the task has stopped, been reported and been
// cleaned up.
func (r *runner) turn() bool {
	if r.ctx.Err() != nil {
		return true
	}
	if !r.adopted {
		r.adopted = true
		r.stopWatch = context.AfterFunc(r.ctx, r.poke)
		r.mu.Lock()
		r.pokeReport() // what a recovered task had not reported yet
		r.mu.Unlock()
		if err := r.adopt(); err != nil {
			return true // the agent is stopping
		}
		r.save()
	}
	for {
		now := r.e.now()
		res := r.step(now)
		r.save()
		if res.cleanup {
			r.cleanup()
			return true
		}
		wake := res.wake
		if len(res.health) > 0 {
			if !now.Before(r.nextPoll) {
				r.pollHealth(res.health)
				r.nextPoll = now.Add(r.e.cfg.HealthPollInterval)
				continue
			}
			wake = earliest(wake, r.nextPoll)
		}
		r.arm(wake)
		return false
	}
}

// arm sets the loop's timer to poke it at wake (zero: stops it). A timer
// that fires early or late only causes a look that finds nothing to do or
// one that is a little late, as the wait in a select on it did before.
func (r *runner) arm(wake time.Time) {
	if wake.IsZero() {
		if r.timer != nil {
			r.timer.Stop()
		}
		return
	}
	d := max(wake.Sub(r.e.now()), time.Millisecond)
	if r.timer == nil {
		r.timer = time.AfterFunc(d, r.poke)
		return
	}
	r.timer.Reset(d)
}

// finish ends the runner, in the loop's last activation: no poke starts
// the loop again, the runner's goroutines are told to stop (cancel) and
// waited for, and the engine's count of running runners drops.
func (r *runner) finish() {
	r.act.Store(loopDone)
	if r.timer != nil {
		r.timer.Stop()
	}
	if r.stopWatch != nil {
		r.stopWatch()
	}
	r.cancel()
	r.wg.Wait()
	r.engineWG.Done()
}

// stepResult is what the loop does after a step.
type stepResult struct {
	wake    time.Time // look again then (zero: only when poked)
	health  []int     // containers whose health someone waits for
	cleanup bool      // the task is over: clean up and end
}

// earliest returns the earlier of two times, ignoring zeros.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// step advances the task as far as it can without blocking: it launches
// the operations that are due and moves the task's status forward.
func (r *runner) step(now time.Time) stepResult {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := &r.st
	var res stepResult
	for i := range r.ops {
		if id := r.ops[i].exitOf; id != "" {
			r.ops[i].exitOf = ""
			r.wg.Go(func() { r.waitOp(i, id) })
		}
	}
	if st.Status == statusStopped {
		if st.AckedStatus == statusStopped {
			due := st.StoppedAt.Add(r.e.cfg.TaskCleanupWait)
			if !now.Before(due) {
				res.cleanup = true
			} else {
				res.wake = due
			}
		}
		return res
	}

	if st.Desired != statusStopped {
		for i := range st.Containers {
			c := &st.Containers[i]
			if r.ops[i].busy || (c.Status != statusNone && c.Status != statusCreated) {
				continue
			}
			d := evalDeps(&st.Task, st.Containers, i, r.begun, now)
			switch d.verdict {
			case depReady:
				r.ops[i].busy = true
				r.wg.Go(func() { r.startOp(i) })
			case depWait:
				res.wake = earliest(res.wake, d.deadline)
				for _, j := range d.healthOf {
					if !slices.Contains(res.health, j) {
						res.health = append(res.health, j)
					}
				}
			case depFailed:
				r.failContainer(i, "DependencyError: "+d.reason)
			}
		}
	}

	if st.Desired == statusStopped {
		res.health = nil
		// Containers that never started will not now.
		for i := range st.Containers {
			c := &st.Containers[i]
			if !r.ops[i].busy && (c.Status == statusNone || c.Status == statusCreated) {
				c.Status = statusStopped
				r.touch()
			}
		}
		// Stop running containers once nothing running depends on them.
		allStopped, anyBusy := true, false
		for i := range st.Containers {
			c := &st.Containers[i]
			anyBusy = anyBusy || r.ops[i].busy
			if c.Status != statusStopped {
				allStopped = false
			}
			if c.Status != statusRunning || r.ops[i].stopping || r.liveDependent(i) {
				continue
			}
			r.ops[i].stopping = true
			id, grace := c.RuntimeID, r.specs[i].StopTimeout
			r.wg.Go(func() { r.stopOp(i, id, grace) })
		}
		if allStopped && !anyBusy {
			st.Status = statusStopped
			st.StoppedAt = now
			if st.ExecutionStoppedAt.IsZero() {
				st.ExecutionStoppedAt = now
			}
			r.touch()
			r.log.Info("task stopped", "reason", st.Reason)
			r.pokeReport()
		}
		return res
	}

	if st.Status == statusPending && r.essentialsRunning() {
		st.Status = statusRunning
		r.touch()
		r.log.Info("task running")
		r.pokeReport()
	}
	if st.Status == statusRunning {
		r.pokeReport() // container changes while running
	}
	return res
}

// essentialsRunning reports whether every essential container runs (any
// container, for a task without essential ones). Caller holds mu.
func (r *runner) essentialsRunning() bool {
	anyRunning, all, essentials := false, true, false
	for i, c := range r.st.Task.Containers {
		running := r.st.Containers[i].Status == statusRunning
		anyRunning = anyRunning || running
		if c.Essential {
			essentials = true
			all = all && running
		}
	}
	if !essentials {
		return anyRunning
	}
	return all
}

// liveDependent reports whether a container that runs (or is starting)
// depends on container i. Caller holds mu.
func (r *runner) liveDependent(i int) bool {
	for j := range r.st.Containers {
		if j != i && dependsOn(&r.st.Task, j, i) && (r.st.Containers[j].Status == statusRunning || r.ops[j].busy) {
			return true
		}
	}
	return false
}

// failContainer records that container i will not run, with reason; an
// essential container takes the task down with it (its reason becomes the
// task's). Caller holds mu.
func (r *runner) failContainer(i int, reason string) {
	c := &r.st.Containers[i]
	c.Status, c.Reason = statusStopped, reason
	r.touch()
	r.log.Warn("container failed", "container", c.Name, "reason", reason)
	if r.st.Task.Containers[i].Essential {
		if r.st.Reason == "" {
			r.st.Reason = reason
		}
		r.stopLocked()
	}
}

// stopLocked is stop with mu held.
func (r *runner) stopLocked() {
	if r.st.Desired != statusStopped {
		r.st.Desired = statusStopped
		r.touch()
	}
	r.kill()
}

// startOp pulls, creates and starts container i (only starts it when it
// was created already), then hands it to a wait operation.
func (r *runner) startOp(i int) {
	spec := r.specs[i]
	r.mu.Lock()
	id := r.st.Containers[i].RuntimeID
	r.mu.Unlock()
	fail := func(reason string) {
		r.mu.Lock()
		r.ops[i].busy = false
		r.failContainer(i, reason)
		r.mu.Unlock()
		r.poke()
	}
	abort := func() {
		r.mu.Lock()
		r.ops[i].busy = false
		r.mu.Unlock()
		r.poke()
	}
	if err := r.specErrs[i]; err != nil {
		fail("CannotCreateContainerError: " + err.Error())
		return
	}
	if id == "" {
		r.notePull(true)
		err := r.e.rt.Pull(r.killCtx, spec.Image)
		r.notePull(false)
		switch {
		case r.ctx.Err() != nil:
			return
		case err != nil && r.killCtx.Err() != nil:
			abort()
			return
		case err != nil:
			fail("CannotPullContainerError: " + err.Error())
			return
		}
		spec.Env = r.e.metadataEnv(r.ctx, &spec, r.tokens[i])
		id, err = r.e.rt.Create(r.ctx, spec)
		switch {
		case r.ctx.Err() != nil:
			return
		case errors.Is(err, runtime.ErrImagePull):
			fail("CannotPullContainerError: " + err.Error())
			return
		case err != nil:
			fail("CannotCreateContainerError: " + err.Error())
			return
		}
		r.mu.Lock()
		r.st.Containers[i].RuntimeID, r.st.Containers[i].Status = id, statusCreated
		r.touch()
		r.mu.Unlock()
		r.e.track(id, r)
		r.save()
	}
	if r.killCtx.Err() != nil {
		abort() // the task is stopping: a created container stays unstarted
		return
	}
	if err := r.e.rt.Start(r.ctx, id); err != nil {
		if r.ctx.Err() == nil {
			fail("CannotStartContainerError: " + err.Error())
		}
		return
	}
	info, err := r.e.rt.Inspect(r.ctx, id)
	if err != nil && r.ctx.Err() != nil {
		return
	}
	r.mu.Lock()
	c := &r.st.Containers[i]
	c.Status, c.StartedAt, c.Ports = statusRunning, info.StartedAt, info.Ports
	if c.StartedAt.IsZero() {
		c.StartedAt = r.e.now()
	}
	if info.Health != "" {
		c.Health = info.Health
	}
	r.ops[i].busy = false
	r.touch()
	r.mu.Unlock()
	if logsInfo(r.log) {
		r.log.Info("container started", "container", c.Name, "id", id)
	}
	r.watch(i, id)
	r.save()
	r.poke()
}

// watch arranges for container i's exit to be recorded by a wait
// operation. A runtime that is an ExitNotifier calls back at the exit and
// the loop starts the wait operation then, which returns at once: a
// running container costs a closure in the runtime rather than a goroutine
// parked in Wait, which matters to a simulator running 100,000 of them in
// one process. Other runtimes (and a NotifyExit that fails: waitOp deals
// with a vanished container) get a wait operation now. Caller does not
// hold mu (the callback may run before NotifyExit returns) and runs on
// the loop or an operation of wg.
func (r *runner) watch(i int, id string) {
	n, ok := r.e.rt.(runtime.ExitNotifier)
	if !ok || n.NotifyExit(id, func() { r.exitDue(i, id) }) != nil {
		r.wg.Go(func() { r.waitOp(i, id) })
	}
}

// exitDue is the ExitNotifier callback: container i (id) has exited, so
// the loop is to start its wait operation. It runs on the runtime's
// goroutine and must not block or start operations itself: wg.Go here
// could race the loop's final wg.Wait. It pokes the loop, which starts
// the wait; should the runner have ended already, the mark stays unused.
func (r *runner) exitDue(i int, id string) {
	r.mu.Lock()
	r.ops[i].exitOf = id
	r.mu.Unlock()
	r.poke()
}

// notePull records the task's pull times: the first pull's start and the
// last pull's end.
func (r *runner) notePull(start bool) {
	now := r.e.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if start && r.st.PullStartedAt.IsZero() {
		r.st.PullStartedAt = now
	}
	if !start {
		r.st.PullStoppedAt = now
	}
	r.touch()
}

// waitOp waits for container i to exit and records how. The exit of an
// essential container stops the task.
func (r *runner) waitOp(i int, id string) {
	bo := newBackoff(r.e.cfg.Backoff)
	var res runtime.ExitResult
	for {
		var err error
		res, err = r.e.rt.Wait(r.ctx, id)
		if err == nil {
			break
		}
		if r.ctx.Err() != nil {
			return
		}
		if errors.Is(err, runtime.ErrNotFound) {
			r.mu.Lock()
			r.failContainer(i, "ContainerMissing: the container was removed from the runtime")
			r.mu.Unlock()
			r.save()
			r.poke()
			return
		}
		d := bo.delay()
		r.log.Warn("waiting for a container failed; retrying", "id", id, "err", err, "in", d)
		if sleep(r.ctx, d) != nil {
			return
		}
	}
	finished := r.e.now()
	if info, err := r.e.rt.Inspect(r.ctx, id); err == nil && !info.FinishedAt.IsZero() {
		finished = info.FinishedAt
	}
	r.mu.Lock()
	r.exited(i, res, finished)
	r.mu.Unlock()
	r.save()
	r.poke()
}

// exited records the exit of container i. Caller holds mu.
func (r *runner) exited(i int, res runtime.ExitResult, at time.Time) {
	c := &r.st.Containers[i]
	code := res.ExitCode
	c.Status, c.ExitCode, c.FinishedAt = statusStopped, &code, at
	if res.OOMKilled {
		c.Reason = reasonOOM
	}
	r.touch()
	if logsInfo(r.log) {
		r.log.Info("container exited", "container", c.Name, "exitCode", code)
	}
	if r.st.Task.Containers[i].Essential {
		if r.st.ExecutionStoppedAt.IsZero() {
			r.st.ExecutionStoppedAt = at
		}
		r.stopLocked()
	}
}

// stopOp stops a running container with its grace; its wait operation
// records the exit. Failures are retried until the container has exited.
func (r *runner) stopOp(i int, id string, grace time.Duration) {
	bo := newBackoff(r.e.cfg.Backoff)
	for {
		err := r.e.rt.Stop(r.ctx, id, grace)
		if err == nil || errors.Is(err, runtime.ErrNotFound) || r.ctx.Err() != nil {
			return
		}
		d := bo.delay()
		r.log.Warn("stopping a container failed; retrying", "id", id, "err", err, "in", d)
		if sleep(r.ctx, d) != nil {
			return
		}
		r.mu.Lock()
		exited := r.st.Containers[i].Status == statusStopped
		r.mu.Unlock()
		if exited {
			return
		}
	}
}

// onEvent applies a runtime event about one of the task's containers:
// health changes are recorded (newer than what is known); any event wakes
// the loop.
func (r *runner) onEvent(ev runtime.Event) {
	changed := false
	r.mu.Lock()
	for i := range r.st.Containers {
		c := &r.st.Containers[i]
		if c.RuntimeID != ev.ID || ev.Type != runtime.EventHealth || ev.Time.Before(r.ops[i].healthAt) {
			continue
		}
		if c.Health != ev.Health {
			c.Health = ev.Health
			r.ops[i].healthAt = ev.Time
			r.touch()
			changed = true
		}
	}
	r.mu.Unlock()
	if changed {
		r.e.healthChanged()
	}
	r.poke()
}

// pollHealth inspects the given containers and records their health.
func (r *runner) pollHealth(idx []int) {
	for _, i := range idx {
		r.mu.Lock()
		id := r.st.Containers[i].RuntimeID
		r.mu.Unlock()
		if id == "" {
			continue
		}
		info, err := r.e.rt.Inspect(r.ctx, id)
		if err != nil {
			continue // the wait operation deals with a vanished container
		}
		r.mu.Lock()
		changed := false
		if c := &r.st.Containers[i]; c.RuntimeID == id && c.Health != info.Health && info.Health != "" {
			c.Health = info.Health
			r.ops[i].healthAt = r.e.now()
			r.touch()
			changed = true
		}
		r.mu.Unlock()
		if changed {
			r.e.healthChanged()
		}
	}
}

// adopt finds the task's containers in the runtime by their task-ARN label
// and takes them over: running ones get a wait operation (and are not
// started again), exited ones are recorded as exited, created ones will be
// started. A container the state knew as running that has vanished is
// recorded as stopped. It retries List until it works or ctx ends.
func (r *runner) adopt() error {
	bo := newBackoff(r.e.cfg.Backoff)
	var list []runtime.ContainerState
	for {
		var err error
		list, err = r.e.rt.List(r.ctx, map[string]string{runtime.LabelTaskARN: r.arn})
		if err == nil {
			break
		}
		if r.ctx.Err() != nil {
			return r.ctx.Err()
		}
		d := bo.delay()
		r.log.Warn("listing the task's containers failed; retrying", "err", err, "in", d)
		if err := sleep(r.ctx, d); err != nil {
			return err
		}
	}
	var ids []string
	type waitFor struct {
		i  int
		id string
	}
	var waits []waitFor
	defer func() {
		for _, id := range ids {
			r.e.track(id, r) // after mu is released: locks never nest
		}
		for _, w := range waits {
			r.watch(w.i, w.id) // its callback may take mu at once
		}
	}()
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range r.st.Containers {
		c := &r.st.Containers[i]
		var found *runtime.ContainerState
		for k := range list {
			cs := &list[k]
			if cs.Labels[runtime.LabelContainerName] != c.Name {
				continue
			}
			// Prefer the container the state names, then a running one.
			if found == nil || cs.ID == c.RuntimeID || (found.ID != c.RuntimeID && cs.State == runtime.StateRunning) {
				found = cs
			}
		}
		if found == nil {
			switch c.Status {
			case statusRunning:
				r.failContainer(i, "ContainerMissing: the container was removed while the agent was away")
			case statusCreated:
				c.Status, c.RuntimeID = statusNone, ""
				r.touch()
			}
			continue
		}
		ids = append(ids, found.ID)
		if c.RuntimeID != found.ID {
			c.RuntimeID = found.ID
			r.touch()
		}
		if c.Status == statusStopped {
			continue
		}
		switch {
		case found.State == runtime.StateCreated:
			c.Status = statusCreated
		case found.StartedAt.IsZero() && found.State == runtime.StateExited:
			r.failContainer(i, "CannotStartContainerError: "+found.Error)
		default:
			// Running, or exited while the agent was away: the wait
			// operation returns at once for the latter.
			c.Status, c.StartedAt, c.Ports = statusRunning, found.StartedAt, found.Ports
			if found.Health != "" {
				c.Health = found.Health
			}
			id := found.ID
			waits = append(waits, waitFor{i, id})
			r.log.Info("re-attached to a container", "container", c.Name, "id", id, "state", found.State)
		}
		r.touch()
	}
	return nil
}

// cleanup removes the task's containers and scratch volumes and forgets
// the task (state file included).
func (r *runner) cleanup() {
	r.mu.Lock()
	var ids []string
	for _, c := range r.st.Containers {
		if c.RuntimeID != "" {
			ids = append(ids, c.RuntimeID)
		}
	}
	r.mu.Unlock()
	for _, id := range ids {
		if err := r.e.rt.Remove(r.ctx, id); err != nil && !errors.Is(err, runtime.ErrNotFound) {
			if r.ctx.Err() != nil {
				return // the agent is stopping: clean up next time
			}
			r.log.Warn("removing a container failed", "id", id, "err", err)
		}
	}
	if err := os.RemoveAll(filepath.Join(r.e.volumesDir(), taskID(r.arn))); err != nil {
		r.log.Warn("removing the task's scratch volumes failed", "err", err)
	}
	r.saveMu.Lock()
	r.mu.Lock()
	r.removed = true
	r.mu.Unlock()
	if !r.e.cfg.TaskStateInMemory {
		if err := os.Remove(r.e.statePath(r.arn)); err != nil && !errors.Is(err, os.ErrNotExist) {
			r.log.Warn("removing the task state file failed", "err", err)
		}
	}
	r.saveMu.Unlock()
	r.e.forget(r, ids)
	r.log.Info("task cleaned up")
}

// save writes the state file if the state changed since the last write.
// A failed write is logged: the task goes on (the runtime's labels still
// let a restarted agent find its containers). With
// Config.TaskStateInMemory it does nothing: the runner's state is the only
// copy.
func (r *runner) save() {
	if r.e.cfg.TaskStateInMemory {
		return
	}
	r.saveMu.Lock()
	defer r.saveMu.Unlock()
	r.mu.Lock()
	gen := r.gen
	if gen == r.saved || r.removed {
		r.mu.Unlock()
		return
	}
	st := r.st
	st.Containers = slices.Clone(st.Containers)
	r.mu.Unlock()
	if err := writeJSON(r.e.statePath(r.arn), st, false); err != nil {
		r.log.Error("writing the task state failed", "err", err)
		return
	}
	r.saved = gen
}
