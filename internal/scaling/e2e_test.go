package scaling_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	asg "github.com/aws/aws-sdk-go-v2/service/autoscaling"
	asgtypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-dev/berth/internal/agent"
	"github.com/berth-dev/berth/internal/autoscaling"
	"github.com/berth-dev/berth/internal/autoscaling/inprocess"
	"github.com/berth-dev/berth/internal/leaktest"
	"github.com/berth-dev/berth/internal/server"
	"github.com/berth-dev/berth/internal/testkit"
)

// TestMain fails the run when a goroutine of the controllers, the
// launchers or their agents outlives the tests.
func TestMain(m *testing.M) {
	leaktest.Main(m, "berth/internal/scaling.", "berth/internal/autoscaling", "berth/internal/simfleet.", "berth/internal/agent.")
}

// testLaunchers is the server's LauncherFactory: fast sim agents.
func testLaunchers(ctx context.Context, env autoscaling.ServerEnv) (map[string]autoscaling.Launcher, io.Closer, error) {
	ls, err := inprocess.New(inprocess.Config{
		ECS: env.ECS, DataDir: env.DataDir, Log: env.Log, Speed: 20, StopTimeout: 15 * time.Second,
		Backoff: agent.Backoff{Min: 20 * time.Millisecond, Max: 500 * time.Millisecond},
	})
	if err != nil {
		return nil, nil, err
	}
	return ls.Map(), ls, nil
}

// startServer starts a server with sim instances and managed scaling
// every 200 ms, scaling in after 2 s below target.
func startServer(t *testing.T) *server.Main {
	t.Helper()
	m, err := server.Start(context.Background(), server.Config{
		Listen: "127.0.0.1:0", DataDir: t.TempDir(), AutoScalingLaunchers: testLaunchers,
		ScalingInterval: 200 * time.Millisecond, ScaleInAfter: 2 * time.Second,
	})
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return m
}

type clients struct {
	ecs *ecs.Client
	asg *asg.Client
}

func newClients(m *server.Main) clients {
	return clients{ecs: testkit.ECS(m.URL()), asg: testkit.AutoScaling(m.URL())}
}

// setup creates cluster, an empty sim group of m5.xlarge (max 20, new
// instances protected from scale-in), a provider on it with managed
// scaling (target 100, warm-up 1 s) and managed termination protection,
// the cluster's default strategy, and a task definition of 1 vCPU / 2 GiB
// (four per instance).
func setup(t *testing.T, c clients, cluster string) {
	t.Helper()
	ctx := t.Context()
	testkit.Must(c.ecs.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(cluster)}))(t)
	testkit.Must(c.asg.CreateAutoScalingGroup(ctx, &asg.CreateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String(cluster + "-hosts"), MinSize: aws.Int32(0), MaxSize: aws.Int32(20), DesiredCapacity: aws.Int32(0),
		AvailabilityZones:                []string{"us-east-1a", "us-east-1b"},
		LaunchTemplate:                   &asgtypes.LaunchTemplateSpecification{LaunchTemplateName: aws.String("berth-sim")},
		NewInstancesProtectedFromScaleIn: aws.Bool(true),
		Tags: []asgtypes.Tag{
			{Key: aws.String(autoscaling.TagCluster), Value: aws.String(cluster)},
			{Key: aws.String(autoscaling.TagInstanceType), Value: aws.String("m5.xlarge")},
		},
	}))(t)
	g := testkit.Must(c.asg.DescribeAutoScalingGroups(ctx, &asg.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{cluster + "-hosts"}}))(t)
	testkit.Must(c.ecs.CreateCapacityProvider(ctx, &ecs.CreateCapacityProviderInput{
		Name: aws.String(cluster + "-cp"),
		AutoScalingGroupProvider: &types.AutoScalingGroupProvider{
			AutoScalingGroupArn: g.AutoScalingGroups[0].AutoScalingGroupARN,
			ManagedScaling: &types.ManagedScaling{
				Status: types.ManagedScalingStatusEnabled, TargetCapacity: aws.Int32(100), InstanceWarmupPeriod: aws.Int32(1),
			},
			ManagedTerminationProtection: types.ManagedTerminationProtectionEnabled,
		},
	}))(t)
	testkit.Must(c.ecs.PutClusterCapacityProviders(ctx, &ecs.PutClusterCapacityProvidersInput{
		Cluster: aws.String(cluster), CapacityProviders: []string{cluster + "-cp"},
		DefaultCapacityProviderStrategy: []types.CapacityProviderStrategyItem{{CapacityProvider: aws.String(cluster + "-cp"), Weight: 1}},
	}))(t)
	testkit.Must(c.ecs.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("app"),
		ContainerDefinitions: []types.ContainerDefinition{{
			Name: aws.String("app"), Image: aws.String("berth/app:1"), Cpu: 1024, Memory: aws.Int32(2048)}},
	}))(t)
}

