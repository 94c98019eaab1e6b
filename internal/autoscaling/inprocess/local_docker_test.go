package inprocess_test

import (
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	asg "github.com/aws/aws-sdk-go-v2/service/autoscaling"
	asgtypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-dev/berth/internal/autoscaling"
	"github.com/berth-dev/berth/internal/autoscaling/inprocess"
	"github.com/berth-dev/berth/internal/runtime/docker/dockertest"
	"github.com/berth-dev/berth/internal/testkit"
)

// TestLocalLauncher runs a group of the local launcher: its instance is
// an agent on the local Docker with the budget of its type, runs a task
// as a real container labelled with the instance id, and its termination
// stops the task, removes the container and deregisters the instance.
// Without Docker it skips (fails with BERTH_REQUIRE_DOCKER=1).
func TestLocalLauncher(t *testing.T) {
	t.Parallel()
	rt := dockertest.Runtime(t)
	img := dockertest.ProbeImage(t, rt)
	m := startServer(t, t.TempDir())
	defer m.Close()
	c := newClients(m)
	ctx := t.Context()
	testkit.Must(c.ecs.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("local-asg")}))(t)
	testkit.Must(c.asg.CreateAutoScalingGroup(ctx, &asg.CreateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String("locals"), MinSize: aws.Int32(0), MaxSize: aws.Int32(2), DesiredCapacity: aws.Int32(1),
		AvailabilityZones: []string{"us-east-1a"},
		LaunchTemplate:    &asgtypes.LaunchTemplateSpecification{LaunchTemplateName: aws.String("berth-local-hosts")},
		Tags: []asgtypes.Tag{
			{Key: aws.String(autoscaling.TagCluster), Value: aws.String("local-asg")},
			{Key: aws.String(autoscaling.TagInstanceType), Value: aws.String("t3.small")},
		},
	}))(t)
	group := waitGroup(t, c, "locals", 1)
	id := slices.Collect(maps.Keys(group))[0]
	var cis map[string]types.ContainerInstance
	testkit.Eventually(t, 60*time.Second, "a connected container instance", func() error {
		cis = containerInstances(t, c, "local-asg")
		if ci, ok := cis[id]; !ok || !ci.AgentConnected {
			return fmt.Errorf("container instances %v", cis)
		}
		return nil
	})
	ci := cis[id]
	if resource(ci, "CPU") != 2048 || resource(ci, "MEMORY") != 2048 || attribute(ci, "ecs.instance-type") != "t3.small" {
		t.Fatalf("CPU %d memory %d type %q, want t3.small's", resource(ci, "CPU"), resource(ci, "MEMORY"), attribute(ci, "ecs.instance-type"))
	}

	testkit.Must(c.ecs.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("local-app"),
		ContainerDefinitions: []types.ContainerDefinition{{
			Name: aws.String("app"), Image: aws.String(img), Memory: aws.Int32(64),
			Command: []string{"-print", "ready", "-forever"}, StopTimeout: aws.Int32(2)}},
	}))(t)
	run := testkit.Must(c.ecs.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("local-asg"), TaskDefinition: aws.String("local-app")}))(t)
	if len(run.Tasks) != 1 {
		t.Fatalf("RunTask failures %+v", run.Failures)
	}
	taskARN := aws.ToString(run.Tasks[0].TaskArn)
	waitTaskStatus(t, c, "local-asg", taskARN, "RUNNING")
	list, err := rt.List(ctx, map[string]string{inprocess.LabelInstance: id})
	if err != nil || len(list) != 1 {
		t.Fatalf("containers of %s: %v %v", id, list, err)
	}

	testkit.Must(c.asg.SetDesiredCapacity(ctx, &asg.SetDesiredCapacityInput{AutoScalingGroupName: aws.String("locals"), DesiredCapacity: aws.Int32(0)}))(t)
	waitGroup(t, c, "locals", 0)
	task := waitTaskStatus(t, c, "local-asg", taskARN, "STOPPED")
	t.Logf("stopped: %q", aws.ToString(task.StoppedReason))
	if got := aws.ToString(containerInstances(t, c, "local-asg", cis)[id].Status); got != "INACTIVE" {
		t.Errorf("container instance %s is %s", id, got)
	}
	if list, err := rt.List(ctx, map[string]string{inprocess.LabelInstance: id}); err != nil || len(list) != 0 {
		t.Errorf("containers left of %s: %v %v", id, list, err)
	}
}

func waitTaskStatus(t *testing.T, c clients, cluster, arn, status string) types.Task {
	t.Helper()
	var task types.Task
	testkit.Eventually(t, 60*time.Second, "task "+status, func() error {
		d := testkit.Must(c.ecs.DescribeTasks(t.Context(), &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: []string{arn}}))(t)
		if len(d.Tasks) != 1 {
			return fmt.Errorf("no task")
		}
		task = d.Tasks[0]
		if aws.ToString(task.LastStatus) != status {
			return fmt.Errorf("task is %s", aws.ToString(task.LastStatus))
		}
		return nil
	})
	return task
}
