package taskdef

import (
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/wire"
)

// TestUnsupportedParameters walks every parameter a launch type refuses:
// required, the definition is rejected with the parameter's name; not
// required, the launch type is left out of compatibilities.
func TestUnsupportedParameters(t *testing.T) {
	type mut = func(*wire.RegisterTaskDefinitionRequest)
	ctr := func(f func(*wire.ContainerDefinition)) mut { return first(f) }
	lp := func(f func(*wire.LinuxParameters)) mut {
		return ctr(func(c *wire.ContainerDefinition) {
			c.LinuxParameters = &wire.LinuxParameters{}
			f(c.LinuxParameters)
		})
	}
	vol := func(v wire.Volume) mut {
		return func(r *wire.RegisterTaskDefinitionRequest) { v.Name = wire.Ptr("v"); r.Volumes = []wire.Volume{v} }
	}
	shared := map[string]mut{
		"disableNetworking":     ctr(func(c *wire.ContainerDefinition) { c.DisableNetworking = wire.Ptr(true) }),
		"dnsServers":            ctr(func(c *wire.ContainerDefinition) { c.DnsServers = []string{"10.0.0.2"} }),
		"dnsSearchDomains":      ctr(func(c *wire.ContainerDefinition) { c.DnsSearchDomains = []string{"corp"} }),
		"dockerSecurityOptions": ctr(func(c *wire.ContainerDefinition) { c.DockerSecurityOptions = []string{"no-new-privileges"} }),
		"extraHosts": ctr(func(c *wire.ContainerDefinition) {
			c.ExtraHosts = []wire.HostEntry{{Hostname: wire.Ptr("h"), IpAddress: wire.Ptr("1.2.3.4")}}
		}),
		"sharedMemorySize":          lp(func(l *wire.LinuxParameters) { l.SharedMemorySize = i32(64) }),
		"tmpfs":                     lp(func(l *wire.LinuxParameters) { l.Tmpfs = []wire.Tmpfs{{ContainerPath: wire.Ptr("/t"), Size: i32(1)}} }),
		"maxSwap":                   lp(func(l *wire.LinuxParameters) { l.MaxSwap = i32(0) }),
		"swappiness":                lp(func(l *wire.LinuxParameters) { l.Swappiness = i32(0) }),
		"dockerVolumeConfiguration": vol(wire.Volume{DockerVolumeConfiguration: &wire.DockerVolumeConfiguration{}}),
		"host.sourcePath":           vol(wire.Volume{Host: &wire.HostVolumeProperties{SourcePath: wire.Ptr("/d")}}),
		"inferenceAccelerators": func(r *wire.RegisterTaskDefinitionRequest) {
			r.InferenceAccelerators = []wire.InferenceAccelerator{{DeviceName: wire.Ptr("d"), DeviceType: wire.Ptr("eia2.medium")}}
		},
	}
	fargateOnly := map[string]mut{
		"privileged": ctr(func(c *wire.ContainerDefinition) { c.Privileged = wire.Ptr(true) }),
		"devices":    lp(func(l *wire.LinuxParameters) { l.Devices = []wire.Device{{HostPath: wire.Ptr("/dev/x")}} }),
		"GPU resourceRequirements": ctr(func(c *wire.ContainerDefinition) {
			c.ResourceRequirements = []wire.ResourceRequirement{{Type: wire.Ptr(wire.ResourceType("GPU")), Value: wire.Ptr("1")}}
		}),
		"placementConstraints": func(r *wire.RegisterTaskDefinitionRequest) {
			r.PlacementConstraints = []wire.TaskDefinitionPlacementConstraint{{Type: wire.Ptr(wire.TaskDefinitionPlacementConstraintType("memberOf"))}}
		},
	}
	managedOnly := map[string]mut{
		"dockerLabels": ctr(func(c *wire.ContainerDefinition) { c.DockerLabels = map[string]string{"k": "v"} }),
		"ipcMode":      func(r *wire.RegisterTaskDefinitionRequest) { r.IpcMode = wire.Ptr(wire.IpcMode("task")) },
		"proxyConfiguration": func(r *wire.RegisterTaskDefinitionRequest) {
			r.ProxyConfiguration = &wire.ProxyConfiguration{ContainerName: wire.Ptr("app")}
		},
		"ephemeralStorage": func(r *wire.RegisterTaskDefinitionRequest) {
			r.EphemeralStorage = &wire.EphemeralStorage{SizeInGiB: i32(30)}
		},
		"fsxWindowsFileServerVolumeConfiguration": vol(wire.Volume{FsxWindowsFileServerVolumeConfiguration: &wire.FSxWindowsFileServerVolumeConfiguration{}}),
	}
	run := func(t *testing.T, lt wire.Compatibility, launch, param string, m mut) {
		t.Helper()
		base := []mut{mode("awsvpc"), size("256", "512"), func(r *wire.RegisterTaskDefinitionRequest) {
			r.ExecutionRoleArn = wire.Ptr("arn:aws:iam::123456789012:role/e")
		}, m}
		td, err := Build(request(base...))
		if err != nil {
			t.Fatalf("%s without requiresCompatibilities: %v", param, err)
		}
		for _, c := range td.Compatibilities {
			if c == lt {
				t.Errorf("%s: compatibilities %v include %s", param, td.Compatibilities, lt)
			}
		}
		_, err = Build(request(append(base, requires(string(lt)))...))
		want := "Tasks using the " + launch + " launch type do not support " + param + "."
		if e, ok := err.(*ecs.Error); !ok || e.Code != ecs.ClientError || e.Message != want {
			t.Errorf("%s required: error %v, want %q", param, err, want)
		}
	}
	for param, m := range shared {
		run(t, compatFargate, "Fargate", param, m)
		run(t, compatManaged, "Managed Instances", param, m)
	}
	for param, m := range fargateOnly {
		run(t, compatFargate, "Fargate", param, m)
	}
	for param, m := range managedOnly {
		if param == "ipcMode" {
			continue // Fargate refuses it with its own [aws] message
		}
		run(t, compatManaged, "Managed Instances", param, m)
	}
	run(t, compatManaged, "Managed Instances", "ipcMode", managedOnly["ipcMode"])
	// Managed Instances refuse hostname and links too; awsvpc refuses them
	// first, so they are checked in host mode.
	for param, m := range map[string]mut{
		"hostname": ctr(func(c *wire.ContainerDefinition) { c.Hostname = wire.Ptr("h") }),
		"links":    ctr(func(c *wire.ContainerDefinition) { c.Links = []string{"app"} }),
	} {
		_, err := Build(request(mode("host"), requires("MANAGED_INSTANCES"), m))
		want := "Tasks using the Managed Instances launch type do not support " + param + "."
		if e, ok := err.(*ecs.Error); !ok || e.Message != want {
			t.Errorf("%s: error %v, want %q", param, err, want)
		}
	}
	// EXTERNAL refuses FSx volumes and inference accelerators.
	for param, m := range map[string]mut{
		"fsxWindowsFileServerVolumeConfiguration": managedOnly["fsxWindowsFileServerVolumeConfiguration"],
		"inferenceAccelerators":                   shared["inferenceAccelerators"],
	} {
		_, err := Build(request(requires("EXTERNAL"), m))
		want := "Tasks using the External launch type do not support " + param + "."
		if e, ok := err.(*ecs.Error); !ok || e.Message != want {
			t.Errorf("%s: error %v, want %q", param, err, want)
		}
	}
}

