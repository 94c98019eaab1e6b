package taskdef

import (
	"regexp"
	"slices"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/wire"
)

// Launch type names as they appear in fmtUnsupported.
const (
	nameFargate  = "Fargate"
	nameExternal = "External"
	nameManaged  = "Managed Instances"
)

// Log drivers Fargate supports [doc].
var fargateLogDrivers = [...]wire.LogDriver{"awslogs", "splunk", "awsfirelens"}

// privateECRImage matches an image in a private Amazon ECR registry, which
// needs registry authentication (ecr-auth, and on Fargate an execution
// role) [doc: private registry hostnames].
var privateECRImage = regexp.MustCompile(`^[0-9]{12}\.dkr\.ecr(-fips)?\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/`)

// incompatibility returns the first reason the definition cannot run on
// launch type lt, as the error RegisterTaskDefinition gives when lt is in
// requiresCompatibilities; nil means compatible. EC2 accepts every valid
// definition; unknown launch types are left to model validation.
func (d *def) incompatibility(lt wire.Compatibility) *ecs.Error {
	switch lt {
	case compatFargate:
		return d.fargateIncompatibility()
	case compatExternal:
		if d.mode() == modeAwsvpc {
			return clientErr(msgExternalAwsvpc)
		}
		if p := d.externalUnsupported(); p != "" {
			return clientErrf(fmtUnsupported, nameExternal, p)
		}
	case compatManaged:
		if m := wire.Val(d.in.NetworkMode); m != modeAwsvpc && m != modeHost {
			return clientErr(msgManagedNetworkMode)
		}
		if p := d.managedUnsupported(); p != "" {
			return clientErrf(fmtUnsupported, nameManaged, p)
		}
	}
	return nil
}

// fargateIncompatibility applies the Fargate rules [doc; spec §5.1], in the
// order ECS reports them: network mode, task cpu, task memory, the size
// pair, then the unsupported parameters and execution role needs.
func (d *def) fargateIncompatibility() *ecs.Error {
	in := d.in
	switch {
	case wire.Val(in.NetworkMode) != modeAwsvpc:
		return clientErr(msgFargateNetworkMode)
	case !d.hasCPU:
		return clientErr(msgFargateNoCPU)
	case !d.hasMemory:
		return clientErr(msgFargateNoMemory)
	case !FargateSizeValid(d.cpu, d.memory, OSOf(in.RuntimePlatform)):
		return clientErr(msgFargateSize)
	case in.IpcMode != nil:
		return clientErr(msgFargateIpcMode)
	case wire.Val(in.PidMode) == "host":
		return clientErr(msgFargatePidModeHost)
	}
	if p := d.fargateUnsupported(); p != "" {
		return clientErrf(fmtUnsupported, nameFargate, p)
	}
	if wire.Val(in.ExecutionRoleArn) == "" {
		for i := range in.ContainerDefinitions {
			c := &in.ContainerDefinitions[i]
			if logDriver(c) == "awslogs" {
				return clientErr(msgFargateAwslogsRole)
			}
			if privateECRImage.MatchString(wire.Val(c.Image)) {
				return clientErr(msgFargateECRRole)
			}
		}
	}
	return nil
}

// fargateUnsupported names the first parameter Fargate does not support
// [doc: "Task definition considerations" for Fargate], or "". Links and
// hostname are absent: Fargate needs awsvpc, which refuses them itself.
func (d *def) fargateUnsupported() string {
	in := d.in
	switch {
	case len(in.PlacementConstraints) > 0:
		return "placementConstraints"
	case len(in.InferenceAccelerators) > 0:
		return "inferenceAccelerators"
	}
	for i := range in.Volumes {
		v := &in.Volumes[i]
		switch {
		case v.DockerVolumeConfiguration != nil:
			return "dockerVolumeConfiguration"
		case v.Host != nil && wire.Val(v.Host.SourcePath) != "":
			return "host.sourcePath"
		}
	}
	for i := range in.ContainerDefinitions {
		c := &in.ContainerDefinitions[i]
		lp := c.LinuxParameters
		switch {
		case wire.Val(c.Privileged):
			return "privileged"
		case wire.Val(c.DisableNetworking):
			return "disableNetworking"
		case len(c.DnsServers) > 0:
			return "dnsServers"
		case len(c.DnsSearchDomains) > 0:
			return "dnsSearchDomains"
		case len(c.DockerSecurityOptions) > 0:
			return "dockerSecurityOptions"
		case len(c.ExtraHosts) > 0:
			return "extraHosts"
		case lp != nil && len(lp.Devices) > 0:
			return "devices"
		case lp != nil && lp.SharedMemorySize != nil:
			return "sharedMemorySize"
		case lp != nil && len(lp.Tmpfs) > 0:
			return "tmpfs"
		case lp != nil && lp.MaxSwap != nil:
			return "maxSwap"
		case lp != nil && lp.Swappiness != nil:
			return "swappiness"
		case lp != nil && lp.Capabilities != nil && slices.ContainsFunc(lp.Capabilities.Add, func(s string) bool { return s != "SYS_PTRACE" }):
			return "capabilities.add other than SYS_PTRACE"
		case slices.ContainsFunc(c.ResourceRequirements, func(r wire.ResourceRequirement) bool { return wire.Val(r.Type) == "GPU" }):
			return "GPU resourceRequirements"
		case c.LogConfiguration != nil && !slices.Contains(fargateLogDrivers[:], logDriver(c)):
			return "logDriver '" + string(logDriver(c)) + "'"
		}
	}
	return ""
}

