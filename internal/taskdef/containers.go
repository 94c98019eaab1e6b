package taskdef

import (
	"strings"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/wire"
)

// Health check bounds and defaults, in seconds (retries in attempts) [doc:
// API HealthCheck].
const (
	minHealthInterval, maxHealthInterval, defaultHealthInterval = 5, 300, 30
	minHealthTimeout, maxHealthTimeout, defaultHealthTimeout    = 2, 60, 5
	minHealthRetries, maxHealthRetries, defaultHealthRetries    = 1, 10, 3
	maxHealthStartPeriod                                        = 300
)

// checkContainers checks every container's own settings: resources, port
// mappings, links, hostname, health check and mounts.
func (d *def) checkContainers() *ecs.Error {
	d.portNames = make(map[string]bool)
	for i := range d.in.ContainerDefinitions {
		c := &d.in.ContainerDefinitions[i]
		for _, check := range [...]func(*wire.ContainerDefinition) *ecs.Error{
			d.checkResources,
			d.checkPorts,
			d.checkNetworkSettings,
			d.checkHealthCheck,
			d.checkMounts,
		} {
			if e := check(c); e != nil {
				return e
			}
		}
	}
	return nil
}

// checkResources checks c's cpu, memory and memoryReservation, alone and
// against the task-level memory.
func (d *def) checkResources(c *wire.ContainerDefinition) *ecs.Error {
	name := wire.Val(c.Name)
	switch {
	case wire.Val(c.Cpu) < 0:
		return clientErrf(fmtContainerCPU, name)
	case c.Memory != nil && *c.Memory < 1:
		return clientErrf(fmtContainerMemory, name)
	case c.MemoryReservation != nil && *c.MemoryReservation < 1:
		return clientErrf(fmtContainerReservation, name)
	case !d.hasMemory && c.Memory == nil && c.MemoryReservation == nil:
		return clientErrf(fmtNeedMemory, name)
	case c.Memory != nil && c.MemoryReservation != nil && *c.MemoryReservation > *c.Memory:
		return clientErrf(fmtReservationOverMemory, name)
	case d.hasMemory && c.Memory != nil && int(*c.Memory) > d.memory:
		return clientErrf(fmtContainerMemoryOverTask, name)
	}
	return nil
}

// checkNetworkSettings applies the network-mode rules that are not about
// ports: hostname is refused in awsvpc mode, links are allowed only in
// bridge mode and only to containers of the task.
func (d *def) checkNetworkSettings(c *wire.ContainerDefinition) *ecs.Error {
	mode := d.mode()
	if c.Hostname != nil && mode == modeAwsvpc {
		return clientErr(msgHostnameAwsvpc)
	}
	if len(c.Links) == 0 {
		return nil
	}
	if mode != modeBridge {
		return clientErrf(fmtLinksMode, mode)
	}
	for _, l := range c.Links {
		target, _, _ := strings.Cut(l, ":")
		if d.containers[target] == nil {
			return clientErrf(fmtLinksUnknown, target)
		}
	}
	return nil
}

// checkHealthCheck checks c's health check command and bounds.
func (d *def) checkHealthCheck(c *wire.ContainerDefinition) *ecs.Error {
	hc := c.HealthCheck
	if hc == nil {
		return nil
	}
	name := wire.Val(c.Name)
	bad := func(detail string) *ecs.Error { return clientErrf(fmtHealthCheck, name, detail) }
	out := func(p *int32, lo, hi int32) bool { return p != nil && (*p < lo || *p > hi) }
	switch {
	case len(hc.Command) == 0:
		return bad("'command' should not be null or empty.")
	case out(hc.Interval, minHealthInterval, maxHealthInterval):
		return bad("'interval' must be between 5 and 300 seconds.")
	case out(hc.Timeout, minHealthTimeout, maxHealthTimeout):
		return bad("'timeout' must be between 2 and 60 seconds.")
	case out(hc.Retries, minHealthRetries, maxHealthRetries):
		return bad("'retries' must be between 1 and 10.")
	case out(hc.StartPeriod, 0, maxHealthStartPeriod):
		return bad("'startPeriod' must be between 0 and 300 seconds.")
	}
	return nil
}

// Dependency conditions with a rule attached.
const (
	condSuccess  = wire.ContainerCondition("SUCCESS")
	condComplete = wire.ContainerCondition("COMPLETE")
	condHealthy  = wire.ContainerCondition("HEALTHY")
)

// checkDependencies checks every dependsOn entry: the target exists, a
// SUCCESS or COMPLETE target is not essential, a HEALTHY target has a
// health check, and the dependencies have no cycle.
func (d *def) checkDependencies() *ecs.Error {
	for i := range d.in.ContainerDefinitions {
		for _, dep := range d.in.ContainerDefinitions[i].DependsOn {
			if dep.ContainerName == nil {
				return clientErrf(fmtDependsOnUnknown, "null")
			}
			target := d.containers[*dep.ContainerName]
			if target == nil {
				return clientErrf(fmtDependsOnUnknown, *dep.ContainerName)
			}
			switch wire.Val(dep.Condition) {
			case condSuccess, condComplete:
				if essential(target) {
					return clientErr(msgDependsOnEssential)
				}
			case condHealthy:
				if target.HealthCheck == nil {
					return clientErrf(fmtDependsOnHealthy, *dep.ContainerName)
				}
			}
		}
	}
	return d.checkDependencyCycles()
}

// checkDependencyCycles refuses a dependsOn graph with a cycle (a container
// depending on itself included). Every target is known to exist.
func (d *def) checkDependencyCycles() *ecs.Error {
	const (
		unvisited = iota
		inProgress
		done
	)
	state := make(map[string]int, len(d.containers))
	var visit func(name string) *ecs.Error
	visit = func(name string) *ecs.Error {
		switch state[name] {
		case inProgress:
			return clientErrf(fmtDependsOnCycle, name)
		case done:
			return nil
		}
		state[name] = inProgress
		for _, dep := range d.containers[name].DependsOn {
			if e := visit(*dep.ContainerName); e != nil {
				return e
			}
		}
		state[name] = done
		return nil
	}
	for i := range d.in.ContainerDefinitions {
		if e := visit(wire.Val(d.in.ContainerDefinitions[i].Name)); e != nil {
			return e
		}
	}
	return nil
}
