package e2e

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-dev/berth/internal/testkit"
)

// fargateSetup creates cluster with the Fargate capacity providers and
// registers a Fargate task definition (256 CPU, 512 MiB, awsvpc) whose
// containers run image with args, and returns its ARN.
func fargateSetup(t *testing.T, c *ecs.Client, cluster, family, image string, args ...string) string {
	t.Helper()
	cx := ctx(t)
	testkit.Must(c.CreateCluster(cx, &ecs.CreateClusterInput{ClusterName: aws.String(cluster), CapacityProviders: []string{"FARGATE", "FARGATE_SPOT"}}))(t)
	td := testkit.Must(c.RegisterTaskDefinition(cx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String(family), Cpu: aws.String("256"), Memory: aws.String("512"),
		NetworkMode:             types.NetworkModeAwsvpc,
		RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
		ContainerDefinitions: []types.ContainerDefinition{
			{Name: aws.String("app"), Image: aws.String(image), Essential: aws.Bool(true), Command: args,
				PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(8080)}}},
			{Name: aws.String("sidecar"), Image: aws.String(image), Essential: aws.Bool(false), Command: args},
		},
	}))(t)
	return aws.ToString(td.TaskDefinition.TaskDefinitionArn)
}

// subnets is the network configuration of the tests' Fargate tasks.
func subnets() *types.NetworkConfiguration {
	return &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-0a1b2c3d"}}}
}

// waitTask runs an SDK waiter (tasks_running or tasks_stopped) for one task.
func waitTask(t *testing.T, c *ecs.Client, cluster, arn string, running bool) types.Task {
	t.Helper()
	cx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	in := &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: []string{arn}}
	var err error
	if running {
		err = ecs.NewTasksRunningWaiter(c, func(o *ecs.TasksRunningWaiterOptions) { o.MinDelay = 100 * time.Millisecond; o.MaxDelay = time.Second }).Wait(cx, in, time.Minute)
	} else {
		err = ecs.NewTasksStoppedWaiter(c, func(o *ecs.TasksStoppedWaiterOptions) { o.MinDelay = 100 * time.Millisecond; o.MaxDelay = time.Second }).Wait(cx, in, time.Minute)
	}
	d := testkit.Must(c.DescribeTasks(ctx(t), in))(t)
	if err != nil {
		t.Fatalf("waiting for %s (running=%v): %v; task: %+v", arn, running, err, d.Tasks)
	}
	return d.Tasks[0]
}

// eniOf returns the task's ENI attachment details by name, checking that
// it has exactly one ENI attachment in the given status.
func eniOf(t *testing.T, task types.Task, status string) map[string]string {
	t.Helper()
	if len(task.Attachments) != 1 || aws.ToString(task.Attachments[0].Type) != "ElasticNetworkInterface" || aws.ToString(task.Attachments[0].Status) != status {
		t.Fatalf("attachments %+v, want one ElasticNetworkInterface %s", task.Attachments, status)
	}
	out := map[string]string{}
	for _, d := range task.Attachments[0].Details {
		out[aws.ToString(d.Name)] = aws.ToString(d.Value)
	}
	return out
}

// checkFargateRunning checks the shape of a RUNNING Fargate task and
// returns its private address.
func checkFargateRunning(t *testing.T, task types.Task, provider string) string {
	t.Helper()
	if task.ContainerInstanceArn != nil || task.LaunchType != types.LaunchTypeFargate || aws.ToString(task.CapacityProviderName) != provider ||
		aws.ToString(task.PlatformVersion) != "1.4.0" || aws.ToString(task.PlatformFamily) != "Linux" || task.Connectivity != types.ConnectivityConnected {
		t.Fatalf("task %+v", task)
	}
	eni := eniOf(t, task, "ATTACHED")
	ip := eni["privateIPv4Address"]
	if addr, err := netip.ParseAddr(ip); err != nil || !netip.MustParsePrefix("10.213.0.0/16").Contains(addr) {
		t.Fatalf("privateIPv4Address %q, want one in 10.213.0.0/16 (details %v)", ip, eni)
	}
	if eni["subnetId"] != "subnet-0a1b2c3d" || eni["networkInterfaceId"] == "" || eni["macAddress"] == "" {
		t.Fatalf("ENI details %v", eni)
	}
	for _, ct := range task.Containers {
		if len(ct.NetworkInterfaces) != 1 || aws.ToString(ct.NetworkInterfaces[0].PrivateIpv4Address) != ip ||
			aws.ToString(ct.NetworkInterfaces[0].AttachmentId) != aws.ToString(task.Attachments[0].Id) {
			t.Fatalf("container %s network interfaces %+v", aws.ToString(ct.Name), ct.NetworkInterfaces)
		}
		if len(ct.NetworkBindings) != 0 {
			t.Fatalf("container %s network bindings %+v: awsvpc tasks publish no host ports", aws.ToString(ct.Name), ct.NetworkBindings)
		}
	}
	return ip
}

