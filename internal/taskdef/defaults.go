package taskdef

import (
	"strconv"

	"github.com/berth-dev/berth/internal/wire"
)

// assemble turns the validated request into the task definition ECS
// returns, filling in ECS's defaults:
//
// Task level: cpu and memory normalised to integer strings ("1 vCPU" →
// "1024", "2 GB" → "2048"); volumes and placementConstraints [] when
// absent; enableFaultInjection false when absent [aws outputs since 2025];
// compatibilities and requiresAttributes computed. networkMode and
// requiresCompatibilities are returned as given (absent stays absent, as in
// ECS's own register-task-definition example).
//
// Container level (see fillContainer): cpu 0, essential true, and empty
// portMappings, environment, mountPoints, volumesFrom and systemControls
// lists when absent; port mapping and health check defaults.
func (d *def) assemble() *wire.TaskDefinition {
	in := d.in
	td := &wire.TaskDefinition{
		Family:                  in.Family,
		ContainerDefinitions:    in.ContainerDefinitions,
		EnableFaultInjection:    in.EnableFaultInjection,
		EphemeralStorage:        in.EphemeralStorage,
		ExecutionRoleArn:        in.ExecutionRoleArn,
		InferenceAccelerators:   in.InferenceAccelerators,
		IpcMode:                 in.IpcMode,
		NetworkMode:             in.NetworkMode,
		PidMode:                 in.PidMode,
		PlacementConstraints:    emptyIfNil(in.PlacementConstraints),
		ProxyConfiguration:      in.ProxyConfiguration,
		RequiresCompatibilities: in.RequiresCompatibilities,
		RuntimePlatform:         in.RuntimePlatform,
		TaskRoleArn:             in.TaskRoleArn,
		Volumes:                 emptyIfNil(in.Volumes),
		Compatibilities:         d.compatibilities(),
		RequiresAttributes:      d.requiresAttributes(),
	}
	if d.hasCPU {
		td.Cpu = wire.Ptr(strconv.Itoa(d.cpu))
	}
	if d.hasMemory {
		td.Memory = wire.Ptr(strconv.Itoa(d.memory))
	}
	if td.EnableFaultInjection == nil {
		td.EnableFaultInjection = wire.Ptr(false)
	}
	for i := range td.ContainerDefinitions {
		d.fillContainer(&td.ContainerDefinitions[i])
	}
	return td
}

// fillContainer sets the container-level defaults ECS returns. The empty
// lists are what DescribeTaskDefinition shows for a container that did not
// mention them [aws: register-task-definition examples; systemControls
// since 2024 outputs].
func (d *def) fillContainer(c *wire.ContainerDefinition) {
	if c.Cpu == nil {
		c.Cpu = wire.Ptr(int32(0))
	}
	if c.Essential == nil {
		c.Essential = wire.Ptr(true)
	}
	c.PortMappings = emptyIfNil(c.PortMappings)
	c.Environment = emptyIfNil(c.Environment)
	c.MountPoints = emptyIfNil(c.MountPoints)
	c.VolumesFrom = emptyIfNil(c.VolumesFrom)
	c.SystemControls = emptyIfNil(c.SystemControls)
	for j := range c.PortMappings {
		d.fillPortMapping(&c.PortMappings[j])
	}
	if hc := c.HealthCheck; hc != nil {
		if hc.Interval == nil {
			hc.Interval = wire.Ptr(int32(defaultHealthInterval))
		}
		if hc.Timeout == nil {
			hc.Timeout = wire.Ptr(int32(defaultHealthTimeout))
		}
		if hc.Retries == nil {
			hc.Retries = wire.Ptr(int32(defaultHealthRetries))
		}
	}
}

// fillPortMapping sets protocol "tcp" when absent and, for a single
// container port without hostPort, the host port ECS records: the
// container port in awsvpc and host mode (static mapping) [doc], 0 in
// bridge mode (a dynamic host port) [impl]. Port ranges get no hostPort.
func (d *def) fillPortMapping(pm *wire.PortMapping) {
	if pm.Protocol == nil {
		pm.Protocol = wire.Ptr(protocolTCP)
	}
	if pm.HostPort != nil || pm.ContainerPort == nil {
		return
	}
	switch d.mode() {
	case modeAwsvpc, modeHost:
		pm.HostPort = wire.Ptr(*pm.ContainerPort)
	case modeBridge:
		pm.HostPort = wire.Ptr(int32(0))
	}
}

// emptyIfNil returns s, or an empty non-nil slice (emitted as []) when s is
// nil.
func emptyIfNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