func describeGroup(t *testing.T, c clients, name string) asgtypes.AutoScalingGroup {
	t.Helper()
	out := testkit.Must(c.asg.DescribeAutoScalingGroups(t.Context(), &asg.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{name}}))(t)
	if len(out.AutoScalingGroups) != 1 {
		t.Fatalf("describe %s: %d groups", name, len(out.AutoScalingGroups))
	}
	return out.AutoScalingGroups[0]
}

// busyInstances returns the EC2 instance ids of the cluster's container
// instances that run or are about to run a task.
func busyInstances(ctx context.Context, c clients, cluster string) (map[string]bool, error) {
	l, err := c.ecs.ListContainerInstances(ctx, &ecs.ListContainerInstancesInput{Cluster: aws.String(cluster)})
	if err != nil || len(l.ContainerInstanceArns) == 0 {
		return map[string]bool{}, err
	}
	out := map[string]bool{}
	for i := 0; i < len(l.ContainerInstanceArns); i += 100 {
		d, err := c.ecs.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{
			Cluster: aws.String(cluster), ContainerInstances: l.ContainerInstanceArns[i:min(i+100, len(l.ContainerInstanceArns))]})
		if err != nil {
			return nil, err
		}
		for _, ci := range d.ContainerInstances {
			if ci.RunningTasksCount+ci.PendingTasksCount > 0 {
				out[aws.ToString(ci.Ec2InstanceId)] = true
			}
		}
	}
	return out, nil
}

