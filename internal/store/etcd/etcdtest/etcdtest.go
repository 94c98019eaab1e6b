// Package etcdtest starts in-process, single-member etcd servers for tests.
//
// Every server listens on 127.0.0.1 with kernel-chosen ports, keeps its data
// in t.TempDir(), logs nothing, and is closed by t.Cleanup. Any package's tests
// may use it:
//
//	endpoints := etcdtest.Start(t)
//	cli := etcdtest.NewClient(t, endpoints)
//
// A Server can also be restarted on the same data directory (Restart), which
// is how the store conformance suite exercises a full etcd restart. The
// client endpoints change on every start, so clients must be re-created.
package etcdtest

import (
	"fmt"
	"net/url"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// readyTimeout bounds how long a start waits for the member to serve.
const readyTimeout = 30 * time.Second

// Server is one in-process etcd member. Its methods must be called from the
// test's goroutine (they call t.Fatal).
type Server struct {
	dir       string
	e         *embed.Etcd // nil while stopped
	endpoints []string
}

// Start starts a server for the duration of the test and returns its client
// endpoints.
func Start(t testing.TB) []string {
	t.Helper()
	return StartServer(t).Endpoints()
}

// StartServer starts a server for the duration of the test. Cleanup stops it.
func StartServer(t testing.TB) *Server {
	t.Helper()
	s := &Server{dir: t.TempDir()}
	s.start(t)
	t.Cleanup(s.Stop)
	return s
}

// Endpoints returns the client URLs of the running server.
func (s *Server) Endpoints() []string { return s.endpoints }

// Restart stops the server and starts it again on the same data directory.
// Acknowledged writes survive; the endpoints change.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Stop()
	s.start(t)
}

// Stop stops the server. It is idempotent.
func (s *Server) Stop() {
	if s.e == nil {
		return
	}
	s.e.Close()
	s.e = nil
	s.endpoints = nil
}

func (s *Server) start(t testing.TB) {
	t.Helper()
	local := url.URL{Scheme: "http", Host: "127.0.0.1:0"}
	cfg := embed.NewConfig()
	cfg.Dir = s.dir
	cfg.ListenClientUrls = []url.URL{local}
	cfg.AdvertiseClientUrls = []url.URL{local}
	cfg.ListenPeerUrls = []url.URL{local}
	cfg.AdvertisePeerUrls = []url.URL{local}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	// Short ticks make the single member elect itself quickly.
	cfg.TickMs = 10
	cfg.ElectionMs = 100
	// Tests write larger transactions than etcd's default of 128 ops.
	cfg.MaxTxnOps = 4096
	cfg.Logger = "zap"
	cfg.LogLevel = "error"
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())

	e, err := embed.StartEtcd(cfg)
	if err != nil {
		t.Fatalf("etcdtest: start: %v", err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		e.Close()
		t.Fatalf("etcdtest: start: %v", err)
	case <-time.After(readyTimeout):
		e.Close()
		t.Fatalf("etcdtest: start: not ready after %v", readyTimeout)
	}
	s.e = e
	s.endpoints = nil
	for _, l := range e.Clients {
		s.endpoints = append(s.endpoints, fmt.Sprintf("http://%s", l.Addr()))
	}
}

// NewClient returns a client for endpoints that is closed at cleanup.
func NewClient(t testing.TB, endpoints []string) *clientv3.Client {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   endpoints,
		DialTimeout: 5 * time.Second,
		Logger:      zap.NewNop(),
	})
	if err != nil {
		t.Fatalf("etcdtest: client: %v", err)
	}
	t.Cleanup(func() { _ = cli.Close() })
	return cli
}
