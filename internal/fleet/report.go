package fleet

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/agent"
	"github.com/berth-dev/berth/internal/control"
	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/runtime"
	"github.com/berth-dev/berth/internal/wire"
)

// reporter is the engine's agent.Reporter: it records state changes with
// control directly, in the namespace and cluster of the task's ARN.
type reporter struct{ ctl *control.Control }

var _ agent.Reporter = reporter{}

func (r reporter) SubmitTask(ctx context.Context, ch agent.TaskChange) error {
	ns, cluster, err := taskPlace(ch.TaskARN)
	if err != nil {
		return err
	}
	in := &wire.SubmitTaskStateChangeRequest{
		Cluster:            wire.Ptr(cluster),
		Task:               wire.Ptr(ch.TaskARN),
		Status:             wire.Ptr(ch.Status),
		Reason:             optional(ch.Reason),
		PullStartedAt:      optionalTime(ch.PullStartedAt),
		PullStoppedAt:      optionalTime(ch.PullStoppedAt),
		ExecutionStoppedAt: optionalTime(ch.ExecutionStoppedAt),
	}
	for _, c := range ch.Containers {
		in.Containers = append(in.Containers, wire.ContainerStateChange{
			ContainerName: wire.Ptr(c.Name), Status: wire.Ptr(c.Status), RuntimeId: optional(c.RuntimeID),
			Reason: optional(c.Reason), ExitCode: exitCode(c.ExitCode), NetworkBindings: bindings(c.Ports),
		})
	}
	_, err = r.ctl.SubmitTaskStateChange(ctx, ns, in)
	return refused(err)
}

func (r reporter) SubmitContainer(ctx context.Context, taskARN string, c agent.ContainerChange) error {
	ns, cluster, err := taskPlace(taskARN)
	if err != nil {
		return err
	}
	_, err = r.ctl.SubmitContainerStateChange(ctx, ns, &wire.SubmitContainerStateChangeRequest{
		Cluster: wire.Ptr(cluster), Task: wire.Ptr(taskARN), ContainerName: wire.Ptr(c.Name), Status: wire.Ptr(c.Status),
		RuntimeId: optional(c.RuntimeID), Reason: optional(c.Reason), ExitCode: exitCode(c.ExitCode), NetworkBindings: bindings(c.Ports),
	})
	return refused(err)
}

// taskPlace returns the namespace and cluster of a task ARN
// (arn:<partition>:ecs:<region>:<account>:task/<cluster>/<id>). A
// malformed ARN is refused.
func taskPlace(arn string) (ecs.Namespace, string, error) {
	a, ok := ecs.ParseARN(arn)
	cluster, _, found := strings.Cut(a.Path(), "/")
	if !ok || a.Type() != "task" || !found {
		return ecs.Namespace{}, "", fmt.Errorf("%w: malformed task ARN %q", agent.ErrRefused, arn)
	}
	ns := ecs.Namespace{Partition: a.Partition, Account: a.Account, Region: a.Region}
	ns.Principal = ns.RootPrincipal()
	return ns, cluster, nil
}

// refused marks control's expected failures (every *ecs.Error but a
// ServerException) as final: retrying cannot change them.
func refused(err error) error {
	if code := ecs.CodeOf(err); code != "" && code != ecs.ServerError {
		return fmt.Errorf("%w: %w", agent.ErrRefused, err)
	}
	return err
}

func bindings(ports []runtime.PortBinding) []wire.NetworkBinding {
	var out []wire.NetworkBinding
	for _, p := range ports {
		ip := p.HostIP
		if ip == "" {
			ip = "0.0.0.0"
		}
		proto := wire.TransportProtocolTcp
		if p.Protocol == "udp" {
			proto = wire.TransportProtocolUdp
		}
		out = append(out, wire.NetworkBinding{BindIP: wire.Ptr(ip), ContainerPort: wire.Ptr(int32(p.ContainerPort)),
			HostPort: wire.Ptr(int32(p.HostPort)), Protocol: wire.Ptr(proto)})
	}
	return out
}

func exitCode(c *int) *int32 {
	if c == nil {
		return nil
	}
	return wire.Ptr(int32(*c))
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return wire.Ptr(s)
}

func optionalTime(t time.Time) *wire.Time {
	if t.IsZero() {
		return nil
	}
	return wire.NewTime(t)
}
