package acs

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

// modelMembers lists, for every shape Berth models, the member names of the
// agent's api-2.json (ACS model as of aws/amazon-ecs-agent 1255889, TCS model
// as of 39c99d0), in model order. TestModel_Members checks that the Go
// struct has exactly these JSON names, so a typo or a missing member fails.
var modelMembers = map[reflect.Type][]string{
	// ACS
	reflect.TypeFor[ASMAuthData]():           {"credentialsParameter", "region"},
	reflect.TypeFor[AccessDeniedException](): {"message"},
	reflect.TypeFor[AckRequest]():            {"cluster", "containerInstance", "messageId"},
	reflect.TypeFor[Association]():           {"name", "type", "content", "containers"},
	reflect.TypeFor[AttachInstanceNetworkInterfacesMessage](): {"containerInstanceArn", "clusterArn", "generatedAt",
		"messageId", "waitTimeoutMs", "elasticNetworkInterfaces"},
	reflect.TypeFor[AttachTaskNetworkInterfacesMessage](): {"containerInstanceArn", "clusterArn", "taskArn",
		"taskClusterArn", "generatedAt", "messageId", "waitTimeoutMs", "elasticNetworkInterfaces"},
	reflect.TypeFor[Attachment]():          {"attachmentArn", "attachmentType", "attachmentProperties"},
	reflect.TypeFor[AttachmentProperty]():  {"name", "value"},
	reflect.TypeFor[BadRequestException](): {"message"},
	reflect.TypeFor[CloseMessage]():        {"message"},
	reflect.TypeFor[ConfirmAttachmentMessage](): {"containerInstanceArn", "clusterArn", "taskArn", "taskClusterArn",
		"generatedAt", "messageId", "waitTimeoutMs", "attachment"},
	reflect.TypeFor[Container](): {"command", "cpu", "credentialSpecs", "entryPoint", "environment",
		"environmentFiles", "essential", "restartPolicy", "image", "links", "memory", "name", "overrides",
		"portMappings", "managedAgents", "mountPoints", "linuxParameters", "privileged", "networkInterfaceNames",
		"volumesFrom", "dockerConfig", "healthCheckType", "registryAuthentication", "logsAuthStrategy", "secrets",
		"dependsOn", "startTimeout", "stopTimeout", "firelensConfiguration", "containerArn", "resourceRequirements"},
	reflect.TypeFor[ResourceRequirement]():       {"value", "type", "sharingStrategy"},
	reflect.TypeFor[SharingStrategy]():           {"nvidiaMps"},
	reflect.TypeFor[NvidiaMpsAllocation]():       {"memory", "maxComputePercent"},
	reflect.TypeFor[RestartPolicy]():             {"enabled", "ignoredExitCodes", "restartAttemptPeriod"},
	reflect.TypeFor[ContainerDependency]():       {"containerName", "condition"},
	reflect.TypeFor[DockerConfig]():              {"version", "config", "hostConfig"},
	reflect.TypeFor[DockerVolumeConfiguration](): {"scope", "autoprovision", "driver", "driverOpts", "labels"},
	reflect.TypeFor[EBSVolumeConfiguration]():    {"volumeId", "deleteOnTermination", "deviceName", "filesystemType"},
	reflect.TypeFor[ECRAuthData]():               {"registryId", "region", "endpointOverride", "useExecutionRole"},
	reflect.TypeFor[EFSAuthorizationConfig]():    {"accessPointId", "iam"},
	reflect.TypeFor[EFSVolumeConfiguration](): {"fileSystemId", "rootDirectory", "transitEncryption",
		"transitEncryptionPort", "authorizationConfig"},
	reflect.TypeFor[ElasticNetworkInterface](): {"name", "macAddress", "attachmentArn", "ec2Id", "index",
		"interfaceAssociationProtocol", "interfaceTunnelProperties", "interfaceVethProperties",
		"interfaceVlanProperties", "ipv4Addresses", "ipv6Addresses", "domainName", "domainNameServers",
		"privateDnsName", "subnetGatewayIpv4Address", "subnetGatewayIpv6Address"},
	reflect.TypeFor[EncodedString]():                           {"value", "encoding"},
	reflect.TypeFor[EnvironmentFile]():                         {"value", "type"},
	reflect.TypeFor[ErrorMessage]():                            {"message"},
	reflect.TypeFor[FSxWindowsFileServerAuthorizationConfig](): {"credentialsParameter", "domain"},
	reflect.TypeFor[FSxWindowsFileServerVolumeConfiguration](): {"fileSystemId", "rootDirectory", "authorizationConfig"},
	reflect.TypeFor[FirelensConfiguration]():                   {"type", "options"},
	reflect.TypeFor[HeartbeatAckRequest]():                     {"messageId"},
	reflect.TypeFor[HeartbeatMessage]():                        {"healthy", "messageId"},
	reflect.TypeFor[HostVolumeProperties]():                    {"sourcePath"},
	reflect.TypeFor[IAMRoleCredentials](): {"credentialsId", "roleArn", "accessKeyId", "secretAccessKey",
		"sessionToken", "expiration", "credentialScope"},
	reflect.TypeFor[IAMRoleCredentialsAckRequest]():     {"messageId", "expiration", "credentialsId"},
	reflect.TypeFor[IAMRoleCredentialsMessage]():        {"taskArn", "taskClusterArn", "roleCredentials", "roleType", "messageId"},
	reflect.TypeFor[IPv4AddressAssignment]():            {"privateAddress", "primary"},
	reflect.TypeFor[IPv6AddressAssignment]():            {"address", "primary"},
	reflect.TypeFor[InactiveInstanceException]():        {"message"},
	reflect.TypeFor[InvalidClusterException]():          {"message"},
	reflect.TypeFor[InvalidInstanceException]():         {"message"},
	reflect.TypeFor[LogDriverVolumeConfiguration]():     {"driver"},
	reflect.TypeFor[ManagedAgent]():                     {"name", "properties"},
	reflect.TypeFor[MountPoint]():                       {"sourceVolume", "containerPath", "readOnly"},
	reflect.TypeFor[KernelCapabilities]():               {"add", "drop"},
	reflect.TypeFor[Device]():                           {"hostPath", "containerPath", "permissions"},
	reflect.TypeFor[LinuxParameters]():                  {"capabilities", "devices", "initProcessEnabled", "sharedMemorySize"},
	reflect.TypeFor[NackRequest]():                      {"cluster", "containerInstance", "messageId", "reason"},
	reflect.TypeFor[NetworkInterfaceTunnelProperties](): {"tunnelId", "interfaceIpAddress"},
	reflect.TypeFor[NetworkInterfaceVethProperties]():   {"peerInterface"},
	reflect.TypeFor[NetworkInterfaceVlanProperties]():   {"vlanId", "trunkInterfaceMacAddress"},
	reflect.TypeFor[PayloadMessage](): {"containerInstanceArn", "clusterArn", "tasks", "generatedAt", "messageId",
		"seqNum", "timeline"},
	reflect.TypeFor[PerformUpdateMessage](): {"containerInstanceArn", "clusterArn", "updateInfo", "messageId"},
	reflect.TypeFor[PollRequest](): {"cluster", "containerInstance", "seqNum", "timeline", "versionInfo",
		"sendCredentials", "protocolVersion"},
	reflect.TypeFor[PortMapping]():                {"containerPort", "hostPort", "containerPortRange", "protocol"},
	reflect.TypeFor[ProxyConfiguration]():         {"type", "containerName", "properties"},
	reflect.TypeFor[RegistryAuthenticationData](): {"type", "ecrAuthData", "asmAuthData"},
	reflect.TypeFor[Secret]():                     {"name", "valueFrom", "containerPath", "type", "region", "provider", "target"},
	reflect.TypeFor[ServerException]():            {"message"},
	reflect.TypeFor[StageUpdateMessage]():         {"containerInstanceArn", "clusterArn", "updateInfo", "messageId"},
	reflect.TypeFor[Task](): {"arn", "taskClusterArn", "containers", "desiredStatus", "family", "overrides",
		"version", "zone", "taskDefinitionAccountId", "volumes", "roleCredentials", "executionRoleCredentials",
		"elasticNetworkInterfaces", "cpu", "memory", "associations", "pidMode", "ipcMode", "proxyConfiguration",
		"agentConfiguration", "launchType", "attachments", "networkMode", "serviceName", "group",
		"enableFaultInjection", "trustedExecutionConfiguration"},
	reflect.TypeFor[TaskIdentifier](): {"taskArn", "taskClusterArn", "desiredStatus"},
	reflect.TypeFor[TaskManifestMessage](): {"containerInstanceArn", "clusterArn", "tasks", "generatedAt",
		"messageId", "timeline"},
	reflect.TypeFor[TaskStopVerificationAck]():       {"generatedAt", "messageId", "stopTasks"},
	reflect.TypeFor[TaskStopVerificationMessage]():   {"messageId", "stopCandidates"},
	reflect.TypeFor[TrustedExecutionConfiguration](): {"isolationMode", "attestationPolicy"},
	reflect.TypeFor[UpdateInfo]():                    {"location", "signature"},
	reflect.TypeFor[VersionInfo]():                   {"agentVersion", "agentHash", "dockerVersion"},
	reflect.TypeFor[Volume](): {"name", "type", "host", "dockerVolumeConfiguration", "efsVolumeConfiguration",
		"fsxWindowsFileServerVolumeConfiguration", "ebsVolumeConfiguration", "logDriverVolumeConfiguration"},
	reflect.TypeFor[VolumeFrom](): {"sourceContainer", "readOnly"},

	// TCS
	reflect.TypeFor[AckPublishHealth]():         {"message"},
	reflect.TypeFor[AckPublishInstanceStatus](): {"message"},
	reflect.TypeFor[AckPublishMetric]():         {"message"},
	reflect.TypeFor[CWStatsSet]():               {"min", "max", "sampleCount", "sum"},
	reflect.TypeFor[ContainerHealth]():          {"containerName", "healthStatus", "statusSince", "statusMessage"},
	reflect.TypeFor[ContainerMetric](): {"containerArn", "containerName", "cpuStatsSet", "memoryStatsSet",
		"networkStatsSet", "storageStatsSet", "restartStatsSet"},
	reflect.TypeFor[Dimension]():                 {"key", "value"},
	reflect.TypeFor[EphemeralStorageMetrics]():   {"bytesUtilized"},
	reflect.TypeFor[GeneralMetric]():             {"metricName", "metricValues", "metricCounts"},
	reflect.TypeFor[GeneralMetricsWrapper]():     {"dimensions", "metricType", "generalMetrics"},
	reflect.TypeFor[HealthMetadata]():            {"cluster", "containerInstance", "messageId", "fin"},
	reflect.TypeFor[InstanceMetrics]():           {"storage"},
	reflect.TypeFor[InstanceStatus]():            {"type", "status", "lastUpdated", "lastStatusChange"},
	reflect.TypeFor[InstanceStatusMetadata]():    {"cluster", "containerInstance", "requestId"},
	reflect.TypeFor[InstanceStorageMetrics]():    {"OSFilesystem", "DataFilesystem"},
	reflect.TypeFor[InvalidParameterException](): {"message"},
	reflect.TypeFor[MetricsMetadata]():           {"cluster", "containerInstance", "messageId", "idle", "fin"},
	reflect.TypeFor[NetworkStatsSet](): {"rxBytesPerSecond", "rxBytes", "rxDropped", "rxErrors", "rxPackets",
		"txBytesPerSecond", "txBytes", "txDropped", "txErrors", "txPackets"},
	reflect.TypeFor[PublishHealthRequest]():         {"metadata", "tasks", "timestamp"},
	reflect.TypeFor[PublishInstanceStatusRequest](): {"metadata", "statuses", "timestamp"},
	reflect.TypeFor[PublishMetricsRequest]():        {"metadata", "instanceMetrics", "taskMetrics", "timestamp"},
	reflect.TypeFor[ResourceValidationException]():  {"message"},
	reflect.TypeFor[RestartStatsSet]():              {"restartCount"},
	reflect.TypeFor[StartTelemetrySessionRequest](): {"cluster", "containerInstance"},
	reflect.TypeFor[StopTelemetrySessionMessage]():  {"message"},
	reflect.TypeFor[StorageStatsSet]():              {"readSizeBytes", "writeSizeBytes"},
	reflect.TypeFor[TaskHealth](): {"taskArn", "clusterArn", "taskDefinitionFamily", "taskDefinitionVersion",
		"containers"},
	reflect.TypeFor[TaskMetric](): {"taskArn", "clusterArn", "taskDefinitionFamily", "taskDefinitionVersion",
		"containerMetrics", "ephemeralStorageMetrics", "volumeMetrics", "serviceConnectMetricsWrapper"},
	reflect.TypeFor[UDoubleCWStatsSet](): {"min", "max", "sampleCount", "sum"},
	reflect.TypeFor[ULongStatsSet](): {"min", "max", "sampleCount", "sum", "overflowMin", "overflowMax",
		"overflowSum"},
	reflect.TypeFor[VolumeMetric](): {"volumeId", "volumeName", "utilized", "size"},
}

