// Package storetest is the conformance suite every store.Store backend must
// pass. A backend's test hands Run a Backend that opens fresh stores:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, storetest.Backend{
//			Open: func(t *testing.T) (store.Store, storetest.Reopen) { ... },
//		})
//	}
//
// The subtests run in parallel, each on its own store. They check the
// store.Store contract: reads, writes and List paging; read-your-own-writes
// and all-or-nothing inside Update; revision semantics; Watch replay, live
// delivery and the handoff between them under concurrent writers;
// serializability under conflicting concurrent Updates (lost updates, check
// then insert, write skew over a List); consistent View snapshots; restart
// durability; and Close. Run them with -race.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/store"
)

// Reopen opens a new Store over the data of a store the suite has closed:
// a restart. It may restart a server underneath too. It registers its own
// cleanup.
type Reopen func(t *testing.T) store.Store

// Backend tells the suite how to create stores.
type Backend struct {
	// Open returns a new store over fresh, empty data, and the function that
	// reopens that data. It registers cleanup with t.Cleanup; the suite may
	// also Close the store itself, so Close must be idempotent.
	Open func(t *testing.T) (store.Store, Reopen)
	// Compact, if not nil, discards the history before rev, so that Watch
	// with an older `after` returns store.ErrCompacted.
	Compact func(t *testing.T, s store.Store, rev store.Rev)
	// Retention, if > 0, says the backend keeps the events of only the last
	// Retention revisions; the suite writes past it to provoke
	// store.ErrCompacted. It must be at least 1,000, since other subtests
	// watch from as far back as that.
	Retention int
	// DropAfter, if > 0, is how many revisions a watcher that never reads
	// may fall behind before the backend drops it (closes its channel).
	DropAfter int
}

// waitTimeout bounds every wait for an event or a closed channel. It is
// generous because -race on two busy cores is slow; passing tests never
// wait for it.
const waitTimeout = 30 * time.Second

// Run runs the conformance suite against b.
func Run(t *testing.T, b Backend) {
	if b.Retention > 0 && b.Retention < 1000 {
		t.Fatalf("storetest: Retention %d < 1000", b.Retention)
	}
	tests := []struct {
		name string
		fn   func(t *testing.T, b Backend)
	}{
		{"PutGet", testPutGet},
		{"GetMissing", testGetMissing},
		{"Delete", testDelete},
		{"EmptyKey", testEmptyKey},
		{"List", testList},
		{"ListPaging", testListPaging},
		{"ListSeesOwnWrites", testListSeesOwnWrites},
		{"ReadYourWrites", testReadYourWrites},
		{"FnErrorAborts", testFnErrorAborts},
		{"Revisions", testRevisions},
		{"CreateRevAfterRecreate", testCreateRevAfterRecreate},
		{"BigUpdate", testBigUpdate},
		{"ContextCanceled", testContextCanceled},
		{"ViewSnapshot", testViewSnapshot},
		{"ConcurrentCounter", testConcurrentCounter},
		{"CheckThenInsert", testCheckThenInsert},
		{"WriteSkewDelete", testWriteSkewDelete},
		{"PhantomInsert", testPhantomInsert},
		{"ManyReads", testManyReads},
		{"WatchReplayThenLive", testWatchReplayThenLive},
		{"WatchFromNow", testWatchFromNow},
		{"WatchLastOfRevision", testWatchLastOfRevision},
		{"WatchConcurrent", testWatchConcurrent},
		{"WatchCancel", testWatchCancel},
		{"WatchCompacted", testWatchCompacted},
		{"WatchSlowDropped", testWatchSlowDropped},
		{"Restart", testRestart},
		{"Close", testClose},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, b)
		})
	}
}

// open opens a fresh store.
func open(t *testing.T, b Backend) (store.Store, Reopen) {
	t.Helper()
	s, reopen := b.Open(t)
	if s == nil {
		t.Fatal("storetest: Open returned a nil store")
	}
	return s, reopen
}

// update runs fn in an Update and fails the test on error.
func update(t *testing.T, s store.Store, fn func(store.Tx) error) store.Rev {
	t.Helper()
	rev, err := s.Update(t.Context(), fn)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	return rev
}

// put writes one key and returns the revision.
func put(t *testing.T, s store.Store, key, value string) store.Rev {
	t.Helper()
	return update(t, s, func(tx store.Tx) error { return tx.Put(key, []byte(value)) })
}

// del deletes one key and returns the revision.
func del(t *testing.T, s store.Store, key string) store.Rev {
	t.Helper()
	return update(t, s, func(tx store.Tx) error { return tx.Delete(key) })
}

