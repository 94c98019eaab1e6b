package e2e

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-dev/berth/internal/agent"
	"github.com/berth-dev/berth/internal/runtime/sim"
	"github.com/berth-dev/berth/internal/testkit"
)

// startSimAgents starts n more in-process agents on the sim runtime in
// cluster (spread over three availability zones) and waits until they are
// connected. They stop at cleanup.
func startSimAgents(t *testing.T, c *ecs.Client, cluster string, n int) {
	t.Helper()
	before := len(testkit.Must(c.ListContainerInstances(context.Background(), &ecs.ListContainerInstancesInput{Cluster: aws.String(cluster)}))(t).ContainerInstanceArns)
	n += before
	for i := before; i < n; i++ {
		rt, err := sim.New(sim.Options{Seed: uint64(i + 1)})
		if err != nil {
			t.Fatal(err)
		}
		a, err := agent.New(agent.Config{Runtime: rt, ECS: c, Cluster: cluster, CPU: 4096, MemoryMiB: 8192, DataDir: t.TempDir(),
			Attributes: map[string]string{"ecs.availability-zone": fmt.Sprintf("us-east-1%c", 'a'+i%3)}})
		if err != nil {
			t.Fatal(err)
		}
		runCtx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- a.Run(runCtx) }()
		t.Cleanup(func() { cancel(); _ = a.Close(); <-done; _ = rt.Close() })
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		l := testkit.Must(c.ListContainerInstances(context.Background(), &ecs.ListContainerInstancesInput{Cluster: aws.String(cluster)}))(t)
		connected := 0
		if len(l.ContainerInstanceArns) > 0 {
			d := testkit.Must(c.DescribeContainerInstances(context.Background(), &ecs.DescribeContainerInstancesInput{Cluster: aws.String(cluster), ContainerInstances: l.ContainerInstanceArns}))(t)
			for _, ci := range d.ContainerInstances {
				if ci.AgentConnected {
					connected++
				}
			}
		}
		if connected == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d agents connected", connected, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// registerSim registers a small sim task definition with extra environment
// (BERTH_SIM_* knobs) and returns its ARN.
func registerSim(t *testing.T, c *ecs.Client, family string, env ...string) string {
	t.Helper()
	var kv []types.KeyValuePair
	for i := 0; i+1 < len(env); i += 2 {
		kv = append(kv, types.KeyValuePair{Name: aws.String(env[i]), Value: aws.String(env[i+1])})
	}
	td := testkit.Must(c.RegisterTaskDefinition(context.Background(), &ecs.RegisterTaskDefinitionInput{
		Family: aws.String(family),
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("busybox"), Memory: aws.Int32(64),
			Essential: aws.Bool(true), Environment: kv}},
	}))(t)
	return aws.ToString(td.TaskDefinition.TaskDefinitionArn)
}

func describeService(t *testing.T, c *ecs.Client, cluster, name string) types.Service {
	t.Helper()
	out := testkit.Must(c.DescribeServices(context.Background(), &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{name}, Include: []types.ServiceField{types.ServiceFieldTags}}))(t)
	if len(out.Services) != 1 {
		t.Fatalf("describe %s: %+v", name, out.Failures)
	}
	return out.Services[0]
}

