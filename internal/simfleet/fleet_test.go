package simfleet

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-dev/berth/internal/agent"
	"github.com/berth-dev/berth/internal/leaktest"
	"github.com/berth-dev/berth/internal/server"
)

// TestMain fails the run when a goroutine of the fleet or its agents
// outlives the tests: Run must wait for every instance. With
// benchServerEnv set, the binary is BenchmarkFleetTasks's server instead.
func TestMain(m *testing.M) {
	if dir := os.Getenv(benchServerEnv); dir != "" {
		os.Exit(serveBench(dir))
	}
	leaktest.Main(m, "berth/internal/simfleet.", "berth/internal/agent.")
}

// startServer starts a server on 127.0.0.1:0, closed at the end of the
// test, and returns it with an SDK client.
func startServer(t *testing.T) (*server.Main, *ecs.Client) {
	t.Helper()
	m, err := server.Start(context.Background(), server.Config{Listen: "127.0.0.1:0", DataDir: t.TempDir()})
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("close server: %v", err)
		}
	})
	return m, ecs.New(ecs.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(m.URL()),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
	})
}

// runFleet runs f until the returned stop is called; stop returns Run's
// error. It waits for Ready (or fails the test).
func runFleet(t *testing.T, f *Fleet) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	stop = func() error {
		cancel()
		select {
		case err := <-done:
			done <- err
			return err
		case <-time.After(20 * time.Second):
			return errors.New("Run did not return")
		}
	}
	t.Cleanup(func() { _ = stop() })
	select {
	case <-f.Ready():
	case err := <-done:
		t.Fatalf("Run ended before Ready: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatalf("not ready: %d of %d connected", f.Connected(), len(f.Instances()))
	}
	return stop
}

func TestNew_Errors(t *testing.T) {
	for name, cfg := range map[string]Config{
		"NoEndpoint":  {Instances: 1, DataDir: "x"},
		"NoInstances": {Endpoint: "http://x", DataDir: "x"},
		"NoDataDir":   {Endpoint: "http://x", Instances: 1},
		"NegativeCPU": {Endpoint: "http://x", Instances: 1, DataDir: "x", CPU: -1},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := New(cfg); err == nil {
				t.Fatal("want an error")
			}
		})
	}
}

func TestNew_Assignment(t *testing.T) {
	f, err := New(Config{Endpoint: "http://x", Instances: 7, DataDir: "x", Region: "eu-west-1", InstanceTypes: []string{"t3.large", "m5.xlarge"}})
	if err != nil {
		t.Fatal(err)
	}
	var zones, typesGot []string
	for _, in := range f.Instances() {
		zones = append(zones, in.Zone)
		typesGot = append(typesGot, in.InstanceType)
	}
	if want := []string{"eu-west-1a", "eu-west-1b", "eu-west-1c", "eu-west-1a", "eu-west-1b", "eu-west-1c", "eu-west-1a"}; !slices.Equal(zones, want) {
		t.Errorf("zones %v, want %v", zones, want)
	}
	if want := []string{"t3.large", "m5.xlarge", "t3.large", "m5.xlarge", "t3.large", "m5.xlarge", "t3.large"}; !slices.Equal(typesGot, want) {
		t.Errorf("instance types %v, want %v", typesGot, want)
	}
}

