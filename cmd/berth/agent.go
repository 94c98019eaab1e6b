package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	dockerclient "github.com/docker/docker/client"

	"github.com/berth-dev/berth/internal/agent"
	"github.com/berth-dev/berth/internal/runtime"
	"github.com/berth-dev/berth/internal/runtime/docker"
	"github.com/berth-dev/berth/internal/runtime/sim"
)

// Dummy credentials used when none are given: with `berth server --auth
// none` any key is accepted, and this one names no account (the server's
// default account applies).
const (
	dummyAccessKeyID     = "AKIDBERTHAGENT"
	dummySecretAccessKey = "berth-agent-secret"
)

// attributeFlags collects repeated --attribute name=value flags.
type attributeFlags map[string]string

func (a attributeFlags) String() string { return fmt.Sprint(map[string]string(a)) }

func (a attributeFlags) Set(s string) error {
	name, value, _ := strings.Cut(s, "=")
	if name == "" {
		return errors.New("want name=value (or a bare name)")
	}
	a[name] = value
	return nil
}

// agentOptions are the parsed flags of `berth agent`.
type agentOptions struct {
	endpoint, cluster, runtime, dataDir string
	cpu, memory                         int64
	attributes                          attributeFlags
	region, accessKeyID, secretKey      string
	sessionToken                        string
	simSpeed                            float64
	logLevel                            string
	// ec2 is the EC2 identity to register with (InstanceID "" = none).
	ec2 agent.EC2Identity
}

func runAgent(args []string, stdout, stderr io.Writer) error {
	o, err := parseAgentFlags(args, stderr)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return agentMain(ctx, o, stdout, stderr)
}

