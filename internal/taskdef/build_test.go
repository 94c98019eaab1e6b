package taskdef

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/wire"
)

type buildCase struct {
	name  string
	req   *wire.RegisterTaskDefinitionRequest
	code  ecs.Code                               // expected error code; "" for success
	msg   string                                 // expected error message
	check func(*testing.T, *wire.TaskDefinition) // extra checks on success
}

// errCase is a case expecting a ClientException with msg.
func errCase(name, msg string, muts ...func(*wire.RegisterTaskDefinitionRequest)) buildCase {
	return buildCase{name: name, req: request(muts...), code: ecs.ClientError, msg: msg}
}

func TestBuild(t *testing.T) {
	var cases []buildCase
	cases = append(cases, okCases()...)
	cases = append(cases, identityCases()...)
	cases = append(cases, sizeCases()...)
	cases = append(cases, launchTypeCases()...)
	cases = append(cases, resourceCases()...)
	cases = append(cases, portCases()...)
	cases = append(cases, containerCases()...)
	cases = append(cases, volumeCases()...)
	cases = append(cases, dependencyCases()...)
	cases = append(cases, tagCases()...)

	seen := map[string]bool{}
	for _, tc := range cases {
		if seen[tc.name] {
			t.Fatalf("duplicate case name %s", tc.name)
		}
		seen[tc.name] = true
		t.Run(tc.name, func(t *testing.T) {
			before := jsonOf(t, tc.req)
			td, err := Build(tc.req)
			if after := jsonOf(t, tc.req); after != before {
				t.Errorf("Build modified its request:\nbefore %s\nafter  %s", before, after)
			}
			if tc.code != "" {
				var e *ecs.Error
				if !errors.As(err, &e) {
					t.Fatalf("Build error = %v (%T), want *ecs.Error %s: %q", err, err, tc.code, tc.msg)
				}
				if e.Code != tc.code || e.Message != tc.msg {
					t.Fatalf("Build error = %s: %q\nwant           %s: %q", e.Code, e.Message, tc.code, tc.msg)
				}
				if td != nil {
					t.Fatalf("Build returned a definition with an error")
				}
				return
			}
			if err != nil {
				t.Fatalf("Build error = %v, want success", err)
			}
			checkControlPlaneMembersUnset(t, td)
			if tc.check != nil {
				tc.check(t, td)
			}
		})
	}
}

func checkControlPlaneMembersUnset(t *testing.T, td *wire.TaskDefinition) {
	t.Helper()
	if td.TaskDefinitionArn != nil || td.Revision != nil || td.Status != nil || td.RegisteredAt != nil ||
		td.RegisteredBy != nil || td.DeregisteredAt != nil || td.DeleteRequestedAt != nil {
		t.Errorf("Build set a control-plane member: %s", jsonOf(t, td))
	}
}

// wantJSON returns a check comparing the whole result with golden JSON.
func wantJSON(golden string) func(*testing.T, *wire.TaskDefinition) {
	return func(t *testing.T, td *wire.TaskDefinition) {
		t.Helper()
		if got, want := jsonOf(t, td), compactJSON(t, golden); got != want {
			t.Errorf("task definition\ngot  %s\nwant %s", got, want)
		}
	}
}

// wantCompat checks compatibilities.
func wantCompat(want ...string) func(*testing.T, *wire.TaskDefinition) {
	return func(t *testing.T, td *wire.TaskDefinition) {
		t.Helper()
		var got []string
		for _, c := range td.Compatibilities {
			got = append(got, string(c))
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("compatibilities = %v, want %v", got, want)
		}
	}
}

// wantAttrs checks requiresAttributes (sorted names, comma-joined).
func wantAttrs(want string) func(*testing.T, *wire.TaskDefinition) {
	return func(t *testing.T, td *wire.TaskDefinition) {
		t.Helper()
		if got := attrNames(td.RequiresAttributes); got != want {
			t.Errorf("requiresAttributes =\n  %s\nwant\n  %s", got, want)
		}
	}
}

// all combines checks.
func all(checks ...func(*testing.T, *wire.TaskDefinition)) func(*testing.T, *wire.TaskDefinition) {
	return func(t *testing.T, td *wire.TaskDefinition) {
		t.Helper()
		for _, c := range checks {
			c(t, td)
		}
	}
}

// wantPorts checks the first container's port mappings as JSON.
func wantPorts(golden string) func(*testing.T, *wire.TaskDefinition) {
	return func(t *testing.T, td *wire.TaskDefinition) {
		t.Helper()
		if got := jsonOf(t, td.ContainerDefinitions[0].PortMappings); got != golden {
			t.Errorf("portMappings = %s, want %s", got, golden)
		}
	}
}

