package control

import (
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/wire"
)

func createSvc(t *testing.T, c *Control, in *wire.CreateServiceRequest) wire.Service {
	t.Helper()
	out, err := c.CreateService(testCtx(t), testNS, in)
	noErr(t, err)
	return *out.Service
}

// pass runs one service controller pass.
func pass(t *testing.T, c *Control) {
	t.Helper()
	noErr(t, c.reconcileServices(testCtx(t), ServiceControllerConfig{}))
}

func getSvc(t *testing.T, c *Control, cluster, name string) wire.Service {
	t.Helper()
	d, err := c.DescribeServices(testCtx(t), testNS, &wire.DescribeServicesRequest{Cluster: wire.Ptr(cluster), Services: []string{name}})
	noErr(t, err)
	if len(d.Services) != 1 {
		t.Fatalf("describe %s: %+v", name, d.Failures)
	}
	return d.Services[0]
}

func TestCreateService_Validation(t *testing.T) {
	f := newFargateFixture(t)
	base := func() *wire.CreateServiceRequest {
		return &wire.CreateServiceRequest{Cluster: wire.Ptr("tasks"), ServiceName: wire.Ptr("s"), TaskDefinition: wire.Ptr("web"), DesiredCount: wire.Ptr(int32(1))}
	}
	cases := []struct {
		name string
		mod  func(*wire.CreateServiceRequest)
		code ecs.Code
		msg  string
	}{
		{"ErrBadName", func(r *wire.CreateServiceRequest) { r.ServiceName = wire.Ptr("bad name") }, ecs.InvalidParameter, ""},
		{"ErrClusterNotFound", func(r *wire.CreateServiceRequest) { r.Cluster = wire.Ptr("nope") }, ecs.ClusterNotFound, ecs.MsgClusterNotFound},
		{"ErrTaskDefNotFound", func(r *wire.CreateServiceRequest) { r.TaskDefinition = wire.Ptr("nope") }, ecs.ClientError, ecs.MsgTaskDefNotFound},
		{"ErrNoTaskDef", func(r *wire.CreateServiceRequest) { r.TaskDefinition = nil }, ecs.InvalidParameter, ""},
		{"ErrNoDesiredCount", func(r *wire.CreateServiceRequest) { r.DesiredCount = nil }, ecs.InvalidParameter, ""},
		{"ErrLaunchAndStrategy", func(r *wire.CreateServiceRequest) {
			r.LaunchType = wire.Ptr(wire.LaunchTypeEc2)
			r.CapacityProviderStrategy = []wire.CapacityProviderStrategyItem{{CapacityProvider: wire.Ptr("FARGATE"), Weight: wire.Ptr(int32(1))}}
		}, ecs.InvalidParameter, "Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again."},
		{"ErrProviderNotAssociated", func(r *wire.CreateServiceRequest) {
			r.CapacityProviderStrategy = []wire.CapacityProviderStrategyItem{{CapacityProvider: wire.Ptr("FARGATE"), Weight: wire.Ptr(int32(1))}}
		}, ecs.InvalidParameter, ""},
		{"ErrMaxBelow100", func(r *wire.CreateServiceRequest) {
			r.DeploymentConfiguration = &wire.DeploymentConfiguration{MaximumPercent: wire.Ptr(int32(90))}
		}, ecs.InvalidParameter, ""},
		{"ErrMinAbove100", func(r *wire.CreateServiceRequest) {
			r.DeploymentConfiguration = &wire.DeploymentConfiguration{MinimumHealthyPercent: wire.Ptr(int32(101))}
		}, ecs.InvalidParameter, ""},
		{"ErrBreakerHalf", func(r *wire.CreateServiceRequest) {
			r.DeploymentConfiguration = &wire.DeploymentConfiguration{DeploymentCircuitBreaker: &wire.DeploymentCircuitBreaker{Enable: wire.Ptr(true)}}
		}, ecs.InvalidParameter, ""},
		{"ErrBadStrategy", func(r *wire.CreateServiceRequest) {
			r.PlacementStrategy = []wire.PlacementStrategy{{Type: wire.Ptr(wire.PlacementStrategyType("bogus"))}}
		}, ecs.InvalidParameter, ""},
		{"ErrBadConstraint", func(r *wire.CreateServiceRequest) {
			r.PlacementConstraints = []wire.PlacementConstraint{{Type: wire.Ptr(wire.PlacementConstraintTypeMemberOf), Expression: wire.Ptr("attribute:ecs.instance-type =~")}}
		}, ecs.InvalidParameter, ""},
		{"ErrDaemonDesired", func(r *wire.CreateServiceRequest) {
			r.SchedulingStrategy = wire.Ptr(wire.SchedulingStrategyDaemon)
		}, ecs.InvalidParameter, ""},
		{"ErrExternalWithTaskDef", func(r *wire.CreateServiceRequest) {
			r.DeploymentController = &wire.DeploymentController{Type: wire.Ptr(wire.DeploymentControllerTypeExternal)}
		}, ecs.InvalidParameter, ""},
		{"ErrLoadBalancerContainer", func(r *wire.CreateServiceRequest) {
			r.LoadBalancers = []wire.LoadBalancer{{TargetGroupArn: wire.Ptr("arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg/1"), ContainerName: wire.Ptr("nope"), ContainerPort: wire.Ptr(int32(80))}}
		}, ecs.InvalidParameter, ""},
		{"ErrNetworkOnBridge", func(r *wire.CreateServiceRequest) { r.NetworkConfiguration = vpc("subnet-1") }, ecs.InvalidParameter, ""},
		{"ErrFargateNoNetwork", func(r *wire.CreateServiceRequest) {
			r.Cluster, r.TaskDefinition, r.LaunchType = wire.Ptr("fg"), wire.Ptr("fweb"), wire.Ptr(wire.LaunchTypeFargate)
		}, ecs.InvalidParameter, "Network Configuration must be provided when networkMode 'awsvpc' is specified."},
		{"ErrFargatePlacement", func(r *wire.CreateServiceRequest) {
			r.Cluster, r.TaskDefinition, r.LaunchType, r.NetworkConfiguration = wire.Ptr("fg"), wire.Ptr("fweb"), wire.Ptr(wire.LaunchTypeFargate), vpc("subnet-1")
			r.PlacementConstraints = []wire.PlacementConstraint{{Type: wire.Ptr(wire.PlacementConstraintTypeDistinctInstance)}}
		}, ecs.InvalidParameter, ""},
		{"ErrTokenTooLong", func(r *wire.CreateServiceRequest) { r.ClientToken = wire.Ptr(strings.Repeat("x", 37)) }, ecs.InvalidParameter, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := base()
			tc.mod(in)
			_, err := f.c.CreateService(testCtx(t), testNS, in)
			wantCode(t, err, tc.code, tc.msg)
		})
	}
	t.Run("OK", func(t *testing.T) {
		s := createSvc(t, f.c, base())
		if wire.Val(s.Status) != "ACTIVE" || wire.Val(s.LaunchType) != wire.LaunchTypeEc2 || len(s.Deployments) != 1 {
			t.Fatalf("service: %+v", s)
		}
	})
	t.Run("ErrTokenReused", func(t *testing.T) {
		in := base()
		in.ServiceName, in.ClientToken = wire.Ptr("tok1"), wire.Ptr("token-1")
		createSvc(t, f.c, in)
		again := createSvc(t, f.c, in) // same request, same token: the same service
		if wire.Val(again.ServiceName) != "tok1" {
			t.Fatalf("retry: %+v", again)
		}
		in.ServiceName = wire.Ptr("tok2")
		_, err := f.c.CreateService(testCtx(t), testNS, in)
		wantCode(t, err, ecs.InvalidParameter, "Creation of service was not idempotent.")
	})
	t.Run("ClusterDefaultStrategy", func(t *testing.T) {
		s := createSvc(t, f.c, &wire.CreateServiceRequest{Cluster: wire.Ptr("fg"), ServiceName: wire.Ptr("f"), TaskDefinition: wire.Ptr("fweb"),
			DesiredCount: wire.Ptr(int32(0)), NetworkConfiguration: vpc("subnet-1"),
			CapacityProviderStrategy: []wire.CapacityProviderStrategyItem{{CapacityProvider: wire.Ptr("FARGATE"), Weight: wire.Ptr(int32(1)), Base: wire.Ptr(int32(1))}, {CapacityProvider: wire.Ptr("FARGATE_SPOT"), Weight: wire.Ptr(int32(3))}}})
		if s.LaunchType != nil || len(s.CapacityProviderStrategy) != 2 || wire.Val(s.PlatformVersion) != "LATEST" {
			t.Fatalf("strategy service: launchType %v strategy %v platform %v", s.LaunchType, s.CapacityProviderStrategy, s.PlatformVersion)
		}
	})
}

