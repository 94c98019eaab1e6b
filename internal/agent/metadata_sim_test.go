package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-dev/berth/internal/acs"
	"github.com/berth-dev/berth/internal/runtime"
	"github.com/berth-dev/berth/internal/runtime/sim"
	"github.com/berth-dev/berth/internal/testkit"
)

// specRecorder is the simulator, keeping the spec of every container it
// is asked to create (its optional interfaces are the simulator's).
type specRecorder struct {
	*sim.Runtime
	mu    sync.Mutex
	specs map[string]runtime.ContainerSpec // by the container's name in its task
}

func (s *specRecorder) Create(ctx context.Context, spec runtime.ContainerSpec) (string, error) {
	s.mu.Lock()
	if s.specs == nil {
		s.specs = map[string]runtime.ContainerSpec{}
	}
	s.specs[spec.Labels[runtime.LabelContainerName]] = spec
	s.mu.Unlock()
	return s.Runtime.Create(ctx, spec)
}

// envOf returns the value of a variable in the spec of a container.
func (s *specRecorder) envOf(t *testing.T, container, key string) string {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	spec, ok := s.specs[container]
	if !ok {
		t.Fatalf("no container %q was created", container)
	}
	for _, kv := range spec.Env {
		if k, v, _ := strings.Cut(kv, "="); k == key {
			return v
		}
	}
	t.Fatalf("container %q has no %s in %q", container, key, spec.Env)
	return ""
}

// getJSON GETs url and returns the status and body.
func getJSON(t *testing.T, u string) (int, json.RawMessage) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("GET %s: Content-Type %q", u, ct)
	}
	return resp.StatusCode, b
}

// metaContainer is what the tests read of a container's metadata.
type metaContainer struct {
	DockerID    string            `json:"DockerId"`
	Name        string            `json:"Name"`
	DockerName  string            `json:"DockerName"`
	KnownStatus string            `json:"KnownStatus"`
	Labels      map[string]string `json:"Labels"`
	Limits      struct {
		CPU    float64 `json:"CPU"`
		Memory int64   `json:"Memory"`
	} `json:"Limits"`
	Networks []struct {
		NetworkMode   string   `json:"NetworkMode"`
		IPv4Addresses []string `json:"IPv4Addresses"`
		MACAddress    string   `json:"MACAddress"`
	} `json:"Networks"`
}

type metaTask struct {
	Cluster     string          `json:"Cluster"`
	TaskARN     string          `json:"TaskARN"`
	KnownStatus string          `json:"KnownStatus"`
	Containers  []metaContainer `json:"Containers"`
}

