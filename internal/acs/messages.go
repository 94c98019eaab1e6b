package acs

// This file holds the ACS shapes of the agent's model
// (ecs-agent/acs/model/api/api-2.json in aws/amazon-ecs-agent). Go type names
// are the model's shape names; JSON member names are the model's member names
// verbatim (lowerCamel). Mapping of the model's scalar shapes:
//
//	String, enums            string
//	Integer, Long            int64
//	Double                   float64
//	Boolean                  bool
//	BoxedBoolean             *bool   (nil: absent)
//	BoxedInteger,
//	NullableInteger,
//	NullableLong             *int64  (nil: absent)
//	StringList               []string
//	StringMap,
//	EnvironmentVariables     map[string]string
//	nested structures        pointers (nil: absent), lists of them as slices
//
// Zero values are omitted on the wire (omitempty), which the agent reads as it
// reads an absent member: its model uses pointers and treats nil as the zero
// value. The only exceptions are members the model marks required
// (NvidiaMpsAllocation.memory, Device.hostPath), which are always written.
// No ACS shape has a timestamp: generatedAt and timeline are plain longs and
// IAMRoleCredentials.expiration is a string (RFC 3339, UTC).

// Task desired statuses as the agent understands them (Task.desiredStatus,
// TaskIdentifier.desiredStatus).
const (
	DesiredStatusRunning = "RUNNING"
	DesiredStatusStopped = "STOPPED"
)

// Volume types (VolumeType).
const (
	VolumeTypeHost                 = "host"
	VolumeTypeDocker               = "docker"
	VolumeTypeEFS                  = "efs"
	VolumeTypeFSxWindowsFileServer = "fsxWindowsFileServer"
	VolumeTypeEBS                  = "ebs"
	VolumeTypeLogDriverOutput      = "logDriverOutput"
)

// Container dependency conditions (ContainerCondition).
const (
	ConditionStart    = "START"
	ConditionComplete = "COMPLETE"
	ConditionSuccess  = "SUCCESS"
	ConditionHealthy  = "HEALTHY"
)

// HealthCheckTypeDocker is the only HealthCheckType. It is lowercase on the
// wire; the health check itself travels in dockerConfig.config as Docker's
// Healthcheck (durations in nanoseconds).
const HealthCheckTypeDocker = "docker"

// Role types of IAMRoleCredentialsMessage.roleType (RoleType).
const (
	RoleTypeTaskApplication = "TaskApplication"
	RoleTypeTaskExecution   = "TaskExecution"
)

// Other enumerations of the model, by shape.
const (
	ScopeTask   = "task"   // Scope
	ScopeShared = "shared" // Scope

	ProtocolTCP = "tcp" // TransportProtocol
	ProtocolUDP = "udp" // TransportProtocol

	SecretProviderSSM = "ssm" // SecretProvider
	SecretProviderASM = "asm" // SecretProvider

	SecretTargetContainer = "CONTAINER"  // SecretTarget
	SecretTargetLogDriver = "LOG_DRIVER" // SecretTarget

	SecretTypeEnvironmentVariable = "ENVIRONMENT_VARIABLE" // SecretType
	SecretTypeMountPoint          = "MOUNT_POINT"          // SecretType
	SecretTypeBootstrap           = "BOOTSTRAP"            // SecretType

	AuthenticationTypeECR = "ecr" // AuthenticationType
	AuthenticationTypeASM = "asm" // AuthenticationType

	AuthStrategyExecutionRole = "ExecutionRole" // AuthStrategy

	EnvironmentFileTypeS3 = "s3" // EnvironmentFileType

	FirelensTypeFluentd   = "fluentd"   // FirelensConfigurationType
	FirelensTypeFluentbit = "fluentbit" // FirelensConfigurationType

	EncodingIdentity = "identity" // Encoding
	EncodingBase64   = "base64"   // Encoding

	ManagedAgentExecuteCommand = "ExecuteCommandAgent" // ManagedAgentName
)

// ---------------------------------------------------------------------------
// Session messages (the "type" of a frame is the Go type name).

