package agent

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/acs"
	"github.com/berth-dev/berth/internal/runtime"
	"github.com/berth-dev/berth/internal/testkit"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/metadata")

// golden compares v's indented JSON with testdata/metadata/<name>, or
// rewrites the file with -update.
func golden(t *testing.T, name string, v any) []byte {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "metadata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run with -update to accept):\n got: %s\nwant: %s", name, got, want)
	}
	return got
}

// The member names of the ECS agent's task metadata v4 answers, per
// object, from AWS's documentation ("Task metadata endpoint version 4":
// the JSON response reference and its examples) and the agent's response
// types (ecs-agent/tmds/handlers/v4/state, v2, response). Every member the
// endpoint sends must be one of these; the always members must be there.
var (
	docTaskMembers = []string{"Cluster", "TaskARN", "Family", "Revision", "DesiredStatus", "KnownStatus",
		"Limits", "PullStartedAt", "PullStoppedAt", "ExecutionStoppedAt", "AvailabilityZone", "TaskTags",
		"ContainerInstanceTags", "LaunchType", "Errors", "Containers", "VPCID", "ServiceName", "ClockDrift",
		"EphemeralStorageMetrics", "FaultInjectionEnabled"}
	docTaskAlways      = []string{"Cluster", "TaskARN", "Family", "Revision", "KnownStatus"}
	docContainerMember = []string{"DockerId", "Name", "DockerName", "Image", "ImageID", "Ports", "Labels",
		"DesiredStatus", "KnownStatus", "ExitCode", "Limits", "CreatedAt", "StartedAt", "FinishedAt", "Type",
		"Health", "Volumes", "LogDriver", "LogOptions", "ContainerARN", "Networks", "Snapshotter", "RestartCount"}
	docContainerAlways = []string{"DockerId", "Name", "DockerName", "Image", "ImageID", "DesiredStatus",
		"KnownStatus", "Limits", "Type"}
	docLimitsMembers  = []string{"CPU", "Memory"}
	docNetworkMembers = []string{"NetworkMode", "IPv4Addresses", "IPv6Addresses", "AttachmentIndex", "MACAddress",
		"IPv4SubnetCIDRBlock", "IPv6SubnetCIDRBlock", "DomainNameServers", "DomainNameSearchList",
		"PrivateDNSName", "SubnetGatewayIpv4Address", "SubnetGatewayIpv6Address"}
	docPortMembers   = []string{"ContainerPort", "Protocol", "HostPort", "HostIp"}
	docVolumeMembers = []string{"DockerName", "Source", "Destination"}
	docHealthMembers = []string{"status", "statusSince", "exitCode", "output"}
	// Docker's stats object (the Engine API's ContainerStats) plus ECS's
	// network_rate_stats.
	docStatsMembers = []string{"read", "preread", "pids_stats", "blkio_stats", "num_procs", "storage_stats",
		"cpu_stats", "precpu_stats", "memory_stats", "name", "id", "networks", "network_rate_stats"}
	docRateMembers = []string{"rx_bytes_per_sec", "tx_bytes_per_sec"}
)

// checkMembers checks the members of a JSON object against the documented
// ones.
func checkMembers(t *testing.T, what string, raw json.RawMessage, allowed, always []string) map[string]json.RawMessage {
	t.Helper()
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		t.Fatalf("%s: %v in %s", what, err, raw)
	}
	for k := range obj {
		if !slices.Contains(allowed, k) {
			t.Errorf("%s: member %q is not in the documented answer", what, k)
		}
	}
	for _, k := range always {
		if _, ok := obj[k]; !ok {
			t.Errorf("%s: member %q is missing", what, k)
		}
	}
	return obj
}

