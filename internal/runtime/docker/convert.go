package docker

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"net/netip"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/go-connections/nat"

	"github.com/berth-dev/berth/internal/runtime"
)

// Limits Docker puts on the values the runtime passes through.
const (
	// minCPUShares is what an unset or too small cpu becomes: the kernel's
	// (and Docker's) smallest weight, which is also what ECS's agent uses
	// for a container without cpu units.
	minCPUShares = 2
	// maxCPUShares is the kernel's largest cgroup v1 weight.
	maxCPUShares = 262144
	// minMemoryMiB is the smallest memory limit or reservation Docker 20.10
	// and later accept. ECS documents the same floor for container memory.
	minMemoryMiB = 6
)

// createRequest is the body of one ContainerCreate call.
type createRequest struct {
	Config     *container.Config
	HostConfig *container.HostConfig
	Network    *network.NetworkingConfig // nil unless a fixed address is asked for
}

// toCreateRequest translates spec into Docker's create request. It is pure:
// every check that does not need the daemon happens here, and a bad spec
// yields an error for the caller to wrap with runtime.ErrCreate. See doc.go
// for the mapping table.
func toCreateRequest(spec runtime.ContainerSpec) (createRequest, error) {
	if spec.Image == "" {
		return createRequest{}, fmt.Errorf("no image")
	}
	cfg := &container.Config{
		Image:      spec.Image,
		Entrypoint: slices.Clone(spec.Entrypoint),
		Cmd:        slices.Clone(spec.Command),
		Env:        slices.Clone(spec.Env),
		WorkingDir: spec.WorkingDir,
		User:       spec.User,
		Hostname:   spec.Hostname,
		Labels:     maps.Clone(spec.Labels),
	}
	hc := &container.HostConfig{
		NetworkMode:    container.NetworkMode(cmp.Or(spec.NetworkMode, "bridge")),
		ExtraHosts:     slices.Clone(spec.ExtraHosts),
		Privileged:     spec.Privileged,
		ReadonlyRootfs: spec.ReadOnly,
	}
	if spec.Init {
		// Init stays nil otherwise, so that the daemon's default applies.
		init := true
		hc.Init = &init
	}

	hc.CPUShares = min(max(spec.CPUShares, minCPUShares), maxCPUShares)
	if spec.MemoryLimitMiB < 0 || spec.MemoryReservation < 0 {
		return createRequest{}, fmt.Errorf("negative memory")
	}
	if spec.MemoryLimitMiB > 0 {
		hc.Memory = max(spec.MemoryLimitMiB, minMemoryMiB) << 20
	}
	if spec.MemoryReservation > 0 {
		hc.MemoryReservation = max(spec.MemoryReservation, minMemoryMiB) << 20
	}
	for _, u := range spec.Ulimits {
		if u.Name == "" {
			return createRequest{}, fmt.Errorf("ulimit without a name")
		}
		hc.Ulimits = append(hc.Ulimits, &container.Ulimit{Name: u.Name, Soft: u.Soft, Hard: u.Hard})
	}

	if err := setPorts(cfg, hc, spec.Ports); err != nil {
		return createRequest{}, err
	}
	if err := setMounts(hc, spec.Mounts); err != nil {
		return createRequest{}, err
	}
	if hcheck := spec.HealthCheck; hcheck != nil && len(hcheck.Test) > 0 {
		cfg.Healthcheck = &container.HealthConfig{
			Test:        slices.Clone(hcheck.Test),
			Interval:    hcheck.Interval,
			Timeout:     hcheck.Timeout,
			StartPeriod: hcheck.StartPeriod,
			Retries:     hcheck.Retries,
		}
	}
	if spec.StopTimeout > 0 {
		// Docker counts whole seconds; round up so the grace is never shorter.
		s := seconds(spec.StopTimeout)
		cfg.StopTimeout = &s
	}
	req := createRequest{Config: cfg, HostConfig: hc}
	if spec.IPv4Address != "" {
		ip, err := netip.ParseAddr(spec.IPv4Address)
		if err != nil || !ip.Is4() {
			return createRequest{}, fmt.Errorf("IPv4 address %q is not an IPv4 address", spec.IPv4Address)
		}
		mode := hc.NetworkMode
		if !mode.IsUserDefined() {
			return createRequest{}, fmt.Errorf("a fixed IPv4 address needs a user-defined network, not %q", mode)
		}
		req.Network = &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{
			string(mode): {IPAMConfig: &network.EndpointIPAMConfig{IPv4Address: ip.String()}},
		}}
	}
	return req, nil
}