// HeartbeatMessage is the server's keep-alive. The agent answers every one
// with a HeartbeatAckRequest carrying the same messageId; any server message
// resets the agent's own inactivity timer. On the TCS socket the same shape
// is sent without messageId.
type HeartbeatMessage struct {
	Healthy   bool   `json:"healthy,omitempty"`
	MessageID string `json:"messageId,omitempty"`
}

// HeartbeatAckRequest is the agent's answer to a HeartbeatMessage.
type HeartbeatAckRequest struct {
	MessageID string `json:"messageId,omitempty"`
}

// PayloadMessage carries tasks to start and to stop (Task.desiredStatus).
// The agent validates that messageId, clusterArn and containerInstanceArn are
// set and answers with an AckRequest for the messageId, plus one
// IAMRoleCredentialsAckRequest per credential set it stored.
type PayloadMessage struct {
	ContainerInstanceARN string `json:"containerInstanceArn,omitempty"`
	ClusterARN           string `json:"clusterArn,omitempty"`
	Tasks                []Task `json:"tasks,omitempty"`
	GeneratedAt          int64  `json:"generatedAt,omitempty"`
	MessageID            string `json:"messageId,omitempty"`
	SeqNum               int64  `json:"seqNum,omitempty"`
	Timeline             *int64 `json:"timeline,omitempty"`
}

// AckRequest acknowledges a server message by its messageId. The agent fills
// cluster and containerInstance with the ARNs it knows.
type AckRequest struct {
	Cluster           string `json:"cluster,omitempty"`
	ContainerInstance string `json:"containerInstance,omitempty"`
	MessageID         string `json:"messageId,omitempty"`
}

// NackRequest refuses a StageUpdateMessage or PerformUpdateMessage.
type NackRequest struct {
	Cluster           string `json:"cluster,omitempty"`
	ContainerInstance string `json:"containerInstance,omitempty"`
	MessageID         string `json:"messageId,omitempty"`
	Reason            string `json:"reason,omitempty"`
}

// IAMRoleCredentialsMessage refreshes the credentials of one task's role
// (roleType TaskApplication) or execution role (TaskExecution).
type IAMRoleCredentialsMessage struct {
	TaskARN         string              `json:"taskArn,omitempty"`
	TaskClusterARN  string              `json:"taskClusterArn,omitempty"`
	RoleCredentials *IAMRoleCredentials `json:"roleCredentials,omitempty"`
	RoleType        string              `json:"roleType,omitempty"`
	MessageID       string              `json:"messageId,omitempty"`
}

// IAMRoleCredentialsAckRequest acknowledges one credential set, delivered in
// a PayloadMessage task or an IAMRoleCredentialsMessage.
type IAMRoleCredentialsAckRequest struct {
	MessageID     string `json:"messageId,omitempty"`
	Expiration    string `json:"expiration,omitempty"`
	CredentialsID string `json:"credentialsId,omitempty"`
}

// TaskManifestMessage lists every task the server believes should be on the
// instance, for reconciliation. The agent acks it, then, if it runs tasks
// that are not in the list, sends a TaskStopVerificationMessage. The agent
// ignores a manifest whose timeline is not above the highest seqNum it has
// seen.
type TaskManifestMessage struct {
	ContainerInstanceARN string           `json:"containerInstanceArn,omitempty"`
	ClusterARN           string           `json:"clusterArn,omitempty"`
	Tasks                []TaskIdentifier `json:"tasks,omitempty"`
	GeneratedAt          int64            `json:"generatedAt,omitempty"`
	MessageID            string           `json:"messageId,omitempty"`
	Timeline             int64            `json:"timeline,omitempty"`
}

// TaskStopVerificationMessage is sent by the agent: tasks it runs that the
// manifest did not list, asking which of them to stop.
type TaskStopVerificationMessage struct {
	MessageID      string           `json:"messageId,omitempty"`
	StopCandidates []TaskIdentifier `json:"stopCandidates,omitempty"`
}

