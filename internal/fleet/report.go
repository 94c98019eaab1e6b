package fleet

import (
	"context"
	"fmt"
	"strings"

	"github.com/berth-dev/berth/internal/agent"
	"github.com/berth-dev/berth/internal/control"
	"github.com/berth-dev/berth/internal/ecs"
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
	_, err = r.ctl.SubmitTaskStateChange(ctx, ns, ch.Request(cluster))
	return refused(err)
}

func (r reporter) SubmitContainer(ctx context.Context, taskARN string, c agent.ContainerChange) error {
	ns, cluster, err := taskPlace(taskARN)
	if err != nil {
		return err
	}
	_, err = r.ctl.SubmitContainerStateChange(ctx, ns, c.Request(cluster, taskARN))
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
