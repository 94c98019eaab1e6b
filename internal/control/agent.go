package control

import (
	"context"
	"slices"
	"strings"

	"github.com/berth-dev/berth/internal/acs"
	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/wire"
)

// AgentTask is a task an instance's agent should hold: its ARN, desired
// status and cluster, and (when asked for) the ACS form the agent runs.
type AgentTask struct {
	ARN        string
	Desired    string
	ClusterARN string
	Task       *acs.Task // set only when the caller's compile returned true
}

// InstanceTasks returns, from the view's task index, the tasks placed on an
// instance that have not STOPPED, sorted by ARN, and the view revision they
// reflect. compile (nil = never) says which of them the caller needs in
// their ACS form: compiling is the costly part, and a session only sends
// what changed.
func (c *Control) InstanceTasks(ns ecs.Namespace, cluster, instanceID string, compile func(arn, desired string) bool) ([]AgentTask, store.Rev) {
	arn := instanceARN(ns, cluster, instanceID)
	c.view.mu.RLock()
	rev := c.view.rev
	c.view.mu.RUnlock()
	recs := c.view.index.instanceTasks(arn)
	out := make([]AgentTask, 0, len(recs))
	arns := make([]string, len(recs))
	order := make([]int, len(recs))
	var arena arnArena
	for i, r := range recs {
		arns[i], order[i] = arena.taskArn(r), i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(arns[a], arns[b]) })
	for _, i := range order {
		r := recs[i]
		at := AgentTask{ARN: arns[i], Desired: wire.Val(r.DesiredStatus), ClusterARN: wire.Val(r.tmpl.ClusterArn)}
		if compile != nil && compile(at.ARN, at.Desired) {
			ref, ok := parseTaskDefRef(ns, wire.Val(r.tmpl.TaskDefinitionArn))
			if !ok {
				continue
			}
			td, _ := c.view.get(keyTaskDef(ns, ref.family, ref.revision)).(*taskDefRecord)
			if td == nil {
				continue
			}
			t := acs.CompileTask(&td.TaskDefinition, &r.unpack().Task)
			at.Task = &t
		}
		out = append(out, at)
	}
	return out, rev
}

// NotifyInstanceTasks registers fn to be told the ARN of each container
// instance whose tasks change. It must be called before the first change
// it should see (at start, before agents connect); fn runs on the view's
// goroutine under its lock, so it must only record the ARN and return.
func (c *Control) NotifyInstanceTasks(fn func(instanceARN string)) {
	c.view.mu.Lock()
	c.view.index.notify = fn
	c.view.mu.Unlock()
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
