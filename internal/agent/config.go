package agent

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"regexp"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/berth-dev/berth/internal/runtime"
)

// Version is the agent version Berth reports in versionInfo.agentVersion.
const Version = "1.0.0"

// Config configures an Agent. Runtime, ECS and DataDir are required; every
// other field has a default.
type Config struct {
	// Runtime runs the containers. The agent does not close it.
	Runtime runtime.Runtime
	// ECS is the control plane's ECS API (BaseEndpoint = the server). Its
	// credentials and region also sign the ACS websocket upgrade.
	ECS *ecs.Client
	// Cluster is the cluster to join; "" means "default", which is created
	// when it does not exist (as the ECS agent does).
	Cluster string
	// CPU is the registered CPU in units (1024 per core); 0 means the
	// host's cores × 1024.
	CPU int64
	// MemoryMiB is the registered memory; 0 means the host's memory.
	MemoryMiB int64
	// Attributes are custom attributes (name → value; "" registers the
	// name without a value), sent with the agent's own.
	Attributes map[string]string
	// EC2 describes the EC2 instance the agent runs on, as the ECS agent
	// learns it from the instance metadata service; nil means none (the
	// server then makes up an ec2InstanceId). See EC2Identity.
	EC2 *EC2Identity
	// Capabilities are the capability attributes the runtime supports; nil
	// means Capabilities(MaxDockerAPIVersion).
	Capabilities []string
	// DockerVersion is reported in versionInfo.dockerVersion and the ACS
	// URL (e.g. "20.10.24"); "" reports "unknown".
	DockerVersion string
	// DataDir holds agent.json (the instance ARN), tasks/ (one state file
	// per task) and volumes/ (scratch host volumes).
	DataDir string
	// Logger receives the agent's log; nil discards.
	Logger *slog.Logger
	// Now is the clock for reported timestamps; nil means time.Now.
	Now func() time.Time

	// StopTimeout is the grace between SIGTERM and SIGKILL for containers
	// without stopTimeout (ECS_CONTAINER_STOP_TIMEOUT); default 30 s.
	StopTimeout time.Duration
	// TaskCleanupWait is how long a STOPPED task's containers are kept
	// before they are removed (ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION);
	// default 3 h.
	TaskCleanupWait time.Duration
	// InactivityTimeout drops an ACS session from which nothing arrived
	// for this long (plus up to as much again of jitter); default 1 min.
	InactivityTimeout time.Duration
	// SessionLifetime is when the agent closes an ACS session and opens a
	// new one (plus up to a sixth of it of jitter); default 30 min.
	SessionLifetime time.Duration
	// InactiveInstanceWait is how long the agent waits before reconnecting
	// after the server refused the instance as INACTIVE; default 1 h.
	InactiveInstanceWait time.Duration
	// HealthPollInterval is how often a container whose HEALTHY another
	// container waits for is inspected, besides the runtime's health
	// events; default 2 s.
	HealthPollInterval time.Duration
	// HealthPublishInterval is how often container health is published on
	// the telemetry session besides when it changes; default 20 s.
	HealthPublishInterval time.Duration
	// Backoff bounds the retry delays of registration, reconnection and
	// state reports; default 500 ms to 30 s.
	Backoff Backoff
	// MetadataAddr is where the task metadata endpoint listens
	// ("host:port"; see metadata.go). "" (the default) is 0.0.0.0 on the
	// port the data directory remembers (a free one the first time), each
	// container getting the address of the host on its own network; an
	// address given here is the one every container gets. "off" turns the
	// endpoint off: containers get no ECS_CONTAINER_METADATA_URI_V4.
	MetadataAddr string
	// TaskStateInMemory keeps each task's state in memory only: nothing is
	// written, read or removed under DataDir/tasks, so a restarted agent
	// does not take over the tasks of an earlier run (the server's task
	// manifest reconciles them). It suits runtimes whose containers do not
	// outlive the process either, such as thousands of simulated instances
	// in one process (berth sim), where a file write per task change is
	// the agent's main cost. The default (false) persists task states.
	// agent.json (the instance ARN) is written either way.
	TaskStateInMemory bool
	// OnConnected, when set, is called each time an ACS session has been
	// established, with the container instance ARN: the server has then
	// marked the instance agentConnected. It is called on the session's
	// goroutine and must not block.
	OnConnected func(containerInstanceARN string)
}

