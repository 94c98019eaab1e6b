package docker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/runtime"
	"github.com/berth-dev/berth/internal/testkit"
)

// The tests in this file run real containers of the probe image (see
// testdata/probe) on the local Docker daemon. Without one they skip, unless
// BERTH_REQUIRE_DOCKER=1 (CI) makes them fail.

func TestRuntime_Wait(t *testing.T) {
	t.Parallel()
	e := newDockerEnv(t)
	for _, code := range []int{0, 3} {
		t.Run(fmt.Sprintf("Exit%d", code), func(t *testing.T) {
			t.Parallel()
			id := e.run(t, e.spec(t, "-exit", strconv.Itoa(code)))
			res := e.wait(t, id)
			if res.ExitCode != code || res.OOMKilled {
				t.Fatalf("Wait = %+v, want exit code %d", res, code)
			}
			st, err := e.rt.Inspect(t.Context(), id)
			if err != nil {
				t.Fatal(err)
			}
			if st.State != runtime.StateExited || st.ExitCode == nil || *st.ExitCode != code {
				t.Fatalf("Inspect state %s exit code %v, want exited with %d", st.State, st.ExitCode, code)
			}
			if st.StartedAt.IsZero() || st.FinishedAt.Before(st.StartedAt) {
				t.Fatalf("StartedAt %v FinishedAt %v", st.StartedAt, st.FinishedAt)
			}
		})
	}
	t.Run("AlreadyExited", func(t *testing.T) {
		t.Parallel()
		id := e.run(t, e.spec(t, "-exit", "5"))
		e.wait(t, id)
		if res := e.wait(t, id); res.ExitCode != 5 {
			t.Fatalf("second Wait = %+v, want exit code 5", res)
		}
	})
	t.Run("BeforeStart", func(t *testing.T) {
		t.Parallel()
		id := e.create(t, e.spec(t, "-sleep", "100ms", "-exit", "4"))
		done := make(chan runtime.ExitResult, 1)
		go func() {
			res, err := e.rt.Wait(t.Context(), id)
			if err != nil {
				t.Errorf("Wait: %v", err)
			}
			done <- res
		}()
		time.Sleep(200 * time.Millisecond) // Wait has (most likely) registered
		select {
		case res := <-done:
			t.Fatalf("Wait returned %+v before Start", res)
		default:
		}
		if err := e.rt.Start(t.Context(), id); err != nil {
			t.Fatal(err)
		}
		if res := <-done; res.ExitCode != 4 {
			t.Fatalf("Wait = %+v, want exit code 4", res)
		}
	})
	t.Run("ContextEnds", func(t *testing.T) {
		t.Parallel()
		id := e.run(t, e.spec(t, "-forever"))
		ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
		defer cancel()
		if _, err := e.rt.Wait(ctx, id); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Wait = %v, want context.DeadlineExceeded", err)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		t.Parallel()
		if _, err := e.rt.Wait(t.Context(), "berth-test-no-such-container"); !errors.Is(err, runtime.ErrNotFound) {
			t.Fatalf("Wait = %v, want ErrNotFound", err)
		}
	})
}

