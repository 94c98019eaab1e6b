package simfleet

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/berth-dev/berth/internal/agent"
	"github.com/berth-dev/berth/internal/runtime/sim"
)

// Attribute names the fleet sets on every instance.
const (
	AttributeInstanceType = "ecs.instance-type"
	AttributeZone         = "ecs.availability-zone"
)

// Defaults of Config.
const (
	DefaultCPU         = 4096
	DefaultMemoryMiB   = 16384
	DefaultRegion      = "us-east-1"
	DefaultConcurrency = 32

	// Credentials used when none are given: a server with --auth none
	// accepts any key, and this one names no account (the server's
	// default account applies).
	defaultAccessKeyID     = "AKIDBERTHSIM"
	defaultSecretAccessKey = "berth-sim-secret"

	// maxIdleConnsPerHost is the shared client's pool of connections to the
	// server, idle and in use: the instances' API calls (registration,
	// DiscoverPollEndpoint, state changes) wait for one of these instead of
	// opening one per call. Without the cap, a burst of thousands of state
	// changes dials thousands of connections that the idle pool then closes:
	// a third of the fleet's CPU went to connect(2) and the server's to
	// accepting and closing, and ephemeral ports run out at scale.
	maxIdleConnsPerHost = 256

	// eventBuffer is each simulated runtime's event channel capacity. An
	// instance has one subscriber (its agent) and a few tasks; the
	// runtime's default (1024 events) would cost ~100 KiB per instance.
	eventBuffer = 64
)

// Config configures a Fleet. Endpoint, Instances and DataDir are
// required; every other field has a default.
type Config struct {
	// Endpoint is the base URL of the server's ECS API, e.g.
	// http://127.0.0.1:8080.
	Endpoint string
	// Cluster is the cluster every instance joins; "" means "default"
	// (created when missing, as the agent does). Another cluster must
	// exist: Run fails when it does not.
	Cluster string
	// Instances is how many instances to run (at least 1).
	Instances int
	// CPU is each instance's registered CPU in units; 0 means DefaultCPU.
	CPU int64
	// MemoryMiB is each instance's registered memory; 0 means
	// DefaultMemoryMiB.
	MemoryMiB int64
	// InstanceTypes are assigned round-robin (instance i gets
	// InstanceTypes[i%len]) as the ecs.instance-type attribute; none
	// registers no instance type.
	InstanceTypes []string
	// Zones are assigned round-robin as the ecs.availability-zone
	// attribute; nil means Region + "a", "b" and "c".
	Zones []string
	// Attributes are custom attributes (name → value; "" registers the
	// name alone) of every instance. ecs.instance-type and
	// ecs.availability-zone given here are overridden by InstanceTypes and
	// Zones.
	Attributes map[string]string
	// Speed divides the simulated containers' timings (sim.Options.Speed);
	// 0 means 1.
	Speed float64
	// Region signs the requests; "" means DefaultRegion.
	Region string
	// AccessKeyID, SecretAccessKey and SessionToken sign the requests and
	// sessions; an empty AccessKeyID means a dummy key.
	AccessKeyID, SecretAccessKey, SessionToken string
	// DataDir holds one directory per instance (instance-00000, ...) with
	// its agent.json, so that a fleet restarted on the same DataDir comes
	// back as the same container instances.
	DataDir string
	// Concurrency is how many instances may be starting (registering and
	// opening their first ACS session) at once; 0 means
	// DefaultConcurrency.
	Concurrency int
	// Logger receives the fleet's and the agents' logs (each agent's with
	// an "instance" attribute); nil discards.
	Logger *slog.Logger
	// Backoff bounds the agents' retry delays; zero means the agent's
	// default.
	Backoff agent.Backoff
}

// Instance is one instance of a Fleet.
type Instance struct {
	// Index is the instance's position, 0 to Instances-1.
	Index int
	// InstanceType and Zone are its ecs.instance-type ("" when none) and
	// ecs.availability-zone.
	InstanceType, Zone string
	// ARN is its container instance ARN, "" until it has registered.
	ARN string
	// Connected reports whether its first ACS session has been
	// established.
	Connected bool
}

