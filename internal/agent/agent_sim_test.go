package agent

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-dev/berth/internal/runtime"
	"github.com/berth-dev/berth/internal/runtime/sim"
	"github.com/berth-dev/berth/internal/server"
	"github.com/berth-dev/berth/internal/testkit"
)

// newSim returns a simulated runtime persisted in dir, closed at the end
// of the test (closing twice is harmless).
func newSim(t *testing.T, dir string) *sim.Runtime {
	t.Helper()
	rt, err := sim.New(sim.Options{Seed: 7, StateFile: filepath.Join(dir, "sim-state.json")})
	if err != nil {
		t.Fatalf("sim.New: %v", err)
	}
	t.Cleanup(func() { rt.Close() })
	return rt
}

// TestAgent_Sim runs tasks end to end through the real server and an
// in-process agent on the simulated runtime.
func TestAgent_Sim(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	cluster := createCluster(t, s, "sim")
	dir := t.TempDir()
	rt := newSim(t, dir)
	a := startAgent(t, s, agentConfig(t, s.ecs, rt, cluster, dir))

	t.Run("Registration", func(t *testing.T) {
		t.Parallel()
		d, err := s.ecs.DescribeContainerInstances(t.Context(), &ecs.DescribeContainerInstancesInput{
			Cluster: aws.String(cluster), ContainerInstances: []string{a.ContainerInstanceARN()}})
		if err != nil {
			t.Fatal(err)
		}
		ci := d.ContainerInstances[0]
		has := func(name, value string) bool {
			for _, at := range ci.Attributes {
				if aws.ToString(at.Name) == name && aws.ToString(at.Value) == value {
					return true
				}
			}
			return false
		}
		for _, want := range [][2]string{
			{"ecs.os-type", "linux"}, {"ecs.cpu-architecture", cpuArchitecture()},
			{"com.amazonaws.ecs.capability.docker-remote-api.1.44", ""},
			{"ecs.capability.container-health-check", ""}, {"ecs.capability.container-ordering", ""},
			{"stack", "test"}, {"flag", ""},
		} {
			if !has(want[0], want[1]) {
				t.Errorf("attribute %s=%q missing: %+v", want[0], want[1], ci.Attributes)
			}
		}
		if has("ecs.capability.task-eni", "") {
			t.Errorf("task-eni advertised")
		}
		if aws.ToString(ci.VersionInfo.AgentVersion) != Version || ci.RegisteredResources[0].IntegerValue != 16384 {
			t.Errorf("versionInfo %+v, resources %+v", ci.VersionInfo, ci.RegisteredResources)
		}
	})

	t.Run("RunAndStop", func(t *testing.T) {
		t.Parallel()
		arn := runTask(t, s, cluster, types.ContainerDefinition{
			Name: aws.String("web"), Image: aws.String("berth/web:1"), Memory: aws.Int32(64),
			PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(80)}},
			DockerLabels: map[string]string{"team": "berth"},
		})
		task := waitTask(t, s, cluster, arn, "RUNNING", 10*time.Second)
		c := container(t, task, "web")
		if aws.ToString(c.RuntimeId) == "" || aws.ToString(c.LastStatus) != "RUNNING" {
			t.Fatalf("container %+v", c)
		}
		if len(c.NetworkBindings) != 1 || aws.ToInt32(c.NetworkBindings[0].ContainerPort) != 80 || aws.ToInt32(c.NetworkBindings[0].HostPort) < 32768 {
			t.Fatalf("network bindings %+v", c.NetworkBindings)
		}
		st, err := rt.Inspect(t.Context(), aws.ToString(c.RuntimeId))
		if err != nil || st.State != runtime.StateRunning || st.Labels["team"] != "berth" || st.Labels[runtime.LabelCluster] != cluster {
			t.Fatalf("runtime container %+v, %v", st, err)
		}
		if task.PullStartedAt == nil || task.PullStoppedAt == nil {
			t.Errorf("pull times %v %v", task.PullStartedAt, task.PullStoppedAt)
		}

		stopTask(t, s, cluster, arn)
		task = waitTask(t, s, cluster, arn, "STOPPED", 10*time.Second)
		c = container(t, task, "web")
		if aws.ToInt32(c.ExitCode) != 143 || task.StopCode != types.TaskStopCodeUserInitiated || task.ExecutionStoppedAt == nil {
			t.Fatalf("stopped task: exit %v stopCode %s executionStoppedAt %v", c.ExitCode, task.StopCode, task.ExecutionStoppedAt)
		}
	})

	t.Run("EssentialExit", func(t *testing.T) {
		t.Parallel()
		arn := runTask(t, s, cluster,
			types.ContainerDefinition{Name: aws.String("main"), Image: aws.String("berth/job:1"), Memory: aws.Int32(32),
				Environment: env("BERTH_SIM_RUN_SECONDS=0.3", "BERTH_SIM_EXIT_CODE=3")},
			types.ContainerDefinition{Name: aws.String("sidecar"), Image: aws.String("berth/side:1"), Memory: aws.Int32(32),
				Essential: aws.Bool(false)},
		)
		task := waitTask(t, s, cluster, arn, "STOPPED", 10*time.Second)
		if code := container(t, task, "main").ExitCode; aws.ToInt32(code) != 3 {
			t.Fatalf("main exit code %v", code)
		}
		if code := container(t, task, "sidecar").ExitCode; aws.ToInt32(code) != 143 {
			t.Fatalf("sidecar exit code %v (it should have been stopped)", code)
		}
		if task.StopCode != types.TaskStopCodeEssentialContainerExited {
			t.Fatalf("stopCode %s reason %q", task.StopCode, aws.ToString(task.StoppedReason))
		}
	})

	t.Run("MissingImage", func(t *testing.T) {
		t.Parallel()
		arn := runTask(t, s, cluster, types.ContainerDefinition{
			Name: aws.String("app"), Image: aws.String("example.com/berth-sim-missing:1"), Memory: aws.Int32(32)})
		task := waitTask(t, s, cluster, arn, "STOPPED", 10*time.Second)
		if task.StopCode != types.TaskStopCodeTaskFailedToStart || !strings.HasPrefix(aws.ToString(task.StoppedReason), "CannotPullContainerError: ") {
			t.Fatalf("stopCode %s reason %q", task.StopCode, aws.ToString(task.StoppedReason))
		}
		c := container(t, task, "app")
		if c.ExitCode != nil || !strings.Contains(aws.ToString(c.Reason), "CannotPullContainerError") {
			t.Fatalf("container %+v", c)
		}
	})

	t.Run("DependsOn", func(t *testing.T) {
		t.Parallel()
		// app waits for db to be HEALTHY and for init to exit 0; db and init
		// start at once.
		arn := runTask(t, s, cluster,
			types.ContainerDefinition{Name: aws.String("db"), Image: aws.String("berth/db:1"), Memory: aws.Int32(32),
				Environment: env("BERTH_SIM_HEALTHY_AFTER=0.6"),
				HealthCheck: &types.HealthCheck{Command: []string{"CMD-SHELL", "true"}, Interval: aws.Int32(5)}},
			types.ContainerDefinition{Name: aws.String("init"), Image: aws.String("berth/init:1"), Memory: aws.Int32(32),
				Essential: aws.Bool(false), Environment: env("BERTH_SIM_RUN_SECONDS=0.2")},
			types.ContainerDefinition{Name: aws.String("app"), Image: aws.String("berth/app:1"), Memory: aws.Int32(32),
				DependsOn: []types.ContainerDependency{
					{ContainerName: aws.String("db"), Condition: types.ContainerConditionHealthy},
					{ContainerName: aws.String("init"), Condition: types.ContainerConditionSuccess},
				}},
		)
		task := waitTask(t, s, cluster, arn, "RUNNING", 10*time.Second)
		if c := container(t, task, "init"); aws.ToString(c.LastStatus) != "STOPPED" || aws.ToInt32(c.ExitCode) != 0 {
			t.Errorf("init container %+v", c)
		}
		cs := taskContainers(t, rt, arn)
		db, init, app := cs["db"][0], cs["init"][0], cs["app"][0]
		if !app.StartedAt.After(db.StartedAt.Add(600*time.Millisecond)) || !app.StartedAt.After(init.FinishedAt) {
			t.Fatalf("app started at %v; db started at %v (healthy 0.6 s later), init finished at %v", app.StartedAt, db.StartedAt, init.FinishedAt)
		}
		if db.Health != runtime.HealthHealthy {
			t.Fatalf("db health %s", db.Health)
		}
		// The health published on the telemetry session rolls up to the
		// task (db is its only essential container with a health check).
		testkit.Eventually(t, 10*time.Second, "", func() error {
			task := waitTask(t, s, cluster, arn, "RUNNING", time.Second)
			if h := container(t, task, "db").HealthStatus; task.HealthStatus != types.HealthStatusHealthy || h != types.HealthStatusHealthy {
				return errorf("task health %s, db health %s", task.HealthStatus, h)
			}
			return nil
		})
		// Stopping goes in reverse order: app before db.
		stopTask(t, s, cluster, arn)
		waitTask(t, s, cluster, arn, "STOPPED", 10*time.Second)
		cs = taskContainers(t, rt, arn)
		if db, app := cs["db"][0], cs["app"][0]; app.FinishedAt.After(db.FinishedAt) {
			t.Fatalf("app stopped at %v, after db at %v", app.FinishedAt, db.FinishedAt)
		}
	})
}

