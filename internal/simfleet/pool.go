package simfleet

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/berth-dev/berth/internal/agent"
	"github.com/berth-dev/berth/internal/runtime"
	"github.com/berth-dev/berth/internal/runtime/sim"
)

// PoolConfig configures a Pool. ECS (or every InstanceSpec's own ECS) and
// DataDir are required.
type PoolConfig struct {
	// ECS is the client of instances whose spec names none.
	ECS *ecs.Client
	// DataDir holds one directory per instance, named by its EC2 instance
	// id, with its agent.json: an instance added again after a restart
	// (of the pool or the process) comes back as the same container
	// instance.
	DataDir string
	// Runtime returns the runtime of a new instance; the pool closes it
	// (when it is an io.Closer) once the instance is removed. nil means a
	// simulated runtime (runtime/sim) per instance, and then the agents run
	// as a Fleet's do: without the task metadata endpoint, with task
	// states in memory, reporting Docker version "sim". With a Runtime,
	// the agents keep their defaults (metadata endpoint on, task states
	// persisted under the instance's directory) and report DockerVersion.
	Runtime func(spec InstanceSpec) (runtime.Runtime, error)
	// DockerVersion is reported by agents on a Runtime of the caller's,
	// and Capabilities are their capability attributes (nil: the agent's
	// default).
	DockerVersion string
	Capabilities  []string
	// Speed divides simulated containers' timings; 0 means 1.
	Speed float64
	// Logger receives the pool's and its agents' logs (with an
	// "ec2Instance" attribute); nil discards.
	Logger *slog.Logger
	// Backoff bounds the agents' retry delays; zero means the agent's
	// default.
	Backoff agent.Backoff
}

// InstanceSpec describes one instance of a Pool.
type InstanceSpec struct {
	// EC2InstanceID names the instance: i- and 8 or 17 hex digits. It is
	// the instance's key in the pool, its directory, and the ec2InstanceId
	// it registers with (agent.Config.EC2).
	EC2InstanceID string
	// Cluster is the cluster it joins; "" means "default".
	Cluster string
	// InstanceType and Zone are its EC2 instance type and Availability
	// Zone (the identity document and the ecs.instance-type and
	// ecs.availability-zone attributes); both optional.
	InstanceType, Zone string
	// Region is the identity document's region; "" means the client's.
	Region string
	// CPU (units) and MemoryMiB are its registered resources; 0 means
	// DefaultCPU and DefaultMemoryMiB.
	CPU, MemoryMiB int64
	// Attributes are custom attributes ("" registers the name alone).
	Attributes map[string]string
	// ECS is the instance's client (for an account of its own); nil means
	// PoolConfig.ECS.
	ECS *ecs.Client
}

// PoolInstance is a snapshot of one instance of a Pool.
type PoolInstance struct {
	EC2InstanceID, Cluster, InstanceType, Zone string
	// ARN is its container instance ARN, "" until it has registered.
	ARN string
	// Connected reports whether its first ACS session has been
	// established.
	Connected bool
}

// ErrPoolClosed is returned by Add after Close.
var ErrPoolClosed = errors.New("simfleet: pool closed")

// Pool is a long-lived, changing set of container instances in one
// process, each added and removed on its own by EC2 instance id: what the
// Auto Scaling "sim" and "local" launchers run their instances on. Where a
// Fleet starts N identical instances at once, a Pool grows and shrinks
// as its caller says. Its methods are safe for concurrent use.
//
// Goroutines: one per instance (its agent's Run), owned by the pool,
// stopped by Remove or Close.
type Pool struct {
	cfg PoolConfig
	log *slog.Logger

	mu        sync.Mutex
	closed    bool
	instances map[string]*member
	wg        sync.WaitGroup
}

// member is one running instance.
type member struct {
	spec  InstanceSpec
	agent *agent.Agent
	rt    runtime.Runtime
	// connected is closed at the first ACS session; done when Run has
	// returned, with err set before.
	connected chan struct{}
	done      chan struct{}
	err       error

	mu      sync.Mutex
	arn     string
	stopped bool
}

