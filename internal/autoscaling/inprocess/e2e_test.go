package inprocess_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
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
	"github.com/berth-dev/berth/internal/api"
	"github.com/berth-dev/berth/internal/autoscaling"
	"github.com/berth-dev/berth/internal/autoscaling/inprocess"
	"github.com/berth-dev/berth/internal/leaktest"
	"github.com/berth-dev/berth/internal/server"
	"github.com/berth-dev/berth/internal/testkit"
)

// TestMain fails the run when a goroutine of the launchers, the pool or
// their agents outlives the tests: server Close must stop them all.
func TestMain(m *testing.M) {
	leaktest.Main(m, "berth/internal/autoscaling", "berth/internal/simfleet.", "berth/internal/agent.")
}

// testLaunchers is the server's LauncherFactory in tests: fast agents,
// fast simulated containers.
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

// startServer starts a server with the in-process launchers on dataDir.
func startServer(t *testing.T, dataDir string) *server.Main {
	t.Helper()
	m, err := server.Start(context.Background(), server.Config{Listen: "127.0.0.1:0", DataDir: dataDir, AutoScalingLaunchers: testLaunchers})
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	return m
}

type clients struct {
	ecs *ecs.Client
	asg *asg.Client
}

func newClients(m *server.Main) clients {
	return clients{ecs: testkit.ECS(m.URL()), asg: testkit.AutoScaling(m.URL())}
}

// createGroup creates an Auto Scaling group of the sim launcher in
// cluster, with no instances, and returns its ARN.
func createGroup(t *testing.T, c clients, name, cluster, instanceType string) string {
	t.Helper()
	testkit.Must(c.asg.CreateAutoScalingGroup(t.Context(), &asg.CreateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String(name), MinSize: aws.Int32(0), MaxSize: aws.Int32(5), DesiredCapacity: aws.Int32(0),
		AvailabilityZones: []string{"us-east-1a", "us-east-1b", "us-east-1c"},
		LaunchTemplate:    &asgtypes.LaunchTemplateSpecification{LaunchTemplateName: aws.String("hosts")},
		Tags: []asgtypes.Tag{
			{Key: aws.String(autoscaling.TagLauncher), Value: aws.String("sim")},
			{Key: aws.String(autoscaling.TagCluster), Value: aws.String(cluster)},
			{Key: aws.String(autoscaling.TagInstanceType), Value: aws.String(instanceType)},
		},
	}))(t)
	return aws.ToString(describeGroup(t, c, name).AutoScalingGroupARN)
}

func describeGroup(t *testing.T, c clients, name string) asgtypes.AutoScalingGroup {
	t.Helper()
	out := testkit.Must(c.asg.DescribeAutoScalingGroups(t.Context(), &asg.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{name}}))(t)
	if len(out.AutoScalingGroups) != 1 {
		t.Fatalf("describe %s: %d groups", name, len(out.AutoScalingGroups))
	}
	return out.AutoScalingGroups[0]
}

// waitGroup waits until the group has n instances, all InService, and
// returns them by id.
func waitGroup(t *testing.T, c clients, name string, n int) map[string]asgtypes.Instance {
	t.Helper()
	var out map[string]asgtypes.Instance
	testkit.Eventually(t, 60*time.Second, fmt.Sprintf("%d instances in service", n), func() error {
		g := describeGroup(t, c, name)
		out = map[string]asgtypes.Instance{}
		for _, in := range g.Instances {
			if in.LifecycleState != asgtypes.LifecycleStateInService {
				return fmt.Errorf("instance %s is %s", aws.ToString(in.InstanceId), in.LifecycleState)
			}
			out[aws.ToString(in.InstanceId)] = in
		}
		if len(out) != n {
			return fmt.Errorf("%d instances", len(out))
		}
		return nil
	})
	return out
}

// containerInstances describes the listed container instances of
// cluster and those of known (ListContainerInstances leaves out INACTIVE
// ones, which stay describable), by EC2 instance id.
func containerInstances(t *testing.T, c clients, cluster string, known ...map[string]types.ContainerInstance) map[string]types.ContainerInstance {
	t.Helper()
	l := testkit.Must(c.ecs.ListContainerInstances(t.Context(), &ecs.ListContainerInstancesInput{Cluster: aws.String(cluster)}))(t)
	arns := l.ContainerInstanceArns
	for _, k := range known {
		for _, ci := range k {
			if arn := aws.ToString(ci.ContainerInstanceArn); !slices.Contains(arns, arn) {
				arns = append(arns, arn)
			}
		}
	}
	out := map[string]types.ContainerInstance{}
	if len(arns) == 0 {
		return out
	}
	d := testkit.Must(c.ecs.DescribeContainerInstances(t.Context(), &ecs.DescribeContainerInstancesInput{Cluster: aws.String(cluster), ContainerInstances: arns}))(t)
	for _, ci := range d.ContainerInstances {
		out[aws.ToString(ci.Ec2InstanceId)] = ci
	}
	return out
}

