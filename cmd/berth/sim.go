package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/berth-dev/berth/internal/server"
	"github.com/berth-dev/berth/internal/simfleet"
)

// simOptions are the parsed flags of `berth sim`.
type simOptions struct {
	cfg       simfleet.Config
	logLevel  string
	prof      profileFlag
	gcPercent int // 0: leave the runtime's
}

func runSim(args []string, stdout, stderr io.Writer) error {
	o, err := parseSimFlags(args, stderr)
	if err != nil {
		return err
	}
	stopProfile, err := o.prof.start()
	if err != nil {
		return err
	}
	defer stopProfile()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return simMain(ctx, o, stdout, stderr)
}

// defaultSimGCPercent is --gc-percent's default: $GOGC when it is set
// (the runtime has applied it already), else 400. A simulated fleet
// allocates for every task it starts and report it sends while its heap
// is mostly the tasks' goroutines and state, which every collection
// scans: collecting at 5× the live heap instead of 2× took about 2.5 of
// 15 CPU-seconds off starting 100,000 tasks on 5,000 instances (the
// scale benchmark), for about 0.3 GiB more memory at its peak. The
// simulator is a load generator sharing the machine with the server it
// loads, so it spends memory to leave the server CPU.
func defaultSimGCPercent() int {
	if os.Getenv("GOGC") != "" {
		return 0
	}
	return 400
}

func parseSimFlags(args []string, stderr io.Writer) (simOptions, error) {
	fs := flag.NewFlagSet("berth sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		o                    simOptions
		instanceTypes, zones string
		attributes           = attributeFlags{}
	)
	c := &o.cfg
	fs.StringVar(&c.Endpoint, "endpoint", "", "base URL of the berth server's ECS API, e.g. http://127.0.0.1:8080 (required)")
	fs.StringVar(&c.Cluster, "cluster", "default", `cluster to join (must exist, except "default", which is created)`)
	fs.IntVar(&c.Instances, "instances", 0, "number of simulated container instances (required)")
	fs.Int64Var(&c.CPU, "cpu", simfleet.DefaultCPU, "CPU units each instance registers")
	fs.Int64Var(&c.MemoryMiB, "memory", simfleet.DefaultMemoryMiB, "memory each instance registers, MiB")
	fs.StringVar(&instanceTypes, "instance-types", "", "comma-separated ecs.instance-type values, assigned round-robin (default: none)")
	fs.StringVar(&zones, "zones", "", "comma-separated ecs.availability-zone values, assigned round-robin (default: <region>a,b,c)")
	fs.Var(attributes, "attribute", "custom attribute name=value of every instance (repeatable)")
	fs.StringVar(&c.Region, "region", cmp.Or(os.Getenv("AWS_REGION"), os.Getenv("AWS_DEFAULT_REGION"), simfleet.DefaultRegion), "region to sign requests for (default $AWS_REGION)")
	fs.StringVar(&c.AccessKeyID, "access-key-id", os.Getenv("AWS_ACCESS_KEY_ID"), "access key id (default $AWS_ACCESS_KEY_ID, else a dummy key)")
	fs.StringVar(&c.SecretAccessKey, "secret-access-key", os.Getenv("AWS_SECRET_ACCESS_KEY"), "secret access key (default $AWS_SECRET_ACCESS_KEY)")
	fs.Float64Var(&c.Speed, "sim-speed", 1, "how many times faster simulated time runs")
	fs.StringVar(&c.DataDir, "data-dir", "./sim-data", "directory of the instances' state (one directory per instance, holding its ARN)")
	fs.IntVar(&c.Concurrency, "concurrency", simfleet.DefaultConcurrency, "how many instances may be registering at once")
	fs.IntVar(&o.gcPercent, "gc-percent", defaultSimGCPercent(), "the Go collector's GOGC for this process (default 400, or $GOGC when set; 0 keeps the runtime's)")
	o.prof.register(fs)
	fs.StringVar(&o.logLevel, "log-level", "warn", "log level: debug, info, warn, error (info logs every instance's registration)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	c.SessionToken = os.Getenv("AWS_SESSION_TOKEN")
	c.InstanceTypes = server.SplitList(instanceTypes)
	c.Zones = server.SplitList(zones)
	c.Attributes = attributes
	switch {
	case fs.NArg() > 0:
		return o, fmt.Errorf("unexpected arguments: %v", fs.Args())
	case c.Endpoint == "":
		return o, errors.New("--endpoint is required")
	case c.Instances < 1:
		return o, errors.New("--instances must be at least 1")
	case c.CPU < 1 || c.MemoryMiB < 1:
		return o, errors.New("--cpu and --memory must be positive")
	case c.Speed <= 0:
		return o, errors.New("--sim-speed must be positive")
	case c.Concurrency < 1:
		return o, errors.New("--concurrency must be at least 1")
	case o.gcPercent < 0:
		return o, errors.New("--gc-percent must not be negative")
	}
	return o, nil
}

// simMain runs the fleet until ctx ends. It prints one line once every
// instance is registered and connected.
func simMain(ctx context.Context, o simOptions, stdout, stderr io.Writer) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	o.cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	if o.gcPercent > 0 {
		debug.SetGCPercent(o.gcPercent)
	}
	f, err := simfleet.New(o.cfg)
	if err != nil {
		return err
	}
	start := time.Now()
	// The fleet's goroutine is always waited for: on errc, below.
	errc := make(chan error, 1)
	go func() { errc <- f.Run(ctx) }()
	select {
	case <-f.Ready():
		fmt.Fprintf(stdout, "%d instances registered in cluster %s (%.1fs)\n", o.cfg.Instances, cmp.Or(o.cfg.Cluster, "default"), time.Since(start).Seconds())
	case err := <-errc:
		return err
	}
	return <-errc
}
