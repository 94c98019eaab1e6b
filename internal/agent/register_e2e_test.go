package agent

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

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
