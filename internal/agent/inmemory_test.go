package agent

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-dev/berth/internal/runtime/sim"
)

// TestAgent_TaskStateInMemory runs a task to RUNNING and STOPPED with
// TaskStateInMemory: nothing is written under tasks/, agent.json still is,
// and OnConnected reports the instance's ACS session.
func TestAgent_TaskStateInMemory(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	cluster := createCluster(t, s, "mem")
	dir := t.TempDir()
	rt, err := sim.New(sim.Options{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close() })
	connected := make(chan string, 8)
	cfg := agentConfig(t, s.ecs, rt, cluster, dir)
	cfg.TaskStateInMemory = true
	cfg.MetadataAddr = "off"
	cfg.OnConnected = func(arn string) { connected <- arn }
	a := startAgent(t, s, cfg)

	select {
	case arn := <-connected:
		if arn != a.ContainerInstanceARN() {
			t.Fatalf("OnConnected(%q), want %q", arn, a.ContainerInstanceARN())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("OnConnected was not called")
	}

	arn := runTask(t, s, cluster, types.ContainerDefinition{
		Name: aws.String("app"), Image: aws.String("berth/app:1"), Memory: aws.Int32(64)})
	waitTask(t, s, cluster, arn, "RUNNING", 10*time.Second)
	if _, err := os.Stat(tasksDir(dir)); !os.IsNotExist(err) {
		t.Fatalf("tasks/ exists (err %v): task state was written", err)
	}
	stopTask(t, s, cluster, arn)
	waitTask(t, s, cluster, arn, "STOPPED", 10*time.Second)
	if _, err := os.Stat(tasksDir(dir)); !os.IsNotExist(err) {
		t.Fatalf("tasks/ exists (err %v): task state was written", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "agent.json")); err != nil {
		t.Fatalf("agent.json: %v", err)
	}
}
