package etcdtest_test

import (
	"testing"

	"github.com/berth-dev/berth/internal/store/etcd/etcdtest"
)

// Ensure that a restarted server keeps acknowledged writes.
func TestServer_Restart(t *testing.T) {
	srv := etcdtest.StartServer(t)
	cli := etcdtest.NewClient(t, srv.Endpoints())
	put, err := cli.Put(t.Context(), "k", "v")
	if err != nil {
		t.Fatal(err)
	}
	srv.Restart(t)
	cli = etcdtest.NewClient(t, srv.Endpoints())
	resp, err := cli.Get(t.Context(), "k")
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != "v" || resp.Kvs[0].ModRevision != put.Header.Revision {
		t.Fatalf("after restart: %v, want k=v at %d", resp.Kvs, put.Header.Revision)
	}
}

// Ensure that Start gives a usable endpoint.
func TestStart(t *testing.T) {
	endpoints := etcdtest.Start(t)
	if len(endpoints) == 0 {
		t.Fatal("no endpoints")
	}
	if _, err := etcdtest.NewClient(t, endpoints).Put(t.Context(), "k", "v"); err != nil {
		t.Fatal(err)
	}
}
