package docker

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/go-connections/nat"

	"github.com/berth-dev/berth/internal/runtime"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// fullSpec uses every field of runtime.ContainerSpec.
func fullSpec() runtime.ContainerSpec {
	return runtime.ContainerSpec{
		Name:       "ecs-web-3-app-e4b2c8a1d0f7",
		Image:      "nginx:1.27",
		Entrypoint: []string{"/docker-entrypoint.sh"},
		Command:    []string{"nginx", "-g", "daemon off;"},
		Env:        []string{"A=1", "B=two words"},
		WorkingDir: "/srv",
		User:       "101:101",
		Labels: map[string]string{
			runtime.LabelTaskARN:       "arn:aws:ecs:us-east-1:111111111111:task/demo/0123456789abcdef",
			runtime.LabelContainerName: "app",
			runtime.LabelCluster:       "demo",
			runtime.LabelTaskFamily:    "web",
			runtime.LabelTaskRevision:  "3",
			"team":                     "payments",
		},
		CPUShares:         256,
		MemoryLimitMiB:    512,
		MemoryReservation: 128,
		Ulimits:           []runtime.Ulimit{{Name: "nofile", Soft: 1024, Hard: 4096}},
		NetworkMode:       "bridge",
		Ports: []runtime.PortBinding{
			{ContainerPort: 80},
			{ContainerPort: 80, HostPort: 8080, HostIP: "127.0.0.1"},
			{ContainerPort: 53, HostPort: 5353, Protocol: "UDP"},
		},
		Hostname:   "web",
		ExtraHosts: []string{"db:10.0.0.5"},
		Mounts: []runtime.Mount{
			{Source: "/var/lib/web", Target: "/data"},
			{Source: "/etc/web", Target: "/etc/web", ReadOnly: true},
			{Source: "webcache", Target: "/cache", Volume: true},
			{Target: "/tmp/scratch", Volume: true},
		},
		HealthCheck: &runtime.HealthCheck{
			Test:        []string{"CMD-SHELL", "curl -f http://localhost/ || exit 1"},
			Interval:    30 * time.Second,
			Timeout:     5 * time.Second,
			Retries:     3,
			StartPeriod: 10 * time.Second,
		},
		StopTimeout: 2500 * time.Millisecond,
		Privileged:  true,
		ReadOnly:    true,
		Init:        true,
	}
}