// TaskStopVerificationAck answers a TaskStopVerificationMessage (same
// messageId): the agent stops the listed tasks.
type TaskStopVerificationAck struct {
	GeneratedAt int64            `json:"generatedAt,omitempty"`
	MessageID   string           `json:"messageId,omitempty"`
	StopTasks   []TaskIdentifier `json:"stopTasks,omitempty"`
}

// TaskIdentifier names one task in manifests and stop verification.
type TaskIdentifier struct {
	TaskARN        string `json:"taskArn,omitempty"`
	TaskClusterARN string `json:"taskClusterArn,omitempty"`
	DesiredStatus  string `json:"desiredStatus,omitempty"`
}

// CloseMessage is the result shape of the model's Poll operation.
type CloseMessage struct {
	Message string `json:"message,omitempty"`
}

// ErrorMessage carries a free-form error.
type ErrorMessage struct {
	Message string `json:"message,omitempty"`
}

// PollRequest is the input of the model's Poll operation. It does not travel
// as a frame: its members are the query parameters of the websocket URL (see
// Params).
type PollRequest struct {
	Cluster           string       `json:"cluster,omitempty"`
	ContainerInstance string       `json:"containerInstance,omitempty"`
	SeqNum            int64        `json:"seqNum,omitempty"`
	Timeline          *int64       `json:"timeline,omitempty"`
	VersionInfo       *VersionInfo `json:"versionInfo,omitempty"`
	SendCredentials   bool         `json:"sendCredentials,omitempty"`
	ProtocolVersion   *int64       `json:"protocolVersion,omitempty"`
}

// VersionInfo describes the agent.
type VersionInfo struct {
	AgentVersion  string `json:"agentVersion,omitempty"`
	AgentHash     string `json:"agentHash,omitempty"`
	DockerVersion string `json:"dockerVersion,omitempty"`
}

// AttachTaskNetworkInterfacesMessage asks the agent to wait for, and confirm,
// the ENIs of an awsvpc task (not supported by the agent in external mode).
type AttachTaskNetworkInterfacesMessage struct {
	ContainerInstanceARN     string                    `json:"containerInstanceArn,omitempty"`
	ClusterARN               string                    `json:"clusterArn,omitempty"`
	TaskARN                  string                    `json:"taskArn,omitempty"`
	TaskClusterARN           string                    `json:"taskClusterArn,omitempty"`
	GeneratedAt              int64                     `json:"generatedAt,omitempty"`
	MessageID                string                    `json:"messageId,omitempty"`
	WaitTimeoutMs            int64                     `json:"waitTimeoutMs,omitempty"`
	ElasticNetworkInterfaces []ElasticNetworkInterface `json:"elasticNetworkInterfaces,omitempty"`
}

// AttachInstanceNetworkInterfacesMessage asks the agent to confirm ENIs that
// are not bound to a task (trunk interfaces).
type AttachInstanceNetworkInterfacesMessage struct {
	ContainerInstanceARN     string                    `json:"containerInstanceArn,omitempty"`
	ClusterARN               string                    `json:"clusterArn,omitempty"`
	GeneratedAt              int64                     `json:"generatedAt,omitempty"`
	MessageID                string                    `json:"messageId,omitempty"`
	WaitTimeoutMs            int64                     `json:"waitTimeoutMs,omitempty"`
	ElasticNetworkInterfaces []ElasticNetworkInterface `json:"elasticNetworkInterfaces,omitempty"`
}

// ConfirmAttachmentMessage asks the agent to confirm a generic attachment
// (EBS volumes, Service Connect, ...).
type ConfirmAttachmentMessage struct {
	ContainerInstanceARN string      `json:"containerInstanceArn,omitempty"`
	ClusterARN           string      `json:"clusterArn,omitempty"`
	TaskARN              string      `json:"taskArn,omitempty"`
	TaskClusterARN       string      `json:"taskClusterArn,omitempty"`
	GeneratedAt          int64       `json:"generatedAt,omitempty"`
	MessageID            string      `json:"messageId,omitempty"`
	WaitTimeoutMs        int64       `json:"waitTimeoutMs,omitempty"`
	Attachment           *Attachment `json:"attachment,omitempty"`
}

