package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/berth-dev/berth/internal/api"
	"github.com/berth-dev/berth/internal/control"
	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/wire"
)

// SpotInterruptionsPath is the administrative endpoint that interrupts
// Fargate Spot tasks on demand (spec §5.5), as Fargate reclaiming Spot
// capacity would:
//
//	POST /berth/admin/spot-interruptions
//	{"cluster": "name or ARN (default: default)",
//	 "tasks": ["task id or ARN", …],   // these tasks, or else
//	 "count": n}                       // n of the cluster's Spot tasks (0 or absent: all)
//	→ 200 {"interrupted": [task ARNs], "failures": [{"arn", "reason"}]}
//
// It is authenticated exactly as the ECS API is (SigV4 over the body under
// --auth sigv4), acts in the caller's account and region, and answers
// errors in the ECS API's shape. Only FARGATE_SPOT tasks are interrupted;
// the fleet gives each the Spot warning (see fleet.Spot).
const SpotInterruptionsPath = "/berth/admin/spot-interruptions"

// spotRequest is the endpoint's body.
type spotRequest struct {
	Cluster string   `json:"cluster"`
	Tasks   []string `json:"tasks"`
	Count   int      `json:"count"`
}

// spotResponse is the endpoint's answer.
type spotResponse struct {
	Interrupted []string       `json:"interrupted"`
	Failures    []wire.Failure `json:"failures"`
}

// spotInterruptions serves SpotInterruptionsPath.
func spotInterruptions(c *control.Control, h *api.Server) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, api.MaxBodyBytes+1))
		switch {
		case err != nil:
			h.WriteError(w, ecs.Errorf(ecs.ClientError, "The request body could not be read."))
			return
		case len(body) > api.MaxBodyBytes:
			h.WriteError(w, ecs.Errorf(ecs.RequestEntityTooLarge, "The request body is too large."))
			return
		}
		ns, err := h.AuthenticateBody(r, body)
		if err != nil {
			h.WriteError(w, err)
			return
		}
		var in spotRequest
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in); err != nil && !errors.Is(err, io.EOF) {
			h.WriteError(w, ecs.Errorf(ecs.InvalidParameter, "The request body is not a valid spot interruption request: %v", err))
			return
		}
		if in.Cluster == "" {
			in.Cluster = "default"
		}
		out, err := c.InterruptSpotTasks(r.Context(), ns, in.Cluster, in.Tasks, in.Count)
		if err != nil {
			h.WriteError(w, err)
			return
		}
		resp := spotResponse{Interrupted: out.Interrupted, Failures: out.Failures}
		if resp.Interrupted == nil {
			resp.Interrupted = []string{}
		}
		if resp.Failures == nil {
			resp.Failures = []wire.Failure{}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(resp)
	})
}