// TestManagedScaling_ServiceOutAndIn: a 40-task service on an empty
// provider scales the group out from zero to the 10 instances the tasks
// need (four per m5.xlarge) and reaches steady state; scaled to 0, the
// service's instances are drained and the group scales in to 0, never
// terminating an instance that runs a task.
func TestManagedScaling_ServiceOutAndIn(t *testing.T) {
	t.Parallel()
	m := startServer(t)
	c := newClients(m)
	ctx := t.Context()
	setup(t, c, "svc")

	start := time.Now()
	testkit.Must(c.ecs.CreateService(ctx, &ecs.CreateServiceInput{
		Cluster: aws.String("svc"), ServiceName: aws.String("web"), TaskDefinition: aws.String("app"), DesiredCount: aws.Int32(40),
	}))(t)
	testkit.Eventually(t, 90*time.Second, "40 running tasks on 10 instances", func() error {
		s := testkit.Must(c.ecs.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("svc"), Services: []string{"web"}}))(t)
		g := describeGroup(t, c, "svc-hosts")
		if run := s.Services[0].RunningCount; run != 40 || len(g.Instances) != 10 {
			return fmt.Errorf("%d running, %d instances (desired %d)", run, len(g.Instances), aws.ToInt32(g.DesiredCapacity))
		}
		return nil
	})
	t.Logf("scaled out from zero to steady state in %v", time.Since(start).Round(time.Millisecond))
	// The group never went beyond what binpacking needs, and every
	// instance runs tasks and is protected from scale-in.
	g := describeGroup(t, c, "svc-hosts")
	if aws.ToInt32(g.DesiredCapacity) != 10 {
		t.Fatalf("desired capacity %d, want 10", aws.ToInt32(g.DesiredCapacity))
	}
	for _, in := range g.Instances {
		if !aws.ToBool(in.ProtectedFromScaleIn) {
			t.Errorf("busy instance %s is not protected from scale-in", aws.ToString(in.InstanceId))
		}
	}
	acts := testkit.Must(c.asg.DescribeScalingActivities(ctx, &asg.DescribeScalingActivitiesInput{AutoScalingGroupName: aws.String("svc-hosts")}))(t)
	launches := 0
	for _, a := range acts.Activities {
		if strings.HasPrefix(aws.ToString(a.Description), "Launching") {
			launches++
			if !strings.Contains(aws.ToString(a.Cause), "TargetTracking-svc-cp-AlarmHigh") || !strings.Contains(aws.ToString(a.Cause), "CapacityProviderReservation") {
				t.Errorf("launch cause %q", aws.ToString(a.Cause))
			}
		}
	}
	if launches != 10 {
		t.Errorf("%d launches, want 10", launches)
	}
	// The metric is on the cluster's scaling attachment, at target from
	// the first evaluation after the tasks were placed (the one that
	// scaled out recorded the demand of the waiting tasks).
	testkit.Eventually(t, 5*time.Second, "the metric at target", func() error {
		cl := testkit.Must(c.ecs.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{"svc"}, Include: []types.ClusterField{types.ClusterFieldAttachments}}))(t)
		if got := detail(cl.Clusters[0].Attachments, "capacityProviderReservation"); got != "100" {
			return fmt.Errorf("capacityProviderReservation %q, want 100", got)
		}
		return nil
	})
	if g := describeGroup(t, c, "svc-hosts"); aws.ToInt32(g.DesiredCapacity) != 10 {
		t.Fatalf("desired capacity %d after the metric settled, want 10", aws.ToInt32(g.DesiredCapacity))
	}

	// Scale the service to 0 and sample while the group scales in: an
	// instance leaving the group must have been empty when last seen.
	testkit.Must(c.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("svc"), Service: aws.String("web"), DesiredCount: aws.Int32(0)}))(t)
	var prevBusy map[string]bool
	prevIDs := map[string]bool{}
	testkit.Eventually(t, 90*time.Second, "the group scaled in to 0", func() error {
		busy, err := busyInstances(ctx, c, "svc")
		if err != nil {
			return err
		}
		g := describeGroup(t, c, "svc-hosts")
		ids := map[string]bool{}
		for _, in := range g.Instances {
			ids[aws.ToString(in.InstanceId)] = true
		}
		for id := range prevIDs {
			if !ids[id] && prevBusy[id] {
				t.Errorf("instance %s left the group while it ran tasks", id)
			}
		}
		prevIDs, prevBusy = ids, busy
		if len(g.Instances) != 0 || aws.ToInt32(g.DesiredCapacity) != 0 {
			return fmt.Errorf("%d instances, desired %d", len(g.Instances), aws.ToInt32(g.DesiredCapacity))
		}
		return nil
	})
	// No task was stopped by an instance's termination.
	stopped := testkit.Must(c.ecs.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String("svc"), DesiredStatus: types.DesiredStatusStopped}))(t)
	for i := 0; i < len(stopped.TaskArns); i += 100 {
		d := testkit.Must(c.ecs.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("svc"), Tasks: stopped.TaskArns[i:min(i+100, len(stopped.TaskArns))]}))(t)
		for _, task := range d.Tasks {
			if strings.Contains(aws.ToString(task.StoppedReason), ") terminated") {
				t.Errorf("task %s was stopped by its instance's termination: %q", aws.ToString(task.TaskArn), aws.ToString(task.StoppedReason))
			}
		}
	}
	acts = testkit.Must(c.asg.DescribeScalingActivities(ctx, &asg.DescribeScalingActivitiesInput{AutoScalingGroupName: aws.String("svc-hosts")}))(t)
	lows := 0
	for _, a := range acts.Activities {
		if strings.HasPrefix(aws.ToString(a.Description), "Terminating") {
			if a.StatusCode != asgtypes.ScalingActivityStatusCodeSuccessful {
				t.Errorf("termination %s: %s", aws.ToString(a.Description), a.StatusCode)
			}
			if strings.Contains(aws.ToString(a.Cause), "TargetTracking-svc-cp-AlarmLow") {
				lows++
			}
		}
	}
	if lows != 10 {
		t.Errorf("%d terminations caused by the low alarm, want 10", lows)
	}
}

func detail(atts []types.Attachment, name string) string {
	for _, a := range atts {
		for _, d := range a.Details {
			if aws.ToString(d.Name) == name {
				return aws.ToString(d.Value)
			}
		}
	}
	return ""
}

