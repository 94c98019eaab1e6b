package e2e

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-dev/berth/internal/fleet"
	"github.com/berth-dev/berth/internal/testkit"
)

// retryUntil calls f until it returns nil, failing t after timeout.
func retryUntil(t *testing.T, timeout time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: %v", what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestSpotInterruption_ServiceReplaces: a service on FARGATE_SPOT whose
// task is interrupted through the administrative endpoint replaces it
// with a new FARGATE_SPOT task (spec §5.5) and returns to steady state.
func TestSpotInterruption_ServiceReplaces(t *testing.T) {
	t.Parallel()
	m := startSpotServer(t, fleet.Spot{Warning: time.Second}, "", "")
	c := defaultClient(m)
	testkit.Must(c.CreateCluster(ctx(t), &ecs.CreateClusterInput{ClusterName: aws.String("spotsvc"), CapacityProviders: []string{"FARGATE", "FARGATE_SPOT"}}))(t)
	td := spotTaskDef(t, c, "spot-svc", false)
	testkit.Must(c.CreateService(ctx(t), &ecs.CreateServiceInput{
		Cluster: aws.String("spotsvc"), ServiceName: aws.String("web"), TaskDefinition: aws.String(td), DesiredCount: aws.Int32(2),
		NetworkConfiguration:     subnets(),
		CapacityProviderStrategy: []types.CapacityProviderStrategyItem{{CapacityProvider: aws.String("FARGATE_SPOT"), Weight: 1}},
	}))(t)
	running := func() ([]string, error) {
		l := testkit.Must(c.ListTasks(ctx(t), &ecs.ListTasksInput{Cluster: aws.String("spotsvc"), ServiceName: aws.String("web")}))(t)
		if len(l.TaskArns) == 0 {
			return nil, fmt.Errorf("no tasks")
		}
		d := testkit.Must(c.DescribeTasks(ctx(t), &ecs.DescribeTasksInput{Cluster: aws.String("spotsvc"), Tasks: l.TaskArns}))(t)
		var out []string
		for _, tk := range d.Tasks {
			if aws.ToString(tk.LastStatus) == "RUNNING" && aws.ToString(tk.DesiredStatus) == "RUNNING" {
				if aws.ToString(tk.CapacityProviderName) != "FARGATE_SPOT" {
					return nil, fmt.Errorf("task %s on %q", aws.ToString(tk.TaskArn), aws.ToString(tk.CapacityProviderName))
				}
				out = append(out, aws.ToString(tk.TaskArn))
			}
		}
		if len(out) != 2 {
			return nil, fmt.Errorf("%d tasks RUNNING", len(out))
		}
		slices.Sort(out)
		return out, nil
	}
	var before []string
	retryUntil(t, 60*time.Second, "2 Spot tasks RUNNING", func() error {
		var err error
		before, err = running()
		return err
	})

	status, out := interruptSpot(t, m, "", "", map[string]any{"cluster": "spotsvc", "tasks": []string{before[0]}})
	if status != http.StatusOK || !slices.Equal(out.Interrupted, []string{before[0]}) {
		t.Fatalf("status %d, answer %+v", status, out)
	}
	checkInterrupted(t, waitTask(t, c, "spotsvc", before[0], false))
	retryUntil(t, 60*time.Second, "a replacement RUNNING", func() error {
		after, err := running()
		if err != nil {
			return err
		}
		if slices.Contains(after, before[0]) || !slices.Contains(after, before[1]) {
			return fmt.Errorf("tasks %v (before %v)", after, before)
		}
		s := testkit.Must(c.DescribeServices(ctx(t), &ecs.DescribeServicesInput{Cluster: aws.String("spotsvc"), Services: []string{"web"}}))(t)
		if sv := s.Services[0]; sv.RunningCount != 2 || sv.PendingCount != 0 {
			return fmt.Errorf("service running %d pending %d", sv.RunningCount, sv.PendingCount)
		}
		return nil
	})
}
