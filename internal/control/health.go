package control

import (
	"context"
	"slices"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/wire"
)

// ReportHealth records the container health an agent published (TCS
// PublishHealthRequest) for one task, and derives the task's healthStatus
// (spec §2.1): HEALTHY only if every essential container with a health
// check is HEALTHY, UNHEALTHY if any of them is UNHEALTHY, else UNKNOWN.
// containers maps container name to HEALTHY, UNHEALTHY or UNKNOWN. A report
// that changes nothing writes nothing.
func (c *Control) ReportHealth(ctx context.Context, ns ecs.Namespace, taskARN string, containers map[string]string) error {
	a, ok := ecs.ParseARN(taskARN)
	if !ok || !a.InNamespace(ns) || a.Type() != "task" {
		return ecs.Errorf(ecs.InvalidParameter, "The task ARN '%s' is not valid.", taskARN)
	}
	cluster, id, _ := cutPath(a.Path())
	view := c.view.task(keyTask(ns, cluster, id))
	if view == nil {
		return ecs.Errorf(ecs.InvalidParameter, "The referenced task was not found.")
	}
	checked := c.healthChecked(ns, view)
	if !healthChanges(view, containers, checked) {
		return nil
	}
	return c.update(ctx, func(t tx) error {
		rec := new(taskRecord)
		found, err := t.get(keyTask(ns, cluster, id), rec)
		if err != nil || !found {
			return err
		}
		for i := range rec.Containers {
			if h, ok := containers[wire.Val(rec.Containers[i].Name)]; ok {
				rec.Containers[i].HealthStatus = wire.Ptr(wire.HealthStatus(h))
			}
		}
		rec.HealthStatus = wire.Ptr(taskHealth(rec, checked))
		*rec.Version++
		return t.put(keyTask(ns, cluster, id), rec)
	})
}

// healthChecked returns the essential containers of a task that have a
// health check in its task definition.
func (c *Control) healthChecked(ns ecs.Namespace, rec *taskRecord) []string {
	ref, ok := parseTaskDefRef(ns, wire.Val(rec.TaskDefinitionArn))
	if !ok {
		return nil
	}
	td, _ := c.view.get(keyTaskDef(ns, ref.family, ref.revision)).(*taskDefRecord)
	if td == nil {
		return nil
	}
	var out []string
	for _, cd := range td.ContainerDefinitions {
		if cd.HealthCheck != nil && slices.Contains(rec.Essential, wire.Val(cd.Name)) {
			out = append(out, wire.Val(cd.Name))
		}
	}
	return out
}

// taskHealth rolls container health up to the task.
func taskHealth(rec *taskRecord, checked []string) wire.HealthStatus {
	if len(checked) == 0 {
		return wire.HealthStatusUnknown
	}
	all := true
	for _, ct := range rec.Containers {
		if !slices.Contains(checked, wire.Val(ct.Name)) {
			continue
		}
		switch wire.Val(ct.HealthStatus) {
		case wire.HealthStatusUnhealthy:
			return wire.HealthStatusUnhealthy
		case wire.HealthStatusHealthy:
		default:
			all = false
		}
	}
	if all {
		return wire.HealthStatusHealthy
	}
	return wire.HealthStatusUnknown
}

// healthChanges reports whether a report would change a task.
func healthChanges(rec *taskRecord, containers map[string]string, checked []string) bool {
	cp := *rec
	cp.Containers = slices.Clone(rec.Containers)
	changed := false
	for i := range cp.Containers {
		if h, ok := containers[wire.Val(cp.Containers[i].Name)]; ok && wire.Val(cp.Containers[i].HealthStatus) != wire.HealthStatus(h) {
			cp.Containers[i].HealthStatus = wire.Ptr(wire.HealthStatus(h))
			changed = true
		}
	}
	return changed || wire.Val(rec.HealthStatus) != taskHealth(&cp, checked)
}
