package agent

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/acs"
	"github.com/berth-dev/berth/internal/runtime"
	"github.com/berth-dev/berth/internal/wire"
)

const testTaskARN = "arn:aws:ecs:us-east-1:000000000000:task/c1/0123456789abcdef0123456789abcdef"

// compiledTask compiles a task definition the way the server does, for
// the spec tests to start from what an agent really receives.
func compiledTask(td *wire.TaskDefinition) acs.Task {
	task := &wire.Task{TaskArn: wire.Ptr(testTaskARN), ClusterArn: wire.Ptr("arn:aws:ecs:us-east-1:000000000000:cluster/c1"), DesiredStatus: wire.Ptr("RUNNING")}
	return acs.CompileTask(td, task)
}

func TestTaskSpecs_Full(t *testing.T) {
	td := &wire.TaskDefinition{
		Family: wire.Ptr("web"), Revision: wire.Ptr(int32(4)),
		Volumes: []wire.Volume{
			{Name: wire.Ptr("data"), Host: &wire.HostVolumeProperties{SourcePath: wire.Ptr("/srv/data")}},
			{Name: wire.Ptr("scratch"), Host: &wire.HostVolumeProperties{}},
			{Name: wire.Ptr("cache"), DockerVolumeConfiguration: &wire.DockerVolumeConfiguration{Scope: wire.Ptr(wire.ScopeShared)}},
			{Name: wire.Ptr("tmp"), DockerVolumeConfiguration: &wire.DockerVolumeConfiguration{Scope: wire.Ptr(wire.ScopeTask)}},
		},
		ContainerDefinitions: []wire.ContainerDefinition{{
			Name: wire.Ptr("app"), Image: wire.Ptr("nginx:1"), Cpu: wire.Ptr(int32(0)), Memory: wire.Ptr(int32(256)),
			MemoryReservation: wire.Ptr(int32(128)), Essential: wire.Ptr(true),
			Command: []string{"serve"}, EntryPoint: []string{"/bin/app"},
			Environment:  []wire.KeyValuePair{{Name: wire.Ptr("B"), Value: wire.Ptr("2")}, {Name: wire.Ptr("A"), Value: wire.Ptr("1")}},
			PortMappings: []wire.PortMapping{{ContainerPort: wire.Ptr(int32(80)), HostPort: wire.Ptr(int32(8080))}, {ContainerPort: wire.Ptr(int32(53)), Protocol: wire.Ptr(wire.TransportProtocolUdp)}},
			MountPoints: []wire.MountPoint{
				{SourceVolume: wire.Ptr("data"), ContainerPath: wire.Ptr("/data"), ReadOnly: wire.Ptr(true)},
				{SourceVolume: wire.Ptr("scratch"), ContainerPath: wire.Ptr("/scratch")},
				{SourceVolume: wire.Ptr("cache"), ContainerPath: wire.Ptr("/cache")},
				{SourceVolume: wire.Ptr("tmp"), ContainerPath: wire.Ptr("/tmp")},
			},
			DockerLabels:     map[string]string{"team": "berth"},
			WorkingDirectory: wire.Ptr("/srv"), User: wire.Ptr("1000"), Hostname: wire.Ptr("web1"),
			HealthCheck:            &wire.HealthCheck{Command: []string{"CMD-SHELL", "true"}, Interval: wire.Ptr(int32(10)), Retries: wire.Ptr(int32(2))},
			Ulimits:                []wire.Ulimit{{Name: wire.Ptr(wire.UlimitNameNofile), SoftLimit: wire.Ptr(int32(1024)), HardLimit: wire.Ptr(int32(2048))}},
			ExtraHosts:             []wire.HostEntry{{Hostname: wire.Ptr("db"), IpAddress: wire.Ptr("10.0.0.2")}},
			ReadonlyRootFilesystem: wire.Ptr(true), StopTimeout: wire.Ptr(int32(5)),
			DnsServers: []string{"1.1.1.1"},
		}, {
			Name: wire.Ptr("side"), Image: wire.Ptr("busybox"), Cpu: wire.Ptr(int32(512)),
			VolumesFrom: []wire.VolumeFrom{{SourceContainer: wire.Ptr("app"), ReadOnly: wire.Ptr(true)}},
		}},
	}
	task := compiledTask(td)
	specs, errs, ignored := taskSpecs(&task, specInput{Cluster: "c1", Names: []string{"n-app", "n-side"}, VolumesDir: "/var/berth/volumes", StopTimeout: 30 * time.Second})
	if errs[0] != nil || errs[1] != nil {
		t.Fatalf("errors %v", errs)
	}
	if !reflect.DeepEqual(ignored, []string{"Dns"}) {
		t.Errorf("ignored %v", ignored)
	}
	want := runtime.ContainerSpec{
		Name: "n-app", Image: "nginx:1", Entrypoint: []string{"/bin/app"}, Command: []string{"serve"},
		Env: []string{"A=1", "B=2"}, WorkingDir: "/srv", User: "1000", Hostname: "web1",
		Labels: map[string]string{"team": "berth", runtime.LabelTaskARN: testTaskARN, runtime.LabelContainerName: "app",
			runtime.LabelCluster: "c1", runtime.LabelTaskFamily: "web", runtime.LabelTaskRevision: "4"},
		CPUShares: 2, MemoryLimitMiB: 256, MemoryReservation: 128,
		Ulimits:     []runtime.Ulimit{{Name: "nofile", Soft: 1024, Hard: 2048}},
		NetworkMode: "bridge",
		Ports:       []runtime.PortBinding{{ContainerPort: 80, HostPort: 8080, Protocol: "tcp"}, {ContainerPort: 53, Protocol: "udp"}},
		ExtraHosts:  []string{"db:10.0.0.2"},
		Mounts: []runtime.Mount{
			{Source: "/srv/data", Target: "/data", ReadOnly: true},
			{Source: "/var/berth/volumes/0123456789abcdef0123456789abcdef/scratch", Target: "/scratch"},
			{Source: "cache", Target: "/cache", Volume: true},
			{Source: "ecs-0123456789abcdef0123456789abcdef-tmp", Target: "/tmp", Volume: true},
		},
		HealthCheck: &runtime.HealthCheck{Test: []string{"CMD-SHELL", "true"}, Interval: 10 * time.Second, Timeout: 5 * time.Second, Retries: 2},
		StopTimeout: 5 * time.Second,
		ReadOnly:    true,
	}
	if !reflect.DeepEqual(specs[0], want) {
		t.Errorf("app spec:\n got %+v\nwant %+v", specs[0], want)
	}
	side := specs[1]
	if side.CPUShares != 512 || side.StopTimeout != 30*time.Second || side.HealthCheck != nil || len(side.Mounts) != 4 {
		t.Errorf("side spec %+v", side)
	}
	for _, m := range side.Mounts {
		if !m.ReadOnly {
			t.Errorf("volumesFrom read-only: mount %+v is writable", m)
		}
	}
}

