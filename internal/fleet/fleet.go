package fleet

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"net/netip"
	"path/filepath"
	"sync"
	"time"

	"github.com/berth-dev/berth/internal/acs"
	"github.com/berth-dev/berth/internal/agent"
	"github.com/berth-dev/berth/internal/control"
	"github.com/berth-dev/berth/internal/runtime"
	"github.com/berth-dev/berth/internal/runtime/docker"
	"github.com/berth-dev/berth/internal/runtime/sim"
	"github.com/berth-dev/berth/internal/wire"
)

// The runtimes Config.Runtime chooses from.
const (
	RuntimeAuto   = "auto"   // Docker when it answers, else the simulator
	RuntimeDocker = "docker" // Docker, or New fails
	RuntimeSim    = "sim"    // the simulator
)

// Defaults of Config.
const (
	DefaultNetwork = "berth-fargate"
	DefaultSubnet  = "10.213.0.0/16"
)

// Labels of the pause containers (and of the network the fleet creates).
const (
	labelRole = "com.berth.fargate.role" // "pause" or "network"
	labelTask = "com.berth.fargate.task" // the task ARN
	labelIP   = "com.berth.fargate.ip"   // the task's address
)

// Timings of the reconcile loop.
const (
	resyncInterval = 30 * time.Second // a pass without any change
	retryDelay     = 5 * time.Second  // after a failed pass step
	provisionLimit = 8                // pause containers made at once
	pingTimeout    = 3 * time.Second  // Docker's answer, under auto
	prepareTimeout = time.Minute      // network and pause image
	healthInterval = 20 * time.Second // health published besides changes
	pauseImageSim  = "berth/fargate-pause:sim"
)

// Config configures a Fleet. Control and DataDir are required.
type Config struct {
	Control *control.Control
	// Runtime is RuntimeAuto (the default), RuntimeDocker or RuntimeSim.
	Runtime string
	// DataDir holds the engine's task state files and scratch volumes, and
	// the simulator's state.
	DataDir string
	// Log receives the fleet's log; nil discards.
	Log *slog.Logger
	// Network is the Docker network the tasks' addresses live on (default
	// DefaultNetwork); it is created with Subnet (default DefaultSubnet)
	// unless it exists. On the simulator, addresses come from Subnet.
	Network string
	Subnet  netip.Prefix
	// StopTimeout is the grace between SIGTERM and SIGKILL for containers
	// without stopTimeout; default 30 s.
	StopTimeout time.Duration
	// TaskCleanupWait is how long a STOPPED task's containers are kept
	// (for `docker logs`) before they are removed; default 1 min.
	TaskCleanupWait time.Duration
	// Spot configures Fargate Spot interruptions (see Spot); the zero
	// value interrupts only on demand, with the two-minute warning.
	Spot Spot
}

// Fleet runs the Fargate tasks of every namespace (see the package doc).
// New starts it; Close stops it, leaving the tasks running for the next
// Fleet on the same data directory and runtime.
type Fleet struct {
	cfg  Config
	log  *slog.Logger
	ctl  *control.Control
	rt   runtime.Runtime
	dock *docker.Runtime // nil on the simulator
	eng  *agent.Engine

	// Owned by the loop goroutine (run) alone.
	prepared   bool
	gateway    netip.Addr
	pauseImage string
	alloc      allocator
	pauses     map[string]pause     // by task ARN; nil until listed
	retryAt    map[string]time.Time // tasks whose provisioning failed, by ARN

	// Lifecycle: cancel stops the loops, wg waits for them.
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
}

// pause is a task's pause container.
type pause struct {
	id string
	ip netip.Addr
}