// StageUpdateMessage asks the agent to download an update of itself; ignored
// unless the agent runs with ECS_UPDATES_ENABLED.
type StageUpdateMessage struct {
	ContainerInstanceARN string      `json:"containerInstanceArn,omitempty"`
	ClusterARN           string      `json:"clusterArn,omitempty"`
	UpdateInfo           *UpdateInfo `json:"updateInfo,omitempty"`
	MessageID            string      `json:"messageId,omitempty"`
}

// PerformUpdateMessage asks the agent to apply a staged update.
type PerformUpdateMessage struct {
	ContainerInstanceARN string      `json:"containerInstanceArn,omitempty"`
	ClusterARN           string      `json:"clusterArn,omitempty"`
	UpdateInfo           *UpdateInfo `json:"updateInfo,omitempty"`
	MessageID            string      `json:"messageId,omitempty"`
}

// UpdateInfo locates an agent update.
type UpdateInfo struct {
	Location  string `json:"location,omitempty"`
	Signature string `json:"signature,omitempty"`
}

// ---------------------------------------------------------------------------
// Tasks and containers.

// Task is one task of a PayloadMessage, compiled by the server from the task
// definition and the run's overrides.
type Task struct {
	ARN                           string                         `json:"arn,omitempty"`
	TaskClusterARN                string                         `json:"taskClusterArn,omitempty"`
	Containers                    []Container                    `json:"containers,omitempty"`
	DesiredStatus                 string                         `json:"desiredStatus,omitempty"`
	Family                        string                         `json:"family,omitempty"`
	Overrides                     string                         `json:"overrides,omitempty"`
	Version                       string                         `json:"version,omitempty"`
	Zone                          string                         `json:"zone,omitempty"`
	TaskDefinitionAccountID       string                         `json:"taskDefinitionAccountId,omitempty"`
	Volumes                       []Volume                       `json:"volumes,omitempty"`
	RoleCredentials               *IAMRoleCredentials            `json:"roleCredentials,omitempty"`
	ExecutionRoleCredentials      *IAMRoleCredentials            `json:"executionRoleCredentials,omitempty"`
	ElasticNetworkInterfaces      []ElasticNetworkInterface      `json:"elasticNetworkInterfaces,omitempty"`
	CPU                           float64                        `json:"cpu,omitempty"`    // vCPU (Double), e.g. 0.25
	Memory                        int64                          `json:"memory,omitempty"` // MiB
	Associations                  []Association                  `json:"associations,omitempty"`
	PidMode                       string                         `json:"pidMode,omitempty"`
	IpcMode                       string                         `json:"ipcMode,omitempty"`
	ProxyConfiguration            *ProxyConfiguration            `json:"proxyConfiguration,omitempty"`
	AgentConfiguration            string                         `json:"agentConfiguration,omitempty"`
	LaunchType                    string                         `json:"launchType,omitempty"`
	Attachments                   []Attachment                   `json:"attachments,omitempty"`
	NetworkMode                   string                         `json:"networkMode,omitempty"`
	ServiceName                   string                         `json:"serviceName,omitempty"`
	Group                         string                         `json:"group,omitempty"`
	EnableFaultInjection          bool                           `json:"enableFaultInjection,omitempty"`
	TrustedExecutionConfiguration *TrustedExecutionConfiguration `json:"trustedExecutionConfiguration,omitempty"`
}

