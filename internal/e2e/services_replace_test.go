package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-dev/berth/internal/testkit"
)

// serviceTasks describes the service's tasks with the given desired status.
func serviceTasks(t *testing.T, c *ecs.Client, cluster, service string, desired types.DesiredStatus) []types.Task {
	t.Helper()
	var out []types.Task
	p := ecs.NewListTasksPaginator(c, &ecs.ListTasksInput{Cluster: aws.String(cluster), ServiceName: aws.String(service), DesiredStatus: desired, MaxResults: aws.Int32(100)})
	for p.HasMorePages() {
		page := testkit.Must(p.NextPage(context.Background()))(t)
		if len(page.TaskArns) == 0 {
			break
		}
		out = append(out, testkit.Must(c.DescribeTasks(context.Background(), &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: page.TaskArns}))(t).Tasks...)
	}
	return out
}

// TestService_DrainInstance sets the instance holding the most tasks of a
// 6-task service DRAINING: the scheduler starts replacements elsewhere
// before it stops the drained tasks (minimumHealthyPercent 100 keeps 6
// RUNNING throughout), the drained instance ends empty, and the stopped
// tasks carry ServiceSchedulerInitiated.
func TestService_DrainInstance(t *testing.T) {
	m := startServer(t, options{})
	c := defaultClient(m)
	cx := context.Background()
	const cluster = "drain"
	testkit.Must(c.CreateCluster(cx, &ecs.CreateClusterInput{ClusterName: aws.String(cluster)}))(t)
	startSimAgents(t, c, cluster, 3)
	td := registerSim(t, c, "drain")
	testkit.Must(c.CreateService(cx, &ecs.CreateServiceInput{Cluster: aws.String(cluster), ServiceName: aws.String("web"), TaskDefinition: aws.String(td),
		DesiredCount: aws.Int32(6)}))(t)
	waitService(t, c, cluster, "web", 30*time.Second, stable, nil)

	perInstance := map[string][]string{}
	for _, task := range serviceTasks(t, c, cluster, "web", types.DesiredStatusRunning) {
		ci := aws.ToString(task.ContainerInstanceArn)
		perInstance[ci] = append(perInstance[ci], aws.ToString(task.TaskArn))
	}
	var drained string
	for ci, ts := range perInstance {
		if drained == "" || len(ts) > len(perInstance[drained]) {
			drained = ci
		}
	}
	if len(perInstance[drained]) == 0 {
		t.Fatalf("tasks per instance: %v", perInstance)
	}
	up := testkit.Must(c.UpdateContainerInstancesState(cx, &ecs.UpdateContainerInstancesStateInput{Cluster: aws.String(cluster),
		ContainerInstances: []string{drained}, Status: types.ContainerInstanceStatusDraining}))(t)
	if len(up.ContainerInstances) != 1 || aws.ToString(up.ContainerInstances[0].Status) != "DRAINING" {
		t.Fatalf("update state: %+v %+v", up.ContainerInstances, up.Failures)
	}

	minRunning := 1 << 30
	empty := func() bool {
		d := testkit.Must(c.DescribeContainerInstances(cx, &ecs.DescribeContainerInstancesInput{Cluster: aws.String(cluster), ContainerInstances: []string{drained}}))(t)
		return len(d.ContainerInstances) == 1 && d.ContainerInstances[0].RunningTasksCount == 0 && d.ContainerInstances[0].PendingTasksCount == 0
	}
	waitService(t, c, cluster, "web", 30*time.Second, func(s types.Service) bool {
		return stable(s) && empty()
	}, func(s types.Service) { minRunning = min(minRunning, int(s.RunningCount)) })
	if minRunning < 6 {
		t.Fatalf("runningCount fell to %d while draining (minimumHealthyPercent 100)", minRunning)
	}
	running := serviceTasks(t, c, cluster, "web", types.DesiredStatusRunning)
	if len(running) != 6 {
		t.Fatalf("%d tasks running", len(running))
	}
	for _, task := range running {
		if aws.ToString(task.ContainerInstanceArn) == drained {
			t.Fatalf("task %s runs on the DRAINING instance", aws.ToString(task.TaskArn))
		}
	}
	stoppedTasks := testkit.Must(c.DescribeTasks(cx, &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: perInstance[drained]}))(t).Tasks
	for _, task := range stoppedTasks {
		if aws.ToString(task.LastStatus) != "STOPPED" || task.StopCode != types.TaskStopCodeServiceSchedulerInitiated {
			t.Fatalf("drained task %s: %s %s %q", aws.ToString(task.TaskArn), aws.ToString(task.LastStatus), task.StopCode, aws.ToString(task.StoppedReason))
		}
	}

	// Back to ACTIVE, the instance takes tasks again (a new deployment
	// spreads over all three).
	testkit.Must(c.UpdateContainerInstancesState(cx, &ecs.UpdateContainerInstancesStateInput{Cluster: aws.String(cluster),
		ContainerInstances: []string{drained}, Status: types.ContainerInstanceStatusActive}))(t)
	testkit.Must(c.UpdateService(cx, &ecs.UpdateServiceInput{Cluster: aws.String(cluster), Service: aws.String("web"), ForceNewDeployment: true}))(t)
	waitService(t, c, cluster, "web", 30*time.Second, func(s types.Service) bool {
		return stable(s) && !empty()
	}, nil)
}

