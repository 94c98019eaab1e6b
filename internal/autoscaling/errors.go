package autoscaling

import (
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
)

// Code is an EC2 Auto Scaling error code, as the Query protocol's
// <Error><Code> carries it. The modelled ones are the model's error shapes
// (AlreadyExistsFault has code "AlreadyExists", and so on); the SDKs turn
// them into their typed exceptions.
type Code string

// The error codes this package returns.
const (
	ValidationError           Code = "ValidationError"
	AlreadyExists             Code = "AlreadyExists"
	ResourceInUse             Code = "ResourceInUse"
	ScalingActivityInProgress Code = "ScalingActivityInProgress"
	ResourceContention        Code = "ResourceContention"
	LimitExceeded             Code = "LimitExceeded"
	InvalidNextToken          Code = "InvalidNextToken"
	// Protocol-level codes shared by every Query service.
	InvalidAction              Code = "InvalidAction"
	MissingAction              Code = "MissingAction"
	InvalidParameterValue      Code = "InvalidParameterValue"
	MalformedQueryString       Code = "MalformedQueryString"
	RequestEntityTooLarge      Code = "RequestEntityTooLarge"
	MissingAuthenticationToken Code = "MissingAuthenticationToken"
	IncompleteSignature        Code = "IncompleteSignature"
	InvalidClientTokenID       Code = "InvalidClientTokenId"
	SignatureDoesNotMatch      Code = "SignatureDoesNotMatch"
	InternalFailure            Code = "InternalFailure"
)

// Error is an Auto Scaling API error: a code, a message and (for the few
// codes that are not 400) an HTTP status.
type Error struct {
	Code    Code
	Message string
}

func (e *Error) Error() string { return string(e.Code) + ": " + e.Message }

// Errorf returns an *Error with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// status is the HTTP status of a code: the model's httpStatusCode for the
// modelled faults, 403 for authentication, 500 for internal failures, and
// 400 for everything else.
func (c Code) status() int {
	switch c {
	case ResourceContention, InternalFailure:
		return http.StatusInternalServerError
	case MissingAuthenticationToken, IncompleteSignature, InvalidClientTokenID, SignatureDoesNotMatch:
		return http.StatusForbidden
	case RequestEntityTooLarge:
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusBadRequest
}

// faultType is the <Type> element: Sender for caller errors.
func (c Code) faultType() string {
	if c.status() >= 500 {
		return "Receiver"
	}
	return "Sender"
}

type errorResponse struct {
	XMLName   xml.Name `xml:"ErrorResponse"`
	Xmlns     string   `xml:"xmlns,attr"`
	Type      string   `xml:"Error>Type"`
	Code      string   `xml:"Error>Code"`
	Message   string   `xml:"Error>Message"`
	RequestID string   `xml:"RequestId"`
}

// writeError is the only place that turns an error into a response. An
// error that is not an *Error is logged and answered as InternalFailure
// with a generic message.
func writeError(w http.ResponseWriter, log *slog.Logger, reqID string, err error) {
	var e *Error
	if !errors.As(err, &e) {
		log.Error("autoscaling: internal error", "requestId", reqID, "err", err)
		e = &Error{Code: InternalFailure, Message: "An internal error occurred. See the server log for request " + reqID + "."}
	}
	b, merr := xml.Marshal(errorResponse{Xmlns: xmlns, Type: e.Code.faultType(), Code: string(e.Code), Message: e.Message, RequestID: reqID})
	if merr != nil {
		// Cannot happen: every field is a string.
		b = nil
	}
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(e.Code.status())
	_, _ = w.Write(append([]byte(xml.Header), b...))
}
