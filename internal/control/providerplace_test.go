package control

import (
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/wire"
)

// TestRunTask_ProviderInstancesOnly: with Auto Scaling group providers, a
// task lands only on an instance of its own provider's group, the
// base/weight split decides how many each provider takes, and a provider
// whose group has no instance fails its tasks with EMPTY CAPACITY
// PROVIDER instead of falling back to another provider's capacity.
func TestRunTask_ProviderInstancesOnly(t *testing.T) {
	c := newTestControl(t)
	ctx := testCtx(t)
	createCluster(t, c, "asgs")
	register(t, c, "small", 64, 256, 0)
	groups := map[string][]string{"ga": {"i-0a1", "i-0a2"}, "gb": {"i-0b1", "i-0b2"}, "gc": nil}
	for name, ids := range groups {
		var inst []string
		for _, id := range ids {
			inst = append(inst, `{"id":"`+id+`"}`)
		}
		seed(t, c, keyASG(testNS, name), `{"name":"`+name+`","instances":[`+strings.Join(inst, ",")+`]}`)
		_, err := c.CreateCapacityProvider(ctx, testNS, &wire.CreateCapacityProviderRequest{
			Name: wire.Ptr("cp-" + name),
			AutoScalingGroupProvider: &wire.AutoScalingGroupProvider{
				AutoScalingGroupArn: wire.Ptr("arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:uuid:autoScalingGroupName/" + name),
			},
		})
		noErr(t, err)
	}
	_, err := c.PutClusterCapacityProviders(ctx, testNS, &wire.PutClusterCapacityProvidersRequest{
		Cluster: wire.Ptr("asgs"), CapacityProviders: []string{"cp-ga", "cp-gb", "cp-gc"},
		DefaultCapacityProviderStrategy: []wire.CapacityProviderStrategyItem{},
	})
	noErr(t, err)
	// Two instances per group, plus one that belongs to no group.
	instanceGroup := map[string]string{}
	for _, ec2 := range []string{"i-0a1", "i-0a2", "i-0b1", "i-0b2", "i-0zz"} {
		out, err := c.RegisterContainerInstance(ctx, testNS, &wire.RegisterContainerInstanceRequest{
			Cluster:                  wire.Ptr("asgs"),
			InstanceIdentityDocument: wire.Ptr(`{"instanceId":"` + ec2 + `"}`),
			TotalResources: []wire.Resource{
				{Name: wire.Ptr("CPU"), Type: wire.Ptr("INTEGER"), IntegerValue: wire.Ptr(int32(4096))},
				{Name: wire.Ptr("MEMORY"), Type: wire.Ptr("INTEGER"), IntegerValue: wire.Ptr(int32(8192))},
			},
			Attributes: capabilityAttributes(),
		})
		noErr(t, err)
		arn := wire.Val(out.ContainerInstance.ContainerInstanceArn)
		noErr(t, c.SetAgentConnected(ctx, testNS, "asgs", lastSegment(arn), true))
		instanceGroup[arn] = map[byte]string{'a': "cp-ga", 'b': "cp-gb", 'z': ""}[ec2[3]]
	}
	out, err := c.RunTask(ctx, testNS, &wire.RunTaskRequest{Cluster: wire.Ptr("asgs"), TaskDefinition: wire.Ptr("small"), Count: wire.Ptr(int32(10)),
		CapacityProviderStrategy: []wire.CapacityProviderStrategyItem{
			{CapacityProvider: wire.Ptr("cp-ga"), Base: wire.Ptr(int32(4)), Weight: wire.Ptr(int32(1))},
			{CapacityProvider: wire.Ptr("cp-gb"), Weight: wire.Ptr(int32(2))},
		}})
	noErr(t, err)
	perProvider := map[string]int{}
	for _, task := range out.Tasks {
		p := wire.Val(task.CapacityProviderName)
		perProvider[p]++
		if got := instanceGroup[wire.Val(task.ContainerInstanceArn)]; got != p {
			t.Errorf("task of %s placed on an instance of %q", p, got)
		}
	}
	// Base 4 on cp-ga, then 6 split 1:2 ⇒ cp-ga 6, cp-gb 4.
	if len(out.Failures) != 0 || perProvider["cp-ga"] != 6 || perProvider["cp-gb"] != 4 {
		t.Fatalf("per provider %v, failures %+v", perProvider, out.Failures)
	}
	// A service's tasks follow the same rule.
	createSvc(t, c, &wire.CreateServiceRequest{Cluster: wire.Ptr("asgs"), ServiceName: wire.Ptr("web"), TaskDefinition: wire.Ptr("small"), DesiredCount: wire.Ptr(int32(6)),
		CapacityProviderStrategy: []wire.CapacityProviderStrategyItem{
			{CapacityProvider: wire.Ptr("cp-ga"), Weight: wire.Ptr(int32(1))},
			{CapacityProvider: wire.Ptr("cp-gb"), Weight: wire.Ptr(int32(1))},
		}})
	pass(t, c)
	l, err := c.ListTasks(ctx, testNS, &wire.ListTasksRequest{Cluster: wire.Ptr("asgs"), ServiceName: wire.Ptr("web")})
	noErr(t, err)
	d, err := c.DescribeTasks(ctx, testNS, &wire.DescribeTasksRequest{Cluster: wire.Ptr("asgs"), Tasks: l.TaskArns})
	noErr(t, err)
	svcPer := map[string]int{}
	for _, task := range d.Tasks {
		p := wire.Val(task.CapacityProviderName)
		svcPer[p]++
		if got := instanceGroup[wire.Val(task.ContainerInstanceArn)]; got != p {
			t.Errorf("service task of %s placed on an instance of %q", p, got)
		}
	}
	if svcPer["cp-ga"] != 3 || svcPer["cp-gb"] != 3 {
		t.Fatalf("service tasks per provider %v", svcPer)
	}

	out, err = c.RunTask(ctx, testNS, &wire.RunTaskRequest{Cluster: wire.Ptr("asgs"), TaskDefinition: wire.Ptr("small"), Count: wire.Ptr(int32(2)),
		CapacityProviderStrategy: []wire.CapacityProviderStrategyItem{{CapacityProvider: wire.Ptr("cp-gc"), Weight: wire.Ptr(int32(1))}}})
	noErr(t, err)
	if len(out.Tasks) != 0 || len(out.Failures) != 1 || wire.Val(out.Failures[0].Reason) != "EMPTY CAPACITY PROVIDER" ||
		wire.Val(out.Failures[0].Arn) != testNS.CapacityProviderARN("cp-gc") {
		t.Fatalf("empty provider: %+v", out)
	}
}

