package agent

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-dev/berth/internal/runtime"
	"github.com/berth-dev/berth/internal/server"
	"github.com/berth-dev/berth/internal/testkit"
)

// testServer is a real `berth server` on 127.0.0.1:0 and an SDK client for
// it.
type testServer struct {
	srv *server.Main
	ecs *ecs.Client
}

// startServer starts a server with its data in a temporary directory,
// closed at the end of the test.
func startServer(t *testing.T) *testServer {
	t.Helper()
	m, err := server.Start(context.Background(), server.Config{Listen: "127.0.0.1:0", DataDir: t.TempDir()})
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("close server: %v", err)
		}
	})
	return &testServer{srv: m, ecs: newClient(m.URL())}
}

// newClient is an SDK client with dummy credentials in us-east-1.
func newClient(url string) *ecs.Client {
	return ecs.New(ecs.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(url),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
	})
}

// testAgent is an in-process agent running until the test ends (or Close).
type testAgent struct {
	*Agent
	done chan error
}

// agentConfig is a Config for tests: fast backoffs and health polls, a
// generous budget, logs to the test's output.
func agentConfig(t *testing.T, client *ecs.Client, rt runtime.Runtime, cluster, dataDir string) Config {
	return Config{
		Runtime:            rt,
		ECS:                client,
		Cluster:            cluster,
		CPU:                16384,
		MemoryMiB:          65536,
		Attributes:         map[string]string{"stack": "test", "flag": ""},
		DataDir:            dataDir,
		Logger:             slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelInfo})),
		HealthPollInterval: 200 * time.Millisecond,
		Backoff:            Backoff{Min: 20 * time.Millisecond, Max: 500 * time.Millisecond},
	}
}

// startAgent runs an agent and waits until the server shows it connected.
func startAgent(t *testing.T, s *testServer, cfg Config) *testAgent {
	t.Helper()
	a, err := New(cfg)
	if err != nil {
		t.Fatalf("agent.New: %v", err)
	}
	ta := &testAgent{Agent: a, done: make(chan error, 1)}
	go func() { ta.done <- a.Run(context.Background()) }()
	t.Cleanup(func() { ta.stop(t) })
	testkit.Eventually(t, 15*time.Second, "", func() error {
		select {
		case err := <-ta.done:
			ta.done <- err
			return fmt.Errorf("agent ended: %v", err)
		default:
		}
		arn := a.ContainerInstanceARN()
		if arn == "" {
			return errors.New("not registered yet")
		}
		d, err := s.ecs.DescribeContainerInstances(context.Background(), &ecs.DescribeContainerInstancesInput{
			Cluster: aws.String(cfg.Cluster), ContainerInstances: []string{arn}})
		if err != nil {
			return err
		}
		if len(d.ContainerInstances) != 1 || !d.ContainerInstances[0].AgentConnected {
			return errors.New("agent not connected yet")
		}
		return nil
	})
	return ta
}

// stop closes the agent and checks that Run returned nil.
func (ta *testAgent) stop(t *testing.T) {
	t.Helper()
	if err := ta.Close(); err != nil {
		t.Errorf("agent Close: %v", err)
	}
	select {
	case err := <-ta.done:
		if err != nil {
			t.Errorf("agent Run: %v", err)
		}
		ta.done <- nil
	case <-time.After(10 * time.Second):
		t.Errorf("agent Run did not return after Close")
	}
}

// createCluster creates a cluster with a random suffix and returns its
// name.
func createCluster(t *testing.T, s *testServer, prefix string) string {
	t.Helper()
	name := prefix + "-" + randomHex(t, 4)
	if _, err := s.ecs.CreateCluster(t.Context(), &ecs.CreateClusterInput{ClusterName: aws.String(name)}); err != nil {
		t.Fatalf("CreateCluster: %v", err)
	}
	return name
}

// runTask registers a task definition of the given containers (family =
// the test's name) and runs one task of it; it returns the task's ARN.
func runTask(t *testing.T, s *testServer, cluster string, containers ...types.ContainerDefinition) string {
	t.Helper()
	family := strings.NewReplacer("/", "-", " ", "_").Replace(t.Name())
	if _, err := s.ecs.RegisterTaskDefinition(t.Context(), &ecs.RegisterTaskDefinitionInput{
		Family: aws.String(family), ContainerDefinitions: containers}); err != nil {
		t.Fatalf("RegisterTaskDefinition: %v", err)
	}
	out, err := s.ecs.RunTask(t.Context(), &ecs.RunTaskInput{Cluster: aws.String(cluster), TaskDefinition: aws.String(family)})
	if err != nil {
		t.Fatalf("RunTask: %v", err)
	}
	if len(out.Tasks) != 1 {
		t.Fatalf("RunTask: %d tasks, failures %+v", len(out.Tasks), out.Failures)
	}
	return aws.ToString(out.Tasks[0].TaskArn)
}

// waitTask polls DescribeTasks until the task's lastStatus is want and
// returns it.
func waitTask(t *testing.T, s *testServer, cluster, arn, want string, timeout time.Duration) types.Task {
	t.Helper()
	var task types.Task
	testkit.Eventually(t, timeout, "", func() error {
		d, err := s.ecs.DescribeTasks(context.Background(), &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: []string{arn}})
		if err != nil {
			return err
		}
		if len(d.Tasks) != 1 {
			return fmt.Errorf("DescribeTasks: %+v", d.Failures)
		}
		task = d.Tasks[0]
		if got := aws.ToString(task.LastStatus); got != want {
			return fmt.Errorf("task %s is %s, want %s (stopped reason %q)", arn, got, want, aws.ToString(task.StoppedReason))
		}
		return nil
	})
	return task
}

// stopTask calls StopTask.
func stopTask(t *testing.T, s *testServer, cluster, arn string) {
	t.Helper()
	if _, err := s.ecs.StopTask(t.Context(), &ecs.StopTaskInput{Cluster: aws.String(cluster), Task: aws.String(arn)}); err != nil {
		t.Fatalf("StopTask: %v", err)
	}
}

// container returns the named container of a task.
func container(t *testing.T, task types.Task, name string) types.Container {
	t.Helper()
	for _, c := range task.Containers {
		if aws.ToString(c.Name) == name {
			return c
		}
	}
	t.Fatalf("task has no container %q: %+v", name, task.Containers)
	return types.Container{}
}

// taskContainers lists the runtime's containers of a task, by container
// name.
func taskContainers(t *testing.T, rt runtime.Runtime, arn string) map[string][]runtime.ContainerState {
	t.Helper()
	list, err := rt.List(t.Context(), map[string]string{runtime.LabelTaskARN: arn})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	out := map[string][]runtime.ContainerState{}
	for _, c := range list {
		name := c.Labels[runtime.LabelContainerName]
		out[name] = append(out[name], c)
	}
	return out
}

// env builds a task-definition environment from "KEY=value" pairs.
func env(kv ...string) []types.KeyValuePair {
	var out []types.KeyValuePair
	for _, s := range kv {
		k, v, _ := strings.Cut(s, "=")
		out = append(out, types.KeyValuePair{Name: aws.String(k), Value: aws.String(v)})
	}
	return out
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }
