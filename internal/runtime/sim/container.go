package sim

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/runtime"
)

// netKind is how a container is networked.
type netKind uint8

const (
	netBridge    netKind = iota // its own address on the bridge; ports published
	netHost                     // the host's network: ports bound directly
	netNone                     // no network at all
	netContainer                // another container's namespace (awsvpc)
)

// container is one simulated container. Every field is guarded by the
// Runtime's mu. It keeps no goroutine: its timed transitions live in the
// Runtime's schedule, and its logs are synthesised from its timeline.
type container struct {
	id     string
	name   string
	image  string
	labels map[string]string
	seq    uint64 // creation order, for stable List output

	createdAt time.Time
	memMiB    int64 // the spec's memory limit (0: none), for Stats

	net   netKind
	netOf string // netContainer: the id or name whose namespace it joins
	ip    int    // bridge address index; 0 = none
	ports []runtime.PortBinding
	// dynamic ports are held from Create to Remove; static ones while the
	// container runs.
	dynamic []portKey
	static  []portKey

	b behaviour

	state      runtime.State
	health     runtime.Health
	startedAt  time.Time
	finishedAt time.Time
	stopAt     time.Time // first SIGTERM of the current run; zero if none
	exitCode   int       // once exited
	oom        bool      // once exited
	ended      exitKind  // once exited: how
	err        string    // Start's failure

	// Scheduled transitions of a running container; zero times mean none.
	exitAt   time.Time
	exitWhy  exitKind // how it ends at exitAt
	healthAt time.Time

	// wake is min(exitAt, healthAt), the schedule's key; idx is the
	// container's index in the schedule, -1 when not scheduled.
	wake time.Time
	idx  int

	// exited is created by the first Wait or Stop of a run and closed when
	// the container exits or is removed.
	exited chan struct{}
	// onExit are the NotifyExit callbacks of the current run, called (once,
	// outside mu) when exited would be closed.
	onExit  []func()
	removed bool
}

// waitChan returns the channel closed at the container's exit.
func (c *container) waitChan() <-chan struct{} {
	if c.exited == nil {
		c.exited = make(chan struct{})
	}
	return c.exited
}

// wakeWaiters releases every Wait and Stop blocked on the container and
// queues its NotifyExit callbacks, which unlock runs once mu is released.
// Caller holds mu.
func (r *Runtime) wakeWaiters(c *container) {
	if c.exited != nil {
		close(c.exited)
		c.exited = nil
	}
	if len(c.onExit) > 0 {
		r.notify = append(r.notify, c.onExit...)
		c.onExit = nil
	}
}

// result is how an exited container ended.
func (c *container) result() runtime.ExitResult {
	return runtime.ExitResult{ExitCode: c.exitCode, OOMKilled: c.oom, Error: c.err}
}

// inspect returns the container's state; ip is the address it reports
// (its own, or the one of the container whose namespace it joins).
func (c *container) inspect(ip string) runtime.ContainerState {
	st := runtime.ContainerState{
		ID:         c.id,
		Name:       c.name,
		Image:      c.image,
		ImageID:    imageID(c.image),
		CreatedAt:  c.createdAt,
		Labels:     maps.Clone(c.labels),
		State:      c.state,
		Health:     c.health,
		Error:      c.err,
		StartedAt:  c.startedAt,
		FinishedAt: c.finishedAt,
		Ports:      slices.Clone(c.ports),
		IPAddress:  ip,
	}
	if c.state == runtime.StateExited {
		code := c.exitCode
		st.ExitCode = &code
	}
	return st
}

// hasLabels reports whether the container carries every given label.
func (c *container) hasLabels(want map[string]string) bool {
	for k, v := range want {
		if got, ok := c.labels[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// logs synthesises the container's output from its timeline: a few lines
// per run, so nothing is stored and the output survives Snapshot/Restore.
func (c *container) logs() []byte {
	var b strings.Builder
	line := func(s ...string) {
		b.WriteString("berth-sim: ")
		for _, p := range s {
			b.WriteString(p)
		}
		b.WriteByte('\n')
	}
	if c.ended == exitFailed {
		line("error: ", c.err)
		return []byte(b.String())
	}
	if c.startedAt.IsZero() {
		return nil
	}
	line("started ", c.name, " (image ", c.image, ")")
	if c.b.Output != "" {
		b.WriteString(c.b.Output)
		b.WriteByte('\n')
	}
	if !c.stopAt.IsZero() {
		line("received SIGTERM")
		if c.b.IgnoreTerm {
			line("ignoring SIGTERM")
		}
	}
	if c.state != runtime.StateExited {
		return []byte(b.String())
	}
	switch {
	case c.oom:
		line("killed: out of memory")
	case c.ended == exitKill:
		line("killed by SIGKILL")
	}
	line("exiting with code ", strconv.Itoa(c.exitCode))
	return []byte(b.String())
}
