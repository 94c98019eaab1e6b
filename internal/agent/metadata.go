package agent

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/internal/acs"
	"github.com/berth-dev/berth/internal/runtime"
)

// The task metadata endpoint (spec/ecosystem.md §1.6): every container the
// engine creates gets ECS_CONTAINER_METADATA_URI_V4 (and the v3
// ECS_CONTAINER_METADATA_URI, served by the same handlers) pointing at
// http://<host>:<port>/v4/<token>, where token is the container's own
// random id, kept in the task state file so that it survives a restart.
//
//	GET /v4/<token>             the container's metadata
//	GET /v4/<token>/task        the task's, with every container
//	GET /v4/<token>/taskWithTags the same (tags are not known to the engine)
//	GET /v4/<token>/stats       the container's Docker stats (+ network_rate_stats)
//	GET /v4/<token>/task/stats  Docker id → stats, for every container of the task
//
// # Where it listens, and the address containers use
//
// The ECS agent listens on 127.0.0.1:51679 and relies on ecs-init's
// iptables DNAT from 169.254.170.2:80. Berth changes no firewall rule:
// the engine listens on 0.0.0.0 on one port (MetadataAddr; by default the
// port the data directory remembers in metadata.json, a free one the first
// time, so that the URL of a running container stays valid after a
// restart), and gives each container the address at which it reaches the
// host from its network: the gateway of its Docker network (docker0's
// 172.17.0.1 on the default bridge, the berth-fargate network's gateway
// for the Fargate fleet's awsvpc tasks, which join a pause container
// there), as runtime.NetworkReader tells, and 127.0.0.1 for host
// networking (and on runtimes that cannot tell, such as the simulator,
// whose containers are this machine's processes). Containers reach the
// host's addresses through the INPUT chain, which Docker leaves alone
// (verified on Docker 20.10 with INPUT policy ACCEPT: the docker runtime's
// TestRuntime_HostGateway, and TestMetadata_Docker and
// TestMetadata_DockerAwsvpc here); a host firewall that drops what comes
// in from Docker's bridges must let the port through. With MetadataAddr
// naming an address, every URL uses that address. A container with
// network mode "none" gets no URL.
//
// Anyone who can reach the port and knows a token reads that task's
// metadata (never credentials); tokens are 122 random bits, given only to
// their container.
const (
	metadataEnvV4   = "ECS_CONTAINER_METADATA_URI_V4"
	metadataEnvV3   = "ECS_CONTAINER_METADATA_URI"
	metadataOff     = "off"
	metadataFile    = "metadata.json"
	metadataTimeout = 10 * time.Second // to read a request's header
)

// newMetadataToken returns a random version-4 UUID, the form of the ECS
// agent's v3 endpoint ids.
func newMetadataToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// metadataServer serves the endpoint for an engine. It is started before
// the engine's runners and closed after them.
type metadataServer struct {
	e    *engine
	log  *slog.Logger
	ln   net.Listener
	srv  *http.Server
	host netip.Addr // the address listened on; unspecified: every one
	port int
	done chan struct{} // closed when Serve has returned

	mu   sync.Mutex
	last map[string]statsSample // the previous stats sample, by runtime id
}

// statsSample is what a stats answer needs of the previous sample.
type statsSample struct {
	read   time.Time
	cpu    json.RawMessage
	rx, tx uint64
}

// metadataState is <data-dir>/metadata.json.
type metadataState struct {
	Port int `json:"port"`
}

// startMetadata starts the endpoint on cfg.MetadataAddr; it does nothing
// when that is "off". It must run before the engine's first runner. A
// failure is logged and the engine runs without the endpoint: tasks
// matter more than their metadata.
func (e *engine) startMetadata() {
	addr := e.cfg.MetadataAddr
	if addr == metadataOff {
		return
	}
	ln, err := listenMetadata(e.cfg.DataDir, addr, e.log)
	if err != nil {
		e.log.Error("the task metadata endpoint cannot listen; containers get no ECS_CONTAINER_METADATA_URI_V4", "addr", addr, "err", err)
		return
	}
	ap, _ := netip.ParseAddrPort(ln.Addr().String())
	m := &metadataServer{
		e: e, log: e.log, ln: ln, host: ap.Addr().Unmap(), port: int(ap.Port()),
		done: make(chan struct{}), last: map[string]statsSample{},
	}
	m.srv = &http.Server{
		Handler:           m.routes(),
		ReadHeaderTimeout: metadataTimeout,
		BaseContext:       func(net.Listener) context.Context { return e.ctx },
		ErrorLog:          slog.NewLogLogger(e.log.Handler(), slog.LevelDebug),
	}
	go func() {
		defer close(m.done)
		if err := m.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			e.log.Error("the task metadata endpoint stopped", "err", err)
		}
	}()
	e.meta = m
	e.log.Info("task metadata endpoint listening", "addr", ln.Addr().String())
}

