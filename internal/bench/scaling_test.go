package bench

import (
	"context"
	"io"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	asg "github.com/aws/aws-sdk-go-v2/service/autoscaling"
	asgtypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-dev/berth/internal/agent"
	"github.com/berth-dev/berth/internal/autoscaling"
	"github.com/berth-dev/berth/internal/autoscaling/inprocess"
	"github.com/berth-dev/berth/internal/server"
)

// Scaling from zero: a 1,000-task service on an empty Auto Scaling group
// capacity provider (sim instances, m5.xlarge: 4 vCPU / 16 GiB).
const (
	scalingTasks  = 1000
	scalingCPU    = 512  // CPU units per task
	scalingMemory = 2048 // MiB per task: 8 tasks per m5.xlarge either way
)

// BenchmarkScalingFromZero measures managed scaling from an empty group
// to the service's steady state (one COMPLETED deployment, 1,000 tasks
// RUNNING): the time, the number of scaling steps (distinct desired
// capacity changes) and the final instance count against the minimum
// that binpacking needs (ceil(1000 / 8) = 125). Target capacity 100,
// instance warm-up 1 s, managed scaling evaluated every second.
//
//	go test -run='^$' -bench=ScalingFromZero -benchtime=1x ./internal/bench/
func BenchmarkScalingFromZero(b *testing.B) {
	for range b.N {
		r := runScalingFromZero(b)
		b.ReportMetric(r.steady.Seconds(), "steady-s")
		b.ReportMetric(float64(r.steps), "steps")
		b.ReportMetric(float64(r.instances), "instances")
		b.ReportMetric(float64(r.minimum), "min-instances")
	}
}

type scalingResult struct {
	steady                    time.Duration
	steps, instances, minimum int
}

func benchLaunchers(ctx context.Context, env autoscaling.ServerEnv) (map[string]autoscaling.Launcher, io.Closer, error) {
	ls, err := inprocess.New(inprocess.Config{
		ECS: env.ECS, DataDir: env.DataDir, Log: env.Log, Speed: float64(envInt("BERTH_ROLLOUT_SPEED", rolloutSpeed)), StopTimeout: 15 * time.Second,
		Backoff: agent.Backoff{Min: 50 * time.Millisecond, Max: time.Second},
	})
	if err != nil {
		return nil, nil, err
	}
	return ls.Map(), ls, nil
}

// desiredChange finds the "changing the desired capacity from X to Y" of
// a scaling activity's cause.
var desiredChange = regexp.MustCompile(`At \S+ a monitor alarm .*? changing the desired capacity from \d+ to \d+`)

func runScalingFromZero(b *testing.B) scalingResult {
	b.StopTimer()
	m, err := server.Start(context.Background(), server.Config{
		Listen: "127.0.0.1:0", DataDir: b.TempDir(), AutoScalingLaunchers: benchLaunchers,
		ScalingInterval: time.Second,
	})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	creds := credentials.NewStaticCredentialsProvider("AKIDBENCH", "secret", "")
	client := ecs.New(ecs.Options{Region: "us-east-1", BaseEndpoint: aws.String(m.URL()), Credentials: creds, Retryer: aws.NopRetryer{}})
	groups := asg.New(asg.Options{Region: "us-east-1", BaseEndpoint: aws.String(m.URL()), Credentials: creds})
	ctx := context.Background()
	const cluster = "scale"
	must := func(_ any, err error) {
		b.Helper()
		if err != nil {
			b.Fatal(err)
		}
	}
	must(client.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(cluster)}))
	must(groups.CreateAutoScalingGroup(ctx, &asg.CreateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String("hosts"), MinSize: aws.Int32(0), MaxSize: aws.Int32(1000), DesiredCapacity: aws.Int32(0),
		AvailabilityZones:                []string{"us-east-1a", "us-east-1b", "us-east-1c"},
		LaunchTemplate:                   &asgtypes.LaunchTemplateSpecification{LaunchTemplateName: aws.String("berth-sim")},
		NewInstancesProtectedFromScaleIn: aws.Bool(true),
		Tags: []asgtypes.Tag{
			{Key: aws.String(autoscaling.TagCluster), Value: aws.String(cluster)},
			{Key: aws.String(autoscaling.TagInstanceType), Value: aws.String("m5.xlarge")},
		},
	}))
	g, err := groups.DescribeAutoScalingGroups(ctx, &asg.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{"hosts"}})
	if err != nil {
		b.Fatal(err)
	}
	must(client.CreateCapacityProvider(ctx, &ecs.CreateCapacityProviderInput{
		Name: aws.String("hosts-cp"),
		AutoScalingGroupProvider: &types.AutoScalingGroupProvider{
			AutoScalingGroupArn: g.AutoScalingGroups[0].AutoScalingGroupARN,
			ManagedScaling: &types.ManagedScaling{
				Status: types.ManagedScalingStatusEnabled, TargetCapacity: aws.Int32(100), InstanceWarmupPeriod: aws.Int32(1),
			},
			ManagedTerminationProtection: types.ManagedTerminationProtectionEnabled,
		},
	}))
	must(client.PutClusterCapacityProviders(ctx, &ecs.PutClusterCapacityProvidersInput{
		Cluster: aws.String(cluster), CapacityProviders: []string{"hosts-cp"},
		DefaultCapacityProviderStrategy: []types.CapacityProviderStrategyItem{{CapacityProvider: aws.String("hosts-cp"), Weight: 1}},
	}))
	td, err := client.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("app"),
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("busybox"),
			Cpu: scalingCPU, Memory: aws.Int32(scalingMemory), Essential: aws.Bool(true)}},
	})
	if err != nil {
		b.Fatal(err)
	}

	b.StartTimer()
	t0 := time.Now()
	must(client.CreateService(ctx, &ecs.CreateServiceInput{
		Cluster: aws.String(cluster), ServiceName: aws.String("web"), TaskDefinition: td.TaskDefinition.TaskDefinitionArn,
		DesiredCount: aws.Int32(scalingTasks),
	}))
	waitSteady(b, client, cluster, "web", aws.ToString(td.TaskDefinition.TaskDefinitionArn), 5*time.Minute)
	steady := time.Since(t0)
	b.StopTimer()

	g, err = groups.DescribeAutoScalingGroups(ctx, &asg.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{"hosts"}})
	if err != nil {
		b.Fatal(err)
	}
	causes := map[string]bool{}
	p := asg.NewDescribeScalingActivitiesPaginator(groups, &asg.DescribeScalingActivitiesInput{AutoScalingGroupName: aws.String("hosts")})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			b.Fatal(err)
		}
		for _, a := range page.Activities {
			if c := desiredChange.FindString(aws.ToString(a.Cause)); c != "" {
				causes[c] = true
			}
		}
	}
	if testing.Verbose() {
		for c := range causes {
			b.Logf("step: %s", c[strings.Index(c, "changing"):])
		}
	}
	perInstance := min(4096/scalingCPU, 16384/scalingMemory)
	return scalingResult{
		steady:    steady,
		steps:     len(causes),
		instances: len(g.AutoScalingGroups[0].Instances),
		minimum:   int(math.Ceil(float64(scalingTasks) / float64(perInstance))),
	}
}
