package control

import (
	"slices"
	"testing"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/wire"
)

// fargateFixture is a cluster "fg" with FARGATE and FARGATE_SPOT, one
// connected EC2 instance (so that the instance's counts can be checked),
// a Fargate definition "fweb" (256/512, awsvpc), a big one "fbig"
// (8192/16384) and a bridge one "web".
type fargateFixture struct {
	*taskFixture
}

func newFargateFixture(t *testing.T) *fargateFixture {
	t.Helper()
	f := &fargateFixture{newTaskFixture(t)}
	_, err := f.c.CreateCluster(testCtx(t), testNS, &wire.CreateClusterRequest{ClusterName: wire.Ptr("fg"), CapacityProviders: []string{"FARGATE", "FARGATE_SPOT"}})
	noErr(t, err)
	registerFargate(t, f.c, "fweb", "256", "512")
	registerFargate(t, f.c, "fbig", "8192", "16384")
	return f
}

func registerFargate(t *testing.T, c *Control, family, cpu, mem string) {
	t.Helper()
	_, err := c.RegisterTaskDefinition(testCtx(t), testNS, &wire.RegisterTaskDefinitionRequest{
		Family: wire.Ptr(family), Cpu: wire.Ptr(cpu), Memory: wire.Ptr(mem),
		NetworkMode:             wire.Ptr(wire.NetworkModeAwsvpc),
		RequiresCompatibilities: []wire.Compatibility{wire.CompatibilityFargate},
		ContainerDefinitions: []wire.ContainerDefinition{
			{Name: wire.Ptr("app"), Image: wire.Ptr("busybox"), Essential: wire.Ptr(true)},
			{Name: wire.Ptr("side"), Image: wire.Ptr("busybox"), Essential: wire.Ptr(false)},
		},
	})
	noErr(t, err)
}

func vpc(subnets ...string) *wire.NetworkConfiguration {
	return &wire.NetworkConfiguration{AwsvpcConfiguration: &wire.AwsVpcConfiguration{Subnets: subnets}}
}

// runFargate runs one task of family on "fg" with launch type FARGATE.
func (f *fargateFixture) runFargate(t *testing.T, family string) wire.Task {
	t.Helper()
	out, err := f.c.RunTask(testCtx(t), testNS, &wire.RunTaskRequest{Cluster: wire.Ptr("fg"), TaskDefinition: wire.Ptr(family),
		LaunchType: wire.Ptr(wire.LaunchTypeFargate), NetworkConfiguration: vpc("subnet-1")})
	noErr(t, err)
	if len(out.Tasks) != 1 || len(out.Failures) != 0 {
		t.Fatalf("run: %+v", out)
	}
	return out.Tasks[0]
}

func (f *fargateFixture) describeIn(t *testing.T, cluster, arn string) wire.Task {
	t.Helper()
	d, err := f.c.DescribeTasks(testCtx(t), testNS, &wire.DescribeTasksRequest{Cluster: wire.Ptr(cluster), Tasks: []string{arn}})
	noErr(t, err)
	if len(d.Tasks) != 1 {
		t.Fatalf("describe %s: %+v", arn, d.Failures)
	}
	return d.Tasks[0]
}