func TestUpdateService_Deployments(t *testing.T) {
	f := newTaskFixture(t)
	c := f.c
	createSvc(t, c, &wire.CreateServiceRequest{Cluster: wire.Ptr("tasks"), ServiceName: wire.Ptr("s"), TaskDefinition: wire.Ptr("web"), DesiredCount: wire.Ptr(int32(0))})
	upd := func(in *wire.UpdateServiceRequest) (wire.Service, error) {
		in.Cluster, in.Service = wire.Ptr("tasks"), wire.Ptr("s")
		out, err := c.UpdateService(testCtx(t), testNS, in)
		if err != nil {
			return wire.Service{}, err
		}
		return *out.Service, nil
	}
	// In-place changes keep one deployment.
	s, err := upd(&wire.UpdateServiceRequest{DesiredCount: wire.Ptr(int32(0)), HealthCheckGracePeriodSeconds: wire.Ptr(int32(30)),
		PlacementStrategy: []wire.PlacementStrategy{{Type: wire.Ptr(wire.PlacementStrategyTypeBinpack), Field: wire.Ptr("memory")}}})
	noErr(t, err)
	if len(s.Deployments) != 1 || len(s.PlacementStrategy) != 1 || wire.Val(s.HealthCheckGracePeriodSeconds) != 30 {
		t.Fatalf("in-place update: %+v", s)
	}
	first := wire.Val(s.Deployments[0].Id)
	// A new task definition starts a new PRIMARY; the old one is ACTIVE.
	s, err = upd(&wire.UpdateServiceRequest{TaskDefinition: wire.Ptr("big")})
	noErr(t, err)
	if len(s.Deployments) != 2 || wire.Val(s.Deployments[0].Status) != "PRIMARY" || wire.Val(s.Deployments[1].Id) != first ||
		!strings.HasSuffix(wire.Val(s.TaskDefinition), "big:1") {
		t.Fatalf("redeploy: %+v", s.Deployments)
	}
	_, err = upd(&wire.UpdateServiceRequest{CapacityProviderStrategy: []wire.CapacityProviderStrategyItem{{CapacityProvider: wire.Ptr("FARGATE"), Weight: wire.Ptr(int32(1))}}})
	wantCode(t, err, ecs.InvalidParameter, "When switching from launch type to capacity provider strategy on an existing service, or making a change to a capacity provider strategy on a service that is already using one, you must force a new deployment.")
	// With nothing to run, one pass completes the newest deployment and
	// drops the older one.
	pass(t, c)
	s = getSvc(t, c, "tasks", "s")
	if len(s.Deployments) != 1 || wire.Val(s.Deployments[0].RolloutState) != wire.DeploymentRolloutStateCompleted {
		t.Fatalf("after a pass: %+v", s.Deployments)
	}
	ld, err := c.ListServiceDeployments(testCtx(t), testNS, &wire.ListServiceDeploymentsRequest{Cluster: wire.Ptr("tasks"), Service: wire.Ptr("s")})
	noErr(t, err)
	if len(ld.ServiceDeployments) != 2 || wire.Val(ld.ServiceDeployments[0].Status) != wire.ServiceDeploymentStatusSuccessful ||
		wire.Val(ld.ServiceDeployments[1].Status) != wire.ServiceDeploymentStatusStopped {
		t.Fatalf("service deployments: %+v", ld.ServiceDeployments)
	}
	ok, err := c.ListServiceDeployments(testCtx(t), testNS, &wire.ListServiceDeploymentsRequest{Cluster: wire.Ptr("tasks"), Service: wire.Ptr("s"),
		Status: []wire.ServiceDeploymentStatus{wire.ServiceDeploymentStatusSuccessful}})
	noErr(t, err)
	if len(ok.ServiceDeployments) != 1 {
		t.Fatalf("status filter: %+v", ok.ServiceDeployments)
	}
	later, err := c.ListServiceDeployments(testCtx(t), testNS, &wire.ListServiceDeploymentsRequest{Cluster: wire.Ptr("tasks"), Service: wire.Ptr("s"),
		CreatedAt: &wire.CreatedAt{After: wire.NewTime(c.nowUTC().Add(time.Hour))}})
	noErr(t, err)
	if len(later.ServiceDeployments) != 0 {
		t.Fatalf("createdAt filter: %+v", later.ServiceDeployments)
	}
	page1, err := c.ListServiceDeployments(testCtx(t), testNS, &wire.ListServiceDeploymentsRequest{Cluster: wire.Ptr("tasks"), Service: wire.Ptr("s"), MaxResults: wire.Ptr(int32(1))})
	noErr(t, err)
	page2, err := c.ListServiceDeployments(testCtx(t), testNS, &wire.ListServiceDeploymentsRequest{Cluster: wire.Ptr("tasks"), Service: wire.Ptr("s"), MaxResults: wire.Ptr(int32(1)), NextToken: page1.NextToken})
	noErr(t, err)
	if len(page1.ServiceDeployments) != 1 || page1.NextToken == nil || len(page2.ServiceDeployments) != 1 || page2.NextToken != nil ||
		wire.Val(page2.ServiceDeployments[0].ServiceDeploymentArn) != wire.Val(ld.ServiceDeployments[1].ServiceDeploymentArn) {
		t.Fatalf("pages: %+v / %+v", page1, page2)
	}
	done := wire.Val(ld.ServiceDeployments[0].ServiceDeploymentArn)
	if !strings.HasPrefix(done, "arn:aws:ecs:us-east-1:123456789012:service-deployment/tasks/s/") {
		t.Fatalf("service deployment ARN %s", done)
	}
	_, err = c.StopServiceDeployment(testCtx(t), testNS, &wire.StopServiceDeploymentRequest{ServiceDeploymentArn: wire.Ptr(done)})
	wantCode(t, err, ecs.Conflict, "")
	_, err = c.StopServiceDeployment(testCtx(t), testNS, &wire.StopServiceDeploymentRequest{ServiceDeploymentArn: wire.Ptr(done + "9")})
	wantCode(t, err, ecs.ServiceDeploymentNotFound, "")
	dd, err := c.DescribeServiceDeployments(testCtx(t), testNS, &wire.DescribeServiceDeploymentsRequest{ServiceDeploymentArns: []string{done, done + "9"}})
	noErr(t, err)
	if len(dd.ServiceDeployments) != 1 || len(dd.Failures) != 1 || wire.Val(dd.Failures[0].Reason) != "MISSING" {
		t.Fatalf("describe service deployments: %+v", dd)
	}
	// A steady service is not rewritten by later passes.
	rev := c.viewRev()
	pass(t, c)
	pass(t, c)
	if c.viewRev() != rev {
		t.Fatal("a steady service was rewritten")
	}
}

