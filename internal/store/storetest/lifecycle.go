package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/berth-dev/berth/internal/store"
)

// ack is the acknowledged last state of one key.
type ack struct {
	value   string
	rev     store.Rev
	deleted bool
}

// acks records acknowledged writes from many goroutines.
type acks struct {
	mu     sync.Mutex
	keys   map[string]ack
	writes int // acknowledged writing Updates
	max    store.Rev
}

func (a *acks) record(key string, x ack) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.keys == nil {
		a.keys = map[string]ack{}
	}
	a.keys[key] = x
	a.writes++
	a.max = max(a.max, x.rev)
}

// verify checks every acknowledged write against s.
func (a *acks) verify(t *testing.T, s store.Store) {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	for key, x := range a.keys {
		if x.deleted {
			mustMiss(t, s, key)
			continue
		}
		if kv := mustGet(t, s, key, x.value); kv.ModRev != x.rev {
			t.Fatalf("%s ModRev = %d, want %d", key, kv.ModRev, x.rev)
		}
	}
	if r := rev(t, s); r < a.max {
		t.Fatalf("Rev = %d, below the last acknowledged revision %d", r, a.max)
	}
}

// writeStorm runs writers goroutines doing `each` Updates on their own keys
// under prefix, deleting one key in five, and records the acknowledgments.
func writeStorm(t *testing.T, s store.Store, a *acks, prefix string, writers, each int) {
	parallel(writers, func(w int) {
		for i := range each {
			key := fmt.Sprintf("%s%d/%02d", prefix, w, i)
			x := ack{value: fmt.Sprintf("%d.%d", w, i)}
			if i%5 == 4 {
				key = fmt.Sprintf("%s%d/%02d", prefix, w, i-1)
				x = ack{deleted: true}
			}
			r, err := s.Update(t.Context(), func(tx store.Tx) error {
				if x.deleted {
					return tx.Delete(key)
				}
				return tx.Put(key, []byte(x.value))
			})
			if err != nil {
				t.Errorf("Update: %v", err)
				return
			}
			x.rev = r
			a.record(key, x)
		}
	})
}

// Ensure that every acknowledged write, concurrent ones included, survives
// a restart, that revisions continue above the last acknowledged one, and
// that the history can still be watched.
func testRestart(t *testing.T, b Backend) {
	s, reopen := open(t, b)
	base := rev(t, s)
	var a acks
	for cycle := range 3 {
		writeStorm(t, s, &a, fmt.Sprintf("r/%d/", cycle), 8, 20)
		if t.Failed() {
			t.FailNow()
		}
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		s = reopen(t)
		a.verify(t, s)
	}
	if r := put(t, s, "after-restart", "x"); r <= a.max {
		t.Fatalf("first write after restart got rev %d <= %d", r, a.max)
	}
	// The history survives too: every write since base is replayed.
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	evs := next(t, watch(t, ctx, s, "r/", base), a.writes)
	for i := 1; i < len(evs); i++ {
		if evs[i].KV.ModRev <= evs[i-1].KV.ModRev {
			t.Fatalf("replayed event %d has rev %d after %d", i, evs[i].KV.ModRev, evs[i-1].KV.ModRev)
		}
	}
}

// Ensure that Close lets in-flight Updates finish or fail, closes watch
// channels, is idempotent, and makes every later call return ErrClosed;
// Updates acknowledged around Close survive a reopen.
func testClose(t *testing.T, b Backend) {
	s, reopen := open(t, b)
	ch := watch(t, context.Background(), s, "", rev(t, s))

	var a acks
	var stop atomic.Bool
	var n atomic.Int64
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := 0; !stop.Load(); i++ {
				key, value := fmt.Sprintf("close/%d/%d", w, i), fmt.Sprint(i)
				r, err := s.Update(context.Background(), func(tx store.Tx) error {
					return tx.Put(key, []byte(value))
				})
				if errors.Is(err, store.ErrClosed) {
					return
				}
				if err != nil {
					t.Errorf("Update during Close: %v, want nil or ErrClosed", err)
					return
				}
				a.record(key, ack{value: value, rev: r})
				n.Add(1)
			}
		})
	}
	for n.Load() < 40 {
		if t.Failed() {
			break
		}
		waitABit()
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	stop.Store(true)
	wg.Wait()
	closed(t, ch)
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}

	ctx := t.Context()
	ran := false
	if _, err := s.Update(ctx, func(store.Tx) error { ran = true; return nil }); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Update after Close: %v, want ErrClosed", err)
	}
	if ran {
		t.Errorf("Update after Close ran fn")
	}
	if err := s.View(ctx, func(store.Reader) error { return nil }); !errors.Is(err, store.ErrClosed) {
		t.Errorf("View after Close: %v, want ErrClosed", err)
	}
	if _, err := s.Rev(ctx); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Rev after Close: %v, want ErrClosed", err)
	}
	if _, err := s.Watch(ctx, "", 0); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Watch after Close: %v, want ErrClosed", err)
	}

	a.verify(t, reopen(t))
}
