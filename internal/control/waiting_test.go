package control

import (
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/wire"
)

// TestTasksWaitForCapacity: on a provider with managed scaling, RunTask
// beyond capacity returns PROVISIONING tasks (no failures), the demand is
// visible, the tasks are placed once an instance of the group registers,
// and a task that waits too long stops with TaskFailedToStart.
func TestTasksWaitForCapacity(t *testing.T) {
	c := newTestControl(t)
	ctx := testCtx(t)
	createCluster(t, c, "scaling")
	register(t, c, "small", 64, 1024, 0)
	seed(t, c, keyASG(testNS, "grp"), `{"name":"grp","instances":[]}`)
	_, err := c.CreateCapacityProvider(ctx, testNS, &wire.CreateCapacityProviderRequest{
		Name: wire.Ptr("cp-ms"),
		AutoScalingGroupProvider: &wire.AutoScalingGroupProvider{
			AutoScalingGroupArn: wire.Ptr("arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:uuid:autoScalingGroupName/grp"),
			ManagedScaling:      &wire.ManagedScaling{Status: wire.Ptr(wire.ManagedScalingStatusEnabled), TargetCapacity: wire.Ptr(int32(100))},
		},
	})
	noErr(t, err)
	_, err = c.PutClusterCapacityProviders(ctx, testNS, &wire.PutClusterCapacityProvidersRequest{
		Cluster: wire.Ptr("scaling"), CapacityProviders: []string{"cp-ms"},
		DefaultCapacityProviderStrategy: []wire.CapacityProviderStrategyItem{{CapacityProvider: wire.Ptr("cp-ms"), Weight: wire.Ptr(int32(1))}},
	})
	noErr(t, err)

	// No instance at all: the tasks wait.
	out, err := c.RunTask(ctx, testNS, &wire.RunTaskRequest{Cluster: wire.Ptr("scaling"), TaskDefinition: wire.Ptr("small"), Count: wire.Ptr(int32(3))})
	noErr(t, err)
	if len(out.Tasks) != 3 || len(out.Failures) != 0 {
		t.Fatalf("got %d tasks, failures %+v", len(out.Tasks), out.Failures)
	}
	for _, task := range out.Tasks {
		if wire.Val(task.LastStatus) != "PROVISIONING" || task.ContainerInstanceArn != nil || wire.Val(task.CapacityProviderName) != "cp-ms" {
			t.Fatalf("waiting task: %+v", task)
		}
	}
	if d := c.CapacityDemand(testNS, "cp-ms"); len(d) != 3 || d[0].Memory != 1024 {
		t.Fatalf("demand %+v", d)
	}
	cfg := WaiterConfig{Timeout: time.Hour}
	noErr(t, c.placeWaiting(ctx, cfg)) // nothing to place on
	if d := c.CapacityDemand(testNS, "cp-ms"); len(d) != 3 {
		t.Fatalf("demand after an empty pass: %d", len(d))
	}

	// An instance of the group arrives (2 GiB: two of the three fit).
	seed(t, c, keyASG(testNS, "grp"), `{"name":"grp","instances":[{"id":"i-0abc"}]}`)
	reg, err := c.RegisterContainerInstance(ctx, testNS, &wire.RegisterContainerInstanceRequest{
		Cluster:                  wire.Ptr("scaling"),
		InstanceIdentityDocument: wire.Ptr(`{"instanceId":"i-0abc"}`),
		TotalResources: []wire.Resource{
			{Name: wire.Ptr("CPU"), Type: wire.Ptr("INTEGER"), IntegerValue: wire.Ptr(int32(2048))},
			{Name: wire.Ptr("MEMORY"), Type: wire.Ptr("INTEGER"), IntegerValue: wire.Ptr(int32(2048))},
		},
		Attributes: capabilityAttributes(),
	})
	noErr(t, err)
	instARN := wire.Val(reg.ContainerInstance.ContainerInstanceArn)
	noErr(t, c.SetAgentConnected(ctx, testNS, "scaling", lastSegment(instARN), true))
	noErr(t, c.placeWaiting(ctx, cfg))
	placed := 0
	for _, task := range out.Tasks {
		d, err := c.DescribeTasks(ctx, testNS, &wire.DescribeTasksRequest{Cluster: wire.Ptr("scaling"), Tasks: []string{wire.Val(task.TaskArn)}})
		noErr(t, err)
		got := d.Tasks[0]
		if wire.Val(got.ContainerInstanceArn) == instARN && wire.Val(got.LastStatus) == "PENDING" {
			placed++
		}
	}
	if placed != 2 {
		t.Fatalf("%d tasks placed once the instance arrived, want 2", placed)
	}
	if tasks, _ := c.InstanceTasks(testNS, "scaling", lastSegment(instARN), nil); len(tasks) != 2 {
		t.Fatalf("the agent would get %d tasks", len(tasks))
	}
	d := c.CapacityDemand(testNS, "cp-ms")
	if len(d) != 1 {
		t.Fatalf("demand %+v", d)
	}

	// The last one times out.
	time.Sleep(5 * time.Millisecond)
	noErr(t, c.placeWaiting(ctx, WaiterConfig{Timeout: time.Millisecond}))
	got, err := c.DescribeTasks(ctx, testNS, &wire.DescribeTasksRequest{Cluster: wire.Ptr("scaling"), Tasks: []string{d[0].TaskID}})
	noErr(t, err)
	task := got.Tasks[0]
	if wire.Val(task.LastStatus) != "STOPPED" || wire.Val(task.StopCode) != wire.TaskStopCodeTaskFailedToStart ||
		!strings.HasPrefix(wire.Val(task.StoppedReason), "TaskFailedToStart: RESOURCE:MEMORY") {
		t.Fatalf("timed-out task: %s %s %q", wire.Val(task.LastStatus), wire.Val(task.StopCode), wire.Val(task.StoppedReason))
	}
	if d := c.CapacityDemand(testNS, "cp-ms"); len(d) != 0 {
		t.Fatalf("demand after the timeout: %+v", d)
	}
}
