package agent

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-dev/berth/internal/runtime"
	"github.com/berth-dev/berth/internal/testkit"
)

// The tests in this file run tasks as real containers of the probe image
// (see the docker runtime's testdata/probe) on the local Docker daemon,
// through the real server and an in-process agent. Without Docker they
// skip, unless BERTH_REQUIRE_DOCKER=1 (CI) makes them fail.

// probe is a container definition of the probe image with its arguments.
func probe(image, name string, args ...string) types.ContainerDefinition {
	return types.ContainerDefinition{Name: aws.String(name), Image: aws.String(image), Memory: aws.Int32(64), Command: args}
}

func TestAgent_Docker(t *testing.T) {
	t.Parallel()
	rt, img := newDocker(t)
	s := startServer(t)
	cluster := createCluster(t, s, "docker")
	removeClusterContainers(t, rt, cluster)
	dataDir := t.TempDir()
	startAgent(t, s, agentConfig(t, s.ecs, rt, cluster, dataDir))

	for _, code := range []int32{0, 3} {
		t.Run(fmt.Sprintf("Exit%d", code), func(t *testing.T) {
			t.Parallel()
			arn := runTask(t, s, cluster, probe(img, "job", "-print", "hello", "-exit", fmt.Sprint(code)))
			task := waitTask(t, s, cluster, arn, "STOPPED", 30*time.Second)
			c := container(t, task, "job")
			if aws.ToInt32(c.ExitCode) != code || task.StopCode != types.TaskStopCodeEssentialContainerExited {
				t.Fatalf("exit code %v, stopCode %s, reason %q", c.ExitCode, task.StopCode, aws.ToString(task.StoppedReason))
			}
			waitLogs(t, rt, aws.ToString(c.RuntimeId), "hello")
		})
	}

	t.Run("StopTask", func(t *testing.T) {
		t.Parallel()
		def := probe(img, "server", "-print", "ready", "-forever")
		def.StopTimeout = aws.Int32(10)
		arn := runTask(t, s, cluster, def)
		task := waitTask(t, s, cluster, arn, "RUNNING", 30*time.Second)
		id := aws.ToString(container(t, task, "server").RuntimeId)
		waitLogs(t, rt, id, "ready") // its SIGTERM handler is installed
		stopTask(t, s, cluster, arn)
		task = waitTask(t, s, cluster, arn, "STOPPED", 30*time.Second)
		if c := container(t, task, "server"); aws.ToInt32(c.ExitCode) != 143 || task.StopCode != types.TaskStopCodeUserInitiated {
			t.Fatalf("exit code %v, stopCode %s", c.ExitCode, task.StopCode)
		}
		waitLogs(t, rt, id, "got SIGTERM")
	})

	t.Run("PortMapping", func(t *testing.T) {
		t.Parallel()
		def := probe(img, "web", "-listen", ":8080", "-forever")
		def.PortMappings = []types.PortMapping{{ContainerPort: aws.Int32(8080)}}
		arn := runTask(t, s, cluster, def)
		task := waitTask(t, s, cluster, arn, "RUNNING", 30*time.Second)
		var port int32
		for _, b := range container(t, task, "web").NetworkBindings {
			if aws.ToInt32(b.ContainerPort) == 8080 && aws.ToString(b.BindIP) == "0.0.0.0" {
				port = aws.ToInt32(b.HostPort)
			}
		}
		if port == 0 {
			t.Fatalf("no binding of 8080 on 0.0.0.0: %+v", container(t, task, "web").NetworkBindings)
		}
		testkit.Eventually(t, 20*time.Second, "", func() error {
			resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/hello", port))
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if !strings.HasPrefix(string(body), "probe ") || !strings.Contains(string(body), "/hello") {
				return fmt.Errorf("body %q", body)
			}
			return nil
		})
		stopTask(t, s, cluster, arn)
		waitTask(t, s, cluster, arn, "STOPPED", 30*time.Second)
	})

	t.Run("DependsOnHealthy", func(t *testing.T) {
		t.Parallel()
		db := probe(img, "db", "-listen", ":8080", "-forever")
		db.HealthCheck = &types.HealthCheck{Command: []string{"CMD", "/probe", "health", "-url", "http://127.0.0.1:8080/"},
			Interval: aws.Int32(5), Timeout: aws.Int32(2), Retries: aws.Int32(1)}
		app := probe(img, "app", "-forever")
		app.DependsOn = []types.ContainerDependency{{ContainerName: aws.String("db"), Condition: types.ContainerConditionHealthy}}
		arn := runTask(t, s, cluster, db, app)
		waitTask(t, s, cluster, arn, "RUNNING", 30*time.Second)
		cs := taskContainers(t, rt, arn)
		dbc, appc := cs["db"][0], cs["app"][0]
		// Docker runs the first health check one interval after the start.
		if dbc.Health != runtime.HealthHealthy || !appc.StartedAt.After(dbc.StartedAt.Add(4*time.Second)) {
			t.Fatalf("db (health %s) started at %v, app at %v", dbc.Health, dbc.StartedAt, appc.StartedAt)
		}
		testkit.Eventually(t, 10*time.Second, "", func() error {
			task := waitTask(t, s, cluster, arn, "RUNNING", time.Second)
			if task.HealthStatus != types.HealthStatusHealthy {
				return fmt.Errorf("task health %s", task.HealthStatus)
			}
			return nil
		})
		stopTask(t, s, cluster, arn)
		waitTask(t, s, cluster, arn, "STOPPED", 30*time.Second)
	})

	t.Run("ScratchVolume", func(t *testing.T) {
		t.Parallel()
		// A host volume without a source path is a scratch directory under
		// the agent's data directory.
		family := strings.NewReplacer("/", "-").Replace(t.Name())
		if _, err := s.ecs.RegisterTaskDefinition(t.Context(), &ecs.RegisterTaskDefinitionInput{
			Family:  aws.String(family),
			Volumes: []types.Volume{{Name: aws.String("scratch"), Host: &types.HostVolumeProperties{}}},
			ContainerDefinitions: []types.ContainerDefinition{{
				Name: aws.String("writer"), Image: aws.String(img), Memory: aws.Int32(64),
				Command:     []string{"-write", "/scratch/out=written"},
				MountPoints: []types.MountPoint{{SourceVolume: aws.String("scratch"), ContainerPath: aws.String("/scratch")}},
			}},
		}); err != nil {
			t.Fatal(err)
		}
		run, err := s.ecs.RunTask(t.Context(), &ecs.RunTaskInput{Cluster: aws.String(cluster), TaskDefinition: aws.String(family)})
		if err != nil || len(run.Tasks) != 1 {
			t.Fatalf("RunTask: %+v, %v", run, err)
		}
		arn := aws.ToString(run.Tasks[0].TaskArn)
		task := waitTask(t, s, cluster, arn, "STOPPED", 30*time.Second)
		if code := container(t, task, "writer").ExitCode; aws.ToInt32(code) != 0 {
			t.Fatalf("writer exit code %v", code)
		}
		b, err := os.ReadFile(filepath.Join(dataDir, "volumes", taskID(arn), "scratch", "out"))
		if err != nil || string(b) != "written" {
			t.Fatalf("scratch file: %q, %v", b, err)
		}
	})

	t.Run("MissingImage", func(t *testing.T) {
		t.Parallel()
		arn := runTask(t, s, cluster, probe("127.0.0.1:1/berth-test/missing:latest", "app"))
		task := waitTask(t, s, cluster, arn, "STOPPED", 30*time.Second)
		if task.StopCode != types.TaskStopCodeTaskFailedToStart || !strings.HasPrefix(aws.ToString(task.StoppedReason), "CannotPullContainerError: ") {
			t.Fatalf("stopCode %s reason %q", task.StopCode, aws.ToString(task.StoppedReason))
		}
	})
}