// setPorts fills ExposedPorts and PortBindings. Docker refuses port options
// with a container:<id> network mode (the container shares another's
// network stack, as awsvpc containers share the pause container's), so the
// ports are left out there; with host networking bindings mean nothing, so
// only ExposedPorts is kept, for Inspect to report.
func setPorts(cfg *container.Config, hc *container.HostConfig, ports []runtime.PortBinding) error {
	if len(ports) == 0 || hc.NetworkMode.IsContainer() {
		return nil
	}
	cfg.ExposedPorts = nat.PortSet{}
	bindings := nat.PortMap{}
	for _, p := range ports {
		proto := cmp.Or(strings.ToLower(p.Protocol), "tcp")
		if proto != "tcp" && proto != "udp" {
			return fmt.Errorf("port %d: protocol %q is not tcp or udp", p.ContainerPort, p.Protocol)
		}
		if p.ContainerPort < 1 || p.ContainerPort > math.MaxUint16 {
			return fmt.Errorf("container port %d out of range", p.ContainerPort)
		}
		if p.HostPort < 0 || p.HostPort > math.MaxUint16 {
			return fmt.Errorf("host port %d out of range", p.HostPort)
		}
		port := nat.Port(strconv.Itoa(p.ContainerPort) + "/" + proto)
		cfg.ExposedPorts[port] = struct{}{}
		if hc.NetworkMode.IsHost() || hc.NetworkMode.IsNone() {
			continue
		}
		b := nat.PortBinding{HostIP: p.HostIP}
		if p.HostPort != 0 {
			b.HostPort = strconv.Itoa(p.HostPort)
		}
		bindings[port] = append(bindings[port], b)
	}
	if len(bindings) > 0 {
		hc.PortBindings = bindings
	}
	return nil
}

// setMounts fills Binds and Mounts. Bind mounts and named volumes go through
// Binds, as ECS's agent does, so that a missing host directory is created
// and a missing named volume is created with the local driver; the Mounts
// API would refuse both. An anonymous volume (Volume with no Source), or a
// path with a ':' that Binds cannot express, goes through Mounts.
func setMounts(hc *container.HostConfig, mounts []runtime.Mount) error {
	for _, m := range mounts {
		if !path.IsAbs(m.Target) {
			return fmt.Errorf("mount target %q is not an absolute path", m.Target)
		}
		if !m.Volume && !path.IsAbs(m.Source) {
			return fmt.Errorf("bind mount source %q is not an absolute path", m.Source)
		}
		if m.Volume && m.Source != "" && strings.ContainsAny(m.Source, "/:") {
			return fmt.Errorf("volume name %q contains '/' or ':'", m.Source)
		}
		if m.Source == "" || strings.Contains(m.Source, ":") || strings.Contains(m.Target, ":") {
			t := mount.TypeBind
			if m.Volume {
				t = mount.TypeVolume
			}
			hc.Mounts = append(hc.Mounts, mount.Mount{Type: t, Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly})
			continue
		}
		bind := m.Source + ":" + m.Target
		if m.ReadOnly {
			bind += ":ro"
		}
		hc.Binds = append(hc.Binds, bind)
	}
	return nil
}

// seconds is d in whole seconds, rounded up, for Docker's second-granular
// stop timeouts.
func seconds(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	return int((d + time.Second - 1) / time.Second)
}

// toContainerState translates an inspect response. It is pure.
func toContainerState(c container.InspectResponse) runtime.ContainerState {
	var st runtime.ContainerState
	if c.ContainerJSONBase != nil {
		st.ID = c.ID
		st.Name = strings.TrimPrefix(c.Name, "/")
		st.ImageID = c.Image
		st.CreatedAt = parseTime(c.Created)
		if s := c.State; s != nil {
			st.State = toState(s.Status)
			st.Health = toHealth(s.Health)
			st.Error = s.Error
			st.StartedAt = parseTime(s.StartedAt)
			if st.State == runtime.StateExited {
				code := s.ExitCode
				st.ExitCode = &code
				st.FinishedAt = parseTime(s.FinishedAt)
				// Docker stamps StartedAt when its start call returns, which
				// for a process that exits at once can be after FinishedAt.
				if !st.FinishedAt.IsZero() && st.FinishedAt.Before(st.StartedAt) {
					st.StartedAt = st.FinishedAt
				}
			}
		}
	}
	if c.Config != nil {
		st.Image = c.Config.Image
		st.Labels = maps.Clone(c.Config.Labels)
	}
	if st.Health == "" {
		st.Health = runtime.HealthUnknown
	}
	if st.State == "" {
		st.State = runtime.StateCreated
	}
	var mode container.NetworkMode
	if c.ContainerJSONBase != nil && c.HostConfig != nil {
		mode = c.HostConfig.NetworkMode
	}
	if ns := c.NetworkSettings; ns != nil {
		st.Ports = toPorts(ns.Ports)
		st.IPAddress = ipAddress(ns.Networks, mode)
	}
	if mode.IsHost() && c.Config != nil {
		// With host networking a container port is the host port.
		for p := range c.Config.ExposedPorts {
			st.Ports = append(st.Ports, runtime.PortBinding{ContainerPort: p.Int(), HostPort: p.Int(), Protocol: p.Proto()})
		}
		sortPorts(st.Ports)
	}
	return st
}

