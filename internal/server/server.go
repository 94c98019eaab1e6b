// Package server assembles `berth server`: it opens the store, builds
// control and the API, and serves HTTP until closed. The end-to-end tests
// start the same Main on 127.0.0.1:0.
//
//	Start: store (bolt | etcd) → control (view loaded) → api, agent sessions, Fargate fleet, service controller → listener
//	Close: managed scaling → Auto Scaling controller → in-process launchers' instances → stop accepting, finish in-flight requests → agent sessions → fleet → control → store
package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/berth-dev/berth/internal/acs"
	"github.com/berth-dev/berth/internal/agents"
	"github.com/berth-dev/berth/internal/api"
	"github.com/berth-dev/berth/internal/autoscaling"
	"github.com/berth-dev/berth/internal/control"
	"github.com/berth-dev/berth/internal/scaling"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/store/bolt"
)

// Config is the configuration of `berth server`.
type Config struct {
	// ProvisioningTimeout is how long a task may wait in PROVISIONING for
	// capacity (managed scaling); 0 means 30 minutes (spec §4.9).
	ProvisioningTimeout time.Duration
	// ScalingInterval is the managed scaling evaluation interval (0: one
	// minute, as ECS publishes the metric); ScaleInAfter how long the
	// metric must stay below target before a scale-in (0: 15 minutes).
	ScalingInterval time.Duration
	ScaleInAfter    time.Duration

	Listen          string   // host:port; port 0 picks a free port
	DataDir         string   // bolt data directory
	Store           string   // "bolt" (default) or "etcd"
	EtcdEndpoints   []string // with Store "etcd"
	EtcdPrefix      string   // key prefix in etcd; default "/berth/"
	DefaultRegion   string   // default "us-east-1"
	DefaultAccount  string   // 12 digits; default "000000000000"
	Auth            api.AuthMode
	CredentialsFile string
	// AdvertiseURL is the base URL agents are told to use (default: the
	// address each agent reached the server on).
	AdvertiseURL string
	Log          *slog.Logger
	// ShutdownTimeout bounds how long Close waits for in-flight requests.
	ShutdownTimeout time.Duration
	// TaskRetention is how long STOPPED tasks stay describable (default
	// control.DefaultTaskRetention, one hour).
	TaskRetention time.Duration
	// FargateFleet starts the built-in Fargate fleet (`berth server`
	// passes fleet.Start); nil runs without one, and FARGATE tasks then
	// stay PROVISIONING. It is passed in rather than imported because the
	// fleet runs its tasks with package agent, whose tests start this
	// server.
	FargateFleet FleetStarter
	// FargateRuntime is the fleet's runtime: "auto" (the default: Docker
	// when it answers, else simulated), "docker" or "sim". The fleet keeps
	// its state under <DataDir>/fargate (a temporary directory without
	// DataDir).
	FargateRuntime string
	// AutoScalingExecCommand is the command of the Auto Scaling "exec"
	// instance launcher (see package autoscaling); empty disables it.
	AutoScalingExecCommand []string
	// AutoScalingLaunchers starts the Auto Scaling launchers whose
	// instances run in the server process (`berth server` passes
	// inprocess.Start: the sim and local launchers); nil leaves them
	// unavailable. It gets a client of this server's ECS API per account
	// and a data directory, <DataDir>/autoscaling (a temporary one
	// without DataDir). It is passed in rather than imported because the
	// instances are agents, whose package's tests start this server.
	AutoScalingLaunchers autoscaling.LauncherFactory
}

// FleetStarter starts a Fargate fleet on c with the given runtime and data
// directory; the server closes it after the agent sessions and before
// control.
type FleetStarter func(ctx context.Context, c *control.Control, runtime, dataDir string, log *slog.Logger) (io.Closer, error)