// externalUnsupported names the first parameter external (ECS Anywhere)
// instances do not support [doc: ECS Anywhere considerations], or "".
func (d *def) externalUnsupported() string {
	if len(d.in.InferenceAccelerators) > 0 {
		return "inferenceAccelerators"
	}
	for i := range d.in.Volumes {
		v := &d.in.Volumes[i]
		switch {
		case v.EfsVolumeConfiguration != nil:
			return "efsVolumeConfiguration"
		case v.FsxWindowsFileServerVolumeConfiguration != nil:
			return "fsxWindowsFileServerVolumeConfiguration"
		}
	}
	return ""
}

// managedUnsupported names the first parameter Amazon ECS Managed Instances
// do not support [doc: "Amazon ECS task definition differences for Amazon
// ECS Managed Instances"], or "".
func (d *def) managedUnsupported() string {
	in := d.in
	switch {
	case in.IpcMode != nil:
		return "ipcMode"
	case in.ProxyConfiguration != nil:
		return "proxyConfiguration"
	case len(in.InferenceAccelerators) > 0:
		return "inferenceAccelerators"
	case in.EphemeralStorage != nil:
		return "ephemeralStorage"
	}
	for i := range in.Volumes {
		v := &in.Volumes[i]
		switch {
		case v.DockerVolumeConfiguration != nil:
			return "dockerVolumeConfiguration"
		case v.FsxWindowsFileServerVolumeConfiguration != nil:
			return "fsxWindowsFileServerVolumeConfiguration"
		case v.Host != nil && wire.Val(v.Host.SourcePath) != "":
			return "host.sourcePath"
		}
	}
	for i := range in.ContainerDefinitions {
		c := &in.ContainerDefinitions[i]
		lp := c.LinuxParameters
		switch {
		case wire.Val(c.DisableNetworking):
			return "disableNetworking"
		case len(c.DnsServers) > 0:
			return "dnsServers"
		case len(c.DnsSearchDomains) > 0:
			return "dnsSearchDomains"
		case len(c.DockerLabels) > 0:
			return "dockerLabels"
		case len(c.DockerSecurityOptions) > 0:
			return "dockerSecurityOptions"
		case len(c.ExtraHosts) > 0:
			return "extraHosts"
		case c.Hostname != nil:
			return "hostname"
		case len(c.Links) > 0:
			return "links"
		case lp != nil && lp.SharedMemorySize != nil:
			return "sharedMemorySize"
		case lp != nil && len(lp.Tmpfs) > 0:
			return "tmpfs"
		case lp != nil && lp.MaxSwap != nil:
			return "maxSwap"
		case lp != nil && lp.Swappiness != nil:
			return "swappiness"
		}
	}
	return ""
}

// compatibilities computes the launch types the (valid) definition can run
// on, in ECS's order: EXTERNAL first when it applies, then EC2 (always),
// FARGATE and MANAGED_INSTANCES. Observed: ["EXTERNAL","EC2"] for bridge
// and none definitions, ["EC2","FARGATE","MANAGED_INSTANCES"] for Fargate
// ones [aws, describe-task-definition outputs 2021–2026]; the order for
// combinations not observed is [impl].
func (d *def) compatibilities() []wire.Compatibility {
	out := make([]wire.Compatibility, 0, 4)
	if d.incompatibility(compatExternal) == nil {
		out = append(out, compatExternal)
	}
	out = append(out, compatEC2)
	for _, lt := range [...]wire.Compatibility{compatFargate, compatManaged} {
		if d.incompatibility(lt) == nil {
			out = append(out, lt)
		}
	}
	return out
}

// logDriver returns c's log driver, or "".
func logDriver(c *wire.ContainerDefinition) wire.LogDriver {
	if c.LogConfiguration == nil {
		return ""
	}
	return wire.Val(c.LogConfiguration.LogDriver)
}