func okCases() []buildCase {
	return []buildCase{
		{name: "OK_minimal_bridge", req: request(), check: wantJSON(`{
			"compatibilities": ["EXTERNAL", "EC2"],
			"containerDefinitions": [{
				"cpu": 0, "environment": [], "essential": true, "image": "nginx", "memory": 128,
				"mountPoints": [], "name": "app", "portMappings": [], "systemControls": [], "volumesFrom": []
			}],
			"enableFaultInjection": false,
			"family": "web",
			"placementConstraints": [],
			"requiresAttributes": [],
			"volumes": []
		}`)},
		{name: "OK_fargate_units_normalised", req: request(fargate, size("0.25 vCPU", "0.5GB"),
			ports(pm(80, -1)), func(r *wire.RegisterTaskDefinitionRequest) {
				r.ExecutionRoleArn = wire.Ptr("arn:aws:iam::123456789012:role/exec")
			}), check: wantJSON(`{
			"compatibilities": ["EC2", "FARGATE", "MANAGED_INSTANCES"],
			"containerDefinitions": [{
				"cpu": 0, "environment": [], "essential": true, "image": "nginx", "memory": 128,
				"mountPoints": [], "name": "app",
				"portMappings": [{"containerPort": 80, "hostPort": 80, "protocol": "tcp"}],
				"systemControls": [], "volumesFrom": []
			}],
			"cpu": "256",
			"enableFaultInjection": false,
			"executionRoleArn": "arn:aws:iam::123456789012:role/exec",
			"family": "web",
			"memory": "512",
			"networkMode": "awsvpc",
			"placementConstraints": [],
			"requiresAttributes": [
				{"name": "com.amazonaws.ecs.capability.docker-remote-api.1.18"},
				{"name": "ecs.capability.task-eni"}
			],
			"requiresCompatibilities": ["FARGATE"],
			"volumes": []
		}`)},
		{name: "OK_vcpu_and_gb_forms", req: request(size("1 vCPU", "2 GB")), check: func(t *testing.T, td *wire.TaskDefinition) {
			if *td.Cpu != "1024" || *td.Memory != "2048" {
				t.Errorf("cpu, memory = %s, %s; want 1024, 2048", *td.Cpu, *td.Memory)
			}
		}},
		{name: "OK_lowercase_vcpu_no_space", req: request(size("2vcpu", "4gb")), check: func(t *testing.T, td *wire.TaskDefinition) {
			if *td.Cpu != "2048" || *td.Memory != "4096" {
				t.Errorf("cpu, memory = %s, %s; want 2048, 4096", *td.Cpu, *td.Memory)
			}
		}},
		{name: "OK_task_memory_covers_containers", req: request(size("512", "1024"),
			first(func(c *wire.ContainerDefinition) { c.Memory = nil })), check: func(t *testing.T, td *wire.TaskDefinition) {
			if td.ContainerDefinitions[0].Memory != nil {
				t.Errorf("container memory was invented")
			}
		}},
		{name: "OK_fargate_and_ec2_required", req: request(fargate, requires("EC2", "FARGATE")),
			check: wantCompat("EC2", "FARGATE", "MANAGED_INSTANCES")},
		{name: "OK_bridge_dynamic_host_port", req: request(ports(pm(80, -1), pm(443, 8443))),
			check: wantPorts(`[{"containerPort":80,"hostPort":0,"protocol":"tcp"},{"containerPort":443,"hostPort":8443,"protocol":"tcp"}]`)},
		{name: "OK_awsvpc_host_port_filled", req: request(mode("awsvpc"), ports(pm(8080, -1), pm(53, 53))),
			check: all(wantCompat("EC2", "MANAGED_INSTANCES"), wantPorts(`[{"containerPort":8080,"hostPort":8080,"protocol":"tcp"},{"containerPort":53,"hostPort":53,"protocol":"tcp"}]`))},
		{name: "OK_host_mode_host_port_filled", req: request(mode("host"), ports(pm(9000, -1))),
			check: all(wantCompat("EXTERNAL", "EC2", "MANAGED_INSTANCES"), wantPorts(`[{"containerPort":9000,"hostPort":9000,"protocol":"tcp"}]`))},
		{name: "OK_udp_kept", req: request(ports(wire.PortMapping{ContainerPort: i32(53), Protocol: wire.Ptr(wire.TransportProtocol("udp"))}, pm(53, -1))),
			check: wantPorts(`[{"containerPort":53,"hostPort":0,"protocol":"udp"},{"containerPort":53,"hostPort":0,"protocol":"tcp"}]`)},
		{name: "OK_port_range_awsvpc", req: request(mode("awsvpc"), ports(wire.PortMapping{ContainerPortRange: wire.Ptr("8000-8010")})),
			check: wantPorts(`[{"containerPortRange":"8000-8010","protocol":"tcp"}]`)},
		{name: "OK_none_mode_without_ports", req: request(mode("none")), check: wantCompat("EXTERNAL", "EC2")},
		{name: "OK_essential_defaults_and_false_kept", req: request(withContainers(func() wire.ContainerDefinition {
			c := container("sidecar")
			c.Essential = wire.Ptr(false)
			return c
		}())), check: func(t *testing.T, td *wire.TaskDefinition) {
			if !*td.ContainerDefinitions[0].Essential || *td.ContainerDefinitions[1].Essential {
				t.Errorf("essential = %v, %v; want true, false", *td.ContainerDefinitions[0].Essential, *td.ContainerDefinitions[1].Essential)
			}
		}},
		{name: "OK_health_check_defaults", req: request(first(func(c *wire.ContainerDefinition) {
			c.HealthCheck = &wire.HealthCheck{Command: []string{"CMD-SHELL", "true"}, StartPeriod: i32(10)}
		})), check: all(func(t *testing.T, td *wire.TaskDefinition) {
			if got := jsonOf(t, td.ContainerDefinitions[0].HealthCheck); got != `{"command":["CMD-SHELL","true"],"interval":30,"retries":3,"startPeriod":10,"timeout":5}` {
				t.Errorf("healthCheck = %s", got)
			}
		}, wantAttrs("com.amazonaws.ecs.capability.docker-remote-api.1.24,ecs.capability.container-health-check"))},
		{name: "OK_health_check_bounds_inclusive", req: request(first(func(c *wire.ContainerDefinition) {
			c.HealthCheck = &wire.HealthCheck{Command: []string{"CMD", "x"}, Interval: i32(300), Timeout: i32(2), Retries: i32(10), StartPeriod: i32(300)}
		}))},
		{name: "OK_given_values_kept", req: request(first(func(c *wire.ContainerDefinition) {
			c.Cpu = i32(512)
			c.Environment = []wire.KeyValuePair{{Name: wire.Ptr("A"), Value: wire.Ptr("1")}}
		})), check: func(t *testing.T, td *wire.TaskDefinition) {
			c := td.ContainerDefinitions[0]
			if *c.Cpu != 512 || len(c.Environment) != 1 {
				t.Errorf("container = %s", jsonOf(t, c))
			}
		}},
		{name: "OK_awslogs_ecr_roles_attributes", req: request(fargate, func(r *wire.RegisterTaskDefinitionRequest) {
			r.ExecutionRoleArn = wire.Ptr("arn:aws:iam::123456789012:role/exec")
			r.TaskRoleArn = wire.Ptr("arn:aws:iam::123456789012:role/task")
			c := &r.ContainerDefinitions[0]
			c.Image = wire.Ptr("123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1")
			c.MemoryReservation = i32(64)
			c.LogConfiguration = &wire.LogConfiguration{LogDriver: wire.Ptr(wire.LogDriver("awslogs")),
				Options: map[string]string{"awslogs-create-group": "true", "awslogs-group": "/ecs/web"}}
		}), check: wantAttrs(strings.Join([]string{
			"com.amazonaws.ecs.capability.docker-remote-api.1.18",
			"com.amazonaws.ecs.capability.docker-remote-api.1.19",
			"com.amazonaws.ecs.capability.docker-remote-api.1.21",
			"com.amazonaws.ecs.capability.docker-remote-api.1.29",
			"com.amazonaws.ecs.capability.ecr-auth",
			"com.amazonaws.ecs.capability.logging-driver.awslogs",
			"com.amazonaws.ecs.capability.task-iam-role",
			"ecs.capability.execution-role-awslogs",
			"ecs.capability.execution-role-ecr-pull",
			"ecs.capability.task-eni",
		}, ","))},
		{name: "OK_ipc_pid_efs_attributes", req: request(func(r *wire.RegisterTaskDefinitionRequest) {
			r.IpcMode = wire.Ptr(wire.IpcMode("none"))
			r.Volumes = []wire.Volume{{Name: wire.Ptr("data"), EfsVolumeConfiguration: &wire.EFSVolumeConfiguration{FileSystemId: wire.Ptr("fs-1")}}}
		}), check: all(wantCompat("EC2"), wantAttrs("ecs.capability.efs,ecs.capability.efsAuth,ecs.capability.pid-ipc-namespace-sharing"))},
		{name: "OK_volumes_mounts_volumesFrom_links", req: request(func(r *wire.RegisterTaskDefinitionRequest) {
			r.Volumes = []wire.Volume{{Name: wire.Ptr("webdata"), Host: &wire.HostVolumeProperties{SourcePath: wire.Ptr("/ecs/webdata")}}, {}}
			r.ContainerDefinitions[0].MountPoints = []wire.MountPoint{{SourceVolume: wire.Ptr("webdata"), ContainerPath: wire.Ptr("/usr/share/nginx/html"), ReadOnly: wire.Ptr(true)}}
			r.ContainerDefinitions[0].Links = []string{"timer:t"}
			timer := container("timer")
			timer.VolumesFrom = []wire.VolumeFrom{{SourceContainer: wire.Ptr("app")}}
			r.ContainerDefinitions = append(r.ContainerDefinitions, timer)
		}), check: func(t *testing.T, td *wire.TaskDefinition) {
			if len(td.Volumes) != 2 || len(td.ContainerDefinitions[1].VolumesFrom) != 1 {
				t.Errorf("volumes or volumesFrom lost: %s", jsonOf(t, td))
			}
		}},
		{name: "OK_depends_on_healthy_complete", req: request(func(r *wire.RegisterTaskDefinitionRequest) {
			db := container("db")
			db.HealthCheck = &wire.HealthCheck{Command: []string{"CMD", "pg_isready"}}
			initc := container("init")
			initc.Essential = wire.Ptr(false)
			r.ContainerDefinitions[0].DependsOn = []wire.ContainerDependency{
				{ContainerName: wire.Ptr("db"), Condition: wire.Ptr(wire.ContainerCondition("HEALTHY"))},
				{ContainerName: wire.Ptr("init"), Condition: wire.Ptr(wire.ContainerCondition("COMPLETE"))},
			}
			initc.DependsOn = []wire.ContainerDependency{{ContainerName: wire.Ptr("db"), Condition: wire.Ptr(wire.ContainerCondition("START"))}}
			r.ContainerDefinitions = append(r.ContainerDefinitions, db, initc)
		}), check: func(t *testing.T, td *wire.TaskDefinition) {
			if !strings.Contains(attrNames(td.RequiresAttributes), "ecs.capability.container-ordering") {
				t.Errorf("container-ordering attribute missing: %s", attrNames(td.RequiresAttributes))
			}
		}},
		{name: "OK_external_required_bridge", req: request(requires("EXTERNAL")), check: wantCompat("EXTERNAL", "EC2")},
		{name: "OK_managed_instances_awsvpc", req: request(mode("awsvpc"), requires("MANAGED_INSTANCES")),
			check: wantCompat("EC2", "MANAGED_INSTANCES")},
		{name: "OK_windows_fargate", req: request(fargate, size("1024", "2048"), func(r *wire.RegisterTaskDefinitionRequest) {
			r.RuntimePlatform = &wire.RuntimePlatform{OperatingSystemFamily: wire.Ptr(wire.OSFamily("WINDOWS_SERVER_2022_CORE"))}
		}), check: wantCompat("EC2", "FARGATE", "MANAGED_INSTANCES")},
		{name: "OK_fargate_not_compatible_without_size", req: request(mode("awsvpc")), check: wantCompat("EC2", "MANAGED_INSTANCES")},
		{name: "OK_enable_fault_injection_kept", req: request(func(r *wire.RegisterTaskDefinitionRequest) {
			r.EnableFaultInjection = wire.Ptr(true)
		}), check: func(t *testing.T, td *wire.TaskDefinition) {
			if !*td.EnableFaultInjection {
				t.Errorf("enableFaultInjection = false, want true")
			}
		}},
		{name: "OK_ten_containers", req: request(func(r *wire.RegisterTaskDefinitionRequest) {
			for i := 1; i < MaxContainers; i++ {
				r.ContainerDefinitions = append(r.ContainerDefinitions, container("c"+string(rune('a'+i))))
			}
		})},
		{name: "OK_family_255", req: request(func(r *wire.RegisterTaskDefinitionRequest) {
			r.Family = wire.Ptr(strings.Repeat("a", 255))
		})},
		{name: "OK_sums_equal_task", req: request(size("1024", "256"), first(func(c *wire.ContainerDefinition) { c.Cpu = i32(512) }),
			withContainers(func() wire.ContainerDefinition { c := container("b"); c.Cpu = i32(512); return c }())),
		},
		{name: "OK_tags_valid", req: request(func(r *wire.RegisterTaskDefinitionRequest) {
			r.Tags = []wire.Tag{{Key: wire.Ptr("team"), Value: wire.Ptr("core")}}
		})},
	}
}