func statistics(t *testing.T, c *ecs.Client, cluster string) map[string]string {
	t.Helper()
	d := testkit.Must(c.DescribeClusters(ctx(t), &ecs.DescribeClustersInput{Clusters: []string{cluster}, Include: []types.ClusterField{types.ClusterFieldStatistics}}))(t)
	out := map[string]string{}
	for _, kv := range d.Clusters[0].Statistics {
		out[aws.ToString(kv.Name)] = aws.ToString(kv.Value)
	}
	return out
}

// TestFargate_Sim runs Fargate and Fargate Spot tasks on the fleet's
// simulated runtime through the SDK, from RunTask to STOPPED.
func TestFargate_Sim(t *testing.T) {
	m := startServer(t, options{fargate: "sim"})
	c := defaultClient(m)
	tdARN := fargateSetup(t, c, "fg", "fg-web", "public.ecr.aws/berth/web:1")
	cx := ctx(t)

	t.Run("ErrNoNetworkConfiguration", func(t *testing.T) {
		_, err := c.RunTask(cx, &ecs.RunTaskInput{Cluster: aws.String("fg"), TaskDefinition: aws.String(tdARN), LaunchType: types.LaunchTypeFargate})
		wantErr[*types.InvalidParameterException](t, err)
		wantMsg(t, err, "Network Configuration must be provided when networkMode 'awsvpc' is specified.")
	})
	t.Run("ErrPlatformUnknown", func(t *testing.T) {
		_, err := c.RunTask(cx, &ecs.RunTaskInput{Cluster: aws.String("fg"), TaskDefinition: aws.String(tdARN), LaunchType: types.LaunchTypeFargate,
			NetworkConfiguration: subnets(), PlatformVersion: aws.String("9.9.9")})
		wantErr[*types.PlatformUnknownException](t, err)
	})

	run := testkit.Must(c.RunTask(cx, &ecs.RunTaskInput{Cluster: aws.String("fg"), TaskDefinition: aws.String(tdARN), LaunchType: types.LaunchTypeFargate,
		NetworkConfiguration: subnets(), PlatformVersion: aws.String("LATEST")}))(t)
	if len(run.Tasks) != 1 || len(run.Failures) != 0 {
		t.Fatalf("run: %+v", run)
	}
	first := run.Tasks[0]
	arn := aws.ToString(first.TaskArn)
	if aws.ToString(first.LastStatus) != "PROVISIONING" || first.ContainerInstanceArn != nil || aws.ToString(first.PlatformVersion) != "1.4.0" {
		t.Fatalf("RunTask answered %+v", first)
	}
	eniOf(t, first, "PRECREATED")

	task := waitTask(t, c, "fg", arn, true)
	ip := checkFargateRunning(t, task, "")

	spot := testkit.Must(c.RunTask(cx, &ecs.RunTaskInput{Cluster: aws.String("fg"), TaskDefinition: aws.String(tdARN), NetworkConfiguration: subnets(),
		CapacityProviderStrategy: []types.CapacityProviderStrategyItem{{CapacityProvider: aws.String("FARGATE_SPOT"), Weight: 1}}}))(t)
	spotARN := aws.ToString(spot.Tasks[0].TaskArn)
	spotTask := waitTask(t, c, "fg", spotARN, true)
	if spotIP := checkFargateRunning(t, spotTask, "FARGATE_SPOT"); spotIP == ip {
		t.Fatalf("two tasks share the address %s", ip)
	}

	if s := statistics(t, c, "fg"); s["runningFargateTasksCount"] != "2" || s["runningEC2TasksCount"] != "0" || s["pendingFargateTasksCount"] != "0" {
		t.Fatalf("statistics %v", s)
	}
	list := testkit.Must(c.ListTasks(cx, &ecs.ListTasksInput{Cluster: aws.String("fg"), LaunchType: types.LaunchTypeFargate}))(t)
	if len(list.TaskArns) != 2 {
		t.Fatalf("ListTasks FARGATE: %v", list.TaskArns)
	}

	testkit.Must(c.StopTask(cx, &ecs.StopTaskInput{Cluster: aws.String("fg"), Task: aws.String(arn)}))(t)
	stopped := waitTask(t, c, "fg", arn, false)
	if stopped.StopCode != types.TaskStopCodeUserInitiated || aws.ToString(stopped.StoppedReason) != "Task stopped by user" {
		t.Fatalf("stopped %+v", stopped)
	}
	eniOf(t, stopped, "DELETED")
	for _, ct := range stopped.Containers {
		if aws.ToString(ct.LastStatus) != "STOPPED" {
			t.Fatalf("container %s is %s", aws.ToString(ct.Name), aws.ToString(ct.LastStatus))
		}
	}
	if s := statistics(t, c, "fg"); s["runningFargateTasksCount"] != "1" {
		t.Fatalf("statistics after StopTask %v", s)
	}
	testkit.Must(c.StopTask(cx, &ecs.StopTaskInput{Cluster: aws.String("fg"), Task: aws.String(spotARN)}))(t)
	waitTask(t, c, "fg", spotARN, false)
}

