package simfleet

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

// TestPool_AddRemove grows a pool to three instances of different types,
// zones and sizes, checks what they registered, shrinks it, and adds an
// instance again on the same directory: it comes back as the same
// container instance.
func TestPool_AddRemove(t *testing.T) {
	t.Parallel()
	_, client := startServer(t)
	if _, err := client.CreateCluster(t.Context(), &ecs.CreateClusterInput{ClusterName: aws.String("pool")}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p, err := NewPool(PoolConfig{ECS: client, DataDir: dir, Backoff: agentBackoff()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	specs := []InstanceSpec{
		{EC2InstanceID: "i-00000000000000001", Cluster: "pool", InstanceType: "t3.medium", Zone: "us-east-1a", CPU: 2048, MemoryMiB: 4096},
		{EC2InstanceID: "i-00000000000000002", Cluster: "pool", InstanceType: "m5.xlarge", Zone: "us-east-1b", CPU: 4096, MemoryMiB: 16384},
		{EC2InstanceID: "i-00000000000000003", Cluster: "pool", InstanceType: "c5.large", Zone: "us-east-1c", CPU: 2048, MemoryMiB: 4096,
			Attributes: map[string]string{"team": "berth"}},
	}
	// Concurrent Adds, one of them twice: the pool starts each once.
	var wg sync.WaitGroup
	errs := make([]error, len(specs)+1)
	for i, s := range append(specs, specs[0]) {
		wg.Go(func() {
			_, errs[i] = p.Add(t.Context(), s)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Add %d: %v", i, err)
		}
	}
	insts := p.Instances()
	if len(insts) != 3 {
		t.Fatalf("instances %+v", insts)
	}
	arns := map[string]string{}
	for _, in := range insts {
		if !in.Connected || in.ARN == "" || in.Cluster != "pool" {
			t.Fatalf("instance %+v", in)
		}
		arns[in.EC2InstanceID] = in.ARN
	}
	d, err := client.DescribeContainerInstances(t.Context(), &ecs.DescribeContainerInstancesInput{
		Cluster: aws.String("pool"), ContainerInstances: []string{arns[specs[0].EC2InstanceID], arns[specs[1].EC2InstanceID], arns[specs[2].EC2InstanceID]}})
	if err != nil {
		t.Fatal(err)
	}
	for _, ci := range d.ContainerInstances {
		id := aws.ToString(ci.Ec2InstanceId)
		var spec InstanceSpec
		for _, s := range specs {
			if s.EC2InstanceID == id {
				spec = s
			}
		}
		if spec.EC2InstanceID == "" || arns[id] != aws.ToString(ci.ContainerInstanceArn) {
			t.Fatalf("container instance %s has ec2InstanceId %q", aws.ToString(ci.ContainerInstanceArn), id)
		}
		attrs := map[string]string{}
		for _, a := range ci.Attributes {
			attrs[aws.ToString(a.Name)] = aws.ToString(a.Value)
		}
		if attrs["ecs.instance-type"] != spec.InstanceType || attrs["ecs.availability-zone"] != spec.Zone {
			t.Errorf("%s: attributes %v", id, attrs)
		}
		if _, ok := attrs["team"]; ok != (spec.Attributes != nil) {
			t.Errorf("%s: custom attributes %v", id, attrs)
		}
		res := map[string]int32{}
		for _, r := range ci.RegisteredResources {
			res[aws.ToString(r.Name)] = r.IntegerValue
		}
		if res["CPU"] != int32(spec.CPU) || res["MEMORY"] != int32(spec.MemoryMiB) || !ci.AgentConnected {
			t.Errorf("%s: resources %v, connected %v", id, res, ci.AgentConnected)
		}
	}

	// Shrink: the removed instance disconnects and leaves the pool.
	if in, ok := p.Remove(specs[1].EC2InstanceID); !ok || in.ARN != arns[specs[1].EC2InstanceID] {
		t.Fatalf("Remove = %+v, %v", in, ok)
	}
	if _, ok := p.Remove(specs[1].EC2InstanceID); ok {
		t.Fatal("second Remove found the instance")
	}
	if _, ok := p.Get(specs[1].EC2InstanceID); ok || len(p.Instances()) != 2 {
		t.Fatalf("instances after Remove: %+v", p.Instances())
	}
	waitConnected(t, client, "pool", arns[specs[1].EC2InstanceID], false)

	// Grow again with the same id: the same container instance.
	in, err := p.Add(t.Context(), specs[1])
	if err != nil {
		t.Fatal(err)
	}
	if in.ARN != arns[specs[1].EC2InstanceID] || !in.Connected {
		t.Fatalf("re-added %+v, want ARN %s", in, arns[specs[1].EC2InstanceID])
	}
	waitConnected(t, client, "pool", in.ARN, true)

	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Add(t.Context(), specs[0]); err != ErrPoolClosed {
		t.Fatalf("Add after Close = %v", err)
	}
	if n := len(p.Instances()); n != 0 {
		t.Fatalf("%d instances after Close", n)
	}
}

// TestPool_AddFails checks that an instance that cannot register (its
// cluster does not exist) or does not connect in time is not left
// running.
func TestPool_AddFails(t *testing.T) {
	t.Parallel()
	_, client := startServer(t)
	p, err := NewPool(PoolConfig{ECS: client, DataDir: t.TempDir(), Backoff: agentBackoff()})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	_, err = p.Add(t.Context(), InstanceSpec{EC2InstanceID: "i-0000000000000000a", Cluster: "missing"})
	if err == nil || !strings.Contains(err.Error(), "ClusterNotFound") {
		t.Fatalf("Add = %v, want ClusterNotFoundException", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Millisecond)
	defer cancel()
	if _, err := p.Add(ctx, InstanceSpec{EC2InstanceID: "i-0000000000000000b"}); err == nil {
		t.Fatal("Add with an expired context succeeded")
	}
	if n := len(p.Instances()); n != 0 {
		t.Fatalf("%d instances left after failed Adds", n)
	}
	for _, id := range []string{"", "i-../x", ".."} {
		if _, err := p.Add(t.Context(), InstanceSpec{EC2InstanceID: id}); err == nil {
			t.Errorf("Add(%q) succeeded", id)
		}
	}
	if _, err := NewPool(PoolConfig{}); err == nil {
		t.Error("NewPool without DataDir succeeded")
	}
}

func waitConnected(t *testing.T, client *ecs.Client, cluster, arn string, want bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		d, err := client.DescribeContainerInstances(t.Context(), &ecs.DescribeContainerInstancesInput{
			Cluster: aws.String(cluster), ContainerInstances: []string{arn}})
		if err == nil && len(d.ContainerInstances) == 1 && d.ContainerInstances[0].AgentConnected == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: agentConnected never became %v (%v)", arn, want, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
