package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/wire"
)

// statusOf is the one table from exception name to HTTP status. Every
// modelled ECS client exception is 400; ServerException is the only fault
// (500); authentication failures are 403 as in every AWS JSON service.
func statusOf(code ecs.Code) int {
	switch code {
	case ecs.ServerError:
		return http.StatusInternalServerError
	case ecs.UnrecognizedClient, ecs.InvalidSignature, ecs.MissingAuthenticationToken,
		ecs.IncompleteSignature, ecs.AccessDenied:
		return http.StatusForbidden
	case ecs.RequestEntityTooLarge:
		return http.StatusRequestEntityTooLarge
	default:
		return http.StatusBadRequest
	}
}

// errorBody is the AWS JSON 1.1 error shape.
type errorBody struct {
	Type        string   `json:"__type"`
	Message     string   `json:"message"`
	ResourceIDs []string `json:"resourceIds,omitempty"`
}

// writeError is the only place that turns an error into `__type`, `message`
// and an HTTP status. Expected failures are *ecs.Error; model-constraint
// violations (*wire.ValidationError) are InvalidParameterException; a
// request whose context ended gets a 400 ClientException (nobody reads it);
// anything else is a ServerException with a generic message, logged with
// the request id.
func writeError(w http.ResponseWriter, log *slog.Logger, reqID string, err error) {
	var (
		e  *ecs.Error
		ve *wire.ValidationError
	)
	switch {
	case errors.As(err, &e):
	case errors.As(err, &ve):
		e = &ecs.Error{Code: ecs.InvalidParameter, Message: ve.Error()}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		e = &ecs.Error{Code: ecs.ClientError, Message: "The request was cancelled before it completed."}
	default:
		log.Error("internal error", "requestId", reqID, "err", err)
		e = &ecs.Error{Code: ecs.ServerError, Message: "An internal error occurred. Request ID: " + reqID}
	}
	b, _ := json.Marshal(errorBody{Type: string(e.Code), Message: e.Message, ResourceIDs: e.ResourceIDs})
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("X-Amzn-ErrorType", string(e.Code))
	w.WriteHeader(statusOf(e.Code))
	_, _ = w.Write(b)
}