func identityCases() []buildCase {
	return []buildCase{
		errCase("ErrFamilyBlank", msgFamilyBlank, func(r *wire.RegisterTaskDefinitionRequest) { r.Family = wire.Ptr("") }),
		errCase("ErrFamilyMissing", msgFamilyBlank, func(r *wire.RegisterTaskDefinitionRequest) { r.Family = nil }),
		errCase("ErrFamilyInvalidChars", "Family contains invalid characters.", func(r *wire.RegisterTaskDefinitionRequest) { r.Family = wire.Ptr("web app") }),
		errCase("ErrFamilyColon", "Family contains invalid characters.", func(r *wire.RegisterTaskDefinitionRequest) { r.Family = wire.Ptr("web:1") }),
		errCase("ErrFamilyTooLong", msgFamilyLength, func(r *wire.RegisterTaskDefinitionRequest) { r.Family = wire.Ptr(strings.Repeat("a", 256)) }),
		errCase("ErrNoContainers", "Container list cannot be empty.", func(r *wire.RegisterTaskDefinitionRequest) { r.ContainerDefinitions = []wire.ContainerDefinition{} }),
		errCase("ErrTooManyContainers", "Too many containers.", func(r *wire.RegisterTaskDefinitionRequest) {
			for i := 0; i < MaxContainers; i++ {
				r.ContainerDefinitions = append(r.ContainerDefinitions, container("c"+string(rune('a'+i))))
			}
		}),
		errCase("ErrContainerNameMissing", "Container.name should not be null or empty.", first(func(c *wire.ContainerDefinition) { c.Name = nil })),
		errCase("ErrContainerNameBlank", "Container.name should not be null or empty.", first(func(c *wire.ContainerDefinition) { c.Name = wire.Ptr("") })),
		errCase("ErrContainerNameChars", "Container.name contains invalid characters.", first(func(c *wire.ContainerDefinition) { c.Name = wire.Ptr("my.app") })),
		errCase("ErrContainerNameTooLong", "Container.name contains invalid characters.", first(func(c *wire.ContainerDefinition) { c.Name = wire.Ptr(strings.Repeat("x", 256)) })),
		errCase("ErrDuplicateContainerName", "Duplicate container name 'app'.", withContainers(container("app"))),
		errCase("ErrImageMissing", "Container.image should not be null or empty.", first(func(c *wire.ContainerDefinition) { c.Image = nil })),
		errCase("ErrImageBlank", "Container.image should not be null or empty.", first(func(c *wire.ContainerDefinition) { c.Image = wire.Ptr("") })),
		errCase("ErrNoEssentialContainer", "Task definition doesn't have any essential container.", first(func(c *wire.ContainerDefinition) { c.Essential = wire.Ptr(false) })),
	}
}

