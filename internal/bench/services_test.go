package bench

import (
	"context"
	"fmt"
	"os"
	"runtime/pprof"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-dev/berth/internal/simfleet"
)

// Service rollout benchmark parameters.
const (
	rolloutInstances = 200
	rolloutTasks     = 1000
	// rolloutSpeed divides the sim runtime's pull/create/start/stop
	// timings (50–200 ms pull, 5 ms create, 20 ms start, 10 ms stop at
	// speed 1): at 10 a container takes 3–25 ms to start, so the figures
	// measure the scheduler and the agents' protocol, not the sim's sleeps.
	// BERTH_ROLLOUT_SPEED overrides it.
	rolloutSpeed = 10
)

// BenchmarkServiceRollout is issue 5's service benchmark: the real server
// (bolt, durable commits) and 200 sim instances (4 vCPU / 16 GiB, three
// zones; simfleet in this process, Speed 10), then
//
//  1. CreateService of a 1,000-task REPLICA service (64 CPU units, 512 MiB
//     per task) until steady state: one deployment, COMPLETED,
//     runningCount 1,000 (metric converge-s);
//  2. UpdateService to a new task definition revision (minimumHealthyPercent
//     50, maximumPercent 200, no grace period) until the new deployment is
//     the only one, COMPLETED, with runningCount 1,000 (metric rollout-s).
//
// Progress is read through DescribeServices every 10 ms. Run it:
//
//	go test -run='^$' -bench=ServiceRollout -benchtime=1x ./internal/bench/
//
// BERTH_BENCH_PROFILE=FILE writes a CPU profile of the two measured phases.
func BenchmarkServiceRollout(b *testing.B) {
	for range b.N {
		converge, rollout := runServiceRollout(b)
		b.ReportMetric(converge.Seconds(), "converge-s")
		b.ReportMetric(rollout.Seconds(), "rollout-s")
	}
}

func runServiceRollout(b *testing.B) (converge, rollout time.Duration) {
	b.StopTimer()
	m := start(b)
	client := sdkClient(m.URL())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const cluster = "svc"
	if _, err := client.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(cluster)}); err != nil {
		b.Fatal(err)
	}
	register := func(mode string) string {
		out, err := client.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
			Family: aws.String("svc-task"),
			ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("busybox"),
				Cpu: 64, Memory: aws.Int32(512), Essential: aws.Bool(true),
				Environment: []types.KeyValuePair{{Name: aws.String("MODE"), Value: aws.String(mode)}}}},
		})
		if err != nil {
			b.Fatal(err)
		}
		return aws.ToString(out.TaskDefinition.TaskDefinitionArn)
	}
	td1, td2 := register("v1"), register("v2")
	f, err := simfleet.New(simfleet.Config{Endpoint: m.URL(), Cluster: cluster, Instances: rolloutInstances,
		Speed: float64(envInt("BERTH_ROLLOUT_SPEED", rolloutSpeed)), DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	fleetCtx, stopFleet := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- f.Run(fleetCtx) }()
	defer func() { stopFleet(); <-done }()
	select {
	case <-f.Ready():
	case <-time.After(time.Minute):
		b.Fatal("fleet not ready")
	}
	if p := os.Getenv("BERTH_BENCH_PROFILE"); p != "" {
		pf, err := os.Create(p)
		if err != nil {
			b.Fatal(err)
		}
		defer pf.Close()
		_ = pprof.StartCPUProfile(pf)
		defer pprof.StopCPUProfile()
	}

	b.StartTimer()
	t0 := time.Now()
	if _, err := client.CreateService(ctx, &ecs.CreateServiceInput{
		Cluster: aws.String(cluster), ServiceName: aws.String("web"), TaskDefinition: aws.String(td1),
		DesiredCount: aws.Int32(rolloutTasks),
		DeploymentConfiguration: &types.DeploymentConfiguration{
			MinimumHealthyPercent: aws.Int32(50), MaximumPercent: aws.Int32(200)},
	}); err != nil {
		b.Fatal(err)
	}
	waitSteady(b, client, cluster, "web", td1, time.Minute)
	converge = time.Since(t0)
	if testing.Verbose() {
		taskTimeline(b, client, cluster, t0)
	}

	t1 := time.Now()
	if _, err := client.UpdateService(ctx, &ecs.UpdateServiceInput{
		Cluster: aws.String(cluster), Service: aws.String("web"), TaskDefinition: aws.String(td2),
		DeploymentConfiguration: &types.DeploymentConfiguration{
			MinimumHealthyPercent: aws.Int32(50), MaximumPercent: aws.Int32(200)},
		HealthCheckGracePeriodSeconds: aws.Int32(0),
	}); err != nil {
		b.Fatal(err)
	}
	waitSteady(b, client, cluster, "web", td2, 2*time.Minute)
	rollout = time.Since(t1)
	b.StopTimer()
	return converge, rollout
}