// Main is a running server.
type Main struct {
	cfg     Config
	log     *slog.Logger
	store   store.Store
	etcdCli *clientv3.Client
	control *control.Control
	agents  *agents.Backend
	fleet   io.Closer
	asg     *autoscaling.Controller
	scaling *scaling.Controller
	// launchers are the in-process launchers (AutoScalingLaunchers), and
	// selfTransport the connection pool of their ECS clients.
	launchers     io.Closer
	selfTransport *http.Transport
	creds         []api.Credential
	selfMu        sync.Mutex
	selfClients   map[string]*ecs.Client
	acs           *acs.Handler
	tcs           *acs.TelemetryHandler
	http          *http.Server
	ln            net.Listener

	// conns tracks connections that have not carried a request yet
	// (StateNew), so Close can drop them instead of waiting for them.
	connMu   sync.Mutex
	newConns map[net.Conn]struct{}

	// fleetTmp is the fleet's temporary data directory, if it has one;
	// asgTmp the in-process launchers'.
	fleetTmp string
	asgTmp   string

	// stopSweep ends the periodic purge loop.
	stopSweep context.CancelFunc

	// serveErr receives the result of the serving goroutine; wg tracks it
	// and the sweep loop.
	serveErr chan error
	wg       sync.WaitGroup
	once     sync.Once
}

// Start opens everything and starts serving. The caller must Close.
func Start(ctx context.Context, cfg Config) (*Main, error) {
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:8080"
	}
	if cfg.Store == "" {
		cfg.Store = "bolt"
	}
	if cfg.DefaultRegion == "" {
		cfg.DefaultRegion = "us-east-1"
	}
	if cfg.DefaultAccount == "" {
		cfg.DefaultAccount = "000000000000"
	}
	if cfg.EtcdPrefix == "" {
		cfg.EtcdPrefix = "/berth/"
	}
	if cfg.ShutdownTimeout == 0 {
		cfg.ShutdownTimeout = 30 * time.Second
	}
	if cfg.TaskRetention == 0 {
		cfg.TaskRetention = control.DefaultTaskRetention
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	m := &Main{cfg: cfg, log: cfg.Log, serveErr: make(chan error, 1), newConns: map[net.Conn]struct{}{}}
	if err := m.open(ctx); err != nil {
		m.closeBackends()
		return nil, err
	}
	return m, nil
}