// padded returns a request whose JSON encoding (tags excluded, as ECS
// measures the definition) is exactly n bytes, tags added afterwards.
func padded(n int, tags ...wire.Tag) *wire.RegisterTaskDefinitionRequest {
	r := request(first(func(c *wire.ContainerDefinition) { c.Command = []string{""} }))
	b, _ := json.Marshal(r)
	r.ContainerDefinitions[0].Command[0] = strings.Repeat("x", n-len(b))
	r.Tags = tags
	return r
}

func sizeCases() []buildCase {
	tag := wire.Tag{Key: wire.Ptr("k"), Value: wire.Ptr(strings.Repeat("v", 256))}
	return []buildCase{
		{name: "OK_size_at_limit_tags_not_counted", req: padded(MaxDefinitionSize, tag)},
		{name: "ErrTooLarge", req: padded(MaxDefinitionSize + 1), code: ecs.ClientError, msg: "Actual length: '65537'. Max allowed length is '65536' bytes."},
		errCase("ErrTaskCPUNotANumber", "Invalid 'cpu' setting for task.", size("lots", "512")),
		errCase("ErrTaskCPUFractionalUnits", "Invalid 'cpu' setting for task.", size("1.3 vCPU", "2048")),
		errCase("ErrTaskCPUBelowMinimum", "Invalid 'cpu' setting for task.", size("127", "512")),
		errCase("ErrTaskCPUAboveMaximum", "Invalid 'cpu' setting for task.", size("196609", "512")),
		errCase("ErrTaskCPUDecimalUnits", "Invalid 'cpu' setting for task.", size("256.0", "512")),
		errCase("ErrTaskMemoryUnit", "Invalid 'memory' setting for task.", size("256", "2 TB")),
		errCase("ErrTaskMemoryZero", "Invalid 'memory' setting for task.", size("256", "0")),
		errCase("ErrTaskMemoryNegative", "Invalid 'memory' setting for task.", size("256", "-512")),
		errCase("ErrEphemeralStorageTooSmall", "Invalid 'ephemeralStorage' setting. 'sizeInGiB' must be between 21 and 200.", func(r *wire.RegisterTaskDefinitionRequest) {
			r.EphemeralStorage = &wire.EphemeralStorage{SizeInGiB: i32(20)}
		}),
		errCase("ErrEphemeralStorageTooLarge", "Invalid 'ephemeralStorage' setting. 'sizeInGiB' must be between 21 and 200.", func(r *wire.RegisterTaskDefinitionRequest) {
			r.EphemeralStorage = &wire.EphemeralStorage{SizeInGiB: i32(201)}
		}),
	}
}