// Fleet is N simulated container instances. New prepares it, Run runs it
// until its context ends. Its methods are safe for concurrent use.
type Fleet struct {
	cfg    Config
	log    *slog.Logger
	client *ecs.Client
	// transport is the shared client's; Run closes its idle connections
	// when it ends.
	transport *http.Transport

	// ready is closed when connected reaches cfg.Instances.
	ready     chan struct{}
	connected atomic.Int64

	mu        sync.Mutex
	instances []Instance
	started   bool
}

// New checks cfg and applies its defaults. It does no I/O.
func New(cfg Config) (*Fleet, error) {
	switch {
	case cfg.Endpoint == "":
		return nil, errors.New("simfleet: Config.Endpoint is required")
	case cfg.Instances < 1:
		return nil, fmt.Errorf("simfleet: %d instances: want at least 1", cfg.Instances)
	case cfg.DataDir == "":
		return nil, errors.New("simfleet: Config.DataDir is required")
	case cfg.CPU < 0 || cfg.MemoryMiB < 0:
		return nil, errors.New("simfleet: CPU and memory must not be negative")
	case cfg.Concurrency < 0:
		return nil, errors.New("simfleet: Concurrency must not be negative")
	}
	if cfg.Cluster == "" {
		cfg.Cluster = "default"
	}
	if cfg.CPU == 0 {
		cfg.CPU = DefaultCPU
	}
	if cfg.MemoryMiB == 0 {
		cfg.MemoryMiB = DefaultMemoryMiB
	}
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	if len(cfg.Zones) == 0 {
		cfg.Zones = []string{cfg.Region + "a", cfg.Region + "b", cfg.Region + "c"}
	}
	if cfg.AccessKeyID == "" {
		cfg.AccessKeyID, cfg.SecretAccessKey = defaultAccessKeyID, defaultSecretAccessKey
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}

	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          maxIdleConnsPerHost,
		MaxIdleConnsPerHost:   maxIdleConnsPerHost,
		MaxConnsPerHost:       maxIdleConnsPerHost,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	client := ecs.New(ecs.Options{
		Region:       cfg.Region,
		BaseEndpoint: aws.String(cfg.Endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, cfg.SessionToken),
		HTTPClient:   &http.Client{Transport: tr},
		// The SDK's retry quota is per client: shared by thousands of
		// agents, a burst of failures would exhaust it and turn retriable
		// errors into immediate ones. The agents retry with their own
		// backoff anyway.
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) { o.RateLimiter = ratelimit.None }),
	})

	instances := make([]Instance, cfg.Instances)
	for i := range instances {
		instances[i] = Instance{Index: i, Zone: cfg.Zones[i%len(cfg.Zones)]}
		if len(cfg.InstanceTypes) > 0 {
			instances[i].InstanceType = cfg.InstanceTypes[i%len(cfg.InstanceTypes)]
		}
	}
	return &Fleet{
		cfg:       cfg,
		log:       cfg.Logger.With("cluster", cfg.Cluster),
		client:    client,
		transport: tr,
		ready:     make(chan struct{}),
		instances: instances,
	}, nil
}

// Ready is closed once every instance has registered and established its
// first ACS session (the server shows them all agentConnected). It is
// never closed when Run fails or ends first.
func (f *Fleet) Ready() <-chan struct{} { return f.ready }

// Connected returns how many instances have established their first ACS
// session.
func (f *Fleet) Connected() int { return int(f.connected.Load()) }

// Instances returns a snapshot of the instances, by index.
func (f *Fleet) Instances() []Instance {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Instance, len(f.instances))
	copy(out, f.instances)
	return out
}