func TestRunTask_FargateValidation(t *testing.T) {
	f := newFargateFixture(t)
	const (
		msgNetwork  = "Network Configuration must be provided when networkMode 'awsvpc' is specified."
		msgNoLaunch = "Task definition does not support launch_type FARGATE."
	)
	fargate := wire.Ptr(wire.LaunchTypeFargate)
	spot := []wire.CapacityProviderStrategyItem{{CapacityProvider: wire.Ptr("FARGATE_SPOT"), Weight: wire.Ptr(int32(1))}}
	for _, tc := range []struct {
		name string
		in   wire.RunTaskRequest
		code ecs.Code
		msg  string
	}{
		{"ErrNoNetworkConfiguration", wire.RunTaskRequest{TaskDefinition: wire.Ptr("fweb"), LaunchType: fargate}, ecs.InvalidParameter, msgNetwork},
		{"ErrNoAwsvpcConfiguration", wire.RunTaskRequest{TaskDefinition: wire.Ptr("fweb"), LaunchType: fargate, NetworkConfiguration: &wire.NetworkConfiguration{}}, ecs.InvalidParameter, msgNetwork},
		{"ErrNoNetworkConfigurationSpot", wire.RunTaskRequest{TaskDefinition: wire.Ptr("fweb"), CapacityProviderStrategy: spot}, ecs.InvalidParameter, msgNetwork},
		{"ErrEmptySubnets", wire.RunTaskRequest{TaskDefinition: wire.Ptr("fweb"), LaunchType: fargate, NetworkConfiguration: vpc()}, ecs.InvalidParameter, "subnets can not be empty."},
		{"ErrTooManySubnets", wire.RunTaskRequest{TaskDefinition: wire.Ptr("fweb"), LaunchType: fargate, NetworkConfiguration: vpc(make([]string, 17)...)}, ecs.InvalidParameter, "subnets can have at most 16 items."},
		{"ErrNotFargateDefinition", wire.RunTaskRequest{TaskDefinition: wire.Ptr("web"), LaunchType: fargate, NetworkConfiguration: vpc("s")}, ecs.InvalidParameter, msgNoLaunch},
		{"ErrNotFargateDefinitionSpot", wire.RunTaskRequest{TaskDefinition: wire.Ptr("web"), CapacityProviderStrategy: spot, NetworkConfiguration: vpc("s")}, ecs.InvalidParameter, msgNoLaunch},
		{"ErrPlacementConstraints", wire.RunTaskRequest{TaskDefinition: wire.Ptr("fweb"), LaunchType: fargate, NetworkConfiguration: vpc("s"),
			PlacementConstraints: []wire.PlacementConstraint{{Type: wire.Ptr(wire.PlacementConstraintTypeDistinctInstance)}}}, ecs.InvalidParameter, ""},
		{"ErrPlacementStrategy", wire.RunTaskRequest{TaskDefinition: wire.Ptr("fweb"), CapacityProviderStrategy: spot, NetworkConfiguration: vpc("s"),
			PlacementStrategy: []wire.PlacementStrategy{{Type: wire.Ptr(wire.PlacementStrategyTypeSpread), Field: wire.Ptr("attribute:ecs.availability-zone")}}}, ecs.InvalidParameter, ""},
		{"ErrPlatformUnknown", wire.RunTaskRequest{TaskDefinition: wire.Ptr("fweb"), LaunchType: fargate, NetworkConfiguration: vpc("s"), PlatformVersion: wire.Ptr("1.2.0")}, ecs.PlatformUnknown, ""},
		{"ErrPlatformIncompatible", wire.RunTaskRequest{TaskDefinition: wire.Ptr("fbig"), LaunchType: fargate, NetworkConfiguration: vpc("s"), PlatformVersion: wire.Ptr("1.3.0")}, ecs.PlatformTaskDefinitionIncompatibility, ""},
		{"ErrPlatformOnEC2", wire.RunTaskRequest{Cluster: wire.Ptr("tasks"), TaskDefinition: wire.Ptr("web"), PlatformVersion: wire.Ptr("LATEST")}, ecs.InvalidParameter,
			"The platform version must be null when specifying an EC2 launch type."},
		{"ErrProviderNotInCluster", wire.RunTaskRequest{Cluster: wire.Ptr("tasks"), TaskDefinition: wire.Ptr("fweb"), CapacityProviderStrategy: spot, NetworkConfiguration: vpc("s")}, ecs.InvalidParameter, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			if in.Cluster == nil {
				in.Cluster = wire.Ptr("fg")
			}
			_, err := f.c.RunTask(testCtx(t), testNS, &in)
			wantCode(t, err, tc.code, tc.msg)
		})
	}
	t.Run("OK_Platforms", func(t *testing.T) {
		for _, pv := range []struct{ in, want string }{{"", "1.4.0"}, {"LATEST", "1.4.0"}, {"1.4.0", "1.4.0"}, {"1.3.0", "1.3.0"}} {
			in := &wire.RunTaskRequest{Cluster: wire.Ptr("fg"), TaskDefinition: wire.Ptr("fweb"), LaunchType: fargate, NetworkConfiguration: vpc("s")}
			if pv.in != "" {
				in.PlatformVersion = wire.Ptr(pv.in)
			}
			out, err := f.c.RunTask(testCtx(t), testNS, in)
			noErr(t, err)
			if got := wire.Val(out.Tasks[0].PlatformVersion); got != pv.want {
				t.Errorf("platformVersion %q: got %q, want %q", pv.in, got, pv.want)
			}
		}
	})
}

