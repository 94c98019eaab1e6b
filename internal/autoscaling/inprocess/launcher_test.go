package inprocess_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-dev/berth/internal/autoscaling"
	"github.com/berth-dev/berth/internal/autoscaling/inprocess"
	"github.com/berth-dev/berth/internal/server"
	"github.com/berth-dev/berth/internal/testkit"
)

// TestLauncher_Idempotent drives the sim launcher directly: a repeated
// Launch keeps the one instance, a Terminate by launchers that did not
// start the instance (as after a restart) still finds and deregisters
// it, and a repeated Terminate is a no-op.
func TestLauncher_Idempotent(t *testing.T) {
	t.Parallel()
	m, err := server.Start(context.Background(), server.Config{Listen: "127.0.0.1:0", DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	c := newClients(m)
	ctx := t.Context()
	testkit.Must(c.ecs.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("direct")}))(t)
	self := func(string, string) (*ecs.Client, error) { return c.ecs, nil }
	dir := t.TempDir()
	req := autoscaling.Request{Account: "000000000000", Region: "us-east-1", Group: "g", InstanceID: "i-0aaaaaaaaaaaaaaa1",
		InstanceType: "c5.xlarge", AZ: "us-east-1c", Cluster: "direct"}

	first, err := inprocess.New(inprocess.Config{ECS: self, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := first.Sim().Launch(ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	cis := containerInstances(t, c, "direct")
	if len(cis) != 1 || !cis[req.InstanceID].AgentConnected || resource(cis[req.InstanceID], "CPU") != 4096 {
		t.Fatalf("container instances %+v", cis)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	if err := first.Sim().Launch(ctx, req); err == nil {
		t.Fatal("Launch after Close succeeded")
	}

	second, err := inprocess.New(inprocess.Config{ECS: self, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	for range 2 {
		if err := second.Sim().Terminate(ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	after := containerInstances(t, c, "direct", cis)
	if got := aws.ToString(after[req.InstanceID].Status); got != "INACTIVE" {
		t.Fatalf("container instance is %s, want INACTIVE", got)
	}
	if l := testkit.Must(c.ecs.ListContainerInstances(ctx, &ecs.ListContainerInstancesInput{Cluster: aws.String("direct"),
		Status: types.ContainerInstanceStatusActive}))(t); len(l.ContainerInstanceArns) != 0 {
		t.Fatalf("active instances left: %v", l.ContainerInstanceArns)
	}
}
