// Package runtime is the contract between the agent and a container runtime.
// Two implementations exist: runtime/docker (the Docker Engine through the
// official Go client) and runtime/sim (simulated containers with scripted
// behaviour, for tests and scale runs). It is its own package because it has
// several implementations (the database/sql/driver pattern).
//
//	agent task runner ──Pull/Create/Start──▶ Runtime ──Events──▶ agent
//	                  ◀──Inspect/Wait────────
//
// All methods are safe for concurrent use. Container ids are opaque strings
// chosen by the runtime (Docker's 64-hex ids, or the simulator's own).
package runtime

import (
	"context"
	"errors"
	"time"
)

// ContainerSpec is everything the runtime needs to create one container. The
// agent compiles it from an ECS container definition (plus overrides) and
// the task; the runtime does not know about ECS.
type ContainerSpec struct {
	// Name is the runtime's container name (unique on the host), e.g.
	// "ecs-<family>-<revision>-<container>-<random>".
	Name       string
	Image      string
	Entrypoint []string
	Command    []string
	Env        []string // "KEY=value"
	WorkingDir string
	User       string
	// Labels carry the task ARN, the container name and the cluster (see
	// the Label* constants) plus the definition's dockerLabels.
	Labels map[string]string

	// Resources. Zero means "not set".
	CPUShares         int64 // container cpu units (Docker --cpu-shares); 0 → 2 (Docker's minimum) is the runtime's choice
	MemoryLimitMiB    int64 // hard limit (ECS memory)
	MemoryReservation int64 // soft limit in MiB (ECS memoryReservation)
	Ulimits           []Ulimit

	// Networking.
	NetworkMode string // "bridge", "host", "none", "container:<id>" (awsvpc: joins the task's pause container), or a user-defined network's name
	// IPv4Address is a fixed address for the container on the NetworkMode
	// network, which must be a user-defined network whose subnet holds it;
	// "" lets the runtime choose.
	IPv4Address string
	Ports       []PortBinding
	Hostname    string
	ExtraHosts  []string

	Mounts []Mount

	HealthCheck *HealthCheck
	// StopTimeout is the grace between SIGTERM and SIGKILL on Stop.
	StopTimeout time.Duration
	Privileged  bool
	ReadOnly    bool
	Init        bool
}

// Ulimit is one resource limit.
type Ulimit struct {
	Name string
	Soft int64
	Hard int64
}

// PortBinding maps a container port to a host port. HostPort 0 asks the
// runtime for a dynamic port; Inspect reports the one chosen.
type PortBinding struct {
	ContainerPort int
	HostPort      int
	Protocol      string // "tcp" or "udp"
	HostIP        string // "" = all interfaces
}

// Mount is a bind or named-volume mount.
type Mount struct {
	Source   string // host path, or volume name when Volume is true
	Target   string // path in the container
	ReadOnly bool
	Volume   bool
}

// HealthCheck is a container health check (ECS healthCheck).
type HealthCheck struct {
	Test        []string // e.g. ["CMD-SHELL", "curl -f http://localhost/"]
	Interval    time.Duration
	Timeout     time.Duration
	Retries     int
	StartPeriod time.Duration
}

// Health is a container's health as the runtime sees it.
type Health string

// The health states.
const (
	HealthUnknown   Health = "UNKNOWN" // no health check, or not yet decided
	HealthHealthy   Health = "HEALTHY"
	HealthUnhealthy Health = "UNHEALTHY"
)

// State is a container's lifecycle state in the runtime.
type State string

// The container states.
const (
	StateCreated State = "created"
	StateRunning State = "running"
	StateExited  State = "exited"
)

// ContainerState is what Inspect and List report.
type ContainerState struct {
	ID    string
	Name  string
	Image string
	// ImageID is the id ("sha256:...") of the image the container was
	// created from; "" when the runtime does not say.
	ImageID string
	// CreatedAt is when the container was created; zero when unknown.
	CreatedAt time.Time
	Labels    map[string]string
	State     State
	Health    Health
	ExitCode  *int      // set once exited
	Error     string    // runtime's error for a failed start, if any
	StartedAt time.Time // zero until started
	// FinishedAt is zero until exited.
	FinishedAt time.Time
	// Ports are the bindings with host ports resolved (dynamic ones too).
	Ports []PortBinding
	// IPAddress is the container's address on its network, if any.
	IPAddress string
}

