// Command berth is Berth's one binary. Its roles:
//
//	berth server   the control plane: the ECS API on one port, durable state
//	berth agent    one container instance on the docker or sim runtime
//	berth sim      N simulated container instances in one process
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/berth-dev/berth/internal/api"
	"github.com/berth-dev/berth/internal/autoscaling/inprocess"
	"github.com/berth-dev/berth/internal/fleet"
	"github.com/berth-dev/berth/internal/server"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "berth:", err)
		}
		os.Exit(2)
	}
}

const usage = `usage: berth <role> [flags]

roles:
  server    run the control plane (the ECS API and the agents' sessions)
  agent     run one container instance (docker or sim runtime)
  sim       run N simulated container instances in one process

Run "berth server -h", "berth agent -h" or "berth sim -h" for a role's flags.
`

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no role given")
	}
	switch args[0] {
	case "server":
		return runServer(args[1:], stdout, stderr)
	case "agent":
		return runAgent(args[1:], stdout, stderr)
	case "sim":
		return runSim(args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown role %q", args[0])
	}
}

func runServer(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("berth server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		cfg       server.Config
		endpoints string
		auth      string
		logLevel  string
	)
	fs.StringVar(&cfg.Listen, "listen", "127.0.0.1:8080", "address to serve on, host:port (port 0 picks a free port)")
	fs.StringVar(&cfg.DataDir, "data-dir", "./data", "directory of the embedded (bolt) store")
	fs.StringVar(&cfg.Store, "store", "bolt", "state store: bolt (embedded) or etcd")
	fs.StringVar(&endpoints, "etcd-endpoints", "", "comma-separated etcd endpoints, with --store etcd")
	fs.StringVar(&cfg.EtcdPrefix, "etcd-prefix", "/berth/", "key prefix in etcd")
	fs.StringVar(&cfg.DefaultRegion, "default-region", "us-east-1", "region of unsigned requests")
	fs.StringVar(&cfg.DefaultAccount, "default-account", "000000000000", "12-digit account of requests whose access key names no account")
	fs.StringVar(&auth, "auth", "none", "authentication: none, or sigv4 (verify signatures against --credentials)")
	fs.StringVar(&cfg.CredentialsFile, "credentials", "", "credentials file: lines of 'ACCESS_KEY_ID SECRET ACCOUNT_ID', or JSON [{accessKeyId,secretAccessKey,accountId}]")
	fs.StringVar(&cfg.AdvertiseURL, "advertise-url", "", "base URL agents are told to connect to (default: the address each agent used)")
	fs.DurationVar(&cfg.TaskRetention, "task-retention", time.Hour, "how long STOPPED tasks stay describable")
	fs.StringVar(&cfg.FargateRuntime, "fargate-runtime", "auto", "runtime of the built-in Fargate fleet: auto (Docker when it answers, else simulated), docker, or sim")
	fs.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.DurationVar(&cfg.ProvisioningTimeout, "provisioning-timeout", 30*time.Minute, "how long a task may wait in PROVISIONING for capacity of a provider with managed scaling")
	fs.DurationVar(&cfg.ScalingInterval, "scaling-interval", time.Minute, "managed scaling: how often the CapacityProviderReservation metric is computed and acted on")
	fs.DurationVar(&cfg.ScaleInAfter, "scale-in-after", 15*time.Minute, "managed scaling: how long the metric must stay below target (and since the last scale-out) before a scale-in")
	var prof profileFlag
	prof.register(fs)
	var spot fleet.Spot
	fs.DurationVar(&spot.Warning, "spot-interruption-warning", fleet.DefaultSpotWarning, "time from a Fargate Spot interruption (SIGTERM) to the reclaim (kill)")
	fs.Float64Var(&spot.Rate, "spot-interruption-rate", 0, "mean Fargate Spot interruptions per running FARGATE_SPOT task and hour (0: only on demand, POST "+server.SpotInterruptionsPath+")")
	var asgExec string
	fs.StringVar(&asgExec, "asg-exec-command", "", "executable the Auto Scaling \"exec\" instance launcher runs to launch and terminate instances (see internal/autoscaling)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if asgExec != "" {
		cfg.AutoScalingExecCommand = []string{asgExec}
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	cfg.Log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	cfg.EtcdEndpoints = server.SplitList(endpoints)
	cfg.Auth = api.AuthMode(auth)
	if spot.Rate < 0 {
		return fmt.Errorf("--spot-interruption-rate must be 0 or more")
	}
	cfg.FargateFleet = fleet.StartWithSpot(spot)
	cfg.AutoScalingLaunchers = inprocess.Start

	stopProfile, err := prof.start()
	if err != nil {
		return err
	}
	defer stopProfile()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	m, err := server.Start(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "listening on %s\n", m.URL())
	cfg.Log.Info("berth server started", "addr", m.Addr(), "store", cfg.Store, "dataDir", cfg.DataDir, "auth", auth)
	werr := m.Wait(ctx)
	cfg.Log.Info("shutting down")
	return errors.Join(werr, m.Close())
}
