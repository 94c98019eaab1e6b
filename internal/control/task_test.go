package control

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/wire"
)

// taskFixture is a cluster with one connected instance (2048 CPU, 4096
// MiB) and a bridge task definition "web" (256 CPU, 512 MiB, host port 8080).
type taskFixture struct {
	c        *Control
	instance string // ARN
	id       string
}

func newTaskFixture(t *testing.T) *taskFixture {
	t.Helper()
	c := newTestControl(t)
	createCluster(t, c, "tasks")
	out, err := c.RegisterContainerInstance(testCtx(t), testNS, &wire.RegisterContainerInstanceRequest{
		Cluster: wire.Ptr("tasks"),
		TotalResources: []wire.Resource{
			{Name: wire.Ptr("CPU"), Type: wire.Ptr("INTEGER"), IntegerValue: wire.Ptr(int32(2048))},
			{Name: wire.Ptr("MEMORY"), Type: wire.Ptr("INTEGER"), IntegerValue: wire.Ptr(int32(4096))},
			{Name: wire.Ptr("PORTS"), Type: wire.Ptr("STRINGSET"), StringSetValue: []string{"22"}},
		},
		Attributes: append(capabilityAttributes(), wire.Attribute{Name: wire.Ptr("ecs.availability-zone"), Value: wire.Ptr("us-east-1a")}),
	})
	noErr(t, err)
	arn := wire.Val(out.ContainerInstance.ContainerInstanceArn)
	f := &taskFixture{c: c, instance: arn, id: lastSegment(arn)}
	register(t, c, "web", 256, 512, 8080)
	register(t, c, "big", 1024, 3000, 0)
	return f
}

// capabilityAttributes are the capabilities an agent on a current Docker
// registers (placement checks requiresAttributes against them).
func capabilityAttributes() []wire.Attribute {
	var out []wire.Attribute
	for m := 17; m <= 44; m++ {
		out = append(out, wire.Attribute{Name: wire.Ptr("com.amazonaws.ecs.capability.docker-remote-api.1." + strconv.Itoa(m))})
	}
	for _, c := range []string{"ecs.capability.container-health-check", "ecs.capability.container-ordering", "com.amazonaws.ecs.capability.logging-driver.json-file"} {
		out = append(out, wire.Attribute{Name: wire.Ptr(c)})
	}
	return out
}

func register(t testing.TB, c *Control, family string, cpu, mem, hostPort int32) {
	t.Helper()
	cd := wire.ContainerDefinition{Name: wire.Ptr("app"), Image: wire.Ptr("busybox"), Cpu: wire.Ptr(cpu), Memory: wire.Ptr(mem)}
	if hostPort > 0 {
		cd.PortMappings = []wire.PortMapping{{ContainerPort: wire.Ptr(int32(80)), HostPort: wire.Ptr(hostPort)}}
	}
	_, err := c.RegisterTaskDefinition(testCtx(t), testNS, &wire.RegisterTaskDefinitionRequest{
		Family: wire.Ptr(family), ContainerDefinitions: []wire.ContainerDefinition{cd},
	})
	noErr(t, err)
}

func (f *taskFixture) connect(t *testing.T, on bool) {
	t.Helper()
	noErr(t, f.c.SetAgentConnected(testCtx(t), testNS, "tasks", f.id, on))
}

func (f *taskFixture) run(t *testing.T, family string, count int32) *wire.RunTaskResponse {
	t.Helper()
	out, err := f.c.RunTask(testCtx(t), testNS, &wire.RunTaskRequest{Cluster: wire.Ptr("tasks"), TaskDefinition: wire.Ptr(family), Count: wire.Ptr(count)})
	noErr(t, err)
	return out
}

func (f *taskFixture) describe(t *testing.T, arn string) wire.Task {
	t.Helper()
	d, err := f.c.DescribeTasks(testCtx(t), testNS, &wire.DescribeTasksRequest{Cluster: wire.Ptr("tasks"), Tasks: []string{arn}})
	noErr(t, err)
	if len(d.Tasks) != 1 {
		t.Fatalf("describe %s: %+v", arn, d.Failures)
	}
	return d.Tasks[0]
}