func launchTypeCases() []buildCase {
	withExec := func(r *wire.RegisterTaskDefinitionRequest) {
		r.ExecutionRoleArn = wire.Ptr("arn:aws:iam::123456789012:role/exec")
	}
	return []buildCase{
		errCase("ErrFargateNoNetworkMode", "Fargate only supports network mode \u2018awsvpc\u2019.", fargate, func(r *wire.RegisterTaskDefinitionRequest) { r.NetworkMode = nil }),
		errCase("ErrFargateBridge", "Fargate only supports network mode \u2018awsvpc\u2019.", fargate, mode("bridge")),
		errCase("ErrFargateNoCPU", "Fargate requires that 'cpu' be defined at the task level.", fargate, func(r *wire.RegisterTaskDefinitionRequest) { r.Cpu = nil }),
		errCase("ErrFargateNoMemory", "Fargate requires that 'memory' be defined at the task level.", fargate, func(r *wire.RegisterTaskDefinitionRequest) { r.Memory = nil }),
		errCase("ErrFargateSizePair", "No Fargate configuration exists for given values.", fargate, size("256", "4096")),
		errCase("ErrFargateSizeCPU", "No Fargate configuration exists for given values.", fargate, size("384", "1024")),
		errCase("ErrFargateWindowsQuarterVCPU", "No Fargate configuration exists for given values.", fargate, func(r *wire.RegisterTaskDefinitionRequest) {
			r.RuntimePlatform = &wire.RuntimePlatform{OperatingSystemFamily: wire.Ptr(wire.OSFamily("WINDOWS_SERVER_2019_CORE"))}
		}),
		errCase("ErrFargateIpcMode", "Tasks using the Fargate launch type do not support ipcMode.", fargate, func(r *wire.RegisterTaskDefinitionRequest) {
			r.IpcMode = wire.Ptr(wire.IpcMode("task"))
		}),
		errCase("ErrFargatePidModeHost", "Tasks using the Fargate launch type do not support pidMode 'host'. The supported value for pidMode is 'task'.", fargate, func(r *wire.RegisterTaskDefinitionRequest) {
			r.PidMode = wire.Ptr(wire.PidMode("host"))
		}),
		errCase("ErrFargateAwslogsWithoutExecutionRole", "Fargate requires task definition to have execution role ARN to support log driver awslogs.", fargate, first(func(c *wire.ContainerDefinition) {
			c.LogConfiguration = &wire.LogConfiguration{LogDriver: wire.Ptr(wire.LogDriver("awslogs"))}
		})),
		errCase("ErrFargateECRWithoutExecutionRole", "Fargate requires task definition to have execution role ARN to support ECR images.", fargate, first(func(c *wire.ContainerDefinition) {
			c.Image = wire.Ptr("123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:latest")
		})),
		errCase("ErrFargatePrivileged", "Tasks using the Fargate launch type do not support privileged.", fargate, withExec, first(func(c *wire.ContainerDefinition) {
			c.Privileged = wire.Ptr(true)
		})),
		errCase("ErrFargateLogDriver", "Tasks using the Fargate launch type do not support logDriver 'json-file'.", fargate, first(func(c *wire.ContainerDefinition) {
			c.LogConfiguration = &wire.LogConfiguration{LogDriver: wire.Ptr(wire.LogDriver("json-file"))}
		})),
		errCase("ErrFargatePlacementConstraints", "Tasks using the Fargate launch type do not support placementConstraints.", fargate, func(r *wire.RegisterTaskDefinitionRequest) {
			r.PlacementConstraints = []wire.TaskDefinitionPlacementConstraint{{Type: wire.Ptr(wire.TaskDefinitionPlacementConstraintType("memberOf")), Expression: wire.Ptr("attribute:ecs.os-type == linux")}}
		}),
		errCase("ErrFargateHostVolume", "Tasks using the Fargate launch type do not support host.sourcePath.", fargate, func(r *wire.RegisterTaskDefinitionRequest) {
			r.Volumes = []wire.Volume{{Name: wire.Ptr("v"), Host: &wire.HostVolumeProperties{SourcePath: wire.Ptr("/data")}}}
		}),
		errCase("ErrFargateCapabilityAdd", "Tasks using the Fargate launch type do not support capabilities.add other than SYS_PTRACE.", fargate, first(func(c *wire.ContainerDefinition) {
			c.LinuxParameters = &wire.LinuxParameters{Capabilities: &wire.KernelCapabilities{Add: []string{"SYS_PTRACE", "NET_ADMIN"}}}
		})),
		errCase("ErrExternalAwsvpc", "Tasks using the External launch type do not support network mode 'awsvpc'.", mode("awsvpc"), requires("EXTERNAL")),
		errCase("ErrExternalEFS", "Tasks using the External launch type do not support efsVolumeConfiguration.", requires("EXTERNAL"), func(r *wire.RegisterTaskDefinitionRequest) {
			r.Volumes = []wire.Volume{{Name: wire.Ptr("v"), EfsVolumeConfiguration: &wire.EFSVolumeConfiguration{FileSystemId: wire.Ptr("fs-1")}}}
		}),
		errCase("ErrManagedNoNetworkMode", msgManagedNetworkMode, requires("MANAGED_INSTANCES")),
		errCase("ErrManagedBridge", msgManagedNetworkMode, mode("bridge"), requires("MANAGED_INSTANCES")),
		errCase("ErrManagedDockerLabels", "Tasks using the Managed Instances launch type do not support dockerLabels.", mode("host"), requires("MANAGED_INSTANCES"), first(func(c *wire.ContainerDefinition) {
			c.DockerLabels = map[string]string{"a": "b"}
		})),
	}
}

