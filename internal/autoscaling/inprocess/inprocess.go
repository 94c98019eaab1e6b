// Package inprocess is the Auto Scaling sim and local instance launchers:
// each instance of a group is a container instance inside the server
// process, a real agent.Agent registered with the group's cluster under
// the group's EC2 instance id, with the CPU and memory of the group's
// instance type (autoscaling.LookupInstanceType).
//
//	sim    the agent runs on a simulated runtime (runtime/sim): no
//	       containers, thousands of instances per process
//	local  the agent runs on the local Docker Engine (runtime/docker),
//	       with the instance type's CPU and memory as its resource budget;
//	       its containers carry the label berth.ec2-instance-id
//
//	Launch(req) ── type known? ── ECS client of req.Account ──▶ simfleet.Pool.Add
//	     (idempotent by instance id; returns once the agent is connected)
//	Terminate(req) ──▶ StopTask every task of the instance ("Host EC2 (instance i-…) terminated."),
//	     wait up to StopTimeout for them to stop ──▶ Pool.Remove (agent ends)
//	     ──▶ local: remove the instance's containers ──▶ DeregisterContainerInstance force
//	     (the container instance becomes INACTIVE, as when EC2 terminates a host)
//
// Both launchers are autoscaling.Resident: their instances end with the
// server (Close stops them all, leaving the container instances
// registered and disconnected), and the group controller of the next
// server launches every InService instance again. The agents keep their
// state under DataDir/<launcher>/<instance id>, so a resumed instance
// re-registers as the same container instance; a local one also takes its
// running containers over, while a sim one's simulated tasks are gone
// (the server's task manifest stops them).
package inprocess

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"path/filepath"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	dockerclient "github.com/docker/docker/client"

	"github.com/berth-dev/berth/internal/agent"
	"github.com/berth-dev/berth/internal/autoscaling"
	"github.com/berth-dev/berth/internal/runtime"
	"github.com/berth-dev/berth/internal/runtime/docker"
	"github.com/berth-dev/berth/internal/simfleet"
)

// LabelInstance is the label the local launcher puts on every container
// of an instance: its EC2 instance id.
const LabelInstance = "berth.ec2-instance-id"

// Config configures the launchers.
type Config struct {
	// ECS returns a client of the server's ECS API for an account and
	// region (autoscaling.ServerEnv.ECS). Required.
	ECS func(account, region string) (*ecs.Client, error)
	// DataDir holds the instances' directories (sim/… and local/…).
	// Required.
	DataDir string
	Log     *slog.Logger
	// Backoff bounds the agents' retry delays; zero means 100 ms to 5 s
	// (the server is in the same process).
	Backoff agent.Backoff
	// Speed divides the simulated containers' timings (sim); 0 means 1.
	Speed float64
	// StopTimeout bounds how long Terminate waits for the instance's
	// tasks to stop before the agent ends; default 30 s.
	StopTimeout time.Duration
	// Docker returns a client of the local Docker Engine (local); nil
	// means docker.New.
	Docker func() (*docker.Runtime, error)
}

// Launchers are the sim and local launchers of one server.
type Launchers struct {
	cfg   Config
	sim   *Launcher
	local *Launcher
}

