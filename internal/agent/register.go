package agent

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	goruntime "runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"
)

// MaxDockerAPIVersion is the newest Docker remote API version the agent
// advertises (com.amazonaws.ecs.capability.docker-remote-api.1.44).
const MaxDockerAPIVersion = "1.44"

// minDockerAPIMinor is the oldest Docker remote API version ECS knows.
const minDockerAPIMinor = 17

// Attribute name prefixes of the capabilities.
const (
	capDockerAPI     = "com.amazonaws.ecs.capability.docker-remote-api."
	capLoggingDriver = "com.amazonaws.ecs.capability.logging-driver."
)

// reservedPorts are the host TCP ports the ECS agent registers as taken:
// SSH, the Docker daemon, and the agent's own endpoints.
var reservedPorts = []string{"22", "2375", "2376", "51678", "51679"}

// Capabilities returns the capability attributes of an agent whose runtime
// speaks Docker remote API apiVersion (e.g. "1.41"; capped at
// MaxDockerAPIVersion): docker-remote-api.1.17 up to that version, the
// json-file and none logging drivers, privileged containers, health checks,
// container ordering (dependsOn, start and stop timeouts) and local volume
// plugins. An unreadable version yields 1.17 only.
func Capabilities(apiVersion string) []string {
	top := minDockerAPIMinor
	if major, minor, ok := strings.Cut(apiVersion, "."); ok && major == "1" {
		if n, err := strconv.Atoi(minor); err == nil {
			top = n
		}
	}
	_, maxMinor, _ := strings.Cut(MaxDockerAPIVersion, ".")
	if n, _ := strconv.Atoi(maxMinor); top > n {
		top = n
	}
	var caps []string
	for m := minDockerAPIMinor; m <= top; m++ {
		caps = append(caps, capDockerAPI+"1."+strconv.Itoa(m))
	}
	return append(caps,
		capLoggingDriver+"json-file",
		capLoggingDriver+"none",
		"com.amazonaws.ecs.capability.privileged-container",
		"ecs.capability.container-health-check",
		"ecs.capability.container-ordering",
		"ecs.capability.docker-plugin.local",
	)
}

// cpuArchitecture is the ecs.cpu-architecture value of this host.
func cpuArchitecture() string {
	switch goruntime.GOARCH {
	case "amd64":
		return "x86_64"
	case "arm64":
		return "arm64"
	}
	return goruntime.GOARCH
}

// agentHash is the VCS revision the binary was built from ("unknown"
// without build information).
func agentHash() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && s.Value != "" {
				return s.Value[:min(8, len(s.Value))]
			}
		}
	}
	return "unknown"
}

// hostMemoryMiB reads MemTotal from /proc/meminfo.
func hostMemoryMiB() (int64, error) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("meminfo: %w", err)
			}
			return kb / 1024, nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, errors.New("meminfo: no MemTotal")
}

// attributes returns every attribute the agent registers, sorted by name:
// the OS and architecture, the capabilities, the EC2 instance type and
// zone (of Config.EC2), and the custom ones.
func (c *Config) attributes() []types.Attribute {
	set := map[string]string{
		"ecs.os-type":          "linux",
		"ecs.cpu-architecture": cpuArchitecture(),
	}
	for _, name := range c.Capabilities {
		set[name] = ""
	}
	if c.EC2 != nil && c.EC2.InstanceType != "" {
		set["ecs.instance-type"] = c.EC2.InstanceType
	}
	if c.EC2 != nil && c.EC2.AvailabilityZone != "" {
		set["ecs.availability-zone"] = c.EC2.AvailabilityZone
	}
	for name, value := range c.Attributes {
		set[name] = value
	}
	out := make([]types.Attribute, 0, len(set))
	for name, value := range set {
		a := types.Attribute{Name: aws.String(name)}
		if value != "" {
			a.Value = aws.String(value)
		}
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b types.Attribute) int { return strings.Compare(*a.Name, *b.Name) })
	return out
}

// resources returns the registered resources: CPU, MEMORY, PORTS (the
// reserved ones) and PORTS_UDP (none).
func (c *Config) resources() []types.Resource {
	return []types.Resource{
		{Name: aws.String("CPU"), Type: aws.String("INTEGER"), IntegerValue: int32(c.CPU)},
		{Name: aws.String("MEMORY"), Type: aws.String("INTEGER"), IntegerValue: int32(c.MemoryMiB)},
		{Name: aws.String("PORTS"), Type: aws.String("STRINGSET"), StringSetValue: slices.Clone(reservedPorts)},
		{Name: aws.String("PORTS_UDP"), Type: aws.String("STRINGSET"), StringSetValue: []string{}},
	}
}

// ErrAttributeMismatch is returned by Run when the server's registration
// response does not echo an attribute the agent sent. The ECS agent treats
// this as terminal, and so does Berth's.
var ErrAttributeMismatch = errors.New("agent: registration did not echo the attributes sent")

// checkEcho reports the first attribute of sent that got does not contain
// with the same value.
func checkEcho(sent, got []types.Attribute) error {
	for _, s := range sent {
		if !slices.ContainsFunc(got, func(g types.Attribute) bool {
			return aws.ToString(g.Name) == aws.ToString(s.Name) && aws.ToString(g.Value) == aws.ToString(s.Value)
		}) {
			return fmt.Errorf("%w: %s=%q", ErrAttributeMismatch, aws.ToString(s.Name), aws.ToString(s.Value))
		}
	}
	return nil
}

