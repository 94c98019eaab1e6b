package bolt_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/store/bolt"
	"github.com/berth-dev/berth/internal/store/storetest"
)

// testOptions keep the history and watch queues small enough for the suite
// to provoke ErrCompacted and dropped watchers cheaply.
func testOptions() bolt.Options {
	return bolt.Options{LogRetention: 1000, WatchQueue: 256, WatchBuffer: 64}
}

// mustOpen opens a store at path and closes it at cleanup.
func mustOpen(t testing.TB, path string, opts bolt.Options) *bolt.Store {
	t.Helper()
	s, err := bolt.Open(path, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// Ensure that the bbolt backend passes the conformance suite.
func TestStore_Conformance(t *testing.T) {
	opts := testOptions()
	storetest.Run(t, storetest.Backend{
		Open: func(t *testing.T) (store.Store, storetest.Reopen) {
			path := filepath.Join(t.TempDir(), "berth.db")
			reopen := func(t *testing.T) store.Store { return mustOpen(t, path, opts) }
			return mustOpen(t, path, opts), reopen
		},
		Retention: opts.LogRetention,
		// A watcher that never reads holds WatchBuffer events in its channel,
		// one in hand, and WatchQueue revisions queued.
		DropAfter: opts.WatchBuffer + 1 + opts.WatchQueue + 16,
	})
}

// Ensure that Open fails cleanly on a path it cannot create.
func TestOpen_BadPath(t *testing.T) {
	if _, err := bolt.Open(filepath.Join(t.TempDir(), "missing", "dir", "x.db"), bolt.Options{}); err == nil {
		t.Fatal("Open in a missing directory succeeded")
	}
}

// Ensure that the compaction point survives a reopen.
func TestStore_Reopen_KeepsCompaction(t *testing.T) {
	path := filepath.Join(t.TempDir(), "berth.db")
	opts := bolt.Options{LogRetention: 5}
	s, err := bolt.Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	for i := range 12 {
		if _, err := s.Update(ctx, func(tx store.Tx) error { return tx.Put("k", []byte(strconv.Itoa(i))) }); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := mustOpen(t, path, opts)
	if r, _ := s2.Rev(ctx); r != 12 {
		t.Fatalf("Rev after reopen = %d, want 12", r)
	}
	if _, err := s2.Watch(ctx, "", 6); !errors.Is(err, store.ErrCompacted) {
		t.Fatalf("Watch after 6: %v, want ErrCompacted", err)
	}
	ch, err := s2.Watch(ctx, "", 7)
	if err != nil {
		t.Fatalf("Watch after 7: %v", err)
	}
	for want := store.Rev(8); want <= 12; want++ {
		if ev := <-ch; ev.KV.ModRev != want {
			t.Fatalf("replayed rev %d, want %d", ev.KV.ModRev, want)
		}
	}
}

// Ensure that a panic in fn reaches its caller and leaves the store
// working.
func TestStore_Update_Panic(t *testing.T) {
	s := mustOpen(t, filepath.Join(t.TempDir(), "berth.db"), bolt.Options{})
	ctx := t.Context()
	func() {
		defer func() {
			if p := recover(); p != "kaboom" {
				t.Fatalf("recovered %v, want kaboom", p)
			}
		}()
		_, _ = s.Update(ctx, func(tx store.Tx) error {
			_ = tx.Put("k", []byte("lost"))
			panic("kaboom")
		})
		t.Fatal("Update did not panic")
	}()
	if _, err := s.Update(ctx, func(tx store.Tx) error { return tx.Put("k", []byte("ok")) }); err != nil {
		t.Fatal(err)
	}
	err := s.View(ctx, func(r store.Reader) error {
		kv, err := r.Get("k")
		if err == nil && string(kv.Value) != "ok" {
			err = fmt.Errorf("k = %q", kv.Value)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Ensure that a Reader or Tx kept past its fn fails instead of touching
// freed memory.
func TestStore_TxUseAfterFn(t *testing.T) {
	s := mustOpen(t, filepath.Join(t.TempDir(), "berth.db"), bolt.Options{})
	ctx := t.Context()
	var r store.Reader
	var tx store.Tx
	_ = s.View(ctx, func(rr store.Reader) error { r = rr; return nil })
	_, _ = s.Update(ctx, func(tt store.Tx) error { tx = tt; return nil })
	if _, err := r.Get("k"); err == nil {
		t.Fatal("Reader.Get after View returned no error")
	}
	if err := tx.Put("k", nil); err == nil {
		t.Fatal("Tx.Put after Update returned no error")
	}
}

// crashEnv names the environment variable that turns the test binary into
// the crashing child of TestStore_CrashRecovery.
const crashEnv = "BERTH_BOLT_CRASH_CHILD"

// Ensure that every Update acknowledged before the process is killed with
// SIGKILL is in the file after reopening.
func TestStore_CrashRecovery(t *testing.T) {
	if path := os.Getenv(crashEnv); path != "" {
		crashChild(path)
		return
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestStore_CrashRecovery$")
	cmd.Env = append(os.Environ(), crashEnv+"="+path)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := map[string]store.Rev{}
	var maxRev store.Rev
	sc := bufio.NewScanner(out)
	killed := false
	for sc.Scan() {
		// Lines are "ack <key> <rev>"; a line cut by the kill has no
		// newline and is not returned complete, so it is not counted.
		f := strings.Fields(sc.Text())
		if len(f) != 3 || f[0] != "ack" {
			continue
		}
		r, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil {
			t.Fatalf("bad line %q", sc.Text())
		}
		acked[f[1]] = store.Rev(r)
		maxRev = max(maxRev, store.Rev(r))
		if len(acked) == 300 && !killed {
			killed = true
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
		}
	}
	_ = cmd.Wait()
	if !killed {
		t.Fatalf("child exited after %d acks without being killed", len(acked))
	}

	s := mustOpen(t, path, bolt.Options{})
	ctx := t.Context()
	err = s.View(ctx, func(r store.Reader) error {
		for key, rev := range acked {
			kv, err := r.Get(key)
			if err != nil {
				return fmt.Errorf("acknowledged key %s: %w", key, err)
			}
			if kv.ModRev != rev {
				return fmt.Errorf("key %s ModRev = %d, want %d", key, kv.ModRev, rev)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := s.Rev(ctx); r < maxRev {
		t.Fatalf("Rev = %d < last acknowledged %d", r, maxRev)
	}
	t.Logf("%d acknowledged writes survived SIGKILL (last rev %d)", len(acked), maxRev)
}

// crashChild writes forever from 8 goroutines, printing each acknowledged
// write, until its parent kills it.
func crashChild(path string) {
	s, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var mu sync.Mutex
	w := bufio.NewWriter(os.Stdout)
	for g := range 8 {
		go func() {
			for i := 0; ; i++ {
				key := fmt.Sprintf("crash/%d/%d", g, i)
				r, err := s.Update(context.Background(), func(tx store.Tx) error {
					return tx.Put(key, []byte(key))
				})
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(2)
				}
				mu.Lock()
				fmt.Fprintf(w, "ack %s %d\n", key, r)
				_ = w.Flush()
				mu.Unlock()
			}
		}()
	}
	select {}
}

// Ensure that Close stops every goroutine the Store started, watchers
// included.
func TestStore_Close_NoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	s, err := bolt.Open(filepath.Join(t.TempDir(), "berth.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range 5 {
		if _, err := s.Watch(ctx, fmt.Sprint(i), 0); err != nil { // never read
			t.Fatal(err)
		}
		if _, err := s.Update(ctx, func(tx store.Tx) error { return tx.Put(fmt.Sprint(i), nil) }); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// A goroutine that has called wg.Done may take a moment to exit.
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if after := runtime.NumGoroutine(); after > before {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines after Close, %d before Open\n%s", after, before, buf[:runtime.Stack(buf, true)])
	}
}

// TestStore_PutObj: a value put with the writer's decoded form reaches
// this process's live watchers with it (store.Event.Obj); a plain Put, a
// replay from the log and a delete carry none.
func TestStore_PutObj(t *testing.T) {
	s := mustOpen(t, filepath.Join(t.TempDir(), "b.db"), testOptions())
	ctx := t.Context()
	rev0, err := s.Rev(ctx)
	if err != nil {
		t.Fatal(err)
	}
	live, err := s.Watch(ctx, "k/", rev0)
	if err != nil {
		t.Fatal(err)
	}
	obj := &struct{ n int }{1}
	if _, err := s.Update(ctx, func(tx store.Tx) error {
		op, ok := tx.(store.ObjPutter)
		if !ok {
			t.Fatal("the bolt Tx is not an ObjPutter")
		}
		if err := op.PutObj("k/a", []byte("a"), obj); err != nil {
			return err
		}
		return tx.Put("k/b", []byte("b"))
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update(ctx, func(tx store.Tx) error { return tx.Delete("k/a") }); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"k/a": obj, "k/b": nil}
	for range 3 {
		ev := <-live
		if ev.Type == store.EventDelete {
			if ev.Obj != nil {
				t.Errorf("delete of %s carries %v", ev.KV.Key, ev.Obj)
			}
			continue
		}
		if ev.Obj != want[ev.KV.Key] {
			t.Errorf("live put of %s carries %v, want %v", ev.KV.Key, ev.Obj, want[ev.KV.Key])
		}
	}
	replay, err := s.Watch(ctx, "k/", rev0)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if ev := <-replay; ev.Obj != nil {
			t.Errorf("replayed %v of %s carries %v", ev.Type, ev.KV.Key, ev.Obj)
		}
	}
}