func (m *Main) open(ctx context.Context) error {
	var creds []api.Credential
	if m.cfg.CredentialsFile != "" {
		c, err := api.LoadCredentials(m.cfg.CredentialsFile)
		if err != nil {
			return err
		}
		creds = c
	}
	m.creds = creds
	switch m.cfg.Store {
	case "bolt":
		if m.cfg.DataDir == "" {
			return errors.New("server: --data-dir is required with the bolt store")
		}
		if err := os.MkdirAll(m.cfg.DataDir, 0o755); err != nil {
			return fmt.Errorf("server: data dir: %w", err)
		}
		s, err := bolt.Open(filepath.Join(m.cfg.DataDir, "berth.db"), bolt.Options{})
		if err != nil {
			return fmt.Errorf("server: open bolt store: %w", err)
		}
		m.store = s
	case "etcd":
		if len(m.cfg.EtcdEndpoints) == 0 {
			return errors.New("server: --etcd-endpoints is required with the etcd store")
		}
		if err := m.openEtcd(ctx); err != nil {
			return err
		}
	default:
		return fmt.Errorf("server: unknown store %q (want bolt or etcd)", m.cfg.Store)
	}
	c, err := control.New(ctx, control.Config{Store: m.store, Log: m.log})
	if err != nil {
		return err
	}
	m.control = c
	h, err := api.New(api.Config{
		Control:        c,
		Log:            m.log,
		DefaultRegion:  m.cfg.DefaultRegion,
		DefaultAccount: m.cfg.DefaultAccount,
		Auth:           m.cfg.Auth,
		Credentials:    creds,
		AdvertiseURL:   m.cfg.AdvertiseURL,
	})
	if err != nil {
		return err
	}
	// Agent sessions: the ACS websocket at /ws and telemetry at /tcs/ws,
	// authenticated like API calls (SigV4 under --auth sigv4).
	authenticate := func(r *http.Request) (acs.Identity, error) {
		ns, err := h.Authenticate(r)
		if err != nil {
			return acs.Identity{}, &acs.AccessDeniedException{Message: err.Error()}
		}
		return acs.Identity{AccountID: ns.Account, Region: ns.Region}, nil
	}
	m.agents = agents.New(agents.Config{Control: c, Log: m.log})
	m.acs, err = acs.New(acs.Config{Backend: m.agents, Authenticate: authenticate, Log: m.log})
	if err != nil {
		return err
	}
	m.tcs = acs.NewTelemetry(acs.TelemetryConfig{Authenticate: authenticate, Log: m.log, OnMessage: m.agents.Telemetry})
	m.agents.Start()
	if err := m.openFleet(ctx); err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle(acs.Path, m.acs)
	mux.Handle(acs.TelemetryPath, m.tcs)
	mux.Handle("POST "+SpotInterruptionsPath, spotInterruptions(c, h))
	asgh, err := autoscaling.NewHandler(autoscaling.HandlerConfig{Store: m.store, Log: m.log, Authenticate: h.AuthenticateBody})
	if err != nil {
		return err
	}
	mux.Handle("/", autoscaling.Route(asgh, h))

	ln, err := net.Listen("tcp", m.cfg.Listen)
	if err != nil {
		return fmt.Errorf("server: listen: %w", err)
	}
	m.ln = ln
	launchers := autoscaling.DefaultLaunchers(m.cfg.AutoScalingExecCommand)
	if err := m.openLaunchers(ctx, launchers); err != nil {
		return err
	}
	m.asg, err = autoscaling.StartController(autoscaling.ControllerConfig{
		Store: m.store, Log: m.log, Launchers: launchers,
		Endpoint: func() string { return cmp.Or(m.cfg.AdvertiseURL, "http://"+ln.Addr().String()) },
		// Managed draining: a terminating instance drains first.
		TerminationHook: &scaling.Drainer{Control: m.control, Poll: min(time.Second, cmp.Or(m.cfg.ScalingInterval, time.Second))},
	})
	if err != nil {
		return err
	}
	m.scaling, err = scaling.Start(scaling.Config{
		Cluster: m.control, Groups: autoscaling.NewGroups(m.store, nil), Log: m.log,
		Interval: m.cfg.ScalingInterval, ScaleInAfter: m.cfg.ScaleInAfter,
	})
	if err != nil {
		return err
	}
	m.http = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(m.log.Handler(), slog.LevelWarn),
		ConnState:         m.trackConn,
	}
	sweepCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	m.stopSweep = stop
	m.wg.Go(func() { m.sweep(sweepCtx) })
	// The service scheduler, stopped with the sweep (single server: always
	// the leader).
	m.wg.Go(func() { m.control.RunServiceController(sweepCtx, control.ServiceControllerConfig{}) })
	// Tasks waiting for capacity (managed scaling) are placed as
	// instances arrive, or stopped after the timeout.
	m.wg.Go(func() {
		m.control.RunCapacityWaiter(sweepCtx, control.WaiterConfig{Timeout: m.cfg.ProvisioningTimeout})
	})
	m.wg.Go(func() {
		err := m.http.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		m.serveErr <- err
	})
	return nil
}

// openFleet starts the built-in Fargate fleet, with its state under the
// data directory (or a temporary one, removed at Close).
func (m *Main) openFleet(ctx context.Context) error {
	if m.cfg.FargateFleet == nil {
		return nil
	}
	dir := filepath.Join(m.cfg.DataDir, "fargate")
	if m.cfg.DataDir == "" {
		tmp, err := os.MkdirTemp("", "berth-fargate-")
		if err != nil {
			return fmt.Errorf("server: fargate data dir: %w", err)
		}
		m.fleetTmp, dir = tmp, tmp
	}
	f, err := m.cfg.FargateFleet(ctx, m.control, m.cfg.FargateRuntime, dir, m.log)
	if err != nil {
		return err
	}
	m.fleet = f
	return nil
}