// stopMetadata stops the endpoint, waiting for the requests in progress
// (whose runtime calls end with the engine's context, ended already).
func (e *engine) stopMetadata() {
	m := e.meta
	if m == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := m.srv.Shutdown(ctx); err != nil {
		m.srv.Close()
	}
	<-m.done
}

// listenMetadata listens on addr, or, for "", on 0.0.0.0 at the port
// remembered in the data directory (a free one when there is none or it
// is taken), remembering the port it got.
func listenMetadata(dataDir, addr string, log *slog.Logger) (net.Listener, error) {
	if addr != "" {
		return net.Listen("tcp", addr)
	}
	path := filepath.Join(dataDir, metadataFile)
	var st metadataState
	if b, err := os.ReadFile(path); err == nil {
		_ = json.Unmarshal(b, &st)
	}
	if st.Port > 0 && st.Port < 65536 {
		ln, err := net.Listen("tcp", net.JoinHostPort("0.0.0.0", strconv.Itoa(st.Port)))
		if err == nil {
			return ln, nil
		}
		log.Warn("the task metadata endpoint's port is taken; containers created before this run lose their endpoint", "port", st.Port, "err", err)
	}
	ln, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		return nil, err
	}
	st.Port = ln.Addr().(*net.TCPAddr).Port
	if err := writeJSON(path, st, true); err != nil {
		log.Warn("remembering the task metadata endpoint's port failed", "err", err)
	}
	return ln, nil
}

// metadataEnv returns env with the endpoint's variables for a container of
// spec added (env itself without an endpoint, or for network mode
// "none").
func (e *engine) metadataEnv(ctx context.Context, spec *runtime.ContainerSpec, token string) []string {
	m := e.meta
	if m == nil || token == "" || spec.NetworkMode == "none" {
		return spec.Env
	}
	host := m.host
	if !host.IsValid() || host.IsUnspecified() {
		var ok bool
		if host, ok = e.hostAddress(ctx, spec.NetworkMode); !ok {
			return spec.Env
		}
	}
	base := "http://" + net.JoinHostPort(host.String(), strconv.Itoa(m.port))
	env := slices.Clip(spec.Env)
	return append(env, metadataEnvV4+"="+base+"/v4/"+token, metadataEnvV3+"="+base+"/v3/"+token)
}

// hostAddress returns the address at which a container of the network
// mode reaches the host (see the comment at the top); false for none.
func (e *engine) hostAddress(ctx context.Context, mode string) (netip.Addr, bool) {
	loopback := netip.AddrFrom4([4]byte{127, 0, 0, 1})
	switch mode {
	case "none":
		return netip.Addr{}, false
	case "host":
		return loopback, true
	}
	nr, ok := e.rt.(runtime.NetworkReader)
	if !ok {
		return loopback, true
	}
	info, err := nr.NetworkInfo(ctx, mode)
	if err != nil || !info.Gateway.IsValid() {
		if err != nil && ctx.Err() == nil {
			e.log.Warn("no address of the host on a container's network; it gets no ECS_CONTAINER_METADATA_URI_V4", "networkMode", mode, "err", err)
		}
		return netip.Addr{}, false
	}
	return info.Gateway, true
}

// forgetStats drops the stats samples of removed containers.
func (m *metadataServer) forgetStats(ids []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, id := range ids {
		delete(m.last, id)
	}
}

// routes serves v4, and v3 with the same handlers.
func (m *metadataServer) routes() http.Handler {
	mux := http.NewServeMux()
	for _, v := range []string{"v3", "v4"} {
		V := strings.ToUpper(v)
		mux.HandleFunc("GET /"+v+"/{token}", m.containerHandler(V))
		mux.HandleFunc("GET /"+v+"/{token}/task", m.taskHandler(V))
		mux.HandleFunc("GET /"+v+"/{token}/taskWithTags", m.taskHandler(V))
		mux.HandleFunc("GET /"+v+"/{token}/stats", m.statsHandler(V))
		mux.HandleFunc("GET /"+v+"/{token}/task/stats", m.taskStatsHandler(V))
	}
	return mux
}

