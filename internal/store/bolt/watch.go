package bolt

import (
	"context"
	"errors"
	"fmt"
	"strings"

	bbolt "go.etcd.io/bbolt"

	"github.com/berth-dev/berth/internal/store"
)

// replayChunk is how many revisions a replaying watcher reads per bbolt
// read transaction; the transaction is closed before the events are sent,
// so a slow consumer never holds one open.
const replayChunk = 256

// errLogGap means events a replaying watcher needed were pruned meanwhile.
var errLogGap = errors.New("bolt: change log pruned during replay")

// watcher is one Watch call's registration.
type watcher struct {
	prefix string
	// live receives the watcher's share of every revision published after
	// it registered, one slice per revision. The store closes it (under
	// mu) when the watcher is dropped or the store closes.
	live chan []store.Event
}

// Watch streams the events of keys under prefix with revision > after. It
// replays the revisions up to the moment of the call from the change log,
// then continues with live events, with no gap and no duplicate. The
// channel is closed when ctx ends, when the store closes, or when the
// watcher falls more than Options.WatchQueue revisions behind. Watch returns
// store.ErrCompacted if the events just after `after` were pruned.
func (s *Store) Watch(ctx context.Context, prefix string, after store.Rev) (<-chan store.Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	after = max(after, 0)
	w := &watcher{prefix: prefix, live: make(chan []store.Event, s.opts.WatchQueue)}
	out := make(chan store.Event, s.opts.WatchBuffer)

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.watchClosed || s.closing.Load() {
		return nil, store.ErrClosed
	}
	if after < s.compacted {
		return nil, fmt.Errorf("bolt: watch after %d (compacted at %d): %w", after, s.compacted, store.ErrCompacted)
	}
	// Everything up to s.rev is on disk and was published before w
	// existed; everything after it will reach w.live.
	regRev := s.rev
	s.watchers[w] = struct{}{}
	s.watchWG.Go(func() { s.serveWatch(ctx, w, after, regRev, out) })
	return out, nil
}

// serveWatch is a watcher's goroutine: it replays (after, regRev] from the
// log, then forwards live events, then closes out.
func (s *Store) serveWatch(ctx context.Context, w *watcher, after, regRev store.Rev, out chan<- store.Event) {
	defer close(out)
	defer s.unwatch(w)

	send := func(evs []store.Event) bool {
		for i, ev := range evs {
			if ev.KV.ModRev <= after {
				continue
			}
			// ev is a copy: the slice is shared with other watchers. A
			// revision never spans two calls (live slices hold one
			// revision; replay chunks end on revision boundaries).
			ev.Last = i == len(evs)-1 || evs[i+1].KV.ModRev != ev.KV.ModRev
			select {
			case out <- ev:
			case <-ctx.Done():
				return false
			case <-s.done:
				return false
			}
		}
		return true
	}

	for pos := after; pos < regRev; {
		evs, next, err := s.readLog(pos, regRev, w.prefix)
		if err != nil {
			// The log no longer has what this watcher needs (or the file is
			// unreadable): close the channel so the consumer re-lists.
			return
		}
		if !send(evs) {
			return
		}
		pos = next
	}
	for {
		select {
		case evs, ok := <-w.live:
			if !ok || !send(evs) {
				return
			}
		case <-ctx.Done():
			return
		case <-s.done:
			return
		}
	}
}

// readLog reads the events under prefix of at most replayChunk revisions
// in (from, to], and returns them with the last revision read.
func (s *Store) readLog(from, to store.Rev, prefix string) ([]store.Event, store.Rev, error) {
	var evs []store.Event
	next := from
	err := s.db.View(func(tx *bbolt.Tx) error {
		compacted, err := decodeRev(tx.Bucket(bucketMeta).Get(metaCompacted))
		if err != nil {
			return err
		}
		if from < compacted {
			return errLogGap
		}
		c := tx.Bucket(bucketLog).Cursor()
		n := 0
		for k, v := c.Seek(revKey(from + 1)); k != nil && n < replayChunk; k, v = c.Next() {
			rev, err := decodeRev(k)
			if err != nil {
				return err
			}
			if rev > to {
				break
			}
			if rev != next+1 {
				return fmt.Errorf("%w: revision %d missing", errLogGap, next+1)
			}
			if evs, err = decodeEvents(rev, v, prefix, evs); err != nil {
				return err
			}
			next = rev
			n++
		}
		if next == from {
			return fmt.Errorf("%w: revision %d missing", errLogGap, from+1)
		}
		return nil
	})
	return evs, next, err
}

// publish makes a durable commit visible: it advances the published
// revision and hands each watcher its events, in revision order. It never
// blocks: a watcher whose queue is full is dropped.
func (s *Store) publish(rev, compacted store.Rev, revs [][]store.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rev, s.compacted = rev, compacted
	for w := range s.watchers {
		for _, evs := range revs {
			if !offer(w, filter(evs, w.prefix)) {
				s.dropLocked(w)
				break
			}
		}
	}
}

// offer queues a revision's events for w without blocking; it reports
// false if w's queue is full.
func offer(w *watcher, evs []store.Event) bool {
	if len(evs) == 0 {
		return true
	}
	select {
	case w.live <- evs:
		return true
	default:
		return false
	}
}

// filter returns the events with keys under prefix, reusing evs when all
// match.
func filter(evs []store.Event, prefix string) []store.Event {
	if prefix == "" {
		return evs
	}
	n := 0
	for _, ev := range evs {
		if strings.HasPrefix(ev.KV.Key, prefix) {
			n++
		}
	}
	if n == len(evs) || n == 0 {
		return evs[:n]
	}
	mine := make([]store.Event, 0, n)
	for _, ev := range evs {
		if strings.HasPrefix(ev.KV.Key, prefix) {
			mine = append(mine, ev)
		}
	}
	return mine
}

// dropLocked unregisters w and closes its live queue. s.mu must be held.
func (s *Store) dropLocked(w *watcher) {
	if _, ok := s.watchers[w]; !ok {
		return
	}
	delete(s.watchers, w)
	close(w.live)
}

// unwatch unregisters w if it still is registered.
func (s *Store) unwatch(w *watcher) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropLocked(w)
}