// TestManagedTerminationProtectionNeedsProtectedGroup: spec §4.6 — with a
// group this server holds, managed termination protection is refused
// unless the group protects new instances from scale-in.
func TestManagedTerminationProtectionNeedsProtectedGroup(t *testing.T) {
	c := newTestControl(t)
	ctx := testCtx(t)
	seed(t, c, keyASG(testNS, "open"), `{"name":"open","instances":[]}`)
	seed(t, c, keyASG(testNS, "guarded"), `{"name":"guarded","newInstancesProtectedFromScaleIn":true,"instances":[]}`)
	create := func(name, group string) error {
		_, err := c.CreateCapacityProvider(ctx, testNS, &wire.CreateCapacityProviderRequest{
			Name: wire.Ptr(name),
			AutoScalingGroupProvider: &wire.AutoScalingGroupProvider{
				AutoScalingGroupArn:          wire.Ptr("arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:uuid:autoScalingGroupName/" + group),
				ManagedScaling:               &wire.ManagedScaling{Status: wire.Ptr(wire.ManagedScalingStatusEnabled)},
				ManagedTerminationProtection: wire.Ptr(wire.ManagedTerminationProtectionEnabled),
			},
		})
		return err
	}
	wantCode(t, create("cp-open", "open"), ecs.InvalidParameter, "The managed termination protection setting for the capacity provider is invalid. To enable managed termination protection for a capacity provider, the Auto Scaling group must have instance protection from scale in enabled.")
	noErr(t, create("cp-guarded", "guarded"))
	noErr(t, create("cp-elsewhere", "not-held-here")) // a group Berth does not hold is not checked
}