// New opens the runtime (Docker when it answers under RuntimeAuto, saying
// so in the log, else the simulator), takes over the tasks its data
// directory records, and starts the fleet's loops. It fails on a bad
// Config, when RuntimeDocker is asked for and Docker does not answer, or
// when the data directory cannot be used.
func New(ctx context.Context, cfg Config) (*Fleet, error) {
	switch {
	case cfg.Control == nil:
		return nil, errors.New("fleet: Config.Control is required")
	case cfg.DataDir == "":
		return nil, errors.New("fleet: Config.DataDir is required")
	}
	if cfg.Runtime == "" {
		cfg.Runtime = RuntimeAuto
	}
	if cfg.Network == "" {
		cfg.Network = DefaultNetwork
	}
	if !cfg.Subnet.IsValid() {
		cfg.Subnet = netip.MustParsePrefix(DefaultSubnet)
	}
	if cfg.TaskCleanupWait <= 0 {
		cfg.TaskCleanupWait = time.Minute
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	cfg.Spot = cfg.Spot.withDefaults()
	f := &Fleet{cfg: cfg, log: cfg.Log, ctl: cfg.Control, retryAt: map[string]time.Time{}}
	if err := f.openRuntime(ctx); err != nil {
		return nil, err
	}
	eng, err := agent.NewEngine(agent.EngineConfig{
		Runtime:         f.rt,
		Reporter:        reporter{f.ctl},
		DataDir:         cfg.DataDir,
		Logger:          f.log.With("component", "fargate"),
		StopTimeout:     cfg.StopTimeout,
		TaskCleanupWait: cfg.TaskCleanupWait,
		// Every container of a task joins its pause container.
		NetworkFor: func(t *acs.Task) string { return "container:" + pauseName(t.ARN) },
	})
	if err != nil {
		f.closeRuntime()
		return nil, err
	}
	f.eng = eng
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	f.cancel = cancel
	f.wg.Go(func() { f.run(runCtx) })
	f.wg.Go(func() { f.publishHealth(runCtx) })
	f.wg.Go(func() { f.spot(runCtx) })
	return f, nil
}

// Start is New for server.Config.FargateFleet: a fleet on c with the
// given runtime and data directory, and the defaults otherwise.
func Start(ctx context.Context, c *control.Control, kind, dataDir string, log *slog.Logger) (io.Closer, error) {
	f, err := New(ctx, Config{Control: c, Runtime: kind, DataDir: dataDir, Log: log})
	if err != nil {
		return nil, err
	}
	return f, nil
}

// Runtime returns the runtime the fleet uses: RuntimeDocker or RuntimeSim.
func (f *Fleet) Runtime() string {
	if f.dock != nil {
		return RuntimeDocker
	}
	return RuntimeSim
}

// openRuntime opens the runtime Config.Runtime asks for.
func (f *Fleet) openRuntime(ctx context.Context) error {
	switch f.cfg.Runtime {
	case RuntimeAuto, RuntimeDocker:
		d, err := docker.New()
		if err == nil {
			pctx, cancel := context.WithTimeout(ctx, pingTimeout)
			err = d.Ping(pctx)
			cancel()
			if err != nil {
				d.Close()
			}
		}
		switch {
		case err == nil:
			f.rt, f.dock = d, d
			f.log.Info("fargate fleet: using docker runtime", "network", f.cfg.Network)
			return nil
		case f.cfg.Runtime == RuntimeDocker:
			return fmt.Errorf("fleet: the Docker Engine is not reachable (use --fargate-runtime sim to simulate Fargate tasks): %w", err)
		}
		f.log.Warn("docker not reachable: fargate fleet uses the simulated runtime", "err", err)
	case RuntimeSim:
		f.log.Info("fargate fleet: using the simulated runtime")
	default:
		return fmt.Errorf("fleet: unknown runtime %q (want auto, docker or sim)", f.cfg.Runtime)
	}
	h := fnv.New64a()
	h.Write([]byte(f.cfg.DataDir))
	s, err := sim.New(sim.Options{Seed: h.Sum64(), Logger: f.log, StateFile: filepath.Join(f.cfg.DataDir, "sim-state.json")})
	if err != nil {
		return fmt.Errorf("fleet: simulated runtime: %w", err)
	}
	f.rt = s
	return nil
}

func (f *Fleet) closeRuntime() {
	if c, ok := f.rt.(interface{ Close() error }); ok {
		if err := c.Close(); err != nil {
			f.log.Warn("fargate fleet: closing the runtime failed", "err", err)
		}
	}
}

// Close stops the fleet in order: its loops, then the engine (whose tasks
// keep running), then the runtime client. It is idempotent.
func (f *Fleet) Close() error {
	f.once.Do(func() {
		f.cancel()
		f.wg.Wait()
		f.eng.Close()
		f.closeRuntime()
	})
	return nil
}

// run is the reconcile loop: a pass over control's Fargate tasks whenever
// the view changes, when a failed step is due again, and every
// resyncInterval.
func (f *Fleet) run(ctx context.Context) {
	for ctx.Err() == nil {
		if f.pauses == nil {
			if err := f.listPauses(ctx); err != nil {
				f.log.Warn("fargate fleet: listing pause containers failed; retrying", "err", err, "in", retryDelay)
				sleep(ctx, retryDelay)
				continue
			}
		}
		tasks, rev := f.ctl.FleetTasks()
		wait := resyncInterval
		if due := f.reconcile(ctx, tasks, time.Now()); !due.IsZero() {
			wait = min(wait, max(time.Until(due), 10*time.Millisecond))
		}
		wctx, cancel := context.WithTimeout(ctx, wait)
		_, _ = f.ctl.WaitChange(wctx, rev) // a timeout is a resync
		cancel()
	}
}

// listPauses records the pause containers the runtime has.
func (f *Fleet) listPauses(ctx context.Context) error {
	list, err := f.rt.List(ctx, map[string]string{labelRole: "pause"})
	if err != nil {
		return err
	}
	f.pauses = make(map[string]pause, len(list))
	for _, c := range list {
		ip, _ := netip.ParseAddr(c.Labels[labelIP])
		f.pauses[c.Labels[labelTask]] = pause{id: c.ID, ip: ip}
	}
	return nil
}

// reconcile brings the runtime in line with control's tasks, and returns
// when a step that failed is due again (zero if none):
//
//   - a PROVISIONING task gets an address and a pause container, then is
//     recorded provisioned (PENDING, ENI ATTACHED);
//   - a provisioned task goes to the engine, which runs it, or stops it
//     when its desired status is STOPPED; one the engine does not hold
//     and whose pause container is gone (the fleet's data directory was
//     lost) gets its pause container back, with its address, first;
//   - a task the engine holds that control no longer lists is stopped;
//   - the pause container of a task that has STOPPED is removed.
func (f *Fleet) reconcile(ctx context.Context, tasks []control.FleetTask, now time.Time) time.Time {
	live := make(map[string]bool, len(tasks))
	used := map[netip.Addr]bool{}
	for _, ft := range tasks {
		live[ft.ARN] = true
		if ip, err := netip.ParseAddr(ft.PrivateIP); err == nil {
			used[ip] = true
		}
	}
	for _, p := range f.pauses {
		used[p.ip] = true
	}
	held := map[string]bool{}
	for _, arn := range f.eng.Tasks() {
		held[arn] = true
	}
	var due time.Time
	var provision []control.FleetTask
	for _, ft := range tasks {
		_, hasPause := f.pauses[ft.ARN]
		switch {
		case ft.Desired != "RUNNING" && ft.LastStatus == "PROVISIONING":
			// StopTask stops these itself; nothing runs.
		case ft.LastStatus == "PROVISIONING", ft.Desired == "RUNNING" && !held[ft.ARN] && !hasPause:
			if at := f.retryAt[ft.ARN]; at.After(now) {
				due = earliest(due, at)
				continue
			}
			provision = append(provision, ft)
		default:
			f.eng.Apply(ft.Task)
		}
	}
	if len(provision) > 0 {
		due = earliest(due, f.provision(ctx, provision, used, now))
	}
	for arn := range held {
		if !live[arn] {
			f.eng.Stop(arn)
		}
	}
	for arn, p := range f.pauses {
		if live[arn] {
			continue
		}
		if err := f.rt.Remove(ctx, p.id); err != nil && !errors.Is(err, runtime.ErrNotFound) {
			if ctx.Err() == nil {
				f.log.Warn("fargate fleet: removing a pause container failed", "task", arn, "err", err)
			}
			due = earliest(due, now.Add(retryDelay))
			continue
		}
		delete(f.pauses, arn)
	}
	for arn := range f.retryAt {
		if !live[arn] {
			delete(f.retryAt, arn)
		}
	}
	return due
}

// provision gives tasks their pause container (with an address from the
// subnet for a PROVISIONING task, the one it has otherwise), then records
// PROVISIONING ones provisioned and hands the others to the engine. Up to
// provisionLimit tasks are worked on at once. A pause container that
// cannot be made stops its task (ResourceInitializationError); a failure
// to record the result is retried after retryDelay. It returns when a
// retry is due (zero if none).
func (f *Fleet) provision(ctx context.Context, tasks []control.FleetTask, used map[netip.Addr]bool, now time.Time) time.Time {
	if err := f.prepare(ctx); err != nil {
		if ctx.Err() == nil {
			f.log.Warn("fargate fleet: preparing the task network failed; retrying", "err", err, "in", retryDelay)
		}
		return now.Add(retryDelay)
	}
	if f.gateway.IsValid() {
		used[f.gateway] = true
	}
	results := make([]provisioned, len(tasks))
	sem := make(chan struct{}, provisionLimit)
	var wg sync.WaitGroup
	for i, ft := range tasks {
		// A pause container made by an earlier pass (whose recording
		// failed) is reused with its address.
		p, ok := f.pauses[ft.ARN]
		if !ok {
			ip, err := netip.ParseAddr(ft.PrivateIP)
			if err != nil {
				if ip, ok = f.alloc.take(used); !ok {
					f.fail(ctx, ft, "ResourceInitializationError: no free address in the subnet "+f.alloc.subnet.String())
					continue
				}
				used[ip] = true
			}
			p.ip = ip
		}
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			results[i] = f.provisionOne(ctx, ft, p)
		})
	}
	wg.Wait()
	var due time.Time
	for i, ft := range tasks {
		r := results[i]
		if r.p.id != "" {
			f.pauses[ft.ARN] = r.p
		}
		switch {
		case r.err != nil:
			if ctx.Err() == nil {
				f.log.Warn("fargate fleet: recording a provisioned task failed; retrying", "task", ft.ARN, "err", r.err, "in", retryDelay)
			}
			f.retryAt[ft.ARN] = now.Add(retryDelay)
			due = earliest(due, now.Add(retryDelay))
		case r.p.id != "":
			delete(f.retryAt, ft.ARN)
			if ft.LastStatus != "PROVISIONING" {
				f.eng.Apply(ft.Task)
			}
		}
	}
	return due
}