// TestMetadata_Sim runs tasks on a standalone engine on the simulator and
// reads their task metadata endpoint from the test, as their containers
// would: the URL in the container's spec answers its metadata, its task's,
// and stats, across an engine restart, until the task is cleaned up.
func TestMetadata_Sim(t *testing.T) {
	dir := t.TempDir()
	rt := &specRecorder{Runtime: newSim(t, dir)}
	ctx := t.Context()
	pauseID, err := rt.Create(ctx, runtime.ContainerSpec{Name: "pause-1", Image: "pause"})
	if err == nil {
		err = rt.Start(ctx, pauseID)
	}
	if err != nil {
		t.Fatal(err)
	}
	pause, _ := rt.Inspect(ctx, pauseID)
	rec := &recorder{}
	start := func() *Engine {
		e, err := NewEngine(EngineConfig{
			Runtime: rt, Reporter: rec, DataDir: dir,
			Logger:          slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelInfo})),
			Backoff:         Backoff{Min: 10 * time.Millisecond, Max: 50 * time.Millisecond},
			TaskCleanupWait: 300 * time.Millisecond,
			NetworkFor:      func(*acs.Task) string { return "container:pause-1" },
		})
		if err != nil {
			t.Fatalf("NewEngine: %v", err)
		}
		t.Cleanup(func() { e.Close() })
		return e
	}
	e := start()
	const clusterARN = "arn:aws:ecs:us-east-1:000000000000:cluster/c1"
	bridge := acs.Task{ARN: testTaskARN, TaskClusterARN: clusterARN, Family: "web", Version: "3",
		DesiredStatus: "RUNNING", NetworkMode: "bridge", CPU: 1, Memory: 512, LaunchType: "EC2",
		Containers: []acs.Container{
			{Name: "app", Image: "nginx", CPU: 256, Memory: 128, Essential: true, PortMappings: []acs.PortMapping{{ContainerPort: 80}}},
			{Name: "side", Image: "busybox", Memory: 64},
		}}
	awsvpc := bridge
	awsvpc.ARN = testTaskARN[:len(testTaskARN)-1] + "0"
	awsvpc.NetworkMode, awsvpc.LaunchType = "awsvpc", "FARGATE"
	awsvpc.Containers = []acs.Container{{Name: "vpc", Image: "nginx", CPU: 512, Memory: 256, Essential: true}}
	e.Apply(bridge)
	e.Apply(awsvpc)
	testkit.Eventually(t, 10*time.Second, "", func() error {
		for _, arn := range []string{bridge.ARN, awsvpc.ARN} {
			if s := rec.statuses(arn); !slices.Equal(s, []string{"RUNNING"}) {
				return fmt.Errorf("%s reported %v", arn, s)
			}
		}
		// The task runs once its essential container does.
		if side := taskContainers(t, rt, bridge.ARN)["side"]; len(side) != 1 || side[0].State != runtime.StateRunning {
			return fmt.Errorf("side: %+v", side)
		}
		return nil
	})
	ids := map[string]string{}
	for _, arn := range []string{bridge.ARN, awsvpc.ARN} {
		for name, list := range taskContainers(t, rt, arn) {
			ids[name] = list[0].ID
		}
	}

	// The containers' specs carry the endpoint; on the simulator the host
	// is this machine.
	uri := rt.envOf(t, "app", metadataEnvV4)
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "http" || u.Hostname() != "127.0.0.1" || u.Port() == "" || !strings.HasPrefix(u.Path, "/v4/") {
		t.Fatalf("%s=%q", metadataEnvV4, uri)
	}
	if v3 := rt.envOf(t, "app", metadataEnvV3); v3 != strings.Replace(uri, "/v4/", "/v3/", 1) {
		t.Errorf("%s=%q, v4 %q", metadataEnvV3, v3, uri)
	}
	if other := rt.envOf(t, "side", metadataEnvV4); other == uri || !strings.HasPrefix(other, "http://"+u.Host+"/v4/") {
		t.Errorf("side's URI %q, app's %q", other, uri)
	}

	// The container's metadata.
	code, body := getJSON(t, uri)
	if code != http.StatusOK {
		t.Fatalf("GET container: %d %s", code, body)
	}
	checkContainerMembers(t, body)
	var c metaContainer
	if err := json.Unmarshal(body, &c); err != nil {
		t.Fatal(err)
	}
	if c.Name != "app" || c.DockerID != ids["app"] || c.KnownStatus != "RUNNING" || c.Labels[runtime.LabelTaskARN] != bridge.ARN ||
		c.Limits.CPU != 256 || c.Limits.Memory != 128 || !strings.HasPrefix(c.DockerName, "ecs-web-3-app-") ||
		len(c.Networks) != 1 || c.Networks[0].NetworkMode != "bridge" || len(c.Networks[0].IPv4Addresses) != 1 {
		t.Errorf("container metadata %s", body)
	}

	// The task's, with both containers (the runner records the second
	// one's start just after the runtime has it running).
	testkit.Eventually(t, 10*time.Second, "", func() error {
		code, body = getJSON(t, uri+"/task")
		var task metaTask
		if err := json.Unmarshal(body, &task); err != nil || code != http.StatusOK {
			return fmt.Errorf("GET task: %d %s", code, body)
		}
		if task.TaskARN != bridge.ARN || task.Cluster != clusterARN || task.KnownStatus != "RUNNING" || len(task.Containers) != 2 ||
			task.Containers[1].Name != "side" || task.Containers[1].DockerID != ids["side"] || task.Containers[1].KnownStatus != "RUNNING" {
			return fmt.Errorf("task metadata %s", body)
		}
		return nil
	})
	checkTaskMembers(t, body)
	if code, v3 := getJSON(t, strings.Replace(uri, "/v4/", "/v3/", 1)+"/task"); code != http.StatusOK || !strings.Contains(string(v3), bridge.ARN) {
		t.Errorf("GET v3 task: %d %s", code, v3)
	}

	// Stats: the second sample has the first as its previous one.
	getJSON(t, uri+"/stats")
	time.Sleep(20 * time.Millisecond)
	code, body = getJSON(t, uri+"/stats")
	if code != http.StatusOK {
		t.Fatalf("GET stats: %d %s", code, body)
	}
	stats := checkMembers(t, "stats", body, docStatsMembers, []string{"read", "preread", "cpu_stats", "precpu_stats", "memory_stats", "networks", "network_rate_stats"})
	var pre time.Time
	if err := json.Unmarshal(stats["preread"], &pre); err != nil || pre.IsZero() || !strings.Contains(string(stats["id"]), ids["app"]) {
		t.Errorf("stats %s", body)
	}
	code, body = getJSON(t, uri+"/task/stats")
	var taskStats map[string]json.RawMessage
	if code != http.StatusOK || json.Unmarshal(body, &taskStats) != nil || len(taskStats) != 2 ||
		taskStats[ids["app"]] == nil || taskStats[ids["side"]] == nil {
		t.Errorf("GET task stats: %d %s", code, body)
	}

	// The awsvpc task's container is on the pause container's network.
	code, body = getJSON(t, rt.envOf(t, "vpc", metadataEnvV4))
	if err := json.Unmarshal(body, &c); err != nil || code != http.StatusOK || c.Name != "vpc" ||
		len(c.Networks) != 1 || c.Networks[0].NetworkMode != "awsvpc" ||
		!slices.Equal(c.Networks[0].IPv4Addresses, []string{pause.IPAddress}) || !strings.HasPrefix(c.Networks[0].MACAddress, "02:42:") {
		t.Errorf("awsvpc container metadata: %d %s (pause address %s)", code, body, pause.IPAddress)
	}

	// A new engine on the same directory serves the same URLs.
	e.Close()
	if resp, err := http.Get(uri); err == nil {
		resp.Body.Close()
		t.Fatalf("the endpoint still answers after Close: %s", resp.Status)
	}
	e = start()
	code, body = getJSON(t, uri)
	if code != http.StatusOK || !strings.Contains(string(body), ids["app"]) {
		t.Fatalf("GET container after a restart: %d %s", code, body)
	}

	// Once the task is cleaned up, its tokens are unknown.
	e.Stop(bridge.ARN)
	testkit.Eventually(t, 10*time.Second, "", func() error {
		if slices.Contains(e.Tasks(), bridge.ARN) {
			return fmt.Errorf("task not cleaned up yet")
		}
		return nil
	})
	if code, body := getJSON(t, uri+"/task"); code != http.StatusNotFound {
		t.Errorf("GET task after cleanup: %d %s", code, body)
	}
}

// TestMetadata_AgentSim checks the agent's endpoint: a task it runs on the
// simulator gets the URL, which answers with the agent's cluster.
func TestMetadata_AgentSim(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	cluster := createCluster(t, s, "meta")
	dir := t.TempDir()
	rt := &specRecorder{Runtime: newSim(t, dir)}
	startAgent(t, s, agentConfig(t, s.ecs, rt, cluster, dir))
	arn := runTask(t, s, cluster, types.ContainerDefinition{Name: aws.String("app"), Image: aws.String("nginx"), Cpu: 128, Memory: aws.Int32(32)})
	waitTask(t, s, cluster, arn, "RUNNING", 15*time.Second)
	code, body := getJSON(t, rt.envOf(t, "app", metadataEnvV4)+"/task")
	var task metaTask
	if err := json.Unmarshal(body, &task); err != nil || code != http.StatusOK || task.TaskARN != arn || task.Cluster != cluster ||
		len(task.Containers) != 1 || task.Containers[0].KnownStatus != "RUNNING" || task.Containers[0].Limits.Memory != 32 {
		t.Fatalf("task metadata: %d %s", code, body)
	}
}