func resourceCases() []buildCase {
	return []buildCase{
		errCase("ErrContainerMemoryMissing", "Invalid setting for container 'app'. At least one of 'memory' or 'memoryReservation' must be specified.", first(func(c *wire.ContainerDefinition) { c.Memory = nil })),
		errCase("ErrContainerMemoryMissingFargateSecond", "Invalid setting for container 'b'. At least one of 'memory' or 'memoryReservation' must be specified.", withContainers(wire.ContainerDefinition{Name: wire.Ptr("b"), Image: wire.Ptr("busybox")})),
		errCase("ErrReservationOverMemory", "Invalid setting for container 'app'. 'memoryReservation' must be less than or equal to 'memory'.", first(func(c *wire.ContainerDefinition) { c.MemoryReservation = i32(129) })),
		errCase("ErrContainerMemoryOverTask", "The 'memory' setting for container 'app' is greater than for the task.", fargate, first(func(c *wire.ContainerDefinition) { c.Memory = i32(1024) })),
		errCase("ErrContainerCPUNegative", "Invalid 'cpu' setting for container 'app'.", first(func(c *wire.ContainerDefinition) { c.Cpu = i32(-1) })),
		errCase("ErrContainerMemoryZero", "Invalid 'memory' setting for container 'app'.", first(func(c *wire.ContainerDefinition) { c.Memory = i32(0) })),
		errCase("ErrContainerReservationZero", "Invalid 'memoryReservation' setting for container 'app'.", first(func(c *wire.ContainerDefinition) { c.MemoryReservation = i32(0) })),
		errCase("ErrSumCPUOverTask", "The sum of all container 'cpu' values cannot be greater than the value of the task 'cpu'.", fargate, first(func(c *wire.ContainerDefinition) { c.Cpu = i32(257) })),
		errCase("ErrSumMemoryReservationOverTask", "The sum of all container 'memoryReservation' values cannot be greater than the value of the task 'memory'.", fargate,
			first(func(c *wire.ContainerDefinition) { c.Memory, c.MemoryReservation = i32(400), i32(300) }),
			withContainers(func() wire.ContainerDefinition {
				c := container("b")
				c.Memory, c.MemoryReservation = nil, i32(300)
				return c
			}())),
		errCase("ErrSumMemoryOverTask", "The sum of all container 'memory' values cannot be greater than the value of the task 'memory'.", fargate,
			first(func(c *wire.ContainerDefinition) { c.Memory = i32(300) }),
			withContainers(func() wire.ContainerDefinition { c := container("b"); c.Memory = i32(300); return c }())),
	}
}