// Run starts the instances, at most Config.Concurrency starting at once,
// and runs them until ctx ends; it then stops them all (their simulated
// containers end with the process) and returns nil once every goroutine
// has ended. When an instance fails for good (registration refused, for
// example because the cluster does not exist), Run stops the others and
// returns that error. Run may be called once.
func (f *Fleet) Run(ctx context.Context) error {
	f.mu.Lock()
	if f.started {
		f.mu.Unlock()
		return errors.New("simfleet: Run called twice")
	}
	f.started = true
	f.mu.Unlock()
	defer f.transport.CloseIdleConnections()

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	start := time.Now()
	f.log.Info("starting simulated instances", "instances", f.cfg.Instances, "concurrency", f.cfg.Concurrency)

	// slots bounds the instances that are starting; an instance frees its
	// slot at its first ACS session or when it ends.
	slots := make(chan struct{}, f.cfg.Concurrency)
	var wg sync.WaitGroup
	defer wg.Wait()
	for i := range f.cfg.Instances {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return f.result(ctx, &wg)
		}
		wg.Go(func() {
			var once sync.Once
			release := func() { once.Do(func() { <-slots }) }
			defer release()
			if err := f.runInstance(ctx, i, release, start); err != nil {
				cancel(fmt.Errorf("simfleet: instance %d: %w", i, err))
			}
		})
	}
	<-ctx.Done()
	return f.result(ctx, &wg)
}

// result waits for the instances and returns why ctx ended: nil when the
// caller ended it, an instance's error otherwise.
func (f *Fleet) result(ctx context.Context, wg *sync.WaitGroup) error {
	wg.Wait()
	f.log.Info("simulated instances stopped", "instances", f.cfg.Instances)
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// runInstance runs instance i until ctx ends. started is called once its
// first ACS session is up.
func (f *Fleet) runInstance(ctx context.Context, i int, started func(), fleetStart time.Time) error {
	f.mu.Lock()
	inst := f.instances[i]
	f.mu.Unlock()
	log := f.cfg.Logger.With("instance", i)
	rt, err := sim.New(sim.Options{
		Seed:        seed(f.cfg.Cluster, i),
		Speed:       f.cfg.Speed,
		Logger:      log,
		EventBuffer: eventBuffer,
	})
	if err != nil {
		return err
	}
	defer rt.Close()

	attrs := make(map[string]string, len(f.cfg.Attributes)+2)
	for k, v := range f.cfg.Attributes {
		attrs[k] = v
	}
	attrs[AttributeZone] = inst.Zone
	if inst.InstanceType != "" {
		attrs[AttributeInstanceType] = inst.InstanceType
	}
	var first atomic.Bool
	a, err := agent.New(agent.Config{
		Runtime:           rt,
		ECS:               f.client,
		Cluster:           f.cfg.Cluster,
		CPU:               f.cfg.CPU,
		MemoryMiB:         f.cfg.MemoryMiB,
		Attributes:        attrs,
		DockerVersion:     "sim",
		DataDir:           filepath.Join(f.cfg.DataDir, fmt.Sprintf("instance-%05d", i)),
		Logger:            log,
		Backoff:           f.cfg.Backoff,
		MetadataAddr:      "off",
		TaskStateInMemory: true,
		OnConnected: func(arn string) {
			if first.Swap(true) {
				return
			}
			f.mu.Lock()
			f.instances[i].ARN = arn
			f.instances[i].Connected = true
			f.mu.Unlock()
			if n := f.connected.Add(1); n == int64(f.cfg.Instances) {
				f.log.Info("every simulated instance is connected", "instances", n, "took", time.Since(fleetStart).Round(time.Millisecond))
				close(f.ready)
			}
			started()
		},
	})
	if err != nil {
		return err
	}
	defer a.Close()
	return a.Run(ctx)
}

// seed is instance i's simulated runtime seed: distinct per instance and
// cluster, the same from one run to the next.
func seed(cluster string, i int) uint64 {
	h := fnv.New64a()
	h.Write([]byte(cluster))
	h.Write([]byte{0})
	h.Write(strconv.AppendInt(nil, int64(i), 10))
	return h.Sum64()
}