func TestRunTask_Placement(t *testing.T) {
	t.Run("ErrNoInstances", func(t *testing.T) {
		c := newTestControl(t)
		createCluster(t, c, "empty")
		register(t, c, "web", 256, 512, 0)
		_, err := c.RunTask(testCtx(t), testNS, &wire.RunTaskRequest{Cluster: wire.Ptr("empty"), TaskDefinition: wire.Ptr("web")})
		wantCode(t, err, ecs.InvalidParameter, "No Container Instances were found in your cluster.")
	})
	t.Run("AgentNotConnected", func(t *testing.T) {
		f := newTaskFixture(t)
		out := f.run(t, "web", 1)
		if len(out.Tasks) != 0 || len(out.Failures) != 1 || wire.Val(out.Failures[0].Reason) != "AGENT" || wire.Val(out.Failures[0].Arn) != f.instance {
			t.Fatalf("got %+v", out)
		}
	})
	t.Run("OK_ReservesResources", func(t *testing.T) {
		f := newTaskFixture(t)
		f.connect(t, true)
		out := f.run(t, "big", 1)
		if len(out.Tasks) != 1 {
			t.Fatalf("got %+v", out)
		}
		task := out.Tasks[0]
		if wire.Val(task.LastStatus) != "PENDING" || wire.Val(task.DesiredStatus) != "RUNNING" || wire.Val(task.ContainerInstanceArn) != f.instance ||
			wire.Val(task.Group) != "family:big" || wire.Val(task.AvailabilityZone) != "us-east-1a" || wire.Val(task.Cpu) != "1024" || wire.Val(task.Memory) != "3000" {
			t.Fatalf("task %+v", task)
		}
		d, err := f.c.DescribeContainerInstances(testCtx(t), testNS, &wire.DescribeContainerInstancesRequest{Cluster: wire.Ptr("tasks"), ContainerInstances: []string{f.instance}})
		noErr(t, err)
		rem := d.ContainerInstances[0].RemainingResources
		if wire.Val(rem[0].IntegerValue) != 1024 || wire.Val(rem[1].IntegerValue) != 1096 || wire.Val(d.ContainerInstances[0].RunningTasksCount) != 1 {
			t.Fatalf("remaining %+v", rem)
		}
		// A second "big" no longer fits: memory first fails.
		out = f.run(t, "big", 1)
		if len(out.Tasks) != 0 || wire.Val(out.Failures[0].Reason) != "RESOURCE:MEMORY" {
			t.Fatalf("second big: %+v", out)
		}
	})
	t.Run("PortsConflict", func(t *testing.T) {
		f := newTaskFixture(t)
		f.connect(t, true)
		out := f.run(t, "web", 2)
		if len(out.Tasks) != 1 || len(out.Failures) != 1 || wire.Val(out.Failures[0].Reason) != "RESOURCE:PORTS" {
			t.Fatalf("got %+v", out)
		}
	})
	t.Run("ErrCount", func(t *testing.T) {
		f := newTaskFixture(t)
		_, err := f.c.RunTask(testCtx(t), testNS, &wire.RunTaskRequest{Cluster: wire.Ptr("tasks"), TaskDefinition: wire.Ptr("web"), Count: wire.Ptr(int32(11))})
		wantCode(t, err, ecs.InvalidParameter, "count must be between 1 and 10.")
	})
	t.Run("ErrInactiveTaskDefinition", func(t *testing.T) {
		f := newTaskFixture(t)
		_, err := f.c.DeregisterTaskDefinition(testCtx(t), testNS, &wire.DeregisterTaskDefinitionRequest{TaskDefinition: wire.Ptr("web:1")})
		noErr(t, err)
		_, err = f.c.RunTask(testCtx(t), testNS, &wire.RunTaskRequest{Cluster: wire.Ptr("tasks"), TaskDefinition: wire.Ptr("web:1")})
		wantCode(t, err, ecs.InvalidParameter, "TaskDefinition is inactive")
	})
	t.Run("ErrLaunchTypeAndStrategy", func(t *testing.T) {
		f := newTaskFixture(t)
		_, err := f.c.RunTask(testCtx(t), testNS, &wire.RunTaskRequest{Cluster: wire.Ptr("tasks"), TaskDefinition: wire.Ptr("web"),
			LaunchType: wire.Ptr(wire.LaunchTypeEc2), CapacityProviderStrategy: []wire.CapacityProviderStrategyItem{{CapacityProvider: wire.Ptr("FARGATE"), Weight: wire.Ptr(int32(1))}}})
		wantCode(t, err, ecs.InvalidParameter, "Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again.")
	})
	t.Run("ClientTokenIdempotent", func(t *testing.T) {
		f := newTaskFixture(t)
		f.connect(t, true)
		req := func(group string) *wire.RunTaskRequest {
			return &wire.RunTaskRequest{Cluster: wire.Ptr("tasks"), TaskDefinition: wire.Ptr("big"), ClientToken: wire.Ptr("tok-1"), Group: wire.Ptr(group)}
		}
		a, err := f.c.RunTask(testCtx(t), testNS, req("g"))
		noErr(t, err)
		b, err := f.c.RunTask(testCtx(t), testNS, req("g"))
		noErr(t, err)
		if len(a.Tasks) != 1 || len(b.Tasks) != 1 || wire.Val(a.Tasks[0].TaskArn) != wire.Val(b.Tasks[0].TaskArn) {
			t.Fatalf("retry with the same token must return the same task: %+v %+v", a, b)
		}
		_, err = f.c.RunTask(testCtx(t), testNS, req("other"))
		if ecs.CodeOf(err) != ecs.Conflict {
			t.Fatalf("want ConflictException, got %v", err)
		}
	})
}

