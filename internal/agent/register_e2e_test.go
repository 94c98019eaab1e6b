package agent

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"

	"github.com/berth-dev/berth/internal/api"
	"github.com/berth-dev/berth/internal/runtime/sim"
	"github.com/berth-dev/berth/internal/server"
)

// TestAgent_RegisterErrors checks that Run gives up at once on the answers
// the ECS agent treats as terminal.
func TestAgent_RegisterErrors(t *testing.T) {
	t.Parallel()
	creds := filepath.Join(t.TempDir(), "credentials")
	if err := os.WriteFile(creds, []byte("AKIDGOOD secret 123456789012\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	m, err := server.Start(context.Background(), server.Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Auth: api.AuthSigV4, CredentialsFile: creds})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	rt, err := sim.New(sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close() })

	t.Run("UnknownKey", func(t *testing.T) {
		a, err := New(agentConfig(t, newClient(m.URL()), rt, "default", t.TempDir()))
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		var api smithy.APIError
		if err := a.Run(ctx); !errors.As(err, &api) || api.ErrorCode() != "UnrecognizedClientException" {
			t.Fatalf("Run = %v, want UnrecognizedClientException", err)
		}
	})

	t.Run("UnknownCluster", func(t *testing.T) {
		s := startServer(t)
		a, err := New(agentConfig(t, s.ecs, rt, "nope", t.TempDir()))
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		var notFound *types.ClusterNotFoundException
		if err := a.Run(ctx); !errors.As(err, &notFound) {
			t.Fatalf("Run = %v, want ClusterNotFoundException", err)
		}
	})
}

// TestAgent_EC2Identity checks that an agent with an EC2 identity
// registers with its instance id as ec2InstanceId and its type and zone
// as attributes.
func TestAgent_EC2Identity(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	rt, err := sim.New(sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close() })
	cfg := agentConfig(t, s.ecs, rt, "default", t.TempDir())
	cfg.EC2 = &EC2Identity{InstanceID: "i-0fedcba9876543210", InstanceType: "r5.large", AvailabilityZone: "us-east-1b"}
	a := startAgent(t, s, cfg)
	d, err := s.ecs.DescribeContainerInstances(t.Context(), &ecs.DescribeContainerInstancesInput{
		Cluster: aws.String("default"), ContainerInstances: []string{a.ContainerInstanceARN()}})
	if err != nil || len(d.ContainerInstances) != 1 {
		t.Fatalf("describe: %v %v", d, err)
	}
	ci := d.ContainerInstances[0]
	if got := aws.ToString(ci.Ec2InstanceId); got != "i-0fedcba9876543210" {
		t.Errorf("ec2InstanceId %q", got)
	}
	attrs := map[string]string{}
	for _, at := range ci.Attributes {
		attrs[aws.ToString(at.Name)] = aws.ToString(at.Value)
	}
	if attrs["ecs.instance-type"] != "r5.large" || attrs["ecs.availability-zone"] != "us-east-1b" {
		t.Errorf("attributes %v", attrs)
	}
}
