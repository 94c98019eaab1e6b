package agent

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/acs"
	"github.com/berth-dev/berth/internal/runtime"
)

// The dependsOn conditions.
const (
	condStart    = "START"
	condComplete = "COMPLETE"
	condSuccess  = "SUCCESS"
	condHealthy  = "HEALTHY"
)

// validateTask checks what the agent needs to run a task: containers with
// unique names, dependencies on containers of the task with known
// conditions, and no dependency cycle. The ECS agent reports a task that
// fails this straight back as STOPPED.
func validateTask(t *acs.Task) error {
	if t.ARN == "" {
		return errors.New("the task has no ARN")
	}
	if len(t.Containers) == 0 {
		return errors.New("the task has no containers")
	}
	index := map[string]int{}
	for i, c := range t.Containers {
		if c.Name == "" {
			return fmt.Errorf("container %d has no name", i)
		}
		if _, dup := index[c.Name]; dup {
			return fmt.Errorf("two containers are named %q", c.Name)
		}
		index[c.Name] = i
	}
	for _, c := range t.Containers {
		for _, d := range c.DependsOn {
			if _, ok := index[d.ContainerName]; !ok || d.ContainerName == c.Name {
				return fmt.Errorf("container %q depends on %q, which is not another container of the task", c.Name, d.ContainerName)
			}
			switch strings.ToUpper(d.Condition) {
			case condStart, condComplete, condSuccess, condHealthy:
			default:
				return fmt.Errorf("container %q: unknown dependency condition %q", c.Name, d.Condition)
			}
		}
	}
	// Depth-first search for a cycle: 1 = on the stack, 2 = done.
	mark := make([]int, len(t.Containers))
	var visit func(i int) error
	visit = func(i int) error {
		switch mark[i] {
		case 1:
			return fmt.Errorf("the dependencies of container %q form a cycle", t.Containers[i].Name)
		case 2:
			return nil
		}
		mark[i] = 1
		for _, d := range t.Containers[i].DependsOn {
			if err := visit(index[d.ContainerName]); err != nil {
				return err
			}
		}
		mark[i] = 2
		return nil
	}
	for i := range t.Containers {
		if err := visit(i); err != nil {
			return err
		}
	}
	return nil
}

// depVerdict is what a container's dependencies allow.
type depVerdict int

const (
	depReady  depVerdict = iota // every dependency holds: start it
	depWait                     // some dependency may still hold
	depFailed                   // some dependency can no longer hold
)

// depResult is the outcome of evalDeps.
type depResult struct {
	verdict depVerdict
	reason  string // for depFailed
	// deadline is the earliest time a waiting dependency times out (zero:
	// none), so the caller knows when to look again.
	deadline time.Time
	// healthOf lists the containers whose health the caller waits for.
	healthOf []int
}

// evalDeps decides whether container i of a task may start, given what is
// known of every container (states, by index) at now. It is pure.
//
//	START     the dependency has started (it may have exited since)
//	COMPLETE  it has exited, with any code
//	SUCCESS   it has exited with code 0
//	HEALTHY   its health check reports HEALTHY
//
// A dependency that stopped without reaching its condition fails the
// dependent; so does one with startTimeout that has not reached it within
// that many seconds of starting (of taskStart, when it has not started).
func evalDeps(t *acs.Task, states []containerState, i int, taskStart, now time.Time) depResult {
	res := depResult{verdict: depReady}
	for _, d := range t.Containers[i].DependsOn {
		j := slices.IndexFunc(t.Containers, func(c acs.Container) bool { return c.Name == d.ContainerName })
		if j < 0 {
			return depResult{verdict: depFailed, reason: fmt.Sprintf("dependency %q is not a container of the task", d.ContainerName)}
		}
		dep := &states[j]
		cond := strings.ToUpper(d.Condition)
		var ok, failed bool
		switch cond {
		case condStart:
			ok = dep.ran()
			failed = !ok && dep.Status == statusStopped
		case condComplete:
			ok = dep.Status == statusStopped && dep.ran()
			failed = dep.Status == statusStopped && !dep.ran()
		case condSuccess:
			ok = dep.Status == statusStopped && dep.ExitCode != nil && *dep.ExitCode == 0
			failed = dep.Status == statusStopped && !ok
		case condHealthy:
			ok = dep.Status == statusRunning && dep.Health == runtime.HealthHealthy
			failed = dep.Status == statusStopped
		}
		if ok {
			continue
		}
		if failed {
			return depResult{verdict: depFailed, reason: fmt.Sprintf("dependency %s did not reach %s", d.ContainerName, cond)}
		}
		if st := t.Containers[j].StartTimeout; st > 0 {
			from := taskStart
			if dep.ran() {
				from = dep.StartedAt
			}
			deadline := from.Add(time.Duration(st) * time.Second)
			if !now.Before(deadline) {
				return depResult{verdict: depFailed, reason: fmt.Sprintf("dependency %s did not reach %s within its startTimeout of %ds", d.ContainerName, cond, st)}
			}
			if res.deadline.IsZero() || deadline.Before(res.deadline) {
				res.deadline = deadline
			}
		}
		res.verdict = depWait
		if cond == condHealthy && dep.Status == statusRunning {
			res.healthOf = append(res.healthOf, j)
		}
	}
	return res
}

// dependsOn reports whether container i of t depends on container j.
func dependsOn(t *acs.Task, i, j int) bool {
	name := t.Containers[j].Name
	return slices.ContainsFunc(t.Containers[i].DependsOn, func(d acs.ContainerDependency) bool { return d.ContainerName == name })
}
