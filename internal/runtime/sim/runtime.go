package sim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/internal/runtime"
)

var (
	_ runtime.Runtime      = (*Runtime)(nil)
	_ runtime.ExitNotifier = (*Runtime)(nil)
)

// ErrClosed is returned by every method called after Close, and by Wait and
// Stop calls that were blocked when Close ran.
var ErrClosed = errors.New("sim: runtime closed")

// Runtime is a simulated container runtime. All methods are safe for
// concurrent use. It keeps no goroutine of its own: one Clock timer, armed
// for the earliest pending transition, drives all timed transitions, and
// its callback runs only when something is due (see schedule).
type Runtime struct {
	// Configuration, immutable after New.
	clock     Clock
	log       *slog.Logger
	speed     float64
	timings   Timings
	evBuf     int
	stateFile string

	// done is closed by Close; it releases blocked Wait, Stop and step
	// delays.
	done chan struct{}

	mu       sync.Mutex
	closed   bool
	pcg      *rand.PCG // the seeded source behind rng, kept to snapshot it
	rng      *rand.Rand
	seq      uint64
	byID     map[string]*container
	byName   map[string]*container
	images   map[string]struct{}
	ports    portPool
	ips      ipPool
	sched    schedule
	timer    Timer     // armed for sched[0].wake; nil when idle
	armed    time.Time // what timer is armed for
	timerGen uint64    // bumped whenever timer is replaced or stopped
	subs     map[*subscriber]struct{}
	gen      uint64 // bumped by every change StateFile must record
	// notify holds the NotifyExit callbacks of containers that exited or
	// were removed under mu; unlock calls them once mu is released, so
	// that a callback taking its caller's lock cannot deadlock with a
	// caller that holds that lock while calling the Runtime.
	notify []func()

	saveMu sync.Mutex // serialises StateFile writes
	saved  uint64     // guarded by saveMu: the gen last written
}

// New returns a Runtime. With Options.StateFile set and present, the
// Runtime starts from the state recorded there (see Restore). It fails on
// invalid options or an unreadable state file.
func New(opts Options) (*Runtime, error) {
	o, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	pcg := rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15)
	r := &Runtime{
		clock:     o.clock,
		log:       o.log,
		speed:     o.speed,
		timings:   o.timings,
		evBuf:     o.evBuf,
		stateFile: o.stateFile,
		done:      make(chan struct{}),
		pcg:       pcg,
		rng:       rand.New(pcg),
		byID:      make(map[string]*container),
		byName:    make(map[string]*container),
		images:    make(map[string]struct{}),
	}
	r.ports = newPortPool(r.rng)
	r.ips = newIPPool(r.rng)
	for _, img := range opts.Images {
		r.images[img] = struct{}{}
	}
	if r.stateFile != "" {
		if err := r.load(); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Close stops the Runtime: the timer is stopped, event channels are closed,
// blocked Wait and Stop calls return ErrClosed, NotifyExit callbacks not
// yet called are dropped (never called), and later calls return
// ErrClosed. Simulated containers are not stopped; with a StateFile, a new
// Runtime picks them up. Close is idempotent and never fails.
func (r *Runtime) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	close(r.done)
	r.disarm()
	// Nothing exits any more: drop the callbacks rather than keep what
	// they reference alive with the Runtime.
	for _, c := range r.byID {
		c.onExit = nil
	}
	for s := range r.subs {
		r.unsubscribe(s)
	}
	return nil
}

// imageMissing reports the image-name conventions for an image that
// cannot be pulled.
func imageMissing(image string) bool {
	return image == "" || strings.Contains(image, "berth-sim-missing") || strings.HasSuffix(image, ":missing")
}

// Pull makes image present. An image already present returns at once. Any
// other image takes a pull time drawn from [Timings.PullMin,
// Timings.PullMax] and is present afterwards, except images whose name
// contains "berth-sim-missing" or ends with ":missing" (or is empty): those
// fail after the pull time with an error wrapping runtime.ErrImagePull.
func (r *Runtime) Pull(ctx context.Context, image string) error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return ErrClosed
	}
	_, present := r.images[image]
	var d time.Duration
	if !present {
		d = r.timings.PullMin
		if spread := r.timings.PullMax - r.timings.PullMin; spread > 0 {
			d += time.Duration(r.rng.Int64N(int64(spread) + 1))
		}
	}
	r.mu.Unlock()
	if present {
		return ctx.Err()
	}
	if err := r.sleep(ctx, scale(d, r.speed)); err != nil {
		return err
	}
	if imageMissing(image) {
		return fmt.Errorf("sim: pull %q: manifest unknown: %w", image, runtime.ErrImagePull)
	}
	r.mu.Lock()
	if _, ok := r.images[image]; !ok {
		r.images[image] = struct{}{}
		r.gen++
	}
	r.mu.Unlock()
	r.save()
	return nil
}