// checkContainerMembers checks a container object and the objects in it.
func checkContainerMembers(t *testing.T, raw json.RawMessage) {
	t.Helper()
	c := checkMembers(t, "container", raw, docContainerMember, docContainerAlways)
	checkMembers(t, "container Limits", c["Limits"], docLimitsMembers, docLimitsMembers)
	each := func(what string, list json.RawMessage, allowed []string) {
		var items []json.RawMessage
		if list != nil {
			if err := json.Unmarshal(list, &items); err != nil {
				t.Fatalf("%s: %v", what, err)
			}
		}
		for _, it := range items {
			checkMembers(t, what, it, allowed, nil)
		}
	}
	each("Networks", c["Networks"], docNetworkMembers)
	each("Ports", c["Ports"], docPortMembers)
	each("Volumes", c["Volumes"], docVolumeMembers)
	if h := c["Health"]; h != nil {
		checkMembers(t, "Health", h, docHealthMembers, []string{"status"})
	}
}

// checkTaskMembers checks a task object and its containers.
func checkTaskMembers(t *testing.T, raw json.RawMessage) map[string]json.RawMessage {
	t.Helper()
	task := checkMembers(t, "task", raw, docTaskMembers, docTaskAlways)
	if l := task["Limits"]; l != nil {
		checkMembers(t, "task Limits", l, docLimitsMembers, nil)
	}
	var cs []json.RawMessage
	if err := json.Unmarshal(task["Containers"], &cs); err != nil {
		t.Fatalf("Containers: %v", err)
	}
	for _, c := range cs {
		checkContainerMembers(t, c)
	}
	return task
}

// metaFixture is a snapshot of a bridge task whose first container runs
// (ports, a health check, a volume and a bind mount) and whose second is
// not created yet.
func metaFixture() (metaSnapshot, []runtimeInfo) {
	at := func(s int) time.Time { return time.Date(2026, 3, 4, 5, 6, s, 123456789, time.UTC) }
	task := &acs.Task{
		ARN: testTaskARN, TaskClusterARN: "arn:aws:ecs:us-east-1:000000000000:cluster/c1",
		Family: "web", Version: "7", NetworkMode: "bridge", LaunchType: "EC2", CPU: 0.5, Memory: 512,
		Containers: []acs.Container{
			{Name: "app", Image: "nginx:latest", CPU: 256, Memory: 128, Essential: true,
				ContainerARN: "arn:aws:ecs:us-east-1:000000000000:container/c1/0123456789abcdef0123456789abcdef/6f1c1f9a-3e4b-4f64-9a55-0a0b0c0d0e0f"},
			{Name: "sidecar", Image: "busybox", Memory: 64},
		},
	}
	labels := func(name string) map[string]string {
		return map[string]string{
			runtime.LabelCluster: "c1", runtime.LabelContainerName: name, runtime.LabelTaskARN: testTaskARN,
			runtime.LabelTaskFamily: "web", runtime.LabelTaskRevision: "7",
		}
	}
	snap := metaSnapshot{
		task: task,
		specs: []runtime.ContainerSpec{
			{Name: "ecs-web-7-app-00112233445566778899", Image: "nginx:latest", NetworkMode: "bridge", Labels: labels("app"),
				HealthCheck: &runtime.HealthCheck{Test: []string{"CMD", "true"}},
				Mounts: []runtime.Mount{{Source: "ecs-0123456789abcdef0123456789abcdef-cache", Target: "/cache", Volume: true},
					{Source: "/srv/static", Target: "/usr/share/nginx/html", ReadOnly: true}}},
			{Name: "ecs-web-7-sidecar-aabbccddeeff00112233", Image: "busybox", NetworkMode: "bridge", Labels: labels("sidecar")},
		},
		desired: statusRunning, status: statusRunning,
		pullStart: at(1), pullStop: at(2),
		containers: []containerState{
			{Name: "app", RuntimeName: "ecs-web-7-app-00112233445566778899",
				RuntimeID: "9e3898ea58a3baf921efd953c2442b7a04eb7f475fc4d77b0b4beaae3cbac713", Status: statusRunning,
				Ports:  []runtime.PortBinding{{ContainerPort: 80, HostPort: 32768, Protocol: "tcp", HostIP: "0.0.0.0"}},
				Health: runtime.HealthHealthy, StartedAt: at(4), MetadataToken: "3f0a8c52-7a0e-4d8b-9d7c-6e2f1b0a9c11"},
			{Name: "sidecar", RuntimeName: "ecs-web-7-sidecar-aabbccddeeff00112233", MetadataToken: "b2c4e6f8-0a1b-4c2d-8e3f-405162738495"},
		},
		healthAt: []time.Time{at(9), {}},
	}
	infos := []runtimeInfo{
		{imageID: "sha256:b3a5ee5ee3c10a074ff61cbe9c5d5c26cf8525eba7d720b5d73096d451e98aa1", createdAt: at(3), ip: "172.17.0.5"},
		{},
	}
	return snap, infos
}