func TestTaskSpecs_Errors(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*acs.Task)
		want string
	}{
		{"BadConfigJSON", func(t *acs.Task) { t.Containers[0].DockerConfig = &acs.DockerConfig{Config: "{"} }, "dockerConfig.config"},
		{"BadHostConfigJSON", func(t *acs.Task) { t.Containers[0].DockerConfig = &acs.DockerConfig{HostConfig: "[]"} }, "dockerConfig.hostConfig"},
		{"UnknownVolume", func(t *acs.Task) {
			t.Containers[0].MountPoints = []acs.MountPoint{{SourceVolume: "nope", ContainerPath: "/x"}}
		}, "no such volume"},
		{"EFSVolume", func(t *acs.Task) {
			t.Volumes = []acs.Volume{{Name: "efs", Type: "efs", EFSVolumeConfiguration: &acs.EFSVolumeConfiguration{FileSystemID: "fs-1"}}}
			t.Containers[0].MountPoints = []acs.MountPoint{{SourceVolume: "efs", ContainerPath: "/x"}}
		}, "only host and docker volumes"},
		{"BadPortRange", func(t *acs.Task) { t.Containers[0].PortMappings = []acs.PortMapping{{ContainerPortRange: "9-3"}} }, "containerPortRange"},
		{"NoContainerPort", func(t *acs.Task) { t.Containers[0].PortMappings = []acs.PortMapping{{HostPort: 80}} }, "out of range"},
		{"BadVolumesFrom", func(t *acs.Task) { t.Containers[0].VolumesFrom = []acs.VolumeFrom{{SourceContainer: "ghost"}} }, "volumesFrom"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			task := acs.Task{ARN: testTaskARN, Family: "f", Version: "1", Containers: []acs.Container{{Name: "a", Image: "i"}}}
			tc.edit(&task)
			_, errs, _ := taskSpecs(&task, specInput{Names: []string{"n"}})
			if errs[0] == nil || !strings.Contains(errs[0].Error(), tc.want) {
				t.Fatalf("error %v, want %q", errs[0], tc.want)
			}
		})
	}
}