func attribute(ci types.ContainerInstance, name string) string {
	for _, a := range ci.Attributes {
		if aws.ToString(a.Name) == name {
			return aws.ToString(a.Value)
		}
	}
	return ""
}

func resource(ci types.ContainerInstance, name string) int32 {
	for _, r := range ci.RegisteredResources {
		if aws.ToString(r.Name) == name {
			return r.IntegerValue
		}
	}
	return -1
}

// TestSimLauncher_CapacityProvider drives a capacity provider on a group
// of the sim launcher: scale out to 3, run tasks on the provider, scale
// in to 1.
func TestSimLauncher_CapacityProvider(t *testing.T) {
	t.Parallel()
	m := startServer(t, t.TempDir())
	defer m.Close()
	c := newClients(m)
	ctx := t.Context()
	testkit.Must(c.ecs.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("scaled")}))(t)
	groupARN := createGroup(t, c, "sims", "scaled", "m5.large")
	testkit.Must(c.ecs.CreateCapacityProvider(ctx, &ecs.CreateCapacityProviderInput{
		Name: aws.String("sims-cp"),
		AutoScalingGroupProvider: &types.AutoScalingGroupProvider{
			AutoScalingGroupArn: aws.String(groupARN),
			ManagedScaling:      &types.ManagedScaling{Status: types.ManagedScalingStatusDisabled},
			// Without managed draining the scale-in below terminates the
			// instances with their standalone tasks (with it, ECS would
			// wait up to 48 hours for those tasks to end).
			ManagedDraining: types.ManagedDrainingDisabled,
		},
	}))(t)
	testkit.Must(c.ecs.PutClusterCapacityProviders(ctx, &ecs.PutClusterCapacityProvidersInput{
		Cluster: aws.String("scaled"), CapacityProviders: []string{"sims-cp"},
		DefaultCapacityProviderStrategy: []types.CapacityProviderStrategyItem{{CapacityProvider: aws.String("sims-cp"), Weight: 1}},
	}))(t)

	// Scale out: three connected container instances with the group's ids.
	testkit.Must(c.asg.SetDesiredCapacity(ctx, &asg.SetDesiredCapacityInput{AutoScalingGroupName: aws.String("sims"), DesiredCapacity: aws.Int32(3)}))(t)
	group := waitGroup(t, c, "sims", 3)
	var cis map[string]types.ContainerInstance
	testkit.Eventually(t, 30*time.Second, "3 connected container instances", func() error {
		cis = containerInstances(t, c, "scaled")
		if len(cis) != 3 {
			return fmt.Errorf("%d container instances", len(cis))
		}
		for id, ci := range cis {
			if aws.ToString(ci.Status) != "ACTIVE" || !ci.AgentConnected {
				return fmt.Errorf("%s: %s connected=%v", id, aws.ToString(ci.Status), ci.AgentConnected)
			}
		}
		return nil
	})
	for id, in := range group {
		ci, ok := cis[id]
		if !ok {
			t.Fatalf("group instance %s has no container instance (have %v)", id, slices.Collect(maps.Keys(cis)))
		}
		if attribute(ci, "ecs.instance-type") != "m5.large" || attribute(ci, "ecs.availability-zone") != aws.ToString(in.AvailabilityZone) {
			t.Errorf("%s: type %q zone %q, want m5.large %s", id, attribute(ci, "ecs.instance-type"), attribute(ci, "ecs.availability-zone"), aws.ToString(in.AvailabilityZone))
		}
		if resource(ci, "CPU") != 2048 || resource(ci, "MEMORY") != 8192 {
			t.Errorf("%s: CPU %d memory %d, want m5.large's 2048 and 8192", id, resource(ci, "CPU"), resource(ci, "MEMORY"))
		}
	}

	// Tasks on the provider land on the group's instances.
	testkit.Must(c.ecs.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("app"),
		ContainerDefinitions: []types.ContainerDefinition{{
			Name: aws.String("app"), Image: aws.String("berth/app:1"), Cpu: 256, Memory: aws.Int32(1024)}},
	}))(t)
	run := testkit.Must(c.ecs.RunTask(ctx, &ecs.RunTaskInput{
		Cluster: aws.String("scaled"), TaskDefinition: aws.String("app"), Count: aws.Int32(6),
		CapacityProviderStrategy: []types.CapacityProviderStrategyItem{{CapacityProvider: aws.String("sims-cp"), Weight: 1}},
	}))(t)
	if len(run.Tasks) != 6 || len(run.Failures) != 0 {
		t.Fatalf("RunTask: %d tasks, failures %+v", len(run.Tasks), run.Failures)
	}
	byARN := map[string]string{} // container instance ARN → EC2 id
	for id, ci := range cis {
		byARN[aws.ToString(ci.ContainerInstanceArn)] = id
	}
	var taskARNs []string
	for _, task := range run.Tasks {
		taskARNs = append(taskARNs, aws.ToString(task.TaskArn))
		if aws.ToString(task.CapacityProviderName) != "sims-cp" || byARN[aws.ToString(task.ContainerInstanceArn)] == "" {
			t.Errorf("task %s: provider %q on %s", aws.ToString(task.TaskArn), aws.ToString(task.CapacityProviderName), aws.ToString(task.ContainerInstanceArn))
		}
	}
	testkit.Eventually(t, 30*time.Second, "tasks RUNNING", func() error {
		d := testkit.Must(c.ecs.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("scaled"), Tasks: taskARNs}))(t)
		for _, task := range d.Tasks {
			if aws.ToString(task.LastStatus) != "RUNNING" {
				return fmt.Errorf("task %s is %s", aws.ToString(task.TaskArn), aws.ToString(task.LastStatus))
			}
		}
		return nil
	})

	// Scale in to 1 (no protection): two instances terminated, INACTIVE.
	testkit.Must(c.asg.SetDesiredCapacity(ctx, &asg.SetDesiredCapacityInput{AutoScalingGroupName: aws.String("sims"), DesiredCapacity: aws.Int32(1)}))(t)
	left := waitGroup(t, c, "sims", 1)
	all := cis
	testkit.Eventually(t, 30*time.Second, "2 INACTIVE container instances", func() error {
		cis = containerInstances(t, c, "scaled", all)
		if len(cis) != 3 {
			return fmt.Errorf("%d container instances", len(cis))
		}
		for id, ci := range cis {
			_, kept := left[id]
			if want := map[bool]string{true: "ACTIVE", false: "INACTIVE"}[kept]; aws.ToString(ci.Status) != want {
				return fmt.Errorf("%s is %s, want %s", id, aws.ToString(ci.Status), want)
			}
		}
		return nil
	})
	for id := range left {
		if !cis[id].AgentConnected {
			t.Errorf("the remaining instance %s is not connected", id)
		}
	}
	// The tasks of the terminated instances were stopped with them.
	d := testkit.Must(c.ecs.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("scaled"), Tasks: taskARNs}))(t)
	for _, task := range d.Tasks {
		id := byARN[aws.ToString(task.ContainerInstanceArn)]
		if _, kept := left[id]; kept {
			if aws.ToString(task.LastStatus) != "RUNNING" {
				t.Errorf("task on the remaining instance is %s", aws.ToString(task.LastStatus))
			}
			continue
		}
		if aws.ToString(task.LastStatus) != "STOPPED" || !strings.Contains(aws.ToString(task.StoppedReason), id+") terminated") {
			t.Errorf("task on terminated %s: %s, %q", id, aws.ToString(task.LastStatus), aws.ToString(task.StoppedReason))
		}
	}

	// The activities tell the story: 3 launches, 2 terminations.
	acts := testkit.Must(c.asg.DescribeScalingActivities(ctx, &asg.DescribeScalingActivitiesInput{AutoScalingGroupName: aws.String("sims")}))(t)
	var launched, terminated []string
	for _, a := range acts.Activities {
		if a.StatusCode != asgtypes.ScalingActivityStatusCodeSuccessful {
			t.Errorf("activity %q: %s %q", aws.ToString(a.Description), a.StatusCode, aws.ToString(a.StatusMessage))
		}
		desc := aws.ToString(a.Description)
		if id, ok := strings.CutPrefix(desc, "Launching a new EC2 instance: "); ok {
			launched = append(launched, id)
		} else if id, ok := strings.CutPrefix(desc, "Terminating EC2 instance: "); ok {
			terminated = append(terminated, id)
		}
	}
	sort.Strings(launched)
	if want := slices.Sorted(maps.Keys(group)); !slices.Equal(launched, want) {
		t.Errorf("launch activities for %v, want %v", launched, want)
	}
	if len(terminated) != 2 || slices.ContainsFunc(terminated, func(id string) bool { _, kept := left[id]; return kept }) {
		t.Errorf("termination activities for %v (kept %v)", terminated, slices.Collect(maps.Keys(left)))
	}
}

