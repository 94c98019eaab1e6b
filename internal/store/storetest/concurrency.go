package storetest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/store"
)

var (
	errExists = errors.New("storetest: exists")
	errLast   = errors.New("storetest: last one")
	errFull   = errors.New("storetest: full")
)

func contextCanceled(t *testing.T) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	return ctx, cancel
}

// parallel runs fn(i) for i in [0, n) on n goroutines and waits.
func parallel(n int, fn func(i int)) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { fn(i) })
	}
	wg.Wait()
}

// getInt reads a decimal counter inside a transaction; missing is zero.
func getInt(r store.Reader, key string) (int, error) {
	kv, err := r.Get(key)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(string(kv.Value))
}

// Ensure that View reads one snapshot: two keys always written together
// are always read equal, whether with Get or List.
func testViewSnapshot(t *testing.T, b Backend) {
	s, _ := open(t, b)
	const writes = 60
	var done atomic.Bool
	var wg sync.WaitGroup
	wg.Go(func() {
		defer done.Store(true)
		for i := range writes {
			_, err := s.Update(t.Context(), func(tx store.Tx) error {
				v := []byte(strconv.Itoa(i))
				if err := tx.Put("v/a", v); err != nil {
					return err
				}
				return tx.Put("v/b", v)
			})
			if err != nil {
				t.Errorf("Update: %v", err)
				return
			}
		}
	})
	reads := 0
	for !done.Load() || reads < 5 {
		reads++
		err := s.View(t.Context(), func(r store.Reader) error {
			b, errB := getInt(r, "v/b")
			var listed []string
			errL := r.List("v/", "", func(kv store.KV) error {
				listed = append(listed, string(kv.Value))
				return nil
			})
			a, errA := getInt(r, "v/a")
			if err := errors.Join(errA, errB, errL); err != nil {
				return err
			}
			if a != b {
				t.Errorf("View read v/a=%d v/b=%d", a, b)
			}
			if len(listed) == 2 && (listed[0] != listed[1] || listed[0] != strconv.Itoa(a)) {
				t.Errorf("View listed %q, got v/a=%d", listed, a)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("View: %v", err)
		}
	}
	wg.Wait()
}

// Ensure that concurrent read-modify-write Updates lose no increment.
func testConcurrentCounter(t *testing.T, b Backend) {
	s, _ := open(t, b)
	const workers, incs = 16, 50
	var mu sync.Mutex
	revs := map[store.Rev]bool{}
	parallel(workers, func(int) {
		for range incs {
			r, err := s.Update(t.Context(), func(tx store.Tx) error {
				n, err := getInt(tx, "counter")
				if err != nil {
					return err
				}
				return tx.Put("counter", []byte(strconv.Itoa(n+1)))
			})
			if err != nil {
				t.Errorf("Update: %v", err)
				return
			}
			mu.Lock()
			if revs[r] {
				t.Errorf("two increments returned rev %d", r)
			}
			revs[r] = true
			mu.Unlock()
		}
	})
	kv := mustGet(t, s, "counter", strconv.Itoa(workers*incs))
	if !revs[kv.ModRev] {
		t.Fatalf("counter ModRev %d was not returned by any Update", kv.ModRev)
	}
}

// Ensure that "create only if absent" has exactly one winner.
func testCheckThenInsert(t *testing.T, b Backend) {
	s, _ := open(t, b)
	const rounds, workers = 5, 12
	for round := range rounds {
		key := fmt.Sprintf("unique/%d", round)
		var wins atomic.Int32
		var winner atomic.Int32
		parallel(workers, func(i int) {
			_, err := s.Update(t.Context(), func(tx store.Tx) error {
				if _, err := tx.Get(key); err == nil {
					return errExists
				} else if !errors.Is(err, store.ErrNotFound) {
					return err
				}
				return tx.Put(key, []byte(strconv.Itoa(i)))
			})
			switch {
			case err == nil:
				wins.Add(1)
				winner.Store(int32(i))
			case !errors.Is(err, errExists):
				t.Errorf("Update: %v", err)
			}
		})
		if n := wins.Load(); n != 1 {
			t.Fatalf("round %d: %d Updates created %q, want 1", round, n, key)
		}
		mustGet(t, s, key, strconv.Itoa(int(winner.Load())))
	}
}

// Ensure that a decision taken over a List is serializable against deletes
// of listed keys: everyone deletes its own key unless it would be the last
// one, so exactly one key must remain. It runs with a few keys and with
// many, since backends may track small and large read sets differently.
func testWriteSkewDelete(t *testing.T, b Backend) {
	for _, n := range []int{6, 24} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			t.Parallel()
			writeSkewDelete(t, b, n)
		})
	}
}

