package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/berth-dev/berth/internal/acs"
	"github.com/berth-dev/berth/internal/runtime"
)

// EngineConfig configures an Engine. Runtime, Reporter and DataDir are
// required; every other field has the agent's default (see Config).
type EngineConfig struct {
	// Runtime runs the containers. The engine does not close it.
	Runtime runtime.Runtime
	// Reporter delivers the tasks' state changes.
	Reporter Reporter
	// DataDir holds tasks/ (one state file per task) and volumes/
	// (scratch host volumes).
	DataDir string
	// Logger receives the engine's log; nil discards.
	Logger *slog.Logger
	// Now is the clock for reported timestamps; nil means time.Now.
	Now func() time.Time

	StopTimeout        time.Duration
	TaskCleanupWait    time.Duration
	HealthPollInterval time.Duration
	Backoff            Backoff

	// NetworkFor, when set, returns the network mode of an awsvpc task's
	// containers, e.g. "container:<id>" to join a network namespace the
	// caller has made for the task; their port mappings are then not
	// published (the task's own address serves them). It is called when the
	// engine takes the task, and must be a pure function of it, because a
	// restarted engine calls it again. Unset, awsvpc tasks run on the
	// bridge, as the agent runs them.
	NetworkFor func(t *acs.Task) string

	// MetadataAddr is where the task metadata endpoint listens (see
	// Config.MetadataAddr); "" is 0.0.0.0 on a port the data directory
	// remembers, "off" turns it off.
	MetadataAddr string
}

// Engine is the agent's task engine without a container instance: it runs
// the tasks it is given on a runtime, reports their changes through a
// Reporter, and keeps their state in its data directory exactly as an Agent
// does, but registers nothing and holds no session. The server's built-in
// Fargate fleet runs its tasks on one.
//
// Its methods are safe for concurrent use. Its goroutines (the runtime
// event loop and one loop per task) end at Close.
type Engine struct {
	eng    *engine
	cancel context.CancelFunc
	wg     sync.WaitGroup // the event loop
	once   sync.Once
}

// NewEngine checks cfg, creates the data directory, and starts the engine:
// it follows the runtime's events and takes over the tasks whose state
// files the data directory holds (their containers are re-attached, not
// started again). It fails when a required field is missing or the data
// directory cannot be created or read.
func NewEngine(cfg EngineConfig) (*Engine, error) {
	switch {
	case cfg.Runtime == nil:
		return nil, errors.New("agent: EngineConfig.Runtime is required")
	case cfg.Reporter == nil:
		return nil, errors.New("agent: EngineConfig.Reporter is required")
	case cfg.DataDir == "":
		return nil, errors.New("agent: EngineConfig.DataDir is required")
	}
	dir, err := filepath.Abs(cfg.DataDir) // scratch volumes become bind mounts
	if err != nil {
		return nil, fmt.Errorf("agent: data dir: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("agent: data dir: %w", err)
	}
	c := Config{
		Runtime: cfg.Runtime, DataDir: dir, Logger: cfg.Logger, Now: cfg.Now,
		StopTimeout: cfg.StopTimeout, TaskCleanupWait: cfg.TaskCleanupWait,
		HealthPollInterval: cfg.HealthPollInterval, Backoff: cfg.Backoff,
		MetadataAddr: cfg.MetadataAddr,
	}.withEngineDefaults()
	states, err := loadTaskStates(dir, c.Logger)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	e := &Engine{eng: newEngine(ctx, c, cfg.Reporter), cancel: cancel}
	e.eng.networkFor = cfg.NetworkFor
	e.eng.startMetadata()
	e.wg.Go(func() { e.eng.events(ctx) })
	e.eng.recover(states)
	return e, nil
}

// Apply takes one task, as the agent takes a task of a PayloadMessage: a
// task the engine holds only ever moves to STOPPED (so Apply is
// idempotent), and a new task gets a runner, even when it comes with
// DesiredStatus STOPPED, so that it is reported STOPPED. After Close it
// does nothing.
func (e *Engine) Apply(t acs.Task) { e.eng.apply(t) }

// Stop stops a task the engine holds (nothing for an unknown one).
func (e *Engine) Stop(arn string) { e.eng.stop(arn) }

// Tasks returns the ARNs of the tasks the engine holds, sorted: those
// running or stopping, and those stopped whose containers are not yet
// cleaned up.
func (e *Engine) Tasks() []string {
	e.eng.mu.Lock()
	defer e.eng.mu.Unlock()
	out := make([]string, 0, len(e.eng.runners))
	for arn := range e.eng.runners {
		out = append(out, arn)
	}
	slices.Sort(out)
	return out
}

// Health returns the health of the running containers that have a health
// check, by task.
func (e *Engine) Health() []acs.TaskHealth { return e.eng.health() }

// HealthChanged receives (coalesced) when a container's health changes. It
// has one reader at a time.
func (e *Engine) HealthChanged() <-chan struct{} { return e.eng.healthKick }

// Close stops the engine: the event loop ends, runners stop watching their
// tasks (which keep running, for a new Engine on the same data directory
// to take over), and Close returns once every goroutine has ended. It is
// idempotent.
func (e *Engine) Close() error {
	e.once.Do(func() {
		e.cancel()
		e.wg.Wait()
		e.eng.wait()
		e.eng.stopMetadata()
	})
	return nil
}