func portCases() []buildCase {
	return []buildCase{
		errCase("ErrAwsvpcHostPortMismatch", "When networkMode=awsvpc, the host ports and container ports in port mappings must match.", mode("awsvpc"), ports(pm(80, 8080))),
		errCase("ErrAwsvpcHostPortZero", "When networkMode=awsvpc, the host ports and container ports in port mappings must match.", mode("awsvpc"), ports(pm(80, 0))),
		errCase("ErrHostModeHostPortMismatch", "When networkMode=host, the host ports and container ports in port mappings must match.", mode("host"), ports(pm(80, 81))),
		errCase("ErrNoneModeWithPorts", "Invalid 'portMappings' setting for container 'app'. Port mappings are not supported when networkMode=none.", mode("none"), ports(pm(80, -1))),
		errCase("ErrContainerPortZero", "Invalid 'portMappings' setting for container 'app'. 'containerPort' must be between 1 and 65535.", ports(pm(0, -1))),
		errCase("ErrContainerPortTooHigh", "Invalid 'portMappings' setting for container 'app'. 'containerPort' must be between 1 and 65535.", ports(pm(65536, -1))),
		errCase("ErrHostPortTooHigh", "Invalid 'portMappings' setting for container 'app'. 'hostPort' must be between 0 and 65535.", ports(pm(80, 70000))),
		errCase("ErrContainerPortMissing", "Invalid 'portMappings' setting for container 'app'. 'containerPort' or 'containerPortRange' must be specified.", ports(wire.PortMapping{HostPort: i32(80)})),
		errCase("ErrContainerPortAndRange", "Invalid 'portMappings' setting for container 'app'. 'containerPort' and 'containerPortRange' cannot both be specified.", ports(wire.PortMapping{ContainerPort: i32(80), ContainerPortRange: wire.Ptr("80-90")})),
		errCase("ErrPortRangeMalformed", "Invalid 'portMappings' setting for container 'app'. 'containerPortRange' must be two ports between 1 and 65535, the first less than the last, joined by a hyphen.", ports(wire.PortMapping{ContainerPortRange: wire.Ptr("90-80")})),
		errCase("ErrPortRangeHostMode", "Invalid 'portMappings' setting for container 'app'. 'containerPortRange' is only supported when networkMode=bridge or networkMode=awsvpc.", mode("host"), ports(wire.PortMapping{ContainerPortRange: wire.Ptr("80-90")})),
		errCase("ErrPortRangeWithHostPort", "Invalid 'portMappings' setting for container 'app'. 'hostPort' cannot be specified with 'containerPortRange'.", ports(wire.PortMapping{ContainerPortRange: wire.Ptr("80-90"), HostPort: i32(80)})),
		errCase("ErrDuplicateContainerPort", "Invalid 'portMappings' setting for container 'app'. Port 80/tcp is included in more than one port mapping.", ports(pm(80, 8080), pm(80, 8081))),
		errCase("ErrPortInsideRange", "Invalid 'portMappings' setting for container 'app'. Port 85/tcp is included in more than one port mapping.", ports(wire.PortMapping{ContainerPortRange: wire.Ptr("80-90")}, pm(85, -1))),
		errCase("ErrDuplicatePortName", "Invalid 'portMappings' setting for container 'b'. Port mapping name 'web' is used more than once in the task definition.",
			ports(wire.PortMapping{ContainerPort: i32(80), Name: wire.Ptr("web")}),
			withContainers(func() wire.ContainerDefinition {
				c := container("b")
				c.PortMappings = []wire.PortMapping{{ContainerPort: i32(81), Name: wire.Ptr("web")}}
				return c
			}())),
	}
}

func containerCases() []buildCase {
	hc := func(h wire.HealthCheck) func(*wire.RegisterTaskDefinitionRequest) {
		return first(func(c *wire.ContainerDefinition) {
			if h.Command == nil {
				h.Command = []string{"CMD", "true"}
			}
			c.HealthCheck = &h
		})
	}
	const hcPrefix = "Invalid 'healthCheck' setting for container 'app'. "
	return []buildCase{
		errCase("ErrLinksAwsvpc", "Links are not supported when networkMode=awsvpc.", mode("awsvpc"), withContainers(container("db")), first(func(c *wire.ContainerDefinition) { c.Links = []string{"db"} })),
		errCase("ErrLinksHost", "Links are not supported when networkMode=host.", mode("host"), withContainers(container("db")), first(func(c *wire.ContainerDefinition) { c.Links = []string{"db"} })),
		errCase("ErrLinksUnknownContainer", "Invalid 'links' setting. Unknown container: 'db'.", first(func(c *wire.ContainerDefinition) { c.Links = []string{"db:database"} })),
		errCase("ErrHostnameAwsvpc", "hostname is not supported on container when networkMode=awsvpc.", mode("awsvpc"), first(func(c *wire.ContainerDefinition) { c.Hostname = wire.Ptr("h") })),
		errCase("ErrHealthCheckNoCommand", hcPrefix+"'command' should not be null or empty.", first(func(c *wire.ContainerDefinition) { c.HealthCheck = &wire.HealthCheck{Command: []string{}} })),
		errCase("ErrHealthCheckIntervalLow", hcPrefix+"'interval' must be between 5 and 300 seconds.", hc(wire.HealthCheck{Interval: i32(4)})),
		errCase("ErrHealthCheckIntervalHigh", hcPrefix+"'interval' must be between 5 and 300 seconds.", hc(wire.HealthCheck{Interval: i32(301)})),
		errCase("ErrHealthCheckTimeoutLow", hcPrefix+"'timeout' must be between 2 and 60 seconds.", hc(wire.HealthCheck{Timeout: i32(1)})),
		errCase("ErrHealthCheckTimeoutHigh", hcPrefix+"'timeout' must be between 2 and 60 seconds.", hc(wire.HealthCheck{Timeout: i32(61)})),
		errCase("ErrHealthCheckRetriesLow", hcPrefix+"'retries' must be between 1 and 10.", hc(wire.HealthCheck{Retries: i32(0)})),
		errCase("ErrHealthCheckRetriesHigh", hcPrefix+"'retries' must be between 1 and 10.", hc(wire.HealthCheck{Retries: i32(11)})),
		errCase("ErrHealthCheckStartPeriodNegative", hcPrefix+"'startPeriod' must be between 0 and 300 seconds.", hc(wire.HealthCheck{StartPeriod: i32(-1)})),
		errCase("ErrHealthCheckStartPeriodHigh", hcPrefix+"'startPeriod' must be between 0 and 300 seconds.", hc(wire.HealthCheck{StartPeriod: i32(301)})),
	}
}

