package taskdef

import (
	"slices"
	"strings"

	"github.com/berth-dev/berth/internal/wire"
)

// Attribute name prefixes ECS uses in requiresAttributes.
const (
	dockerAPI     = "com.amazonaws.ecs.capability.docker-remote-api."
	loggingDriver = "com.amazonaws.ecs.capability.logging-driver."
)

// requiresAttributes derives the container instance attributes the task
// definition needs, sorted by name. ECS computes these at registration and
// the scheduler matches them against the attributes agents advertise, so an
// attribute here that no agent advertises makes a task unplaceable: only
// attributes the ECS agent advertises are produced.
//
// The mapping, with its provenance:
//   - logConfiguration: logging-driver.<driver> and docker-remote-api.1.18
//     [aws outputs; doc: log configuration needs Docker API 1.18];
//   - awslogs: docker-remote-api.1.19; with an execution role
//     ecs.capability.execution-role-awslogs; with the option
//     awslogs-create-group=true docker-remote-api.1.29 [aws outputs];
//   - memoryReservation: docker-remote-api.1.21 [aws outputs];
//   - awsvpc: ecs.capability.task-eni and docker-remote-api.1.18 [aws
//     outputs];
//   - taskRoleArn: com.amazonaws.ecs.capability.task-iam-role [aws outputs];
//   - a private ECR image: com.amazonaws.ecs.capability.ecr-auth, with an
//     execution role also ecs.capability.execution-role-ecr-pull [aws
//     outputs];
//   - ipcMode or pidMode: ecs.capability.pid-ipc-namespace-sharing [aws
//     outputs];
//   - an EFS volume: ecs.capability.efs and ecs.capability.efsAuth [aws
//     outputs];
//   - dockerLabels, ulimits: docker-remote-api.1.18 [doc];
//   - healthCheck: ecs.capability.container-health-check and
//     docker-remote-api.1.24 [doc; agent capability];
//   - initProcessEnabled: docker-remote-api.1.25 [doc];
//   - dependsOn, startTimeout, stopTimeout: ecs.capability.container-ordering
//     [impl; agent capability];
//   - secrets: ecs.capability.secrets.asm.environment-variables for Secrets
//     Manager ARNs, ecs.capability.secrets.ssm.environment-variables
//     otherwise [impl; agent capabilities];
//   - environmentFiles: ecs.capability.env-files.s3 [impl; agent
//     capability];
//   - repositoryCredentials:
//     com.amazonaws.ecs.capability.private-registry-authentication.secretsmanager
//     [impl; agent capability];
//   - firelensConfiguration: ecs.capability.firelens.<type> [impl; agent
//     capability];
//   - proxyConfiguration: ecs.capability.aws-appmesh [impl; agent
//     capability].
//
// Where ECS adds further docker-remote-api versions for other parameters
// the rule is not known and nothing is added.
func (d *def) requiresAttributes() []wire.Attribute {
	in := d.in
	set := make(map[string]bool)
	add := func(names ...string) {
		for _, n := range names {
			set[n] = true
		}
	}
	execRole := wire.Val(in.ExecutionRoleArn) != ""
	if d.mode() == modeAwsvpc {
		add("ecs.capability.task-eni", dockerAPI+"1.18")
	}
	if wire.Val(in.TaskRoleArn) != "" {
		add("com.amazonaws.ecs.capability.task-iam-role")
	}
	if in.IpcMode != nil || in.PidMode != nil {
		add("ecs.capability.pid-ipc-namespace-sharing")
	}
	if in.ProxyConfiguration != nil {
		add("ecs.capability.aws-appmesh")
	}
	for i := range in.Volumes {
		if in.Volumes[i].EfsVolumeConfiguration != nil {
			add("ecs.capability.efs", "ecs.capability.efsAuth")
		}
	}
	for i := range in.ContainerDefinitions {
		c := &in.ContainerDefinitions[i]
		if lc := c.LogConfiguration; lc != nil && lc.LogDriver != nil {
			add(loggingDriver+string(*lc.LogDriver), dockerAPI+"1.18")
			if *lc.LogDriver == "awslogs" {
				add(dockerAPI + "1.19")
				if execRole {
					add("ecs.capability.execution-role-awslogs")
				}
				if strings.EqualFold(lc.Options["awslogs-create-group"], "true") {
					add(dockerAPI + "1.29")
				}
			}
		}
		if c.MemoryReservation != nil {
			add(dockerAPI + "1.21")
		}
		if privateECRImage.MatchString(wire.Val(c.Image)) {
			add("com.amazonaws.ecs.capability.ecr-auth")
			if execRole {
				add("ecs.capability.execution-role-ecr-pull")
			}
		}
		if len(c.DockerLabels) > 0 || len(c.Ulimits) > 0 {
			add(dockerAPI + "1.18")
		}
		if c.HealthCheck != nil {
			add("ecs.capability.container-health-check", dockerAPI+"1.24")
		}
		if lp := c.LinuxParameters; lp != nil && wire.Val(lp.InitProcessEnabled) {
			add(dockerAPI + "1.25")
		}
		if len(c.DependsOn) > 0 || c.StartTimeout != nil || c.StopTimeout != nil {
			add("ecs.capability.container-ordering")
		}
		for _, s := range c.Secrets {
			if strings.Contains(wire.Val(s.ValueFrom), ":secretsmanager:") {
				add("ecs.capability.secrets.asm.environment-variables")
			} else {
				add("ecs.capability.secrets.ssm.environment-variables")
			}
		}
		if len(c.EnvironmentFiles) > 0 {
			add("ecs.capability.env-files.s3")
		}
		if c.RepositoryCredentials != nil {
			add("com.amazonaws.ecs.capability.private-registry-authentication.secretsmanager")
		}
		if fc := c.FirelensConfiguration; fc != nil && fc.Type != nil {
			add("ecs.capability.firelens." + string(*fc.Type))
		}
	}
	names := make([]string, 0, len(set))
	for n := range set {
		names = append(names, n)
	}
	slices.Sort(names)
	out := make([]wire.Attribute, len(names))
	for i, n := range names {
		out[i] = wire.Attribute{Name: wire.Ptr(n)}
	}
	return out
}
