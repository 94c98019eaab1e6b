package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// TestAgent_Binary runs `berth server --auth sigv4` and `berth agent
// --runtime sim` as processes: the agent creates the default cluster,
// registers with its attribute, opens its SigV4-signed ACS session, runs a
// task, and exits 0 on SIGTERM, after which the server shows it
// disconnected.
func TestAgent_Binary(t *testing.T) {
	bin := buildBerth(t)
	creds := filepath.Join(t.TempDir(), "credentials")
	if err := os.WriteFile(creds, []byte("AKIDAGENTTEST agent-secret 123456789012\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, url := startBerth(t, bin, "--listen", "127.0.0.1:0", "--data-dir", t.TempDir(), "--auth", "sigv4", "--credentials", creds)

	agent := exec.Command(bin, "agent", "--endpoint", url, "--runtime", "sim", "--data-dir", t.TempDir(),
		"--cpu", "2048", "--memory", "4096", "--attribute", "zone=lab",
		"--ec2-instance-id", "i-0123456789abcdef0", "--instance-type", "t3.medium", "--availability-zone", "us-east-1b",
		"--access-key-id", "AKIDAGENTTEST", "--secret-access-key", "agent-secret", "--log-level", "debug")
	var logs strings.Builder
	agent.Stderr = &logs
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- agent.Wait() }()
	t.Cleanup(func() {
		_ = agent.Process.Kill()
		<-done
		if t.Failed() {
			t.Logf("agent log:\n%s", logs.String())
		}
	})

	c := ecs.New(ecs.Options{Region: "us-east-1", BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDAGENTTEST", "agent-secret", "")})
	ctx := t.Context()
	var arn string
	waitFor(t, 20*time.Second, func() error {
		l, err := c.ListContainerInstances(ctx, &ecs.ListContainerInstancesInput{Cluster: aws.String("default")})
		if err != nil || len(l.ContainerInstanceArns) != 1 {
			return fmt.Errorf("instances: %v, %v", l, err)
		}
		arn = l.ContainerInstanceArns[0]
		d, err := c.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{Cluster: aws.String("default"), ContainerInstances: []string{arn}})
		if err != nil || !d.ContainerInstances[0].AgentConnected {
			return fmt.Errorf("not connected: %v", err)
		}
		if id := aws.ToString(d.ContainerInstances[0].Ec2InstanceId); id != "i-0123456789abcdef0" {
			return fmt.Errorf("ec2InstanceId %q", id)
		}
		for _, a := range d.ContainerInstances[0].Attributes {
			if aws.ToString(a.Name) == "zone" && aws.ToString(a.Value) == "lab" {
				return nil
			}
		}
		return fmt.Errorf("attribute zone=lab missing")
	})

	if _, err := c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("hello"),
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("hello"), Image: aws.String("berth/hello"), Memory: aws.Int32(16),
			Environment: []types.KeyValuePair{{Name: aws.String("BERTH_SIM_RUN_SECONDS"), Value: aws.String("0.2")}}}}}); err != nil {
		t.Fatal(err)
	}
	run, err := c.RunTask(ctx, &ecs.RunTaskInput{TaskDefinition: aws.String("hello")})
	if err != nil || len(run.Tasks) != 1 {
		t.Fatalf("RunTask: %+v, %v", run, err)
	}
	waitFor(t, 20*time.Second, func() error {
		d, err := c.DescribeTasks(ctx, &ecs.DescribeTasksInput{Tasks: []string{aws.ToString(run.Tasks[0].TaskArn)}})
		if err != nil {
			return err
		}
		if task := d.Tasks[0]; aws.ToString(task.LastStatus) != "STOPPED" || aws.ToInt32(task.Containers[0].ExitCode) != 0 {
			return fmt.Errorf("task %s", aws.ToString(task.LastStatus))
		}
		return nil
	})

	if err := agent.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		done <- err
		if err != nil {
			t.Fatalf("agent exit after SIGTERM: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the agent did not exit after SIGTERM")
	}
	waitFor(t, 20*time.Second, func() error {
		d, err := c.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{Cluster: aws.String("default"), ContainerInstances: []string{arn}})
		if err != nil || d.ContainerInstances[0].AgentConnected {
			return fmt.Errorf("still connected: %v", err)
		}
		return nil
	})
}

// TestRunAgent_Flags covers the agent's flag errors.
func TestRunAgent_Flags(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"NoEndpoint", []string{"agent"}, "--endpoint is required"},
		{"BadRuntime", []string{"agent", "--endpoint", "http://x", "--runtime", "podman"}, "want docker or sim"},
		{"BadAttribute", []string{"agent", "--endpoint", "http://x", "--attribute", "=v"}, "name=value"},
		{"NegativeCPU", []string{"agent", "--endpoint", "http://x", "--cpu", "-1"}, "negative"},
		{"ExtraArgs", []string{"agent", "--endpoint", "http://x", "more"}, "unexpected arguments"},
		{"BadEC2InstanceID", []string{"agent", "--endpoint", "http://x", "--runtime", "sim", "--data-dir", t.TempDir(), "--ec2-instance-id", "host-1"}, "EC2 instance id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut strings.Builder
			err := run(tc.args, &out, &errOut)
			if err == nil || !strings.Contains(err.Error()+errOut.String(), tc.want) {
				t.Fatalf("err %v (stderr %q), want %q", err, errOut.String(), tc.want)
			}
		})
	}
}

// waitFor retries f every 50 ms until it succeeds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, f func() error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		err := f()
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("after %v: %v", timeout, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