// New returns the launchers. It does no I/O; the local launcher reaches
// Docker at its first launch.
func New(cfg Config) (*Launchers, error) {
	if cfg.ECS == nil || cfg.DataDir == "" {
		return nil, errors.New("inprocess: Config.ECS and Config.DataDir are required")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Backoff == (agent.Backoff{}) {
		cfg.Backoff = agent.Backoff{Min: 100 * time.Millisecond, Max: 5 * time.Second}
	}
	if cfg.StopTimeout <= 0 {
		cfg.StopTimeout = 30 * time.Second
	}
	if cfg.Docker == nil {
		cfg.Docker = docker.New
	}
	ls := &Launchers{cfg: cfg}
	pool, err := simfleet.NewPool(simfleet.PoolConfig{
		DataDir: filepath.Join(cfg.DataDir, autoscaling.LauncherSim),
		Speed:   cfg.Speed,
		Logger:  cfg.Log.With("launcher", autoscaling.LauncherSim),
		Backoff: cfg.Backoff,
	})
	if err != nil {
		return nil, err
	}
	ls.sim = &Launcher{name: autoscaling.LauncherSim, cfg: cfg, pool: pool}
	ls.local = &Launcher{name: autoscaling.LauncherLocal, cfg: cfg}
	return ls, nil
}

// Start is an autoscaling.LauncherFactory: the sim and local launchers
// with their state under env.DataDir.
func Start(_ context.Context, env autoscaling.ServerEnv) (map[string]autoscaling.Launcher, io.Closer, error) {
	ls, err := New(Config{ECS: env.ECS, DataDir: env.DataDir, Log: env.Log})
	if err != nil {
		return nil, nil, err
	}
	return ls.Map(), ls, nil
}

// Sim returns the sim launcher.
func (ls *Launchers) Sim() *Launcher { return ls.sim }

// Local returns the local launcher.
func (ls *Launchers) Local() *Launcher { return ls.local }

// Map returns the launchers by name.
func (ls *Launchers) Map() map[string]autoscaling.Launcher {
	return map[string]autoscaling.Launcher{autoscaling.LauncherSim: ls.sim, autoscaling.LauncherLocal: ls.local}
}

// Close stops every instance of both launchers (their container
// instances stay registered, disconnected) and refuses further launches.
func (ls *Launchers) Close() error {
	return errors.Join(ls.sim.close(), ls.local.close())
}

// Launcher is the sim or the local launcher.
type Launcher struct {
	name string
	cfg  Config

	mu     sync.Mutex
	pool   *simfleet.Pool // local: created at the first launch
	closed bool
	// locks serialises the calls for one instance id.
	locks map[string]*instanceLock
}

type instanceLock struct {
	ch   chan struct{} // buffered 1: held when full
	refs int
}

var (
	_ autoscaling.Launcher = (*Launcher)(nil)
	_ autoscaling.Resident = (*Launcher)(nil)
)

// Resident reports true: the instances end with the server.
func (l *Launcher) Resident() bool { return true }

// Launch starts the instance (or waits for it, when it runs already) and
// returns once it is registered and connected.
func (l *Launcher) Launch(ctx context.Context, req autoscaling.Request) error {
	it, ok := autoscaling.LookupInstanceType(req.InstanceType)
	if !ok {
		return fmt.Errorf("%s launcher: unknown instance type %q; known: %s", l.name, req.InstanceType, autoscaling.InstanceTypeNames())
	}
	client, err := l.cfg.ECS(req.Account, req.Region)
	if err != nil {
		return fmt.Errorf("%s launcher: %w", l.name, err)
	}
	unlock, err := l.lock(ctx, req.InstanceID)
	if err != nil {
		return err
	}
	defer unlock()
	pool, err := l.getPool(ctx)
	if err != nil {
		return err
	}
	_, err = pool.Add(ctx, simfleet.InstanceSpec{
		EC2InstanceID: req.InstanceID, Cluster: req.Cluster,
		InstanceType: req.InstanceType, Zone: req.AZ, Region: req.Region,
		CPU: it.CPUUnits(), MemoryMiB: it.MemoryMiB, ECS: client,
	})
	if err != nil {
		return fmt.Errorf("%s launcher: %w", l.name, err)
	}
	return nil
}

// Terminate stops the instance's tasks, ends its agent and deregisters
// its container instance (force). An instance that is not running (a
// repeated call, or one from before a restart) is only deregistered.
func (l *Launcher) Terminate(ctx context.Context, req autoscaling.Request) error {
	client, err := l.cfg.ECS(req.Account, req.Region)
	if err != nil {
		return fmt.Errorf("%s launcher: %w", l.name, err)
	}
	unlock, err := l.lock(ctx, req.InstanceID)
	if err != nil {
		return err
	}
	defer unlock()
	l.mu.Lock()
	pool := l.pool
	l.mu.Unlock()

	var arn string
	running := false
	if pool != nil {
		if in, ok := pool.Get(req.InstanceID); ok && in.ARN != "" {
			arn, running = in.ARN, in.Connected
		}
	}
	if arn == "" {
		if arn, err = findInstance(ctx, client, req.Cluster, req.InstanceID); err != nil {
			return fmt.Errorf("%s launcher: terminate %s: %w", l.name, req.InstanceID, err)
		}
	}
	if running {
		// As EC2 would: the host goes away with its tasks. Stopping them
		// while the agent still runs reports them STOPPED; what does not
		// stop in time is orphaned by the forced deregistration.
		if err := l.stopTasks(ctx, client, req, arn); err != nil && ctx.Err() != nil {
			return err
		}
	}
	if pool != nil {
		pool.Remove(req.InstanceID)
	}
	if l.name == autoscaling.LauncherLocal {
		if err := l.removeContainers(ctx, req.InstanceID); err != nil {
			return fmt.Errorf("%s launcher: terminate %s: %w", l.name, req.InstanceID, err)
		}
	}
	if arn == "" {
		return nil // never registered, or already gone
	}
	_, err = client.DeregisterContainerInstance(ctx, &ecs.DeregisterContainerInstanceInput{
		Cluster: aws.String(req.Cluster), ContainerInstance: aws.String(arn), Force: aws.Bool(true)})
	var notFound *types.ClusterNotFoundException
	if err != nil && !errors.As(err, &notFound) {
		return fmt.Errorf("%s launcher: deregister %s: %w", l.name, req.InstanceID, err)
	}
	return nil
}

// stopTasks stops the tasks of container instance arn and waits (up to
// StopTimeout) until they are STOPPED.
func (l *Launcher) stopTasks(ctx context.Context, client *ecs.Client, req autoscaling.Request, arn string) error {
	ctx, cancel := context.WithTimeout(ctx, l.cfg.StopTimeout)
	defer cancel()
	reason := fmt.Sprintf("Host EC2 (instance %s) terminated.", req.InstanceID)
	tasks, err := instanceTasks(ctx, client, req.Cluster, arn, types.DesiredStatusRunning)
	if err != nil {
		return err
	}
	for _, t := range tasks {
		if _, err := client.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String(req.Cluster), Task: aws.String(t), Reason: aws.String(reason)}); err != nil {
			l.cfg.Log.Warn("stopping a task of a terminating instance failed", "instance", req.InstanceID, "task", t, "err", err)
		}
	}
	for {
		// Tasks stopped but not yet STOPPED are listed with desired
		// status STOPPED; DescribeTasks tells which still run.
		left, err := instanceTasks(ctx, client, req.Cluster, arn, types.DesiredStatusStopped)
		if err == nil {
			left, err = notStopped(ctx, client, req.Cluster, left)
		}
		if err == nil && len(left) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			l.cfg.Log.Warn("tasks of a terminating instance did not stop in time; they are orphaned", "instance", req.InstanceID, "tasks", len(left))
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// instanceTasks lists the tasks of a container instance with a desired
// status.
func instanceTasks(ctx context.Context, client *ecs.Client, cluster, arn string, desired types.DesiredStatus) ([]string, error) {
	var out []string
	p := ecs.NewListTasksPaginator(client, &ecs.ListTasksInput{Cluster: aws.String(cluster), ContainerInstance: aws.String(arn), DesiredStatus: desired})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, page.TaskArns...)
	}
	return out, nil
}