// TestAgent_SimRestart restarts the agent (and the simulated runtime, from
// its state file) on the same data directory: the instance keeps its ARN,
// a running task keeps running in the same container, and a task whose
// container exited while the agent was away is reported STOPPED.
func TestAgent_SimRestart(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	cluster := createCluster(t, s, "restart")
	dir := t.TempDir()
	rt := newSim(t, dir)
	a := startAgent(t, s, agentConfig(t, s.ecs, rt, cluster, dir))
	arn1 := a.ContainerInstanceARN()

	long := runTask(t, s, cluster, types.ContainerDefinition{Name: aws.String("web"), Image: aws.String("berth/web:1"), Memory: aws.Int32(32),
		PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(8080)}}})
	short := runTask(t, s, cluster, types.ContainerDefinition{Name: aws.String("job"), Image: aws.String("berth/job:1"), Memory: aws.Int32(32),
		Environment: env("BERTH_SIM_RUN_SECONDS=1", "BERTH_SIM_EXIT_CODE=7")})
	before := container(t, waitTask(t, s, cluster, long, "RUNNING", 10*time.Second), "web")
	jobID := aws.ToString(container(t, waitTask(t, s, cluster, short, "RUNNING", 10*time.Second), "job").RuntimeId)
	started := taskContainers(t, rt, long)["web"][0].StartedAt

	a.stop(t)
	rt.Close()
	// The job exits while no agent watches.
	rt = newSim(t, dir)
	testkit.Eventually(t, 10*time.Second, "", func() error {
		st, err := rt.Inspect(t.Context(), jobID)
		if err == nil && st.State != runtime.StateExited {
			return errorf("job is %s", st.State)
		}
		return err
	})

	a = startAgent(t, s, agentConfig(t, s.ecs, rt, cluster, dir))
	if got := a.ContainerInstanceARN(); got != arn1 {
		t.Fatalf("ARN after restart %s, want %s", got, arn1)
	}
	task := waitTask(t, s, cluster, short, "STOPPED", 10*time.Second)
	if c := container(t, task, "job"); aws.ToInt32(c.ExitCode) != 7 || task.StopCode != types.TaskStopCodeEssentialContainerExited {
		t.Fatalf("job: exit %v stopCode %s", c.ExitCode, task.StopCode)
	}
	task = waitTask(t, s, cluster, long, "RUNNING", 10*time.Second)
	if got := container(t, task, "web"); aws.ToString(got.RuntimeId) != aws.ToString(before.RuntimeId) {
		t.Fatalf("runtime id after restart %s, want %s", aws.ToString(got.RuntimeId), aws.ToString(before.RuntimeId))
	}
	cs := taskContainers(t, rt, long)["web"]
	if len(cs) != 1 || cs[0].State != runtime.StateRunning || !cs[0].StartedAt.Equal(started) {
		t.Fatalf("web containers after restart: %+v (started at %v before)", cs, started)
	}
	l, err := s.ecs.ListContainerInstances(t.Context(), &ecs.ListContainerInstancesInput{Cluster: aws.String(cluster)})
	if err != nil || len(l.ContainerInstanceArns) != 1 {
		t.Fatalf("instances after restart: %v, %v", l, err)
	}

	// The re-attached task still stops normally.
	stopTask(t, s, cluster, long)
	task = waitTask(t, s, cluster, long, "STOPPED", 10*time.Second)
	if c := container(t, task, "web"); aws.ToInt32(c.ExitCode) != 143 {
		t.Fatalf("web exit code %v", c.ExitCode)
	}
}