// provisioned is the outcome of provisionOne.
type provisioned struct {
	p   pause // the pause container, if made
	err error // recording the task provisioned failed: retry
}

// provisionOne makes a task's pause container with the address p.ip,
// unless p already is one, and, for a PROVISIONING task, records it
// provisioned. It runs concurrently with others: it touches no loop-owned
// state.
func (f *Fleet) provisionOne(ctx context.Context, ft control.FleetTask, p pause) (res provisioned) {
	if p.id == "" {
		id, err := f.startPause(ctx, ft.ARN, p.ip)
		if err != nil {
			if ctx.Err() == nil {
				f.fail(ctx, ft, "ResourceInitializationError: unable to create the task's network: "+err.Error())
			}
			return res
		}
		p.id = id
	}
	res.p = p
	ip := p.ip
	if ft.LastStatus == "PROVISIONING" {
		res.err = f.ctl.ProvisionFargateTask(ctx, ft.Namespace, ft.Cluster, ft.ID, ip.String(), macAddress(ip), eniID(ft.ARN))
		if res.err == nil {
			f.log.Info("fargate fleet: task provisioned", "task", ft.ARN, "privateIPv4Address", ip)
		}
	}
	return res
}

// prepare makes, once, what every task network needs: with Docker, the
// network (whose subnet then rules the addresses) and the pause image.
func (f *Fleet) prepare(ctx context.Context) error {
	if f.prepared {
		return nil
	}
	if f.dock == nil {
		f.alloc.subnet, f.pauseImage, f.prepared = f.cfg.Subnet.Masked(), pauseImageSim, true
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, prepareTimeout)
	defer cancel()
	n, err := f.dock.EnsureNetwork(ctx, f.cfg.Network, f.cfg.Subnet, map[string]string{labelRole: "network"})
	if err != nil {
		return err
	}
	arch, err := f.dock.Arch(ctx)
	if err != nil {
		return err
	}
	program, ok := pauseProgram(arch)
	if !ok {
		return fmt.Errorf("fleet: no pause program for the %s architecture", arch)
	}
	ref := pauseImageRef(program)
	if err := f.dock.ImportImage(ctx, ref, map[string][]byte{"pause": program}, []string{"/pause"}); err != nil {
		return err
	}
	f.alloc.subnet, f.gateway, f.pauseImage, f.prepared = n.Subnet, n.Gateway, ref, true
	return nil
}

