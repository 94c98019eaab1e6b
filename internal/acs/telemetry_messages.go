package acs

// This file holds the TCS shapes of the agent's telemetry model
// (ecs-agent/tcs/model/api/api-2.json). Conventions are those of
// messages.go, plus: the model's Timestamp is Timestamp (epoch seconds on the
// wire), UInteger and ULong are int64, and the members the model marks
// required (the four statistics of UDoubleCWStatsSet and ULongStatsSet) are
// always written. TCS shares HeartbeatMessage (without messageId),
// ServerException and BadRequestException with ACS.
//
// Note the two members of InstanceStorageMetrics, "OSFilesystem" and
// "DataFilesystem": UpperCamel in the model, unlike everything else.

// Container health statuses (HealthStatus).
const (
	HealthStatusHealthy   = "HEALTHY"
	HealthStatusUnhealthy = "UNHEALTHY"
	HealthStatusUnknown   = "UNKNOWN"
)

// Instance health check statuses (InstanceHealthcheckStatus).
const (
	InstanceStatusOK               = "OK"
	InstanceStatusImpaired         = "IMPAIRED"
	InstanceStatusInsufficientData = "INSUFFICIENT_DATA"
	InstanceStatusInitializing     = "INITIALIZING"
)

// PublishMetricsRequest carries task and container statistics for one
// publishing interval (20 s by default). A large report is split into several
// requests; the last has metadata.fin set.
type PublishMetricsRequest struct {
	Metadata        *MetricsMetadata `json:"metadata,omitempty"`
	InstanceMetrics *InstanceMetrics `json:"instanceMetrics,omitempty"`
	TaskMetrics     []TaskMetric     `json:"taskMetrics,omitempty"`
	Timestamp       Timestamp        `json:"timestamp,omitzero"`
}

// PublishHealthRequest carries container health statuses.
type PublishHealthRequest struct {
	Metadata  *HealthMetadata `json:"metadata,omitempty"`
	Tasks     []TaskHealth    `json:"tasks,omitempty"`
	Timestamp Timestamp       `json:"timestamp,omitzero"`
}

// PublishInstanceStatusRequest carries the agent's own health checks of the
// instance (container runtime reachable, ...).
type PublishInstanceStatusRequest struct {
	Metadata  *InstanceStatusMetadata `json:"metadata,omitempty"`
	Statuses  []InstanceStatus        `json:"statuses,omitempty"`
	Timestamp Timestamp               `json:"timestamp,omitzero"`
}

// AckPublishMetric acknowledges a PublishMetricsRequest.
type AckPublishMetric struct {
	Message string `json:"message,omitempty"`
}

// AckPublishHealth acknowledges a PublishHealthRequest.
type AckPublishHealth struct {
	Message string `json:"message,omitempty"`
}

// AckPublishInstanceStatus acknowledges a PublishInstanceStatusRequest.
type AckPublishInstanceStatus struct {
	Message string `json:"message,omitempty"`
}

// StartTelemetrySessionRequest is the input of the model's
// StartTelemetrySession operation; like PollRequest it does not travel as a
// frame (the URL's query carries cluster and containerInstance).
type StartTelemetrySessionRequest struct {
	Cluster           string `json:"cluster,omitempty"`
	ContainerInstance string `json:"containerInstance,omitempty"`
}

// StopTelemetrySessionMessage asks the agent to end the telemetry session.
type StopTelemetrySessionMessage struct {
	Message string `json:"message,omitempty"`
}

// ResourceValidationException is a TCS error shape.
type ResourceValidationException struct {
	Message string `json:"message,omitempty"`
}

// InvalidParameterException is a TCS error shape.
type InvalidParameterException struct {
	Message string `json:"message,omitempty"`
}

func (e *ResourceValidationException) Error() string            { return exceptionString(e) }
func (e *ResourceValidationException) ExceptionName() string    { return "ResourceValidationException" }
func (e *ResourceValidationException) ExceptionMessage() string { return e.Message }