// instanceFile is <data-dir>/agent.json: what an agent must remember to
// come back as the same container instance.
type instanceFile struct {
	Cluster              string `json:"cluster"`
	ContainerInstanceARN string `json:"containerInstanceArn"`
}

func (a *Agent) instancePath() string { return filepath.Join(a.cfg.DataDir, "agent.json") }

// loadInstance reads agent.json (zero when absent).
func (a *Agent) loadInstance() (instanceFile, error) {
	var f instanceFile
	b, err := os.ReadFile(a.instancePath())
	if errors.Is(err, fs.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return f, fmt.Errorf("agent: %w", err)
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return f, fmt.Errorf("agent: %s: %w", a.instancePath(), err)
	}
	return f, nil
}

// register registers the container instance, retrying with backoff until
// it succeeds, ctx ends, or the server gives a terminal answer
// (ClientException, InvalidParameterException, an unknown cluster other
// than "default", attributes not echoed). It creates the "default" cluster
// when it is missing, reuses the ARN of agent.json when the cluster is the
// same, and records the ARN there.
func (a *Agent) register(ctx context.Context) (string, error) {
	saved, err := a.loadInstance()
	if err != nil {
		return "", err
	}
	in := &ecs.RegisterContainerInstanceInput{
		Cluster:        aws.String(a.cfg.Cluster),
		TotalResources: a.cfg.resources(),
		Attributes:     a.cfg.attributes(),
		VersionInfo: &types.VersionInfo{
			AgentVersion:  aws.String(Version),
			AgentHash:     aws.String(agentHash()),
			DockerVersion: aws.String("DockerVersion: " + a.cfg.DockerVersion),
		},
	}
	if a.cfg.EC2 != nil {
		in.InstanceIdentityDocument = aws.String(a.cfg.EC2.document(a.cfg.ECS.Options().Region))
	}
	if saved.ContainerInstanceARN != "" && saved.Cluster == a.cfg.Cluster {
		in.ContainerInstanceArn = aws.String(saved.ContainerInstanceARN)
	}
	bo := newBackoff(a.cfg.Backoff)
	createdCluster := false
	for {
		out, err := a.cfg.ECS.RegisterContainerInstance(ctx, in)
		if err == nil {
			if out.ContainerInstance == nil || aws.ToString(out.ContainerInstance.ContainerInstanceArn) == "" {
				err = errors.New("agent: registration returned no container instance")
			} else {
				if err := checkEcho(in.Attributes, out.ContainerInstance.Attributes); err != nil {
					return "", err
				}
				arn := aws.ToString(out.ContainerInstance.ContainerInstanceArn)
				if in.ContainerInstanceArn != nil && arn != *in.ContainerInstanceArn {
					a.log.Warn("registered as a new container instance (the old one is gone); tasks of the old one are reconciled through the task manifest",
						"old", *in.ContainerInstanceArn, "new", arn)
				}
				if err := writeJSON(a.instancePath(), instanceFile{Cluster: a.cfg.Cluster, ContainerInstanceARN: arn}, true); err != nil {
					return "", fmt.Errorf("agent: record the instance ARN: %w", err)
				}
				return arn, nil
			}
		}
		var notFound *types.ClusterNotFoundException
		switch {
		case ctx.Err() != nil:
			return "", ctx.Err()
		case errors.As(err, &notFound) && a.cfg.Cluster == "default" && !createdCluster:
			a.log.Info("creating the default cluster")
			_, cerr := a.cfg.ECS.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("default")})
			if cerr == nil {
				createdCluster = true
				continue
			}
			if !retriable(cerr) {
				return "", fmt.Errorf("agent: create the default cluster: %w", cerr)
			}
			err = cerr
		case errors.As(err, &notFound), !retriable(err):
			return "", fmt.Errorf("agent: register container instance: %w", err)
		}
		d := bo.delay()
		a.log.Warn("registration failed; retrying", "err", err, "in", d)
		if err := sleep(ctx, d); err != nil {
			return "", err
		}
	}
}

// retriable reports whether an ECS API error may succeed when retried:
// everything except the client errors the ECS agent gives up on
// (ClientException, InvalidParameterException, AccessDeniedException, an
// unknown cluster) and refused credentials or signatures, which retrying
// cannot fix either. It is the one classification of both the SDK's errors
// (typed exceptions, or smithy.APIError) and the lean reporter's
// (*apiError, a smithy.APIError), which are told apart by name.
func retriable(err error) bool {
	var (
		ce  *types.ClientException
		ip  *types.InvalidParameterException
		ad  *types.AccessDeniedException
		cn  *types.ClusterNotFoundException
		api smithy.APIError
	)
	if errors.As(err, &ce) || errors.As(err, &ip) || errors.As(err, &ad) || errors.As(err, &cn) {
		return false
	}
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "ClientException", "InvalidParameterException", "AccessDeniedException", "ClusterNotFoundException",
			"UnrecognizedClientException", "InvalidSignatureException",
			"IncompleteSignatureException", "MissingAuthenticationTokenException":
			return false
		}
	}
	return true
}