// Container is one container of a Task. Environment is a map (the task
// definition's list of name/value pairs, merged with overrides). Everything
// the model has no member for (memoryReservation, logConfiguration, labels,
// ulimits, health check, ...) travels as Docker JSON in DockerConfig.
type Container struct {
	Command                []string                    `json:"command,omitempty"`
	CPU                    int64                       `json:"cpu,omitempty"`
	CredentialSpecs        []string                    `json:"credentialSpecs,omitempty"`
	EntryPoint             []string                    `json:"entryPoint,omitempty"`
	Environment            map[string]string           `json:"environment,omitempty"`
	EnvironmentFiles       []EnvironmentFile           `json:"environmentFiles,omitempty"`
	Essential              bool                        `json:"essential,omitempty"`
	RestartPolicy          *RestartPolicy              `json:"restartPolicy,omitempty"`
	Image                  string                      `json:"image,omitempty"`
	Links                  []string                    `json:"links,omitempty"`
	Memory                 int64                       `json:"memory,omitempty"` // MiB, hard limit
	Name                   string                      `json:"name,omitempty"`
	Overrides              string                      `json:"overrides,omitempty"` // JSON; the agent honours only "command"
	PortMappings           []PortMapping               `json:"portMappings,omitempty"`
	ManagedAgents          []ManagedAgent              `json:"managedAgents,omitempty"`
	MountPoints            []MountPoint                `json:"mountPoints,omitempty"`
	LinuxParameters        *LinuxParameters            `json:"linuxParameters,omitempty"`
	Privileged             *bool                       `json:"privileged,omitempty"`
	NetworkInterfaceNames  []string                    `json:"networkInterfaceNames,omitempty"`
	VolumesFrom            []VolumeFrom                `json:"volumesFrom,omitempty"`
	DockerConfig           *DockerConfig               `json:"dockerConfig,omitempty"`
	HealthCheckType        string                      `json:"healthCheckType,omitempty"`
	RegistryAuthentication *RegistryAuthenticationData `json:"registryAuthentication,omitempty"`
	LogsAuthStrategy       string                      `json:"logsAuthStrategy,omitempty"`
	Secrets                []Secret                    `json:"secrets,omitempty"`
	DependsOn              []ContainerDependency       `json:"dependsOn,omitempty"`
	StartTimeout           int64                       `json:"startTimeout,omitempty"` // seconds
	StopTimeout            int64                       `json:"stopTimeout,omitempty"`  // seconds
	FirelensConfiguration  *FirelensConfiguration      `json:"firelensConfiguration,omitempty"`
	ContainerARN           string                      `json:"containerArn,omitempty"`
	ResourceRequirements   []ResourceRequirement       `json:"resourceRequirements,omitempty"`
}

// DockerConfig holds JSON strings that the agent unmarshals over the Docker
// container Config and HostConfig it built from the first-class members.
type DockerConfig struct {
	Version    string `json:"version,omitempty"`
	Config     string `json:"config,omitempty"`
	HostConfig string `json:"hostConfig,omitempty"`
}

// PortMapping is one container port mapping. HostPort 0 asks for a dynamic
// host port.
type PortMapping struct {
	ContainerPort      int64  `json:"containerPort,omitempty"`
	HostPort           int64  `json:"hostPort,omitempty"`
	ContainerPortRange string `json:"containerPortRange,omitempty"`
	Protocol           string `json:"protocol,omitempty"`
}

// MountPoint mounts a task volume into a container.
type MountPoint struct {
	SourceVolume  string `json:"sourceVolume,omitempty"`
	ContainerPath string `json:"containerPath,omitempty"`
	ReadOnly      bool   `json:"readOnly,omitempty"`
}

// VolumeFrom mounts every volume of another container of the task.
type VolumeFrom struct {
	SourceContainer string `json:"sourceContainer,omitempty"`
	ReadOnly        bool   `json:"readOnly,omitempty"`
}

// ContainerDependency is one dependsOn entry.
type ContainerDependency struct {
	ContainerName string `json:"containerName,omitempty"`
	Condition     string `json:"condition,omitempty"`
}

// EnvironmentFile is an S3 object of environment variables, fetched by the
// agent with the execution role.
type EnvironmentFile struct {
	Value string `json:"value,omitempty"`
	Type  string `json:"type,omitempty"`
}

// Secret is an SSM parameter or Secrets Manager secret that the agent
// resolves with the execution role.
type Secret struct {
	Name          string `json:"name,omitempty"`
	ValueFrom     string `json:"valueFrom,omitempty"`
	ContainerPath string `json:"containerPath,omitempty"`
	Type          string `json:"type,omitempty"`
	Region        string `json:"region,omitempty"`
	Provider      string `json:"provider,omitempty"`
	Target        string `json:"target,omitempty"`
}