func TestRuntime_Stop(t *testing.T) {
	t.Parallel()
	e := newDockerEnv(t)
	t.Run("SIGTERM", func(t *testing.T) {
		t.Parallel()
		spec := e.spec(t, "-print", "ready", "-forever")
		id := e.run(t, spec)
		e.waitLogs(t, id, "ready") // the SIGTERM handler is installed
		start := time.Now()
		if err := e.rt.Stop(t.Context(), id, 10*time.Second); err != nil {
			t.Fatalf("Stop: %v", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("Stop took %v: the SIGTERM was not handled", d)
		}
		if res := e.wait(t, id); res.ExitCode != 143 {
			t.Fatalf("Wait = %+v, want exit code 143", res)
		}
		logs, err := e.rt.Logs(t.Context(), id, 0)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(logs), "got SIGTERM") {
			t.Fatalf("logs %q lack \"got SIGTERM\"", logs)
		}
	})
	t.Run("SIGKILLAfterGrace", func(t *testing.T) {
		t.Parallel()
		id := e.run(t, e.spec(t, "-print", "ready", "-forever", "-ignore-term"))
		e.waitLogs(t, id, "ready")
		start := time.Now()
		if err := e.rt.Stop(t.Context(), id, time.Second); err != nil {
			t.Fatalf("Stop: %v", err)
		}
		if d := time.Since(start); d < time.Second {
			t.Errorf("Stop took %v, less than the grace", d)
		}
		if res := e.wait(t, id); res.ExitCode != 137 {
			t.Fatalf("Wait = %+v, want exit code 137 (SIGKILL)", res)
		}
		e.waitLogs(t, id, "got SIGTERM")
	})
	t.Run("ZeroGraceKills", func(t *testing.T) {
		t.Parallel()
		id := e.run(t, e.spec(t, "-print", "ready", "-forever", "-ignore-term"))
		e.waitLogs(t, id, "ready")
		start := time.Now()
		if err := e.rt.Stop(t.Context(), id, 0); err != nil {
			t.Fatalf("Stop: %v", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("Stop with no grace took %v", d)
		}
		if res := e.wait(t, id); res.ExitCode != 137 {
			t.Fatalf("Wait = %+v, want exit code 137 (SIGKILL)", res)
		}
	})
	t.Run("NeverStarted", func(t *testing.T) {
		t.Parallel()
		id := e.create(t, e.spec(t))
		if err := e.rt.Stop(t.Context(), id, time.Second); err != nil {
			t.Fatalf("Stop of a created container: %v", err)
		}
	})
	t.Run("Exited", func(t *testing.T) {
		t.Parallel()
		id := e.run(t, e.spec(t))
		e.wait(t, id)
		if err := e.rt.Stop(t.Context(), id, time.Second); err != nil {
			t.Fatalf("Stop of an exited container: %v", err)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		t.Parallel()
		if err := e.rt.Stop(t.Context(), "berth-test-no-such-container", time.Second); !errors.Is(err, runtime.ErrNotFound) {
			t.Fatalf("Stop = %v, want ErrNotFound", err)
		}
	})
}

func TestRuntime_Ports(t *testing.T) {
	t.Parallel()
	e := newDockerEnv(t)
	t.Run("Dynamic", func(t *testing.T) {
		t.Parallel()
		spec := e.spec(t, "-listen", ":8080", "-forever")
		spec.Ports = []runtime.PortBinding{{ContainerPort: 8080, Protocol: "tcp"}}
		id := e.run(t, spec)
		st, err := e.rt.Inspect(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Ports) == 0 {
			t.Fatalf("Inspect reports no ports")
		}
		for _, p := range st.Ports {
			if p.ContainerPort != 8080 || p.Protocol != "tcp" || p.HostPort == 0 {
				t.Fatalf("Inspect ports %+v", st.Ports)
			}
		}
		if st.IPAddress == "" {
			t.Errorf("Inspect reports no IP address")
		}
		get(t, st.Ports[0].HostPort)
	})
	t.Run("Fixed", func(t *testing.T) {
		t.Parallel()
		port := freePort(t)
		spec := e.spec(t, "-listen", ":80", "-forever")
		spec.Ports = []runtime.PortBinding{{ContainerPort: 80, HostPort: port, HostIP: "127.0.0.1"}}
		id := e.run(t, spec)
		st, err := e.rt.Inspect(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		want := []runtime.PortBinding{{ContainerPort: 80, HostPort: port, Protocol: "tcp", HostIP: "127.0.0.1"}}
		if !slices.Equal(st.Ports, want) {
			t.Fatalf("Inspect ports %+v, want %+v", st.Ports, want)
		}
		get(t, port)
	})
	t.Run("PortTaken", func(t *testing.T) {
		t.Parallel()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		spec := e.spec(t, "-forever")
		spec.Ports = []runtime.PortBinding{{ContainerPort: 80, HostPort: ln.Addr().(*net.TCPAddr).Port, HostIP: "127.0.0.1"}}
		id := e.create(t, spec)
		if err := e.rt.Start(t.Context(), id); !errors.Is(err, runtime.ErrStart) {
			t.Fatalf("Start with a taken host port = %v, want ErrStart", err)
		}
	})
}

// get GETs http://127.0.0.1:port/ until the probe answers.
func get(t *testing.T, port int) {
	t.Helper()
	c := &http.Client{Timeout: 2 * time.Second}
	url := "http://127.0.0.1:" + strconv.Itoa(port) + "/hello"
	testkit.Eventually(t, 15*time.Second, "", func() error {
		resp, err := c.Get(url)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		if !strings.HasPrefix(string(body), "probe ") || !strings.Contains(string(body), "/hello") {
			return fmt.Errorf("GET %s = %q", url, body)
		}
		return nil
	})
}

// freePort returns a TCP port free on 127.0.0.1 a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func TestRuntime_HealthCheck(t *testing.T) {
	t.Parallel()
	e := newDockerEnv(t)
	for _, tc := range []struct {
		name string
		test []string
		want runtime.Health
	}{
		{"Healthy", []string{"CMD", "/probe", "health", "-url", "http://127.0.0.1:8080/"}, runtime.HealthHealthy},
		{"Unhealthy", []string{"CMD", "/probe", "health", "-fail"}, runtime.HealthUnhealthy},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			evs, err := e.rt.Events(ctx)
			if err != nil {
				t.Fatal(err)
			}
			spec := e.spec(t, "-listen", ":8080", "-forever")
			spec.HealthCheck = &runtime.HealthCheck{
				Test:     tc.test,
				Interval: 300 * time.Millisecond,
				Timeout:  2 * time.Second,
				Retries:  2,
			}
			id := e.run(t, spec)
			// Docker's "starting" is UNKNOWN; on a slow machine the first
			// check may already have decided.
			if st, err := e.rt.Inspect(t.Context(), id); err != nil || (st.Health != runtime.HealthUnknown && st.Health != tc.want) {
				t.Fatalf("Inspect at start: health %q, %v; want UNKNOWN (starting)", st.Health, err)
			}
			nextEvent(t, evs, id, runtime.EventStart)
			ev := nextEvent(t, evs, id, runtime.EventHealth)
			if ev.Health != tc.want || ev.Time.IsZero() {
				t.Fatalf("health event %+v, want %s", ev, tc.want)
			}
			st, err := e.rt.Inspect(t.Context(), id)
			if err != nil {
				t.Fatal(err)
			}
			if st.Health != tc.want {
				t.Fatalf("Inspect health %s, want %s", st.Health, tc.want)
			}
			if err := e.rt.Remove(t.Context(), id); err != nil {
				t.Fatal(err)
			}
			nextEvent(t, evs, id, runtime.EventDie)
			nextEvent(t, evs, id, runtime.EventDestroy)
			cancel()
			for range evs { // Events closes the channel when ctx ends
			}
		})
	}
}

