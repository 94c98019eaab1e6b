package taskdef

import (
	"fmt"

	"github.com/berth-dev/berth/internal/ecs"
)

// The messages RegisterTaskDefinition answers with. Provenance tags:
//
//	[aws]  wording observed verbatim in real ECS responses (public issue
//	       threads quoting the API error, AWS documentation, CloudTrail);
//	[impl] AWS's wording is not known; Berth's own text, written in the
//	       style of the nearest [aws] message.
//
// Clients match on some of these (Terraform and the CLI print them), so the
// [aws] strings must not be reworded, including their odd spots (the curly
// quotes around awsvpc, the stray " + " in the dependsOn message, missing
// final periods).
const (
	// [aws] family "" (the model lets an empty string through).
	msgFamilyBlank = "Family can not be blank."
	// [aws]
	msgFamilyChars = "Family contains invalid characters."
	// [impl] (text of the AWS documentation for the family parameter)
	msgFamilyLength = "Family name can be up to 255 letters (uppercase and lowercase), numbers, hyphens, and underscores."

	// [aws]
	msgNoContainers = "Container list cannot be empty."
	// [aws] more than MaxContainers container definitions.
	msgTooManyContainers = "Too many containers."
	// [aws]
	msgContainerNameBlank = "Container.name should not be null or empty."
	// [aws] also used for names over 255 characters [impl].
	msgContainerNameChars = "Container.name contains invalid characters."
	// [aws]
	msgContainerImageBlank = "Container.image should not be null or empty."
	// [aws]
	msgNoEssential = "Task definition doesn't have any essential container."

	// [aws] the documented answer to an invalid task-level cpu.
	msgTaskCPU = "Invalid 'cpu' setting for task."
	// [impl] by analogy with msgTaskCPU.
	msgTaskMemory = "Invalid 'memory' setting for task."

	// [aws] note the typographic quotes, as ECS sends them.
	msgFargateNetworkMode = "Fargate only supports network mode \u2018awsvpc\u2019."
	// [aws]
	msgFargateNoCPU = "Fargate requires that 'cpu' be defined at the task level."
	// [aws]
	msgFargateNoMemory = "Fargate requires that 'memory' be defined at the task level."
	// [aws]
	msgFargateSize = "No Fargate configuration exists for given values."
	// [aws]
	msgFargateIpcMode = "Tasks using the Fargate launch type do not support ipcMode."
	// [aws]
	msgFargatePidModeHost = "Tasks using the Fargate launch type do not support pidMode 'host'. The supported value for pidMode is 'task'."
	// [aws]
	msgFargateAwslogsRole = "Fargate requires task definition to have execution role ARN to support log driver awslogs."
	// [aws]
	msgFargateECRRole = "Fargate requires task definition to have execution role ARN to support ECR images."

	// [impl] EXTERNAL instances cannot run awsvpc tasks (documented rule).
	msgExternalAwsvpc = "Tasks using the External launch type do not support network mode 'awsvpc'."
	// [impl] Managed Instances require an explicit awsvpc or host mode
	// (documented rule).
	msgManagedNetworkMode = "Tasks using the Managed Instances launch type only support network modes 'awsvpc' and 'host'."

	// [aws]
	msgSumCPU = "The sum of all container 'cpu' values cannot be greater than the value of the task 'cpu'."
	// [aws]
	msgSumMemoryReservation = "The sum of all container 'memoryReservation' values cannot be greater than the value of the task 'memory'."
	// [impl] the same check when only hard limits contribute.
	msgSumMemory = "The sum of all container 'memory' values cannot be greater than the value of the task 'memory'."

	// [aws] sizes over MaxDefinitionSize; %d is the actual length.
	fmtTooLarge = "Actual length: '%d'. Max allowed length is '65536' bytes."
	// [aws]
	fmtNeedMemory = "Invalid setting for container '%s'. At least one of 'memory' or 'memoryReservation' must be specified."
	// [impl]
	fmtReservationOverMemory = "Invalid setting for container '%s'. 'memoryReservation' must be less than or equal to 'memory'."
	// [aws]
	fmtContainerMemoryOverTask = "The 'memory' setting for container '%s' is greater than for the task."
	// [impl]
	fmtContainerCPU = "Invalid 'cpu' setting for container '%s'."
	// [impl]
	fmtContainerMemory = "Invalid 'memory' setting for container '%s'."
	// [impl]
	fmtContainerReservation = "Invalid 'memoryReservation' setting for container '%s'."
	// [impl]
	fmtDuplicateContainer = "Duplicate container name '%s'."

	// [aws] for awsvpc; [impl] the same sentence for host.
	fmtPortsMustMatch = "When networkMode=%s, the host ports and container ports in port mappings must match."
	// [impl] every other port mapping problem: container name, detail.
	fmtPortMapping = "Invalid 'portMappings' setting for container '%s'. %s"
	// [aws] for awsvpc; [impl] the same sentence for host and none.
	fmtLinksMode = "Links are not supported when networkMode=%s."
	// [impl] modelled on the volumesFrom message.
	fmtLinksUnknown = "Invalid 'links' setting. Unknown container: '%s'."
	// [aws]
	msgHostnameAwsvpc = "hostname is not supported on container when networkMode=awsvpc."
	// [impl] container name, detail.
	fmtHealthCheck = "Invalid 'healthCheck' setting for container '%s'. %s"

	// [aws] 'null' when sourceVolume is absent, as ECS prints it.
	fmtUnknownVolume = "Unknown volume '%s'."
	// [impl]
	fmtMountContainerPath = "Invalid 'mountPoints' setting for container '%s'. 'containerPath' should not be null or empty."
	// [aws]
	fmtVolumesFromUnknown = "Invalid 'volumesFrom' setting. Unknown container: '%s'."
	// [aws] including the stray " + " and the missing period.
	fmtDependsOnUnknown = "Cannot depend on container + '%s' because it does not exist"
	// [aws] no final period, as ECS sends it.
	msgDependsOnEssential = "A dependency container with SUCCESS or COMPLETE condition cannot be an essential container"
	// [impl]
	fmtDependsOnHealthy = "Container '%s' must have a health check defined to be a HEALTHY dependency."
	// [impl]
	fmtDependsOnCycle = "Circular container dependency detected involving container '%s'."

	// [impl] by analogy with the Container.name messages.
	msgVolumeNameChars = "Volume.name contains invalid characters."
	// [impl]
	msgVolumeNameBlank = "Volume.name should not be null or empty."
	// [impl]
	fmtDuplicateVolume = "Duplicate volume name '%s'."
	// [impl]
	fmtVolumeTypes = "Invalid setting for volume '%s'. Only one volume type can be specified."
	// [impl]
	msgEphemeralStorage = "Invalid 'ephemeralStorage' setting. 'sizeInGiB' must be between 21 and 200."

	// [impl] launch type ("Fargate", "External", "Managed Instances"),
	// parameter name; modelled on msgFargateIpcMode.
	fmtUnsupported = "Tasks using the %s launch type do not support %s."
)

func clientErr(msg string) *ecs.Error { return ecs.Errorf(ecs.ClientError, "%s", msg) }

func clientErrf(format string, args ...any) *ecs.Error {
	return ecs.Errorf(ecs.ClientError, "%s", fmt.Sprintf(format, args...))
}
