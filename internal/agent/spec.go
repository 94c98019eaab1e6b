package agent

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/acs"
	"github.com/berth-dev/berth/internal/runtime"
)

// specInput is what compiling a task's containers needs besides the task.
type specInput struct {
	Cluster string
	// Names are the runtime container names, by container index.
	Names []string
	// VolumesDir holds the scratch directories of host volumes without a
	// source path: <VolumesDir>/<task-id>/<volume>.
	VolumesDir string
	// StopTimeout is the default grace for containers without stopTimeout.
	StopTimeout time.Duration
	// AwsvpcMode, when set, is the network mode of an awsvpc task's
	// containers: they join the task's own network namespace (e.g.
	// "container:<pause>"), whose address serves their ports, so port
	// mappings are not published. Unset, awsvpc tasks run on the bridge.
	AwsvpcMode string
}

// dockerConfigJSON is the part of dockerConfig.config the agent applies
// (see acs.CompileTask for what the server puts there).
type dockerConfigJSON struct {
	Labels      map[string]string
	Healthcheck *struct {
		Test        []string
		Interval    int64 // nanoseconds, as Docker's API
		Timeout     int64
		StartPeriod int64
		Retries     int
	}
	WorkingDir string
	User       string
	Hostname   string
	Env        []string
}

// dockerHostConfigJSON is the part of dockerConfig.hostConfig the agent
// applies. Dns, DnsSearch, SecurityOpt and LogConfig have no counterpart in
// runtime.ContainerSpec yet and are reported as ignored.
type dockerHostConfigJSON struct {
	MemoryReservation int64 // bytes
	Ulimits           []struct {
		Name string
		Soft int64
		Hard int64
	}
	ExtraHosts     []string
	ReadonlyRootfs bool
	Privileged     bool
	Init           *bool
	NetworkMode    string
	Dns            []string
	DnsSearch      []string
	SecurityOpt    []string
	LogConfig      *struct{ Type string }
}

// runtimeName returns a fresh runtime container name in the ECS agent's
// form, ecs-<family>-<revision>-<container>-<random>.
func runtimeName(t *acs.Task, container string) string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	clean := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r == '_' || r == '-' || r == '.' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
				return r
			}
			return '-'
		}, s)
	}
	return "ecs-" + clean(t.Family) + "-" + clean(t.Version) + "-" + clean(container) + "-" + hex.EncodeToString(b)
}

// taskSpecs compiles every container of t into a runtime.ContainerSpec.
// It is pure. A container that cannot be compiled (malformed dockerConfig,
// an unknown or unsupported volume, a bad port range) gets an error in its
// slot; ignored lists settings the runtime cannot apply.
func taskSpecs(t *acs.Task, in specInput) (specs []runtime.ContainerSpec, errs []error, ignored []string) {
	specs = make([]runtime.ContainerSpec, len(t.Containers))
	errs = make([]error, len(t.Containers))
	for i := range t.Containers {
		specs[i], ignored, errs[i] = containerSpec(t, &t.Containers[i], in.Names[i], in, ignored)
	}
	// volumesFrom: the mounts of the source container, read-only if asked.
	for i, c := range t.Containers {
		for _, vf := range c.VolumesFrom {
			j := slices.IndexFunc(t.Containers, func(o acs.Container) bool { return o.Name == vf.SourceContainer })
			if j < 0 {
				if errs[i] == nil {
					errs[i] = fmt.Errorf("volumesFrom: no container %q in the task", vf.SourceContainer)
				}
				continue
			}
			for _, m := range specs[j].Mounts {
				m.ReadOnly = m.ReadOnly || vf.ReadOnly
				specs[i].Mounts = append(specs[i].Mounts, m)
			}
		}
	}
	return specs, errs, ignored
}