func TestTaskLifecycle(t *testing.T) {
	f := newTaskFixture(t)
	f.connect(t, true)
	ctx := testCtx(t)
	submit := func(arn, status string, containers ...wire.ContainerStateChange) {
		t.Helper()
		_, err := f.c.SubmitTaskStateChange(ctx, testNS, &wire.SubmitTaskStateChangeRequest{Cluster: wire.Ptr("tasks"), Task: wire.Ptr(arn), Status: wire.Ptr(status), Containers: containers})
		noErr(t, err)
	}

	t.Run("RunsAndExitsEssential", func(t *testing.T) {
		arn := wire.Val(f.run(t, "big", 1).Tasks[0].TaskArn)
		submit(arn, "RUNNING", wire.ContainerStateChange{ContainerName: wire.Ptr("app"), Status: wire.Ptr("RUNNING"), RuntimeId: wire.Ptr("abc")})
		task := f.describe(t, arn)
		if wire.Val(task.LastStatus) != "RUNNING" || task.StartedAt == nil || wire.Val(task.Containers[0].RuntimeId) != "abc" {
			t.Fatalf("running: %+v", task)
		}
		submit(arn, "PENDING") // never backwards
		if wire.Val(f.describe(t, arn).LastStatus) != "RUNNING" {
			t.Fatal("a PENDING report moved a RUNNING task back")
		}
		submit(arn, "STOPPED", wire.ContainerStateChange{ContainerName: wire.Ptr("app"), Status: wire.Ptr("STOPPED"), ExitCode: wire.Ptr(int32(3))})
		task = f.describe(t, arn)
		if wire.Val(task.LastStatus) != "STOPPED" || wire.Val(task.StopCode) != wire.TaskStopCodeEssentialContainerExited ||
			wire.Val(task.StoppedReason) != "Essential container in task exited" || wire.Val(task.Containers[0].ExitCode) != 3 || task.StoppedAt == nil {
			t.Fatalf("stopped: %+v", task)
		}
	})
	t.Run("FailedToStart", func(t *testing.T) {
		arn := wire.Val(f.run(t, "big", 1).Tasks[0].TaskArn)
		_, err := f.c.SubmitTaskStateChange(ctx, testNS, &wire.SubmitTaskStateChangeRequest{Cluster: wire.Ptr("tasks"), Task: wire.Ptr(arn), Status: wire.Ptr("STOPPED"),
			Reason: wire.Ptr("CannotPullContainerError: pull access denied for nope")})
		noErr(t, err)
		task := f.describe(t, arn)
		if wire.Val(task.StopCode) != wire.TaskStopCodeTaskFailedToStart || !strings.HasPrefix(wire.Val(task.StoppedReason), "CannotPullContainerError") {
			t.Fatalf("failed to start: %+v", task)
		}
	})
	t.Run("StopTaskUserInitiated", func(t *testing.T) {
		arn := wire.Val(f.run(t, "big", 1).Tasks[0].TaskArn)
		out, err := f.c.StopTask(ctx, testNS, &wire.StopTaskRequest{Cluster: wire.Ptr("tasks"), Task: wire.Ptr(arn)})
		noErr(t, err)
		if wire.Val(out.Task.DesiredStatus) != "STOPPED" || wire.Val(out.Task.StopCode) != wire.TaskStopCodeUserInitiated || wire.Val(out.Task.StoppedReason) != "Task stopped by user" {
			t.Fatalf("stop: %+v", out.Task)
		}
		// The agent confirms; the user's stop code is kept.
		submit(arn, "STOPPED", wire.ContainerStateChange{ContainerName: wire.Ptr("app"), Status: wire.Ptr("STOPPED"), ExitCode: wire.Ptr(int32(143))})
		if task := f.describe(t, arn); wire.Val(task.StopCode) != wire.TaskStopCodeUserInitiated || wire.Val(task.LastStatus) != "STOPPED" {
			t.Fatalf("after agent stop: %+v", task)
		}
		// Resources came back: another big task fits.
		if out := f.run(t, "big", 1); len(out.Tasks) != 1 {
			t.Fatalf("resources not released: %+v", out)
		}
	})
	t.Run("ListTasksFilters", func(t *testing.T) {
		l, err := f.c.ListTasks(ctx, testNS, &wire.ListTasksRequest{Cluster: wire.Ptr("tasks")})
		noErr(t, err)
		if len(l.TaskArns) != 1 {
			t.Fatalf("RUNNING-desired tasks: %v", l.TaskArns)
		}
		l, err = f.c.ListTasks(ctx, testNS, &wire.ListTasksRequest{Cluster: wire.Ptr("tasks"), DesiredStatus: wire.Ptr(wire.DesiredStatusStopped)})
		noErr(t, err)
		if len(l.TaskArns) != 3 {
			t.Fatalf("STOPPED-desired tasks: %v", l.TaskArns)
		}
		l, err = f.c.ListTasks(ctx, testNS, &wire.ListTasksRequest{Cluster: wire.Ptr("tasks"), DesiredStatus: wire.Ptr(wire.DesiredStatusPending)})
		noErr(t, err)
		if len(l.TaskArns) != 0 {
			t.Fatalf("PENDING must never match: %v", l.TaskArns)
		}
		l, err = f.c.ListTasks(ctx, testNS, &wire.ListTasksRequest{Cluster: wire.Ptr("tasks"), Family: wire.Ptr("web")})
		noErr(t, err)
		if len(l.TaskArns) != 0 {
			t.Fatalf("family web: %v", l.TaskArns)
		}
		_, err = f.c.ListTasks(ctx, testNS, &wire.ListTasksRequest{Cluster: wire.Ptr("tasks"), Family: wire.Ptr("web"), ServiceName: wire.Ptr("s")})
		wantCode(t, err, ecs.InvalidParameter, "family and serviceName cannot both be specified.")
	})
	t.Run("DeregisterRefusedWhileTasksLive", func(t *testing.T) {
		_, err := f.c.DeregisterContainerInstance(ctx, testNS, &wire.DeregisterContainerInstanceRequest{Cluster: wire.Ptr("tasks"), ContainerInstance: wire.Ptr(f.instance)})
		if ecs.CodeOf(err) != ecs.InvalidParameter {
			t.Fatalf("deregister with a live task: %v", err)
		}
	})
	t.Run("DescribeMissing", func(t *testing.T) {
		d, err := f.c.DescribeTasks(ctx, testNS, &wire.DescribeTasksRequest{Cluster: wire.Ptr("tasks"), Tasks: []string{"0123456789abcdef0123456789abcdef"}})
		noErr(t, err)
		if len(d.Failures) != 1 || wire.Val(d.Failures[0].Reason) != "MISSING" || !strings.HasSuffix(wire.Val(d.Failures[0].Arn), "task/tasks/0123456789abcdef0123456789abcdef") {
			t.Fatalf("failures %+v", d.Failures)
		}
	})
}