// writeMetadataJSON writes v as JSON with status code, as the ECS agent
// does (errors are a JSON string).
func writeMetadataJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code, b = http.StatusInternalServerError, []byte("{}")
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

// The ECS agent's reasons for an unknown endpoint id.
func noContainerReason(token string) string {
	return "unable to get container ID from request: unable to get docker ID from v3 endpoint ID: " + token
}

func noTaskReason(token string) string {
	return "unable to get task arn from request: unable to get task Arn from v3 endpoint ID: " + token
}

func (m *metadataServer) containerHandler(v string) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		token := req.PathValue("token")
		r, i := m.e.byToken(token)
		if r == nil {
			writeMetadataJSON(w, http.StatusNotFound, v+" container metadata handler: "+noContainerReason(token))
			return
		}
		snap := r.metaSnapshot()
		infos := m.runtimeInfo(req.Context(), &snap, []int{i})
		writeMetadataJSON(w, http.StatusOK, containerResponse(&snap, i, infos[0]))
	}
}

func (m *metadataServer) taskHandler(v string) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		token := req.PathValue("token")
		r, _ := m.e.byToken(token)
		if r == nil {
			writeMetadataJSON(w, http.StatusNotFound, v+" task metadata handler: "+noTaskReason(token))
			return
		}
		snap := r.metaSnapshot()
		all := make([]int, len(snap.containers))
		for i := range all {
			all[i] = i
		}
		infos := m.runtimeInfo(req.Context(), &snap, all)
		writeMetadataJSON(w, http.StatusOK, taskResponse(&snap, m.e.cfg.Cluster, infos))
	}
}

func (m *metadataServer) statsHandler(v string) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		token := req.PathValue("token")
		r, i := m.e.byToken(token)
		if r == nil {
			writeMetadataJSON(w, http.StatusNotFound, v+" container stats handler: "+noTaskReason(token))
			return
		}
		snap := r.metaSnapshot()
		id := snap.containers[i].RuntimeID
		if id == "" {
			writeMetadataJSON(w, http.StatusNotFound, v+" container stats handler: "+noContainerReason(token))
			return
		}
		b, err := m.stats(req.Context(), id)
		if err != nil {
			m.log.Debug("task metadata: container stats failed", "id", id, "err", err)
			writeMetadataJSON(w, http.StatusInternalServerError, "Unable to get container stats for: "+id)
			return
		}
		writeMetadataJSON(w, http.StatusOK, b)
	}
}

func (m *metadataServer) taskStatsHandler(v string) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		token := req.PathValue("token")
		r, _ := m.e.byToken(token)
		if r == nil {
			writeMetadataJSON(w, http.StatusNotFound, v+" task stats handler: "+noTaskReason(token))
			return
		}
		snap := r.metaSnapshot()
		out := map[string]json.RawMessage{}
		for _, c := range snap.containers {
			if c.RuntimeID == "" {
				continue
			}
			b, err := m.stats(req.Context(), c.RuntimeID)
			if err != nil {
				// As the ECS agent: an empty object for a container
				// whose stats cannot be had.
				m.log.Debug("task metadata: container stats failed", "id", c.RuntimeID, "err", err)
				b = json.RawMessage("{}")
			}
			out[c.RuntimeID] = b
		}
		writeMetadataJSON(w, http.StatusOK, out)
	}
}

// byToken returns the runner holding the container of a metadata token,
// and the container's index; nil for an unknown token.
func (e *engine) byToken(token string) (*runner, int) {
	e.mu.Lock()
	r := e.tokens[token]
	e.mu.Unlock()
	if r == nil {
		return nil, -1
	}
	return r, slices.Index(r.tokens, token)
}

// metaSnapshot is what the metadata handlers read of a runner, copied
// under its lock.
type metaSnapshot struct {
	task       *acs.Task // immutable
	specs      []runtime.ContainerSpec
	desired    string
	status     string
	pullStart  time.Time
	pullStop   time.Time
	execStop   time.Time
	containers []containerState
	healthAt   []time.Time
}

func (r *runner) metaSnapshot() metaSnapshot {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := metaSnapshot{
		task: &r.st.Task, specs: r.specs,
		desired: r.st.Desired, status: r.st.Status,
		pullStart: r.st.PullStartedAt, pullStop: r.st.PullStoppedAt, execStop: r.st.ExecutionStoppedAt,
		containers: slices.Clone(r.st.Containers),
		healthAt:   make([]time.Time, len(r.ops)),
	}
	for i, op := range r.ops {
		s.healthAt[i] = op.healthAt
	}
	return s
}