// notStopped returns the tasks whose last status is not STOPPED.
func notStopped(ctx context.Context, client *ecs.Client, cluster string, arns []string) ([]string, error) {
	var left []string
	for start := 0; start < len(arns); start += 100 {
		d, err := client.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: arns[start:min(start+100, len(arns))]})
		if err != nil {
			return nil, err
		}
		for _, t := range d.Tasks {
			if aws.ToString(t.LastStatus) != "STOPPED" {
				left = append(left, aws.ToString(t.TaskArn))
			}
		}
	}
	return left, nil
}

// findInstance returns the ARN of the cluster's container instance (not
// INACTIVE) whose ec2InstanceId is id, "" when there is none.
func findInstance(ctx context.Context, client *ecs.Client, cluster, id string) (string, error) {
	out, err := client.ListContainerInstances(ctx, &ecs.ListContainerInstancesInput{
		Cluster: aws.String(cluster), Filter: aws.String("ec2InstanceId == " + id)})
	var notFound *types.ClusterNotFoundException
	if errors.As(err, &notFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if len(out.ContainerInstanceArns) == 0 {
		return "", nil
	}
	return out.ContainerInstanceArns[0], nil
}

// getPool returns the launcher's pool; the local launcher's is made at
// its first launch, once Docker answers.
func (l *Launcher) getPool(ctx context.Context) (*simfleet.Pool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, fmt.Errorf("%s launcher: closed", l.name)
	}
	if l.pool != nil {
		return l.pool, nil
	}
	version, apiVersion, err := l.dockerVersion(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s launcher: the local Docker Engine is not usable: %w", l.name, err)
	}
	pool, err := simfleet.NewPool(simfleet.PoolConfig{
		DataDir: filepath.Join(l.cfg.DataDir, autoscaling.LauncherLocal),
		Runtime: func(spec simfleet.InstanceSpec) (runtime.Runtime, error) {
			rt, err := l.cfg.Docker()
			if err != nil {
				return nil, err
			}
			return &labeled{Runtime: rt, id: spec.EC2InstanceID}, nil
		},
		DockerVersion: version,
		Capabilities:  agent.Capabilities(apiVersion),
		Logger:        l.cfg.Log.With("launcher", autoscaling.LauncherLocal),
		Backoff:       l.cfg.Backoff,
	})
	if err != nil {
		return nil, err
	}
	l.pool = pool
	return pool, nil
}

