package autoscaling

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

// Launcher names a group can choose (see the package doc).
const (
	LauncherSim   = "sim"
	LauncherLocal = "local"
	LauncherExec  = "exec"
)

// Request describes one instance to a Launcher.
type Request struct {
	Account      string
	Region       string
	Group        string // Auto Scaling group name
	GroupARN     string
	InstanceID   string // i- + 17 hex digits, chosen by Berth
	InstanceType string // the group's berth:instance-type tag (default t3.medium)
	AZ           string // the instance's Availability Zone
	Cluster      string // the ECS cluster the instance joins (berth:cluster, default "default")
	Endpoint     string // the server's base URL, for `berth agent --endpoint`
	// Tags are the group's tags with PropagateAtLaunch set.
	Tags map[string]string
}

// Launcher starts and stops the instances of groups that name it.
//
// Both calls may be repeated for the same instance (after a server
// restart the controller repeats every unfinished launch and termination),
// so implementations must be idempotent by InstanceID. A nil error means
// done: Launch returning nil moves the instance from Pending to InService;
// Terminate returning nil removes it from the group. Implementations must
// honour ctx (the controller bounds each call and cancels all of them on
// shutdown) and be safe for concurrent use.
type Launcher interface {
	Launch(ctx context.Context, req Request) error
	Terminate(ctx context.Context, req Request) error
}

// Resident is a Launcher whose instances live inside the server process
// (sim, local) and so end with it. After the controller starts, it calls
// Launch once for each InService instance of such a launcher (besides the
// Pending ones every launcher gets again), to bring the instance back
// under the same id; a failed call is retried after
// ControllerConfig.FailureRetry. Launchers of real hosts (exec) are not
// Resident: their InService instances outlive a server restart.
type Resident interface {
	Launcher
	// Resident reports whether the launcher's instances end with the
	// server.
	Resident() bool
}

// ServerEnv is what the server gives the launchers it starts through a
// LauncherFactory.
type ServerEnv struct {
	// ECS returns a client of the server's own ECS API acting in the
	// given account and region (signed with credentials the server
	// accepts for that account). Clients share one connection pool; the
	// server closes it at shutdown, after the launchers.
	ECS func(account, region string) (*ecs.Client, error)
	// DataDir is a directory of the launchers' own: under the server's
	// data directory (so a restarted server finds it again), or a
	// temporary one removed at Close.
	DataDir string
	Log     *slog.Logger
}

// LauncherFactory starts launchers whose instances run in the server
// process. The server calls it once at start, merges the launchers it
// returns over DefaultLaunchers, and closes the Closer after the
// controller (so no launcher call is in flight) and before the agent
// sessions: Close must stop every instance the launchers started.
type LauncherFactory func(ctx context.Context, env ServerEnv) (map[string]Launcher, io.Closer, error)

// Unavailable is a Launcher that refuses every call with a reason: the
// registration point for launchers that are not wired into this server
// (sim and local without a LauncherFactory, exec without a command).
type Unavailable struct {
	Name   string
	Reason string
}

// Launch fails with the reason.
func (u Unavailable) Launch(context.Context, Request) error {
	return fmt.Errorf("instance launcher %q is not available: %s", u.Name, u.Reason)
}

// Terminate fails with the reason.
func (u Unavailable) Terminate(context.Context, Request) error {
	return fmt.Errorf("instance launcher %q is not available: %s", u.Name, u.Reason)
}

// Exec is the launcher that runs a user-supplied command for each launch
// and termination: argv is Command plus nothing else, with the environment
// of the server plus
//
//	BERTH_ACTION         launch | terminate
//	BERTH_INSTANCE_ID    i-0123456789abcdef0
//	BERTH_INSTANCE_TYPE  the group's berth:instance-type tag
//	BERTH_AZ             the instance's Availability Zone
//	BERTH_CLUSTER        the ECS cluster the instance should join
//	BERTH_ENDPOINT       the server's base URL
//	BERTH_GROUP          the Auto Scaling group name
//	BERTH_ACCOUNT, BERTH_REGION
//
// Exit status 0 is success; anything else fails the activity, with the
// last line of the command's output (stderr, else stdout) as the reason.
// The command is expected to start a host that runs `berth agent
// --cluster $BERTH_CLUSTER --endpoint $BERTH_ENDPOINT --ec2-instance-id
// $BERTH_INSTANCE_ID --instance-type $BERTH_INSTANCE_TYPE
// --availability-zone $BERTH_AZ` (launch; the instance id lets capacity
// provider placement find the host) or to stop it (terminate), and to be
// idempotent for a repeated instance id.
type Exec struct {
	Command []string
	// Timeout bounds one run (default 10 minutes).
	Timeout time.Duration
}

var _ Launcher = (*Exec)(nil)
var _ Launcher = Unavailable{}

// Launch runs the command with BERTH_ACTION=launch.
func (e *Exec) Launch(ctx context.Context, req Request) error { return e.run(ctx, "launch", req) }

// Terminate runs the command with BERTH_ACTION=terminate.
func (e *Exec) Terminate(ctx context.Context, req Request) error {
	return e.run(ctx, "terminate", req)
}

func (e *Exec) run(ctx context.Context, action string, req Request) error {
	if len(e.Command) == 0 {
		return errors.New("exec launcher: no command")
	}
	timeout := e.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.Command[0], e.Command[1:]...)
	cmd.Env = append(os.Environ(),
		"BERTH_ACTION="+action,
		"BERTH_INSTANCE_ID="+req.InstanceID,
		"BERTH_INSTANCE_TYPE="+req.InstanceType,
		"BERTH_AZ="+req.AZ,
		"BERTH_CLUSTER="+req.Cluster,
		"BERTH_ENDPOINT="+req.Endpoint,
		"BERTH_GROUP="+req.Group,
		"BERTH_ACCOUNT="+req.Account,
		"BERTH_REGION="+req.Region,
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &limitedBuffer{buf: &stdout, max: 64 << 10}
	cmd.Stderr = &limitedBuffer{buf: &stderr, max: 64 << 10}
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("exec launcher: %s %s: %w", action, req.InstanceID, ctx.Err())
	}
	out := lastLine(stderr.String())
	if out == "" {
		out = lastLine(stdout.String())
	}
	if out != "" {
		return fmt.Errorf("exec launcher: %s %s: %v: %s", action, req.InstanceID, err, out)
	}
	return fmt.Errorf("exec launcher: %s %s: %w", action, req.InstanceID, err)
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

// limitedBuffer keeps at most max bytes of a command's output and
// discards the rest, so a chatty command cannot exhaust memory.
type limitedBuffer struct {
	buf *bytes.Buffer
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.max - l.buf.Len(); room > 0 {
		l.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// DefaultLaunchers returns the launchers of a server: exec running
// command (unavailable when command is empty), and sim and local as
// Unavailable; a server with in-process launchers (LauncherFactory)
// replaces those two.
func DefaultLaunchers(command []string) map[string]Launcher {
	m := map[string]Launcher{
		LauncherSim:   Unavailable{Name: LauncherSim, Reason: "this server runs without in-process instance launchers"},
		LauncherLocal: Unavailable{Name: LauncherLocal, Reason: "this server runs without in-process instance launchers"},
		LauncherExec:  Unavailable{Name: LauncherExec, Reason: "berth server was started without --asg-exec-command"},
	}
	if len(command) > 0 {
		m[LauncherExec] = &Exec{Command: command}
	}
	return m
}
