// Package testkit holds the small helpers the test packages share: taking
// a call's result or failing, polling until a condition holds, and SDK
// clients of a test server. Only tests import it.
package testkit

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	asg "github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

// Must returns v, failing the test when err is not nil:
// testkit.Must(c.Call(ctx, in))(t).
func Must[T any](v T, err error) func(t testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return v
	}
}

// PollInterval is how often Eventually tries again.
const PollInterval = 50 * time.Millisecond

// Eventually calls f until it returns nil, failing the test with f's last
// error when timeout passes first. what names the awaited condition in the
// failure ("" for none).
func Eventually(t testing.TB, timeout time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			if what != "" {
				t.Fatalf("timed out waiting for %s: %v", what, err)
			}
			t.Fatalf("after %v: %v", timeout, err)
		}
		time.Sleep(PollInterval)
	}
}

// ECS returns an ECS client of the server at url (us-east-1).
func ECS(url string) *ecs.Client {
	return ecs.New(ecs.Options{Region: "us-east-1", BaseEndpoint: aws.String(url), Credentials: testCredentials()})
}

// AutoScaling returns an EC2 Auto Scaling client of the server at url
// (us-east-1).
func AutoScaling(url string) *asg.Client {
	return asg.New(asg.Options{Region: "us-east-1", BaseEndpoint: aws.String(url), Credentials: testCredentials()})
}

// testCredentials are static credentials (any key works while the server's
// authentication is off).
func testCredentials() aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "")
}