func TestTaskSpecs_PortRangeAndOverrides(t *testing.T) {
	task := acs.Task{ARN: testTaskARN, Family: "f", Version: "1", NetworkMode: "host", Containers: []acs.Container{{
		Name: "a", Image: "i", Command: []string{"old"}, Overrides: `{"command":["new","cmd"]}`,
		PortMappings: []acs.PortMapping{{ContainerPortRange: "7000-7002", Protocol: "tcp"}},
		DockerConfig: &acs.DockerConfig{Config: `{"Healthcheck":{"Test":["NONE"]}}`},
	}}}
	specs, errs, _ := taskSpecs(&task, specInput{Names: []string{"n"}})
	if errs[0] != nil {
		t.Fatal(errs[0])
	}
	s := specs[0]
	if s.NetworkMode != "host" || strings.Join(s.Command, " ") != "new cmd" || s.HealthCheck != nil || len(s.Ports) != 3 || s.Ports[2].ContainerPort != 7002 {
		t.Fatalf("spec %+v", s)
	}
}

func TestTaskSpecs_Awsvpc(t *testing.T) {
	task := acs.Task{ARN: testTaskARN, Family: "f", Version: "1", NetworkMode: "awsvpc", Containers: []acs.Container{
		{Name: "a", Image: "i", PortMappings: []acs.PortMapping{{ContainerPort: 80}}},
		{Name: "b", Image: "i"},
	}}
	for _, tc := range []struct {
		name, mode, want string
		ports            int
	}{
		{"Bridge", "", "bridge", 1},
		{"TaskNamespace", "container:pause-1", "container:pause-1", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			specs, errs, _ := taskSpecs(&task, specInput{Names: []string{"n1", "n2"}, AwsvpcMode: tc.mode})
			for i, s := range specs {
				if errs[i] != nil {
					t.Fatal(errs[i])
				}
				if s.NetworkMode != tc.want {
					t.Fatalf("container %d: mode %q, want %q", i, s.NetworkMode, tc.want)
				}
			}
			if len(specs[0].Ports) != tc.ports {
				t.Fatalf("ports %+v", specs[0].Ports)
			}
		})
	}
	// The mode applies to awsvpc tasks only.
	bridge := task
	bridge.NetworkMode = "bridge"
	specs, _, _ := taskSpecs(&bridge, specInput{Names: []string{"n1", "n2"}, AwsvpcMode: "container:pause-1"})
	if specs[0].NetworkMode != "bridge" || len(specs[0].Ports) != 1 {
		t.Fatalf("bridge task: %+v", specs[0])
	}
}

func TestRuntimeName(t *testing.T) {
	task := acs.Task{Family: "my app", Version: "3"}
	a, b := runtimeName(&task, "web/1"), runtimeName(&task, "web/1")
	if !strings.HasPrefix(a, "ecs-my-app-3-web-1-") || len(a) != len("ecs-my-app-3-web-1-")+20 || a == b {
		t.Fatalf("names %q %q", a, b)
	}
}