// TestSimLauncher_FailedLaunch: a launch of an instance type the launcher
// does not know, or into a cluster that does not exist, fails, and its
// activity says why.
func TestSimLauncher_FailedLaunch(t *testing.T) {
	t.Parallel()
	m := startServer(t, t.TempDir())
	defer m.Close()
	c := newClients(m)
	for _, tc := range []struct{ group, cluster, instanceType, want string }{
		{"odd", "default", "x9.huge", `sim launcher: unknown instance type "x9.huge"; known: t3.micro`},
		{"lost", "nope", "t3.micro", "ClusterNotFoundException"},
	} {
		createGroup(t, c, tc.group, tc.cluster, tc.instanceType)
		testkit.Must(c.asg.SetDesiredCapacity(t.Context(), &asg.SetDesiredCapacityInput{AutoScalingGroupName: aws.String(tc.group), DesiredCapacity: aws.Int32(1)}))(t)
		testkit.Eventually(t, 30*time.Second, "a failed launch", func() error {
			acts := testkit.Must(c.asg.DescribeScalingActivities(t.Context(), &asg.DescribeScalingActivitiesInput{AutoScalingGroupName: aws.String(tc.group)}))(t)
			for _, a := range acts.Activities {
				if a.StatusCode == asgtypes.ScalingActivityStatusCodeFailed {
					if msg := aws.ToString(a.StatusMessage); !strings.Contains(msg, tc.want) {
						t.Fatalf("%s: status message %q, want %q", tc.group, msg, tc.want)
					}
					return nil
				}
			}
			return fmt.Errorf("%d activities, none failed", len(acts.Activities))
		})
	}
}