func volumeCases() []buildCase {
	vols := func(vs ...wire.Volume) func(*wire.RegisterTaskDefinitionRequest) {
		return func(r *wire.RegisterTaskDefinitionRequest) { r.Volumes = vs }
	}
	named := func(n string) wire.Volume { return wire.Volume{Name: wire.Ptr(n)} }
	return []buildCase{
		errCase("ErrMountUnknownVolume", "Unknown volume 'data'.", first(func(c *wire.ContainerDefinition) {
			c.MountPoints = []wire.MountPoint{{SourceVolume: wire.Ptr("data"), ContainerPath: wire.Ptr("/data")}}
		})),
		errCase("ErrMountNoSourceVolume", "Unknown volume 'null'.", vols(named("null")), first(func(c *wire.ContainerDefinition) {
			c.MountPoints = []wire.MountPoint{{ContainerPath: wire.Ptr("/data")}}
		})),
		errCase("ErrMountNoContainerPath", "Invalid 'mountPoints' setting for container 'app'. 'containerPath' should not be null or empty.", vols(named("data")), first(func(c *wire.ContainerDefinition) {
			c.MountPoints = []wire.MountPoint{{SourceVolume: wire.Ptr("data")}}
		})),
		errCase("ErrVolumesFromUnknown", "Invalid 'volumesFrom' setting. Unknown container: 'data'.", first(func(c *wire.ContainerDefinition) {
			c.VolumesFrom = []wire.VolumeFrom{{SourceContainer: wire.Ptr("data")}}
		})),
		errCase("ErrVolumesFromMissingSource", "Invalid 'volumesFrom' setting. Unknown container: 'null'.", first(func(c *wire.ContainerDefinition) {
			c.VolumesFrom = []wire.VolumeFrom{{}}
		})),
		errCase("ErrVolumeNameChars", "Volume.name contains invalid characters.", vols(named("my volume"))),
		errCase("ErrVolumeDuplicate", "Duplicate volume name 'data'.", vols(named("data"), named("data"))),
		errCase("ErrVolumeTwoTypes", "Invalid setting for volume 'data'. Only one volume type can be specified.", vols(wire.Volume{
			Name: wire.Ptr("data"), Host: &wire.HostVolumeProperties{}, DockerVolumeConfiguration: &wire.DockerVolumeConfiguration{},
		})),
		errCase("ErrEFSVolumeWithoutName", "Volume.name should not be null or empty.", vols(wire.Volume{EfsVolumeConfiguration: &wire.EFSVolumeConfiguration{FileSystemId: wire.Ptr("fs-1")}})),
	}
}

func dependencyCases() []buildCase {
	dep := func(target, cond string) wire.ContainerDependency {
		return wire.ContainerDependency{ContainerName: wire.Ptr(target), Condition: wire.Ptr(wire.ContainerCondition(cond))}
	}
	dependsOn := func(deps ...wire.ContainerDependency) func(*wire.RegisterTaskDefinitionRequest) {
		return first(func(c *wire.ContainerDefinition) { c.DependsOn = deps })
	}
	return []buildCase{
		errCase("ErrDependsOnUnknown", "Cannot depend on container + 'sidecar' because it does not exist", dependsOn(dep("sidecar", "START"))),
		errCase("ErrDependsOnMissingName", "Cannot depend on container + 'null' because it does not exist", dependsOn(wire.ContainerDependency{Condition: wire.Ptr(wire.ContainerCondition("START"))})),
		errCase("ErrDependsOnSuccessEssential", "A dependency container with SUCCESS or COMPLETE condition cannot be an essential container", withContainers(container("init")), dependsOn(dep("init", "SUCCESS"))),
		errCase("ErrDependsOnCompleteEssential", "A dependency container with SUCCESS or COMPLETE condition cannot be an essential container", withContainers(container("init")), dependsOn(dep("init", "COMPLETE"))),
		errCase("ErrDependsOnHealthyWithoutHealthCheck", "Container 'db' must have a health check defined to be a HEALTHY dependency.", withContainers(container("db")), dependsOn(dep("db", "HEALTHY"))),
		errCase("ErrDependsOnSelf", "Circular container dependency detected involving container 'app'.", dependsOn(dep("app", "START"))),
		errCase("ErrDependsOnCycle", "Circular container dependency detected involving container 'app'.", dependsOn(dep("b", "START")), withContainers(func() wire.ContainerDefinition {
			c := container("b")
			c.DependsOn = []wire.ContainerDependency{dep("app", "START")}
			return c
		}())),
	}
}

func tagCases() []buildCase {
	tagged := func(tags ...wire.Tag) *wire.RegisterTaskDefinitionRequest {
		return request(func(r *wire.RegisterTaskDefinitionRequest) { r.Tags = tags })
	}
	tag := func(k, v string) wire.Tag { return wire.Tag{Key: wire.Ptr(k), Value: wire.Ptr(v)} }
	// The per-tag wording belongs to package ecs; these cases pin the code
	// and that RegisterTaskDefinition reports exactly what ecs reports.
	ecsMsg := func(tags []wire.Tag) string {
		var e *ecs.Error
		if err := ValidateTags(tags); errors.As(err, &e) {
			return e.Message
		}
		return "<no error>"
	}
	var many []wire.Tag
	for i := 0; i <= ecs.MaxTags; i++ {
		many = append(many, tag("k"+strings.Repeat("x", i), "v"))
	}
	cases := [][]wire.Tag{
		{tag("aws:owner", "me")},
		{tag("AWS:owner", "me")},
		{tag("team", "aws:x")},
		{tag("team", "a"), tag("team", "b")},
		{tag("", "v")},
		{{Value: wire.Ptr("v")}},
		{tag(strings.Repeat("k", 129), "v")},
		{tag("k", strings.Repeat("v", 257))},
		many,
	}
	names := []string{"ErrTagAwsPrefix", "ErrTagAwsPrefixUpper", "ErrTagValueAwsPrefix", "ErrTagDuplicateKey", "ErrTagKeyEmpty", "ErrTagKeyMissing", "ErrTagKeyTooLong", "ErrTagValueTooLong", "ErrTooManyTags"}
	out := make([]buildCase, len(cases))
	for i, tags := range cases {
		out[i] = buildCase{name: names[i], req: tagged(tags...), code: ecs.InvalidParameter, msg: ecsMsg(tags)}
	}
	return out
}