// Create creates a container after the create time (plus any
// BERTH_SIM_PULL_DELAY). It fails with an error wrapping
// runtime.ErrImagePull for a missing image (by name convention) or
// BERTH_SIM_FAIL=pull, as Docker refuses to create from an image it does
// not have, and with one wrapping runtime.ErrCreate for BERTH_SIM_FAIL=create,
// a malformed BERTH_SIM_* variable, a name already in use, or exhausted
// addresses or dynamic ports. Images need not have been pulled.
func (r *Runtime) Create(ctx context.Context, spec runtime.ContainerSpec) (string, error) {
	k, err := parseKnobs(spec.Env)
	if err != nil {
		return "", fmt.Errorf("sim: create %q: %w: %w", spec.Name, runtime.ErrCreate, err)
	}
	if err := r.sleep(ctx, k.createTime(r.timings, r.speed)); err != nil {
		return "", err
	}
	if k.fail == failPull || imageMissing(spec.Image) {
		return "", fmt.Errorf("sim: create %q: no such image %q: %w", spec.Name, spec.Image, runtime.ErrImagePull)
	}
	if k.fail == failCreate {
		return "", fmt.Errorf("sim: create %q: %w: %s=create", spec.Name, runtime.ErrCreate, knobFail)
	}
	c := &container{
		name:      spec.Name,
		image:     spec.Image,
		createdAt: r.clock.Now(),
		memMiB:    spec.MemoryLimitMiB,
		state:     runtime.StateCreated,
		health:    runtime.HealthUnknown,
		b:         k.behaviour(spec.HealthCheck, r.timings, r.speed),
		idx:       -1,
	}
	if len(spec.Labels) > 0 {
		c.labels = maps.Clone(spec.Labels)
	}
	switch mode := spec.NetworkMode; {
	case mode == "host":
		c.net = netHost
	case mode == "none":
		c.net = netNone
	case strings.HasPrefix(mode, "container:"):
		c.net, c.netOf = netContainer, strings.TrimPrefix(mode, "container:")
	}

	if err := r.insert(c, spec.Ports); err != nil {
		return "", fmt.Errorf("sim: create %q: %w", spec.Name, err)
	}
	r.save()
	return c.id, nil
}

// insert gives c an id, a name if it has none, an address and ports, and
// adds it to the Runtime.
func (r *Runtime) insert(c *container, ports []runtime.PortBinding) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ErrClosed
	}
	if c.name != "" {
		if _, dup := r.byName[c.name]; dup {
			return fmt.Errorf("%w: the name is already in use", runtime.ErrCreate)
		}
	}
	if err := r.allocate(c, ports); err != nil {
		return fmt.Errorf("%w: %w", runtime.ErrCreate, err)
	}
	c.id = newID(r.rng)
	for r.byID[c.id] != nil {
		c.id = newID(r.rng)
	}
	if c.name == "" {
		c.name = "sim-" + c.id[:12]
	}
	r.seq++
	c.seq = r.seq
	r.byID[c.id] = c
	r.byName[c.name] = c
	r.gen++
	if r.debug() {
		r.log.Debug("sim: created", "id", c.id, "name", c.name, "image", c.image)
	}
	return nil
}

