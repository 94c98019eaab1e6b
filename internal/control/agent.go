package control

import (
	"context"

	"github.com/berth-dev/berth/internal/acs"
	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/wire"
)

// AgentTask is a task an instance's agent should hold: its ARN, desired
// status, and the ACS form the agent runs.
type AgentTask struct {
	ARN     string
	Desired string
	Task    acs.Task
}

// InstanceTasks returns, from the view, the tasks placed on an instance that
// have not STOPPED, compiled for its agent, and the view revision they
// reflect.
func (c *Control) InstanceTasks(ns ecs.Namespace, cluster, instanceID string) ([]AgentTask, store.Rev) {
	arn := instanceARN(ns, cluster, instanceID)
	var recs []*taskRecord
	c.view.mu.RLock()
	rev := c.view.rev
	c.view.mu.RUnlock()
	c.view.scan(keyTaskPrefix(ns, cluster), "", false, func(_ string, obj any) bool {
		if r, ok := obj.(*taskRecord); ok && wire.Val(r.ContainerInstanceArn) == arn && wire.Val(r.LastStatus) != taskStopped {
			recs = append(recs, r)
		}
		return true
	})
	out := make([]AgentTask, 0, len(recs))
	for _, r := range recs {
		ref, ok := parseTaskDefRef(ns, wire.Val(r.TaskDefinitionArn))
		if !ok {
			continue
		}
		td, _ := c.view.get(keyTaskDef(ns, ref.family, ref.revision)).(*taskDefRecord)
		if td == nil {
			continue
		}
		out = append(out, AgentTask{ARN: wire.Val(r.TaskArn), Desired: wire.Val(r.DesiredStatus), Task: acs.CompileTask(&td.TaskDefinition, &r.Task)})
	}
	return out, rev
}

// InstanceStatus returns an instance's status ("" if it does not exist).
func (c *Control) InstanceStatus(ns ecs.Namespace, cluster, instanceID string) string {
	rec, _ := c.view.get(keyInstance(ns, cluster, instanceID)).(*instanceRecord)
	if rec == nil {
		return ""
	}
	return wire.Val(rec.Status)
}

// WaitChange blocks until the view has moved past rev (or ctx ends) and
// returns the new revision. Level-triggered consumers (agent sessions,
// controllers) re-read what they need after it returns.
func (c *Control) WaitChange(ctx context.Context, rev store.Rev) (store.Rev, error) {
	for {
		c.view.mu.RLock()
		cur, ch := c.view.rev, c.view.changed
		c.view.mu.RUnlock()
		if cur > rev {
			return cur, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return cur, ctx.Err()
		}
	}
}
