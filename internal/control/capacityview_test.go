package control

import (
	"testing"

	"github.com/berth-dev/berth/internal/wire"
)

// TestManagedProviders: the provider's settings, its group's container
// instances (tasks counted, free room, ports) and its waiting tasks; the
// scaling attachment records the metric and a failure; managed draining
// sets a group instance DRAINING and counts its tasks.
func TestManagedProviders(t *testing.T) {
	c := newTestControl(t)
	ctx := testCtx(t)
	createCluster(t, c, "scaling")
	register(t, c, "small", 256, 1024, 0)
	seed(t, c, keyASG(testNS, "grp"), `{"name":"grp","instances":[{"id":"i-0abc"},{"id":"i-0def"}]}`)
	_, err := c.CreateCapacityProvider(ctx, testNS, &wire.CreateCapacityProviderRequest{
		Name: wire.Ptr("cp-ms"),
		AutoScalingGroupProvider: &wire.AutoScalingGroupProvider{
			AutoScalingGroupArn: wire.Ptr("arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:uuid:autoScalingGroupName/grp"),
			ManagedScaling:      &wire.ManagedScaling{Status: wire.Ptr(wire.ManagedScalingStatusEnabled), TargetCapacity: wire.Ptr(int32(90))},
		},
	})
	noErr(t, err)
	_, err = c.PutClusterCapacityProviders(ctx, testNS, &wire.PutClusterCapacityProvidersRequest{
		Cluster: wire.Ptr("scaling"), CapacityProviders: []string{"cp-ms"},
		DefaultCapacityProviderStrategy: []wire.CapacityProviderStrategyItem{{CapacityProvider: wire.Ptr("cp-ms"), Weight: wire.Ptr(int32(1))}},
	})
	noErr(t, err)
	reg, err := c.RegisterContainerInstance(ctx, testNS, &wire.RegisterContainerInstanceRequest{
		Cluster:                  wire.Ptr("scaling"),
		InstanceIdentityDocument: wire.Ptr(`{"instanceId":"i-0abc"}`),
		TotalResources: []wire.Resource{
			{Name: wire.Ptr("CPU"), Type: wire.Ptr("INTEGER"), IntegerValue: wire.Ptr(int32(2048))},
			{Name: wire.Ptr("MEMORY"), Type: wire.Ptr("INTEGER"), IntegerValue: wire.Ptr(int32(2048))},
			{Name: wire.Ptr("PORTS"), Type: wire.Ptr("STRINGSET"), StringSetValue: []string{"22"}},
		},
		Attributes: capabilityAttributes(),
	})
	noErr(t, err)
	instARN := wire.Val(reg.ContainerInstance.ContainerInstanceArn)
	noErr(t, c.SetAgentConnected(ctx, testNS, "scaling", lastSegment(instARN), true))
	// One task placed, two waiting (1 GiB each, the instance has 2 GiB).
	out, err := c.RunTask(ctx, testNS, &wire.RunTaskRequest{Cluster: wire.Ptr("scaling"), TaskDefinition: wire.Ptr("small"), Count: wire.Ptr(int32(3))})
	noErr(t, err)
	if len(out.Tasks) != 3 {
		t.Fatalf("RunTask: %d tasks, failures %+v", len(out.Tasks), out.Failures)
	}

	ps := c.ManagedProviders()
	if len(ps) != 1 {
		t.Fatalf("providers: %+v", ps)
	}
	p := ps[0]
	if p.Name != "cp-ms" || p.Group != "grp" || !p.ScalingEnabled() || wire.Val(p.ManagedScaling.TargetCapacity) != 90 ||
		p.ManagedTerminationProtection || !p.ManagedDraining || len(p.Clusters) != 1 || p.Clusters[0] != "scaling" {
		t.Fatalf("provider: %+v", p)
	}
	if len(p.Instances) != 1 {
		t.Fatalf("instances: %+v", p.Instances)
	}
	in := p.Instances[0]
	if in.EC2InstanceID != "i-0abc" || in.ARN != instARN || in.Status != "ACTIVE" || in.Tasks != 2 || in.DaemonTasks != 0 ||
		in.FreeCPU != 2048-512 || in.FreeMemory != 0 || len(in.UsedPorts) != 1 || in.UsedPorts[0] != 22 {
		t.Fatalf("instance: %+v", in)
	}
	if len(p.Waiting) != 1 || p.Waiting[0].Memory != 1024 {
		t.Fatalf("waiting: %+v", p.Waiting)
	}

	attachment := func() wire.Attachment {
		d, err := c.DescribeClusters(ctx, testNS, &wire.DescribeClustersRequest{Clusters: []string{"scaling"}, Include: []wire.ClusterField{wire.ClusterFieldAttachments}})
		noErr(t, err)
		if len(d.Clusters) != 1 || len(d.Clusters[0].Attachments) != 1 {
			t.Fatalf("clusters: %+v", d)
		}
		return d.Clusters[0].Attachments[0]
	}
	detail := func(a wire.Attachment, name string) string {
		for _, d := range a.Details {
			if wire.Val(d.Name) == name {
				return wire.Val(d.Value)
			}
		}
		return ""
	}
	noErr(t, c.RecordManagedScaling(ctx, testNS, "scaling", "cp-ms", ScalingRecord{Metric: 150}))
	if a := attachment(); wire.Val(a.Status) != "CREATED" || detail(a, "capacityProviderReservation") != "150" || detail(a, "capacityProviderName") != "cp-ms" {
		t.Fatalf("attachment: %+v", a)
	}
	noErr(t, c.RecordManagedScaling(ctx, testNS, "scaling", "cp-ms", ScalingRecord{Failure: "no group"}))
	if a := attachment(); wire.Val(a.Status) != "FAILED" || detail(a, "reason") != "no group" || detail(a, "capacityProviderReservation") != "" {
		t.Fatalf("attachment: %+v", a)
	}

	st, err := c.DrainForTermination(ctx, testNS, "grp", "i-0abc")
	noErr(t, err)
	if !st.Managed || st.Tasks != 2 {
		t.Fatalf("drain: %+v", st)
	}
	if p := c.ManagedProviders()[0]; p.Instances[0].Status != "DRAINING" {
		t.Fatalf("after drain: %+v", p.Instances[0])
	}
	if st, err := c.DrainForTermination(ctx, testNS, "other", "i-0abc"); err != nil || st.Managed {
		t.Fatalf("drain of another group: %+v %v", st, err)
	}
}