// awsvpcFixture is the fixture as an awsvpc task whose containers joined
// a pause container (the Fargate fleet's), the first one stopped.
func awsvpcFixture() (metaSnapshot, []runtimeInfo) {
	snap, infos := metaFixture()
	task := *snap.task
	task.NetworkMode, task.LaunchType = "awsvpc", "FARGATE"
	task.Containers = slices.Clone(task.Containers)
	task.Containers[0].PortMappings = []acs.PortMapping{{ContainerPort: 80}, {ContainerPort: 53, Protocol: "UDP"}}
	snap.task = &task
	snap.specs = slices.Clone(snap.specs)
	for i := range snap.specs {
		snap.specs[i].NetworkMode = "container:berth-fargate-pause-0123456789abcdef0123456789abcdef"
		snap.specs[i].Ports = nil
	}
	snap.containers = slices.Clone(snap.containers)
	code := 137
	c := &snap.containers[0]
	c.Status, c.ExitCode, c.Ports = statusStopped, &code, nil
	c.FinishedAt = c.StartedAt.Add(time.Minute)
	snap.desired, snap.status = statusStopped, statusStopped
	snap.execStop = c.FinishedAt
	infos[0].ip = ""
	infos[0].net = &runtime.NetworkInfo{
		Gateway: netip.MustParseAddr("10.213.0.1"), Subnet: netip.MustParsePrefix("10.213.0.0/16"),
		IPAddress: netip.MustParseAddr("10.213.0.7"), MACAddress: "02:42:0a:d5:00:07",
	}
	return snap, infos
}

func TestMetadata_Shapes(t *testing.T) {
	for _, tc := range []struct {
		name    string
		fixture func() (metaSnapshot, []runtimeInfo)
		cluster string
	}{
		{"bridge", metaFixture, "c1"},
		{"awsvpc", awsvpcFixture, ""}, // an Engine: the cluster is the task's ARN, as on Fargate
	} {
		t.Run(tc.name, func(t *testing.T) {
			snap, infos := tc.fixture()
			checkContainerMembers(t, golden(t, tc.name+"_container.golden.json", containerResponse(&snap, 0, infos[0])))
			checkContainerMembers(t, golden(t, tc.name+"_container_pending.golden.json", containerResponse(&snap, 1, infos[1])))
			task := checkTaskMembers(t, golden(t, tc.name+"_task.golden.json", taskResponse(&snap, tc.cluster, infos)))
			var cluster string
			_ = json.Unmarshal(task["Cluster"], &cluster)
			if want := tc.cluster; (want != "" && cluster != want) || (want == "" && cluster != snap.task.TaskClusterARN) {
				t.Errorf("Cluster %q", cluster)
			}
		})
	}
}