// allocate gives c its address and resolves its port bindings: on the
// bridge, a HostPort of 0 gets a dynamic port (held until Remove) and
// others are static (held while running); on the host network every port
// is static and 0 means the container port; in another container's
// namespace ports are reported as the container ports and hold nothing;
// with no network there are none. Caller holds mu; on failure nothing is
// held.
func (r *Runtime) allocate(c *container, ports []runtime.PortBinding) error {
	if c.net == netNone {
		return nil
	}
	if c.net == netBridge {
		ip, err := r.ips.take()
		if err != nil {
			return err
		}
		c.ip = ip
	}
	c.ports = make([]runtime.PortBinding, 0, len(ports))
	for _, p := range ports {
		if p.Protocol == "" {
			p.Protocol = "tcp"
		}
		dynamic := false
		switch {
		case c.net == netBridge && p.HostPort == 0:
			k, err := r.ports.take(strings.EqualFold(p.Protocol, "udp"))
			if err != nil {
				r.release(c)
				return err
			}
			p.HostPort = int(k.Port)
			c.dynamic = append(c.dynamic, k)
			dynamic = true
		case p.HostPort == 0:
			p.HostPort = p.ContainerPort
		}
		if !dynamic && c.net != netContainer {
			c.static = append(c.static, newPortKey(p.HostPort, p.Protocol))
		}
		c.ports = append(c.ports, p)
	}
	return nil
}

// release frees c's address and dynamic ports. Caller holds mu.
func (r *Runtime) release(c *container) {
	r.ports.release(c.dynamic)
	c.dynamic = nil
	if c.ip != 0 {
		r.ips.release(c.ip)
		c.ip = 0
	}
}

// Start starts a created (or exited: Docker restarts it) container after
// the start time; starting a running container does nothing. It returns
// ErrNotFound for an unknown id. With BERTH_SIM_FAIL=start, or when a
// static host port is held by another running container, the container
// ends up exited with code 128 and Error set (a die event is sent), and
// Start returns an error wrapping runtime.ErrStart.
func (r *Runtime) Start(ctx context.Context, id string) error {
	r.mu.Lock()
	c, err := r.lookup(id)
	if err != nil {
		r.mu.Unlock()
		return err
	}
	if c.state == runtime.StateRunning {
		r.mu.Unlock()
		return nil
	}
	delay := c.b.StartDelay
	r.mu.Unlock()

	if err := r.sleep(ctx, delay); err != nil {
		return err
	}

	r.mu.Lock()
	if c2, err := r.lookup(id); c2 != c {
		// Removed (or the Runtime closed) during the start delay.
		r.mu.Unlock()
		if err == nil {
			err = fmt.Errorf("sim: start %s: %w", id, runtime.ErrNotFound)
		}
		return err
	}
	if c.state == runtime.StateRunning {
		r.mu.Unlock()
		return nil
	}
	now := r.clock.Now()
	var failure string
	if c.b.FailStart {
		failure = "simulated start failure (" + knobFail + "=start)"
	} else if k, ok := r.ports.claim(c.static); !ok {
		failure = "Bind for 0.0.0.0:" + k.String() + " failed: port is already allocated"
	}
	if failure != "" {
		r.failStart(c, now, failure)
	} else {
		r.start(c, now)
	}
	r.gen++
	r.unlock()
	r.save()
	if failure != "" {
		return fmt.Errorf("sim: start %s: %w: %s", id, runtime.ErrStart, failure)
	}
	return nil
}

// start makes c run from now. Caller holds mu and has claimed c's static
// ports.
func (r *Runtime) start(c *container, now time.Time) {
	c.state = runtime.StateRunning
	c.startedAt, c.finishedAt, c.stopAt = now, time.Time{}, time.Time{}
	c.exitCode, c.oom, c.ended, c.err = 0, false, exitNone, ""
	c.health = runtime.HealthUnknown
	c.exitAt, c.exitWhy = time.Time{}, exitNone
	if c.b.Run >= 0 {
		c.exitAt, c.exitWhy = now.Add(c.b.Run), exitNatural
	}
	r.publish(runtime.Event{Type: runtime.EventStart, ID: c.id, Time: now})
	if r.debug() {
		r.log.Debug("sim: started", "id", c.id, "name", c.name)
	}
	r.advanceHealth(c, now)
	r.reschedule(c)
	r.runDue(now)
	r.arm(now)
}

// failStart records a failed start. Caller holds mu.
func (r *Runtime) failStart(c *container, now time.Time, msg string) {
	c.state = runtime.StateExited
	c.startedAt, c.finishedAt, c.stopAt = time.Time{}, now, time.Time{}
	c.ended, c.err = exitFailed, msg
	c.exitCode, c.oom = c.b.exitResult(exitFailed)
	c.health = runtime.HealthUnknown
	r.wakeWaiters(c)
	r.publish(runtime.Event{Type: runtime.EventDie, ID: c.id, Time: now})
	if r.debug() {
		r.log.Debug("sim: start failed", "id", c.id, "name", c.name, "error", msg)
	}
}

