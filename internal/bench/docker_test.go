package bench

import (
	"context"
	"os/exec"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-dev/berth/internal/agent"
	"github.com/berth-dev/berth/internal/runtime/docker"
	"github.com/berth-dev/berth/internal/runtime/docker/dockertest"
)

// BenchmarkDockerTasks: one server and one agent on the local Docker
// Engine; 50 tasks of a present image (the runtime tests' probe, built from
// scratch and imported) are started one RunTask at a time, and each task's
// RunTask → RUNNING latency (polled every 10 ms) is recorded. Reports p50
// and p99. Needs a running dockerd (bash .ci/docker.sh). Run once:
//
//	go test -run='^$' -bench=DockerTasks -benchtime=1x ./internal/bench/
func BenchmarkDockerTasks(b *testing.B) {
	image := importProbe(b)
	for range b.N {
		m := start(b)
		client := sdkClient(m.URL())
		cx := context.Background()
		if _, err := client.CreateCluster(cx, &ecs.CreateClusterInput{ClusterName: aws.String("bench")}); err != nil {
			b.Fatal(err)
		}
		if _, err := client.RegisterTaskDefinition(cx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("bench-docker"),
			ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String(image), Memory: aws.Int32(32),
				Command: []string{"-forever"}, StopTimeout: aws.Int32(2)}}}); err != nil {
			b.Fatal(err)
		}
		rt, err := docker.New()
		if err != nil {
			b.Fatal(err)
		}
		a, err := agent.New(agent.Config{Runtime: rt, ECS: client, Cluster: "bench", CPU: 4096, MemoryMiB: 8192, DataDir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- a.Run(ctx) }()
		waitAgent(b, client)
		b.ResetTimer()
		var lat []time.Duration
		var arns []string
		for range 50 {
			out, err := client.RunTask(cx, &ecs.RunTaskInput{Cluster: aws.String("bench"), TaskDefinition: aws.String("bench-docker")})
			if err != nil || len(out.Tasks) != 1 {
				b.Fatalf("RunTask: %v %+v", err, out)
			}
			t0 := time.Now()
			arn := aws.ToString(out.Tasks[0].TaskArn)
			arns = append(arns, arn)
			for {
				d, err := client.DescribeTasks(cx, &ecs.DescribeTasksInput{Cluster: aws.String("bench"), Tasks: []string{arn}})
				if err != nil {
					b.Fatal(err)
				}
				if s := aws.ToString(d.Tasks[0].LastStatus); s == "RUNNING" {
					lat = append(lat, time.Since(t0))
					break
				} else if s == "STOPPED" {
					b.Fatalf("task stopped: %s", aws.ToString(d.Tasks[0].StoppedReason))
				}
				if time.Since(t0) > time.Minute {
					b.Fatal("task not RUNNING after a minute")
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
		b.StopTimer()
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)/2].Milliseconds()), "p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Milliseconds()), "p99-ms")
		for _, arn := range arns {
			_, _ = client.StopTask(cx, &ecs.StopTaskInput{Cluster: aws.String("bench"), Task: aws.String(arn)})
		}
		// Wait for the containers to stop before the agent goes.
		deadline := time.Now().Add(time.Minute)
		for time.Now().Before(deadline) {
			d, err := client.DescribeTasks(cx, &ecs.DescribeTasksInput{Cluster: aws.String("bench"), Tasks: arns})
			if err != nil {
				break
			}
			stopped := 0
			for _, t := range d.Tasks {
				if aws.ToString(t.LastStatus) == "STOPPED" {
					stopped++
				}
			}
			if stopped == len(arns) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		cancel()
		_ = a.Close()
		<-done
		_ = exec.Command("sh", "-c", "docker rm -f $(docker ps -aq -f label=com.amazonaws.ecs.cluster=bench) >/dev/null 2>&1").Run()
	}
}

func waitAgent(b *testing.B, client *ecs.Client) {
	b.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		l, err := client.ListContainerInstances(context.Background(), &ecs.ListContainerInstancesInput{Cluster: aws.String("bench")})
		if err == nil && len(l.ContainerInstanceArns) == 1 {
			d, err := client.DescribeContainerInstances(context.Background(), &ecs.DescribeContainerInstancesInput{Cluster: aws.String("bench"), ContainerInstances: l.ContainerInstanceArns})
			if err == nil && d.ContainerInstances[0].AgentConnected {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.Fatal("agent not connected")
}

// importProbe imports the docker runtime tests' probe (a static program,
// no registry needed), or skips without Docker (bash .ci/docker.sh).
func importProbe(b *testing.B) string {
	b.Helper()
	return dockertest.ProbeImage(b, dockertest.Runtime(b))
}