func TestServiceController_PlacementFailure(t *testing.T) {
	f := newTaskFixture(t)
	c := f.c
	createCluster(t, c, "empty")
	createSvc(t, c, &wire.CreateServiceRequest{Cluster: wire.Ptr("empty"), ServiceName: wire.Ptr("s"), TaskDefinition: wire.Ptr("web"), DesiredCount: wire.Ptr(int32(2))})
	pass(t, c)
	s := getSvc(t, c, "empty", "s")
	if len(s.Events) == 0 || !strings.Contains(wire.Val(s.Events[0].Message), "(service s) was unable to place a task because no container instance met all of its requirements. Reason: No Container Instances were found in your cluster.") {
		t.Fatalf("events: %+v", s.Events)
	}
	// "big" needs more memory than the instance has: the closest instance
	// is named with the missing resource.
	f.connect(t, true)
	createSvc(t, c, &wire.CreateServiceRequest{Cluster: wire.Ptr("tasks"), ServiceName: wire.Ptr("big"), TaskDefinition: wire.Ptr("big"), DesiredCount: wire.Ptr(int32(5))})
	pass(t, c)
	s = getSvc(t, c, "tasks", "big")
	if s.PendingCount == nil || wire.Val(s.PendingCount) != 1 {
		t.Fatalf("pending %d, events %+v", wire.Val(s.PendingCount), s.Events)
	}
	found := false
	for _, e := range s.Events {
		found = found || strings.Contains(wire.Val(e.Message), "The closest matching (container-instance "+f.id+") has insufficient memory available.")
	}
	if !found {
		t.Fatalf("no placement event: %+v", s.Events)
	}
	// The started task carries the service's group and deployment.
	l, err := c.ListTasks(testCtx(t), testNS, &wire.ListTasksRequest{Cluster: wire.Ptr("tasks"), ServiceName: wire.Ptr("big")})
	noErr(t, err)
	if len(l.TaskArns) != 1 {
		t.Fatalf("tasks: %v", l.TaskArns)
	}
	task := f.describe(t, l.TaskArns[0])
	if wire.Val(task.Group) != "service:big" || wire.Val(task.StartedBy) != wire.Val(s.Deployments[0].Id) {
		t.Fatalf("task group %s startedBy %s", wire.Val(task.Group), wire.Val(task.StartedBy))
	}
}

func TestServiceController_Fargate(t *testing.T) {
	f := newFargateFixture(t)
	c := f.c
	createSvc(t, c, &wire.CreateServiceRequest{Cluster: wire.Ptr("fg"), ServiceName: wire.Ptr("f"), TaskDefinition: wire.Ptr("fweb"),
		DesiredCount: wire.Ptr(int32(4)), NetworkConfiguration: vpc("subnet-1"), EnableECSManagedTags: wire.Ptr(true),
		CapacityProviderStrategy: []wire.CapacityProviderStrategyItem{{CapacityProvider: wire.Ptr("FARGATE"), Weight: wire.Ptr(int32(1)), Base: wire.Ptr(int32(2))}, {CapacityProvider: wire.Ptr("FARGATE_SPOT"), Weight: wire.Ptr(int32(1))}}})
	pass(t, c)
	l, err := c.ListTasks(testCtx(t), testNS, &wire.ListTasksRequest{Cluster: wire.Ptr("fg"), ServiceName: wire.Ptr("f")})
	noErr(t, err)
	if len(l.TaskArns) != 4 {
		t.Fatalf("%d tasks", len(l.TaskArns))
	}
	d, err := c.DescribeTasks(testCtx(t), testNS, &wire.DescribeTasksRequest{Cluster: wire.Ptr("fg"), Tasks: l.TaskArns, Include: []wire.TaskField{wire.TaskFieldTags}})
	noErr(t, err)
	providers := map[string]int{}
	for _, task := range d.Tasks {
		providers[wire.Val(task.CapacityProviderName)]++
		if wire.Val(task.LaunchType) != wire.LaunchTypeFargate || wire.Val(task.LastStatus) != taskProvisioning {
			t.Fatalf("task: %+v", task)
		}
		tags := map[string]string{}
		for _, tg := range task.Tags {
			tags[wire.Val(tg.Key)] = wire.Val(tg.Value)
		}
		if tags["aws:ecs:serviceName"] != "f" || tags["aws:ecs:clusterName"] != "fg" {
			t.Fatalf("managed tags: %v", tags)
		}
	}
	// Base 2 on FARGATE, then 1:1 (spec §3.4).
	if providers["FARGATE"] != 3 || providers["FARGATE_SPOT"] != 1 {
		t.Fatalf("providers %v", providers)
	}
	if got := len(c.fleetKeys()); got != 4 {
		t.Fatalf("%d fleet markers", got)
	}
}