// Stop sends SIGTERM and blocks until the container has exited or ctx
// ends (the container still exits on schedule then). A container that
// honours SIGTERM exits with 143 after its stop delay if that fits in
// grace; one with BERTH_SIM_IGNORE_SIGTERM, or a slower one, is killed
// with 137 when grace (divided by Options.Speed) ends; grace <= 0 kills at
// once. A second Stop can only bring the exit forward. Stopping a created
// or exited container does nothing. It returns ErrNotFound for an unknown
// id.
func (r *Runtime) Stop(ctx context.Context, id string, grace time.Duration) error {
	r.mu.Lock()
	c, err := r.lookup(id)
	if err != nil {
		r.mu.Unlock()
		return err
	}
	if c.state != runtime.StateRunning {
		r.mu.Unlock()
		return nil
	}
	now := r.clock.Now()
	if c.stopAt.IsZero() {
		c.stopAt = now
	}
	after, why := c.b.stopPlan(scale(grace, r.speed))
	if at := now.Add(after); c.exitAt.IsZero() || at.Before(c.exitAt) {
		c.exitAt, c.exitWhy = at, why
	}
	if r.debug() {
		r.log.Debug("sim: SIGTERM", "id", c.id, "name", c.name, "exitAt", c.exitAt)
	}
	r.reschedule(c)
	r.runDue(now)
	r.arm(now)
	r.gen++
	var exited <-chan struct{}
	if c.state == runtime.StateRunning {
		exited = c.waitChan()
	}
	r.unlock()
	r.save()
	if exited == nil {
		return nil
	}
	select {
	case <-exited:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-r.done:
		return ErrClosed
	}
}