// TestAgent_SimManifest covers reconciliation: the instance is deregistered
// (with force) while its agent is away, so the restarted agent registers
// as a new instance whose task manifest lacks the task it still runs; the
// agent asks the server (stop verification) and stops the task as told.
func TestAgent_SimManifest(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	cluster := createCluster(t, s, "manifest")
	dir := t.TempDir()
	rt := newSim(t, dir)
	a := startAgent(t, s, agentConfig(t, s.ecs, rt, cluster, dir))
	old := a.ContainerInstanceARN()
	arn := runTask(t, s, cluster, types.ContainerDefinition{Name: aws.String("web"), Image: aws.String("berth/web:1"), Memory: aws.Int32(32)})
	id := aws.ToString(container(t, waitTask(t, s, cluster, arn, "RUNNING", 10*time.Second), "web").RuntimeId)
	a.stop(t)

	if _, err := s.ecs.DeregisterContainerInstance(t.Context(), &ecs.DeregisterContainerInstanceInput{
		Cluster: aws.String(cluster), ContainerInstance: aws.String(old), Force: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	a = startAgent(t, s, agentConfig(t, s.ecs, rt, cluster, dir))
	if a.ContainerInstanceARN() == old {
		t.Fatalf("re-registered as the deregistered instance %s", old)
	}
	task := waitTask(t, s, cluster, arn, "STOPPED", 10*time.Second)
	if c := container(t, task, "web"); aws.ToInt32(c.ExitCode) != 143 {
		t.Fatalf("exit code %v", c.ExitCode)
	}
	if st, err := rt.Inspect(t.Context(), id); err != nil || st.State != runtime.StateExited {
		t.Fatalf("container %+v, %v", st, err)
	}
}

// TestAgent_SimReconnect restarts the server under a connected agent: the
// agent reconnects (with backoff) and the new server's StopTask reaches it.
func TestAgent_SimReconnect(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	m, err := server.Start(context.Background(), server.Config{Listen: "127.0.0.1:0", DataDir: dataDir})
	if err != nil {
		t.Fatal(err)
	}
	first := m
	t.Cleanup(func() { first.Close() }) // idempotent
	s := &testServer{srv: m, ecs: newClient(m.URL())}
	cluster := createCluster(t, s, "reconnect")
	dir := t.TempDir()
	rt := newSim(t, dir)
	a := startAgent(t, s, agentConfig(t, s.ecs, rt, cluster, dir))
	arn := runTask(t, s, cluster, types.ContainerDefinition{Name: aws.String("web"), Image: aws.String("berth/web:1"), Memory: aws.Int32(32)})
	waitTask(t, s, cluster, arn, "RUNNING", 10*time.Second)

	addr := m.Addr()
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	m, err = server.Start(context.Background(), server.Config{Listen: addr, DataDir: dataDir})
	if err != nil {
		t.Fatalf("restart the server on %s: %v", addr, err)
	}
	t.Cleanup(func() { m.Close() })
	testkit.Eventually(t, 10*time.Second, "", func() error {
		d, err := s.ecs.DescribeContainerInstances(t.Context(), &ecs.DescribeContainerInstancesInput{
			Cluster: aws.String(cluster), ContainerInstances: []string{a.ContainerInstanceARN()}})
		if err != nil {
			return err
		}
		if !d.ContainerInstances[0].AgentConnected {
			return errorf("agent not connected again")
		}
		return nil
	})
	stopTask(t, s, cluster, arn)
	task := waitTask(t, s, cluster, arn, "STOPPED", 10*time.Second)
	if c := container(t, task, "web"); aws.ToInt32(c.ExitCode) != 143 {
		t.Fatalf("exit code %v", c.ExitCode)
	}
}