func TestPurge(t *testing.T) {
	f := newTaskFixture(t)
	f.connect(t, true)
	ctx := testCtx(t)
	arn := wire.Val(f.run(t, "big", 1).Tasks[0].TaskArn)
	_, err := f.c.StopTask(ctx, testNS, &wire.StopTaskRequest{Cluster: wire.Ptr("tasks"), Task: wire.Ptr(arn)})
	noErr(t, err)
	_, err = f.c.SubmitTaskStateChange(ctx, testNS, &wire.SubmitTaskStateChangeRequest{Cluster: wire.Ptr("tasks"), Task: wire.Ptr(arn), Status: wire.Ptr("STOPPED")})
	noErr(t, err)
	// web:1 is deleted while no task uses it; big:1 is deleted while a
	// (stopped) task still references it.
	for _, td := range []string{"web:1", "big:1"} {
		_, err = f.c.DeregisterTaskDefinition(ctx, testNS, &wire.DeregisterTaskDefinitionRequest{TaskDefinition: wire.Ptr(td)})
		noErr(t, err)
	}
	del, err := f.c.DeleteTaskDefinitions(ctx, testNS, &wire.DeleteTaskDefinitionsRequest{TaskDefinitions: []string{"web:1", "big:1"}})
	noErr(t, err)
	if len(del.Failures) != 0 || len(del.TaskDefinitions) != 2 {
		t.Fatalf("delete: %+v", del)
	}

	now := f.describe(t, arn).StoppedAt.Time
	n, err := f.c.Purge(ctx, now.Add(30*time.Minute), time.Hour)
	noErr(t, err)
	if n != 1 { // only web:1: the task is within retention and still references big:1
		t.Fatalf("purged %d, want 1", n)
	}
	if _, err := f.c.DescribeTaskDefinition(ctx, testNS, &wire.DescribeTaskDefinitionRequest{TaskDefinition: wire.Ptr("web:1")}); ecs.CodeOf(err) != ecs.ClientError {
		t.Fatalf("web:1 after purge: %v", err)
	}
	n, err = f.c.Purge(ctx, now.Add(2*time.Hour), time.Hour)
	noErr(t, err)
	if n != 2 { // the task, then big:1 which it no longer holds... (same sweep)
		t.Fatalf("purged %d, want 2", n)
	}
	d, err := f.c.DescribeTasks(ctx, testNS, &wire.DescribeTasksRequest{Cluster: wire.Ptr("tasks"), Tasks: []string{arn}})
	noErr(t, err)
	if len(d.Tasks) != 0 || len(d.Failures) != 1 {
		t.Fatalf("purged task still described: %+v", d)
	}
	// Revision numbers are never reused.
	register(t, f.c, "web", 256, 512, 0)
	out, err := f.c.DescribeTaskDefinition(ctx, testNS, &wire.DescribeTaskDefinitionRequest{TaskDefinition: wire.Ptr("web")})
	noErr(t, err)
	if wire.Val(out.TaskDefinition.Revision) != 2 {
		t.Fatalf("revision %d, want 2", wire.Val(out.TaskDefinition.Revision))
	}
}

