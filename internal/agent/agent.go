package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	goruntime "runtime"
	"sync"
)

// Agent is one container instance. New prepares it, Run registers it and
// runs its tasks until its context ends or Close is called, and Close
// stops it without stopping its tasks (like the ECS agent, a restarted
// Agent on the same data directory takes them over).
type Agent struct {
	cfg Config
	log *slog.Logger

	// ctx ends at Close; Run's context is derived from it.
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	arn     string
	started bool
	runWG   sync.WaitGroup // Run, for Close to wait for
}

// New checks cfg, applies its defaults (the host's CPU and memory when
// not given), and creates the data directory. It does no network I/O.
func New(cfg Config) (*Agent, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if cfg.CPU == 0 {
		cfg.CPU = int64(goruntime.NumCPU()) * 1024
	}
	if cfg.MemoryMiB == 0 {
		mem, err := hostMemoryMiB()
		if err != nil {
			return nil, fmt.Errorf("agent: host memory (set the memory explicitly): %w", err)
		}
		cfg.MemoryMiB = mem
	}
	// Absolute, because scratch volumes under it become bind mounts.
	if cfg.DataDir, err = filepath.Abs(cfg.DataDir); err != nil {
		return nil, fmt.Errorf("agent: data dir: %w", err)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("agent: data dir: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Agent{cfg: cfg, log: cfg.Logger.With("cluster", cfg.Cluster), ctx: ctx, cancel: cancel}, nil
}

// ContainerInstanceARN returns the instance's ARN once Run has registered
// it ("" before).
func (a *Agent) ContainerInstanceARN() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.arn
}

// Run registers the container instance (retrying until the server
// answers), takes over the tasks of earlier runs, and then holds the ACS
// session and runs tasks until ctx ends or Close is called; it returns nil
// then. It returns an error when registration fails for good (a client
// error, attributes not echoed) or the data directory cannot be read. Run
// may be called once.
func (a *Agent) Run(ctx context.Context) error {
	a.mu.Lock()
	if a.started || a.ctx.Err() != nil {
		a.mu.Unlock()
		return errors.New("agent: Run called twice or after Close")
	}
	a.started = true
	a.runWG.Add(1)
	a.mu.Unlock()
	defer a.runWG.Done()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(a.ctx, cancel)
	defer stop()

	arn, err := a.register(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	a.mu.Lock()
	a.arn = arn
	a.mu.Unlock()
	a.log.Info("registered", "containerInstance", arn, "cpu", a.cfg.CPU, "memoryMiB", a.cfg.MemoryMiB)

	var states []taskState
	if !a.cfg.TaskStateInMemory {
		if states, err = loadTaskStates(a.cfg.DataDir, a.log); err != nil {
			return err
		}
	}
	eng := newEngine(ctx, a.cfg, newReporter(a.cfg.ECS, a.cfg.Cluster))
	eng.startMetadata()
	defer eng.stopMetadata() // after the runners
	// Goroutines: the event loop, the ACS and TCS session loops, then the
	// runners; all end with ctx, and are waited for in that order.
	var wg sync.WaitGroup
	wg.Go(func() { eng.events(ctx) })
	eng.recover(states)
	wg.Go(func() { a.sessions(ctx, arn, eng) })
	wg.Go(func() { a.telemetry(ctx, arn, eng) })
	<-ctx.Done()
	wg.Wait()
	eng.wait()
	a.log.Info("agent stopped; tasks keep running")
	return nil
}

// Close stops the agent: the session closes, runners stop watching their
// tasks (which keep running), and Close returns once every goroutine has
// ended. It is idempotent.
func (a *Agent) Close() error {
	// Under mu, so that a Run starting now either sees the cancellation
	// or has joined runWG before Wait.
	a.mu.Lock()
	a.cancel()
	a.mu.Unlock()
	a.runWG.Wait()
	return nil
}