// waitSteady polls DescribeServices until the service has one COMPLETED
// deployment of taskDef with every desired task RUNNING.
func waitSteady(b *testing.B, c *ecs.Client, cluster, name, taskDef string, timeout time.Duration) {
	b.Helper()
	start := time.Now()
	deadline := start.Add(timeout)
	var last string
	for {
		out, err := c.DescribeServices(context.Background(), &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{name}})
		if err != nil {
			// The SDK client (no retries) can see a keep-alive connection
			// closed under it (aws/aws-sdk-go-v2#1825): poll again.
			if time.Now().After(deadline) {
				b.Fatal(err)
			}
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if len(out.Services) != 1 {
			b.Fatalf("describe %s: %+v", name, out.Failures)
		}
		s := out.Services[0]
		if testing.Verbose() {
			// The timeline of the phase: one line per change of the counts.
			line := fmt.Sprintf("running %d pending %d", s.RunningCount, s.PendingCount)
			for _, d := range s.Deployments {
				line += fmt.Sprintf(" | %s %s running %d pending %d", aws.ToString(d.Status), d.RolloutState, d.RunningCount, d.PendingCount)
			}
			if line != last {
				b.Logf("%6dms %s", time.Since(start).Milliseconds(), line)
				last = line
			}
		}
		if len(s.Deployments) == 1 && aws.ToString(s.Deployments[0].TaskDefinition) == taskDef &&
			s.Deployments[0].RolloutState == types.DeploymentRolloutStateCompleted &&
			s.RunningCount == s.DesiredCount && s.PendingCount == 0 {
			return
		}
		if time.Now().After(deadline) {
			var evs []string
			for i, e := range s.Events {
				if i < 5 {
					evs = append(evs, aws.ToString(e.Message))
				}
			}
			b.Fatalf("service %s not steady: desired %d running %d pending %d deployments %d events %q",
				name, s.DesiredCount, s.RunningCount, s.PendingCount, len(s.Deployments), evs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// taskTimeline logs (with -v) percentiles of the tasks' createdAt,
// pullStartedAt (the agent has the task) and startedAt relative to t0:
// where the converge time goes.
func taskTimeline(b *testing.B, c *ecs.Client, cluster string, t0 time.Time) {
	var created, pulled, started []time.Duration
	p := ecs.NewListTasksPaginator(c, &ecs.ListTasksInput{Cluster: aws.String(cluster), MaxResults: aws.Int32(100)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			b.Logf("timeline: %v", err)
			return
		}
		if len(page.TaskArns) == 0 {
			break
		}
		d, err := c.DescribeTasks(context.Background(), &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: page.TaskArns})
		if err != nil {
			b.Logf("timeline: %v", err)
			return
		}
		for _, t := range d.Tasks {
			if t.CreatedAt != nil {
				created = append(created, t.CreatedAt.Sub(t0))
			}
			if t.PullStartedAt != nil {
				pulled = append(pulled, t.PullStartedAt.Sub(t0))
			}
			if t.StartedAt != nil {
				started = append(started, t.StartedAt.Sub(t0))
			}
		}
	}
	for _, x := range []struct {
		name string
		v    []time.Duration
	}{{"created", created}, {"pullStarted", pulled}, {"started", started}} {
		slices.Sort(x.v)
		if len(x.v) == 0 {
			continue
		}
		b.Logf("%s: n=%d min %v p50 %v p90 %v max %v", x.name, len(x.v), x.v[0], x.v[len(x.v)/2], x.v[len(x.v)*9/10], x.v[len(x.v)-1])
	}
}