// containerSpec compiles one container.
func containerSpec(t *acs.Task, c *acs.Container, name string, in specInput, ignored []string) (runtime.ContainerSpec, []string, error) {
	spec := runtime.ContainerSpec{
		Name:           name,
		Image:          c.Image,
		Entrypoint:     slices.Clone(c.EntryPoint),
		Command:        slices.Clone(c.Command),
		CPUShares:      max(c.CPU, 2),
		MemoryLimitMiB: c.Memory,
		NetworkMode:    t.NetworkMode,
		StopTimeout:    in.StopTimeout,
	}
	if c.StopTimeout > 0 {
		spec.StopTimeout = time.Duration(c.StopTimeout) * time.Second
	}
	joined := false
	switch spec.NetworkMode {
	case "awsvpc":
		if in.AwsvpcMode != "" {
			spec.NetworkMode, joined = in.AwsvpcMode, true
			break
		}
		// Without a task network namespace (which the agent does not make;
		// the Fargate fleet does), awsvpc tasks run on the bridge.
		spec.NetworkMode = "bridge"
	case "":
		spec.NetworkMode = "bridge"
	}
	if c.Privileged != nil {
		spec.Privileged = *c.Privileged
	}
	if lp := c.LinuxParameters; lp != nil && lp.InitProcessEnabled != nil {
		spec.Init = *lp.InitProcessEnabled
	}
	if c.Overrides != "" {
		var ov struct {
			Command []string `json:"command"`
		}
		if err := json.Unmarshal([]byte(c.Overrides), &ov); err != nil {
			return spec, ignored, fmt.Errorf("overrides: %w", err)
		}
		if ov.Command != nil {
			spec.Command = ov.Command
		}
	}

	var cfg dockerConfigJSON
	var host dockerHostConfigJSON
	if dc := c.DockerConfig; dc != nil {
		if dc.Config != "" {
			if err := json.Unmarshal([]byte(dc.Config), &cfg); err != nil {
				return spec, ignored, fmt.Errorf("dockerConfig.config: %w", err)
			}
		}
		if dc.HostConfig != "" {
			if err := json.Unmarshal([]byte(dc.HostConfig), &host); err != nil {
				return spec, ignored, fmt.Errorf("dockerConfig.hostConfig: %w", err)
			}
		}
	}

	// Environment: the task's map (sorted, for a stable spec), then any Env
	// the backend put in the Docker config.
	for _, k := range slices.Sorted(maps.Keys(c.Environment)) {
		spec.Env = append(spec.Env, k+"="+c.Environment[k])
	}
	spec.Env = append(spec.Env, cfg.Env...)

	spec.Labels = maps.Clone(cfg.Labels)
	if spec.Labels == nil {
		spec.Labels = map[string]string{}
	}
	spec.Labels[runtime.LabelTaskARN] = t.ARN
	spec.Labels[runtime.LabelContainerName] = c.Name
	spec.Labels[runtime.LabelCluster] = in.Cluster
	spec.Labels[runtime.LabelTaskFamily] = t.Family
	spec.Labels[runtime.LabelTaskRevision] = t.Version

	spec.WorkingDir, spec.User, spec.Hostname = cfg.WorkingDir, cfg.User, cfg.Hostname
	if hc := cfg.Healthcheck; hc != nil && len(hc.Test) > 0 && !(len(hc.Test) == 1 && hc.Test[0] == "NONE") {
		spec.HealthCheck = &runtime.HealthCheck{
			Test:        slices.Clone(hc.Test),
			Interval:    time.Duration(hc.Interval),
			Timeout:     time.Duration(hc.Timeout),
			StartPeriod: time.Duration(hc.StartPeriod),
			Retries:     hc.Retries,
		}
	}

	if host.MemoryReservation > 0 {
		spec.MemoryReservation = (host.MemoryReservation + 1<<20 - 1) >> 20
	}
	for _, u := range host.Ulimits {
		spec.Ulimits = append(spec.Ulimits, runtime.Ulimit{Name: u.Name, Soft: u.Soft, Hard: u.Hard})
	}
	spec.ExtraHosts = slices.Clone(host.ExtraHosts)
	spec.ReadOnly = host.ReadonlyRootfs
	spec.Privileged = spec.Privileged || host.Privileged
	if host.Init != nil {
		spec.Init = *host.Init
	}
	if host.NetworkMode != "" {
		spec.NetworkMode = host.NetworkMode
	}
	for key, set := range map[string]bool{
		"Dns": len(host.Dns) > 0, "DnsSearch": len(host.DnsSearch) > 0, "SecurityOpt": len(host.SecurityOpt) > 0,
		"LogConfig": host.LogConfig != nil && host.LogConfig.Type != "" && host.LogConfig.Type != "json-file",
		"Links":     len(c.Links) > 0,
	} {
		if set && !slices.Contains(ignored, key) {
			ignored = append(ignored, key)
		}
	}
	slices.Sort(ignored)

	for _, pm := range c.PortMappings {
		proto := strings.ToLower(pm.Protocol)
		if proto == "" {
			proto = "tcp"
		}
		if pm.ContainerPortRange != "" {
			lo, hi, err := portRange(pm.ContainerPortRange)
			if err != nil {
				return spec, ignored, err
			}
			for p := lo; p <= hi; p++ {
				spec.Ports = append(spec.Ports, runtime.PortBinding{ContainerPort: p, Protocol: proto})
			}
			continue
		}
		if pm.ContainerPort <= 0 || pm.ContainerPort > 65535 || pm.HostPort < 0 || pm.HostPort > 65535 {
			return spec, ignored, fmt.Errorf("port mapping %d:%d: out of range", pm.HostPort, pm.ContainerPort)
		}
		spec.Ports = append(spec.Ports, runtime.PortBinding{ContainerPort: int(pm.ContainerPort), HostPort: int(pm.HostPort), Protocol: proto})
	}
	if joined {
		spec.Ports = nil
	}

	for _, mp := range c.MountPoints {
		m, err := volumeMount(t, mp, in.VolumesDir)
		if err != nil {
			return spec, ignored, err
		}
		spec.Mounts = append(spec.Mounts, m)
	}
	return spec, ignored, nil
}