// TestManagedScaling_RunTaskWaits: RunTask on an empty provider returns
// PROVISIONING tasks, placed once the instances managed scaling launches
// arrive; the aws CLI shows the provider and the metric.
func TestManagedScaling_RunTaskWaits(t *testing.T) {
	t.Parallel()
	m := startServer(t)
	c := newClients(m)
	ctx := t.Context()
	setup(t, c, "rt")

	run := testkit.Must(c.ecs.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("rt"), TaskDefinition: aws.String("app"), Count: aws.Int32(6)}))(t)
	if len(run.Tasks) != 6 || len(run.Failures) != 0 {
		t.Fatalf("RunTask: %d tasks, failures %+v", len(run.Tasks), run.Failures)
	}
	var arns []string
	for _, task := range run.Tasks {
		if aws.ToString(task.LastStatus) != "PROVISIONING" || task.ContainerInstanceArn != nil {
			t.Fatalf("task %s: %s on %v", aws.ToString(task.TaskArn), aws.ToString(task.LastStatus), task.ContainerInstanceArn)
		}
		arns = append(arns, aws.ToString(task.TaskArn))
	}
	var once sync.Once
	testkit.Eventually(t, 60*time.Second, "the tasks RUNNING on the group's instances", func() error {
		d := testkit.Must(c.ecs.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("rt"), Tasks: arns}))(t)
		for _, task := range d.Tasks {
			if aws.ToString(task.LastStatus) != "RUNNING" {
				return fmt.Errorf("task %s is %s", aws.ToString(task.TaskArn), aws.ToString(task.LastStatus))
			}
		}
		once.Do(func() {})
		return nil
	})
	// From zero, 2 instances (metric 200); 6 tasks need both.
	g := describeGroup(t, c, "rt-hosts")
	if len(g.Instances) != 2 {
		t.Errorf("%d instances, want 2", len(g.Instances))
	}

	if _, err := exec.LookPath("aws"); err != nil {
		t.Fatalf("the aws CLI is required: %v", err)
	}
	home := t.TempDir()
	env := []string{
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE=" + home + "/config", "AWS_SHARED_CREDENTIALS_FILE=" + home + "/credentials",
		"AWS_PAGER=", "HOME=" + home, "PATH=" + os.Getenv("PATH"),
	}
	cli := func(v any, args ...string) {
		t.Helper()
		cmd := exec.Command("aws", append(args, "--endpoint-url", m.URL(), "--output", "json")...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		if err := json.Unmarshal(out, v); err != nil {
			t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	var cps struct {
		CapacityProviders []struct {
			Name, Status             string
			AutoScalingGroupProvider struct {
				ManagedScaling struct {
					Status         string
					TargetCapacity int
				}
				ManagedTerminationProtection, ManagedDraining string
			}
		}
	}
	cli(&cps, "ecs", "describe-capacity-providers", "--capacity-providers", "rt-cp")
	if len(cps.CapacityProviders) != 1 {
		t.Fatalf("capacity providers %+v", cps)
	}
	p := cps.CapacityProviders[0].AutoScalingGroupProvider
	if p.ManagedScaling.Status != "ENABLED" || p.ManagedScaling.TargetCapacity != 100 || p.ManagedTerminationProtection != "ENABLED" || p.ManagedDraining != "ENABLED" {
		t.Fatalf("provider %+v", cps.CapacityProviders[0])
	}
	var cls struct {
		Clusters []struct {
			Attachments []struct {
				Type, Status string
				Details      []struct{ Name, Value string }
			}
		}
	}
	cli(&cls, "ecs", "describe-clusters", "--clusters", "rt", "--include", "ATTACHMENTS")
	if len(cls.Clusters) != 1 || len(cls.Clusters[0].Attachments) != 1 || cls.Clusters[0].Attachments[0].Type != "as_policy" {
		t.Fatalf("clusters %+v", cls)
	}
	found := false
	for _, d := range cls.Clusters[0].Attachments[0].Details {
		found = found || d.Name == "capacityProviderReservation"
	}
	if !found {
		t.Fatalf("no metric on the attachment: %+v", cls.Clusters[0].Attachments[0])
	}
}