func TestRunTask_FargateShape(t *testing.T) {
	f := newFargateFixture(t)
	ctx := testCtx(t)
	t.Run("LaunchType", func(t *testing.T) {
		out, err := f.c.RunTask(ctx, testNS, &wire.RunTaskRequest{Cluster: wire.Ptr("fg"), TaskDefinition: wire.Ptr("fweb"), Count: wire.Ptr(int32(3)),
			LaunchType: wire.Ptr(wire.LaunchTypeFargate), NetworkConfiguration: vpc("subnet-a", "subnet-b")})
		noErr(t, err)
		if len(out.Tasks) != 3 || len(out.Failures) != 0 {
			t.Fatalf("run: %+v", out)
		}
		task := out.Tasks[0]
		switch {
		case wire.Val(task.LastStatus) != "PROVISIONING", wire.Val(task.DesiredStatus) != "RUNNING",
			task.ContainerInstanceArn != nil, wire.Val(task.LaunchType) != wire.LaunchTypeFargate, task.CapacityProviderName != nil,
			wire.Val(task.PlatformVersion) != "1.4.0", wire.Val(task.PlatformFamily) != "Linux",
			wire.Val(task.Cpu) != "256", wire.Val(task.Memory) != "512",
			task.EphemeralStorage == nil || wire.Val(task.EphemeralStorage.SizeInGiB) != 20:
			t.Fatalf("task %+v", task)
		}
		if az := wire.Val(task.AvailabilityZone); len(az) != len("us-east-1a") || az[:9] != "us-east-1" {
			t.Errorf("availabilityZone %q", az)
		}
		if len(task.Attachments) != 1 {
			t.Fatalf("attachments %+v", task.Attachments)
		}
		a := task.Attachments[0]
		if wire.Val(a.Type) != "ElasticNetworkInterface" || wire.Val(a.Status) != "PRECREATED" || a.Id == nil ||
			len(a.Details) != 1 || wire.Val(a.Details[0].Name) != "subnetId" || wire.Val(a.Details[0].Value) != "subnet-a" {
			t.Fatalf("attachment %+v", a)
		}
		for _, ct := range task.Containers {
			if len(ct.NetworkInterfaces) != 0 {
				t.Fatalf("network interfaces before provisioning: %+v", ct)
			}
		}
	})
	t.Run("CapacityProviders", func(t *testing.T) {
		for _, cp := range []string{"FARGATE", "FARGATE_SPOT"} {
			out, err := f.c.RunTask(ctx, testNS, &wire.RunTaskRequest{Cluster: wire.Ptr("fg"), TaskDefinition: wire.Ptr("fweb"), NetworkConfiguration: vpc("s"),
				CapacityProviderStrategy: []wire.CapacityProviderStrategyItem{{CapacityProvider: wire.Ptr(cp), Weight: wire.Ptr(int32(1))}}})
			noErr(t, err)
			task := out.Tasks[0]
			if wire.Val(task.CapacityProviderName) != cp || wire.Val(task.LaunchType) != wire.LaunchTypeFargate || wire.Val(task.LastStatus) != "PROVISIONING" {
				t.Fatalf("%s: %+v", cp, task)
			}
		}
	})
	t.Run("ClusterDefaultStrategy", func(t *testing.T) {
		_, err := f.c.CreateCluster(ctx, testNS, &wire.CreateClusterRequest{ClusterName: wire.Ptr("fgdef"), CapacityProviders: []string{"FARGATE", "FARGATE_SPOT"},
			DefaultCapacityProviderStrategy: []wire.CapacityProviderStrategyItem{{CapacityProvider: wire.Ptr("FARGATE_SPOT"), Weight: wire.Ptr(int32(1))}}})
		noErr(t, err)
		out, err := f.c.RunTask(ctx, testNS, &wire.RunTaskRequest{Cluster: wire.Ptr("fgdef"), TaskDefinition: wire.Ptr("fweb"), NetworkConfiguration: vpc("s")})
		noErr(t, err)
		if task := out.Tasks[0]; wire.Val(task.CapacityProviderName) != "FARGATE_SPOT" || wire.Val(task.LaunchType) != wire.LaunchTypeFargate {
			t.Fatalf("default strategy: %+v", task)
		}
	})
	t.Run("NotOnInstances", func(t *testing.T) {
		d, err := f.c.DescribeContainerInstances(ctx, testNS, &wire.DescribeContainerInstancesRequest{Cluster: wire.Ptr("tasks"), ContainerInstances: []string{f.instance}})
		noErr(t, err)
		if n := wire.Val(d.ContainerInstances[0].RunningTasksCount) + wire.Val(d.ContainerInstances[0].PendingTasksCount); n != 0 {
			t.Fatalf("the instance counts %d tasks", n)
		}
		if tasks, _ := f.c.InstanceTasks(testNS, "tasks", f.id, nil); len(tasks) != 0 {
			t.Fatalf("instance tasks %+v", tasks)
		}
	})
}