// openLaunchers starts the in-process Auto Scaling launchers (if
// configured) and adds them to launchers.
func (m *Main) openLaunchers(ctx context.Context, launchers map[string]autoscaling.Launcher) error {
	if m.cfg.AutoScalingLaunchers == nil {
		return nil
	}
	dir := filepath.Join(m.cfg.DataDir, "autoscaling")
	if m.cfg.DataDir == "" {
		tmp, err := os.MkdirTemp("", "berth-autoscaling-")
		if err != nil {
			return fmt.Errorf("server: autoscaling data dir: %w", err)
		}
		m.asgTmp, dir = tmp, tmp
	}
	m.selfTransport = &http.Transport{
		Proxy:               nil, // the server itself, never through a proxy
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        256,
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     90 * time.Second,
	}
	m.selfClients = map[string]*ecs.Client{}
	got, closer, err := m.cfg.AutoScalingLaunchers(ctx, autoscaling.ServerEnv{ECS: m.selfClient, DataDir: dir, Log: m.log})
	if err != nil {
		return fmt.Errorf("server: autoscaling launchers: %w", err)
	}
	m.launchers = closer
	for name, l := range got {
		launchers[name] = l
	}
	return nil
}

// selfURL is the base URL on which the server reaches itself: its
// listener, with an unspecified host (0.0.0.0, ::) as loopback.
func (m *Main) selfURL() string {
	addr := m.ln.Addr().(*net.TCPAddr)
	ip := addr.IP
	if ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
	}
	return "http://" + net.JoinHostPort(ip.String(), strconv.Itoa(addr.Port))
}

// selfClient returns an ECS client of this server acting in account and
// region: under --auth none its access key id is the account (which
// selects it), under sigv4 it signs with a key of the credentials file
// that belongs to the account.
func (m *Main) selfClient(account, region string) (*ecs.Client, error) {
	key, secret := account, "berth-self"
	if m.cfg.Auth == api.AuthSigV4 {
		i := slices.IndexFunc(m.creds, func(c api.Credential) bool { return c.AccountID == account })
		if i < 0 {
			return nil, fmt.Errorf("no credentials for account %s in the server's credentials file", account)
		}
		key, secret = m.creds[i].AccessKeyID, m.creds[i].SecretAccessKey
	}
	m.selfMu.Lock()
	defer m.selfMu.Unlock()
	if c, ok := m.selfClients[account+"/"+region]; ok {
		return c, nil
	}
	c := ecs.New(ecs.Options{
		Region:       region,
		BaseEndpoint: aws.String(m.selfURL()),
		Credentials:  credentials.NewStaticCredentialsProvider(key, secret, ""),
		HTTPClient:   &http.Client{Transport: m.selfTransport},
		// The agents retry with their own backoff; a shared retry quota
		// would turn a burst of failures into immediate errors.
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) { o.RateLimiter = ratelimit.None }),
	})
	m.selfClients[account+"/"+region] = c
	return c, nil
}

// closeAutoScaling stops managed scaling, the group controller (no launcher call is in
// flight after it), then the in-process launchers' instances. Close
// calls it before the HTTP server stops, so that the agents end while
// the server still answers; it is idempotent.
func (m *Main) closeAutoScaling() error {
	var err error
	if m.scaling != nil {
		err = m.scaling.Close()
		m.scaling = nil
	}
	if m.asg != nil {
		err = errors.Join(err, m.asg.Close())
		m.asg = nil
	}
	if m.launchers != nil {
		err = errors.Join(err, m.launchers.Close())
		m.launchers = nil
	}
	if m.selfTransport != nil {
		m.selfTransport.CloseIdleConnections()
	}
	return err
}