// waitService polls DescribeServices until ok, calling sample on every
// response; it fails after timeout.
func waitService(t *testing.T, c *ecs.Client, cluster, name string, timeout time.Duration, ok func(types.Service) bool, sample func(types.Service)) types.Service {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		s := describeService(t, c, cluster, name)
		if sample != nil {
			sample(s)
		}
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			var evs []string
			for i, e := range s.Events {
				if i < 5 {
					evs = append(evs, aws.ToString(e.Message))
				}
			}
			t.Fatalf("service %s did not get there: status %s desired %d running %d pending %d deployments %d\nevents: %s",
				name, aws.ToString(s.Status), s.DesiredCount, s.RunningCount, s.PendingCount, len(s.Deployments), strings.Join(evs, "\n"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stable is the services_stable waiter's condition plus a COMPLETED rollout.
func stable(s types.Service) bool {
	return len(s.Deployments) == 1 && s.RunningCount == s.DesiredCount && s.PendingCount == 0 &&
		s.Deployments[0].RolloutState == types.DeploymentRolloutStateCompleted
}

func TestService_CRUD(t *testing.T) {
	m := startServer(t, options{})
	c := defaultClient(m)
	cx := ctx(t)
	testkit.Must(c.CreateCluster(cx, &ecs.CreateClusterInput{ClusterName: aws.String("crud")}))(t)
	td := registerSim(t, c, "crud")

	_, err := c.CreateService(cx, &ecs.CreateServiceInput{Cluster: aws.String("nope"), ServiceName: aws.String("s"), TaskDefinition: aws.String(td), DesiredCount: aws.Int32(0)})
	wantErr[*types.ClusterNotFoundException](t, err)
	_, err = c.CreateService(cx, &ecs.CreateServiceInput{Cluster: aws.String("crud"), ServiceName: aws.String("s"), TaskDefinition: aws.String(td), DesiredCount: aws.Int32(0),
		LaunchType: types.LaunchTypeEc2, CapacityProviderStrategy: []types.CapacityProviderStrategyItem{{CapacityProvider: aws.String("FARGATE"), Weight: 1}}})
	wantMsg(t, err, "Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again.")
	_, err = c.CreateService(cx, &ecs.CreateServiceInput{Cluster: aws.String("crud"), ServiceName: aws.String("s"), TaskDefinition: aws.String(td), DesiredCount: aws.Int32(0),
		DeploymentConfiguration: &types.DeploymentConfiguration{MaximumPercent: aws.Int32(50)}})
	wantErr[*types.InvalidParameterException](t, err)
	_, err = c.CreateService(cx, &ecs.CreateServiceInput{Cluster: aws.String("crud"), ServiceName: aws.String("s"), TaskDefinition: aws.String(td), DesiredCount: aws.Int32(0),
		PlacementStrategy: []types.PlacementStrategy{{Type: types.PlacementStrategyTypeBinpack, Field: aws.String("nonsense")}}})
	wantErr[*types.InvalidParameterException](t, err)

	in := &ecs.CreateServiceInput{Cluster: aws.String("crud"), ServiceName: aws.String("web"), TaskDefinition: aws.String(td), DesiredCount: aws.Int32(0),
		Tags: tags("team", "a"), EnableECSManagedTags: true, PropagateTags: types.PropagateTagsService}
	s := testkit.Must(c.CreateService(cx, in))(t).Service
	if got, want := aws.ToString(s.ServiceArn), "arn:aws:ecs:us-east-1:000000000000:service/crud/web"; got != want {
		t.Fatalf("arn %s, want %s", got, want)
	}
	if aws.ToString(s.Status) != "ACTIVE" || s.LaunchType != types.LaunchTypeEc2 || len(s.Deployments) != 1 ||
		aws.ToString(s.Deployments[0].Status) != "PRIMARY" || !strings.HasPrefix(aws.ToString(s.Deployments[0].Id), "ecs-svc/") ||
		*s.DeploymentConfiguration.MinimumHealthyPercent != 100 || *s.DeploymentConfiguration.MaximumPercent != 200 || s.SchedulingStrategy != types.SchedulingStrategyReplica {
		t.Fatalf("created service: %+v", s)
	}
	// The same request again returns the service; another one is refused.
	again := testkit.Must(c.CreateService(cx, in))(t).Service
	if aws.ToString(again.ServiceArn) != aws.ToString(s.ServiceArn) {
		t.Fatal("identical CreateService did not return the service")
	}
	_, err = c.CreateService(cx, &ecs.CreateServiceInput{Cluster: aws.String("crud"), ServiceName: aws.String("web"), TaskDefinition: aws.String(td), DesiredCount: aws.Int32(1)})
	wantMsg(t, err, "Creation of service was not idempotent.")

	d := testkit.Must(c.DescribeServices(cx, &ecs.DescribeServicesInput{Cluster: aws.String("crud"), Services: []string{"web", "ghost"}, Include: []types.ServiceField{types.ServiceFieldTags}}))(t)
	if len(d.Services) != 1 || len(d.Failures) != 1 || aws.ToString(d.Failures[0].Reason) != "MISSING" ||
		aws.ToString(d.Failures[0].Arn) != "arn:aws:ecs:us-east-1:000000000000:service/crud/ghost" || tagMap(t, d.Services[0].Tags)["team"] != "a" {
		t.Fatalf("describe: %+v", d)
	}
	_, err = c.UpdateService(cx, &ecs.UpdateServiceInput{Cluster: aws.String("crud"), Service: aws.String("ghost"), DesiredCount: aws.Int32(1)})
	wantErr[*types.ServiceNotFoundException](t, err)
	_, err = c.UpdateService(cx, &ecs.UpdateServiceInput{Cluster: aws.String("crud"), Service: aws.String("web"),
		CapacityProviderStrategy: []types.CapacityProviderStrategyItem{{CapacityProvider: aws.String("FARGATE"), Weight: 1}}})
	wantMsgContains(t, err, "you must force a new deployment")

	// Pagination: ListServices pages by 10 by default.
	for i := range 11 {
		testkit.Must(c.CreateService(cx, &ecs.CreateServiceInput{Cluster: aws.String("crud"), ServiceName: aws.String(fmt.Sprintf("s%02d", i)), TaskDefinition: aws.String(td), DesiredCount: aws.Int32(0)}))(t)
	}
	p1 := testkit.Must(c.ListServices(cx, &ecs.ListServicesInput{Cluster: aws.String("crud")}))(t)
	if len(p1.ServiceArns) != 10 || p1.NextToken == nil {
		t.Fatalf("page 1: %d arns, token %v", len(p1.ServiceArns), p1.NextToken)
	}
	p2 := testkit.Must(c.ListServices(cx, &ecs.ListServicesInput{Cluster: aws.String("crud"), NextToken: p1.NextToken}))(t)
	if len(p2.ServiceArns) != 2 || p2.NextToken != nil {
		t.Fatalf("page 2: %d arns, token %v", len(p2.ServiceArns), p2.NextToken)
	}
	if l := testkit.Must(c.ListServices(cx, &ecs.ListServicesInput{Cluster: aws.String("crud"), LaunchType: types.LaunchTypeFargate}))(t); len(l.ServiceArns) != 0 {
		t.Fatalf("FARGATE filter: %v", l.ServiceArns)
	}
	if l := testkit.Must(c.ListServices(cx, &ecs.ListServicesInput{Cluster: aws.String("crud"), SchedulingStrategy: types.SchedulingStrategyReplica, MaxResults: aws.Int32(100)}))(t); len(l.ServiceArns) != 12 {
		t.Fatalf("REPLICA filter: %d", len(l.ServiceArns))
	}
	cl := describeCluster(t, c, "crud")
	if cl.ActiveServicesCount != 12 {
		t.Fatalf("activeServicesCount %d", cl.ActiveServicesCount)
	}

	// Deletion: scaled above 0 needs force; with no task it is INACTIVE at once.
	testkit.Must(c.UpdateService(cx, &ecs.UpdateServiceInput{Cluster: aws.String("crud"), Service: aws.String("web"), DesiredCount: aws.Int32(2)}))(t)
	_, err = c.DeleteService(cx, &ecs.DeleteServiceInput{Cluster: aws.String("crud"), Service: aws.String("web")})
	wantMsg(t, err, "The service cannot be stopped while it is scaled above 0.")
	del := testkit.Must(c.DeleteService(cx, &ecs.DeleteServiceInput{Cluster: aws.String("crud"), Service: aws.String("web"), Force: aws.Bool(true)}))(t).Service
	if st := aws.ToString(del.Status); st != "DRAINING" && st != "INACTIVE" {
		t.Fatalf("deleted status %s", st)
	}
	waitService(t, c, "crud", "web", 10*time.Second, func(s types.Service) bool { return aws.ToString(s.Status) == "INACTIVE" }, nil)
	_, err = c.UpdateService(cx, &ecs.UpdateServiceInput{Cluster: aws.String("crud"), Service: aws.String("web"), DesiredCount: aws.Int32(1)})
	wantErr[*types.ServiceNotActiveException](t, err)
	// The name can be reused once INACTIVE.
	testkit.Must(c.CreateService(cx, &ecs.CreateServiceInput{Cluster: aws.String("crud"), ServiceName: aws.String("web"), TaskDefinition: aws.String(td), DesiredCount: aws.Int32(0)}))(t)
}

// TestService_ConvergeAndRoll runs a 50-task service on sim agents to
// steady state, then rolls it to a new revision, sampling DescribeServices
// to check the minimum healthy and maximum percent bounds, then deletes it.
func TestService_ConvergeAndRoll(t *testing.T) {
	m := startServer(t, options{})
	c := defaultClient(m)
	cx := context.Background()
	testkit.Must(c.CreateCluster(cx, &ecs.CreateClusterInput{ClusterName: aws.String("roll")}))(t)
	startSimAgents(t, c, "roll", 6)
	td1 := registerSim(t, c, "roll")
	td2 := registerSim(t, c, "roll", "BERTH_SIM_START_DELAY", "0.05")
	testkit.Must(c.CreateService(cx, &ecs.CreateServiceInput{Cluster: aws.String("roll"), ServiceName: aws.String("web"), TaskDefinition: aws.String(td1),
		DesiredCount: aws.Int32(50), EnableECSManagedTags: true,
		DeploymentConfiguration: &types.DeploymentConfiguration{MinimumHealthyPercent: aws.Int32(50), MaximumPercent: aws.Int32(150)}}))(t)
	s := waitService(t, c, "roll", "web", 60*time.Second, stable, nil)
	if s.RunningCount != 50 || aws.ToString(s.TaskDefinition) != td1 {
		t.Fatalf("converged: %+v", s)
	}
	tasks := testkit.Must(c.ListTasks(cx, &ecs.ListTasksInput{Cluster: aws.String("roll"), ServiceName: aws.String("web"), MaxResults: aws.Int32(100)}))(t)
	if len(tasks.TaskArns) != 50 {
		t.Fatalf("%d tasks listed", len(tasks.TaskArns))
	}
	dt := testkit.Must(c.DescribeTasks(cx, &ecs.DescribeTasksInput{Cluster: aws.String("roll"), Tasks: tasks.TaskArns[:1], Include: []types.TaskField{types.TaskFieldTags}}))(t).Tasks[0]
	if aws.ToString(dt.Group) != "service:web" || aws.ToString(dt.StartedBy) != aws.ToString(s.Deployments[0].Id) || tagMap(t, dt.Tags)["aws:ecs:serviceName"] != "web" {
		t.Fatalf("service task: group %s startedBy %s tags %v", aws.ToString(dt.Group), aws.ToString(dt.StartedBy), dt.Tags)
	}

	testkit.Must(c.UpdateService(cx, &ecs.UpdateServiceInput{Cluster: aws.String("roll"), Service: aws.String("web"), TaskDefinition: aws.String(td2)}))(t)
	maxSeen, minSeen := 0, 1<<30
	s = waitService(t, c, "roll", "web", 60*time.Second, func(s types.Service) bool {
		return stable(s) && aws.ToString(s.TaskDefinition) == td2
	}, func(s types.Service) {
		maxSeen = max(maxSeen, int(s.RunningCount+s.PendingCount))
		minSeen = min(minSeen, int(s.RunningCount))
	})
	if maxSeen > 75 || minSeen < 25 {
		t.Fatalf("rollout went outside [25, 75]: min running %d, max running+pending %d", minSeen, maxSeen)
	}
	if aws.ToString(s.Deployments[0].TaskDefinition) != td2 || s.RunningCount != 50 {
		t.Fatalf("rolled: %+v", s.Deployments)
	}
	// Service deployments: the rollout is SUCCESSFUL and its revision
	// names the deployment id.
	sds := testkit.Must(c.ListServiceDeployments(cx, &ecs.ListServiceDeploymentsInput{Cluster: aws.String("roll"), Service: aws.String("web")}))(t)
	if len(sds.ServiceDeployments) != 2 || sds.ServiceDeployments[0].Status != types.ServiceDeploymentStatusSuccessful ||
		!strings.HasSuffix(aws.ToString(sds.ServiceDeployments[0].TargetServiceRevisionArn), strings.TrimPrefix(aws.ToString(s.Deployments[0].Id), "ecs-svc/")) {
		t.Fatalf("service deployments: %+v", sds.ServiceDeployments)
	}
	dsd := testkit.Must(c.DescribeServiceDeployments(cx, &ecs.DescribeServiceDeploymentsInput{ServiceDeploymentArns: []string{aws.ToString(sds.ServiceDeployments[0].ServiceDeploymentArn)}}))(t)
	if len(dsd.ServiceDeployments) != 1 || dsd.ServiceDeployments[0].Status != types.ServiceDeploymentStatusSuccessful {
		t.Fatalf("describe service deployment: %+v", dsd)
	}
	rev := testkit.Must(c.DescribeServiceRevisions(cx, &ecs.DescribeServiceRevisionsInput{ServiceRevisionArns: []string{aws.ToString(sds.ServiceDeployments[0].TargetServiceRevisionArn)}}))(t)
	if len(rev.ServiceRevisions) != 1 || aws.ToString(rev.ServiceRevisions[0].TaskDefinition) != td2 {
		t.Fatalf("describe service revision: %+v", rev)
	}

	testkit.Must(c.DeleteService(cx, &ecs.DeleteServiceInput{Cluster: aws.String("roll"), Service: aws.String("web"), Force: aws.Bool(true)}))(t)
	waitService(t, c, "roll", "web", 60*time.Second, func(s types.Service) bool { return aws.ToString(s.Status) == "INACTIVE" }, nil)
	if l := testkit.Must(c.ListTasks(cx, &ecs.ListTasksInput{Cluster: aws.String("roll"), ServiceName: aws.String("web")}))(t); len(l.TaskArns) != 0 {
		t.Fatalf("%d tasks left after the service drained", len(l.TaskArns))
	}
}

// TestService_CircuitBreakerRollback updates a service to a revision whose
// container fails to start: the circuit breaker trips and rolls back.
func TestService_CircuitBreakerRollback(t *testing.T) {
	m := startServer(t, options{})
	c := defaultClient(m)
	cx := context.Background()
	testkit.Must(c.CreateCluster(cx, &ecs.CreateClusterInput{ClusterName: aws.String("cb")}))(t)
	startSimAgents(t, c, "cb", 2)
	good := registerSim(t, c, "cb")
	bad := registerSim(t, c, "cb", "BERTH_SIM_FAIL", "start")
	testkit.Must(c.CreateService(cx, &ecs.CreateServiceInput{Cluster: aws.String("cb"), ServiceName: aws.String("web"), TaskDefinition: aws.String(good), DesiredCount: aws.Int32(4),
		DeploymentConfiguration: &types.DeploymentConfiguration{DeploymentCircuitBreaker: &types.DeploymentCircuitBreaker{Enable: true, Rollback: true}}}))(t)
	waitService(t, c, "cb", "web", 30*time.Second, stable, nil)
	testkit.Must(c.UpdateService(cx, &ecs.UpdateServiceInput{Cluster: aws.String("cb"), Service: aws.String("web"), TaskDefinition: aws.String(bad)}))(t)
	s := waitService(t, c, "cb", "web", 60*time.Second, func(s types.Service) bool {
		return stable(s) && aws.ToString(s.TaskDefinition) == good
	}, nil)
	var rolled, failed bool
	for _, e := range s.Events {
		msg := aws.ToString(e.Message)
		rolled = rolled || strings.Contains(msg, "rolling back to deployment")
		failed = failed || strings.Contains(msg, "deployment failed: tasks failed to start.")
	}
	if !rolled || !failed {
		t.Fatalf("events lack the breaker: %v", s.Events)
	}
	sds := testkit.Must(c.ListServiceDeployments(cx, &ecs.ListServiceDeploymentsInput{Cluster: aws.String("cb"), Service: aws.String("web")}))(t)
	if sds.ServiceDeployments[0].Status != types.ServiceDeploymentStatusRollbackSuccessful {
		t.Fatalf("service deployments after rollback: %+v", sds.ServiceDeployments)
	}
}

// TestTaskSet_MoveWeight moves an EXTERNAL service's tasks from one task
// set to another.
func TestTaskSet_MoveWeight(t *testing.T) {
	m := startServer(t, options{})
	c := defaultClient(m)
	cx := context.Background()
	testkit.Must(c.CreateCluster(cx, &ecs.CreateClusterInput{ClusterName: aws.String("ts")}))(t)
	startSimAgents(t, c, "ts", 2)
	blue := registerSim(t, c, "ts")
	green := registerSim(t, c, "ts", "BERTH_SIM_START_DELAY", "0.05")
	testkit.Must(c.CreateService(cx, &ecs.CreateServiceInput{Cluster: aws.String("ts"), ServiceName: aws.String("web"), DesiredCount: aws.Int32(4),
		DeploymentController: &types.DeploymentController{Type: types.DeploymentControllerTypeExternal}}))(t)
	_, err := c.CreateService(cx, &ecs.CreateServiceInput{Cluster: aws.String("ts"), ServiceName: aws.String("bad"), DesiredCount: aws.Int32(1), TaskDefinition: aws.String(blue),
		DeploymentController: &types.DeploymentController{Type: types.DeploymentControllerTypeExternal}})
	wantErr[*types.InvalidParameterException](t, err)
	a := testkit.Must(c.CreateTaskSet(cx, &ecs.CreateTaskSetInput{Cluster: aws.String("ts"), Service: aws.String("web"), TaskDefinition: aws.String(blue),
		Scale: &types.Scale{Unit: types.ScaleUnitPercent, Value: 100}, Tags: tags("color", "blue")}))(t).TaskSet
	testkit.Must(c.UpdateServicePrimaryTaskSet(cx, &ecs.UpdateServicePrimaryTaskSetInput{Cluster: aws.String("ts"), Service: aws.String("web"), PrimaryTaskSet: a.Id}))(t)
	b := testkit.Must(c.CreateTaskSet(cx, &ecs.CreateTaskSetInput{Cluster: aws.String("ts"), Service: aws.String("web"), TaskDefinition: aws.String(green),
		Scale: &types.Scale{Unit: types.ScaleUnitPercent, Value: 25}}))(t).TaskSet
	if b.ComputedDesiredCount != 1 || aws.ToString(b.Status) != "ACTIVE" {
		t.Fatalf("task set b: %+v", b)
	}
	sets := func() map[string]types.TaskSet {
		out := map[string]types.TaskSet{}
		d := testkit.Must(c.DescribeTaskSets(cx, &ecs.DescribeTaskSetsInput{Cluster: aws.String("ts"), Service: aws.String("web"), Include: []types.TaskSetField{types.TaskSetFieldTags}}))(t)
		for _, ts := range d.TaskSets {
			out[aws.ToString(ts.Id)] = ts
		}
		return out
	}
	waitSets := func(what string, ok func(map[string]types.TaskSet) bool) {
		deadline := time.Now().Add(30 * time.Second)
		for !ok(sets()) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: %+v", what, sets())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitSets("4 blue + 1 green", func(s map[string]types.TaskSet) bool {
		x, y := s[aws.ToString(a.Id)], s[aws.ToString(b.Id)]
		return x.RunningCount == 4 && y.RunningCount == 1 && x.StabilityStatus == types.StabilityStatusSteadyState && tagMap(t, x.Tags)["color"] == "blue"
	})
	if s := describeService(t, c, "ts", "web"); s.RunningCount != 5 || aws.ToString(s.TaskDefinition) != blue || len(s.TaskSets) != 2 {
		t.Fatalf("service over two task sets: running %d td %s sets %d", s.RunningCount, aws.ToString(s.TaskDefinition), len(s.TaskSets))
	}
	testkit.Must(c.UpdateTaskSet(cx, &ecs.UpdateTaskSetInput{Cluster: aws.String("ts"), Service: aws.String("web"), TaskSet: b.Id, Scale: &types.Scale{Unit: types.ScaleUnitPercent, Value: 100}}))(t)
	testkit.Must(c.UpdateServicePrimaryTaskSet(cx, &ecs.UpdateServicePrimaryTaskSetInput{Cluster: aws.String("ts"), Service: aws.String("web"), PrimaryTaskSet: b.Id}))(t)
	_, err = c.DeleteTaskSet(cx, &ecs.DeleteTaskSetInput{Cluster: aws.String("ts"), Service: aws.String("web"), TaskSet: a.Id})
	wantErr[*types.InvalidParameterException](t, err)
	testkit.Must(c.UpdateTaskSet(cx, &ecs.UpdateTaskSetInput{Cluster: aws.String("ts"), Service: aws.String("web"), TaskSet: a.Id, Scale: &types.Scale{Unit: types.ScaleUnitPercent, Value: 0}}))(t)
	testkit.Must(c.DeleteTaskSet(cx, &ecs.DeleteTaskSetInput{Cluster: aws.String("ts"), Service: aws.String("web"), TaskSet: a.Id}))(t)
	waitSets("green only", func(s map[string]types.TaskSet) bool {
		_, blueLeft := s[aws.ToString(a.Id)]
		return !blueLeft && s[aws.ToString(b.Id)].RunningCount == 4 && s[aws.ToString(b.Id)].StabilityStatus == types.StabilityStatusSteadyState
	})
	if s := describeService(t, c, "ts", "web"); s.RunningCount != 4 || aws.ToString(s.TaskDefinition) != green {
		t.Fatalf("service after the move: running %d td %s", s.RunningCount, aws.ToString(s.TaskDefinition))
	}
	_, err = c.UpdateTaskSet(cx, &ecs.UpdateTaskSetInput{Cluster: aws.String("ts"), Service: aws.String("web"), TaskSet: a.Id, Scale: &types.Scale{Unit: types.ScaleUnitPercent, Value: 0}})
	wantErr[*types.TaskSetNotFoundException](t, err)
}

const serviceWaiterScript = `
import boto3
ecs = boto3.client("ecs")
fast = {"Delay": 1, "MaxAttempts": 60}
ecs.create_service(cluster="waiters", serviceName="web", taskDefinition="waited", desiredCount=3)
ecs.get_waiter("services_stable").wait(cluster="waiters", services=["web"], WaiterConfig=fast)
s = ecs.describe_services(cluster="waiters", services=["web"])["services"][0]
assert s["runningCount"] == 3 and len(s["deployments"]) == 1, s
ecs.update_service(cluster="waiters", service="web", desiredCount=0)
ecs.delete_service(cluster="waiters", service="web")
ecs.get_waiter("services_inactive").wait(cluster="waiters", services=["web"], WaiterConfig=fast)
ecs.create_service(cluster="waiters", serviceName="cli", taskDefinition="waited", desiredCount=2)
print("service waiters ok")
`

// TestServiceWaiters runs boto3's services_stable and services_inactive
// waiters and `aws ecs wait services-stable`, unchanged.
func TestServiceWaiters(t *testing.T) {
	m := startServer(t, options{})
	c := defaultClient(m)
	cx := context.Background()
	testkit.Must(c.CreateCluster(cx, &ecs.CreateClusterInput{ClusterName: aws.String("waiters")}))(t)
	startSimAgents(t, c, "waiters", 1)
	registerSim(t, c, "waited")
	cmd := exec.Command("python3", "-c", serviceWaiterScript)
	cmd.Env = toolEnv(t, m.URL())
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "service waiters ok") {
		t.Fatalf("boto3 service waiters: %v\n%s", err, out)
	}
	cli := exec.Command("aws", "ecs", "wait", "services-stable", "--cluster", "waiters", "--services", "cli")
	cli.Env = toolEnv(t, m.URL())
	if out, err := cli.CombinedOutput(); err != nil {
		t.Fatalf("aws ecs wait services-stable: %v\n%s", err, out)
	}
	if s := describeService(t, c, "waiters", "cli"); s.RunningCount != 2 {
		t.Fatalf("cli service running %d", s.RunningCount)
	}
}

// TestService_Daemon runs one task per instance and follows an instance
// that joins.
func TestService_Daemon(t *testing.T) {
	m := startServer(t, options{})
	c := defaultClient(m)
	cx := context.Background()
	testkit.Must(c.CreateCluster(cx, &ecs.CreateClusterInput{ClusterName: aws.String("dmn")}))(t)
	startSimAgents(t, c, "dmn", 2)
	td := registerSim(t, c, "dmn")
	s := testkit.Must(c.CreateService(cx, &ecs.CreateServiceInput{Cluster: aws.String("dmn"), ServiceName: aws.String("logs"), TaskDefinition: aws.String(td),
		SchedulingStrategy: types.SchedulingStrategyDaemon}))(t).Service
	if *s.DeploymentConfiguration.MinimumHealthyPercent != 0 || *s.DeploymentConfiguration.MaximumPercent != 100 {
		t.Fatalf("daemon defaults: %+v", s.DeploymentConfiguration)
	}
	waitService(t, c, "dmn", "logs", 30*time.Second, func(s types.Service) bool { return stable(s) && s.RunningCount == 2 }, nil)
	startSimAgents(t, c, "dmn", 1) // an instance joins
	waitService(t, c, "dmn", "logs", 30*time.Second, func(s types.Service) bool { return s.DesiredCount == 3 && s.RunningCount == 3 }, nil)
	l := testkit.Must(c.ListTasks(cx, &ecs.ListTasksInput{Cluster: aws.String("dmn"), ServiceName: aws.String("logs")}))(t)
	d := testkit.Must(c.DescribeTasks(cx, &ecs.DescribeTasksInput{Cluster: aws.String("dmn"), Tasks: l.TaskArns}))(t)
	hosts := map[string]bool{}
	for _, task := range d.Tasks {
		hosts[aws.ToString(task.ContainerInstanceArn)] = true
	}
	if len(hosts) != 3 {
		t.Fatalf("daemon tasks on %d instances", len(hosts))
	}
	testkit.Must(c.DeleteService(cx, &ecs.DeleteServiceInput{Cluster: aws.String("dmn"), Service: aws.String("logs")}))(t)
	waitService(t, c, "dmn", "logs", 30*time.Second, func(s types.Service) bool { return aws.ToString(s.Status) == "INACTIVE" }, nil)
}

// TestService_Fargate converges a Fargate service on the sim fleet.
func TestService_Fargate(t *testing.T) {
	m := startServer(t, options{})
	c := defaultClient(m)
	cx := context.Background()
	td := fargateSetup(t, c, "fgs", "fgweb", "busybox")
	testkit.Must(c.CreateService(cx, &ecs.CreateServiceInput{Cluster: aws.String("fgs"), ServiceName: aws.String("web"), TaskDefinition: aws.String(td),
		DesiredCount: aws.Int32(3), LaunchType: types.LaunchTypeFargate, NetworkConfiguration: subnets()}))(t)
	s := waitService(t, c, "fgs", "web", 60*time.Second, stable, nil)
	if s.LaunchType != types.LaunchTypeFargate || aws.ToString(s.PlatformVersion) != "LATEST" {
		t.Fatalf("fargate service: %+v", s)
	}
	if st := statistics(t, c, "fgs"); st["activeFargateServiceCount"] != "1" || st["runningFargateTasksCount"] != "3" {
		t.Fatalf("statistics: %v", st)
	}
}
