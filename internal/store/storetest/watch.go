package storetest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/store"
)

// sortEvents orders events by revision, then key (the contract orders
// revisions, not the keys within one).
func sortEvents(evs []store.Event) []store.Event {
	slices.SortStableFunc(evs, func(a, b store.Event) int {
		return cmp.Or(cmp.Compare(a.KV.ModRev, b.KV.ModRev), cmp.Compare(a.KV.Key, b.KV.Key))
	})
	return evs
}

// nextSorted receives n events and sorts those of one revision by key,
// after checking that revisions never go backwards.
func nextSorted(t *testing.T, ch <-chan store.Event, n int) []store.Event {
	t.Helper()
	evs := next(t, ch, n)
	for i := 1; i < len(evs); i++ {
		if evs[i].KV.ModRev < evs[i-1].KV.ModRev {
			t.Fatalf("event %d has rev %d after rev %d", i, evs[i].KV.ModRev, evs[i-1].KV.ModRev)
		}
	}
	return sortEvents(evs)
}

// Ensure that Watch replays past events in order, filters by prefix, and
// continues live without gaps or duplicates.
func testWatchReplayThenLive(t *testing.T, b Backend) {
	s, _ := open(t, b)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()

	r0 := rev(t, s)
	r1 := put(t, s, "w/a", "1")
	put(t, s, "other/x", "1")
	r3 := put(t, s, "w/b", "2")
	r4 := del(t, s, "w/a")

	ch := watch(t, ctx, s, "w/", r0)
	for i, ev := range nextSorted(t, ch, 3) {
		checkEvent(t, ev, []store.Event{
			putEvent("w/a", "1", r1, r1),
			putEvent("w/b", "2", r3, r3),
			delEvent("w/a", r4),
		}[i])
	}

	r5 := put(t, s, "w/c", "3")
	put(t, s, "other/y", "1")
	r7 := update(t, s, func(tx store.Tx) error {
		if err := tx.Put("w/e", []byte("5")); err != nil {
			return err
		}
		if err := tx.Put("other/z", []byte("1")); err != nil {
			return err
		}
		return tx.Put("w/d", []byte("4"))
	})
	r8 := put(t, s, "w/c", "6")
	want := []store.Event{
		putEvent("w/c", "3", r5, r5),
		putEvent("w/d", "4", r7, r7),
		putEvent("w/e", "5", r7, r7),
		putEvent("w/c", "6", r5, r8),
	}
	for i, ev := range nextSorted(t, ch, 4) {
		checkEvent(t, ev, want[i])
	}
	// Nothing else is pending: the next event is the next write.
	r9 := put(t, s, "w/sentinel", "")
	checkEvent(t, next(t, ch, 1)[0], putEvent("w/sentinel", "", r9, r9))

	// Replay from the middle of the history.
	ch2 := watch(t, ctx, s, "w/", r3)
	want = append([]store.Event{delEvent("w/a", r4)}, want...)
	want = append(want, putEvent("w/sentinel", "", r9, r9))
	for i, ev := range nextSorted(t, ch2, len(want)) {
		checkEvent(t, ev, want[i])
	}

	// The empty prefix watches everything.
	ch3 := watch(t, ctx, s, "", r0)
	all := nextSorted(t, ch3, 10)
	if got := all[1]; got.KV.Key != "other/x" {
		t.Fatalf("second event of the whole store = %s, want other/x", fmtEvent(got))
	}
}

// Ensure that Watch from the current revision, or from a future one,
// delivers only later events.
func testWatchFromNow(t *testing.T, b Backend) {
	s, _ := open(t, b)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	put(t, s, "k", "0")
	now := rev(t, s)
	chNow := watch(t, ctx, s, "", now)
	chFuture := watch(t, ctx, s, "", now+2)
	r1 := put(t, s, "k", "1")
	r2 := put(t, s, "k", "2")
	r3 := put(t, s, "k", "3")
	got := next(t, chNow, 3)
	for i, r := range []store.Rev{r1, r2, r3} {
		if got[i].KV.ModRev != r {
			t.Fatalf("event %d rev = %d, want %d", i, got[i].KV.ModRev, r)
		}
	}
	if r2 != now+2 {
		t.Skipf("revisions are not consecutive here (%d, %d); future watch not checkable", now, r2)
	}
	if ev := next(t, chFuture, 1)[0]; ev.KV.ModRev != r3 {
		t.Fatalf("future watch: first event rev = %d, want %d", ev.KV.ModRev, r3)
	}
}

