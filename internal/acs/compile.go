package acs

import (
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/berth-dev/berth/internal/wire"
)

// DockerAPIVersion is the Docker remote API version stated in dockerConfig.
const DockerAPIVersion = "1.17"

// CompileTask turns a task (as ECS stores it) and its task definition into
// the ACS Task the agent runs, as ECS's backend does before a
// PayloadMessage (spec/ecosystem.md §2.1): first-class fields for image,
// command (with the override), entry point, environment (a map, overrides
// merged), ports, mounts, dependencies and timeouts; the rest as the Docker
// Config and HostConfig JSON strings of dockerConfig (labels, health check
// in nanoseconds, working directory, user, hostname, memory reservation,
// ulimits, extra hosts, DNS, read-only root, log configuration). It is pure.
func CompileTask(td *wire.TaskDefinition, task *wire.Task) Task {
	out := Task{
		ARN:            wire.Val(task.TaskArn),
		TaskClusterARN: wire.Val(task.ClusterArn),
		DesiredStatus:  wire.Val(task.DesiredStatus),
		Family:         wire.Val(td.Family),
		Version:        strconv.Itoa(int(wire.Val(td.Revision))),
		LaunchType:     string(wire.Val(task.LaunchType)),
		NetworkMode:    string(wire.Val(td.NetworkMode)),
		Group:          wire.Val(task.Group),
		PidMode:        string(wire.Val(td.PidMode)),
		IpcMode:        string(wire.Val(td.IpcMode)),
	}
	if out.NetworkMode == "" {
		out.NetworkMode = "bridge"
	}
	if cpu, err := strconv.ParseFloat(wire.Val(task.Cpu), 64); err == nil && wire.Val(td.Cpu) != "" {
		out.CPU = cpu / 1024
	}
	if mem, err := strconv.ParseInt(wire.Val(td.Memory), 10, 64); err == nil {
		out.Memory = mem
	}
	for _, v := range td.Volumes {
		out.Volumes = append(out.Volumes, compileVolume(v))
	}
	var ov *wire.TaskOverride = task.Overrides
	for _, cd := range td.ContainerDefinitions {
		var co *wire.ContainerOverride
		if ov != nil {
			for i := range ov.ContainerOverrides {
				if wire.Val(ov.ContainerOverrides[i].Name) == wire.Val(cd.Name) {
					co = &ov.ContainerOverrides[i]
				}
			}
		}
		var arn string
		for _, ct := range task.Containers {
			if wire.Val(ct.Name) == wire.Val(cd.Name) {
				arn = wire.Val(ct.ContainerArn)
			}
		}
		out.Containers = append(out.Containers, compileContainer(cd, co, arn))
	}
	return out
}

func compileVolume(v wire.Volume) Volume {
	out := Volume{Name: wire.Val(v.Name), Type: "host", Host: &HostVolumeProperties{}}
	switch {
	case v.DockerVolumeConfiguration != nil:
		d := v.DockerVolumeConfiguration
		out.Type = "docker"
		out.Host = nil
		out.DockerVolumeConfiguration = &DockerVolumeConfiguration{
			Scope:         string(wire.Val(d.Scope)),
			Autoprovision: wire.Val(d.Autoprovision),
			Driver:        wire.Val(d.Driver),
			DriverOpts:    d.DriverOpts,
			Labels:        d.Labels,
		}
	case v.Host != nil:
		out.Host.SourcePath = wire.Val(v.Host.SourcePath)
	}
	return out
}