// RestartPolicy is the container restart policy.
type RestartPolicy struct {
	Enabled              bool    `json:"enabled,omitempty"`
	IgnoredExitCodes     []int64 `json:"ignoredExitCodes,omitempty"`
	RestartAttemptPeriod int64   `json:"restartAttemptPeriod,omitempty"` // seconds
}

// ManagedAgent is an agent run inside the container (ECS Exec).
type ManagedAgent struct {
	Name       string            `json:"name,omitempty"`
	Properties map[string]string `json:"properties,omitempty"`
}

// LinuxParameters are the Linux-specific container options the model carries
// as members.
type LinuxParameters struct {
	Capabilities       *KernelCapabilities `json:"capabilities,omitempty"`
	Devices            []Device            `json:"devices,omitempty"`
	InitProcessEnabled *bool               `json:"initProcessEnabled,omitempty"`
	SharedMemorySize   *int64              `json:"sharedMemorySize,omitempty"` // MiB
}

// KernelCapabilities adds and drops Linux capabilities.
type KernelCapabilities struct {
	Add  []string `json:"add,omitempty"`
	Drop []string `json:"drop,omitempty"`
}

// Device maps a host device into the container. HostPath is required.
type Device struct {
	HostPath      string   `json:"hostPath"`
	ContainerPath string   `json:"containerPath,omitempty"`
	Permissions   []string `json:"permissions,omitempty"`
}

// RegistryAuthenticationData says how to authenticate the image pull.
type RegistryAuthenticationData struct {
	Type        string       `json:"type,omitempty"`
	ECRAuthData *ECRAuthData `json:"ecrAuthData,omitempty"`
	ASMAuthData *ASMAuthData `json:"asmAuthData,omitempty"`
}

// ECRAuthData authenticates a pull from ECR; EndpointOverride redirects the
// agent's ECR client.
type ECRAuthData struct {
	RegistryID       string `json:"registryId,omitempty"`
	Region           string `json:"region,omitempty"`
	EndpointOverride string `json:"endpointOverride,omitempty"`
	UseExecutionRole bool   `json:"useExecutionRole,omitempty"`
}

// ASMAuthData authenticates a pull with credentials from Secrets Manager.
type ASMAuthData struct {
	CredentialsParameter string `json:"credentialsParameter,omitempty"`
	Region               string `json:"region,omitempty"`
}

// FirelensConfiguration configures a FireLens log router container.
type FirelensConfiguration struct {
	Type    string            `json:"type,omitempty"`
	Options map[string]string `json:"options,omitempty"`
}

// ResourceRequirement is a GPU or inference accelerator requirement.
type ResourceRequirement struct {
	Value           string           `json:"value,omitempty"`
	Type            string           `json:"type,omitempty"`
	SharingStrategy *SharingStrategy `json:"sharingStrategy,omitempty"`
}

// SharingStrategy says how a GPU is shared.
type SharingStrategy struct {
	NvidiaMps *NvidiaMpsAllocation `json:"nvidiaMps,omitempty"`
}

// NvidiaMpsAllocation is an NVIDIA MPS share. Memory is required.
type NvidiaMpsAllocation struct {
	Memory            int64 `json:"memory"`
	MaxComputePercent int64 `json:"maxComputePercent,omitempty"`
}

// Association binds a device (GPU, elastic inference) to containers.
type Association struct {
	Name       string         `json:"name,omitempty"`
	Type       string         `json:"type,omitempty"`
	Content    *EncodedString `json:"content,omitempty"`
	Containers []string       `json:"containers,omitempty"`
}

// EncodedString is a string with its encoding ("identity" or "base64").
type EncodedString struct {
	Value    string `json:"value,omitempty"`
	Encoding string `json:"encoding,omitempty"`
}

// ProxyConfiguration is the App Mesh proxy configuration.
type ProxyConfiguration struct {
	Type          string            `json:"type,omitempty"`
	ContainerName string            `json:"containerName,omitempty"`
	Properties    map[string]string `json:"properties,omitempty"`
}