func TestToCreateRequest(t *testing.T) {
	t.Run("Golden", func(t *testing.T) {
		for name, spec := range map[string]runtime.ContainerSpec{
			"create_full":    fullSpec(),
			"create_minimal": {Image: "busybox"},
		} {
			req, err := toCreateRequest(spec)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			// The JSON Docker's client sends (the create endpoint takes the
			// Config with the HostConfig inside).
			body := struct {
				*container.Config
				HostConfig *container.HostConfig
			}{req.Config, req.HostConfig}
			got, err := json.MarshalIndent(body, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("testdata", name+".golden.json"), append(got, '\n'))
		}
	})

	for _, tc := range []struct {
		name  string
		edit  func(*runtime.ContainerSpec)
		check func(*testing.T, createRequest)
	}{
		{"CPUSharesDefault", func(s *runtime.ContainerSpec) { s.CPUShares = 0 }, func(t *testing.T, r createRequest) {
			if r.HostConfig.CPUShares != 2 {
				t.Fatalf("CPUShares %d, want 2", r.HostConfig.CPUShares)
			}
		}},
		{"CPUSharesClamped", func(s *runtime.ContainerSpec) { s.CPUShares = 1 << 20 }, func(t *testing.T, r createRequest) {
			if r.HostConfig.CPUShares != 262144 {
				t.Fatalf("CPUShares %d, want 262144", r.HostConfig.CPUShares)
			}
		}},
		{"MemoryFloor", func(s *runtime.ContainerSpec) { s.MemoryLimitMiB, s.MemoryReservation = 4, 1 }, func(t *testing.T, r createRequest) {
			if r.HostConfig.Memory != 6<<20 || r.HostConfig.MemoryReservation != 6<<20 {
				t.Fatalf("Memory %d, reservation %d; want 6 MiB each", r.HostConfig.Memory, r.HostConfig.MemoryReservation)
			}
		}},
		{"NoMemory", func(s *runtime.ContainerSpec) { s.MemoryLimitMiB, s.MemoryReservation = 0, 0 }, func(t *testing.T, r createRequest) {
			if r.HostConfig.Memory != 0 || r.HostConfig.MemoryReservation != 0 {
				t.Fatalf("Memory %d, reservation %d; want none", r.HostConfig.Memory, r.HostConfig.MemoryReservation)
			}
		}},
		{"HostNetwork", func(s *runtime.ContainerSpec) { s.NetworkMode = "host" }, func(t *testing.T, r createRequest) {
			if len(r.HostConfig.PortBindings) != 0 || len(r.Config.ExposedPorts) != 2 {
				t.Fatalf("bindings %v, exposed %v; want none and 2", r.HostConfig.PortBindings, r.Config.ExposedPorts)
			}
		}},
		{"ContainerNetwork", func(s *runtime.ContainerSpec) { s.NetworkMode = "container:0123abcd" }, func(t *testing.T, r createRequest) {
			if r.HostConfig.NetworkMode != "container:0123abcd" || r.HostConfig.PortBindings != nil || r.Config.ExposedPorts != nil {
				t.Fatalf("mode %s, bindings %v, exposed %v", r.HostConfig.NetworkMode, r.HostConfig.PortBindings, r.Config.ExposedPorts)
			}
		}},
		{"FixedAddress", func(s *runtime.ContainerSpec) { s.NetworkMode, s.IPv4Address = "berth-fargate", "10.213.0.9" }, func(t *testing.T, r createRequest) {
			ep := r.Network.EndpointsConfig["berth-fargate"]
			if r.HostConfig.NetworkMode != "berth-fargate" || len(r.Network.EndpointsConfig) != 1 || ep.IPAMConfig.IPv4Address != "10.213.0.9" {
				t.Fatalf("mode %s, endpoints %+v", r.HostConfig.NetworkMode, r.Network.EndpointsConfig)
			}
		}},
		{"NoFixedAddress", func(s *runtime.ContainerSpec) {}, func(t *testing.T, r createRequest) {
			if r.Network != nil {
				t.Fatalf("networking config %+v, want none", r.Network)
			}
		}},
		{"DefaultNetwork", func(s *runtime.ContainerSpec) { s.NetworkMode = "" }, func(t *testing.T, r createRequest) {
			if r.HostConfig.NetworkMode != "bridge" {
				t.Fatalf("mode %q, want bridge", r.HostConfig.NetworkMode)
			}
		}},
		{"NoHealthCheckTest", func(s *runtime.ContainerSpec) { s.HealthCheck.Test = nil }, func(t *testing.T, r createRequest) {
			if r.Config.Healthcheck != nil {
				t.Fatalf("Healthcheck %+v, want the image's (nil)", r.Config.Healthcheck)
			}
		}},
		{"NoStopTimeout", func(s *runtime.ContainerSpec) { s.StopTimeout = 0 }, func(t *testing.T, r createRequest) {
			if r.Config.StopTimeout != nil {
				t.Fatalf("StopTimeout %d, want nil", *r.Config.StopTimeout)
			}
		}},
		{"NoInit", func(s *runtime.ContainerSpec) { s.Init = false }, func(t *testing.T, r createRequest) {
			if r.HostConfig.Init != nil {
				t.Fatalf("Init %v, want nil (the daemon's default)", *r.HostConfig.Init)
			}
		}},
		{"ColonInPath", func(s *runtime.ContainerSpec) {
			s.Mounts = []runtime.Mount{{Source: "/srv/a:b", Target: "/data"}}
		}, func(t *testing.T, r createRequest) {
			if len(r.HostConfig.Binds) != 0 || len(r.HostConfig.Mounts) != 1 || r.HostConfig.Mounts[0].Source != "/srv/a:b" {
				t.Fatalf("binds %v, mounts %+v", r.HostConfig.Binds, r.HostConfig.Mounts)
			}
		}},
		{"SpecNotAliased", func(s *runtime.ContainerSpec) {}, func(t *testing.T, r createRequest) {
			r.Config.Env[0] = "CHANGED=1"
			r.Config.Labels["team"] = "changed"
			if s := fullSpec(); s.Env[0] != "A=1" || s.Labels["team"] != "payments" {
				t.Fatal("the request shares memory with the spec")
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := fullSpec()
			tc.edit(&spec)
			req, err := toCreateRequest(spec)
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, req)
		})
	}

	for _, tc := range []struct {
		name string
		edit func(*runtime.ContainerSpec)
	}{
		{"ErrNoImage", func(s *runtime.ContainerSpec) { s.Image = "" }},
		{"ErrProtocol", func(s *runtime.ContainerSpec) { s.Ports[0].Protocol = "sctp" }},
		{"ErrContainerPort", func(s *runtime.ContainerSpec) { s.Ports[0].ContainerPort = 0 }},
		{"ErrHostPort", func(s *runtime.ContainerSpec) { s.Ports[0].HostPort = 70000 }},
		{"ErrNegativeMemory", func(s *runtime.ContainerSpec) { s.MemoryLimitMiB = -1 }},
		{"ErrUlimitName", func(s *runtime.ContainerSpec) { s.Ulimits[0].Name = "" }},
		{"ErrRelativeTarget", func(s *runtime.ContainerSpec) { s.Mounts[0].Target = "data" }},
		{"ErrRelativeBindSource", func(s *runtime.ContainerSpec) { s.Mounts[0].Source = "data" }},
		{"ErrEmptyBindSource", func(s *runtime.ContainerSpec) { s.Mounts[0].Source = "" }},
		{"ErrVolumeName", func(s *runtime.ContainerSpec) { s.Mounts[2].Source = "a/b" }},
		{"ErrFixedAddressOnBridge", func(s *runtime.ContainerSpec) { s.IPv4Address = "172.17.0.9" }},
		{"ErrFixedAddressJoined", func(s *runtime.ContainerSpec) { s.NetworkMode, s.IPv4Address = "container:abc", "10.0.0.9" }},
		{"ErrFixedAddressIPv6", func(s *runtime.ContainerSpec) { s.NetworkMode, s.IPv4Address = "net", "fd00::9" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := fullSpec()
			tc.edit(&spec)
			if _, err := toCreateRequest(spec); err == nil {
				t.Fatal("no error")
			}
		})
	}
}

