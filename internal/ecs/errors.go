// Package ecs holds Berth's domain vocabulary that every layer shares: the
// typed error that carries an ECS exception name, and ARN helpers. It does no
// I/O and imports only the standard library and wire.
package ecs

import (
	"errors"
	"fmt"
)

// Code is an ECS exception name as it appears in `__type` on the wire.
type Code string

// The exception names Berth produces. Each is a modelled ECS exception
// except the protocol-level ones marked below.
const (
	AccessDenied                          Code = "AccessDeniedException"
	AttributeLimitExceeded                Code = "AttributeLimitExceededException"
	Blocked                               Code = "BlockedException"
	ClientError                           Code = "ClientException"
	ClusterContainsCapacityProvider       Code = "ClusterContainsCapacityProviderException"
	ClusterContainsContainerInstances     Code = "ClusterContainsContainerInstancesException"
	ClusterContainsServices               Code = "ClusterContainsServicesException"
	ClusterContainsTasks                  Code = "ClusterContainsTasksException"
	ClusterNotFound                       Code = "ClusterNotFoundException"
	Conflict                              Code = "ConflictException"
	InvalidParameter                      Code = "InvalidParameterException"
	LimitExceeded                         Code = "LimitExceededException"
	MissingVersion                        Code = "MissingVersionException"
	NamespaceNotFound                     Code = "NamespaceNotFoundException"
	NoUpdateAvailable                     Code = "NoUpdateAvailableException"
	PlatformTaskDefinitionIncompatibility Code = "PlatformTaskDefinitionIncompatibilityException"
	PlatformUnknown                       Code = "PlatformUnknownException"
	ResourceInUse                         Code = "ResourceInUseException"
	ResourceNotFound                      Code = "ResourceNotFoundException"
	ServerError                           Code = "ServerException"
	ServiceDeploymentNotFound             Code = "ServiceDeploymentNotFoundException"
	ServiceNotActive                      Code = "ServiceNotActiveException"
	ServiceNotFound                       Code = "ServiceNotFoundException"
	TargetNotConnected                    Code = "TargetNotConnectedException"
	TargetNotFound                        Code = "TargetNotFoundException"
	TaskSetNotFound                       Code = "TaskSetNotFoundException"
	UnsupportedFeature                    Code = "UnsupportedFeatureException"
	UpdateInProgress                      Code = "UpdateInProgressException"

	// Protocol-level (common AWS JSON) errors, not in the ECS model.
	UnknownOperation           Code = "UnknownOperationException"
	Serialization              Code = "SerializationException"
	UnrecognizedClient         Code = "UnrecognizedClientException"
	InvalidSignature           Code = "InvalidSignatureException"
	MissingAuthenticationToken Code = "MissingAuthenticationTokenException"
	IncompleteSignature        Code = "IncompleteSignatureException"
	RequestExpired             Code = "RequestExpired"
	RequestEntityTooLarge      Code = "RequestEntityTooLargeException"
)

// Error is an expected failure with an ECS exception name. The api package
// maps it to `{"__type","message"}` and an HTTP status; nothing else does.
type Error struct {
	Code    Code
	Message string
	// ResourceIDs is set for ConflictException (the model's resourceIds).
	ResourceIDs []string
}

func (e *Error) Error() string { return string(e.Code) + ": " + e.Message }

// Errorf returns an *Error with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// CodeOf returns the Code of err if it is (or wraps) an *Error, else "".
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// Messages that clients match on (Terraform, the agent); keep them exact.
const (
	MsgClusterNotFound   = "Cluster not found."
	MsgClusterInactive   = "The specified cluster is inactive. Specify an active cluster and try again."
	MsgTaskDefNotFound   = "Unable to describe task definition."
	MsgContainsInstances = "The Cluster cannot be deleted while Container Instances are active or draining."
	MsgContainsServices  = "The Cluster cannot be deleted while Services are active."
	MsgContainsTasks     = "The Cluster cannot be deleted while Tasks are active."
)