func (e *InvalidParameterException) Error() string            { return exceptionString(e) }
func (e *InvalidParameterException) ExceptionName() string    { return "InvalidParameterException" }
func (e *InvalidParameterException) ExceptionMessage() string { return e.Message }

// MetricsMetadata identifies a metrics report.
type MetricsMetadata struct {
	Cluster           string `json:"cluster,omitempty"`
	ContainerInstance string `json:"containerInstance,omitempty"`
	MessageID         string `json:"messageId,omitempty"`
	Idle              bool   `json:"idle,omitempty"`
	Fin               bool   `json:"fin,omitempty"`
}

// HealthMetadata identifies a health report.
type HealthMetadata struct {
	Cluster           string `json:"cluster,omitempty"`
	ContainerInstance string `json:"containerInstance,omitempty"`
	MessageID         string `json:"messageId,omitempty"`
	Fin               bool   `json:"fin,omitempty"`
}

// InstanceStatusMetadata identifies an instance status report.
type InstanceStatusMetadata struct {
	Cluster           string `json:"cluster,omitempty"`
	ContainerInstance string `json:"containerInstance,omitempty"`
	RequestID         string `json:"requestId,omitempty"`
}

// InstanceMetrics are instance-wide statistics.
type InstanceMetrics struct {
	Storage *InstanceStorageMetrics `json:"storage,omitempty"`
}

// InstanceStorageMetrics are file system utilisations in percent.
type InstanceStorageMetrics struct {
	OSFilesystem   float64 `json:"OSFilesystem,omitempty"`
	DataFilesystem float64 `json:"DataFilesystem,omitempty"`
}

// InstanceStatus is one instance health check result.
type InstanceStatus struct {
	Type             string    `json:"type,omitempty"`
	Status           string    `json:"status,omitempty"`
	LastUpdated      Timestamp `json:"lastUpdated,omitzero"`
	LastStatusChange Timestamp `json:"lastStatusChange,omitzero"`
}

// TaskMetric holds the statistics of one task.
type TaskMetric struct {
	TaskARN                      string                   `json:"taskArn,omitempty"`
	ClusterARN                   string                   `json:"clusterArn,omitempty"`
	TaskDefinitionFamily         string                   `json:"taskDefinitionFamily,omitempty"`
	TaskDefinitionVersion        string                   `json:"taskDefinitionVersion,omitempty"`
	ContainerMetrics             []ContainerMetric        `json:"containerMetrics,omitempty"`
	EphemeralStorageMetrics      *EphemeralStorageMetrics `json:"ephemeralStorageMetrics,omitempty"`
	VolumeMetrics                []VolumeMetric           `json:"volumeMetrics,omitempty"`
	ServiceConnectMetricsWrapper []GeneralMetricsWrapper  `json:"serviceConnectMetricsWrapper,omitempty"`
}

// ContainerMetric holds the statistics of one container.
type ContainerMetric struct {
	ContainerARN    string           `json:"containerArn,omitempty"`
	ContainerName   string           `json:"containerName,omitempty"`
	CPUStatsSet     *CWStatsSet      `json:"cpuStatsSet,omitempty"`
	MemoryStatsSet  *CWStatsSet      `json:"memoryStatsSet,omitempty"`
	NetworkStatsSet *NetworkStatsSet `json:"networkStatsSet,omitempty"`
	StorageStatsSet *StorageStatsSet `json:"storageStatsSet,omitempty"`
	RestartStatsSet *RestartStatsSet `json:"restartStatsSet,omitempty"`
}

// CWStatsSet is a CloudWatch statistic set (CPU in percent of one core,
// memory in MiB, as the agent reports them).
type CWStatsSet struct {
	Min         float64 `json:"min,omitempty"`
	Max         float64 `json:"max,omitempty"`
	SampleCount int64   `json:"sampleCount,omitempty"`
	Sum         float64 `json:"sum,omitempty"`
}

// UDoubleCWStatsSet is a statistic set of non-negative doubles; all four
// members are required.
type UDoubleCWStatsSet struct {
	Min         float64 `json:"min"`
	Max         float64 `json:"max"`
	SampleCount int64   `json:"sampleCount"`
	Sum         float64 `json:"sum"`
}