// ipAddress is the container's address on the network of its network mode,
// or else on the first network (by name) that gave it one. The top-level
// NetworkSettings.IPAddress is deprecated (gone from API 1.52 on).
func ipAddress(nets map[string]*network.EndpointSettings, mode container.NetworkMode) string {
	name := string(mode)
	if name == "" || mode.IsDefault() {
		name = "bridge"
	}
	if ep := nets[name]; ep != nil && ep.IPAddress != "" {
		return ep.IPAddress
	}
	for _, name := range slices.Sorted(maps.Keys(nets)) {
		if ep := nets[name]; ep != nil && ep.IPAddress != "" {
			return ep.IPAddress
		}
	}
	return ""
}

// toPorts lists the published bindings, one per container port and host
// address (Docker publishes a dynamic port on 0.0.0.0 and on ::), sorted.
// A port that is exposed but not published has no entry.
func toPorts(pm nat.PortMap) []runtime.PortBinding {
	var out []runtime.PortBinding
	for p, bs := range pm {
		for _, b := range bs {
			hp, err := strconv.Atoi(b.HostPort)
			if err != nil || hp == 0 {
				continue
			}
			out = append(out, runtime.PortBinding{ContainerPort: p.Int(), HostPort: hp, Protocol: p.Proto(), HostIP: b.HostIP})
		}
	}
	sortPorts(out)
	return out
}

func sortPorts(ps []runtime.PortBinding) {
	slices.SortFunc(ps, func(a, b runtime.PortBinding) int {
		return cmp.Or(
			cmp.Compare(a.ContainerPort, b.ContainerPort),
			cmp.Compare(a.Protocol, b.Protocol),
			cmp.Compare(a.HostIP, b.HostIP),
			cmp.Compare(a.HostPort, b.HostPort),
		)
	})
}

// toState folds Docker's seven statuses into the runtime's three: a paused
// or restarting container still runs, a dead or removing one has ended.
func toState(s container.ContainerState) runtime.State {
	switch s {
	case container.StateCreated:
		return runtime.StateCreated
	case container.StateRunning, container.StatePaused, container.StateRestarting:
		return runtime.StateRunning
	default:
		return runtime.StateExited
	}
}

// toHealth maps Docker's health status; "starting" is not decided yet.
func toHealth(h *container.Health) runtime.Health {
	if h == nil {
		return runtime.HealthUnknown
	}
	return healthFromStatus(h.Status)
}

func healthFromStatus(s string) runtime.Health {
	switch s {
	case container.Healthy:
		return runtime.HealthHealthy
	case container.Unhealthy:
		return runtime.HealthUnhealthy
	default:
		return runtime.HealthUnknown
	}
}

// toEvent maps a Docker event message; ok is false for an event the runtime
// does not report.
func toEvent(m events.Message) (ev runtime.Event, ok bool) {
	if m.Type != events.ContainerEventType || m.Actor.ID == "" {
		return runtime.Event{}, false
	}
	ev = runtime.Event{ID: m.Actor.ID, Time: eventTime(m)}
	action := string(m.Action)
	switch {
	case action == string(events.ActionStart):
		ev.Type = runtime.EventStart
	case action == string(events.ActionDie):
		ev.Type = runtime.EventDie
	case action == string(events.ActionDestroy):
		ev.Type = runtime.EventDestroy
	case strings.HasPrefix(action, string(events.ActionHealthStatus)+":"):
		// "health_status: healthy"; newer daemons also send
		// "health_status: running" for checks during the start period.
		status := strings.TrimSpace(strings.TrimPrefix(action, string(events.ActionHealthStatus)+":"))
		if status != container.Healthy && status != container.Unhealthy {
			return runtime.Event{}, false
		}
		ev.Type = runtime.EventHealth
		ev.Health = healthFromStatus(status)
	default:
		return runtime.Event{}, false
	}
	return ev, true
}

func eventTime(m events.Message) time.Time {
	switch {
	case m.TimeNano != 0:
		return time.Unix(0, m.TimeNano).UTC()
	case m.Time != 0:
		return time.Unix(m.Time, 0).UTC()
	default:
		return time.Time{}
	}
}

// parseTime parses Docker's RFC 3339 timestamps; Docker's "never" is the
// zero time.Time ("0001-01-01T00:00:00Z"), as is anything unparsable.
func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}