// TestService_ReplaceUnhealthy runs a service whose containers turn
// UNHEALTHY two seconds after they start (sim health knobs): the scheduler
// stops each unhealthy task (ServiceSchedulerInitiated, "Task failed
// container health checks"), emits the §7.8 event and starts a
// replacement; updated to a healthy revision, the service settles.
func TestService_ReplaceUnhealthy(t *testing.T) {
	m := startServer(t, options{})
	c := defaultClient(m)
	cx := context.Background()
	const cluster = "sick"
	testkit.Must(c.CreateCluster(cx, &ecs.CreateClusterInput{ClusterName: aws.String(cluster)}))(t)
	startSimAgents(t, c, cluster, 2)
	register := func(env ...types.KeyValuePair) string {
		td := testkit.Must(c.RegisterTaskDefinition(cx, &ecs.RegisterTaskDefinitionInput{
			Family: aws.String("sick"),
			ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("busybox"), Memory: aws.Int32(64),
				Essential: aws.Bool(true), Environment: env,
				HealthCheck: &types.HealthCheck{Command: []string{"CMD-SHELL", "true"}, Interval: aws.Int32(5), Retries: aws.Int32(1)}}},
		}))(t)
		return aws.ToString(td.TaskDefinition.TaskDefinitionArn)
	}
	sick := register(
		types.KeyValuePair{Name: aws.String("BERTH_SIM_HEALTHY_AFTER"), Value: aws.String("0.2")},
		types.KeyValuePair{Name: aws.String("BERTH_SIM_UNHEALTHY_AFTER"), Value: aws.String("2")})
	well := register(types.KeyValuePair{Name: aws.String("BERTH_SIM_HEALTHY_AFTER"), Value: aws.String("0.2")})
	testkit.Must(c.CreateService(cx, &ecs.CreateServiceInput{Cluster: aws.String(cluster), ServiceName: aws.String("web"), TaskDefinition: aws.String(sick),
		DesiredCount: aws.Int32(2)}))(t)
	s := waitService(t, c, cluster, "web", 30*time.Second, stable, nil)
	var first []string
	for _, task := range serviceTasks(t, c, cluster, "web", types.DesiredStatusRunning) {
		first = append(first, aws.ToString(task.TaskArn))
	}
	if len(first) != 2 {
		t.Fatalf("%d tasks running: %+v", len(first), s)
	}

	// Both first tasks turn UNHEALTHY and are replaced.
	deadline := time.Now().Add(30 * time.Second)
	for {
		d := testkit.Must(c.DescribeTasks(cx, &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: first}))(t)
		done := 0
		for _, task := range d.Tasks {
			if aws.ToString(task.LastStatus) == "STOPPED" {
				if task.StopCode != types.TaskStopCodeServiceSchedulerInitiated || !strings.Contains(aws.ToString(task.StoppedReason), "health") ||
					task.HealthStatus != types.HealthStatusUnhealthy {
					t.Fatalf("task %s stopped: %s %q health %s", aws.ToString(task.TaskArn), task.StopCode, aws.ToString(task.StoppedReason), task.HealthStatus)
				}
				done++
			}
		}
		if done == len(first) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d unhealthy tasks stopped", done, len(first))
		}
		time.Sleep(50 * time.Millisecond)
	}
	s = describeService(t, c, cluster, "web")
	var msgs []string
	for _, e := range s.Events {
		msgs = append(msgs, aws.ToString(e.Message))
	}
	all := strings.Join(msgs, "\n")
	for _, arn := range first {
		id := arn[strings.LastIndexByte(arn, '/')+1:]
		if !strings.Contains(all, "(service web) (task "+id+") failed container health checks.") {
			t.Fatalf("no health event for %s in:\n%s", id, all)
		}
	}
	if !strings.Contains(all, "(service web) has started 1 tasks:") && !strings.Contains(all, "(service web) has started 2 tasks:") {
		t.Fatalf("no replacement started:\n%s", all)
	}

	// A healthy revision settles the service.
	testkit.Must(c.UpdateService(cx, &ecs.UpdateServiceInput{Cluster: aws.String(cluster), Service: aws.String("web"), TaskDefinition: aws.String(well)}))(t)
	waitService(t, c, cluster, "web", 30*time.Second, func(s types.Service) bool {
		return stable(s) && aws.ToString(s.TaskDefinition) == well
	}, nil)
	for _, task := range serviceTasks(t, c, cluster, "web", types.DesiredStatusRunning) {
		if aws.ToString(task.TaskDefinitionArn) != well {
			t.Fatalf("task %s of %s still runs", aws.ToString(task.TaskArn), aws.ToString(task.TaskDefinitionArn))
		}
	}
}
