package bench

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-dev/berth/internal/agent"
	"github.com/berth-dev/berth/internal/runtime/sim"
)

// BenchmarkSimTasks: 100 in-process agents on the sim runtime (4 vCPU /
// 16 GiB each) against one server (bolt, durable commits). 10,000 tasks are
// submitted through RunTask (count 10) from 8 concurrent clients; each
// task's latency is measured from its RunTask answer to the first
// DescribeTasks poll (every 25 ms) that shows it RUNNING. It reports p50,
// p99 and tasks/s (10,000 / time from the first RunTask to the last task
// RUNNING). Run once:
//
//	go test -run='^$' -bench=SimTasks -benchtime=1x ./internal/bench/
func BenchmarkSimTasks(b *testing.B) {
	const instances, total, conc = 100, 10_000, 8
	for range b.N {
		m := start(b)
		client := sdkClient(m.URL())
		cx := context.Background()
		if _, err := client.CreateCluster(cx, &ecs.CreateClusterInput{ClusterName: aws.String("bench")}); err != nil {
			b.Fatal(err)
		}
		if _, err := client.RegisterTaskDefinition(cx, &ecs.RegisterTaskDefinitionInput{
			Family: aws.String("bench-task"),
			ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("busybox"),
				Cpu: 10, Memory: aws.Int32(16)}},
		}); err != nil {
			b.Fatal(err)
		}
		agents := startAgents(b, client, instances)
		b.ResetTimer()
		p50, p99, rate := runTasks(b, client, total, conc)
		b.StopTimer()
		b.ReportMetric(float64(p50.Milliseconds()), "p50-ms")
		b.ReportMetric(float64(p99.Milliseconds()), "p99-ms")
		b.ReportMetric(rate, "tasks/s")
		for _, stop := range agents {
			stop()
		}
	}
}

// startAgents starts n sim agents and waits until all are connected.
func startAgents(b *testing.B, client *ecs.Client, n int) []func() {
	b.Helper()
	var stops []func()
	for i := 0; i < n; i++ {
		rt, err := sim.New(sim.Options{Seed: uint64(i + 1)})
		if err != nil {
			b.Fatal(err)
		}
		a, err := agent.New(agent.Config{Runtime: rt, ECS: client, Cluster: "bench", CPU: 4096, MemoryMiB: 16384, DataDir: b.TempDir(),
			Attributes: map[string]string{"ecs.availability-zone": fmt.Sprintf("us-east-1%c", 'a'+i%3)}})
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- a.Run(ctx) }()
		stops = append(stops, func() { cancel(); _ = a.Close(); <-done; _ = rt.Close() })
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		connected := 0
		var token *string
		for {
			l, err := client.ListContainerInstances(context.Background(), &ecs.ListContainerInstancesInput{Cluster: aws.String("bench"), NextToken: token})
			if err != nil {
				b.Fatal(err)
			}
			if len(l.ContainerInstanceArns) > 0 {
				for i := 0; i < len(l.ContainerInstanceArns); i += 100 {
					d, err := client.DescribeContainerInstances(context.Background(), &ecs.DescribeContainerInstancesInput{Cluster: aws.String("bench"), ContainerInstances: l.ContainerInstanceArns[i:min(i+100, len(l.ContainerInstanceArns))]})
					if err != nil {
						b.Fatal(err)
					}
					for _, ci := range d.ContainerInstances {
						if ci.AgentConnected {
							connected++
						}
					}
				}
			}
			if token = l.NextToken; token == nil {
				break
			}
		}
		if connected == n {
			return stops
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d agents connected", connected, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// runTasks submits total tasks (RunTask count 10) from conc clients and
// returns the p50 and p99 RunTask→RUNNING latency and the overall rate.
func runTasks(b *testing.B, client *ecs.Client, total, conc int) (time.Duration, time.Duration, float64) {
	b.Helper()
	var mu sync.Mutex
	submitted := map[string]time.Time{}
	pending := []string{}
	start := time.Now()
	var wg sync.WaitGroup
	calls := total / 10
	next := make(chan struct{}, calls)
	for range calls {
		next <- struct{}{}
	}
	close(next)
	for range conc {
		wg.Go(func() {
			for range next {
				out, err := client.RunTask(context.Background(), &ecs.RunTaskInput{Cluster: aws.String("bench"), TaskDefinition: aws.String("bench-task"), Count: aws.Int32(10)})
				if err != nil {
					b.Error(err)
					return
				}
				if len(out.Failures) > 0 {
					b.Errorf("failures: %v", aws.ToString(out.Failures[0].Reason))
				}
				at := time.Now()
				mu.Lock()
				for _, t := range out.Tasks {
					submitted[aws.ToString(t.TaskArn)] = at
					pending = append(pending, aws.ToString(t.TaskArn))
				}
				mu.Unlock()
			}
		})
	}
	// Poll for RUNNING while submitting.
	var lat []time.Duration
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	finished := false
	deadline := time.Now().Add(5 * time.Minute)
	for len(lat) < total {
		select {
		case <-done:
			finished = true
		default:
		}
		mu.Lock()
		batch := slices.Clone(pending)
		mu.Unlock()
		var still []string
		for i := 0; i < len(batch); i += 100 {
			d, err := client.DescribeTasks(context.Background(), &ecs.DescribeTasksInput{Cluster: aws.String("bench"), Tasks: batch[i:min(i+100, len(batch))]})
			if err != nil {
				b.Fatal(err)
			}
			now := time.Now()
			for _, t := range d.Tasks {
				arn := aws.ToString(t.TaskArn)
				if aws.ToString(t.LastStatus) == "RUNNING" {
					mu.Lock()
					lat = append(lat, now.Sub(submitted[arn]))
					mu.Unlock()
				} else {
					still = append(still, arn)
				}
			}
		}
		mu.Lock()
		// Keep tasks submitted since the snapshot, drop the RUNNING ones.
		pending = append(still, pending[len(batch):]...)
		mu.Unlock()
		if finished && len(pending) == 0 {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d tasks RUNNING after 5 minutes", len(lat), total)
		}
		time.Sleep(25 * time.Millisecond)
	}
	elapsed := time.Since(start)
	slices.Sort(lat)
	return lat[len(lat)/2], lat[len(lat)*99/100], float64(len(lat)) / elapsed.Seconds()
}