// TestFleet_Run brings up a small fleet, checks what the instances
// registered, runs a task on it, and restarts the fleet on the same data
// directory: the same instances come back.
func TestFleet_Run(t *testing.T) {
	t.Parallel()
	m, client := startServer(t)
	if _, err := client.CreateCluster(t.Context(), &ecs.CreateClusterInput{ClusterName: aws.String("fleet")}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := Config{
		Endpoint: m.URL(), Cluster: "fleet", Instances: 6, DataDir: dir, Concurrency: 2,
		CPU: 2048, MemoryMiB: 4096,
		InstanceTypes: []string{"t3.large", "m5.xlarge"},
		Zones:         []string{"z1", "z2", "z3"},
		Attributes:    map[string]string{"team": "berth", "ecs.availability-zone": "overridden"},
		Speed:         10,
		Backoff:       agentBackoff(),
	}
	f, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	stop := runFleet(t, f)

	byARN := map[string]Instance{}
	for _, in := range f.Instances() {
		if !in.Connected || in.ARN == "" {
			t.Fatalf("instance %+v not connected after Ready", in)
		}
		byARN[in.ARN] = in
	}
	d, err := client.DescribeContainerInstances(t.Context(), &ecs.DescribeContainerInstancesInput{
		Cluster: aws.String("fleet"), ContainerInstances: slices.Collect(maps.Keys(byARN))})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.ContainerInstances) != 6 {
		t.Fatalf("%d instances described, failures %+v", len(d.ContainerInstances), d.Failures)
	}
	for _, ci := range d.ContainerInstances {
		in := byARN[aws.ToString(ci.ContainerInstanceArn)]
		attrs := map[string]string{}
		for _, a := range ci.Attributes {
			attrs[aws.ToString(a.Name)] = aws.ToString(a.Value)
		}
		if attrs[AttributeZone] != in.Zone || attrs[AttributeInstanceType] != in.InstanceType || attrs["team"] != "berth" {
			t.Errorf("instance %d attributes %v, want zone %s type %s team berth", in.Index, attrs, in.Zone, in.InstanceType)
		}
		if !ci.AgentConnected || ci.RegisteredResources[0].IntegerValue != 2048 || ci.RegisteredResources[1].IntegerValue != 4096 {
			t.Errorf("instance %d: connected %v, resources %+v", in.Index, ci.AgentConnected, ci.RegisteredResources)
		}
	}

	if _, err := client.RegisterTaskDefinition(t.Context(), &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("app"),
		ContainerDefinitions: []types.ContainerDefinition{{
			Name: aws.String("app"), Image: aws.String("berth/app:1"), Memory: aws.Int32(128)}},
	}); err != nil {
		t.Fatal(err)
	}
	out, err := client.RunTask(t.Context(), &ecs.RunTaskInput{Cluster: aws.String("fleet"), TaskDefinition: aws.String("app"), Count: aws.Int32(4)})
	if err != nil || len(out.Tasks) != 4 {
		t.Fatalf("RunTask: %v, failures %+v", err, out)
	}
	var arns []string
	for _, tk := range out.Tasks {
		arns = append(arns, aws.ToString(tk.TaskArn))
	}
	waitRunning(t, client, "fleet", arns)

	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}

	// The same data directory: the same container instances.
	f2, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	stop2 := runFleet(t, f2)
	for _, in := range f2.Instances() {
		if want := f.Instances()[in.Index].ARN; in.ARN != want {
			t.Errorf("instance %d came back as %s, want %s", in.Index, in.ARN, want)
		}
	}
	l, err := client.ListContainerInstances(t.Context(), &ecs.ListContainerInstancesInput{Cluster: aws.String("fleet")})
	if err != nil || len(l.ContainerInstanceArns) != 6 {
		t.Fatalf("ListContainerInstances after restart: %v %v", l, err)
	}
	if err := stop2(); err != nil {
		t.Fatalf("Run: %v", err)
	}
}

// TestFleet_MissingCluster: registration is refused for good, and Run
// returns the error after stopping every instance.
func TestFleet_MissingCluster(t *testing.T) {
	t.Parallel()
	m, _ := startServer(t)
	f, err := New(Config{Endpoint: m.URL(), Cluster: "nope", Instances: 3, DataDir: t.TempDir(), Backoff: agentBackoff()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var nf *types.ClusterNotFoundException
	if err := f.Run(ctx); !errors.As(err, &nf) {
		t.Fatalf("Run: %v, want ClusterNotFoundException", err)
	}
	select {
	case <-f.Ready():
		t.Fatal("Ready closed")
	default:
	}
	if err := f.Run(ctx); err == nil {
		t.Fatal("second Run: want an error")
	}
}

// agentBackoff makes the tests' agents retry quickly.
func agentBackoff() agent.Backoff {
	return agent.Backoff{Min: 20 * time.Millisecond, Max: 200 * time.Millisecond}
}

// waitRunning polls DescribeTasks until every task is RUNNING.
func waitRunning(t *testing.T, client *ecs.Client, cluster string, arns []string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		d, err := client.DescribeTasks(t.Context(), &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: arns})
		if err != nil {
			t.Fatal(err)
		}
		running := 0
		var last string
		for _, tk := range d.Tasks {
			if aws.ToString(tk.LastStatus) == "RUNNING" {
				running++
			} else {
				last = fmt.Sprintf("%s is %s", aws.ToString(tk.TaskArn), aws.ToString(tk.LastStatus))
			}
		}
		if running == len(arns) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d tasks RUNNING (%s)", running, len(arns), last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