func TestRequiresAttributesMapping(t *testing.T) {
	td, err := Build(request(func(r *wire.RegisterTaskDefinitionRequest) {
		r.PidMode = wire.Ptr(wire.PidMode("task"))
		r.ProxyConfiguration = &wire.ProxyConfiguration{ContainerName: wire.Ptr("app")}
		c := &r.ContainerDefinitions[0]
		c.DockerLabels = map[string]string{"a": "b"}
		c.LinuxParameters = &wire.LinuxParameters{InitProcessEnabled: wire.Ptr(true)}
		c.StopTimeout = i32(30)
		c.Secrets = []wire.Secret{
			{Name: wire.Ptr("A"), ValueFrom: wire.Ptr("arn:aws:secretsmanager:us-east-1:123456789012:secret:a")},
			{Name: wire.Ptr("B"), ValueFrom: wire.Ptr("/param/b")},
		}
		c.EnvironmentFiles = []wire.EnvironmentFile{{Type: wire.Ptr(wire.EnvironmentFileType("s3")), Value: wire.Ptr("arn:aws:s3:::b/k.env")}}
		c.RepositoryCredentials = &wire.RepositoryCredentials{CredentialsParameter: wire.Ptr("arn:aws:secretsmanager:us-east-1:123456789012:secret:r")}
		c.FirelensConfiguration = &wire.FirelensConfiguration{Type: wire.Ptr(wire.FirelensConfigurationType("fluentbit"))}
		c.LogConfiguration = &wire.LogConfiguration{LogDriver: wire.Ptr(wire.LogDriver("json-file"))}
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		"com.amazonaws.ecs.capability.docker-remote-api.1.18",
		"com.amazonaws.ecs.capability.docker-remote-api.1.25",
		"com.amazonaws.ecs.capability.logging-driver.json-file",
		"com.amazonaws.ecs.capability.private-registry-authentication.secretsmanager",
		"ecs.capability.aws-appmesh",
		"ecs.capability.container-ordering",
		"ecs.capability.env-files.s3",
		"ecs.capability.firelens.fluentbit",
		"ecs.capability.pid-ipc-namespace-sharing",
		"ecs.capability.secrets.asm.environment-variables",
		"ecs.capability.secrets.ssm.environment-variables",
	}, ",")
	if got := attrNames(td.RequiresAttributes); got != want {
		t.Errorf("requiresAttributes =\n  %s\nwant\n  %s", got, want)
	}
}