// EC2Identity is the EC2 instance an agent says it runs on. Registration
// sends it as the instanceIdentityDocument (the JSON document of the
// instance metadata service: instanceId, instanceType, availabilityZone,
// region, architecture, version), from which the server takes the
// container instance's ec2InstanceId, and registers the ecs.instance-type
// and ecs.availability-zone attributes (unless Config.Attributes sets
// them), as the ECS agent does on EC2. Berth's Auto Scaling launchers
// give their instances the ids of the group's instances this way, so
// that capacity provider placement finds them.
type EC2Identity struct {
	// InstanceID is i- and 8 or 17 hex digits; required.
	InstanceID string
	// InstanceType (e.g. "m5.large") and AvailabilityZone (e.g.
	// "us-east-1a") are optional.
	InstanceType     string
	AvailabilityZone string
	// Region is the document's region; "" means the ECS client's region.
	Region string
}

// identityDocument is the JSON of an EC2 instance identity document, with
// the members Berth knows.
type identityDocument struct {
	InstanceID       string `json:"instanceId"`
	InstanceType     string `json:"instanceType,omitempty"`
	AvailabilityZone string `json:"availabilityZone,omitempty"`
	Region           string `json:"region,omitempty"`
	Architecture     string `json:"architecture"`
	Version          string `json:"version"`
}

// document returns the identity document of id, with region as its
// region when id names none.
func (id *EC2Identity) document(region string) string {
	b, _ := json.Marshal(identityDocument{
		InstanceID:       id.InstanceID,
		InstanceType:     id.InstanceType,
		AvailabilityZone: id.AvailabilityZone,
		Region:           cmp.Or(id.Region, region),
		Architecture:     cpuArchitecture(),
		Version:          "2017-09-30",
	})
	return string(b)
}

// ec2InstanceIDRE matches EC2 instance ids.
var ec2InstanceIDRE = regexp.MustCompile(`^i-([0-9a-f]{8}|[0-9a-f]{17})$`)

// Backoff is an exponential backoff with full jitter between Min and Max.
type Backoff struct {
	Min, Max time.Duration
}

// withDefaults returns c with every default applied, or an error for a
// missing required field.
func (c Config) withDefaults() (Config, error) {
	switch {
	case c.Runtime == nil:
		return c, errors.New("agent: Config.Runtime is required")
	case c.ECS == nil:
		return c, errors.New("agent: Config.ECS is required")
	case c.DataDir == "":
		return c, errors.New("agent: Config.DataDir is required")
	case c.CPU < 0 || c.MemoryMiB < 0:
		return c, errors.New("agent: CPU and memory must not be negative")
	case c.EC2 != nil && !ec2InstanceIDRE.MatchString(c.EC2.InstanceID):
		return c, fmt.Errorf("agent: EC2 instance id %q: want i- and 8 or 17 hex digits", c.EC2.InstanceID)
	}
	if c.Cluster == "" {
		c.Cluster = "default"
	}
	if c.Capabilities == nil {
		c.Capabilities = Capabilities(MaxDockerAPIVersion)
	}
	if c.DockerVersion == "" {
		c.DockerVersion = "unknown"
	}
	return c.withEngineDefaults(), nil
}

// withEngineDefaults returns c with the defaults of the fields the task
// engine uses (logger, clock, timeouts, backoff) applied.
func (c Config) withEngineDefaults() Config {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.StopTimeout, 30*time.Second)
	def(&c.TaskCleanupWait, 3*time.Hour)
	def(&c.InactivityTimeout, time.Minute)
	def(&c.SessionLifetime, 30*time.Minute)
	def(&c.InactiveInstanceWait, time.Hour)
	def(&c.HealthPollInterval, 2*time.Second)
	def(&c.HealthPublishInterval, 20*time.Second)
	def(&c.Backoff.Min, 500*time.Millisecond)
	def(&c.Backoff.Max, 30*time.Second)
	if c.Backoff.Max < c.Backoff.Min {
		c.Backoff.Max = c.Backoff.Min
	}
	return c
}

// backoff is the state of one Backoff sequence. It is not safe for
// concurrent use; each retry loop has its own.
type backoff struct {
	b    Backoff
	next time.Duration
}

func newBackoff(b Backoff) *backoff { return &backoff{b: b, next: b.Min} }

// delay returns the next delay (uniform in [d/2, d] for the current step
// d) and doubles the step up to Max.
func (b *backoff) delay() time.Duration {
	d := b.next
	b.next = min(2*b.next, b.b.Max)
	half := d / 2
	return half + time.Duration(rand.Int64N(int64(d-half)+1))
}

// reset starts the sequence again from Min.
func (b *backoff) reset() { b.next = b.b.Min }

// jitter returns d plus a random duration in [0, frac×d].
func jitter(d time.Duration, frac float64) time.Duration {
	j := time.Duration(float64(d) * frac)
	if j <= 0 {
		return d
	}
	return d + time.Duration(rand.Int64N(int64(j)+1))
}