// TestAgent_DockerRestart closes the agent and starts a new one on the
// same data directory: the task's container keeps running, is re-attached
// (same id, same start time) and still stops on StopTask.
func TestAgent_DockerRestart(t *testing.T) {
	t.Parallel()
	rt, img := newDocker(t)
	s := startServer(t)
	cluster := createCluster(t, s, "docker-restart")
	removeClusterContainers(t, rt, cluster)
	dir := t.TempDir()
	a := startAgent(t, s, agentConfig(t, s.ecs, rt, cluster, dir))

	arn := runTask(t, s, cluster, probe(img, "server", "-print", "ready", "-forever"))
	task := waitTask(t, s, cluster, arn, "RUNNING", 30*time.Second)
	id := aws.ToString(container(t, task, "server").RuntimeId)
	before, err := rt.Inspect(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}

	a.stop(t)
	if st, err := rt.Inspect(t.Context(), id); err != nil || st.State != runtime.StateRunning {
		t.Fatalf("after the agent stopped: %+v, %v", st, err)
	}
	a2 := startAgent(t, s, agentConfig(t, s.ecs, rt, cluster, dir))
	if a2.ContainerInstanceARN() != a.ContainerInstanceARN() {
		t.Fatalf("ARN %s after restart, want %s", a2.ContainerInstanceARN(), a.ContainerInstanceARN())
	}
	task = waitTask(t, s, cluster, arn, "RUNNING", 30*time.Second)
	after, err := rt.Inspect(t.Context(), id)
	if err != nil || aws.ToString(container(t, task, "server").RuntimeId) != id || !after.StartedAt.Equal(before.StartedAt) || after.State != runtime.StateRunning {
		t.Fatalf("after restart: %+v (was %+v), %v", after, before, err)
	}
	if cs := taskContainers(t, rt, arn); len(cs["server"]) != 1 {
		t.Fatalf("containers after restart: %+v", cs)
	}
	waitLogs(t, rt, id, "ready")
	stopTask(t, s, cluster, arn)
	task = waitTask(t, s, cluster, arn, "STOPPED", 30*time.Second)
	if c := container(t, task, "server"); aws.ToInt32(c.ExitCode) != 143 {
		t.Fatalf("exit code %v", c.ExitCode)
	}
}
