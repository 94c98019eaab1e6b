package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

// TestSim_Binary runs `berth server` and `berth sim --instances 12` as
// processes: sim prints its line once all 12 are registered, the server
// shows them connected with their instance types, zones and attribute,
// and sim exits 0 on SIGTERM, after which the server shows them
// disconnected.
func TestSim_Binary(t *testing.T) {
	bin := buildBerth(t)
	_, url := startBerth(t, bin, "--listen", "127.0.0.1:0", "--data-dir", t.TempDir())
	c := ecs.New(ecs.Options{Region: "eu-west-1", BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDSIMTEST", "secret", "")})
	ctx := t.Context()
	if _, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("lab")}); err != nil {
		t.Fatal(err)
	}

	sim := exec.Command(bin, "sim", "--endpoint", url, "--cluster", "lab", "--instances", "12",
		"--cpu", "2048", "--memory", "8192", "--instance-types", "t3.large,m5.xlarge",
		"--attribute", "rack=r1", "--region", "eu-west-1", "--sim-speed", "10",
		"--access-key-id", "AKIDSIMTEST", "--secret-access-key", "secret", "--data-dir", t.TempDir())
	stdout, err := sim.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	sim.Stderr = &logs
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
		done <- sim.Wait()
	}()
	t.Cleanup(func() {
		_ = sim.Process.Kill()
		<-done
		if t.Failed() {
			t.Logf("sim log:\n%s", logs.String())
		}
	})
	select {
	case line := <-lines:
		if !strings.HasPrefix(line, "12 instances registered in cluster lab") {
			t.Fatalf("sim printed %q", line)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("sim printed nothing")
	}

	l, err := c.ListContainerInstances(ctx, &ecs.ListContainerInstancesInput{Cluster: aws.String("lab")})
	if err != nil || len(l.ContainerInstanceArns) != 12 {
		t.Fatalf("ListContainerInstances: %v, %v", l, err)
	}
	arns := l.ContainerInstanceArns
	d, err := c.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{Cluster: aws.String("lab"), ContainerInstances: arns})
	if err != nil {
		t.Fatal(err)
	}
	perZone, perType := map[string]int{}, map[string]int{}
	for _, ci := range d.ContainerInstances {
		attrs := map[string]string{}
		for _, a := range ci.Attributes {
			attrs[aws.ToString(a.Name)] = aws.ToString(a.Value)
		}
		perZone[attrs["ecs.availability-zone"]]++
		perType[attrs["ecs.instance-type"]]++
		if !ci.AgentConnected || attrs["rack"] != "r1" || ci.RegisteredResources[0].IntegerValue != 2048 || ci.RegisteredResources[1].IntegerValue != 8192 {
			t.Errorf("instance %s: connected %v, attributes %v, resources %+v", aws.ToString(ci.ContainerInstanceArn), ci.AgentConnected, attrs, ci.RegisteredResources)
		}
	}
	if want := map[string]int{"eu-west-1a": 4, "eu-west-1b": 4, "eu-west-1c": 4}; fmt.Sprint(perZone) != fmt.Sprint(want) {
		t.Errorf("per zone %v, want %v", perZone, want)
	}
	if want := map[string]int{"m5.xlarge": 6, "t3.large": 6}; fmt.Sprint(perType) != fmt.Sprint(want) {
		t.Errorf("per instance type %v, want %v", perType, want)
	}

	if err := sim.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		done <- err
		if err != nil {
			t.Fatalf("sim exit after SIGTERM: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("sim did not exit after SIGTERM")
	}
	waitFor(t, 20*time.Second, func() error {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		l, err := c.ListContainerInstances(ctx, &ecs.ListContainerInstancesInput{Cluster: aws.String("lab"), Filter: aws.String("agentConnected == true")})
		if err != nil || len(l.ContainerInstanceArns) != 0 {
			return fmt.Errorf("still connected: %v, %v", l, err)
		}
		return nil
	})
}

// TestRunSim_Flags covers the sim role's flag errors.
func TestRunSim_Flags(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"NoEndpoint", []string{"sim", "--instances", "3"}, "--endpoint is required"},
		{"NoInstances", []string{"sim", "--endpoint", "http://x"}, "--instances must be at least 1"},
		{"BadAttribute", []string{"sim", "--endpoint", "http://x", "--instances", "1", "--attribute", "=v"}, "name=value"},
		{"ZeroCPU", []string{"sim", "--endpoint", "http://x", "--instances", "1", "--cpu", "0"}, "must be positive"},
		{"BadSpeed", []string{"sim", "--endpoint", "http://x", "--instances", "1", "--sim-speed", "-2"}, "--sim-speed"},
		{"BadLogLevel", []string{"sim", "--endpoint", "http://x", "--instances", "1", "--log-level", "loud", "--data-dir", t.TempDir()}, "--log-level"},
		{"ExtraArgs", []string{"sim", "--endpoint", "http://x", "--instances", "1", "more"}, "unexpected arguments"},
		{"BadGCPercent", []string{"sim", "--endpoint", "http://x", "--instances", "1", "--gc-percent", "-1"}, "--gc-percent"},
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

// TestRunSim_GCPercent: the simulator collects at 400% by default, keeps
// $GOGC when it is set, and takes --gc-percent over both.
func TestRunSim_GCPercent(t *testing.T) {
	base := []string{"--endpoint", "http://x", "--instances", "1"}
	for _, tc := range []struct {
		name, gogc string
		args       []string
		want       int
	}{
		{"Default", "", nil, 400},
		{"GOGC", "150", nil, 0},
		{"Flag", "", []string{"--gc-percent", "200"}, 200},
		{"FlagOverGOGC", "150", []string{"--gc-percent", "300"}, 300},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("GOGC", tc.gogc)
			o, err := parseSimFlags(append(append([]string{}, base...), tc.args...), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if o.gcPercent != tc.want {
				t.Fatalf("gcPercent %d, want %d", o.gcPercent, tc.want)
			}
		})
	}
}