// dockerVersion pings the daemon and returns its version and API version.
func (l *Launcher) dockerVersion(ctx context.Context) (version, apiVersion string, err error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	rt, err := l.cfg.Docker()
	if err != nil {
		return "", "", err
	}
	defer rt.Close()
	if err := rt.Ping(ctx); err != nil {
		return "", "", err
	}
	cli, err := dockerclient.NewClientWithOpts(dockerclient.FromEnv, dockerclient.WithAPIVersionNegotiation())
	if err != nil {
		return "", "", err
	}
	defer cli.Close()
	sv, err := cli.ServerVersion(ctx)
	if err != nil {
		return "", "", err
	}
	return sv.Version, sv.APIVersion, nil
}

// removeContainers removes every container of a local instance.
func (l *Launcher) removeContainers(ctx context.Context, id string) error {
	rt, err := l.cfg.Docker()
	if err != nil {
		return err
	}
	defer rt.Close()
	list, err := rt.List(ctx, map[string]string{LabelInstance: id})
	if err != nil {
		return err
	}
	var errs []error
	for _, c := range list {
		if err := rt.Remove(ctx, c.ID); err != nil && !errors.Is(err, runtime.ErrNotFound) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// lock takes the per-instance lock of id; the returned func releases it.
func (l *Launcher) lock(ctx context.Context, id string) (func(), error) {
	l.mu.Lock()
	if l.locks == nil {
		l.locks = map[string]*instanceLock{}
	}
	il := l.locks[id]
	if il == nil {
		il = &instanceLock{ch: make(chan struct{}, 1)}
		l.locks[id] = il
	}
	il.refs++
	l.mu.Unlock()
	release := func() {
		l.mu.Lock()
		if il.refs--; il.refs == 0 {
			delete(l.locks, id)
		}
		l.mu.Unlock()
	}
	select {
	case il.ch <- struct{}{}:
		return func() { <-il.ch; release() }, nil
	case <-ctx.Done():
		release()
		return nil, ctx.Err()
	}
}

func (l *Launcher) close() error {
	l.mu.Lock()
	l.closed = true
	pool := l.pool
	l.mu.Unlock()
	if pool == nil {
		return nil
	}
	return pool.Close()
}

// labeled is a local instance's Docker runtime: every container it
// creates carries LabelInstance. The embedded runtime's other methods
// (and its optional interfaces: stats, networks, Close) are its own.
type labeled struct {
	*docker.Runtime
	id string
}

func (r *labeled) Create(ctx context.Context, spec runtime.ContainerSpec) (string, error) {
	labels := maps.Clone(spec.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	labels[LabelInstance] = r.id
	spec.Labels = labels
	return r.Runtime.Create(ctx, spec)
}
