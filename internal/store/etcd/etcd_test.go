package etcd_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/store/etcd"
	"github.com/berth-dev/berth/internal/store/etcd/etcdtest"
	"github.com/berth-dev/berth/internal/store/storetest"
)

const testPrefix = "/berth/"

// testOptions make the whole-store fallback and watcher drops cheap to
// provoke.
func testOptions() etcd.Options {
	return etcd.Options{MaxCompares: 16, PageSize: 8, WatchQueue: 256, WatchBuffer: 64}
}

// mustNew creates a client and a Store on endpoints, both closed at cleanup.
func mustNew(t testing.TB, endpoints []string, opts etcd.Options) (*etcd.Store, *clientv3.Client) {
	t.Helper()
	cli := etcdtest.NewClient(t, endpoints)
	s, err := etcd.New(context.Background(), cli, testPrefix, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, cli
}

// Ensure that the etcd backend passes the conformance suite, each subtest
// on its own in-process etcd.
func TestStore_Conformance(t *testing.T) {
	opts := testOptions()
	var mu sync.Mutex
	clients := map[store.Store]*clientv3.Client{}
	storetest.Run(t, storetest.Backend{
		Open: func(t *testing.T) (store.Store, storetest.Reopen) {
			srv := etcdtest.StartServer(t)
			s, cli := mustNew(t, srv.Endpoints(), opts)
			mu.Lock()
			clients[s] = cli
			mu.Unlock()
			reopen := func(t *testing.T) store.Store {
				srv.Restart(t)
				s, _ := mustNew(t, srv.Endpoints(), opts)
				return s
			}
			return s, reopen
		},
		Compact: func(t *testing.T, s store.Store, rev store.Rev) {
			mu.Lock()
			cli := clients[s]
			mu.Unlock()
			if _, err := cli.Compact(t.Context(), int64(rev), clientv3.WithCompactPhysical()); err != nil {
				t.Fatalf("Compact: %v", err)
			}
		},
		// A watcher that never reads holds WatchBuffer events in its channel
		// and WatchQueue live revisions queued.
		DropAfter: opts.WatchBuffer + opts.WatchQueue + 16,
	})
}

// Ensure that New fails when the cluster does not answer.
func TestNew_Unreachable(t *testing.T) {
	srv := etcdtest.StartServer(t)
	cli := etcdtest.NewClient(t, srv.Endpoints())
	srv.Stop()
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	if _, err := etcd.New(ctx, cli, testPrefix, etcd.Options{}); err == nil {
		t.Fatal("New succeeded against a stopped server")
	}
}

// Ensure that two Stores with different prefixes on one cluster do not see
// each other's keys or events.
func TestStore_PrefixIsolation(t *testing.T) {
	endpoints := etcdtest.Start(t)
	cli := etcdtest.NewClient(t, endpoints)
	ctx := t.Context()
	a, err := etcd.New(ctx, cli, "/a/", etcd.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := etcd.New(ctx, cli, "/b/", etcd.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	defer b.Close()
	ch, err := b.Watch(ctx, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Update(ctx, func(tx store.Tx) error { return tx.Put("k", []byte("a")) }); err != nil {
		t.Fatal(err)
	}
	rb, err := b.Update(ctx, func(tx store.Tx) error { return tx.Put("k", []byte("b")) })
	if err != nil {
		t.Fatal(err)
	}
	if ev := <-ch; ev.KV.ModRev != rb || string(ev.KV.Value) != "b" {
		t.Fatalf("b saw %q at %d, want b at %d", ev.KV.Value, ev.KV.ModRev, rb)
	}
	err = b.View(ctx, func(r store.Reader) error {
		n := 0
		err := r.List("", "", func(store.KV) error { n++; return nil })
		if err == nil && n != 1 {
			err = errors.New("b lists more than its own key")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