// TrustedExecutionConfiguration configures confidential computing.
type TrustedExecutionConfiguration struct {
	IsolationMode     string `json:"isolationMode,omitempty"`
	AttestationPolicy string `json:"attestationPolicy,omitempty"`
}

// IAMRoleCredentials is one set of temporary credentials. The agent serves
// them to the task on 169.254.170.2/v2/credentials/<credentialsId> and echoes
// Expiration verbatim.
type IAMRoleCredentials struct {
	CredentialsID   string `json:"credentialsId,omitempty"`
	RoleARN         string `json:"roleArn,omitempty"`
	AccessKeyID     string `json:"accessKeyId,omitempty"`
	SecretAccessKey string `json:"secretAccessKey,omitempty"`
	SessionToken    string `json:"sessionToken,omitempty"`
	Expiration      string `json:"expiration,omitempty"`
	CredentialScope string `json:"credentialScope,omitempty"`
}

// ---------------------------------------------------------------------------
// Volumes.

// Volume is one task volume. Type selects which configuration member applies
// (host, docker, efs, fsxWindowsFileServer, ebs, logDriverOutput).
type Volume struct {
	Name                                    string                                   `json:"name,omitempty"`
	Type                                    string                                   `json:"type,omitempty"`
	Host                                    *HostVolumeProperties                    `json:"host,omitempty"`
	DockerVolumeConfiguration               *DockerVolumeConfiguration               `json:"dockerVolumeConfiguration,omitempty"`
	EFSVolumeConfiguration                  *EFSVolumeConfiguration                  `json:"efsVolumeConfiguration,omitempty"`
	FSxWindowsFileServerVolumeConfiguration *FSxWindowsFileServerVolumeConfiguration `json:"fsxWindowsFileServerVolumeConfiguration,omitempty"`
	EBSVolumeConfiguration                  *EBSVolumeConfiguration                  `json:"ebsVolumeConfiguration,omitempty"`
	LogDriverVolumeConfiguration            *LogDriverVolumeConfiguration            `json:"logDriverVolumeConfiguration,omitempty"`
}

// HostVolumeProperties is a bind mount; an empty SourcePath asks the agent
// for an empty scratch directory.
type HostVolumeProperties struct {
	SourcePath string `json:"sourcePath,omitempty"`
}

// DockerVolumeConfiguration is a Docker named volume.
type DockerVolumeConfiguration struct {
	Scope         string            `json:"scope,omitempty"`
	Autoprovision bool              `json:"autoprovision,omitempty"`
	Driver        string            `json:"driver,omitempty"`
	DriverOpts    map[string]string `json:"driverOpts,omitempty"`
	Labels        map[string]string `json:"labels,omitempty"`
}

// EFSVolumeConfiguration is an EFS file system.
type EFSVolumeConfiguration struct {
	FileSystemID          string                  `json:"fileSystemId,omitempty"`
	RootDirectory         string                  `json:"rootDirectory,omitempty"`
	TransitEncryption     string                  `json:"transitEncryption,omitempty"`
	TransitEncryptionPort int64                   `json:"transitEncryptionPort,omitempty"`
	AuthorizationConfig   *EFSAuthorizationConfig `json:"authorizationConfig,omitempty"`
}

// EFSAuthorizationConfig is the access point and IAM mode of an EFS volume.
type EFSAuthorizationConfig struct {
	AccessPointID string `json:"accessPointId,omitempty"`
	IAM           string `json:"iam,omitempty"`
}

// FSxWindowsFileServerVolumeConfiguration is an FSx for Windows volume.
type FSxWindowsFileServerVolumeConfiguration struct {
	FileSystemID        string                                   `json:"fileSystemId,omitempty"`
	RootDirectory       string                                   `json:"rootDirectory,omitempty"`
	AuthorizationConfig *FSxWindowsFileServerAuthorizationConfig `json:"authorizationConfig,omitempty"`
}

// FSxWindowsFileServerAuthorizationConfig authorises an FSx volume.
type FSxWindowsFileServerAuthorizationConfig struct {
	CredentialsParameter string `json:"credentialsParameter,omitempty"`
	Domain               string `json:"domain,omitempty"`
}

