// Package e2e drives a real `berth server` (server.Main on 127.0.0.1:0)
// through the official AWS SDK for Go v2 ECS client, the aws CLI and boto3.
package e2e

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/smithy-go"

	"github.com/berth-dev/berth/internal/api"
	"github.com/berth-dev/berth/internal/server"
)

// options for a test server.
type options struct {
	dataDir string
	auth    api.AuthMode
	creds   string // credentials file
	store   string
	etcd    []string
}

// startServer starts a server on 127.0.0.1:0 and closes it at cleanup.
func startServer(t *testing.T, o options) *server.Main {
	t.Helper()
	if o.dataDir == "" {
		o.dataDir = t.TempDir()
	}
	m, err := server.Start(context.Background(), server.Config{
		Listen:          "127.0.0.1:0",
		DataDir:         o.dataDir,
		Store:           o.store,
		EtcdEndpoints:   o.etcd,
		EtcdPrefix:      "/" + t.Name() + "/",
		Auth:            o.auth,
		CredentialsFile: o.creds,
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
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
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

func must[T any](t *testing.T, v T, err error) T {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
	return v
}
