package bolt

import (
	"context"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/berth-dev/berth/internal/store"
)

// pruneCap bounds the log records one commit deletes, so that lowering
// LogRetention on a big file spreads the pruning over many commits.
const pruneCap = 10_000

// request is one queued Update. It carries its caller's ctx so that the
// committer can skip an fn whose caller gave up before it ran; the request
// lives only until it is answered.
type request struct {
	ctx  context.Context
	fn   func(store.Tx) error
	done chan result // capacity 1; receives exactly one result
}

// result answers a request. If fn panicked, Update re-panics in the caller.
type result struct {
	rev      store.Rev
	err      error
	panicked bool
	panicVal any
}

// Update queues fn for the committer and waits for the group commit that
// includes it. See the package comment for how fn is run. If ctx ends before
// fn runs, fn does not run and ctx's error is returned; once fn has run,
// Update waits for the commit regardless of ctx, so that its result is never
// ambiguous. If fn panics, Update panics with the same value in the caller's
// goroutine, and the other Updates of the batch are unaffected.
func (s *Store) Update(ctx context.Context, fn func(store.Tx) error) (store.Rev, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	r := &request{ctx: ctx, fn: fn, done: make(chan result, 1)}
	s.qmu.Lock()
	if s.queueClosed {
		s.qmu.Unlock()
		return 0, store.ErrClosed
	}
	s.queue = append(s.queue, r)
	s.qmu.Unlock()
	s.wake()

	res := <-r.done
	if res.panicked {
		panic(res.panicVal)
	}
	return res.rev, res.err
}

// commitLoop is the committer goroutine: it commits batches until Close
// closes the queue and the queue is empty.
func (s *Store) commitLoop() {
	for {
		r := s.dequeue(true)
		if r == nil {
			return
		}
		s.commitBatch(r)
	}
}

// dequeue pops the oldest queued request. With wait it blocks until there is
// one, and returns nil only once the queue is closed and empty; without
// wait it returns nil when the queue is empty.
func (s *Store) dequeue(wait bool) *request {
	for {
		s.qmu.Lock()
		if len(s.queue) > 0 {
			r := s.queue[0]
			s.queue[0] = nil
			s.queue = s.queue[1:]
			if len(s.queue) == 0 {
				s.queue = nil
			}
			s.qmu.Unlock()
			return r
		}
		closed := s.queueClosed
		s.qmu.Unlock()
		if !wait || closed {
			return nil
		}
		<-s.kick
	}
}

// batch is the state of one group commit.
type batch struct {
	reqs    []*request
	results []result
	rev     store.Rev       // revision after the fns run so far
	events  [][]store.Event // one entry per new revision, in order
	bytes   int
}

// commitBatch runs first and as many queued requests as fit in one bbolt
// read-write transaction, commits it once, publishes the events and then
// answers every request.
func (s *Store) commitBatch(first *request) {
	b := &batch{rev: s.diskRev}
	// The previous batch's transaction has ended: its log records are
	// no longer referenced. A batch of huge values does not keep its
	// arena.
	s.logArena = s.logArena[:0]
	if cap(s.logArena) > 16<<20 {
		s.logArena = nil
	}
	tx, err := s.db.Begin(true)
	if err != nil {
		first.done <- result{err: fmt.Errorf("bolt: begin: %w", err)}
		return
	}
	kv, log := tx.Bucket(bucketKV), tx.Bucket(bucketLog)
	log.FillPercent = 1 // log keys only ever grow: pack the pages

	for r := first; r != nil; {
		res, err := s.run(r, kv, log, b)
		b.reqs = append(b.reqs, r)
		b.results = append(b.results, res)
		if err != nil {
			// Applying a successful fn's writes failed half way, so the
			// transaction is no longer clean: give up on the whole batch.
			_ = tx.Rollback()
			s.failBatch(b, fmt.Errorf("bolt: apply: %w", err))
			return
		}
		if len(b.reqs) >= s.opts.MaxBatch || b.bytes >= s.opts.MaxBatchBytes {
			break
		}
		r = s.dequeue(false)
	}

	if b.rev == s.diskRev { // nothing written: nothing to make durable
		_ = tx.Rollback()
		s.reply(b)
		return
	}
	compacted, err := s.finish(tx, b.rev)
	if err == nil {
		err = tx.Commit() // the batch's fsync
	} else {
		_ = tx.Rollback()
	}
	if err != nil {
		s.failBatch(b, fmt.Errorf("bolt: commit: %w", err))
		return
	}
	s.commits.Add(1)
	s.written.Add(uint64(b.rev - s.diskRev))
	s.diskRev, s.diskCompacted = b.rev, compacted
	s.publish(b.rev, compacted, b.events)
	s.reply(b)
}