func compileContainer(cd wire.ContainerDefinition, co *wire.ContainerOverride, arn string) Container {
	c := Container{
		Name:         wire.Val(cd.Name),
		Image:        wire.Val(cd.Image),
		ContainerARN: arn,
		CPU:          int64(wire.Val(cd.Cpu)),
		Memory:       int64(wire.Val(cd.Memory)),
		Essential:    wire.Val(cd.Essential),
		Command:      cd.Command,
		EntryPoint:   cd.EntryPoint,
		Links:        cd.Links,
		Privileged:   cd.Privileged,
		StartTimeout: int64(wire.Val(cd.StartTimeout)),
		StopTimeout:  int64(wire.Val(cd.StopTimeout)),
	}
	memRes := int64(wire.Val(cd.MemoryReservation))
	env := map[string]string{}
	for _, kv := range cd.Environment {
		env[wire.Val(kv.Name)] = wire.Val(kv.Value)
	}
	if co != nil {
		if co.Command != nil {
			c.Command = co.Command
			b, _ := json.Marshal(map[string][]string{"command": co.Command})
			c.Overrides = string(b)
		}
		for _, kv := range co.Environment {
			env[wire.Val(kv.Name)] = wire.Val(kv.Value)
		}
		if co.Cpu != nil {
			c.CPU = int64(*co.Cpu)
		}
		if co.Memory != nil {
			c.Memory = int64(*co.Memory)
		}
		if co.MemoryReservation != nil {
			memRes = int64(*co.MemoryReservation)
		}
	}
	if len(env) > 0 {
		c.Environment = env
	}
	for _, pm := range cd.PortMappings {
		c.PortMappings = append(c.PortMappings, PortMapping{
			ContainerPort:      int64(wire.Val(pm.ContainerPort)),
			HostPort:           int64(wire.Val(pm.HostPort)),
			ContainerPortRange: wire.Val(pm.ContainerPortRange),
			Protocol:           string(wire.Val(pm.Protocol)),
		})
	}
	for _, mp := range cd.MountPoints {
		c.MountPoints = append(c.MountPoints, MountPoint{SourceVolume: wire.Val(mp.SourceVolume), ContainerPath: wire.Val(mp.ContainerPath), ReadOnly: wire.Val(mp.ReadOnly)})
	}
	for _, vf := range cd.VolumesFrom {
		c.VolumesFrom = append(c.VolumesFrom, VolumeFrom{SourceContainer: wire.Val(vf.SourceContainer), ReadOnly: wire.Val(vf.ReadOnly)})
	}
	for _, d := range cd.DependsOn {
		c.DependsOn = append(c.DependsOn, ContainerDependency{ContainerName: wire.Val(d.ContainerName), Condition: string(wire.Val(d.Condition))})
	}

	config := map[string]any{}
	if len(cd.DockerLabels) > 0 {
		config["Labels"] = maps.Clone(cd.DockerLabels)
	}
	if hc := cd.HealthCheck; hc != nil {
		sec := func(p *int32, def int32) int64 {
			v := def
			if p != nil {
				v = *p
			}
			return int64(time.Duration(v) * time.Second)
		}
		config["Healthcheck"] = map[string]any{
			"Test":        hc.Command,
			"Interval":    sec(hc.Interval, 30),
			"Timeout":     sec(hc.Timeout, 5),
			"Retries":     wire.Val(hc.Retries),
			"StartPeriod": sec(hc.StartPeriod, 0),
		}
		c.HealthCheckType = "docker"
	}
	setIf(config, "WorkingDir", wire.Val(cd.WorkingDirectory))
	setIf(config, "User", wire.Val(cd.User))
	setIf(config, "Hostname", wire.Val(cd.Hostname))
	if wire.Val(cd.PseudoTerminal) {
		config["Tty"] = true
	}
	if wire.Val(cd.Interactive) {
		config["OpenStdin"] = true
	}

	host := map[string]any{}
	if memRes > 0 {
		host["MemoryReservation"] = memRes << 20
	}
	if len(cd.Ulimits) > 0 {
		var ul []map[string]any
		for _, u := range cd.Ulimits {
			ul = append(ul, map[string]any{"Name": string(wire.Val(u.Name)), "Soft": wire.Val(u.SoftLimit), "Hard": wire.Val(u.HardLimit)})
		}
		host["Ulimits"] = ul
	}
	for _, h := range cd.ExtraHosts {
		hosts, _ := host["ExtraHosts"].([]string)
		host["ExtraHosts"] = append(hosts, wire.Val(h.Hostname)+":"+wire.Val(h.IpAddress))
	}
	if len(cd.DnsServers) > 0 {
		host["Dns"] = slices.Clone(cd.DnsServers)
	}
	if len(cd.DnsSearchDomains) > 0 {
		host["DnsSearch"] = slices.Clone(cd.DnsSearchDomains)
	}
	if wire.Val(cd.ReadonlyRootFilesystem) {
		host["ReadonlyRootfs"] = true
	}
	if len(cd.DockerSecurityOptions) > 0 {
		host["SecurityOpt"] = slices.Clone(cd.DockerSecurityOptions)
	}
	if lc := cd.LogConfiguration; lc != nil {
		host["LogConfig"] = map[string]any{"Type": string(wire.Val(lc.LogDriver)), "Config": lc.Options}
	}
	cfgJSON, _ := json.Marshal(config)
	hostJSON, _ := json.Marshal(host)
	c.DockerConfig = &DockerConfig{Version: DockerAPIVersion, Config: string(cfgJSON), HostConfig: string(hostJSON)}
	return c
}

func setIf(m map[string]any, k, v string) {
	if v != "" {
		m[k] = v
	}
}