func TestToContainerState(t *testing.T) {
	exit143 := 143
	for _, tc := range []struct {
		file string
		want runtime.ContainerState
	}{
		{"inspect_running.json", runtime.ContainerState{
			ID:    "9e3898ea58a3baf921efd953c2442b7a04eb7f475fc4d77b0b4beaae3cbac713",
			Name:  "fixture-running",
			Image: "berth-test/probe:latest",
			// The image's id, and when the container was created.
			ImageID:   "sha256:b3a5ee5ee3c10a074ff61cbe9c5d5c26cf8525eba7d720b5d73096d451e98aa1",
			CreatedAt: time.Date(2026, 11, 23, 18, 14, 54, 318910873, time.UTC),
			Labels:    map[string]string{runtime.LabelTaskARN: "arn:aws:ecs:us-east-1:111111111111:task/demo/0123456789abcdef", runtime.LabelContainerName: "web"},
			State:     runtime.StateRunning,
			Health:    runtime.HealthHealthy,
			Ports: []runtime.PortBinding{
				{ContainerPort: 8080, HostPort: 32773, Protocol: "tcp", HostIP: "0.0.0.0"},
				{ContainerPort: 8080, HostPort: 32773, Protocol: "tcp", HostIP: "::"},
				{ContainerPort: 9090, HostPort: 9090, Protocol: "udp", HostIP: "127.0.0.1"},
			},
			IPAddress: "172.17.0.2",
			StartedAt: time.Date(2026, 11, 23, 18, 14, 54, 538880225, time.UTC),
		}},
		{"inspect_exited.json", runtime.ContainerState{
			ID:    "9e3898ea58a3baf921efd953c2442b7a04eb7f475fc4d77b0b4beaae3cbac713",
			Name:  "fixture-running",
			Image: "berth-test/probe:latest",
			// The image's id, and when the container was created.
			ImageID:   "sha256:b3a5ee5ee3c10a074ff61cbe9c5d5c26cf8525eba7d720b5d73096d451e98aa1",
			CreatedAt: time.Date(2026, 11, 23, 18, 14, 54, 318910873, time.UTC),
			Labels:    map[string]string{runtime.LabelTaskARN: "arn:aws:ecs:us-east-1:111111111111:task/demo/0123456789abcdef", runtime.LabelContainerName: "web"},
			State:     runtime.StateExited,
			// Docker marks a stopped container with a health check unhealthy.
			Health:     runtime.HealthUnhealthy,
			ExitCode:   &exit143,
			StartedAt:  time.Date(2026, 11, 23, 18, 14, 54, 538880225, time.UTC),
			FinishedAt: time.Date(2026, 11, 23, 18, 14, 56, 188569573, time.UTC),
		}},
	} {
		t.Run(strings.TrimSuffix(tc.file, ".json"), func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			var c container.InspectResponse
			if err := json.Unmarshal(b, &c); err != nil {
				t.Fatal(err)
			}
			if got := toContainerState(c); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
	t.Run("Empty", func(t *testing.T) {
		got := toContainerState(container.InspectResponse{})
		if got.State != runtime.StateCreated || got.Health != runtime.HealthUnknown {
			t.Fatalf("got %+v", got)
		}
	})
	t.Run("HostNetwork", func(t *testing.T) {
		got := toContainerState(container.InspectResponse{
			ContainerJSONBase: &container.ContainerJSONBase{HostConfig: &container.HostConfig{NetworkMode: "host"}},
			Config:            &container.Config{ExposedPorts: nat.PortSet{"8080/tcp": {}, "53/udp": {}}},
		})
		want := []runtime.PortBinding{{ContainerPort: 53, HostPort: 53, Protocol: "udp"}, {ContainerPort: 8080, HostPort: 8080, Protocol: "tcp"}}
		if !reflect.DeepEqual(got.Ports, want) {
			t.Fatalf("ports %+v, want %+v", got.Ports, want)
		}
	})
}

func TestToState(t *testing.T) {
	for s, want := range map[container.ContainerState]runtime.State{
		container.StateCreated:    runtime.StateCreated,
		container.StateRunning:    runtime.StateRunning,
		container.StatePaused:     runtime.StateRunning,
		container.StateRestarting: runtime.StateRunning,
		container.StateRemoving:   runtime.StateExited,
		container.StateExited:     runtime.StateExited,
		container.StateDead:       runtime.StateExited,
	} {
		if got := toState(s); got != want {
			t.Errorf("toState(%s) = %s, want %s", s, got, want)
		}
	}
}

func TestToEvent(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	msg := func(action string) events.Message {
		return events.Message{Type: events.ContainerEventType, Action: events.Action(action), Actor: events.Actor{ID: "abc"}, TimeNano: at.UnixNano(), Time: at.Unix()}
	}
	for _, tc := range []struct {
		name string
		msg  events.Message
		want runtime.Event
		ok   bool
	}{
		{"Start", msg("start"), runtime.Event{Type: runtime.EventStart, ID: "abc", Time: at}, true},
		{"Die", msg("die"), runtime.Event{Type: runtime.EventDie, ID: "abc", Time: at}, true},
		{"Destroy", msg("destroy"), runtime.Event{Type: runtime.EventDestroy, ID: "abc", Time: at}, true},
		{"Healthy", msg("health_status: healthy"), runtime.Event{Type: runtime.EventHealth, ID: "abc", Health: runtime.HealthHealthy, Time: at}, true},
		{"Unhealthy", msg("health_status: unhealthy"), runtime.Event{Type: runtime.EventHealth, ID: "abc", Health: runtime.HealthUnhealthy, Time: at}, true},
		{"HealthRunning", msg("health_status: running"), runtime.Event{}, false},
		{"ExecStart", msg("exec_start: /probe health"), runtime.Event{}, false},
		{"Create", msg("create"), runtime.Event{}, false},
		{"ImageType", events.Message{Type: events.ImageEventType, Action: "start", Actor: events.Actor{ID: "abc"}}, runtime.Event{}, false},
		{"SecondsOnly", events.Message{Type: events.ContainerEventType, Action: "start", Actor: events.Actor{ID: "abc"}, Time: at.Unix()},
			runtime.Event{Type: runtime.EventStart, ID: "abc", Time: at.Truncate(time.Second)}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := toEvent(tc.msg)
			if ok != tc.ok || got != tc.want {
				t.Fatalf("toEvent = %+v, %v; want %+v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestTailWriter(t *testing.T) {
	for _, tc := range []struct {
		name   string
		max    int
		writes []string
		want   string
	}{
		{"All", 0, []string{"abc", "def"}, "abcdef"},
		{"Tail", 4, []string{"abc", "def", "ghi"}, "fghi"},
		{"ShorterThanMax", 10, []string{"abc"}, "abc"},
		{"BigWrite", 3, []string{"a", "bcdefghij", "k"}, "ijk"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := &tailWriter{max: tc.max}
			for _, s := range tc.writes {
				if n, err := w.Write([]byte(s)); n != len(s) || err != nil {
					t.Fatalf("Write = %d, %v", n, err)
				}
				if tc.max > 0 && len(w.buf) > 2*tc.max {
					t.Fatalf("holds %d bytes, more than twice max", len(w.buf))
				}
			}
			if got := string(w.bytes()); got != tc.want {
				t.Fatalf("bytes = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSeconds(t *testing.T) {
	for d, want := range map[time.Duration]int{0: 0, -time.Second: 0, time.Nanosecond: 1, time.Second: 1, 1500 * time.Millisecond: 2, 30 * time.Second: 30} {
		if got := seconds(d); got != want {
			t.Errorf("seconds(%v) = %d, want %d", d, got, want)
		}
	}
}

// golden compares got with the file at path, or rewrites it with -update.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs (run with -update to accept):\n%s", path, got)
	}
}

func TestToContainerState_FinishedBeforeStarted(t *testing.T) {
	started, finished := "2026-11-23T18:17:31.819868912Z", "2026-11-23T18:17:31.818937323Z"
	got := toContainerState(container.InspectResponse{ContainerJSONBase: &container.ContainerJSONBase{
		State: &container.State{Status: container.StateExited, ExitCode: 3, StartedAt: started, FinishedAt: finished},
	}})
	if want := parseTime(finished); !got.StartedAt.Equal(want) || !got.FinishedAt.Equal(want) {
		t.Fatalf("StartedAt %v FinishedAt %v, want both %v", got.StartedAt, got.FinishedAt, want)
	}
}

func TestIPAddress(t *testing.T) {
	nets := map[string]*network.EndpointSettings{
		"bridge": {IPAddress: "172.17.0.2"},
		"b-net":  {IPAddress: "10.0.1.2"},
		"a-net":  {IPAddress: ""},
	}
	for _, tc := range []struct {
		mode container.NetworkMode
		want string
	}{
		{"", "172.17.0.2"},
		{"default", "172.17.0.2"},
		{"bridge", "172.17.0.2"},
		{"b-net", "10.0.1.2"},
		{"a-net", "10.0.1.2"}, // no address there: the first network with one
		{"host", "10.0.1.2"},
	} {
		if got := ipAddress(nets, tc.mode); got != tc.want {
			t.Errorf("ipAddress(%q) = %q, want %q", tc.mode, got, tc.want)
		}
	}
	if got := ipAddress(nil, "host"); got != "" {
		t.Errorf("ipAddress with no networks = %q", got)
	}
}

func TestForward(t *testing.T) {
	start := events.Message{Type: events.ContainerEventType, Action: events.ActionStart, Actor: events.Actor{ID: "abc"}}
	other := events.Message{Type: events.ContainerEventType, Action: events.ActionCreate, Actor: events.Actor{ID: "abc"}}
	run := func(ctx context.Context, send []events.Message, errs chan error, out chan runtime.Event) {
		msgs := make(chan events.Message)
		done := make(chan struct{})
		go func() { forward(ctx, msgs, errs, out); close(done) }()
		for _, m := range send {
			select {
			case msgs <- m:
			case <-done:
			}
		}
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("forward did not return")
		}
	}
	t.Run("ReceiverBehind", func(t *testing.T) {
		out := make(chan runtime.Event, 2)
		// The third start finds out full: forward gives up on the receiver.
		run(t.Context(), []events.Message{start, other, start, start}, make(chan error), out)
		if len(out) != 2 {
			t.Fatalf("%d events forwarded, want 2", len(out))
		}
	})
	t.Run("StreamFails", func(t *testing.T) {
		errs := make(chan error, 1)
		out := make(chan runtime.Event, 10)
		go func() { time.Sleep(10 * time.Millisecond); errs <- io.ErrUnexpectedEOF }()
		run(t.Context(), []events.Message{start}, errs, out)
		if len(out) != 1 {
			t.Fatalf("%d events forwarded, want 1", len(out))
		}
	})
	t.Run("ContextEnds", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		run(ctx, nil, make(chan error), make(chan runtime.Event, 1))
	})
}
