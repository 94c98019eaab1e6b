package bolt

// This test is internal: it watches the request queue so that it can put
// several Updates into one group commit deterministically.

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/store"
)

// waitQueued waits until n requests are queued behind the committer.
func waitQueued(t *testing.T, s *Store, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.qmu.Lock()
		queued := len(s.queue)
		s.qmu.Unlock()
		if queued >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d requests queued, want %d", queued, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// Ensure that the fns of one group commit are isolated: a failing fn loses
// only its own writes, later fns see earlier fns' writes, each writing fn
// gets its own consecutive revision, and the batch costs one commit.
func TestStore_Update_BatchIsolation(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "berth.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	errBoom := errors.New("boom")
	release, entered := make(chan struct{}), make(chan struct{})
	fns := []func(store.Tx) (string, error){
		func(tx store.Tx) (string, error) { // A: holds the committer until B, C, D queue up
			close(entered)
			<-release
			return "", tx.Put("a", []byte("A"))
		},
		func(tx store.Tx) (string, error) { // B: writes, then fails
			if err := tx.Put("b", []byte("B")); err != nil {
				return "", err
			}
			return "", errBoom
		},
		func(tx store.Tx) (string, error) { // C: writes after reading A's write
			kv, err := tx.Get("a")
			if err != nil {
				return "", err
			}
			return "", tx.Put("c", append(kv.Value, 'C'))
		},
		func(tx store.Tx) (string, error) { // D: reads only
			kv, err := tx.Get("c")
			if err != nil {
				return "", err
			}
			_, errB := tx.Get("b")
			return string(kv.Value) + "/" + fmt.Sprint(errors.Is(errB, store.ErrNotFound)), nil
		},
	}
	type res struct {
		rev store.Rev
		err error
		val string
	}
	results := make([]res, len(fns))
	st0 := s.Stats()
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Go(func() {
			var val string
			r, err := s.Update(ctx, func(tx store.Tx) error {
				var err error
				val, err = fn(tx)
				return err
			})
			results[i] = res{r, err, val}
		})
		if i == 0 {
			<-entered
		} else {
			waitQueued(t, s, i) // in order, behind A
		}
	}
	close(release)
	wg.Wait()

	a, b, c, d := results[0], results[1], results[2], results[3]
	if a.err != nil || c.err != nil || d.err != nil || !errors.Is(b.err, errBoom) {
		t.Fatalf("errors = %v, %v, %v, %v; want nil, boom, nil, nil", a.err, b.err, c.err, d.err)
	}
	if c.rev != a.rev+1 || d.rev != c.rev {
		t.Fatalf("revs A=%d C=%d D=%d; want C=A+1, D=C", a.rev, c.rev, d.rev)
	}
	if d.val != "AC/true" {
		t.Fatalf("D read %q, want AC/true", d.val)
	}
	if st := s.Stats(); st.Commits-st0.Commits != 1 || st.Updates-st0.Updates != 2 {
		t.Fatalf("stats went from %+v to %+v; want one commit carrying 2 Updates", st0, st)
	}
}

// Ensure that a batch stops at MaxBatch Updates and the rest go into the
// next commit.
func TestStore_Update_MaxBatch(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "berth.db"), Options{MaxBatch: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	release, entered := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		_, _ = s.Update(ctx, func(tx store.Tx) error {
			close(entered)
			<-release
			return tx.Put("first", nil)
		})
	})
	<-entered
	for i := range 7 {
		wg.Go(func() {
			if _, err := s.Update(ctx, func(tx store.Tx) error { return tx.Put(fmt.Sprint(i), nil) }); err != nil {
				t.Error(err)
			}
		})
	}
	waitQueued(t, s, 7)
	st0 := s.Stats()
	close(release)
	wg.Wait()
	// 8 Updates in batches of at most 3: 3 + 3 + 2.
	if st := s.Stats(); st.Commits-st0.Commits != 3 || st.Updates-st0.Updates != 8 {
		t.Fatalf("stats went from %+v to %+v; want 3 commits carrying 8 Updates", st0, st)
	}
}