// nextEvent returns the next event of type typ for container id, skipping
// others, within 20 s.
func nextEvent(t *testing.T, evs <-chan runtime.Event, id string, typ runtime.EventType) runtime.Event {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case ev, ok := <-evs:
			if !ok {
				t.Fatalf("event channel closed waiting for %s", typ)
			}
			if ev.ID == id && ev.Type == typ {
				return ev
			}
		case <-timeout:
			t.Fatalf("no %s event for %s", typ, id)
		}
	}
}

func TestRuntime_NoGoroutineLeak(t *testing.T) {
	// Not parallel, so that the goroutine count is this test's alone.
	e := newDockerEnv(t)
	e.rt.Close() // its idle connections would count
	before := goruntime.NumGoroutine()

	rt, err := New()
	if err != nil {
		t.Fatal(err)
	}
	e = &dockerEnv{rt: rt, image: e.image}
	// Events, ended by its ctx.
	ctx, cancel := context.WithCancel(t.Context())
	evs, err := rt.Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case _, ok := <-evs:
		for ok {
			_, ok = <-evs
		}
	case <-time.After(10 * time.Second):
		t.Fatal("event channel still open 10 s after ctx ended")
	}
	// Wait on an exited container (it abandons its next-exit wait) and on
	// a running one until ctx ends.
	exited := e.run(t, e.spec(t))
	e.wait(t, exited)
	e.wait(t, exited)
	running := e.run(t, e.spec(t, "-forever"))
	ctx, cancel = context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if _, err := rt.Wait(ctx, running); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait = %v", err)
	}
	for _, id := range []string{exited, running} {
		if err := rt.Remove(t.Context(), id); err != nil {
			t.Fatal(err)
		}
	}
	rt.Close()

	deadline := time.Now().Add(5 * time.Second)
	for goruntime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if after := goruntime.NumGoroutine(); after > before {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines at the end, %d before\n%s", after, before, buf[:goruntime.Stack(buf, true)])
	}
}

