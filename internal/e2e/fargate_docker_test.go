package e2e

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	dockerclient "github.com/docker/docker/client"

	"github.com/berth-dev/berth/internal/runtime/docker/dockertest"
	"github.com/berth-dev/berth/internal/testkit"
)

// dockerProbe returns a Docker client and the probe image (the docker
// runtime's test program, imported as an image holding only /probe), or
// skips the test when Docker is not usable (fails it with
// BERTH_REQUIRE_DOCKER=1).
func dockerProbe(t *testing.T) (*dockerclient.Client, string) {
	t.Helper()
	cli, err := dockerclient.NewClientWithOpts(dockerclient.FromEnv, dockerclient.WithAPIVersionNegotiation())
	if err == nil {
		cx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		_, err = cli.Ping(cx)
		cancel()
	}
	if err != nil {
		if os.Getenv(dockertest.RequireEnv) == "1" {
			t.Fatalf("docker is required (%s=1) but not usable: %v", dockertest.RequireEnv, err)
		}
		t.Skipf("docker is not usable (%v); start dockerd (see .ci/docker.sh), or set %s=1 to make this a failure", err, dockertest.RequireEnv)
	}
	t.Cleanup(func() { cli.Close() })
	ref := dockertest.ProbeImage(t, dockertest.Runtime(t))
	return cli, ref
}

// removeClusterContainers removes, when the test ends, every container of
// the cluster (the fleet keeps a stopped task's containers for a while).
func removeClusterContainers(t *testing.T, cli *dockerclient.Client, cluster string) {
	t.Cleanup(func() {
		cx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		list, err := cli.ContainerList(cx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", "com.amazonaws.ecs.cluster="+cluster))})
		if err != nil {
			t.Errorf("list the test's containers: %v", err)
			return
		}
		for _, c := range list {
			if err := cli.ContainerRemove(cx, c.ID, container.RemoveOptions{Force: true}); err != nil && !cerrdefs.IsNotFound(err) {
				t.Errorf("remove %s: %v", c.ID, err)
			}
		}
	})
}

// TestFargate_Docker runs a Fargate task on the fleet's Docker runtime: it
// gets its own address on the berth-fargate network, where the test
// reaches its HTTP server from the host, and its sidecar shares its
// network namespace (its health check reaches the server on localhost).
func TestFargate_Docker(t *testing.T) {
	cli, probe := dockerProbe(t)
	cluster := "fgd-" + strings.ToLower(hex.EncodeToString([]byte(t.Name()))[:8])
	removeClusterContainers(t, cli, cluster)
	m := startServer(t, options{fargate: "docker"})
	c := defaultClient(m)
	cx := ctx(t)
	testkit.Must(c.CreateCluster(cx, &ecs.CreateClusterInput{ClusterName: aws.String(cluster), CapacityProviders: []string{"FARGATE"}}))(t)
	td := testkit.Must(c.RegisterTaskDefinition(cx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("fg-docker"), Cpu: aws.String("256"), Memory: aws.String("512"),
		NetworkMode:             types.NetworkModeAwsvpc,
		RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
		ContainerDefinitions: []types.ContainerDefinition{
			{Name: aws.String("app"), Image: aws.String(probe), Essential: aws.Bool(true), Command: []string{"-listen", ":8080", "-forever"},
				PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(8080)}}, StopTimeout: aws.Int32(2)},
			{Name: aws.String("sidecar"), Image: aws.String(probe), Essential: aws.Bool(false), Command: []string{"-forever"}, StopTimeout: aws.Int32(2),
				HealthCheck: &types.HealthCheck{Command: []string{"CMD", "/probe", "health", "-url", "http://localhost:8080/"}, Interval: aws.Int32(5), Retries: aws.Int32(3)}},
		},
	}))(t)
	run := testkit.Must(c.RunTask(cx, &ecs.RunTaskInput{Cluster: aws.String(cluster), TaskDefinition: td.TaskDefinition.TaskDefinitionArn,
		LaunchType: types.LaunchTypeFargate, NetworkConfiguration: subnets()}))(t)
	arn := aws.ToString(run.Tasks[0].TaskArn)

	task := waitTask(t, c, cluster, arn, true)
	ip := checkFargateRunning(t, task, "")
	pauseName := "berth-fargate-pause-" + arn[strings.LastIndexByte(arn, '/')+1:]
	pause, err := cli.ContainerInspect(cx, pauseName)
	if err != nil {
		t.Fatalf("the task's pause container: %v", err)
	}
	if ep := pause.NetworkSettings.Networks["berth-fargate"]; ep == nil || ep.IPAddress != ip {
		t.Fatalf("pause container networks %+v, want %s on berth-fargate", pause.NetworkSettings.Networks, ip)
	}

	// The task's address is routable from the host.
	url := "http://" + ip + ":8080/hello"
	var body string
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := (&http.Client{Timeout: 2 * time.Second}).Get(url)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			body = string(b)
			if resp.StatusCode == http.StatusOK {
				break
			}
			err = fmt.Errorf("%s", resp.Status)
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %v", url, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !strings.Contains(body, "/hello") {
		t.Fatalf("GET %s: %q", url, body)
	}

	// The sidecar shares the namespace: its check reaches localhost:8080.
	deadline = time.Now().Add(90 * time.Second) // health checks every 5 s; slow under a loaded CI machine
	for {
		d := testkit.Must(c.DescribeTasks(cx, &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: []string{arn}}))(t)
		var health types.HealthStatus
		for _, ct := range d.Tasks[0].Containers {
			if aws.ToString(ct.Name) == "sidecar" {
				health = ct.HealthStatus
			}
		}
		if health == types.HealthStatusHealthy {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sidecar health %s, want HEALTHY", health)
		}
		time.Sleep(500 * time.Millisecond)
	}

	testkit.Must(c.StopTask(cx, &ecs.StopTaskInput{Cluster: aws.String(cluster), Task: aws.String(arn)}))(t)
	stopped := waitTask(t, c, cluster, arn, false)
	if stopped.StopCode != types.TaskStopCodeUserInitiated {
		t.Fatalf("stopped %+v", stopped)
	}
	eniOf(t, stopped, "DELETED")
	// The task's network goes with it.
	deadline = time.Now().Add(20 * time.Second)
	for {
		_, err := cli.ContainerInspect(cx, pauseName)
		if cerrdefs.IsNotFound(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the pause container is still there: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