// runtimeInfo is what the runtime tells of a container for its metadata.
type runtimeInfo struct {
	imageID   string
	createdAt time.Time
	ip        string
	// net, for a container that joined an awsvpc task's namespace, is the
	// namespace's network.
	net *runtime.NetworkInfo
}

// runtimeInfo inspects the given containers of a snapshot (those created);
// the result is indexed like snap.containers. What cannot be had is left
// out of the answer rather than failing it.
func (m *metadataServer) runtimeInfo(ctx context.Context, snap *metaSnapshot, idx []int) []runtimeInfo {
	out := make([]runtimeInfo, len(snap.containers))
	nets := map[string]*runtime.NetworkInfo{} // by network mode
	nr, _ := m.e.rt.(runtime.NetworkReader)
	for _, i := range idx {
		c := &snap.containers[i]
		if c.RuntimeID == "" {
			continue
		}
		if st, err := m.e.rt.Inspect(ctx, c.RuntimeID); err == nil {
			out[i] = runtimeInfo{imageID: st.ImageID, createdAt: st.CreatedAt, ip: st.IPAddress}
		}
		mode := snap.specs[i].NetworkMode
		if snap.task.NetworkMode != "awsvpc" || !strings.HasPrefix(mode, "container:") || nr == nil {
			continue
		}
		info, ok := nets[mode]
		if !ok {
			if ni, err := nr.NetworkInfo(ctx, mode); err == nil {
				info = &ni
			}
			nets[mode] = info
		}
		out[i].net = info
	}
	return out
}

// The response shapes of the ECS agent's task metadata v4
// (ecs-agent/tmds/handlers/v4/state and v2, response), member for member
// and in its order; the docs' examples show the same names.
type (
	v4Task struct {
		Cluster               string            `json:"Cluster"`
		TaskARN               string            `json:"TaskARN"`
		Family                string            `json:"Family"`
		Revision              string            `json:"Revision"`
		DesiredStatus         string            `json:"DesiredStatus,omitempty"`
		KnownStatus           string            `json:"KnownStatus"`
		Limits                *v4Limits         `json:"Limits,omitempty"`
		PullStartedAt         *time.Time        `json:"PullStartedAt,omitempty"`
		PullStoppedAt         *time.Time        `json:"PullStoppedAt,omitempty"`
		ExecutionStoppedAt    *time.Time        `json:"ExecutionStoppedAt,omitempty"`
		AvailabilityZone      string            `json:"AvailabilityZone,omitempty"`
		TaskTags              map[string]string `json:"TaskTags,omitempty"`
		ContainerInstanceTags map[string]string `json:"ContainerInstanceTags,omitempty"`
		LaunchType            string            `json:"LaunchType,omitempty"`
		Containers            []v4Container     `json:"Containers,omitempty"`
		VPCID                 string            `json:"VPCID,omitempty"`
		ServiceName           string            `json:"ServiceName,omitempty"`
		FaultInjectionEnabled bool              `json:"FaultInjectionEnabled"`
	}
	v4Container struct {
		DockerID      string            `json:"DockerId"`
		Name          string            `json:"Name"`
		DockerName    string            `json:"DockerName"`
		Image         string            `json:"Image"`
		ImageID       string            `json:"ImageID"`
		Ports         []v4Port          `json:"Ports,omitempty"`
		Labels        map[string]string `json:"Labels,omitempty"`
		DesiredStatus string            `json:"DesiredStatus"`
		KnownStatus   string            `json:"KnownStatus"`
		ExitCode      *int              `json:"ExitCode,omitempty"`
		Limits        v4Limits          `json:"Limits"`
		CreatedAt     *time.Time        `json:"CreatedAt,omitempty"`
		StartedAt     *time.Time        `json:"StartedAt,omitempty"`
		FinishedAt    *time.Time        `json:"FinishedAt,omitempty"`
		Type          string            `json:"Type"`
		Health        *v4Health         `json:"Health,omitempty"`
		Volumes       []v4Volume        `json:"Volumes,omitempty"`
		LogDriver     string            `json:"LogDriver,omitempty"`
		LogOptions    map[string]string `json:"LogOptions,omitempty"`
		ContainerARN  string            `json:"ContainerARN,omitempty"`
		Networks      []v4Network       `json:"Networks,omitempty"`
	}
	v4Limits struct {
		CPU    *float64 `json:"CPU,omitempty"`
		Memory *int64   `json:"Memory,omitempty"`
	}
	v4Port struct {
		ContainerPort uint16 `json:"ContainerPort,omitempty"`
		Protocol      string `json:"Protocol,omitempty"`
		HostPort      uint16 `json:"HostPort,omitempty"`
		HostIP        string `json:"HostIp,omitempty"`
	}
	v4Health struct {
		Status string     `json:"status,omitempty"`
		Since  *time.Time `json:"statusSince,omitempty"`
	}
	v4Volume struct {
		DockerName  string `json:"DockerName,omitempty"`
		Source      string `json:"Source,omitempty"`
		Destination string `json:"Destination,omitempty"`
	}
	v4Network struct {
		NetworkMode              string   `json:"NetworkMode,omitempty"`
		IPv4Addresses            []string `json:"IPv4Addresses,omitempty"`
		AttachmentIndex          *int     `json:"AttachmentIndex,omitempty"`
		MACAddress               string   `json:"MACAddress,omitempty"`
		IPv4SubnetCIDRBlock      string   `json:"IPv4SubnetCIDRBlock,omitempty"`
		SubnetGatewayIPv4Address string   `json:"SubnetGatewayIpv4Address,omitempty"`
	}
)

// utc returns a pointer to t in UTC, nil for the zero time.
func utc(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

// containerKnownStatus is a container's status as the ECS agent names it.
func containerKnownStatus(s string) string {
	if s == statusNone {
		return "NONE"
	}
	return s
}

// taskResponse is the task's metadata. cluster is the agent's cluster;
// "" (an Engine) uses the task's cluster ARN, as Fargate does.
func taskResponse(s *metaSnapshot, cluster string, infos []runtimeInfo) v4Task {
	t := s.task
	if cluster == "" {
		cluster = t.TaskClusterARN
	}
	out := v4Task{
		Cluster: cluster, TaskARN: t.ARN, Family: t.Family, Revision: t.Version,
		DesiredStatus: s.desired, KnownStatus: s.status,
		PullStartedAt: utc(s.pullStart), PullStoppedAt: utc(s.pullStop), ExecutionStoppedAt: utc(s.execStop),
		AvailabilityZone: t.Zone, LaunchType: t.LaunchType, ServiceName: t.ServiceName,
		FaultInjectionEnabled: t.EnableFaultInjection,
	}
	if t.CPU != 0 || t.Memory != 0 {
		out.Limits = &v4Limits{}
		if t.CPU != 0 {
			out.Limits.CPU = &t.CPU
		}
		if t.Memory != 0 {
			out.Limits.Memory = &t.Memory
		}
	}
	for i := range s.containers {
		out.Containers = append(out.Containers, containerResponse(s, i, infos[i]))
	}
	return out
}

// containerResponse is the metadata of container i.
func containerResponse(s *metaSnapshot, i int, info runtimeInfo) v4Container {
	t, c, spec, def := s.task, &s.containers[i], &s.specs[i], &s.task.Containers[i]
	desired := statusRunning
	if s.desired == statusStopped {
		desired = statusStopped
	}
	cpu, mem := float64(def.CPU), def.Memory
	out := v4Container{
		DockerID: c.RuntimeID, Name: c.Name, DockerName: c.RuntimeName,
		Image: def.Image, ImageID: info.imageID, Labels: spec.Labels,
		DesiredStatus: desired, KnownStatus: containerKnownStatus(c.Status),
		ExitCode: c.ExitCode, Limits: v4Limits{CPU: &cpu, Memory: &mem},
		CreatedAt: utc(info.createdAt), StartedAt: utc(c.StartedAt), FinishedAt: utc(c.FinishedAt),
		Type: "NORMAL", ContainerARN: def.ContainerARN,
	}
	if spec.HealthCheck != nil {
		h := c.Health
		if h == "" {
			h = runtime.HealthUnknown
		}
		out.Health = &v4Health{Status: string(h), Since: utc(s.healthAt[i])}
	}
	joined := t.NetworkMode == "awsvpc" && strings.HasPrefix(spec.NetworkMode, "container:")
	if joined {
		// The task's own address serves the container ports.
		for _, pm := range def.PortMappings {
			proto := strings.ToLower(pm.Protocol)
			if proto == "" {
				proto = "tcp"
			}
			out.Ports = append(out.Ports, v4Port{ContainerPort: uint16(pm.ContainerPort), Protocol: proto, HostPort: uint16(pm.ContainerPort)})
		}
	} else {
		for _, p := range c.Ports {
			out.Ports = append(out.Ports, v4Port{ContainerPort: uint16(p.ContainerPort), Protocol: p.Protocol, HostPort: uint16(p.HostPort), HostIP: p.HostIP})
		}
	}
	for _, m := range spec.Mounts {
		if m.Volume {
			out.Volumes = append(out.Volumes, v4Volume{DockerName: m.Source, Destination: m.Target})
		} else {
			out.Volumes = append(out.Volumes, v4Volume{Source: m.Source, Destination: m.Target})
		}
	}
	if c.RuntimeID != "" {
		out.Networks = []v4Network{containerNetwork(spec.NetworkMode, joined, info)}
	}
	return out
}

// containerNetwork is a created container's network: its mode and
// address, and for an awsvpc task the interface of its namespace.
func containerNetwork(mode string, joined bool, info runtimeInfo) v4Network {
	if !joined {
		n := v4Network{NetworkMode: mode}
		if info.ip != "" {
			n.IPv4Addresses = []string{info.ip}
		}
		return n
	}
	zero := 0
	n := v4Network{NetworkMode: "awsvpc", AttachmentIndex: &zero}
	ip := info.ip
	if ni := info.net; ni != nil {
		if ni.IPAddress.IsValid() {
			ip = ni.IPAddress.String()
		}
		n.MACAddress = ni.MACAddress
		if ni.Subnet.IsValid() {
			n.IPv4SubnetCIDRBlock = ni.Subnet.Masked().String()
			if ni.Gateway.IsValid() {
				n.SubnetGatewayIPv4Address = netip.PrefixFrom(ni.Gateway, ni.Subnet.Bits()).String()
			}
		}
	}
	if ip != "" {
		n.IPv4Addresses = []string{ip}
	}
	return n
}

// stats returns the runtime's stats of a container as the endpoint serves
// them: precpu_stats and preread from the previous sample the endpoint
// took of it (the runtime's one-shot sample has none), and
// network_rate_stats (bytes per second since that sample, zero for the
// first) when the container has networks.
func (m *metadataServer) stats(ctx context.Context, id string) (json.RawMessage, error) {
	sr, ok := m.e.rt.(runtime.StatsReader)
	if !ok {
		return nil, errors.New("the runtime reports no stats")
	}
	raw, err := sr.Stats(ctx, id)
	if err != nil {
		return nil, err
	}
	return m.decorateStats(id, raw)
}

// decorateStats is the part of stats that does not call the runtime.
func (m *metadataServer) decorateStats(id string, raw json.RawMessage) (json.RawMessage, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, fmt.Errorf("stats of %s: %w", id, err)
	}
	var read time.Time
	_ = json.Unmarshal(obj["read"], &read)
	var nets map[string]struct {
		RxBytes uint64 `json:"rx_bytes"`
		TxBytes uint64 `json:"tx_bytes"`
	}
	_ = json.Unmarshal(obj["networks"], &nets)
	cur := statsSample{read: read, cpu: obj["cpu_stats"]}
	for _, n := range nets {
		cur.rx += n.RxBytes
		cur.tx += n.TxBytes
	}
	m.mu.Lock()
	prev, havePrev := m.last[id]
	if !read.IsZero() && read.After(prev.read) {
		m.last[id] = cur
	}
	m.mu.Unlock()
	fresh := havePrev && !read.IsZero() && read.After(prev.read)
	if fresh && prev.cpu != nil {
		obj["preread"], _ = json.Marshal(prev.read)
		obj["precpu_stats"] = prev.cpu
	}
	if len(nets) > 0 {
		rate := struct {
			Rx float64 `json:"rx_bytes_per_sec"`
			Tx float64 `json:"tx_bytes_per_sec"`
		}{}
		if fresh {
			dt := read.Sub(prev.read).Seconds()
			if cur.rx >= prev.rx {
				rate.Rx = float64(cur.rx-prev.rx) / dt
			}
			if cur.tx >= prev.tx {
				rate.Tx = float64(cur.tx-prev.tx) / dt
			}
		}
		obj["network_rate_stats"], _ = json.Marshal(rate)
	}
	return json.Marshal(obj)
}