// collector drains a watch channel in the background.
type collector struct {
	after store.Rev
	mu    sync.Mutex
	evs   []store.Event
	shut  bool // channel closed
}

func collect(wg *sync.WaitGroup, ch <-chan store.Event, after store.Rev) *collector {
	c := &collector{after: after}
	wg.Go(func() {
		for ev := range ch {
			c.mu.Lock()
			c.evs = append(c.evs, ev)
			c.mu.Unlock()
		}
		c.mu.Lock()
		c.shut = true
		c.mu.Unlock()
	})
	return c
}

// wait waits until c has n events or its channel closed.
func (c *collector) wait(n int) []store.Event {
	deadline := time.Now().Add(waitTimeout)
	for {
		c.mu.Lock()
		evs, shut := slices.Clone(c.evs), c.shut
		c.mu.Unlock()
		if len(evs) >= n || shut || time.Now().After(deadline) {
			return evs
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// Ensure that watchers started before and during a storm of concurrent
// writers each see exactly the events after their revision, in order: the
// replay-to-live handoff loses and repeats nothing.
func testWatchConcurrent(t *testing.T, b Backend) {
	s, _ := open(t, b)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	put(t, s, "c/seed", "x")
	base := rev(t, s)

	var collectors []*collector
	var cwg sync.WaitGroup
	defer cwg.Wait()
	defer cancel()
	collectors = append(collectors, collect(&cwg, watch(t, ctx, s, "c/", base), base))

	const writers, each = 8, 30
	var mu sync.Mutex
	var acked []store.Event // the events under c/ of every acknowledged Update
	var wwg sync.WaitGroup
	for w := range writers {
		wwg.Go(func() {
			for i := range each {
				key, value := fmt.Sprintf("c/%d/%02d", w, i), fmt.Sprintf("%d.%d", w, i)
				r, err := s.Update(ctx, func(tx store.Tx) error {
					if i%3 == 0 { // some writes are outside the prefix
						if err := tx.Put(fmt.Sprintf("z/%d", w), []byte(value)); err != nil {
							return err
						}
					}
					return tx.Put(key, []byte(value))
				})
				if err != nil {
					t.Errorf("Update: %v", err)
					return
				}
				mu.Lock()
				acked = append(acked, putEvent(key, value, r, r))
				mu.Unlock()
			}
		})
	}
	// Start more watchers while the writers run, each from a little in the
	// past, so that each replays some revisions and then goes live.
	for k := 1; k <= 4; k++ {
		for {
			mu.Lock()
			n := len(acked)
			mu.Unlock()
			if n >= k*writers*each/6 {
				break
			}
			time.Sleep(time.Millisecond)
		}
		after := max(base, rev(t, s)-store.Rev(3*k))
		collectors = append(collectors, collect(&cwg, watch(t, ctx, s, "c/", after), after))
	}
	wwg.Wait()

	sortEvents(acked)
	for i, c := range collectors {
		var want []store.Event
		for _, ev := range acked {
			if ev.KV.ModRev > c.after {
				want = append(want, ev)
			}
		}
		got := c.wait(len(want))
		if len(got) != len(want) {
			t.Errorf("watcher %d (after %d): %d events, want %d", i, c.after, len(got), len(want))
			continue
		}
		for j := range got {
			g, w := got[j], want[j]
			if g.Type != w.Type || g.KV.Key != w.KV.Key || string(g.KV.Value) != string(w.KV.Value) || g.KV.ModRev != w.KV.ModRev {
				t.Errorf("watcher %d (after %d): event %d = %s, want %s", i, c.after, j, fmtEvent(g), fmtEvent(w))
				break
			}
		}
	}
}

// Ensure that canceling the context closes the watch channel.
func testWatchCancel(t *testing.T, b Backend) {
	s, _ := open(t, b)
	ctx, cancel := context.WithCancel(t.Context())
	ch := watch(t, ctx, s, "", rev(t, s))
	put(t, s, "k", "1")
	next(t, ch, 1)
	cancel()
	closed(t, ch)
	// The store still works.
	put(t, s, "k", "2")
}

// Ensure that Watch from before the retained history fails with
// ErrCompacted, while recent revisions still work.
func testWatchCompacted(t *testing.T, b Backend) {
	if b.Compact == nil && b.Retention == 0 {
		t.Skip("backend can neither compact nor limit retention")
	}
	s, _ := open(t, b)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	r0 := rev(t, s)
	put(t, s, "k", "1")
	if b.Compact != nil {
		for i := range 5 {
			put(t, s, "k", fmt.Sprint(i))
		}
		b.Compact(t, s, rev(t, s))
	} else {
		// Write past the retention, many writers at a time so that group
		// commit keeps this quick.
		const writers = 16
		per := (b.Retention + 10 + writers - 1) / writers
		parallel(writers, func(w int) {
			for i := range per {
				if _, err := s.Update(t.Context(), func(tx store.Tx) error {
					return tx.Put(fmt.Sprintf("fill/%d", w), []byte(fmt.Sprint(i)))
				}); err != nil {
					t.Errorf("Update: %v", err)
					return
				}
			}
		})
	}
	if _, err := s.Watch(ctx, "", r0); !errors.Is(err, store.ErrCompacted) {
		t.Fatalf("Watch after compacted rev %d: error = %v, want ErrCompacted", r0, err)
	}
	now := rev(t, s)
	ch := watch(t, ctx, s, "", now)
	r := put(t, s, "k", "last")
	checkEvent(t, next(t, ch, 1)[0], putEvent("k", "last", 0, r))
}

// Ensure that a watcher that never reads is dropped (its channel closed)
// instead of blocking writers.
func testWatchSlowDropped(t *testing.T, b Backend) {
	if b.DropAfter == 0 {
		t.Skip("backend does not say when it drops slow watchers")
	}
	s, _ := open(t, b)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	ch := watch(t, ctx, s, "", rev(t, s))

	const writers = 16
	per := (b.DropAfter + 10 + writers - 1) / writers
	done := make(chan struct{})
	go func() {
		defer close(done)
		parallel(writers, func(w int) {
			for i := range per {
				if _, err := s.Update(ctx, func(tx store.Tx) error {
					return tx.Put(fmt.Sprintf("slow/%d", w), []byte(fmt.Sprint(i)))
				}); err != nil {
					t.Errorf("Update: %v", err)
					return
				}
			}
		})
	}()
	select {
	case <-done:
	case <-time.After(waitTimeout):
		t.Fatal("writers blocked behind a watcher that does not read")
	}
	closed(t, ch)
}

// Ensure that Last marks the final event of each revision, both when
// replayed and live, and after prefix filtering.
func testWatchLastOfRevision(t *testing.T, b Backend) {
	s, _ := open(t, b)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	start := rev(t, s)
	multi := func(keys ...string) store.Rev {
		t.Helper()
		r, err := s.Update(ctx, func(tx store.Tx) error {
			for _, k := range keys {
				if err := tx.Put(k, []byte("v")); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	multi("a/1", "a/2", "b/1")
	check := func(name string, evs []store.Event, wantLast []bool) {
		t.Helper()
		for i, ev := range evs {
			if ev.Last != wantLast[i] {
				t.Fatalf("%s: event %d (%s rev %d) Last = %v, want %v", name, i, ev.KV.Key, ev.KV.ModRev, ev.Last, wantLast[i])
			}
		}
	}
	// Replayed.
	check("replay", next(t, watch(t, ctx, s, "", start), 3), []bool{false, false, true})
	check("replay prefix", next(t, watch(t, ctx, s, "a/", start), 2), []bool{false, true})
	// Live.
	live := watch(t, ctx, s, "", rev(t, s))
	livePrefix := watch(t, ctx, s, "b/", rev(t, s))
	multi("a/3", "b/2", "b/3")
	multi("c/1")
	check("live", next(t, live, 4), []bool{false, false, true, true})
	check("live prefix", next(t, livePrefix, 2), []bool{false, true})
}