// startPause creates and starts a task's pause container on the fleet's
// network with address ip. A container that fails to start is removed.
func (f *Fleet) startPause(ctx context.Context, taskARN string, ip netip.Addr) (string, error) {
	id, err := f.rt.Create(ctx, runtime.ContainerSpec{
		Name:        pauseName(taskARN),
		Image:       f.pauseImage,
		NetworkMode: f.cfg.Network,
		IPv4Address: ip.String(),
		Labels:      map[string]string{labelRole: "pause", labelTask: taskARN, labelIP: ip.String()},
	})
	if err != nil {
		return "", err
	}
	if err := f.rt.Start(ctx, id); err != nil {
		if rerr := f.rt.Remove(context.WithoutCancel(ctx), id); rerr != nil && !errors.Is(rerr, runtime.ErrNotFound) {
			f.log.Warn("fargate fleet: removing a pause container that did not start failed", "task", taskARN, "err", rerr)
		}
		return "", err
	}
	return id, nil
}

// fail stops a task that cannot run, as failing to start (the stop code
// is TaskFailedToStart).
func (f *Fleet) fail(ctx context.Context, ft control.FleetTask, reason string) {
	f.log.Warn("fargate fleet: task failed to start", "task", ft.ARN, "reason", reason)
	_, err := f.ctl.SubmitTaskStateChange(ctx, ft.Namespace, &wire.SubmitTaskStateChangeRequest{
		Cluster: wire.Ptr(ft.Cluster), Task: wire.Ptr(ft.ARN), Status: wire.Ptr("STOPPED"), Reason: wire.Ptr(reason),
	})
	if err != nil && ctx.Err() == nil {
		f.log.Warn("fargate fleet: recording a failed task failed", "task", ft.ARN, "err", err)
	}
}

// publishHealth records the health of the tasks' containers with control
// whenever it changes, and every healthInterval, until ctx ends.
func (f *Fleet) publishHealth(ctx context.Context) {
	tick := time.NewTicker(healthInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-f.eng.HealthChanged():
		case <-tick.C:
		}
		for _, th := range f.eng.Health() {
			ns, _, err := taskPlace(th.TaskARN)
			if err != nil {
				continue
			}
			health := make(map[string]string, len(th.Containers))
			for _, c := range th.Containers {
				health[c.ContainerName] = c.HealthStatus
			}
			if err := f.ctl.ReportHealth(ctx, ns, th.TaskARN, health); err != nil && ctx.Err() == nil {
				f.log.Debug("fargate fleet: recording container health failed", "task", th.TaskARN, "err", err)
			}
		}
	}
}

// earliest returns the earlier of two times, ignoring zeros.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