// TestFargate_SimFailures covers tasks that end on their own: an essential
// container that exits, and an image that cannot be pulled.
func TestFargate_SimFailures(t *testing.T) {
	m := startServer(t, options{fargate: "sim"})
	c := defaultClient(m)
	cx := ctx(t)
	testkit.Must(c.CreateCluster(cx, &ecs.CreateClusterInput{ClusterName: aws.String("fgf")}))(t)
	register := func(family, image string, env ...types.KeyValuePair) string {
		td := testkit.Must(c.RegisterTaskDefinition(cx, &ecs.RegisterTaskDefinitionInput{
			Family: aws.String(family), Cpu: aws.String("256"), Memory: aws.String("1024"),
			NetworkMode:             types.NetworkModeAwsvpc,
			RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
			ContainerDefinitions:    []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String(image), Essential: aws.Bool(true), Environment: env}},
		}))(t)
		return aws.ToString(td.TaskDefinition.TaskDefinitionArn)
	}
	runOne := func(td string) string {
		out := testkit.Must(c.RunTask(cx, &ecs.RunTaskInput{Cluster: aws.String("fgf"), TaskDefinition: aws.String(td), LaunchType: types.LaunchTypeFargate, NetworkConfiguration: subnets()}))(t)
		return aws.ToString(out.Tasks[0].TaskArn)
	}

	t.Run("EssentialExited", func(t *testing.T) {
		arn := runOne(register("fg-exit", "busybox", types.KeyValuePair{Name: aws.String("BERTH_SIM_RUN_SECONDS"), Value: aws.String("0.2")},
			types.KeyValuePair{Name: aws.String("BERTH_SIM_EXIT_CODE"), Value: aws.String("3")}))
		task := waitTask(t, c, "fgf", arn, false)
		if task.StopCode != types.TaskStopCodeEssentialContainerExited || aws.ToInt32(task.Containers[0].ExitCode) != 3 {
			t.Fatalf("stopped %+v", task)
		}
		eniOf(t, task, "DELETED")
	})
	t.Run("CannotPull", func(t *testing.T) {
		arn := runOne(register("fg-pull", "nope:missing"))
		task := waitTask(t, c, "fgf", arn, false)
		if task.StopCode != types.TaskStopCodeTaskFailedToStart {
			t.Fatalf("stopped %+v", task)
		}
	})
}