// Wait blocks until the container exits and returns how it ended; for an
// exited container it returns at once. It returns ctx's error when ctx
// ends first, ErrNotFound for an unknown id or a container removed before
// it ever exited, and ErrClosed when the Runtime is closed.
func (r *Runtime) Wait(ctx context.Context, id string) (runtime.ExitResult, error) {
	r.mu.Lock()
	c, err := r.lookup(id)
	if err != nil {
		r.mu.Unlock()
		return runtime.ExitResult{}, err
	}
	if c.state == runtime.StateExited {
		defer r.mu.Unlock()
		return c.result(), nil
	}
	exited := c.waitChan()
	r.mu.Unlock()
	select {
	case <-exited:
	case <-ctx.Done():
		return runtime.ExitResult{}, ctx.Err()
	case <-r.done:
		return runtime.ExitResult{}, ErrClosed
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if c.state != runtime.StateExited {
		return runtime.ExitResult{}, fmt.Errorf("sim: wait %s: removed before it exited: %w", id, runtime.ErrNotFound)
	}
	return c.result(), nil
}

// NotifyExit calls fn once when container id exits or is removed (a
// removed container's Wait returns ErrNotFound): synchronously if it has
// exited already, else from the goroutine that makes it exit (a Stop,
// Remove or Start caller, or the Runtime's timer), after the Runtime's
// lock is released. No goroutine waits for it: the callback is kept on the
// container, which is the point at fleet scale. fn must not block and
// must not call the Runtime. A container that is restarted after its exit
// needs a new NotifyExit. It returns ErrNotFound for an unknown id and
// ErrClosed after Close; callbacks pending at Close are never called.
func (r *Runtime) NotifyExit(id string, fn func()) error {
	r.mu.Lock()
	c, err := r.lookup(id)
	if err != nil {
		r.mu.Unlock()
		return err
	}
	if c.state == runtime.StateExited {
		r.mu.Unlock()
		fn()
		return nil
	}
	c.onExit = append(c.onExit, fn)
	r.mu.Unlock()
	return nil
}

// unlock releases mu, then calls the NotifyExit callbacks queued while it
// was held. Every critical section that can make a container exit or
// remove it ends with unlock rather than mu.Unlock.
func (r *Runtime) unlock() {
	fns := r.notify
	r.notify = nil
	r.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
}

// Inspect returns the container's current state, or ErrNotFound.
func (r *Runtime) Inspect(ctx context.Context, id string) (runtime.ContainerState, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := r.lookup(id)
	if err != nil {
		return runtime.ContainerState{}, err
	}
	return c.inspect(r.ipOf(c)), nil
}

// ipOf returns the address c reports. Caller holds mu.
func (r *Runtime) ipOf(c *container) string {
	if c.net != netContainer {
		return ipString(c.ip)
	}
	other := r.byID[c.netOf]
	if other == nil {
		other = r.byName[c.netOf]
	}
	if other == nil || other.net == netContainer {
		return ""
	}
	return ipString(other.ip)
}

// List returns the containers carrying every given label (nil: all), in
// creation order, whatever their state.
func (r *Runtime) List(ctx context.Context, labels map[string]string) ([]runtime.ContainerState, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, ErrClosed
	}
	var found []*container
	for _, c := range r.byID {
		if c.hasLabels(labels) {
			found = append(found, c)
		}
	}
	slices.SortFunc(found, func(a, b *container) int { return cmpUint(a.seq, b.seq) })
	out := make([]runtime.ContainerState, len(found))
	for i, c := range found {
		out[i] = c.inspect(r.ipOf(c))
	}
	return out, nil
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Remove deletes a container, killing it first (exit 137, a die event) if
// it runs, and frees its address and ports; a destroy event follows. It
// returns ErrNotFound for an unknown id.
func (r *Runtime) Remove(ctx context.Context, id string) error {
	r.mu.Lock()
	c, err := r.lookup(id)
	if err != nil {
		r.mu.Unlock()
		return err
	}
	now := r.clock.Now()
	if c.state == runtime.StateRunning {
		r.finish(c, now, exitKill)
		r.arm(now)
	}
	delete(r.byID, c.id)
	delete(r.byName, c.name)
	r.release(c)
	c.removed = true
	r.wakeWaiters(c)
	r.publish(runtime.Event{Type: runtime.EventDestroy, ID: c.id, Time: now})
	if r.debug() {
		r.log.Debug("sim: removed", "id", c.id, "name", c.name)
	}
	r.gen++
	r.unlock()
	r.save()
	return nil
}

// Logs returns the container's synthesised output (see doc.go), at most
// max bytes from the end (0: all), or ErrNotFound.
func (r *Runtime) Logs(ctx context.Context, id string, max int) ([]byte, error) {
	r.mu.Lock()
	c, err := r.lookup(id)
	if err != nil {
		r.mu.Unlock()
		return nil, err
	}
	out := c.logs()
	r.mu.Unlock()
	if max > 0 && len(out) > max {
		out = out[len(out)-max:]
	}
	return out, nil
}

// lookup finds a container by id. Caller holds mu.
func (r *Runtime) lookup(id string) (*container, error) {
	if r.closed {
		return nil, ErrClosed
	}
	c := r.byID[id]
	if c == nil {
		return nil, fmt.Errorf("sim: container %s: %w", id, runtime.ErrNotFound)
	}
	return c, nil
}

// plainSleepMax is the longest step sleep waits for without watching ctx
// and Close (see sleep).
const plainSleepMax = 25 * time.Millisecond

// sleep waits d on the Clock, or until ctx ends or the Runtime closes (a
// step of at most plainSleepMax on the wall clock: until it is over).
func (r *Runtime) sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d <= 0 {
		return nil
	}
	if _, real := r.clock.(RealClock); real {
		if d <= plainSleepMax {
			// A short step (a create, a start: 5 and 20 ms by default)
			// sleeps as a goroutine does, without a timer channel to
			// select on: at 100,000 containers the select's locking was
			// a tenth of a simulated fleet's CPU. Like Docker's own
			// create and start, which a cancelled request does not cut
			// short, the step then ends before ctx and Close are looked
			// at; it answers at most plainSleepMax late.
			time.Sleep(d)
			if err := ctx.Err(); err != nil {
				return err
			}
			select {
			case <-r.done:
				return ErrClosed
			default:
				return nil
			}
		}
		// The wall clock (or synctest's): a plain timer, without the
		// channel, closure and goroutine of an AfterFunc.
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-r.done:
			return ErrClosed
		}
	}
	ch := make(chan struct{})
	t := r.clock.AfterFunc(d, func() { close(ch) })
	defer t.Stop()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-r.done:
		return ErrClosed
	}
}

// debug reports whether the logger wants debug lines: the transitions
// check it first, so that a Runtime that does not log them does not box
// their attributes either.
func (r *Runtime) debug() bool {
	return r.log.Enabled(context.Background(), slog.LevelDebug)
}