func TestReportHealth(t *testing.T) {
	f := newTaskFixture(t)
	f.connect(t, true)
	ctx := testCtx(t)
	_, err := f.c.RegisterTaskDefinition(ctx, testNS, &wire.RegisterTaskDefinitionRequest{
		Family: wire.Ptr("checked"),
		ContainerDefinitions: []wire.ContainerDefinition{
			{Name: wire.Ptr("app"), Image: wire.Ptr("busybox"), Memory: wire.Ptr(int32(64)),
				HealthCheck: &wire.HealthCheck{Command: []string{"CMD", "true"}}},
			{Name: wire.Ptr("side"), Image: wire.Ptr("busybox"), Memory: wire.Ptr(int32(64)), Essential: wire.Ptr(false)},
		},
	})
	noErr(t, err)
	arn := wire.Val(f.run(t, "checked", 1).Tasks[0].TaskArn)
	for _, step := range []struct {
		report map[string]string
		want   wire.HealthStatus
	}{
		{map[string]string{"app": "UNKNOWN"}, wire.HealthStatusUnknown},
		{map[string]string{"app": "HEALTHY", "side": "UNHEALTHY"}, wire.HealthStatusHealthy}, // side is not essential
		{map[string]string{"app": "UNHEALTHY"}, wire.HealthStatusUnhealthy},
		{map[string]string{"app": "HEALTHY"}, wire.HealthStatusHealthy},
	} {
		noErr(t, f.c.ReportHealth(ctx, testNS, arn, step.report))
		task := f.describe(t, arn)
		if wire.Val(task.HealthStatus) != step.want {
			t.Fatalf("after %v: task health %s, want %s", step.report, wire.Val(task.HealthStatus), step.want)
		}
		if h, ok := step.report["app"]; ok && string(wire.Val(task.Containers[0].HealthStatus)) != h {
			t.Fatalf("container health %s, want %s", wire.Val(task.Containers[0].HealthStatus), h)
		}
	}
	if err := f.c.ReportHealth(ctx, testNS, "arn:aws:ecs:us-east-1:999999999999:task/tasks/0123456789abcdef0123456789abcdef", nil); ecs.CodeOf(err) != ecs.InvalidParameter {
		t.Fatalf("foreign task: %v", err)
	}
}