func TestFargateLifecycle(t *testing.T) {
	f := newFargateFixture(t)
	ctx := testCtx(t)
	fleetHas := func(arn string) (FleetTask, bool) {
		tasks, _ := f.c.FleetTasks()
		i := slices.IndexFunc(tasks, func(ft FleetTask) bool { return ft.ARN == arn })
		if i < 0 {
			return FleetTask{}, false
		}
		return tasks[i], true
	}

	t.Run("ProvisionRunStop", func(t *testing.T) {
		arn := wire.Val(f.runFargate(t, "fweb").TaskArn)
		ft, ok := fleetHas(arn)
		if !ok || ft.LastStatus != "PROVISIONING" || ft.Desired != "RUNNING" || ft.Cluster != "fg" || ft.Namespace.Account != testNS.Account ||
			ft.Namespace.Partition != "aws" || ft.PrivateIP != "" || ft.Task.ARN != arn || ft.Task.NetworkMode != "awsvpc" || len(ft.Task.Containers) != 2 {
			t.Fatalf("fleet task %+v", ft)
		}
		noErr(t, f.c.ProvisionFargateTask(ctx, ft.Namespace, ft.Cluster, ft.ID, "10.213.0.7", "02:42:0a:d5:00:07", "eni-0123456789abcdef0"))
		task := f.describeIn(t, "fg", arn)
		a := task.Attachments[0]
		details := map[string]string{}
		for _, d := range a.Details {
			details[wire.Val(d.Name)] = wire.Val(d.Value)
		}
		if wire.Val(task.LastStatus) != "PENDING" || wire.Val(a.Status) != "ATTACHED" || details["privateIPv4Address"] != "10.213.0.7" ||
			details["macAddress"] != "02:42:0a:d5:00:07" || details["networkInterfaceId"] != "eni-0123456789abcdef0" || details["subnetId"] != "subnet-1" ||
			details["privateDnsName"] != "ip-10-213-0-7.ec2.internal" || wire.Val(task.Connectivity) != wire.ConnectivityConnected {
			t.Fatalf("provisioned: %+v %v", task, details)
		}
		for _, ct := range task.Containers {
			if len(ct.NetworkInterfaces) != 1 || wire.Val(ct.NetworkInterfaces[0].PrivateIpv4Address) != "10.213.0.7" || wire.Val(ct.NetworkInterfaces[0].AttachmentId) != wire.Val(a.Id) {
				t.Fatalf("container network interfaces %+v", ct.NetworkInterfaces)
			}
		}
		if ft, _ := fleetHas(arn); ft.PrivateIP != "10.213.0.7" || ft.LastStatus != "PENDING" {
			t.Fatalf("fleet task after provisioning %+v", ft)
		}
		// Provisioning again changes nothing.
		noErr(t, f.c.ProvisionFargateTask(ctx, ft.Namespace, ft.Cluster, ft.ID, "10.213.0.8", "x", "y"))
		if v := f.describeIn(t, "fg", arn); wire.Val(v.Version) != wire.Val(task.Version) {
			t.Fatalf("a second provisioning wrote: version %d → %d", wire.Val(task.Version), wire.Val(v.Version))
		}

		_, err := f.c.SubmitTaskStateChange(ctx, testNS, &wire.SubmitTaskStateChangeRequest{Cluster: wire.Ptr("fg"), Task: wire.Ptr(arn), Status: wire.Ptr("RUNNING"),
			Containers: []wire.ContainerStateChange{{ContainerName: wire.Ptr("app"), Status: wire.Ptr("RUNNING")}}})
		noErr(t, err)
		stats := clusterStats(t, f.c, "fg")
		if stats["runningFargateTasksCount"] != "1" || stats["runningEC2TasksCount"] != "0" {
			t.Fatalf("statistics %v", stats)
		}
		stop, err := f.c.StopTask(ctx, testNS, &wire.StopTaskRequest{Cluster: wire.Ptr("fg"), Task: wire.Ptr(arn)})
		noErr(t, err)
		if wire.Val(stop.Task.LastStatus) != "RUNNING" || wire.Val(stop.Task.DesiredStatus) != "STOPPED" {
			t.Fatalf("a running Fargate task waits for the fleet to stop it: %+v", stop.Task)
		}
		if ft, ok := fleetHas(arn); !ok || ft.Desired != "STOPPED" || ft.Task.DesiredStatus != "STOPPED" {
			t.Fatalf("fleet task after StopTask %+v", ft)
		}
		_, err = f.c.SubmitTaskStateChange(ctx, testNS, &wire.SubmitTaskStateChangeRequest{Cluster: wire.Ptr("fg"), Task: wire.Ptr(arn), Status: wire.Ptr("STOPPED")})
		noErr(t, err)
		task = f.describeIn(t, "fg", arn)
		if wire.Val(task.LastStatus) != "STOPPED" || wire.Val(task.StopCode) != wire.TaskStopCodeUserInitiated || wire.Val(task.Attachments[0].Status) != "DELETED" {
			t.Fatalf("stopped: %+v", task)
		}
		if _, ok := fleetHas(arn); ok {
			t.Fatal("a STOPPED task is still in the fleet's list")
		}
	})
	t.Run("StopWhileProvisioning", func(t *testing.T) {
		arn := wire.Val(f.runFargate(t, "fweb").TaskArn)
		stop, err := f.c.StopTask(ctx, testNS, &wire.StopTaskRequest{Cluster: wire.Ptr("fg"), Task: wire.Ptr(arn)})
		noErr(t, err)
		if wire.Val(stop.Task.LastStatus) != "STOPPED" || wire.Val(stop.Task.Attachments[0].Status) != "DELETED" {
			t.Fatalf("stopped while provisioning: %+v", stop.Task)
		}
		ft := FleetTask{Namespace: testNS, Cluster: "fg", ID: lastSegment(arn)}
		noErr(t, f.c.ProvisionFargateTask(ctx, ft.Namespace, ft.Cluster, ft.ID, "10.213.0.9", "m", "e"))
		if task := f.describeIn(t, "fg", arn); wire.Val(task.LastStatus) != "STOPPED" {
			t.Fatalf("provisioning moved a STOPPED task: %+v", task)
		}
		if _, ok := fleetHas(arn); ok {
			t.Fatal("a STOPPED task is still in the fleet's list")
		}
	})
	t.Run("ErrProvisionEC2Task", func(t *testing.T) {
		f.connect(t, true)
		arn := wire.Val(f.run(t, "big", 1).Tasks[0].TaskArn)
		wantCode(t, f.c.ProvisionFargateTask(ctx, testNS, "tasks", lastSegment(arn), "10.0.0.1", "m", "e"), ecs.InvalidParameter, "The task is not a Fargate task.")
	})
}