// NewPool checks cfg and applies its defaults. It does no I/O.
func NewPool(cfg PoolConfig) (*Pool, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("simfleet: PoolConfig.DataDir is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Pool{cfg: cfg, log: cfg.Logger, instances: map[string]*member{}}, nil
}

// Add starts the instance spec describes and waits until it has
// registered and established its first ACS session (the server shows it
// ACTIVE and agentConnected). An instance that is already in the pool is
// not started again: Add waits for it the same way. When ctx ends first,
// or the agent fails for good (for example because the cluster does not
// exist), the instance is removed again and Add returns the error; it
// never leaves a failed instance running.
func (p *Pool) Add(ctx context.Context, spec InstanceSpec) (PoolInstance, error) {
	m, err := p.start(spec)
	if err != nil {
		return PoolInstance{}, err
	}
	select {
	case <-m.connected:
		return m.snapshot(), nil
	case <-m.done:
		err = m.err
		if err == nil {
			err = errors.New("the instance was removed while it was starting")
		}
	case <-ctx.Done():
		err = ctx.Err()
	}
	p.stop(spec.EC2InstanceID, m)
	return PoolInstance{}, fmt.Errorf("simfleet: instance %s: %w", spec.EC2InstanceID, err)
}

// start returns the member of spec's instance, starting it when it is
// not in the pool.
func (p *Pool) start(spec InstanceSpec) (*member, error) {
	id := spec.EC2InstanceID
	if strings.ContainsAny(id, `/\`) || id == "" || id == "." || id == ".." {
		return nil, fmt.Errorf("simfleet: bad EC2 instance id %q", id)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, ErrPoolClosed
	}
	if m, ok := p.instances[id]; ok {
		return m, nil
	}
	client := cmp.Or(spec.ECS, p.cfg.ECS)
	if client == nil {
		return nil, errors.New("simfleet: no ECS client (PoolConfig.ECS or InstanceSpec.ECS)")
	}
	spec.CPU = cmp.Or(spec.CPU, DefaultCPU)
	spec.MemoryMiB = cmp.Or(spec.MemoryMiB, DefaultMemoryMiB)
	spec.Cluster = cmp.Or(spec.Cluster, "default")
	log := p.log.With("ec2Instance", id, "cluster", spec.Cluster)

	var (
		rt  runtime.Runtime
		err error
	)
	acfg := agent.Config{
		ECS:        client,
		Cluster:    spec.Cluster,
		CPU:        spec.CPU,
		MemoryMiB:  spec.MemoryMiB,
		Attributes: spec.Attributes,
		EC2: &agent.EC2Identity{
			InstanceID: id, InstanceType: spec.InstanceType,
			AvailabilityZone: spec.Zone, Region: spec.Region,
		},
		DataDir: filepath.Join(p.cfg.DataDir, id),
		Logger:  log,
		Backoff: p.cfg.Backoff,
	}
	if p.cfg.Runtime == nil {
		rt, err = sim.New(sim.Options{Seed: idSeed(id), Speed: p.cfg.Speed, Logger: log, EventBuffer: eventBuffer})
		acfg.DockerVersion, acfg.MetadataAddr, acfg.TaskStateInMemory = "sim", "off", true
	} else {
		rt, err = p.cfg.Runtime(spec)
		acfg.DockerVersion, acfg.Capabilities = p.cfg.DockerVersion, p.cfg.Capabilities
	}
	if err != nil {
		return nil, fmt.Errorf("simfleet: instance %s: runtime: %w", id, err)
	}
	acfg.Runtime = rt
	m := &member{spec: spec, rt: rt, connected: make(chan struct{}), done: make(chan struct{})}
	acfg.OnConnected = func(arn string) {
		m.mu.Lock()
		defer m.mu.Unlock()
		m.arn = arn
		select {
		case <-m.connected:
		default:
			close(m.connected)
		}
	}
	a, err := agent.New(acfg)
	if err != nil {
		closeRuntime(rt)
		return nil, fmt.Errorf("simfleet: instance %s: %w", id, err)
	}
	m.agent = a
	p.instances[id] = m
	p.wg.Go(func() {
		defer close(m.done)
		m.err = a.Run(context.Background())
		if m.err != nil {
			log.Warn("simulated instance failed", "err", m.err)
		}
	})
	log.Info("instance started", "instanceType", spec.InstanceType, "zone", spec.Zone, "cpu", spec.CPU, "memoryMiB", spec.MemoryMiB)
	return m, nil
}

// Remove stops the instance with EC2 instance id id: its agent ends, its
// runtime is closed (simulated containers end with it; a caller's runtime
// decides), and it leaves the pool. It returns the instance as it was, and
// false when id is not in the pool. The container instance stays
// registered (disconnected): deregistering it is the caller's business.
func (p *Pool) Remove(id string) (PoolInstance, bool) {
	p.mu.Lock()
	m, ok := p.instances[id]
	p.mu.Unlock()
	if !ok {
		return PoolInstance{}, false
	}
	snap := m.snapshot()
	p.stop(id, m)
	return snap, true
}

// stop ends m and removes it from the pool (if it is still id's member).
func (p *Pool) stop(id string, m *member) {
	p.mu.Lock()
	if p.instances[id] == m {
		delete(p.instances, id)
	}
	p.mu.Unlock()
	m.mu.Lock()
	already := m.stopped
	m.stopped = true
	m.mu.Unlock()
	_ = m.agent.Close()
	<-m.done
	if !already {
		closeRuntime(m.rt)
		p.log.Info("instance stopped", "ec2Instance", id)
	}
}

// Get returns the instance with EC2 instance id id.
func (p *Pool) Get(id string) (PoolInstance, bool) {
	p.mu.Lock()
	m, ok := p.instances[id]
	p.mu.Unlock()
	if !ok {
		return PoolInstance{}, false
	}
	return m.snapshot(), true
}

// Instances returns a snapshot of the instances, by EC2 instance id.
func (p *Pool) Instances() []PoolInstance {
	p.mu.Lock()
	ms := make([]*member, 0, len(p.instances))
	for _, m := range p.instances {
		ms = append(ms, m)
	}
	p.mu.Unlock()
	out := make([]PoolInstance, 0, len(ms))
	for _, m := range ms {
		out = append(out, m.snapshot())
	}
	slices.SortFunc(out, func(a, b PoolInstance) int { return strings.Compare(a.EC2InstanceID, b.EC2InstanceID) })
	return out
}

// Close stops every instance and refuses further Adds. It returns once
// every agent has ended; it is idempotent.
func (p *Pool) Close() error {
	p.mu.Lock()
	p.closed = true
	ms := p.instances
	p.instances = map[string]*member{}
	p.mu.Unlock()
	var wg sync.WaitGroup
	for id, m := range ms {
		wg.Go(func() { p.stop(id, m) })
	}
	wg.Wait()
	p.wg.Wait()
	return nil
}

func (m *member) snapshot() PoolInstance {
	m.mu.Lock()
	defer m.mu.Unlock()
	connected := false
	select {
	case <-m.connected:
		connected = true
	default:
	}
	return PoolInstance{
		EC2InstanceID: m.spec.EC2InstanceID, Cluster: m.spec.Cluster,
		InstanceType: m.spec.InstanceType, Zone: m.spec.Zone,
		ARN: m.arn, Connected: connected,
	}
}

func closeRuntime(rt runtime.Runtime) {
	if c, ok := rt.(io.Closer); ok {
		_ = c.Close()
	}
}

// idSeed is the simulated runtime seed of an instance: the same for the
// same id from one run to the next.
func idSeed(id string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	return h.Sum64()
}