func writeSkewDelete(t *testing.T, b Backend, n int) {
	s, _ := open(t, b)
	update(t, s, func(tx store.Tx) error {
		for i := range n {
			if err := tx.Put(fmt.Sprintf("skew/%d", i), nil); err != nil {
				return err
			}
		}
		return nil
	})
	parallel(n, func(i int) {
		_, err := s.Update(t.Context(), func(tx store.Tx) error {
			count := 0
			if err := tx.List("skew/", "", func(store.KV) error { count++; return nil }); err != nil {
				return err
			}
			if count <= 1 {
				return errLast
			}
			return tx.Delete(fmt.Sprintf("skew/%d", i))
		})
		if err != nil && !errors.Is(err, errLast) {
			t.Errorf("Update: %v", err)
		}
	})
	if got := list(t, s, "skew/", ""); len(got) != 1 {
		t.Fatalf("%d keys left (%q), want exactly 1", len(got), keys(got))
	}
}

// Ensure that a decision taken over a List is serializable against inserts
// into the listed range: at most `limit` keys may exist, and everyone
// inserts its own key while there is room.
func testPhantomInsert(t *testing.T, b Backend) {
	s, _ := open(t, b)
	const workers, limit = 12, 5
	put(t, s, "slots0", "outside the range")
	parallel(workers, func(i int) {
		_, err := s.Update(t.Context(), func(tx store.Tx) error {
			count := 0
			if err := tx.List("slots/", "", func(store.KV) error { count++; return nil }); err != nil {
				return err
			}
			if count >= limit {
				return errFull
			}
			return tx.Put(fmt.Sprintf("slots/%02d", i), nil)
		})
		if err != nil && !errors.Is(err, errFull) {
			t.Errorf("Update: %v", err)
		}
	})
	if got := list(t, s, "slots/", ""); len(got) != limit {
		t.Fatalf("%d slots taken (%q), want %d", len(got), keys(got), limit)
	}
}

// Ensure that Updates reading many keys with Get still detect conflicts
// (backends that track reads per key may fall back to coarser checks).
func testManyReads(t *testing.T, b Backend) {
	s, _ := open(t, b)
	const nkeys, workers, each = 40, 4, 6
	parallel(workers, func(w int) {
		for j := range each {
			_, err := s.Update(t.Context(), func(tx store.Tx) error {
				sum := 0
				for k := range nkeys {
					n, err := getInt(tx, fmt.Sprintf("many/%02d", k))
					if err != nil {
						return err
					}
					sum += n
				}
				total, err := getInt(tx, "many-total")
				if err != nil {
					return err
				}
				if total != sum {
					return fmt.Errorf("snapshot: total %d != sum %d", total, sum)
				}
				k := fmt.Sprintf("many/%02d", (w*each+j)%nkeys)
				n, err := getInt(tx, k)
				if err != nil {
					return err
				}
				if err := tx.Put(k, []byte(strconv.Itoa(n+1))); err != nil {
					return err
				}
				return tx.Put("many-total", []byte(strconv.Itoa(total+1)))
			})
			if err != nil {
				t.Errorf("Update: %v", err)
				return
			}
		}
	})
	mustGet(t, s, "many-total", strconv.Itoa(workers*each))
	sum := 0
	for _, kv := range list(t, s, "many/", "") {
		n, _ := strconv.Atoi(string(kv.Value))
		sum += n
	}
	if sum != workers*each {
		t.Fatalf("sum = %d, want %d", sum, workers*each)
	}
}

// waitABit yields for a moment while polling.
func waitABit() { time.Sleep(time.Millisecond) }
