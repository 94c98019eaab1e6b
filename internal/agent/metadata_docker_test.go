package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/docker/docker/client"

	"github.com/berth-dev/berth/internal/acs"
	"github.com/berth-dev/berth/internal/runtime"
	"github.com/berth-dev/berth/internal/testkit"
)

// TestMetadata_Docker runs a probe container that reads its own task
// metadata endpoint from inside (GET of $ECS_CONTAINER_METADATA_URI_V4,
// printed to its output): on the default bridge through an agent, reaching
// the host at docker0's gateway. Without Docker it skips, unless
// BERTH_REQUIRE_DOCKER=1.
func TestMetadata_Docker(t *testing.T) {
	t.Parallel()
	rt, img := newDocker(t)
	s := startServer(t)
	cluster := createCluster(t, s, "meta-docker")
	removeClusterContainers(t, rt, cluster)
	startAgent(t, s, agentConfig(t, s.ecs, rt, cluster, t.TempDir()))

	arn := runTask(t, s, cluster, probe(img, "reader", "-get-env", metadataEnvV4))
	task := waitTask(t, s, cluster, arn, "STOPPED", 60*time.Second)
	c := container(t, task, "reader")
	id := aws.ToString(c.RuntimeId)
	logs, err := rt.Logs(t.Context(), id, 0)
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt32(c.ExitCode) != 0 {
		t.Fatalf("the probe failed (exit code %v): %s", c.ExitCode, logs)
	}
	var md metaContainer
	if err := json.Unmarshal([]byte(strings.TrimSpace(string(logs))), &md); err != nil {
		t.Fatalf("the probe printed %q: %v", logs, err)
	}
	checkContainerMembers(t, []byte(strings.TrimSpace(string(logs))))
	if md.DockerID != id || md.Name != "reader" || md.Labels[runtime.LabelTaskARN] != arn ||
		len(md.Networks) != 1 || md.Networks[0].NetworkMode != "bridge" || len(md.Networks[0].IPv4Addresses) != 1 {
		t.Fatalf("the container read %s", logs)
	}
}

// TestMetadata_DockerAwsvpc runs an awsvpc task on a standalone engine
// whose containers join a pause container on a user-defined network, as
// the Fargate fleet's do: the probe reaches the endpoint at that network's
// gateway and reads the task's address.
func TestMetadata_DockerAwsvpc(t *testing.T) {
	t.Parallel()
	rt, img := newDocker(t)
	ctx := t.Context()
	const netName = "berth-test-metadata"
	n, err := rt.EnsureNetwork(ctx, netName, netip.MustParsePrefix("10.215.77.0/24"), nil)
	if err != nil {
		t.Fatalf("network: %v", err)
	}
	t.Cleanup(func() {
		cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
		if err != nil {
			return
		}
		defer cli.Close()
		_ = cli.NetworkRemove(context.Background(), netName) // in use by a concurrent run: left
	})
	suffix := randomHex(t, 6)
	pauseName := "berth-test-metadata-pause-" + suffix
	pauseID, err := rt.Create(ctx, runtime.ContainerSpec{Name: pauseName, Image: img, Command: []string{"-forever"}, NetworkMode: netName,
		Labels: map[string]string{runtime.LabelCluster: "meta-awsvpc-" + suffix}})
	if err != nil {
		t.Fatal(err)
	}
	removeClusterContainers(t, rt, "meta-awsvpc-"+suffix)
	t.Cleanup(func() { rt.Remove(context.Background(), pauseID) })
	if err := rt.Start(ctx, pauseID); err != nil {
		t.Fatal(err)
	}
	pause, err := rt.Inspect(ctx, pauseID)
	if err != nil {
		t.Fatal(err)
	}

	rec := &recorder{}
	e, err := NewEngine(EngineConfig{
		Runtime: rt, Reporter: rec, DataDir: t.TempDir(),
		Logger:     slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelInfo})),
		Backoff:    Backoff{Min: 10 * time.Millisecond, Max: 50 * time.Millisecond},
		NetworkFor: func(*acs.Task) string { return "container:" + pauseName },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	arn := "arn:aws:ecs:us-east-1:000000000000:task/meta-awsvpc-" + suffix + "/" + randomHex(t, 16)
	e.Apply(acs.Task{ARN: arn, TaskClusterARN: "arn:aws:ecs:us-east-1:000000000000:cluster/meta-awsvpc-" + suffix,
		Family: "meta", Version: "1", DesiredStatus: "RUNNING", NetworkMode: "awsvpc", LaunchType: "FARGATE",
		Containers: []acs.Container{{Name: "reader", Image: img, Memory: 64, Essential: true,
			Command: []string{"-get-env", metadataEnvV4}}}})
	testkit.Eventually(t, 60*time.Second, "", func() error {
		if s := rec.statuses(arn); len(s) == 0 || s[len(s)-1] != "STOPPED" {
			return fmt.Errorf("reported %v", s)
		}
		return nil
	})
	list := taskContainers(t, rt, arn)["reader"]
	if len(list) != 1 {
		t.Fatalf("containers %+v", list)
	}
	logs, _ := rt.Logs(ctx, list[0].ID, 0)
	if list[0].ExitCode == nil || *list[0].ExitCode != 0 {
		t.Fatalf("the probe failed (gateway %s): %s", n.Gateway, logs)
	}
	var md metaContainer
	if err := json.Unmarshal([]byte(strings.TrimSpace(string(logs))), &md); err != nil {
		t.Fatalf("the probe printed %q: %v", logs, err)
	}
	if md.DockerID != list[0].ID || md.Labels[runtime.LabelTaskARN] != arn || len(md.Networks) != 1 ||
		md.Networks[0].NetworkMode != "awsvpc" || len(md.Networks[0].IPv4Addresses) != 1 || md.Networks[0].IPv4Addresses[0] != pause.IPAddress {
		t.Fatalf("the container read %s (pause address %s)", logs, pause.IPAddress)
	}
}