func TestRuntime_Pull(t *testing.T) {
	t.Parallel()
	e := newDockerEnv(t)
	t.Run("Present", func(t *testing.T) {
		t.Parallel()
		for _, ref := range []string{e.image, probeRepo + ":latest"} {
			if err := e.rt.Pull(t.Context(), ref); err != nil {
				t.Fatalf("Pull(%s) of a local image: %v", ref, err)
			}
		}
	})
	for _, tc := range []struct{ name, ref string }{
		// A registry on a closed local port fails at once, with no network.
		{"ErrImagePull", "127.0.0.1:1/berth-test/missing:latest"},
		{"ErrImagePullBadName", "berth-test/UPPER:latest"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			err := e.rt.Pull(ctx, tc.ref)
			if !errors.Is(err, runtime.ErrImagePull) {
				t.Fatalf("Pull(%s) = %v, want ErrImagePull", tc.ref, err)
			}
			if msg := err.Error(); !strings.Contains(msg, tc.ref) || len(msg) <= len(runtime.ErrImagePull.Error())+len(tc.ref)+3 {
				t.Fatalf("error %q lacks the image or Docker's reason", msg)
			}
		})
	}
}

func TestRuntime_List(t *testing.T) {
	t.Parallel()
	e := newDockerEnv(t)
	spec := e.spec(t, "-forever")
	id := e.run(t, spec)
	arn := spec.Labels[runtime.LabelTaskARN]

	// A fresh Runtime value stands for the agent after a restart.
	rt2 := newTestRuntime(t)
	got, err := rt2.List(t.Context(), map[string]string{runtime.LabelTaskARN: arn})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("List by task ARN = %d containers, want 1: %+v", len(got), got)
	}
	c := got[0]
	if c.ID != id || c.Name != spec.Name || c.State != runtime.StateRunning || c.Image != e.image ||
		c.Labels[runtime.LabelTaskARN] != arn || c.Labels[runtime.LabelContainerName] != "probe" || c.StartedAt.IsZero() {
		t.Fatalf("List found %+v", c)
	}

	all, err := rt2.List(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(all, func(c runtime.ContainerState) bool { return c.ID == id }) {
		t.Fatalf("List(nil) lacks %s", id)
	}
	for _, c := range all {
		if c.Labels[runtime.LabelTaskARN] == "" {
			t.Fatalf("List(nil) returned a container without the task ARN label: %+v", c)
		}
	}

	none, err := rt2.List(t.Context(), map[string]string{runtime.LabelTaskARN: arn, runtime.LabelContainerName: "other"})
	if err != nil {
		t.Fatal(err)
	}
	if len(none) != 0 {
		t.Fatalf("List with a label no container has = %+v", none)
	}

	// An exited container is listed too.
	if err := rt2.Stop(t.Context(), id, 0); err != nil {
		t.Fatal(err)
	}
	got, err = rt2.List(t.Context(), map[string]string{runtime.LabelTaskARN: arn})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].State != runtime.StateExited || got[0].ExitCode == nil {
		t.Fatalf("List after Stop = %+v, want the exited container", got)
	}
}

func TestRuntime_Remove(t *testing.T) {
	t.Parallel()
	e := newDockerEnv(t)
	id := e.run(t, e.spec(t, "-forever"))
	if err := e.rt.Remove(t.Context(), id); err != nil {
		t.Fatalf("Remove of a running container: %v", err)
	}
	if _, err := e.rt.Inspect(t.Context(), id); !errors.Is(err, runtime.ErrNotFound) {
		t.Fatalf("Inspect after Remove = %v, want ErrNotFound", err)
	}
	if err := e.rt.Remove(t.Context(), id); !errors.Is(err, runtime.ErrNotFound) {
		t.Fatalf("second Remove = %v, want ErrNotFound", err)
	}
}

