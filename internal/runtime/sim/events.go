package sim

import (
	"context"

	"github.com/berth-dev/berth/internal/runtime"
)

// subscriber is one Events stream. It owns no goroutine: its channel is
// closed by the Runtime when its context ends (through context.AfterFunc),
// when it falls behind, or at Close.
type subscriber struct {
	ch   chan runtime.Event
	stop func() bool // unregisters the context hook
}

// Events streams start, die, health and destroy events of every container
// of the Runtime from now on, in the order they happen. The channel holds
// Options.EventBuffer events; a subscriber that lets it fill up is dropped
// (its channel closed) rather than slowing the Runtime, and should re-list
// and subscribe again. The channel is also closed when ctx ends or the
// Runtime is closed. It returns ctx's error if ctx has already ended, and
// ErrClosed after Close.
func (r *Runtime) Events(ctx context.Context) (<-chan runtime.Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s := &subscriber{ch: make(chan runtime.Event, r.evBuf)}
	s.stop = context.AfterFunc(ctx, func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.unsubscribe(s)
	})
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		s.stop()
		return nil, ErrClosed
	}
	if ctx.Err() != nil {
		// The hook may have run before s was registered.
		s.stop()
		close(s.ch)
		return s.ch, nil
	}
	if r.subs == nil {
		r.subs = make(map[*subscriber]struct{})
	}
	r.subs[s] = struct{}{}
	return s.ch, nil
}

// publish hands ev to every subscriber without blocking. Caller holds mu,
// which keeps events in order.
func (r *Runtime) publish(ev runtime.Event) {
	for s := range r.subs {
		select {
		case s.ch <- ev:
		default:
			r.log.Warn("sim: dropping a slow event subscriber", "buffer", cap(s.ch))
			r.unsubscribe(s)
		}
	}
}

// unsubscribe closes s's channel once. Caller holds mu.
func (r *Runtime) unsubscribe(s *subscriber) {
	if _, ok := r.subs[s]; !ok {
		return
	}
	delete(r.subs, s)
	s.stop()
	close(s.ch)
}