// TestSimLauncher_Restart: the instances of a sim group end with the
// server; the next server on the same data directory launches its
// InService instances again, as the same container instances.
func TestSimLauncher_Restart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	m := startServer(t, dir)
	c := newClients(m)
	testkit.Must(c.ecs.CreateCluster(t.Context(), &ecs.CreateClusterInput{ClusterName: aws.String("r")}))(t)
	createGroup(t, c, "keep", "r", "c5.large")
	testkit.Must(c.asg.SetDesiredCapacity(t.Context(), &asg.SetDesiredCapacityInput{AutoScalingGroupName: aws.String("keep"), DesiredCapacity: aws.Int32(2)}))(t)
	group := waitGroup(t, c, "keep", 2)
	var before map[string]types.ContainerInstance
	testkit.Eventually(t, 30*time.Second, "2 connected instances", func() error {
		before = containerInstances(t, c, "r")
		for _, ci := range before {
			if !ci.AgentConnected {
				return fmt.Errorf("%s not connected", aws.ToString(ci.Ec2InstanceId))
			}
		}
		if len(before) != 2 {
			return fmt.Errorf("%d instances", len(before))
		}
		return nil
	})
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}

	m = startServer(t, dir)
	defer m.Close()
	c = newClients(m)
	if again := waitGroup(t, c, "keep", 2); !maps.EqualFunc(again, group, func(a, b asgtypes.Instance) bool { return true }) {
		t.Fatalf("group instances %v, want %v", slices.Collect(maps.Keys(again)), slices.Collect(maps.Keys(group)))
	}
	testkit.Eventually(t, 30*time.Second, "the same instances connected again", func() error {
		after := containerInstances(t, c, "r")
		if len(after) != 2 {
			return fmt.Errorf("%d container instances", len(after))
		}
		for id, ci := range after {
			if aws.ToString(ci.ContainerInstanceArn) != aws.ToString(before[id].ContainerInstanceArn) {
				return fmt.Errorf("%s is %s, was %s", id, aws.ToString(ci.ContainerInstanceArn), aws.ToString(before[id].ContainerInstanceArn))
			}
			if !ci.AgentConnected || aws.ToString(ci.Status) != "ACTIVE" {
				return fmt.Errorf("%s: %s connected=%v", id, aws.ToString(ci.Status), ci.AgentConnected)
			}
		}
		return nil
	})
}

