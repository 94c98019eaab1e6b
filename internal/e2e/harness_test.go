// Package e2e drives a real `berth server` (server.Main on 127.0.0.1:0)
// through the official AWS SDK for Go v2 ECS client, the aws CLI and boto3.
package e2e

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"github.com/berth-dev/berth/internal/api"
	"github.com/berth-dev/berth/internal/fleet"
	"github.com/berth-dev/berth/internal/server"
)

// options for a test server.
type options struct {
	dataDir string
	auth    api.AuthMode
	creds   string // credentials file
	store   string
	etcd    []string
	fargate string // the Fargate fleet's runtime; "" is sim
}

// startServer starts a server on 127.0.0.1:0 and closes it at cleanup.
func startServer(t *testing.T, o options) *server.Main {
	t.Helper()
	if o.dataDir == "" {
		o.dataDir = t.TempDir()
	}
	if o.fargate == "" {
		// Tests that do not ask for Docker's fleet leave the host alone.
		o.fargate = "sim"
	}
	m, err := server.Start(context.Background(), server.Config{
		Listen:          "127.0.0.1:0",
		DataDir:         o.dataDir,
		Store:           o.store,
		EtcdEndpoints:   o.etcd,
		EtcdPrefix:      "/" + t.Name() + "/",
		Auth:            o.auth,
		CredentialsFile: o.creds,
		FargateFleet:    fleet.Start,
		FargateRuntime:  o.fargate,
	})
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("close server: %v", err)
		}
	})
	return m
}

// client returns an SDK ECS client for the server, signing with the given
// key (a 12-digit key id selects that account) in region.
func client(m *server.Main, key, secret, region string) *ecs.Client {
	return ecs.New(ecs.Options{
		Region:       region,
		BaseEndpoint: aws.String(m.URL()),
		Credentials:  credentials.NewStaticCredentialsProvider(key, secret, ""),
		Retryer:      aws.NopRetryer{},
	})
}

// defaultClient is a client with dummy credentials in us-east-1.
func defaultClient(m *server.Main) *ecs.Client {
	return client(m, "AKIDEXAMPLE", "secret", "us-east-1")
}

func ctx(t *testing.T) context.Context {
	// Generous: under -race with every package running at once on two
	// cores, the Docker tests' steps (image builds, health checks) take
	// several times as long as alone. Tests keep their own deadlines.
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

// wantErr checks that err is the modelled SDK error type T (the SDK parsed
// the server's __type into its modelled exception) and returns it.
func wantErr[T error](t *testing.T, err error) T {
	t.Helper()
	var target T
	if err == nil {
		t.Fatalf("want %T, got success", target)
	}
	if !errors.As(err, &target) {
		t.Fatalf("want %T, got %T: %v", target, err, err)
	}
	return target
}

// errorCode returns the API error code of err ("" if none).
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// must takes a call's two results and returns a function that fails t on
// an error and otherwise returns the value: testkit.Must(c.CreateCluster(...))(t).
// (Go cannot pass a multi-value call together with t.)

// skipValidation turns off the SDK's client-side check of required members
// for one call, so that a request the SDK would refuse reaches the server
// and its model validation is exercised. Pass it as a per-call option.
func skipValidation(o *ecs.Options) {
	o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
		_, _ = s.Initialize.Remove("OperationInputValidation")
		return nil
	})
}

// wantMsg checks the API error message of err.
func wantMsg(t *testing.T, err error, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want an API error with message %q, got %v", msg, err)
	}
	if got := ae.ErrorMessage(); got != msg {
		t.Fatalf("message:\n got %q\nwant %q", got, msg)
	}
}

// wantMsgContains checks that the API error message of err contains sub.
func wantMsgContains(t *testing.T, err error, sub string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want an API error with a message containing %q, got %v", sub, err)
	}
	if !strings.Contains(ae.ErrorMessage(), sub) {
		t.Fatalf("message %q does not contain %q", ae.ErrorMessage(), sub)
	}
}

// httpStatus returns the HTTP status of a failed SDK call (0 if none).
func httpStatus(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// accountClient is a client (auth none) whose 12-digit access key id selects
// its own account, so that tests sharing a server do not see each other.
func accountClient(m *server.Main, account string) *ecs.Client {
	return client(m, account, "secret", "us-east-1")
}