// clusterStats returns a cluster's STATISTICS as a map.
func clusterStats(t *testing.T, c *Control, cluster string) map[string]string {
	t.Helper()
	d, err := c.DescribeClusters(testCtx(t), testNS, &wire.DescribeClustersRequest{Clusters: []string{cluster}, Include: []wire.ClusterField{wire.ClusterFieldStatistics}})
	noErr(t, err)
	out := map[string]string{}
	for _, kv := range d.Clusters[0].Statistics {
		out[wire.Val(kv.Name)] = wire.Val(kv.Value)
	}
	return out
}

// TestRunTask_ProviderDistribution: a RunTask of 10 with FARGATE base=2
// weight=1 and FARGATE_SPOT weight=3 gives 4 FARGATE and 6 FARGATE_SPOT
// tasks (spec §3.4's worked example), the base counted per call.
func TestRunTask_ProviderDistribution(t *testing.T) {
	f := newFargateFixture(t)
	out, err := f.c.RunTask(testCtx(t), testNS, &wire.RunTaskRequest{
		Cluster: wire.Ptr("fg"), TaskDefinition: wire.Ptr("fweb"), Count: wire.Ptr(int32(10)), NetworkConfiguration: vpc("subnet-1"),
		CapacityProviderStrategy: []wire.CapacityProviderStrategyItem{
			{CapacityProvider: wire.Ptr("FARGATE"), Base: wire.Ptr(int32(2)), Weight: wire.Ptr(int32(1))},
			{CapacityProvider: wire.Ptr("FARGATE_SPOT"), Weight: wire.Ptr(int32(3))},
		},
	})
	noErr(t, err)
	got := map[string]int{}
	for _, task := range out.Tasks {
		got[wire.Val(task.CapacityProviderName)]++
	}
	if len(out.Tasks) != 10 || got["FARGATE"] != 4 || got["FARGATE_SPOT"] != 6 {
		t.Fatalf("distribution %v of %d tasks", got, len(out.Tasks))
	}
}