// ULongStatsSet is a statistic set of non-negative longs; min, max,
// sampleCount and sum are required, the overflow members are optional.
type ULongStatsSet struct {
	Min         int64 `json:"min"`
	Max         int64 `json:"max"`
	SampleCount int64 `json:"sampleCount"`
	Sum         int64 `json:"sum"`
	OverflowMin int64 `json:"overflowMin,omitempty"`
	OverflowMax int64 `json:"overflowMax,omitempty"`
	OverflowSum int64 `json:"overflowSum,omitempty"`
}

// NetworkStatsSet holds network statistics.
type NetworkStatsSet struct {
	RxBytesPerSecond *UDoubleCWStatsSet `json:"rxBytesPerSecond,omitempty"`
	RxBytes          *ULongStatsSet     `json:"rxBytes,omitempty"`
	RxDropped        *ULongStatsSet     `json:"rxDropped,omitempty"`
	RxErrors         *ULongStatsSet     `json:"rxErrors,omitempty"`
	RxPackets        *ULongStatsSet     `json:"rxPackets,omitempty"`
	TxBytesPerSecond *UDoubleCWStatsSet `json:"txBytesPerSecond,omitempty"`
	TxBytes          *ULongStatsSet     `json:"txBytes,omitempty"`
	TxDropped        *ULongStatsSet     `json:"txDropped,omitempty"`
	TxErrors         *ULongStatsSet     `json:"txErrors,omitempty"`
	TxPackets        *ULongStatsSet     `json:"txPackets,omitempty"`
}

// StorageStatsSet holds block I/O statistics.
type StorageStatsSet struct {
	ReadSizeBytes  *ULongStatsSet `json:"readSizeBytes,omitempty"`
	WriteSizeBytes *ULongStatsSet `json:"writeSizeBytes,omitempty"`
}

// RestartStatsSet counts container restarts.
type RestartStatsSet struct {
	RestartCount int64 `json:"restartCount,omitempty"`
}

// EphemeralStorageMetrics is the task's ephemeral storage use.
type EphemeralStorageMetrics struct {
	BytesUtilized *ULongStatsSet `json:"bytesUtilized,omitempty"`
}

// VolumeMetric is the use of one task volume.
type VolumeMetric struct {
	VolumeID   string             `json:"volumeId,omitempty"`
	VolumeName string             `json:"volumeName,omitempty"`
	Utilized   *UDoubleCWStatsSet `json:"utilized,omitempty"`
	Size       *UDoubleCWStatsSet `json:"size,omitempty"`
}

// GeneralMetricsWrapper is a group of Service Connect metrics.
type GeneralMetricsWrapper struct {
	Dimensions     []Dimension     `json:"dimensions,omitempty"`
	MetricType     string          `json:"metricType,omitempty"`
	GeneralMetrics []GeneralMetric `json:"generalMetrics,omitempty"`
}

// Dimension is one metric dimension.
type Dimension struct {
	Key   string `json:"key,omitempty"`
	Value string `json:"value,omitempty"`
}

// GeneralMetric is one Service Connect metric.
type GeneralMetric struct {
	MetricName   string    `json:"metricName,omitempty"`
	MetricValues []float64 `json:"metricValues,omitempty"`
	MetricCounts []int64   `json:"metricCounts,omitempty"`
}

// TaskHealth holds the container health of one task.
type TaskHealth struct {
	TaskARN               string            `json:"taskArn,omitempty"`
	ClusterARN            string            `json:"clusterArn,omitempty"`
	TaskDefinitionFamily  string            `json:"taskDefinitionFamily,omitempty"`
	TaskDefinitionVersion string            `json:"taskDefinitionVersion,omitempty"`
	Containers            []ContainerHealth `json:"containers,omitempty"`
}

// ContainerHealth is the health of one container.
type ContainerHealth struct {
	ContainerName string    `json:"containerName,omitempty"`
	HealthStatus  string    `json:"healthStatus,omitempty"`
	StatusSince   Timestamp `json:"statusSince,omitzero"`
	StatusMessage string    `json:"statusMessage,omitempty"`
}
