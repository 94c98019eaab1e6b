package etcd

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/berth-dev/berth/internal/store"
)

// Watch streams the events of keys under prefix with revision > after,
// from a native etcd watch. Events up to the revision current at the call
// are a replay, paced by the consumer; later ones are live, and a consumer
// more than Options.WatchQueue live revisions behind is dropped. See the
// package comment for when else the channel closes.
func (s *Store) Watch(ctx context.Context, prefix string, after store.Rev) (<-chan store.Event, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	after = max(after, 0)
	head, err := s.retained(ctx, after)
	if err != nil {
		return nil, err
	}

	// The watch ends with the caller's ctx or with the Store.
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	out := make(chan store.Event, s.opts.WatchBuffer)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		cancel()
		return nil, store.ErrClosed
	}
	stop := context.AfterFunc(s.life, cancel)
	wch := s.cli.Watch(wctx, s.kvPrefix+prefix, clientv3.WithPrefix(), clientv3.WithRev(int64(after)+1))
	s.wg.Go(func() {
		defer close(out)
		defer stop()
		defer cancel()
		s.forward(wctx.Done(), wch, out, head)
	})
	return out, nil
}

// retained returns etcd's current revision, or store.ErrCompacted if etcd
// no longer has the revisions just after `after`. A read at a revision
// fails exactly when a watch from it would.
func (s *Store) retained(ctx context.Context, after store.Rev) (store.Rev, error) {
	resp, err := s.cli.Get(ctx, s.delKey, clientv3.WithRev(int64(after)+1), clientv3.WithCountOnly())
	switch {
	case err == nil:
		return store.Rev(resp.Header.Revision), nil
	case errors.Is(err, rpctypes.ErrFutureRev):
		return after, nil
	case errors.Is(err, rpctypes.ErrCompacted):
		return 0, fmt.Errorf("etcd: watch after %d: %w", after, store.ErrCompacted)
	default:
		return 0, fmt.Errorf("etcd: watch: %w", err)
	}
}

// forward moves events from etcd's watch to out until the watch ends or
// the consumer falls too far behind. It queues what out cannot take yet:
// replayed revisions (<= head) up to WatchQueue of them, after which it
// stops reading from etcd until the consumer catches up; live revisions
// up to WatchQueue, after which it drops the consumer.
func (s *Store) forward(done <-chan struct{}, wch clientv3.WatchChan, out chan<- store.Event, head store.Rev) {
	q := evQueue{head: head}
	for {
		recv := wch
		if q.replayRevs >= s.opts.WatchQueue {
			recv = nil
		}
		var send chan<- store.Event
		var first store.Event
		if len(q.evs) > 0 {
			send, first = out, q.evs[0]
		}
		select {
		case resp, ok := <-recv:
			if !ok || resp.Canceled || resp.Err() != nil {
				return
			}
			// etcd delivers all events of a revision in one response.
			for i, ev := range resp.Events {
				e := s.event(ev)
				e.Last = i == len(resp.Events)-1 || resp.Events[i+1].Kv.ModRevision != ev.Kv.ModRevision
				q.push(e)
			}
			if q.liveRevs > s.opts.WatchQueue {
				return
			}
		case send <- first:
			q.pop()
		case <-done:
			return
		}
	}
}

// evQueue is a watcher's backlog, counting the distinct revisions it holds
// on each side of head.
type evQueue struct {
	head                 store.Rev
	evs                  []store.Event
	replayRevs, liveRevs int
}

func (q *evQueue) push(ev store.Event) {
	if n := len(q.evs); n == 0 || q.evs[n-1].KV.ModRev != ev.KV.ModRev {
		q.count(ev.KV.ModRev, 1)
	}
	q.evs = append(q.evs, ev)
}

func (q *evQueue) pop() {
	ev := q.evs[0]
	q.evs = q.evs[1:]
	if len(q.evs) == 0 {
		q.evs = nil
	}
	if len(q.evs) == 0 || q.evs[0].KV.ModRev != ev.KV.ModRev {
		q.count(ev.KV.ModRev, -1)
	}
}

func (q *evQueue) count(rev store.Rev, d int) {
	if rev <= q.head {
		q.replayRevs += d
	} else {
		q.liveRevs += d
	}
}

func (s *Store) event(ev *clientv3.Event) store.Event {
	key := strings.TrimPrefix(string(ev.Kv.Key), s.kvPrefix)
	if ev.Type == mvccpb.DELETE {
		return store.Event{Type: store.EventDelete, KV: store.KV{Key: key, ModRev: store.Rev(ev.Kv.ModRevision)}}
	}
	return store.Event{Type: store.EventPut, KV: store.KV{
		Key:       key,
		Value:     ev.Kv.Value,
		CreateRev: store.Rev(ev.Kv.CreateRevision),
		ModRev:    store.Rev(ev.Kv.ModRevision),
	}}
}