func TestRuntime_Logs(t *testing.T) {
	t.Parallel()
	e := newDockerEnv(t)
	id := e.run(t, e.spec(t, "-print", "to stdout", "-stderr", "to stderr", "-exit", "1"))
	e.wait(t, id)
	logs, err := e.rt.Logs(t.Context(), id, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Docker copies the two pipes separately: their relative order is
	// Docker's, not necessarily the program's.
	if got := string(logs); got != "to stdout\nto stderr\n" && got != "to stderr\nto stdout\n" {
		t.Fatalf("Logs = %q", logs)
	}
	tail, err := e.rt.Logs(t.Context(), id, 7)
	if err != nil {
		t.Fatal(err)
	}
	if want := logs[len(logs)-7:]; !bytes.Equal(tail, want) {
		t.Fatalf("Logs(max 7) = %q, want %q", tail, want)
	}
	if _, err := e.rt.Logs(t.Context(), "berth-test-no-such-container", 0); !errors.Is(err, runtime.ErrNotFound) {
		t.Fatalf("Logs = %v, want ErrNotFound", err)
	}
}

func TestRuntime_Create(t *testing.T) {
	t.Parallel()
	e := newDockerEnv(t)
	t.Run("Resources", func(t *testing.T) {
		t.Parallel()
		spec := e.spec(t)
		spec.CPUShares = 512
		spec.MemoryLimitMiB = 64
		spec.MemoryReservation = 32
		spec.Ulimits = []runtime.Ulimit{{Name: "nofile", Soft: 1024, Hard: 2048}}
		spec.Env = []string{"A=1"}
		spec.WorkingDir = "/"
		spec.User = "1000:1000"
		spec.Hostname = "probe-host"
		spec.ExtraHosts = []string{"db.internal:10.1.2.3"}
		spec.ReadOnly = true
		spec.Init = true
		spec.StopTimeout = 1500 * time.Millisecond
		id := e.create(t, spec)
		c, err := e.rt.cli.ContainerInspect(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		hc := c.HostConfig
		if hc.CPUShares != 512 || hc.Memory != 64<<20 || hc.MemoryReservation != 32<<20 {
			t.Fatalf("cpu shares %d, memory %d, reservation %d", hc.CPUShares, hc.Memory, hc.MemoryReservation)
		}
		if len(hc.Ulimits) != 1 || hc.Ulimits[0].Name != "nofile" || hc.Ulimits[0].Soft != 1024 || hc.Ulimits[0].Hard != 2048 {
			t.Fatalf("ulimits %+v", hc.Ulimits)
		}
		if !hc.ReadonlyRootfs || hc.Init == nil || !*hc.Init || !slices.Equal(hc.ExtraHosts, spec.ExtraHosts) {
			t.Fatalf("host config %+v", hc)
		}
		if cfg := c.Config; cfg.User != "1000:1000" || cfg.Hostname != "probe-host" || !slices.Contains(cfg.Env, "A=1") ||
			cfg.StopTimeout == nil || *cfg.StopTimeout != 2 {
			t.Fatalf("config %+v", cfg)
		}
		st, err := e.rt.Inspect(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if st.State != runtime.StateCreated || st.ExitCode != nil || !st.StartedAt.IsZero() {
			t.Fatalf("Inspect of a created container = %+v", st)
		}
	})
	t.Run("DefaultCPUShares", func(t *testing.T) {
		t.Parallel()
		id := e.create(t, e.spec(t))
		c, err := e.rt.cli.ContainerInspect(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if c.HostConfig.CPUShares != 2 || c.HostConfig.Memory != 0 {
			t.Fatalf("cpu shares %d, memory %d; want 2 and none", c.HostConfig.CPUShares, c.HostConfig.Memory)
		}
	})
	t.Run("ErrCreate", func(t *testing.T) {
		t.Parallel()
		dup := e.spec(t)
		e.create(t, dup)
		badPort := e.spec(t)
		badPort.Ports = []runtime.PortBinding{{ContainerPort: 80, Protocol: "sctp!"}}
		for name, spec := range map[string]runtime.ContainerSpec{"DuplicateName": dup, "BadPort": badPort} {
			id, err := e.rt.Create(t.Context(), spec)
			if err == nil {
				e.rt.Remove(t.Context(), id)
			}
			if !errors.Is(err, runtime.ErrCreate) {
				t.Errorf("%s: Create = %v, want ErrCreate", name, err)
			}
		}
	})
	t.Run("ErrImagePull", func(t *testing.T) {
		t.Parallel()
		spec := e.spec(t)
		spec.Image = "berth-test/no-such-image:latest"
		id, err := e.rt.Create(t.Context(), spec)
		if err == nil {
			e.rt.Remove(t.Context(), id)
		}
		if !errors.Is(err, runtime.ErrImagePull) || errors.Is(err, runtime.ErrCreate) {
			t.Fatalf("Create with a missing image = %v, want ErrImagePull", err)
		}
	})
	t.Run("ErrStart", func(t *testing.T) {
		t.Parallel()
		noProgram := e.spec(t)
		noProgram.Entrypoint = []string{"/no-such-program"}
		// Docker checks the network at start, and answers 404 for it.
		noNetwork := e.spec(t)
		noNetwork.NetworkMode = "berth-test-no-such-network"
		for name, spec := range map[string]runtime.ContainerSpec{"NoProgram": noProgram, "NoNetwork": noNetwork} {
			id := e.create(t, spec)
			err := e.rt.Start(t.Context(), id)
			if !errors.Is(err, runtime.ErrStart) || errors.Is(err, runtime.ErrNotFound) {
				t.Errorf("%s: Start = %v, want ErrStart", name, err)
			}
		}
		if err := e.rt.Start(t.Context(), "berth-test-no-such-container"); !errors.Is(err, runtime.ErrNotFound) {
			t.Fatalf("Start = %v, want ErrNotFound", err)
		}
	})
}

func TestRuntime_Mounts(t *testing.T) {
	t.Parallel()
	e := newDockerEnv(t)
	dir := t.TempDir()
	t.Run("Bind", func(t *testing.T) {
		t.Parallel()
		spec := e.spec(t, "-write", "/data/out=hello")
		spec.Mounts = []runtime.Mount{{Source: dir, Target: "/data"}}
		if res := e.wait(t, e.run(t, spec)); res.ExitCode != 0 {
			t.Fatalf("Wait = %+v", res)
		}
		b, err := os.ReadFile(filepath.Join(dir, "out"))
		if err != nil || string(b) != "hello" {
			t.Fatalf("host file: %q, %v", b, err)
		}
	})
	t.Run("BindReadOnly", func(t *testing.T) {
		t.Parallel()
		spec := e.spec(t, "-write", "/data/ro=hello")
		spec.Mounts = []runtime.Mount{{Source: dir, Target: "/data", ReadOnly: true}}
		if res := e.wait(t, e.run(t, spec)); res.ExitCode != 1 {
			t.Fatalf("Wait = %+v, want exit code 1 (write refused)", res)
		}
	})
	t.Run("AnonymousVolume", func(t *testing.T) {
		t.Parallel()
		spec := e.spec(t, "-write", "/scratch/out")
		spec.ReadOnly = true // only the volume is writable
		spec.Mounts = []runtime.Mount{{Target: "/scratch", Volume: true}}
		if res := e.wait(t, e.run(t, spec)); res.ExitCode != 0 {
			t.Fatalf("Wait = %+v", res)
		}
	})
}

func TestRuntime_OOMKilled(t *testing.T) {
	t.Parallel()
	e := newDockerEnv(t)
	spec := e.spec(t, "-alloc-mib", "512")
	spec.MemoryLimitMiB = 16
	res := e.wait(t, e.run(t, spec))
	if res.ExitCode == 0 {
		t.Skip("the container was not killed: swap without a swap limit absorbed it")
	}
	if !res.OOMKilled || res.ExitCode != 137 {
		t.Fatalf("Wait = %+v, want OOMKilled and exit code 137", res)
	}
}

// TestRuntime_HostGateway checks that a container reaches a server on the
// host through ExtraHosts' host-gateway, and that the probe's -get-env
// works: the task metadata endpoint will be served that way.
func TestRuntime_HostGateway(t *testing.T) {
	t.Parallel()
	e := newDockerEnv(t)
	ln, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "metadata for %s", r.URL.Path)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	url := fmt.Sprintf("http://berth-host:%d/v4/abc", ln.Addr().(*net.TCPAddr).Port)
	spec := e.spec(t, "-get-env", "ECS_CONTAINER_METADATA_URI_V4")
	spec.Env = []string{"ECS_CONTAINER_METADATA_URI_V4=" + url}
	spec.ExtraHosts = []string{"berth-host:host-gateway"}
	id := e.run(t, spec)
	res := e.wait(t, id)
	logs, _ := e.rt.Logs(t.Context(), id, 0)
	if res.ExitCode != 0 || !strings.Contains(string(logs), "metadata for /v4/abc") {
		t.Fatalf("Wait = %+v, logs %q", res, logs)
	}
}
