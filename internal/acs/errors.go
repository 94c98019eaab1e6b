package acs

import (
	"fmt"
	"net/http"
)

// Error is the type of the package's sentinel errors. They are constants, so
// no caller can change them; compare with errors.Is.
type Error string

func (e Error) Error() string { return string(e) }

// The sentinel errors. A session's cause (Backend.Disconnect, Session.Err)
// is one of these, or wraps the websocket error that ended it.
const (
	// ErrSessionClosed reports a Send or Recv on a session or client
	// connection that has ended.
	ErrSessionClosed Error = "acs: session closed"
	// ErrSlowConsumer reports that the session's send queue was full: the
	// agent does not read fast enough, so the session was closed rather
	// than blocking the sender.
	ErrSlowConsumer Error = "acs: send queue full, agent disconnected"
	// ErrInactive reports that nothing arrived from the agent within the
	// inactivity timeout.
	ErrInactive Error = "acs: agent inactive"
	// ErrReplaced reports that the container instance opened a newer
	// session, which replaced this one.
	ErrReplaced Error = "acs: replaced by a newer session of the same container instance"
	// ErrHandlerClosed reports that the handler was closed (server
	// shutdown).
	ErrHandlerClosed Error = "acs: handler closed"
	// ErrPeerClosed reports that the agent closed the websocket or the
	// connection broke; the cause wraps the websocket error.
	ErrPeerClosed Error = "acs: connection closed by peer"
)

// UnknownTypeError reports a frame whose "type" is not a shape of the
// protocol (Decode), or a value whose Go type is not a message (Encode). The
// connection stays usable.
type UnknownTypeError struct {
	// Type is the frame's type, or for Encode the Go type.
	Type string
}

func (e *UnknownTypeError) Error() string {
	return fmt.Sprintf("acs: unknown message type %q", e.Type)
}

// MalformedFrameError reports bytes that are not a frame: not JSON, not an
// object, no "type", or a "message" that does not fit the shape.
type MalformedFrameError struct {
	// Type is the frame's type when it could be read.
	Type string
	// Err is the underlying decoding error, if any.
	Err error
	// Reason is a short description when Err is nil.
	Reason string
}

func (e *MalformedFrameError) Error() string {
	what := "frame"
	if e.Type != "" {
		what = fmt.Sprintf("%s frame", e.Type)
	}
	if e.Err != nil {
		return fmt.Sprintf("acs: malformed %s: %v", what, e.Err)
	}
	return fmt.Sprintf("acs: malformed %s: %s", what, e.Reason)
}

func (e *MalformedFrameError) Unwrap() error { return e.Err }

// Exception is implemented by the modelled error shapes (ServerException,
// InactiveInstanceException, ...). They travel as frames, or, when a
// handshake is refused, as the HTTP body {"<ExceptionName>":"<message>"}.
// A Backend or Authenticator returning an Exception chooses the refusal the
// agent sees.
type Exception interface {
	error
	// ExceptionName is the shape name, e.g. "InactiveInstanceException".
	ExceptionName() string
	// ExceptionMessage is the message member.
	ExceptionMessage() string
}

// HandshakeError is returned by Dial when the server refuses the websocket
// upgrade. Exception is the modelled error decoded from the body (nil when
// the body is not one); errors.As reaches it through Unwrap.
type HandshakeError struct {
	StatusCode int
	Body       []byte
	Exception  Exception
}

func (e *HandshakeError) Error() string {
	if e.Exception != nil {
		return fmt.Sprintf("acs: handshake refused (HTTP %d): %v", e.StatusCode, e.Exception)
	}
	return fmt.Sprintf("acs: handshake refused (HTTP %d): %.200q", e.StatusCode, e.Body)
}

func (e *HandshakeError) Unwrap() error {
	if e.Exception == nil {
		return nil
	}
	return e.Exception
}

// The ACS exception shapes (TCS adds ResourceValidationException and
// InvalidParameterException, see telemetry_messages.go). Each is an error.

// ServerException is an internal error of the server.
type ServerException struct {
	Message string `json:"message,omitempty"`
}

// BadRequestException reports a malformed connection request.
type BadRequestException struct {
	Message string `json:"message,omitempty"`
}

// InvalidClusterException reports an unknown cluster.
type InvalidClusterException struct {
	Message string `json:"message,omitempty"`
}

// InvalidInstanceException reports an unknown container instance.
type InvalidInstanceException struct {
	Message string `json:"message,omitempty"`
}

// InactiveInstanceException reports a deregistered container instance. On
// connect, it makes the agent consider itself deregistered and wait an hour
// before reconnecting.
type InactiveInstanceException struct {
	Message string `json:"message,omitempty"`
}

// AccessDeniedException reports failed authentication or authorisation.
type AccessDeniedException struct {
	Message string `json:"message,omitempty"`
}

func (e *ServerException) Error() string            { return exceptionString(e) }
func (e *ServerException) ExceptionName() string    { return "ServerException" }
func (e *ServerException) ExceptionMessage() string { return e.Message }

func (e *BadRequestException) Error() string            { return exceptionString(e) }
func (e *BadRequestException) ExceptionName() string    { return "BadRequestException" }
func (e *BadRequestException) ExceptionMessage() string { return e.Message }

func (e *InvalidClusterException) Error() string            { return exceptionString(e) }
func (e *InvalidClusterException) ExceptionName() string    { return "InvalidClusterException" }
func (e *InvalidClusterException) ExceptionMessage() string { return e.Message }

func (e *InvalidInstanceException) Error() string            { return exceptionString(e) }
func (e *InvalidInstanceException) ExceptionName() string    { return "InvalidInstanceException" }
func (e *InvalidInstanceException) ExceptionMessage() string { return e.Message }

func (e *InactiveInstanceException) Error() string            { return exceptionString(e) }
func (e *InactiveInstanceException) ExceptionName() string    { return "InactiveInstanceException" }
func (e *InactiveInstanceException) ExceptionMessage() string { return e.Message }

func (e *AccessDeniedException) Error() string            { return exceptionString(e) }
func (e *AccessDeniedException) ExceptionName() string    { return "AccessDeniedException" }
func (e *AccessDeniedException) ExceptionMessage() string { return e.Message }

func exceptionString(e Exception) string {
	if e.ExceptionMessage() == "" {
		return e.ExceptionName()
	}
	return e.ExceptionName() + ": " + e.ExceptionMessage()
}

// exceptionStatus is the HTTP status of a refused handshake.
func exceptionStatus(e Exception) int {
	switch e.ExceptionName() {
	case "AccessDeniedException":
		return http.StatusForbidden
	case "ServerException":
		return http.StatusInternalServerError
	default:
		return http.StatusBadRequest
	}
}