func TestMetadata_Stats(t *testing.T) {
	m := &metadataServer{last: map[string]statsSample{}}
	sample := func(read string, cpu, rx, tx int) json.RawMessage {
		return json.RawMessage(`{"read":"` + read + `","preread":"0001-01-01T00:00:00Z","pids_stats":{"current":1},` +
			`"cpu_stats":{"cpu_usage":{"total_usage":` + itoa(cpu) + `},"system_cpu_usage":1000,"online_cpus":2},` +
			`"precpu_stats":{"cpu_usage":{"total_usage":0}},"memory_stats":{"usage":1024,"limit":4096},` +
			`"name":"/ecs-web-7-app-00112233445566778899","id":"abc",` +
			`"networks":{"eth0":{"rx_bytes":` + itoa(rx) + `,"tx_bytes":` + itoa(tx) + `}}}`)
	}
	first, err := m.decorateStats("abc", sample("2026-03-04T05:06:10Z", 100, 1000, 500))
	if err != nil {
		t.Fatal(err)
	}
	second, err := m.decorateStats("abc", sample("2026-03-04T05:06:12Z", 300, 5000, 1500))
	if err != nil {
		t.Fatal(err)
	}
	for name, raw := range map[string]json.RawMessage{"stats_first.golden.json": first, "stats_second.golden.json": second} {
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatal(err)
		}
		obj := checkMembers(t, name, golden(t, name, v), docStatsMembers, []string{"read", "cpu_stats", "memory_stats", "network_rate_stats"})
		checkMembers(t, name+" network_rate_stats", obj["network_rate_stats"], docRateMembers, docRateMembers)
	}
	var got struct {
		PreRead time.Time `json:"preread"`
		PreCPU  struct {
			Usage struct {
				Total int `json:"total_usage"`
			} `json:"cpu_usage"`
		} `json:"precpu_stats"`
		Rate struct {
			Rx float64 `json:"rx_bytes_per_sec"`
			Tx float64 `json:"tx_bytes_per_sec"`
		} `json:"network_rate_stats"`
	}
	if err := json.Unmarshal(second, &got); err != nil {
		t.Fatal(err)
	}
	if got.PreCPU.Usage.Total != 100 || !got.PreRead.Equal(time.Date(2026, 3, 4, 5, 6, 10, 0, time.UTC)) || got.Rate.Rx != 2000 || got.Rate.Tx != 500 {
		t.Errorf("second sample %+v", got)
	}
	// A stopped container's zero sample has no rates to take from.
	zero, err := m.decorateStats("abc", json.RawMessage(`{"read":"0001-01-01T00:00:00Z","name":"/x","id":"abc"}`))
	if err != nil || strings.Contains(string(zero), "network_rate_stats") {
		t.Errorf("zero sample %s, %v", zero, err)
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// TestMetadata_UnknownToken checks the ECS agent's answer to an unknown
// endpoint id on every path: 404, a JSON string.
func TestMetadata_UnknownToken(t *testing.T) {
	e := newEngine(t.Context(), Config{Logger: slog.New(slog.DiscardHandler)}, nil)
	m := &metadataServer{e: e, log: e.log, last: map[string]statsSample{}}
	srv := httptest.NewServer(m.routes())
	defer srv.Close()
	const tok = "00000000-0000-4000-8000-000000000000"
	for path, want := range map[string]string{
		"/v4/" + tok:                 "V4 container metadata handler: unable to get container ID from request: unable to get docker ID from v3 endpoint ID: " + tok,
		"/v4/" + tok + "/task":       "V4 task metadata handler: unable to get task arn from request: unable to get task Arn from v3 endpoint ID: " + tok,
		"/v4/" + tok + "/stats":      "V4 container stats handler: unable to get task arn from request: unable to get task Arn from v3 endpoint ID: " + tok,
		"/v4/" + tok + "/task/stats": "V4 task stats handler: unable to get task arn from request: unable to get task Arn from v3 endpoint ID: " + tok,
		"/v3/" + tok + "/task":       "V3 task metadata handler: unable to get task arn from request: unable to get task Arn from v3 endpoint ID: " + tok,
	} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var msg string
		if resp.StatusCode != http.StatusNotFound || resp.Header.Get("Content-Type") != "application/json" ||
			json.Unmarshal(body, &msg) != nil || msg != want {
			t.Errorf("GET %s: %s %q %s", path, resp.Status, resp.Header.Get("Content-Type"), body)
		}
	}
	resp, err := http.Post(srv.URL+"/v4/"+tok, "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %s", resp.Status)
	}
}

func TestMetadata_Token(t *testing.T) {
	a, b := newMetadataToken(), newMetadataToken()
	if a == b || len(a) != 36 || a[14] != '4' || !strings.ContainsRune("89ab", rune(a[19])) {
		t.Fatalf("tokens %q %q", a, b)
	}
}

