package agent

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/berth-dev/berth/internal/acs"
	"github.com/berth-dev/berth/internal/runtime"
)

// engine holds the runners, one per task ARN. It is safe for concurrent
// use: the session applies payloads and manifests, the event loop
// dispatches runtime events, and runners forget themselves when done.
// Neither the engine nor a runner calls into the other while holding its
// own mu, so their locks never nest.
type engine struct {
	cfg Config
	rt  runtime.Runtime
	log *slog.Logger
	// rep delivers the runners' state changes.
	rep Reporter
	// networkFor, when set, gives the network mode of an awsvpc task's
	// containers (see EngineConfig.NetworkFor); nil runs them on the bridge.
	networkFor func(t *acs.Task) string
	// ctx is every runner's parent shutdown context: when it ends the
	// runners return and leave their containers as they are.
	ctx context.Context

	// healthKick wakes the telemetry session when a container's health
	// changed; capacity 1.
	healthKick chan struct{}

	// meta is the task metadata endpoint, nil when off; set before the
	// first runner starts.
	meta *metadataServer

	mu      sync.Mutex
	runners map[string]*runner // by task ARN
	byID    map[string]*runner // by runtime container id
	tokens  map[string]*runner // by the containers' metadata tokens
	wg      sync.WaitGroup     // one count per runner, from start to finish
}

func newEngine(ctx context.Context, cfg Config, rep Reporter) *engine {
	return &engine{
		cfg:        cfg,
		rt:         cfg.Runtime,
		log:        cfg.Logger,
		rep:        rep,
		ctx:        ctx,
		runners:    map[string]*runner{},
		byID:       map[string]*runner{},
		tokens:     map[string]*runner{},
		healthKick: make(chan struct{}, 1),
	}
}

func (e *engine) now() time.Time { return e.cfg.Now() }

func (e *engine) volumesDir() string { return filepath.Join(e.cfg.DataDir, "volumes") }

func (e *engine) statePath(arn string) string {
	return filepath.Join(e.cfg.DataDir, "tasks", taskID(arn)+".json")
}

// start runs a runner. Caller holds mu.
func (e *engine) start(r *runner) {
	e.runners[r.arn] = r
	for _, tok := range r.tokens {
		e.tokens[tok] = r
	}
	r.start(&e.wg)
}

// recover starts a runner for every task state the agent had kept.
func (e *engine) recover(states []taskState) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, st := range states {
		if e.runners[st.Task.ARN] == nil {
			e.log.Info("recovering a task", "task", st.Task.ARN, "status", st.Status, "desired", st.Desired)
			e.start(newRunner(e, st))
		}
	}
}

// apply takes one task of a PayloadMessage. A task the agent already runs
// only ever moves to STOPPED (payloads are resent after reconnections, so
// this is idempotent); a new task gets a runner, even when it comes with
// desiredStatus STOPPED, so that it is reported STOPPED.
func (e *engine) apply(t acs.Task) {
	if t.ARN == "" {
		e.log.Warn("ignoring a task without an ARN")
		return
	}
	e.mu.Lock()
	if e.ctx.Err() != nil {
		e.mu.Unlock()
		return
	}
	r := e.runners[t.ARN]
	if r == nil {
		if logsInfo(e.log) {
			e.log.Info("new task", "task", t.ARN, "family", t.Family, "revision", t.Version, "desired", t.DesiredStatus)
		}
		e.start(newRunner(e, newTaskState(t)))
	}
	e.mu.Unlock()
	if r != nil && t.DesiredStatus == statusStopped {
		r.stop()
	}
}

// stop stops a task the agent runs (nothing for an unknown one).
func (e *engine) stop(arn string) {
	e.mu.Lock()
	r := e.runners[arn]
	e.mu.Unlock()
	if r != nil {
		r.stop()
	}
}

// reconcile compares the tasks of a TaskManifestMessage with the agent's:
// tasks the manifest wants STOPPED are stopped, and the tasks the agent
// runs that the manifest does not list are returned as stop candidates.
func (e *engine) reconcile(manifest []acs.TaskIdentifier) []acs.TaskIdentifier {
	listed := make(map[string]string, len(manifest))
	for _, t := range manifest {
		listed[t.TaskARN] = t.DesiredStatus
	}
	e.mu.Lock()
	runners := make([]*runner, 0, len(e.runners))
	for _, r := range e.runners {
		runners = append(runners, r)
	}
	e.mu.Unlock()
	var candidates []acs.TaskIdentifier
	for _, r := range runners {
		desired, stopped := r.desired()
		if desired == statusStopped || stopped {
			continue
		}
		switch d, ok := listed[r.arn]; {
		case !ok:
			candidates = append(candidates, acs.TaskIdentifier{TaskARN: r.arn, TaskClusterARN: r.st.Task.TaskClusterARN, DesiredStatus: statusRunning})
		case d == statusStopped:
			r.stop()
		}
	}
	return candidates
}

// track maps a runtime container id to its runner, for events.
func (e *engine) track(id string, r *runner) {
	e.mu.Lock()
	e.byID[id] = r
	e.mu.Unlock()
}

// forget drops a runner that has finished, with its container ids.
func (e *engine) forget(r *runner, ids []string) {
	e.mu.Lock()
	if e.runners[r.arn] == r {
		delete(e.runners, r.arn)
	}
	for _, id := range ids {
		if e.byID[id] == r {
			delete(e.byID, id)
		}
	}
	for _, tok := range r.tokens {
		if e.tokens[tok] == r {
			delete(e.tokens, tok)
		}
	}
	e.mu.Unlock()
	if e.meta != nil {
		e.meta.forgetStats(ids)
	}
}

// dispatch hands a runtime event to the runner of its container.
func (e *engine) dispatch(ev runtime.Event) {
	e.mu.Lock()
	r := e.byID[ev.ID]
	e.mu.Unlock()
	if r != nil {
		r.onEvent(ev)
	}
}

// pokeAll wakes every runner (after missed events). poke takes no lock.
func (e *engine) pokeAll() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, r := range e.runners {
		r.poke()
	}
}

// wait blocks until every runner has returned; the caller has ended ctx.
func (e *engine) wait() { e.wg.Wait() }

// events feeds runtime events to the runners until ctx ends,
// resubscribing when the stream ends (after which every runner looks
// again, in case events were lost).
func (e *engine) events(ctx context.Context) {
	bo := newBackoff(e.cfg.Backoff)
	for ctx.Err() == nil {
		ch, err := e.rt.Events(ctx)
		if err != nil {
			d := bo.delay()
			e.log.Warn("subscribing to runtime events failed; retrying", "err", err, "in", d)
			if sleep(ctx, d) != nil {
				return
			}
			continue
		}
		bo.reset()
		e.pokeAll()
		for ev := range ch {
			e.dispatch(ev)
		}
		if ctx.Err() != nil {
			return
		}
		e.log.Debug("runtime event stream ended; subscribing again")
		if sleep(ctx, bo.delay()) != nil {
			return
		}
	}
}