// run runs one request's fn on a fresh overlay and, if fn succeeds and wrote
// anything, applies the overlay at the next revision. The returned error is
// not fn's (that is in the result) but a failure to apply, which poisons the
// batch.
func (s *Store) run(r *request, kv, log *bbolt.Bucket, b *batch) (result, error) {
	if err := r.ctx.Err(); err != nil {
		return result{err: err}, nil
	}
	o := newOverlay(kv)
	pv, panicked, err := call(r.fn, o)
	o.done = true
	switch {
	case panicked:
		return result{panicked: true, panicVal: pv}, nil
	case err != nil:
		return result{err: err}, nil
	}
	evs, err := apply(o, kv, log, b.rev+1, &s.logArena)
	if err != nil {
		return result{}, err
	}
	if len(evs) == 0 {
		return result{rev: b.rev}, nil
	}
	b.rev++
	b.events = append(b.events, evs)
	b.bytes += o.bytes
	return result{rev: b.rev}, nil
}

// call runs fn, turning a panic into a value.
func call(fn func(store.Tx) error, tx store.Tx) (pv any, panicked bool, err error) {
	defer func() {
		if p := recover(); p != nil {
			pv, panicked = p, true
		}
	}()
	return nil, false, fn(tx)
}

// apply writes an overlay's effective changes at rev, with one log record
// laid out at the end of *arena (which must stay untouched until the
// transaction ends), and returns their events in key order. Deletes of
// missing keys are dropped; no events means nothing was written.
func apply(o *overlay, kv, log *bbolt.Bucket, rev store.Rev, arena *[]byte) ([]store.Event, error) {
	evs := make([]store.Event, 0, len(o.keys))
	for _, k := range o.keys {
		w := o.writes[k]
		old := kv.Get([]byte(k))
		switch {
		case w.del && old == nil:
			continue
		case w.del:
			evs = append(evs, store.Event{Type: store.EventDelete, KV: store.KV{Key: k, ModRev: rev}})
		default:
			createRev := rev
			if old != nil {
				createRev = createRevOf(old)
			}
			evs = append(evs, store.Event{Type: store.EventPut, KV: store.KV{
				Key: k, Value: w.value, CreateRev: createRev, ModRev: rev,
			}, Obj: w.obj})
		}
	}
	if len(evs) == 0 {
		return nil, nil
	}
	for _, ev := range evs {
		var err error
		if ev.Type == store.EventDelete {
			err = kv.Delete([]byte(ev.KV.Key))
		} else {
			err = kv.Put([]byte(ev.KV.Key), putHeader(o.writes[ev.KV.Key].stored, ev.KV.CreateRev, rev))
		}
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", ev.KV.Key, err)
		}
	}
	from := len(*arena)
	*arena = appendEvents(*arena, evs)
	if err := log.Put(revKey(rev), (*arena)[from:len(*arena):len(*arena)]); err != nil {
		return nil, fmt.Errorf("log %d: %w", rev, err)
	}
	return evs, nil
}

// finish records the new revision and prunes the log to the retention. It
// returns the new compacted revision.
func (s *Store) finish(tx *bbolt.Tx, rev store.Rev) (store.Rev, error) {
	meta := tx.Bucket(bucketMeta)
	if err := meta.Put(metaRev, revKey(rev)); err != nil {
		return 0, fmt.Errorf("meta: %w", err)
	}
	target := rev - store.Rev(s.opts.LogRetention)
	if target <= s.diskCompacted {
		return s.diskCompacted, nil
	}
	compacted := target
	log := tx.Bucket(bucketLog)
	var dead [][]byte
	c := log.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		r, err := decodeRev(k)
		if err != nil {
			return 0, fmt.Errorf("log: %w", err)
		}
		if r > target {
			break
		}
		if len(dead) == pruneCap {
			compacted = r - 1
			break
		}
		dead = append(dead, append([]byte{}, k...))
	}
	for _, k := range dead {
		if err := log.Delete(k); err != nil {
			return 0, fmt.Errorf("prune: %w", err)
		}
	}
	if err := meta.Put(metaCompacted, revKey(compacted)); err != nil {
		return 0, fmt.Errorf("meta: %w", err)
	}
	return compacted, nil
}

// failBatch answers every request of a failed batch with err (a panicked fn
// still gets its panic).
func (s *Store) failBatch(b *batch, err error) {
	for i := range b.results {
		if !b.results[i].panicked {
			b.results[i] = result{err: err}
		}
	}
	s.reply(b)
}

// reply answers every request of the batch.
func (s *Store) reply(b *batch) {
	for i, r := range b.reqs {
		r.done <- b.results[i]
	}
}
