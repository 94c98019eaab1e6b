package fleet

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/control"
	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/leaktest"
	"github.com/berth-dev/berth/internal/runtime"
	"github.com/berth-dev/berth/internal/store/bolt"
	"github.com/berth-dev/berth/internal/testkit"
	"github.com/berth-dev/berth/internal/wire"
)

// TestMain fails the run when a goroutine of the fleet or of its engine
// outlives the tests: Close must wait for all of them.
func TestMain(m *testing.M) {
	leaktest.Main(m, "berth/internal/fleet.", "berth/internal/agent.")
}

var testNS = ecs.Namespace{Partition: "aws", Account: "123456789012", Region: "us-east-1", Principal: "arn:aws:iam::123456789012:root"}

func testCtx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// newControl opens a bolt store and a Control with a cluster "fg" and a
// Fargate task definition "web" of two containers (app essential).
func newControl(t *testing.T) *control.Control {
	t.Helper()
	s, err := bolt.Open(filepath.Join(t.TempDir(), "berth.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := control.New(testCtx(t), control.Config{Store: s})
	if err != nil {
		_ = s.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Close()
		s.Close()
	})
	ctx := testCtx(t)
	if _, err := c.CreateCluster(ctx, testNS, &wire.CreateClusterRequest{ClusterName: wire.Ptr("fg")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.RegisterTaskDefinition(ctx, testNS, &wire.RegisterTaskDefinitionRequest{
		Family: wire.Ptr("web"), Cpu: wire.Ptr("256"), Memory: wire.Ptr("512"),
		NetworkMode:             wire.Ptr(wire.NetworkModeAwsvpc),
		RequiresCompatibilities: []wire.Compatibility{wire.CompatibilityFargate},
		ContainerDefinitions: []wire.ContainerDefinition{
			{Name: wire.Ptr("app"), Image: wire.Ptr("web"), Essential: wire.Ptr(true),
				PortMappings: []wire.PortMapping{{ContainerPort: wire.Ptr(int32(80))}}},
			{Name: wire.Ptr("side"), Image: wire.Ptr("side"), Essential: wire.Ptr(false)},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// newFleet starts a simulated fleet on dir, closed at cleanup.
func newFleet(t *testing.T, c *control.Control, dir string, subnet string) *Fleet {
	t.Helper()
	cfg := Config{Control: c, Runtime: RuntimeSim, DataDir: dir,
		Log: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelInfo}))}
	if subnet != "" {
		cfg.Subnet = netip.MustParsePrefix(subnet)
	}
	f, err := New(testCtx(t), cfg)
	if err != nil {
		t.Fatalf("fleet.New: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	if f.Runtime() != RuntimeSim {
		t.Fatalf("runtime %s", f.Runtime())
	}
	return f
}

func runTask(t *testing.T, c *control.Control) string {
	t.Helper()
	out, err := c.RunTask(testCtx(t), testNS, &wire.RunTaskRequest{Cluster: wire.Ptr("fg"), TaskDefinition: wire.Ptr("web"),
		LaunchType:           wire.Ptr(wire.LaunchTypeFargate),
		NetworkConfiguration: &wire.NetworkConfiguration{AwsvpcConfiguration: &wire.AwsVpcConfiguration{Subnets: []string{"subnet-1"}}}})
	if err != nil {
		t.Fatal(err)
	}
	return wire.Val(out.Tasks[0].TaskArn)
}

// waitStatus polls the task until its lastStatus is want.
func waitStatus(t *testing.T, c *control.Control, arn, want string) wire.Task {
	t.Helper()
	var task wire.Task
	testkit.Eventually(t, 20*time.Second, "", func() error {
		d, err := c.DescribeTasks(testCtx(t), testNS, &wire.DescribeTasksRequest{Cluster: wire.Ptr("fg"), Tasks: []string{arn}})
		if err != nil {
			return err
		}
		task = d.Tasks[0]
		if got := wire.Val(task.LastStatus); got != want {
			return fmt.Errorf("task is %s, want %s (reason %q)", got, want, wire.Val(task.StoppedReason))
		}
		return nil
	})
	return task
}

func privateIP(task wire.Task) string {
	for _, d := range task.Attachments[0].Details {
		if wire.Val(d.Name) == "privateIPv4Address" {
			return wire.Val(d.Value)
		}
	}
	return ""
}

// containers lists the runtime's containers carrying label=value.
func containers(t *testing.T, rt runtime.Runtime, label, value string) []runtime.ContainerState {
	t.Helper()
	list, err := rt.List(testCtx(t), map[string]string{label: value})
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func TestFleet_Sim(t *testing.T) {
	c := newControl(t)
	dir := t.TempDir()
	f := newFleet(t, c, dir, "")
	a, b := runTask(t, c), runTask(t, c)
	ta, tb := waitStatus(t, c, a, "RUNNING"), waitStatus(t, c, b, "RUNNING")
	if ipa, ipb := privateIP(ta), privateIP(tb); ipa == ipb || !strings.HasPrefix(ipa, "10.213.") || !strings.HasPrefix(ipb, "10.213.") {
		t.Fatalf("addresses %q and %q", ipa, ipb)
	}

	// Each task has a pause container carrying its address, and its
	// containers are in the pause container's namespace.
	pauses := containers(t, f.rt, labelRole, "pause")
	if len(pauses) != 2 {
		t.Fatalf("pause containers %+v", pauses)
	}
	for _, p := range pauses {
		arn := p.Labels[labelTask]
		task := ta
		if arn == b {
			task = tb
		}
		if p.Name != pauseName(arn) || p.Labels[labelIP] != privateIP(task) || p.State != runtime.StateRunning {
			t.Fatalf("pause container %+v for %s", p, privateIP(task))
		}
		// RUNNING means the essential container runs; the non-essential
		// sidecar may be created a moment later.
		var tcs []runtime.ContainerState
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			if tcs = containers(t, f.rt, runtime.LabelTaskARN, arn); len(tcs) == 2 || time.Now().After(deadline) {
				break
			}
		}
		if len(tcs) != 2 {
			t.Fatalf("task containers %+v", tcs)
		}
		for _, tc := range tcs {
			if tc.IPAddress != p.IPAddress || len(tc.Ports) != 0 || tc.Labels[runtime.LabelCluster] != "fg" {
				t.Fatalf("container %s: address %q (pause %q), ports %+v, labels %v", tc.Name, tc.IPAddress, p.IPAddress, tc.Ports, tc.Labels)
			}
		}
	}

	// A restarted fleet takes its tasks over without starting them again.
	before := containers(t, f.rt, runtime.LabelTaskARN, a)
	f.Close()
	f = newFleet(t, c, dir, "")
	time.Sleep(200 * time.Millisecond) // a few passes
	after := containers(t, f.rt, runtime.LabelTaskARN, a)
	if len(after) != len(before) || after[0].ID != before[0].ID || !after[0].StartedAt.Equal(before[0].StartedAt) || after[0].State != runtime.StateRunning {
		t.Fatalf("containers before the restart %+v, after %+v", before, after)
	}

	if _, err := c.StopTask(testCtx(t), testNS, &wire.StopTaskRequest{Cluster: wire.Ptr("fg"), Task: wire.Ptr(a)}); err != nil {
		t.Fatal(err)
	}
	stopped := waitStatus(t, c, a, "STOPPED")
	if wire.Val(stopped.StopCode) != wire.TaskStopCodeUserInitiated || wire.Val(stopped.Attachments[0].Status) != "DELETED" {
		t.Fatalf("stopped %+v", stopped)
	}
	testkit.Eventually(t, 10*time.Second, "", func() error {
		if ps := containers(t, f.rt, labelTask, a); len(ps) != 0 {
			return fmt.Errorf("the stopped task's pause container remains: %+v", ps)
		}
		return nil
	})
	if ps := containers(t, f.rt, labelTask, b); len(ps) != 1 {
		t.Fatalf("the running task's pause container: %+v", ps)
	}
}

// TestFleet_NoAddress fails a task for which the subnet has no address
// left: a /30 holds one task.
func TestFleet_NoAddress(t *testing.T) {
	c := newControl(t)
	newFleet(t, c, t.TempDir(), "10.99.0.0/30")
	a := runTask(t, c)
	if ip := privateIP(waitStatus(t, c, a, "RUNNING")); ip != "10.99.0.2" {
		t.Fatalf("address %q", ip)
	}
	b := runTask(t, c)
	task := waitStatus(t, c, b, "STOPPED")
	if wire.Val(task.StopCode) != wire.TaskStopCodeTaskFailedToStart || !strings.HasPrefix(wire.Val(task.StoppedReason), "ResourceInitializationError: no free address") {
		t.Fatalf("stopped %+v", task)
	}
}

func TestFleet_ErrConfig(t *testing.T) {
	c := newControl(t)
	for _, cfg := range []Config{
		{DataDir: t.TempDir()},
		{Control: c},
		{Control: c, DataDir: t.TempDir(), Runtime: "podman"},
	} {
		if f, err := New(testCtx(t), cfg); err == nil {
			f.Close()
			t.Errorf("New(%+v) succeeded", cfg)
		}
	}
}