// TestAWSCLI runs the aws CLI's autoscaling describe-auto-scaling-groups
// and ecs describe-capacity-providers against a server with a sim group.
func TestAWSCLI(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("aws"); err != nil {
		t.Fatalf("the aws CLI is required: %v", err)
	}
	m := startServer(t, t.TempDir())
	defer m.Close()
	c := newClients(m)
	testkit.Must(c.ecs.CreateCluster(t.Context(), &ecs.CreateClusterInput{ClusterName: aws.String("cli")}))(t)
	groupARN := createGroup(t, c, "cli-hosts", "cli", "t3.medium")
	testkit.Must(c.ecs.CreateCapacityProvider(t.Context(), &ecs.CreateCapacityProviderInput{
		Name:                     aws.String("cli-cp"),
		AutoScalingGroupProvider: &types.AutoScalingGroupProvider{AutoScalingGroupArn: aws.String(groupARN), ManagedScaling: &types.ManagedScaling{Status: types.ManagedScalingStatusDisabled}},
	}))(t)
	testkit.Must(c.asg.SetDesiredCapacity(t.Context(), &asg.SetDesiredCapacityInput{AutoScalingGroupName: aws.String("cli-hosts"), DesiredCapacity: aws.Int32(2)}))(t)
	group := waitGroup(t, c, "cli-hosts", 2)

	home := t.TempDir()
	env := []string{
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE=" + home + "/config", "AWS_SHARED_CREDENTIALS_FILE=" + home + "/credentials",
		"AWS_PAGER=", "HOME=" + home, "PATH=" + os.Getenv("PATH"),
	}
	run := func(v any, args ...string) {
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
	var groups struct {
		AutoScalingGroups []struct {
			AutoScalingGroupName, AutoScalingGroupARN string
			DesiredCapacity                           int
			Instances                                 []struct{ InstanceId, InstanceType, LifecycleState, AvailabilityZone string }
			Tags                                      []struct{ Key, Value string }
		}
	}
	run(&groups, "autoscaling", "describe-auto-scaling-groups", "--auto-scaling-group-names", "cli-hosts")
	if len(groups.AutoScalingGroups) != 1 {
		t.Fatalf("groups %+v", groups)
	}
	g := groups.AutoScalingGroups[0]
	if g.AutoScalingGroupARN != groupARN || g.DesiredCapacity != 2 || len(g.Instances) != 2 || len(g.Tags) != 3 {
		t.Fatalf("group %+v", g)
	}
	for _, in := range g.Instances {
		if _, ok := group[in.InstanceId]; !ok || in.InstanceType != "t3.medium" || in.LifecycleState != "InService" {
			t.Errorf("instance %+v", in)
		}
	}
	var cps struct {
		CapacityProviders []struct {
			Name, Status             string
			AutoScalingGroupProvider struct{ AutoScalingGroupArn string }
		}
	}
	run(&cps, "ecs", "describe-capacity-providers", "--capacity-providers", "cli-cp")
	if len(cps.CapacityProviders) != 1 || cps.CapacityProviders[0].Status != "ACTIVE" ||
		cps.CapacityProviders[0].AutoScalingGroupProvider.AutoScalingGroupArn != groupARN {
		t.Fatalf("capacity providers %+v", cps)
	}
}

// TestSimLauncher_SigV4Account: under --auth sigv4 the instances of a
// group sign with a key of the group's account (from the credentials
// file) and join that account's cluster in the group's region.
func TestSimLauncher_SigV4Account(t *testing.T) {
	t.Parallel()
	creds := filepath.Join(t.TempDir(), "credentials")
	if err := os.WriteFile(creds, []byte("AKIDTENANT tenant-secret 123456789012\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	m, err := server.Start(context.Background(), server.Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(),
		Auth: api.AuthSigV4, CredentialsFile: creds, AutoScalingLaunchers: testLaunchers})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	p := credentials.NewStaticCredentialsProvider("AKIDTENANT", "tenant-secret", "")
	c := clients{
		ecs: ecs.New(ecs.Options{Region: "eu-west-1", BaseEndpoint: aws.String(m.URL()), Credentials: p}),
		asg: asg.New(asg.Options{Region: "eu-west-1", BaseEndpoint: aws.String(m.URL()), Credentials: p}),
	}
	createGroup(t, c, "tenant", "default", "t3.micro") // the agent creates "default"
	testkit.Must(c.asg.SetDesiredCapacity(t.Context(), &asg.SetDesiredCapacityInput{AutoScalingGroupName: aws.String("tenant"), DesiredCapacity: aws.Int32(1)}))(t)
	group := waitGroup(t, c, "tenant", 1)
	cis := containerInstances(t, c, "default")
	for id := range group {
		ci, ok := cis[id]
		if !ok || !strings.HasPrefix(aws.ToString(ci.ContainerInstanceArn), "arn:aws:ecs:eu-west-1:123456789012:container-instance/default/") {
			t.Fatalf("container instances %v", slices.Collect(maps.Keys(cis)))
		}
	}
}