// sweep purges expired records once a minute until ctx ends.
func (m *Main) sweep(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := m.control.Purge(ctx, time.Now(), m.cfg.TaskRetention); err != nil && ctx.Err() == nil {
				m.log.Warn("purge failed", "err", err)
			} else if n > 0 {
				m.log.Info("purged expired records", "count", n)
			}
		}
	}
}

// trackConn remembers connections until their first request starts.
func (m *Main) trackConn(c net.Conn, state http.ConnState) {
	m.connMu.Lock()
	defer m.connMu.Unlock()
	if state == http.StateNew {
		m.newConns[c] = struct{}{}
	} else {
		delete(m.newConns, c)
	}
}

// dropNewConns closes connections on which no request has started. Nothing
// was read from them, so nothing acknowledged is lost; without this,
// http.Server.Shutdown waits up to 5 s for each such connection.
func (m *Main) dropNewConns() {
	m.connMu.Lock()
	defer m.connMu.Unlock()
	for c := range m.newConns {
		_ = c.Close()
		delete(m.newConns, c)
	}
}

// Addr returns the bound address, host:port.
func (m *Main) Addr() string { return m.ln.Addr().String() }

// URL returns the server's base URL.
func (m *Main) URL() string { return "http://" + m.Addr() }

// Wait blocks until the HTTP server stops on its own (an error) or ctx ends.
func (m *Main) Wait(ctx context.Context) error {
	select {
	case err := <-m.serveErr:
		m.serveErr <- err // keep it for Close
		return err
	case <-ctx.Done():
		return nil
	}
}

// Close stops accepting connections, lets in-flight requests finish (up to
// the shutdown timeout), then closes control and the store, in that order.
// Every request acknowledged before Close is durable.
func (m *Main) Close() error {
	var err error
	m.once.Do(func() {
		err = m.closeAutoScaling()
		if m.http != nil {
			ctx, cancel := context.WithTimeout(context.Background(), m.cfg.ShutdownTimeout)
			done := make(chan error, 1)
			go func() { done <- m.http.Shutdown(ctx) }()
			// Shutdown closes the listener first; then no new connection
			// can appear and the unused ones can go.
			ticker := time.NewTicker(10 * time.Millisecond)
		wait:
			for {
				select {
				case serr := <-done:
					err = errors.Join(err, serr)
					break wait
				case <-ticker.C:
					m.dropNewConns()
				}
			}
			ticker.Stop()
			cancel()
			m.stopSweep()
			m.wg.Wait()
		}
		err = errors.Join(err, m.closeBackends())
	})
	return err
}

func (m *Main) closeBackends() error {
	var err error
	// Agent sessions are hijacked connections Shutdown does not wait for:
	// close them, then the loop that feeds them.
	if m.acs != nil {
		err = errors.Join(err, m.acs.Close())
	}
	if m.tcs != nil {
		err = errors.Join(err, m.tcs.Close())
	}
	if m.agents != nil {
		err = errors.Join(err, m.agents.Close())
	}
	err = errors.Join(err, m.closeAutoScaling())
	if m.asgTmp != "" {
		err = errors.Join(err, os.RemoveAll(m.asgTmp))
	}
	if m.fleet != nil {
		err = errors.Join(err, m.fleet.Close())
	}
	if m.fleetTmp != "" {
		err = errors.Join(err, os.RemoveAll(m.fleetTmp))
	}
	if m.control != nil {
		err = errors.Join(err, m.control.Close())
	}
	if m.store != nil {
		err = errors.Join(err, m.store.Close())
	}
	if m.etcdCli != nil {
		err = errors.Join(err, m.etcdCli.Close())
	}
	return err
}

// SplitList splits a comma-separated flag value.
func SplitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