// ExitResult is how a container ended.
type ExitResult struct {
	ExitCode int
	// OOMKilled is true when the kernel killed it for memory.
	OOMKilled bool
	Error     string
}

// EventType says what happened to a container.
type EventType string

// Event types.
const (
	EventStart   EventType = "start"
	EventDie     EventType = "die"
	EventHealth  EventType = "health" // Health changed
	EventDestroy EventType = "destroy"
)

// Event is a change of one container, as the runtime observed it.
type Event struct {
	Type   EventType
	ID     string
	Health Health // for EventHealth
	Time   time.Time
}

// Runtime is a container runtime. Implementations: runtime/docker,
// runtime/sim.
type Runtime interface {
	// Pull makes image available locally. An image already present is used
	// as it is (no registry is contacted). A missing image that cannot be
	// pulled returns an error wrapping ErrImagePull.
	Pull(ctx context.Context, image string) error
	// Create creates (does not start) a container and returns its id. It
	// may return ErrImagePull too (an image that vanished after Pull, or a
	// simulated pull failure); the agent treats both the same way.
	Create(ctx context.Context, spec ContainerSpec) (string, error)
	// Start starts a created container.
	Start(ctx context.Context, id string) error
	// Stop sends SIGTERM, waits up to grace, then SIGKILLs; grace <= 0
	// kills at once. The agent passes the container's stopTimeout as grace
	// (spec.StopTimeout is the default the runtime records). Stopping an
	// exited or never-started container is not an error.
	Stop(ctx context.Context, id string, grace time.Duration) error
	// Wait blocks until the container exits (or ctx ends) and returns how.
	Wait(ctx context.Context, id string) (ExitResult, error)
	// Inspect returns the current state; ErrNotFound if it does not exist.
	Inspect(ctx context.Context, id string) (ContainerState, error)
	// List returns the containers carrying all the given labels (nil = all
	// containers of this runtime), running or not: what the agent uses to
	// re-attach after a restart.
	List(ctx context.Context, labels map[string]string) ([]ContainerState, error)
	// Remove deletes a container (force-stopping it if needed).
	Remove(ctx context.Context, id string) error
	// Events streams container events until ctx ends. The channel is closed
	// when ctx ends or the stream fails.
	Events(ctx context.Context) (<-chan Event, error)
	// Logs returns the container's output so far (stdout and stderr
	// interleaved), at most max bytes from the end (0 = all).
	Logs(ctx context.Context, id string, max int) ([]byte, error)
}

// ExitNotifier is an optional interface of a Runtime that can report a
// container's exit through a callback instead of a blocked Wait. It exists
// for runtimes hosting very many containers in one process (runtime/sim at
// fleet scale), where a goroutine parked in Wait per running container
// costs its stack and GC time; a callback costs a closure. The agent uses
// it when the runtime has it and waits on every running container with
// Wait otherwise (runtime/docker, whose Wait is one HTTP request anyway).
type ExitNotifier interface {
	// NotifyExit arranges for fn to be called once when container id has
	// exited: at once (synchronously, before NotifyExit returns) if it
	// already has, else later from any goroutine. A container removed
	// before it exited counts as gone: fn is called too, and Wait then
	// returns ErrNotFound. fn must not block and must not call back into
	// the runtime; it should only record the fact and wake whoever calls
	// Wait (which then returns at once) for the details. It returns
	// ErrNotFound for an unknown id. A closed runtime may never call fn.
	NotifyExit(id string, fn func()) error
}

// Labels the agent puts on every container it creates.
const (
	LabelTaskARN       = "com.amazonaws.ecs.task-arn"
	LabelContainerName = "com.amazonaws.ecs.container-name"
	LabelCluster       = "com.amazonaws.ecs.cluster"
	LabelTaskFamily    = "com.amazonaws.ecs.task-definition-family"
	LabelTaskRevision  = "com.amazonaws.ecs.task-definition-version"
)

var (
	// ErrNotFound reports an unknown container id.
	ErrNotFound = errors.New("runtime: container not found")
	// ErrImagePull reports an image that is not present and cannot be
	// pulled. The agent stops the task with CannotPullContainerError.
	ErrImagePull = errors.New("runtime: cannot pull image")
	// ErrCreate reports a container that cannot be created (bad spec).
	ErrCreate = errors.New("runtime: cannot create container")
	// ErrStart reports a container that cannot be started.
	ErrStart = errors.New("runtime: cannot start container")
)
