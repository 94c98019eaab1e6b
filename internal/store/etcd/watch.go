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
// from a native etcd watch. See the package comment for when the channel
// closes.
func (s *Store) Watch(ctx context.Context, prefix string, after store.Rev) (<-chan store.Event, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	after = max(after, 0)
	if err := s.retained(ctx, after); err != nil {
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
		s.forward(wch, out)
	})
	return out, nil
}

// retained returns store.ErrCompacted if etcd no longer has the revisions
// just after `after`. A read at a revision fails exactly when a watch from
// it would.
func (s *Store) retained(ctx context.Context, after store.Rev) error {
	_, err := s.cli.Get(ctx, s.delKey, clientv3.WithRev(int64(after)+1), clientv3.WithCountOnly())
	switch {
	case err == nil, errors.Is(err, rpctypes.ErrFutureRev):
		return nil
	case errors.Is(err, rpctypes.ErrCompacted):
		return fmt.Errorf("etcd: watch after %d: %w", after, store.ErrCompacted)
	default:
		return fmt.Errorf("etcd: watch: %w", err)
	}
}

// forward translates etcd's watch responses into events on out until the
// watch ends or out is full (the consumer is too slow and is dropped).
func (s *Store) forward(wch clientv3.WatchChan, out chan<- store.Event) {
	for resp := range wch {
		if resp.Canceled || resp.Err() != nil {
			return
		}
		for _, ev := range resp.Events {
			select {
			case out <- s.event(ev):
			default:
				return
			}
		}
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