// EBSVolumeConfiguration is an EBS volume attached for the task.
type EBSVolumeConfiguration struct {
	VolumeID            string `json:"volumeId,omitempty"`
	DeleteOnTermination bool   `json:"deleteOnTermination,omitempty"`
	DeviceName          string `json:"deviceName,omitempty"`
	FilesystemType      string `json:"filesystemType,omitempty"`
}

// LogDriverVolumeConfiguration is a volume fed by a log driver.
type LogDriverVolumeConfiguration struct {
	Driver string `json:"driver,omitempty"`
}

// ---------------------------------------------------------------------------
// Network interfaces and attachments (awsvpc).

// ElasticNetworkInterface is one ENI of an awsvpc task or of the instance.
type ElasticNetworkInterface struct {
	Name                         string                            `json:"name,omitempty"`
	MacAddress                   string                            `json:"macAddress,omitempty"`
	AttachmentARN                string                            `json:"attachmentArn,omitempty"`
	EC2ID                        string                            `json:"ec2Id,omitempty"`
	Index                        int64                             `json:"index,omitempty"`
	InterfaceAssociationProtocol string                            `json:"interfaceAssociationProtocol,omitempty"`
	InterfaceTunnelProperties    *NetworkInterfaceTunnelProperties `json:"interfaceTunnelProperties,omitempty"`
	InterfaceVethProperties      *NetworkInterfaceVethProperties   `json:"interfaceVethProperties,omitempty"`
	InterfaceVlanProperties      *NetworkInterfaceVlanProperties   `json:"interfaceVlanProperties,omitempty"`
	IPv4Addresses                []IPv4AddressAssignment           `json:"ipv4Addresses,omitempty"`
	IPv6Addresses                []IPv6AddressAssignment           `json:"ipv6Addresses,omitempty"`
	DomainName                   []string                          `json:"domainName,omitempty"`
	DomainNameServers            []string                          `json:"domainNameServers,omitempty"`
	PrivateDNSName               string                            `json:"privateDnsName,omitempty"`
	SubnetGatewayIPv4Address     string                            `json:"subnetGatewayIpv4Address,omitempty"`
	SubnetGatewayIPv6Address     string                            `json:"subnetGatewayIpv6Address,omitempty"`
}

// IPv4AddressAssignment is one private IPv4 address of an ENI.
type IPv4AddressAssignment struct {
	PrivateAddress string `json:"privateAddress,omitempty"`
	Primary        bool   `json:"primary,omitempty"`
}

// IPv6AddressAssignment is one IPv6 address of an ENI.
type IPv6AddressAssignment struct {
	Address string `json:"address,omitempty"`
	Primary bool   `json:"primary,omitempty"`
}

// NetworkInterfaceTunnelProperties describes a tunnel-associated ENI.
type NetworkInterfaceTunnelProperties struct {
	TunnelID           string `json:"tunnelId,omitempty"`
	InterfaceIPAddress string `json:"interfaceIpAddress,omitempty"`
}

// NetworkInterfaceVethProperties describes a veth-associated ENI.
type NetworkInterfaceVethProperties struct {
	PeerInterface string `json:"peerInterface,omitempty"`
}

// NetworkInterfaceVlanProperties describes a VLAN (branch) ENI.
type NetworkInterfaceVlanProperties struct {
	VlanID                   string `json:"vlanId,omitempty"`
	TrunkInterfaceMacAddress string `json:"trunkInterfaceMacAddress,omitempty"`
}

// Attachment is a generic attachment with name/value properties.
type Attachment struct {
	AttachmentARN        string               `json:"attachmentArn,omitempty"`
	AttachmentType       string               `json:"attachmentType,omitempty"`
	AttachmentProperties []AttachmentProperty `json:"attachmentProperties,omitempty"`
}

// AttachmentProperty is one property of an Attachment.
type AttachmentProperty struct {
	Name  string `json:"name,omitempty"`
	Value string `json:"value,omitempty"`
}
