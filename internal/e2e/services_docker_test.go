package e2e

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-dev/berth/internal/agent"
	"github.com/berth-dev/berth/internal/runtime"
	"github.com/berth-dev/berth/internal/runtime/docker/dockertest"
	"github.com/berth-dev/berth/internal/testkit"
)

// startAgent runs one in-process agent on rt in cluster, stopped at
// cleanup, and waits until the server shows it connected.
func startAgent(t *testing.T, c *ecs.Client, cluster string, rt runtime.Runtime) {
	t.Helper()
	a, err := agent.New(agent.Config{Runtime: rt, ECS: c, Cluster: cluster, CPU: 4096, MemoryMiB: 8192, DataDir: t.TempDir(),
		HealthPollInterval: 200 * time.Millisecond, Backoff: agent.Backoff{Min: 20 * time.Millisecond, Max: 500 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(runCtx) }()
	t.Cleanup(func() { cancel(); _ = a.Close(); <-done })
	deadline := time.Now().Add(30 * time.Second)
	for {
		l := testkit.Must(c.ListContainerInstances(t.Context(), &ecs.ListContainerInstancesInput{Cluster: aws.String(cluster)}))(t)
		if len(l.ContainerInstanceArns) == 1 {
			d := testkit.Must(c.DescribeContainerInstances(t.Context(), &ecs.DescribeContainerInstancesInput{Cluster: aws.String(cluster), ContainerInstances: l.ContainerInstanceArns}))(t)
			if len(d.ContainerInstances) == 1 && d.ContainerInstances[0].AgentConnected {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the agent did not connect")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// answer is what one RUNNING task's host port answered.
type answer struct {
	task, revision string // the task's id and the hostname its revision sets
	body           string
	err            error
}

// askRunning GETs / on the host port of every task of the service that is
// RUNNING and meant to keep running.
func askRunning(t *testing.T, c *ecs.Client, cluster, service string, revisionOf map[string]string) []answer {
	t.Helper()
	// The SDK client (no retries) can see a keep-alive connection closed
	// under it (aws/aws-sdk-go-v2#1825): a read is tried three times.
	var d *ecs.DescribeTasksOutput
	var err error
	for range 3 {
		var l *ecs.ListTasksOutput
		l, err = c.ListTasks(t.Context(), &ecs.ListTasksInput{Cluster: aws.String(cluster), ServiceName: aws.String(service), DesiredStatus: types.DesiredStatusRunning})
		if err == nil && len(l.TaskArns) == 0 {
			return nil
		}
		if err == nil {
			d, err = c.DescribeTasks(t.Context(), &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: l.TaskArns})
		}
		if err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Timeout: 2 * time.Second}
	var out []answer
	for _, task := range d.Tasks {
		if aws.ToString(task.LastStatus) != "RUNNING" || aws.ToString(task.DesiredStatus) != "RUNNING" {
			continue
		}
		a := answer{task: aws.ToString(task.TaskArn), revision: revisionOf[aws.ToString(task.TaskDefinitionArn)]}
		a.task = a.task[strings.LastIndexByte(a.task, '/')+1:]
		var port int32
		for _, ct := range task.Containers {
			for _, b := range ct.NetworkBindings {
				if aws.ToInt32(b.ContainerPort) == 8080 && aws.ToString(b.BindIP) == "0.0.0.0" {
					port = aws.ToInt32(b.HostPort)
				}
			}
		}
		if port == 0 {
			a.err = fmt.Errorf("no host port for 8080: %+v", task.Containers)
			out = append(out, a)
			continue
		}
		resp, err := hc.Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
		if err != nil {
			a.err = err
		} else {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			a.body = string(b)
		}
		out = append(out, a)
	}
	return out
}

// TestService_DockerRollingUpdate runs a 2-task service of the probe's HTTP
// server on one agent on the local Docker, each revision naming its
// containers' host (hence its answer) after itself, and updates it to a
// new revision: while the new tasks wait for their health checks both
// revisions answer on their host ports, every RUNNING task answering with
// its own revision; at the end only the new revision answers.
func TestService_DockerRollingUpdate(t *testing.T) {
	cli, probe := dockerProbe(t)
	rt := dockertest.Runtime(t)
	cluster := "svcd-" + strings.ToLower(hex.EncodeToString([]byte(t.Name()))[:8])
	removeClusterContainers(t, cli, cluster)
	m := startServer(t, options{})
	c := defaultClient(m)
	cx := t.Context()
	testkit.Must(c.CreateCluster(cx, &ecs.CreateClusterInput{ClusterName: aws.String(cluster)}))(t)
	startAgent(t, c, cluster, rt)

	revisionOf := map[string]string{}
	register := func(host string) string {
		td := testkit.Must(c.RegisterTaskDefinition(cx, &ecs.RegisterTaskDefinitionInput{
			Family: aws.String("svc-docker"),
			ContainerDefinitions: []types.ContainerDefinition{{
				Name: aws.String("web"), Image: aws.String(probe), Essential: aws.Bool(true), Memory: aws.Int32(64),
				Hostname: aws.String(host), Command: []string{"-listen", ":8080", "-forever"}, StopTimeout: aws.Int32(2),
				PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(8080)}},
				// A new task counts as healthy (and lets an old one stop)
				// one interval after it starts: both revisions answer
				// meanwhile.
				HealthCheck: &types.HealthCheck{Command: []string{"CMD", "/probe", "health", "-url", "http://127.0.0.1:8080/"},
					Interval: aws.Int32(5), Timeout: aws.Int32(2), Retries: aws.Int32(2)},
			}},
		}))(t)
		arn := aws.ToString(td.TaskDefinition.TaskDefinitionArn)
		revisionOf[arn] = host
		return arn
	}
	td1, td2 := register("rev-1"), register("rev-2")

	testkit.Must(c.CreateService(cx, &ecs.CreateServiceInput{Cluster: aws.String(cluster), ServiceName: aws.String("web"),
		TaskDefinition: aws.String(td1), DesiredCount: aws.Int32(2)}))(t)
	waitService(t, c, cluster, "web", 90*time.Second, stable, nil)
	check := func(as []answer, want ...string) {
		t.Helper()
		for _, a := range as {
			if a.err != nil {
				t.Fatalf("task %s (%s): %v", a.task, a.revision, a.err)
			}
			if !strings.HasPrefix(a.body, "probe "+a.revision+" ") {
				t.Fatalf("task %s of %s answered %q", a.task, a.revision, a.body)
			}
		}
		var got []string
		for _, a := range as {
			got = append(got, a.revision)
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("answering revisions %v, want %v", got, want)
		}
	}
	check(askRunning(t, c, cluster, "web", revisionOf), "rev-1", "rev-1")

	testkit.Must(c.UpdateService(cx, &ecs.UpdateServiceInput{Cluster: aws.String(cluster), Service: aws.String("web"), TaskDefinition: aws.String(td2)}))(t)
	both := false
	waitService(t, c, cluster, "web", 2*time.Minute, func(s types.Service) bool {
		return stable(s) && aws.ToString(s.TaskDefinition) == td2
	}, func(types.Service) {
		seen := map[string]int{}
		for _, a := range askRunning(t, c, cluster, "web", revisionOf) {
			if a.err != nil {
				// A task can stop between DescribeTasks and the GET.
				continue
			}
			if !strings.HasPrefix(a.body, "probe "+a.revision+" ") {
				t.Fatalf("task %s of %s answered %q", a.task, a.revision, a.body)
			}
			seen[a.revision]++
		}
		if seen["rev-1"] > 0 && seen["rev-2"] > 0 {
			both = true
		}
	})
	if !both {
		t.Fatal("never saw both revisions answering during the rollout")
	}
	check(askRunning(t, c, cluster, "web", revisionOf), "rev-2", "rev-2")
	s := describeService(t, c, cluster, "web")
	if len(s.Deployments) != 1 || aws.ToString(s.Deployments[0].TaskDefinition) != td2 {
		t.Fatalf("deployments %+v", s.Deployments)
	}

	// Scaling to zero stops every container.
	testkit.Must(c.UpdateService(cx, &ecs.UpdateServiceInput{Cluster: aws.String(cluster), Service: aws.String("web"), DesiredCount: aws.Int32(0)}))(t)
	waitService(t, c, cluster, "web", time.Minute, stable, nil)
}