// TestMetadata_Listen checks the default listen address: the port is
// remembered in the data directory and taken again, or a new one when it
// is in use.
func TestMetadata_Listen(t *testing.T) {
	dir := t.TempDir()
	log := slog.New(slog.DiscardHandler)
	saved := func() int {
		var st metadataState
		b, err := os.ReadFile(filepath.Join(dir, metadataFile))
		if err != nil || json.Unmarshal(b, &st) != nil {
			t.Fatalf("metadata.json: %s %v", b, err)
		}
		return st.Port
	}
	port := func(ln interface{ Addr() net.Addr }) int { return ln.Addr().(*net.TCPAddr).Port }
	ln1, err := listenMetadata(dir, "", log)
	if err != nil {
		t.Fatal(err)
	}
	p := port(ln1)
	if ap, _ := netip.ParseAddrPort(ln1.Addr().String()); !ap.Addr().IsUnspecified() || saved() != p {
		t.Fatalf("listening on %s, remembered %d", ln1.Addr(), saved())
	}
	ln1.Close()
	ln2, err := listenMetadata(dir, "", log)
	if err != nil {
		t.Fatal(err)
	}
	defer ln2.Close()
	if port(ln2) != p {
		t.Fatalf("port %d after a restart, want %d", port(ln2), p)
	}
	ln3, err := listenMetadata(dir, "", log) // p is in use
	if err != nil {
		t.Fatal(err)
	}
	defer ln3.Close()
	if port(ln3) == p || saved() != port(ln3) {
		t.Fatalf("port %d (remembered %d) while %d is in use", port(ln3), saved(), p)
	}
	ln4, err := listenMetadata(dir, "127.0.0.1:0", log)
	if err != nil {
		t.Fatal(err)
	}
	defer ln4.Close()
	if ap, _ := netip.ParseAddrPort(ln4.Addr().String()); ap.Addr() != netip.MustParseAddr("127.0.0.1") {
		t.Fatalf("listening on %s", ln4.Addr())
	}
}

// TestMetadata_Env checks which containers get the endpoint's variables:
// not those without a network, none when the endpoint is off, and the
// configured address when one is given.
func TestMetadata_Env(t *testing.T) {
	for _, tc := range []struct {
		addr     string
		wantHost string // "" = no variable
	}{
		{"", "127.0.0.1"},
		{"off", ""},
		{"127.0.0.1:0", "127.0.0.1"},
	} {
		t.Run("addr="+tc.addr, func(t *testing.T) {
			dir := t.TempDir()
			rt := &specRecorder{Runtime: newSim(t, dir)}
			rec := &recorder{}
			e, err := NewEngine(EngineConfig{Runtime: rt, Reporter: rec, DataDir: dir, MetadataAddr: tc.addr,
				Backoff: Backoff{Min: 10 * time.Millisecond, Max: 50 * time.Millisecond}})
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			e.Apply(acs.Task{ARN: testTaskARN, TaskClusterARN: "arn:aws:ecs:us-east-1:000000000000:cluster/c1", Family: "f", Version: "1",
				DesiredStatus: "RUNNING", Containers: []acs.Container{
					{Name: "a", Image: "i", Essential: true},
					{Name: "b", Image: "i", Essential: true, DockerConfig: &acs.DockerConfig{HostConfig: `{"NetworkMode":"none"}`}},
				}})
			testkit.Eventually(t, 10*time.Second, "", func() error {
				if s := rec.statuses(testTaskARN); !slices.Equal(s, []string{"RUNNING"}) {
					return fmt.Errorf("reported %v", s)
				}
				return nil
			})
			rt.mu.Lock()
			defer rt.mu.Unlock()
			lookup := func(name string) string {
				for _, kv := range rt.specs[name].Env {
					if k, v, _ := strings.Cut(kv, "="); k == metadataEnvV4 {
						return v
					}
				}
				return ""
			}
			a, b := lookup("a"), lookup("b")
			u, _ := url.Parse(a)
			if b != "" || (tc.wantHost == "" && a != "") || (tc.wantHost != "" && (u == nil || u.Hostname() != tc.wantHost)) {
				t.Fatalf("a: %q, b: %q", a, b)
			}
		})
	}
}