// get reads one key in a View; found is false for ErrNotFound.
func get(t *testing.T, s store.Store, key string) (kv store.KV, found bool) {
	t.Helper()
	err := s.View(t.Context(), func(r store.Reader) error {
		var err error
		kv, err = r.Get(key)
		return err
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.KV{}, false
	case err != nil:
		t.Fatalf("Get %q: %v", key, err)
	}
	return kv, true
}

// mustGet reads a key that must exist with the given value.
func mustGet(t *testing.T, s store.Store, key, value string) store.KV {
	t.Helper()
	kv, ok := get(t, s, key)
	if !ok {
		t.Fatalf("Get %q: not found, want %q", key, value)
	}
	if kv.Key != key || !bytes.Equal(kv.Value, []byte(value)) {
		t.Fatalf("Get %q = %q %q, want value %q", key, kv.Key, kv.Value, value)
	}
	return kv
}

// mustMiss checks a key does not exist.
func mustMiss(t *testing.T, s store.Store, key string) {
	t.Helper()
	if kv, ok := get(t, s, key); ok {
		t.Fatalf("Get %q = %q, want ErrNotFound", key, kv.Value)
	}
}

// list lists in a View and returns the KVs.
func list(t *testing.T, s store.Store, prefix, after string) []store.KV {
	t.Helper()
	var kvs []store.KV
	err := s.View(t.Context(), func(r store.Reader) error {
		return r.List(prefix, after, func(kv store.KV) error {
			kvs = append(kvs, kv)
			return nil
		})
	})
	if err != nil {
		t.Fatalf("List %q after %q: %v", prefix, after, err)
	}
	return kvs
}

// keys returns the keys of kvs.
func keys(kvs []store.KV) []string {
	ks := make([]string, len(kvs))
	for i, kv := range kvs {
		ks[i] = kv.Key
	}
	return ks
}

// rev returns the store's revision.
func rev(t *testing.T, s store.Store) store.Rev {
	t.Helper()
	r, err := s.Rev(t.Context())
	if err != nil {
		t.Fatalf("Rev: %v", err)
	}
	return r
}

// watch starts a watch and fails the test on error.
func watch(t *testing.T, ctx context.Context, s store.Store, prefix string, after store.Rev) <-chan store.Event {
	t.Helper()
	ch, err := s.Watch(ctx, prefix, after)
	if err != nil {
		t.Fatalf("Watch %q after %d: %v", prefix, after, err)
	}
	return ch
}

// next receives n events, failing the test if the channel closes or stays
// silent for waitTimeout.
func next(t *testing.T, ch <-chan store.Event, n int) []store.Event {
	t.Helper()
	evs := make([]store.Event, 0, n)
	timer := time.NewTimer(waitTimeout)
	defer timer.Stop()
	for len(evs) < n {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatalf("watch channel closed after %d of %d events: %v", len(evs), n, evs)
			}
			evs = append(evs, ev)
		case <-timer.C:
			t.Fatalf("got %d of %d events in %v: %v", len(evs), n, waitTimeout, evs)
		}
	}
	return evs
}

// closed waits for ch to be closed, discarding events.
func closed(t *testing.T, ch <-chan store.Event) {
	t.Helper()
	timer := time.NewTimer(waitTimeout)
	defer timer.Stop()
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-timer.C:
			t.Fatalf("watch channel still open after %v", waitTimeout)
		}
	}
}

// checkEvent compares an event with the expected type, key, value and
// revision; CreateRev is checked when want.KV.CreateRev is not zero.
func checkEvent(t *testing.T, got, want store.Event) {
	t.Helper()
	ok := got.Type == want.Type && got.KV.Key == want.KV.Key &&
		bytes.Equal(got.KV.Value, want.KV.Value) && got.KV.ModRev == want.KV.ModRev &&
		(want.KV.CreateRev == 0 || got.KV.CreateRev == want.KV.CreateRev)
	if !ok {
		t.Fatalf("event = %s, want %s", fmtEvent(got), fmtEvent(want))
	}
}

func fmtEvent(ev store.Event) string {
	typ := map[store.EventType]string{store.EventPut: "put", store.EventDelete: "delete"}[ev.Type]
	return fmt.Sprintf("{%s %q=%q create=%d mod=%d}", typ, ev.KV.Key, ev.KV.Value, ev.KV.CreateRev, ev.KV.ModRev)
}

func putEvent(key, value string, createRev, modRev store.Rev) store.Event {
	return store.Event{Type: store.EventPut, KV: store.KV{Key: key, Value: []byte(value), CreateRev: createRev, ModRev: modRev}}
}

func delEvent(key string, modRev store.Rev) store.Event {
	return store.Event{Type: store.EventDelete, KV: store.KV{Key: key, ModRev: modRev}}
}