func parseAgentFlags(args []string, stderr io.Writer) (agentOptions, error) {
	fs := flag.NewFlagSet("berth agent", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := agentOptions{attributes: attributeFlags{}}
	fs.StringVar(&o.endpoint, "endpoint", "", "base URL of the berth server's ECS API, e.g. http://127.0.0.1:8080 (required)")
	fs.StringVar(&o.cluster, "cluster", "default", `cluster to join ("default" is created when missing)`)
	fs.StringVar(&o.runtime, "runtime", "docker", "container runtime: docker (the local Docker Engine) or sim (simulated containers)")
	fs.Int64Var(&o.cpu, "cpu", 0, "CPU units to register (default: cores × 1024)")
	fs.Int64Var(&o.memory, "memory", 0, "memory to register, MiB (default: the host's)")
	fs.Var(o.attributes, "attribute", "custom attribute name=value (repeatable)")
	fs.StringVar(&o.dataDir, "data-dir", "./agent-data", "directory of the agent's state (instance ARN, tasks, simulated containers)")
	fs.StringVar(&o.region, "region", cmp.Or(os.Getenv("AWS_REGION"), os.Getenv("AWS_DEFAULT_REGION"), "us-east-1"), "region to sign requests for (default $AWS_REGION)")
	fs.StringVar(&o.accessKeyID, "access-key-id", cmp.Or(os.Getenv("AWS_ACCESS_KEY_ID"), dummyAccessKeyID), "access key id (default $AWS_ACCESS_KEY_ID, else a dummy key)")
	fs.StringVar(&o.secretKey, "secret-access-key", cmp.Or(os.Getenv("AWS_SECRET_ACCESS_KEY"), dummySecretAccessKey), "secret access key (default $AWS_SECRET_ACCESS_KEY)")
	fs.Float64Var(&o.simSpeed, "sim-speed", 1, "with --runtime sim: how many times faster simulated time runs")
	fs.StringVar(&o.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.StringVar(&o.ec2.InstanceID, "ec2-instance-id", "", "EC2 instance id to register as (sent as the instance identity document; an Auto Scaling exec launcher passes $BERTH_INSTANCE_ID)")
	fs.StringVar(&o.ec2.InstanceType, "instance-type", "", "with --ec2-instance-id: the instance type ($BERTH_INSTANCE_TYPE), registered as ecs.instance-type")
	fs.StringVar(&o.ec2.AvailabilityZone, "availability-zone", "", "with --ec2-instance-id: the Availability Zone ($BERTH_AZ), registered as ecs.availability-zone")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	o.sessionToken = os.Getenv("AWS_SESSION_TOKEN")
	switch {
	case fs.NArg() > 0:
		return o, fmt.Errorf("unexpected arguments: %v", fs.Args())
	case o.endpoint == "":
		return o, errors.New("--endpoint is required")
	case o.runtime != "docker" && o.runtime != "sim":
		return o, fmt.Errorf("--runtime %q: want docker or sim", o.runtime)
	case o.cpu < 0 || o.memory < 0:
		return o, errors.New("--cpu and --memory must not be negative")
	}
	return o, nil
}

// agentMain runs the agent until ctx ends. The tasks keep running after it
// returns.
func agentMain(ctx context.Context, o agentOptions, stdout, stderr io.Writer) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	if err := os.MkdirAll(o.dataDir, 0o755); err != nil {
		return fmt.Errorf("--data-dir: %w", err)
	}

	cfg := agent.Config{
		ECS: ecs.New(ecs.Options{
			Region:       o.region,
			BaseEndpoint: aws.String(o.endpoint),
			Credentials:  credentials.NewStaticCredentialsProvider(o.accessKeyID, o.secretKey, o.sessionToken),
		}),
		Cluster:    o.cluster,
		CPU:        o.cpu,
		MemoryMiB:  o.memory,
		Attributes: o.attributes,
		DataDir:    o.dataDir,
		Logger:     log,
	}
	if o.ec2.InstanceID != "" {
		cfg.EC2 = &o.ec2
	}
	rt, closeRT, err := openRuntime(ctx, o, log, &cfg)
	if err != nil {
		return err
	}
	defer closeRT()
	cfg.Runtime = rt

	a, err := agent.New(cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	log.Info("berth agent starting", "endpoint", o.endpoint, "cluster", o.cluster, "runtime", o.runtime, "dataDir", o.dataDir)
	fmt.Fprintf(stdout, "berth agent for cluster %s on %s (runtime %s)\n", o.cluster, o.endpoint, o.runtime)
	return a.Run(ctx)
}

// openRuntime opens the chosen runtime and fills in what the agent reports
// about it (Docker's version and API capabilities).
func openRuntime(ctx context.Context, o agentOptions, log *slog.Logger, cfg *agent.Config) (runtime.Runtime, func(), error) {
	if o.runtime == "sim" {
		h := fnv.New64a()
		abs, _ := filepath.Abs(o.dataDir)
		h.Write([]byte(abs))
		rt, err := sim.New(sim.Options{
			Seed:      h.Sum64(),
			Speed:     o.simSpeed,
			Logger:    log,
			StateFile: filepath.Join(o.dataDir, "sim-state.json"),
		})
		if err != nil {
			return nil, nil, err
		}
		cfg.DockerVersion = "sim"
		return rt, func() { rt.Close() }, nil
	}
	rt, err := docker.New()
	if err != nil {
		return nil, nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := rt.Ping(pctx); err != nil {
		rt.Close()
		return nil, nil, fmt.Errorf("the Docker Engine is not reachable (use --runtime sim to simulate containers): %w", err)
	}
	// The runtime hides the daemon; its version and API level are asked
	// once here, for versionInfo and the docker-remote-api capabilities.
	cli, err := dockerclient.NewClientWithOpts(dockerclient.FromEnv, dockerclient.WithAPIVersionNegotiation())
	if err != nil {
		rt.Close()
		return nil, nil, fmt.Errorf("docker client: %w", err)
	}
	defer cli.Close()
	sv, err := cli.ServerVersion(pctx)
	if err != nil {
		rt.Close()
		return nil, nil, fmt.Errorf("docker version: %w", err)
	}
	cfg.DockerVersion = sv.Version
	cfg.Capabilities = agent.Capabilities(sv.APIVersion)
	return rt, func() { rt.Close() }, nil
}