// fleetKeys lists the fleet markers in the view.
func (c *Control) fleetKeys() []string {
	var out []string
	c.view.scan(fleetPrefix, "", false, func(key string, _ any) bool {
		out = append(out, key)
		return true
	})
	return out
}

func TestTaskSet_Rules(t *testing.T) {
	f := newTaskFixture(t)
	c := f.c
	createSvc(t, c, &wire.CreateServiceRequest{Cluster: wire.Ptr("tasks"), ServiceName: wire.Ptr("ext"), DesiredCount: wire.Ptr(int32(3)),
		DeploymentController: &wire.DeploymentController{Type: wire.Ptr(wire.DeploymentControllerTypeExternal)}})
	createSvc(t, c, &wire.CreateServiceRequest{Cluster: wire.Ptr("tasks"), ServiceName: wire.Ptr("ecs"), TaskDefinition: wire.Ptr("web"), DesiredCount: wire.Ptr(int32(0))})
	mk := func(service string, scale float64) (*wire.TaskSet, error) {
		out, err := c.CreateTaskSet(testCtx(t), testNS, &wire.CreateTaskSetRequest{Cluster: wire.Ptr("tasks"), Service: wire.Ptr(service), TaskDefinition: wire.Ptr("web"),
			Scale: &wire.Scale{Unit: wire.Ptr(wire.ScaleUnitPercent), Value: wire.Ptr(scale)}})
		if err != nil {
			return nil, err
		}
		return out.TaskSet, nil
	}
	_, err := mk("ecs", 100)
	wantCode(t, err, ecs.InvalidParameter, "")
	_, err = mk("ghost", 100)
	wantCode(t, err, ecs.ServiceNotFound, "Service not found.")
	_, err = mk("ext", 101)
	wantCode(t, err, ecs.InvalidParameter, "")
	// ceil(3 × 50 %) = 2; ceil(3 × 100 %) = 3 (spec §8.3).
	for _, tc := range []struct {
		scale float64
		want  int32
	}{{50, 2}, {100, 3}, {0, 0}, {33.4, 2}, {12.5, 1}} {
		ts, err := mk("ext", tc.scale)
		noErr(t, err)
		if wire.Val(ts.ComputedDesiredCount) != tc.want || wire.Val(ts.Status) != "ACTIVE" ||
			!strings.HasPrefix(wire.Val(ts.TaskSetArn), "arn:aws:ecs:us-east-1:123456789012:task-set/tasks/ext/ecs-svc/") {
			t.Fatalf("scale %v: %+v", tc.scale, ts)
		}
	}
	_, err = mk("ext", 10)
	wantCode(t, err, ecs.InvalidParameter, "5 deployments exist on the service. Unable to create new TaskSet since this exceeds the maximum limit.")
	d, err := c.DescribeTaskSets(testCtx(t), testNS, &wire.DescribeTaskSetsRequest{Cluster: wire.Ptr("tasks"), Service: wire.Ptr("ext"), TaskSets: []string{"ecs-svc/1"}})
	noErr(t, err)
	if len(d.TaskSets) != 0 || len(d.Failures) != 1 || wire.Val(d.Failures[0].Reason) != "MISSING" {
		t.Fatalf("describe unknown: %+v", d)
	}
	all, err := c.DescribeTaskSets(testCtx(t), testNS, &wire.DescribeTaskSetsRequest{Cluster: wire.Ptr("tasks"), Service: wire.Ptr("ext")})
	noErr(t, err)
	first := all.TaskSets[0]
	_, err = c.UpdateServicePrimaryTaskSet(testCtx(t), testNS, &wire.UpdateServicePrimaryTaskSetRequest{Cluster: wire.Ptr("tasks"), Service: wire.Ptr("ext"), PrimaryTaskSet: first.TaskSetArn})
	noErr(t, err)
	_, err = c.DeleteTaskSet(testCtx(t), testNS, &wire.DeleteTaskSetRequest{Cluster: wire.Ptr("tasks"), Service: wire.Ptr("ext"), TaskSet: first.Id})
	wantCode(t, err, ecs.InvalidParameter, "")
	_, err = c.DeleteTaskSet(testCtx(t), testNS, &wire.DeleteTaskSetRequest{Cluster: wire.Ptr("tasks"), Service: wire.Ptr("ext"), TaskSet: wire.Ptr("ecs-svc/1")})
	wantCode(t, err, ecs.TaskSetNotFound, "")
	// The service's desired count drives every set's computed count.
	_, err = c.UpdateService(testCtx(t), testNS, &wire.UpdateServiceRequest{Cluster: wire.Ptr("tasks"), Service: wire.Ptr("ext"), DesiredCount: wire.Ptr(int32(10))})
	noErr(t, err)
	s := getSvc(t, c, "tasks", "ext")
	if len(s.Deployments) != 0 || len(s.TaskSets) != 5 || wire.Val(s.TaskSets[0].ComputedDesiredCount) != 5 || !strings.HasSuffix(wire.Val(s.TaskDefinition), "web:1") {
		t.Fatalf("external service: %+v", s)
	}
	_, err = c.UpdateService(testCtx(t), testNS, &wire.UpdateServiceRequest{Cluster: wire.Ptr("tasks"), Service: wire.Ptr("ext"), TaskDefinition: wire.Ptr("big")})
	wantCode(t, err, ecs.InvalidParameter, "")
}