// portRange parses "lo-hi".
func portRange(s string) (int, int, error) {
	a, b, ok := strings.Cut(s, "-")
	lo, err1 := strconv.Atoi(strings.TrimSpace(a))
	hi, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil || lo < 1 || hi > 65535 || lo > hi {
		return 0, 0, fmt.Errorf("containerPortRange %q: want lo-hi within 1-65535", s)
	}
	return lo, hi, nil
}

// volumeMount resolves a mount point against the task's volumes: a host
// volume binds its source path (or a scratch directory under volumesDir
// when it has none); a Docker volume is the named volume itself when
// shared, else one named after the task.
func volumeMount(t *acs.Task, mp acs.MountPoint, volumesDir string) (runtime.Mount, error) {
	i := slices.IndexFunc(t.Volumes, func(v acs.Volume) bool { return v.Name == mp.SourceVolume })
	if i < 0 {
		return runtime.Mount{}, fmt.Errorf("mount point %q: no such volume in the task", mp.SourceVolume)
	}
	if mp.ContainerPath == "" {
		return runtime.Mount{}, fmt.Errorf("mount point %q: no container path", mp.SourceVolume)
	}
	v := t.Volumes[i]
	m := runtime.Mount{Target: mp.ContainerPath, ReadOnly: mp.ReadOnly}
	switch {
	case v.EFSVolumeConfiguration != nil || v.FSxWindowsFileServerVolumeConfiguration != nil || v.EBSVolumeConfiguration != nil:
		return runtime.Mount{}, fmt.Errorf("volume %q: only host and docker volumes are supported by this agent", v.Name)
	case v.DockerVolumeConfiguration != nil || v.Type == "docker":
		m.Volume = true
		m.Source = "ecs-" + taskID(t.ARN) + "-" + v.Name
		if d := v.DockerVolumeConfiguration; d != nil && d.Scope == "shared" {
			m.Source = v.Name
		}
	case v.Host != nil && v.Host.SourcePath != "":
		m.Source = v.Host.SourcePath
	case v.Type == "" || v.Type == "host":
		m.Source = filepath.Join(volumesDir, taskID(t.ARN), v.Name)
	default:
		return runtime.Mount{}, fmt.Errorf("volume %q: %s volumes are not supported by this agent", v.Name, v.Type)
	}
	return m, nil
}