func TestSubmitAttachmentStateChanges(t *testing.T) {
	f := newFargateFixture(t)
	task := f.runFargate(t, "fweb")
	id := wire.Val(task.Attachments[0].Id)
	_, err := f.c.SubmitAttachmentStateChanges(testCtx(t), testNS, &wire.SubmitAttachmentStateChangesRequest{
		Cluster: wire.Ptr("fg"), Attachments: []wire.AttachmentStateChange{{AttachmentArn: wire.Ptr(attachmentARN(testNS, id)), Status: wire.Ptr("ATTACHED")}},
	})
	noErr(t, err)
	if got := f.describeIn(t, "fg", wire.Val(task.TaskArn)); wire.Val(got.Attachments[0].Status) != "ATTACHED" {
		t.Fatalf("attachment %+v", got.Attachments[0])
	}
	_, err = f.c.SubmitAttachmentStateChanges(testCtx(t), testNS, &wire.SubmitAttachmentStateChangesRequest{
		Cluster: wire.Ptr("fg"), Attachments: []wire.AttachmentStateChange{{AttachmentArn: wire.Ptr(attachmentARN(testNS, "00000000-0000-0000-0000-000000000000")), Status: wire.Ptr("ATTACHED")}},
	})
	if ecs.CodeOf(err) != ecs.InvalidParameter {
		t.Fatalf("unknown attachment: %v", err)
	}
}