// requiredMembers are the members the models mark required: always written.
var requiredMembers = map[reflect.Type][]string{
	reflect.TypeFor[NvidiaMpsAllocation](): {"memory"},
	reflect.TypeFor[Device]():              {"hostPath"},
	reflect.TypeFor[UDoubleCWStatsSet]():   {"min", "max", "sampleCount", "sum"},
	reflect.TypeFor[ULongStatsSet]():       {"min", "max", "sampleCount", "sum"},
}

// jsonMembers returns the JSON names of t's fields and which are omitted
// when empty.
func jsonMembers(t reflect.Type) (names []string, optional map[string]bool) {
	optional = map[string]bool{}
	for f := range t.Fields() {
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		names = append(names, name)
		optional[name] = strings.Contains(opts, "omitempty") || strings.Contains(opts, "omitzero")
	}
	return names, optional
}

func TestModel_Members(t *testing.T) {
	for typ, want := range modelMembers {
		t.Run(typ.Name(), func(t *testing.T) {
			got, optional := jsonMembers(typ)
			if !slices.Equal(got, want) {
				t.Errorf("JSON members\n got %q\nwant %q", got, want)
			}
			required := requiredMembers[typ]
			for _, name := range got {
				if optional[name] == slices.Contains(required, name) {
					t.Errorf("member %q: omitempty=%v, required by the model=%v", name, optional[name], slices.Contains(required, name))
				}
			}
		})
	}
}

// TestModel_EveryStructListed makes sure that every struct reachable from a
// frame type is in modelMembers, so no shape escapes the member check.
func TestModel_EveryStructListed(t *testing.T) {
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || t == reflect.TypeFor[Timestamp]() || seen[t] {
			return
		}
		seen[t] = true
		for f := range t.Fields() {
			walk(f.Type)
		}
	}
	for _, c := range []*codec{acsCodec, tcsCodec} {
		for typ := range c.byType {
			walk(typ)
		}
	}
	for typ := range seen {
		if _, ok := modelMembers[typ]; !ok {
			t.Errorf("%s is not in modelMembers", typ.Name())
		}
	}
	for typ := range modelMembers {
		if !seen[typ] {
			t.Errorf("%s is in modelMembers but no frame reaches it", typ.Name())
		}
	}
}
