package e2e

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/berth-dev/berth/internal/agent"
	"github.com/berth-dev/berth/internal/runtime/sim"
	"github.com/berth-dev/berth/internal/testkit"
)

const waiterScript = `
import boto3, sys
ecs = boto3.client("ecs")
ecs.register_task_definition(family="waited", containerDefinitions=[
    {"name": "app", "image": "busybox", "memory": 64,
     "environment": [{"name": "BERTH_SIM_START_DELAY", "value": "0.2"}]}])
arn = ecs.run_task(cluster="waiters", taskDefinition="waited")["tasks"][0]["taskArn"]
fast = {"Delay": 1, "MaxAttempts": 30}
ecs.get_waiter("tasks_running").wait(cluster="waiters", tasks=[arn], WaiterConfig=fast)
t = ecs.describe_tasks(cluster="waiters", tasks=[arn])["tasks"][0]
assert t["lastStatus"] == "RUNNING", t
ecs.stop_task(cluster="waiters", task=arn, reason="waiter test")
ecs.get_waiter("tasks_stopped").wait(cluster="waiters", tasks=[arn], WaiterConfig=fast)
t = ecs.describe_tasks(cluster="waiters", tasks=[arn])["tasks"][0]
assert t["lastStatus"] == "STOPPED" and t["stopCode"] == "UserInitiated", t
assert t["containers"][0]["exitCode"] == 143, t
print("waiters ok")
`

// TestWaiters_Boto3 runs boto3's tasks_running and tasks_stopped waiters,
// unchanged, against a started server with a sim-runtime agent.
func TestWaiters_Boto3(t *testing.T) {
	m := startServer(t, options{})
	c := defaultClient(m)
	cx := ctx(t)
	testkit.Must(c.CreateCluster(cx, &ecs.CreateClusterInput{ClusterName: aws.String("waiters")}))(t)
	dir := t.TempDir()
	rt, err := sim.New(sim.Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rt.Close() })
	a, err := agent.New(agent.Config{Runtime: rt, ECS: c, Cluster: "waiters", CPU: 2048, MemoryMiB: 4096, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(runCtx) }()
	t.Cleanup(func() {
		cancel()
		_ = a.Close()
		<-done
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		l := testkit.Must(c.ListContainerInstances(cx, &ecs.ListContainerInstancesInput{Cluster: aws.String("waiters")}))(t)
		if len(l.ContainerInstanceArns) == 1 {
			d := testkit.Must(c.DescribeContainerInstances(cx, &ecs.DescribeContainerInstancesInput{Cluster: aws.String("waiters"), ContainerInstances: l.ContainerInstanceArns}))(t)
			if d.ContainerInstances[0].AgentConnected {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the agent never connected")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd := exec.Command("python3", "-c", waiterScript)
	cmd.Env = toolEnv(t, m.URL())
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "waiters ok") {
		t.Fatalf("boto3 waiters: %v\n%s", err, out)
	}
}