func TestRunTask_StrategiesAndConstraints(t *testing.T) {
	f := newTaskFixture(t)
	f.connect(t, true)
	ctx := testCtx(t)
	run := func(in *wire.RunTaskRequest) (*wire.RunTaskResponse, error) {
		in.Cluster, in.TaskDefinition = wire.Ptr("tasks"), wire.Ptr("big")
		return f.c.RunTask(ctx, testNS, in)
	}
	t.Run("ErrMalformedExpression", func(t *testing.T) {
		_, err := run(&wire.RunTaskRequest{PlacementConstraints: []wire.PlacementConstraint{{Type: wire.Ptr(wire.PlacementConstraintTypeMemberOf), Expression: wire.Ptr("attribute:ecs.availability-zone ==")}}})
		if ecs.CodeOf(err) != ecs.InvalidParameter {
			t.Fatalf("want InvalidParameterException, got %v", err)
		}
	})
	t.Run("ErrBadStrategyField", func(t *testing.T) {
		_, err := run(&wire.RunTaskRequest{PlacementStrategy: []wire.PlacementStrategy{{Type: wire.Ptr(wire.PlacementStrategyTypeBinpack), Field: wire.Ptr("disk")}}})
		if ecs.CodeOf(err) != ecs.InvalidParameter {
			t.Fatalf("want InvalidParameterException, got %v", err)
		}
	})
	t.Run("MemberOfUnsatisfied", func(t *testing.T) {
		out, err := run(&wire.RunTaskRequest{PlacementConstraints: []wire.PlacementConstraint{{Type: wire.Ptr(wire.PlacementConstraintTypeMemberOf), Expression: wire.Ptr("attribute:ecs.availability-zone == us-east-1b")}}})
		noErr(t, err)
		if len(out.Tasks) != 0 || len(out.Failures) != 1 || !strings.Contains(wire.Val(out.Failures[0].Reason), "MemberOf") {
			t.Fatalf("got %+v", out)
		}
	})
	t.Run("MemberOfSatisfiedAndBinpack", func(t *testing.T) {
		out, err := run(&wire.RunTaskRequest{
			PlacementConstraints: []wire.PlacementConstraint{{Type: wire.Ptr(wire.PlacementConstraintTypeMemberOf), Expression: wire.Ptr("attribute:ecs.availability-zone in (us-east-1a, us-east-1c)")}},
			PlacementStrategy:    []wire.PlacementStrategy{{Type: wire.Ptr(wire.PlacementStrategyTypeBinpack), Field: wire.Ptr("memory")}},
		})
		noErr(t, err)
		if len(out.Tasks) != 1 || wire.Val(out.Tasks[0].ContainerInstanceArn) != f.instance {
			t.Fatalf("got %+v", out)
		}
	})
	t.Run("DistinctInstance", func(t *testing.T) {
		register(t, f.c, "small", 10, 16, 0)
		out, err := f.c.RunTask(ctx, testNS, &wire.RunTaskRequest{Cluster: wire.Ptr("tasks"), TaskDefinition: wire.Ptr("small"), Count: wire.Ptr(int32(2)),
			PlacementConstraints: []wire.PlacementConstraint{{Type: wire.Ptr(wire.PlacementConstraintTypeDistinctInstance)}}})
		noErr(t, err)
		if len(out.Tasks) != 1 || len(out.Failures) == 0 {
			t.Fatalf("distinctInstance on one instance must place one task: %+v", out)
		}
	})
}

