package autoscaling

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/store"
)

// Version is the API version of EC2 Auto Scaling's Query protocol.
const Version = "2011-01-01"

// MaxBodyBytes bounds a request body.
const MaxBodyBytes = 1 << 20

// HandlerConfig configures the API handler.
type HandlerConfig struct {
	Store store.Store
	Log   *slog.Logger
	// Authenticate returns the caller's namespace (account, region) for a
	// request whose body has been read; failures are *ecs.Error with
	// ECS's authentication codes, which the handler maps to the Query
	// protocol's. The server passes api.Server.AuthenticateBody.
	Authenticate func(r *http.Request, body []byte) (ecs.Namespace, error)
	// Launchers are the launcher names a berth:launcher tag may use
	// (default: exec, local, sim).
	Launchers []string
	Now       func() time.Time
}

// Handler serves the EC2 Auto Scaling Query API.
type Handler struct {
	log  *slog.Logger
	auth func(r *http.Request, body []byte) (ecs.Namespace, error)
	ops  *ops
}

// NewHandler returns the API handler.
func NewHandler(cfg HandlerConfig) (*Handler, error) {
	if cfg.Store == nil {
		return nil, errors.New("autoscaling: no store")
	}
	if cfg.Authenticate == nil {
		return nil, errors.New("autoscaling: no authenticate function")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Launchers == nil {
		cfg.Launchers = []string{LauncherExec, LauncherLocal, LauncherSim}
	}
	known := map[string]bool{}
	for _, n := range cfg.Launchers {
		known[n] = true
	}
	return &Handler{
		log:  cfg.Log,
		auth: cfg.Authenticate,
		ops:  &ops{store: cfg.Store, now: cfg.Now, launchers: func(n string) bool { return known[n] }},
	}, nil
}

// IsQueryRequest reports whether r is an AWS Query-protocol request (a
// form-encoded POST without X-Amz-Target), which this package serves;
// the ECS JSON protocol always carries X-Amz-Target.
func IsQueryRequest(r *http.Request) bool {
	if r.Method != http.MethodPost || r.Header.Get("X-Amz-Target") != "" {
		return false
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/x-www-form-urlencoded"
}

// Route returns a handler that sends Query-protocol requests to asg and
// every other request to next.
func Route(asg, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if IsQueryRequest(r) {
			asg.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// ServeHTTP handles one Auto Scaling API request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := newRequestID()
	w.Header().Set("x-amzn-RequestId", reqID)
	defer func() {
		if p := recover(); p != nil {
			h.log.Error("autoscaling: panic in request", "requestId", reqID, "panic", p)
			writeError(w, h.log, reqID, fmt.Errorf("panic: %v", p))
		}
	}()
	action, out, err := h.serve(r, reqID)
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			err = Errorf(InternalFailure, "The request was cancelled.")
		}
		writeError(w, h.log, reqID, err)
		return
	}
	b, err := marshalResponse(action, reqID, out)
	if err != nil {
		writeError(w, h.log, reqID, err)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	_, _ = w.Write(b)
}

func (h *Handler) serve(r *http.Request, reqID string) (string, any, error) {
	if r.Method != http.MethodPost {
		return "", nil, Errorf(InvalidAction, "The Auto Scaling API accepts POST requests only.")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil {
		return "", nil, Errorf(MalformedQueryString, "The request body could not be read.")
	}
	if len(body) > MaxBodyBytes {
		return "", nil, Errorf(RequestEntityTooLarge, "The request body exceeds the limit of %d bytes.", MaxBodyBytes)
	}
	ns, err := h.auth(r, body)
	if err != nil {
		return "", nil, authError(err)
	}
	f, err := parseForm(string(body))
	if err != nil {
		return "", nil, err
	}
	action := f.v["Action"]
	if action == "" {
		return "", nil, Errorf(MissingAction, "The request must contain the parameter Action.")
	}
	if v := f.v["Version"]; v != Version {
		return "", nil, Errorf(InvalidAction, "Could not find operation %s for version %s.", quote(action), quote(v))
	}
	in, err := decodeInput(action, f)
	if err != nil {
		return "", nil, err
	}
	h.log.Debug("autoscaling request", "requestId", reqID, "action", action, "account", ns.Account, "region", ns.Region)
	out, err := h.dispatch(r.Context(), ns, in)
	return action, out, err
}

// dispatch runs the operation of a decoded input. Operations without
// output return a nil result.
func (h *Handler) dispatch(ctx context.Context, ns ecs.Namespace, in any) (any, error) {
	o := h.ops
	switch in := in.(type) {
	case *CreateAutoScalingGroupInput:
		return nil, o.CreateAutoScalingGroup(ctx, ns, in)
	case *UpdateAutoScalingGroupInput:
		return nil, o.UpdateAutoScalingGroup(ctx, ns, in)
	case *DescribeAutoScalingGroupsInput:
		return nilIfErr(o.DescribeAutoScalingGroups(ctx, ns, in))
	case *DeleteAutoScalingGroupInput:
		return nil, o.DeleteAutoScalingGroup(ctx, ns, in)
	case *SetDesiredCapacityInput:
		return nil, o.SetDesiredCapacity(ctx, ns, in)
	case *SetInstanceProtectionInput:
		if err := o.SetInstanceProtection(ctx, ns, in); err != nil {
			return nil, err
		}
		return struct{}{}, nil
	case *DescribeAutoScalingInstancesInput:
		return nilIfErr(o.DescribeAutoScalingInstances(ctx, ns, in))
	case *TerminateInstanceInput:
		return nilIfErr(o.TerminateInstanceInAutoScalingGroup(ctx, ns, in))
	case *DescribeScalingActivitiesInput:
		return nilIfErr(o.DescribeScalingActivities(ctx, ns, in))
	}
	return nil, fmt.Errorf("autoscaling: no operation for %T", in)
}

// nilIfErr returns a typed result as any, or nil with the error (so that
// a nil pointer never reaches the encoder as a non-nil interface).
func nilIfErr[T any](v *T, err error) (any, error) {
	if err != nil || v == nil {
		return nil, err
	}
	return v, nil
}

// authError maps the API's authentication failures to the Query
// protocol's codes.
func authError(err error) error {
	var e *ecs.Error
	if !errors.As(err, &e) {
		return err
	}
	code := SignatureDoesNotMatch
	switch e.Code {
	case ecs.MissingAuthenticationToken:
		code = MissingAuthenticationToken
	case ecs.IncompleteSignature:
		code = IncompleteSignature
	case ecs.UnrecognizedClient:
		code = InvalidClientTokenID
	case ecs.InvalidSignature:
		code = SignatureDoesNotMatch
	}
	msg := e.Message
	if strings.TrimSpace(msg) == "" {
		msg = "The request could not be authenticated."
	}
	return &Error{Code: code, Message: msg}
}