// TestRunTask_DefaultSpread: with no strategy, tasks spread across the
// availability zones of the cluster's instances.
func TestRunTask_DefaultSpread(t *testing.T) {
	c := newTestControl(t)
	ctx := testCtx(t)
	createCluster(t, c, "spread")
	for _, az := range []string{"us-east-1a", "us-east-1b", "us-east-1c", "us-east-1a"} {
		out, err := c.RegisterContainerInstance(ctx, testNS, &wire.RegisterContainerInstanceRequest{
			Cluster: wire.Ptr("spread"),
			TotalResources: []wire.Resource{
				{Name: wire.Ptr("CPU"), Type: wire.Ptr("INTEGER"), IntegerValue: wire.Ptr(int32(4096))},
				{Name: wire.Ptr("MEMORY"), Type: wire.Ptr("INTEGER"), IntegerValue: wire.Ptr(int32(8192))},
			},
			Attributes: append(capabilityAttributes(), wire.Attribute{Name: wire.Ptr("ecs.availability-zone"), Value: wire.Ptr(az)}),
		})
		noErr(t, err)
		noErr(t, c.SetAgentConnected(ctx, testNS, "spread", lastSegment(wire.Val(out.ContainerInstance.ContainerInstanceArn)), true))
	}
	register(t, c, "small", 10, 16, 0)
	out, err := c.RunTask(ctx, testNS, &wire.RunTaskRequest{Cluster: wire.Ptr("spread"), TaskDefinition: wire.Ptr("small"), Count: wire.Ptr(int32(9))})
	noErr(t, err)
	perAZ := map[string]int{}
	for _, task := range out.Tasks {
		perAZ[wire.Val(task.AvailabilityZone)]++
	}
	if len(out.Tasks) != 9 || perAZ["us-east-1a"] != 3 || perAZ["us-east-1b"] != 3 || perAZ["us-east-1c"] != 3 {
		t.Fatalf("tasks per AZ %v", perAZ)
	}
}
