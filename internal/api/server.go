// Package api serves the ECS JSON 1.1 protocol: POST with
// X-Amz-Target: AmazonEC2ContainerServiceV20141113.<Operation>.
//
//	request ─▶ body limit ─▶ authenticate (SigV4: account, region)
//	        ─▶ route by target ─▶ decode JSON into the model's input shape
//	        ─▶ model validation ─▶ control.<Operation> ─▶ JSON output
//	        any failure ─▶ writeError (errors.go, the only error mapping)
//
// Every response carries x-amzn-RequestId. A panic in a handler is recovered
// and answered as ServerException, but decoding and validation are written
// (and fuzzed) so that bad input always gets a 4xx.
package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/internal/control"
	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/sigv4"
	"github.com/berth-dev/berth/internal/wire"
)

const contentType = "application/x-amz-json-1.1"

// MaxBodyBytes bounds a request body. ECS's largest input, a task
// definition, is limited to 64 KiB; 1 MiB leaves room for every operation.
const MaxBodyBytes = 1 << 20

// Config configures the API server.
type Config struct {
	Control        *control.Control
	Log            *slog.Logger
	Partition      string // "aws"
	DefaultRegion  string
	DefaultAccount string
	Auth           AuthMode
	Credentials    []Credential
	Now            func() time.Time
	// AdvertiseURL is the base URL agents are told to connect to
	// (DiscoverPollEndpoint). Empty: http://<the Host the request used>.
	AdvertiseURL string
}

// Server is the ECS API http.Handler.
type Server struct {
	cfg   Config
	log   *slog.Logger
	now   func() time.Time
	ops   map[string]*route
	creds map[string]Credential
	bufs  sync.Pool // *bytes.Buffer for request bodies
}

// route is one operation: how to make its input and run it.
type route struct {
	op      wire.Operation
	handler handler // nil: not implemented yet
	issue   string  // for unimplemented operations: where it is planned
}

// New returns an API server for the backend.
func New(cfg Config) (*Server, error) {
	if cfg.Partition == "" {
		cfg.Partition = "aws"
	}
	if cfg.Auth == "" {
		cfg.Auth = AuthNone
	}
	if !ValidAccount(cfg.DefaultAccount) {
		return nil, fmt.Errorf("api: default account %q is not 12 digits", cfg.DefaultAccount)
	}
	if cfg.DefaultRegion == "" {
		return nil, errors.New("api: default region is empty")
	}
	if cfg.Auth != AuthNone && cfg.Auth != AuthSigV4 {
		return nil, fmt.Errorf("api: unknown auth mode %q", cfg.Auth)
	}
	if cfg.Auth == AuthSigV4 && len(cfg.Credentials) == 0 {
		return nil, errors.New("api: --auth sigv4 needs a credentials file with at least one key")
	}
	s := &Server{cfg: cfg, log: cfg.Log, now: cfg.Now, ops: map[string]*route{}, creds: map[string]Credential{}}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.bufs.New = func() any { return new(bytes.Buffer) }
	for _, c := range cfg.Credentials {
		s.creds[c.AccessKeyID] = c
	}
	handlers := handlers(cfg.Control)
	for _, op := range wire.Operations() {
		r := &route{op: op, handler: handlers[op.Name], issue: plannedIn(op.Name)}
		s.ops[op.Name] = r
	}
	return s, nil
}

// Routes returns the names of every routed operation and whether it is
// implemented; for tests and the conformance check.
func (s *Server) Routes() map[string]bool {
	out := make(map[string]bool, len(s.ops))
	for n, r := range s.ops {
		out[n] = r.handler != nil
	}
	return out
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	// 8-4-4-4-12 hex digits, built in place (one allocation per request).
	var out [36]byte
	j := 0
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out[j] = '-'
			j++
		}
		const digits = "0123456789abcdef"
		out[j], out[j+1] = digits[c>>4], digits[c&0xf]
		j += 2
	}
	return string(out[:])
}

// ServeHTTP handles one ECS API request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := newRequestID()
	// Headers are assigned under their canonical names (what Set would
	// store), sparing Set's canonicalisation on every request.
	w.Header()["X-Amzn-Requestid"] = []string{reqID}
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("panic in request", "requestId", reqID, "panic", p)
			writeError(w, s.log, reqID, fmt.Errorf("panic: %v", p))
		}
	}()
	buf := s.bufs.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= 64<<10 {
			s.bufs.Put(buf)
		}
	}()
	out, err := s.serve(r, buf)
	if err != nil {
		writeError(w, s.log, reqID, err)
		return
	}
	h := w.Header()
	h["Content-Type"] = []string{contentType}
	// A known length: net/http writes the body as is, not in chunks.
	h["Content-Length"] = []string{strconv.Itoa(len(out))}
	_, _ = w.Write(out)
	// An answer that outgrew the pooled buffer leaves it its larger array,
	// so the next large answer does not grow one again.
	if cap(out) > buf.Cap() {
		*buf = *bytes.NewBuffer(out[:0])
	}
}

func (s *Server) serve(r *http.Request, buf *bytes.Buffer) ([]byte, error) {
	if r.Method != http.MethodPost {
		return nil, ecs.Errorf(ecs.UnknownOperation, "The ECS API accepts POST requests only.")
	}
	n, err := buf.ReadFrom(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil {
		return nil, ecs.Errorf(ecs.Serialization, "The request body could not be read.")
	}
	if n > MaxBodyBytes {
		return nil, ecs.Errorf(ecs.RequestEntityTooLarge, "The request body exceeds the limit of %d bytes.", MaxBodyBytes)
	}
	body := buf.Bytes()
	ns, err := s.authenticate(r, body)
	if err != nil {
		return nil, err
	}
	target := r.Header.Get("X-Amz-Target")
	name, ok := strings.CutPrefix(target, wire.TargetPrefix+".")
	rt := s.ops[name]
	if !ok || rt == nil {
		return nil, ecs.Errorf(ecs.UnknownOperation, "The operation %q is not an operation of Amazon ECS.", target)
	}
	if rt.handler == nil {
		code := ecs.ClientError
		for _, e := range rt.op.Errors {
			if e == string(ecs.UnsupportedFeature) {
				code = ecs.UnsupportedFeature
			}
		}
		return nil, ecs.Errorf(code, "Berth does not implement %s yet (%s).", name, rt.issue)
	}
	in, err := decode(rt.op, body)
	if err != nil {
		return nil, err
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	ctx := context.WithValue(r.Context(), baseURLKey{}, s.baseURL(r))
	out, err := rt.handler(ctx, ns, in)
	if err != nil {
		return nil, err
	}
	// Model outputs encode themselves (wire's generated AppendJSON: the
	// bytes encoding/json writes, without reflection); anything else
	// through encoding/json. The request body is decoded already, so its
	// buffer takes the answer.
	if a, ok := out.(wire.AppendJSONer); ok {
		return a.AppendJSON(body[:0]), nil
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("api: encode %s output: %w", name, err)
	}
	return b, nil
}

// baseURLKey carries the server's base URL, as the caller reached it, to
// the handlers that hand it out (DiscoverPollEndpoint).
type baseURLKey struct{}

func (s *Server) baseURL(r *http.Request) string {
	if s.cfg.AdvertiseURL != "" {
		return s.cfg.AdvertiseURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func baseURLFrom(ctx context.Context) string {
	u, _ := ctx.Value(baseURLKey{}).(string)
	return u
}

// decode parses the body into the operation's input shape. An empty body
// is "{}". Malformed JSON and members of the wrong type are
// SerializationException; unknown members are ignored, as AWS does.
func decode(op wire.Operation, body []byte) (wire.Input, error) {
	in := op.NewInput()
	if len(bytes.TrimSpace(body)) == 0 {
		return in, nil
	}
	if err := unmarshalInput(body, in); err != nil {
		var te *json.UnmarshalTypeError
		var se *json.SyntaxError
		switch {
		case errors.As(err, &te):
			field := te.Field
			if field == "" {
				return nil, ecs.Errorf(ecs.Serialization, "The request body must be a JSON object.")
			}
			return nil, ecs.Errorf(ecs.Serialization, "Value of member '%s' has the wrong type: got a JSON %s, expected %s.", field, te.Value, jsonKind(te.Type.String()))
		case errors.As(err, &se):
			return nil, ecs.Errorf(ecs.Serialization, "The request body is not valid JSON: %s at offset %d.", se.Error(), se.Offset)
		default:
			return nil, ecs.Errorf(ecs.Serialization, "The request body could not be parsed: %s.", trimErr(err))
		}
	}
	return in, nil
}

// unmarshalInput decodes body into in as json.Unmarshal does, by the
// generated fast decoder when the shape has one (wire's DecodeJSON returns
// exactly encoding/json's value and error, falling back to it on anything
// unusual, so the messages above do not depend on the path taken).
func unmarshalInput(body []byte, in wire.Input) error {
	if d, ok := in.(interface{ DecodeJSON([]byte) error }); ok {
		return d.DecodeJSON(body)
	}
	return json.Unmarshal(body, in)
}

// jsonKind names the JSON type a Go type of the wire package expects.
func jsonKind(goType string) string {
	t := strings.TrimLeft(goType, "*")
	switch {
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case strings.HasPrefix(t, "map["):
		return "an object (map)"
	case t == "string" || (strings.HasPrefix(t, "wire.") && !strings.Contains(t, "Time")):
		if t == "string" {
			return "a string"
		}
		return "a value of type " + strings.TrimPrefix(t, "wire.")
	case strings.HasPrefix(t, "int") || strings.HasPrefix(t, "float"):
		return "a number"
	case t == "bool":
		return "a boolean"
	}
	return "a value of type " + t
}

func trimErr(err error) string {
	s := err.Error()
	s = strings.TrimPrefix(s, "json: ")
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

// Authenticate authenticates a request without a body (the agents'
// websocket upgrades, signed with an empty payload) exactly as API calls
// are, and returns its namespace. Failures are *ecs.Error.
func (s *Server) Authenticate(r *http.Request) (ecs.Namespace, error) {
	return s.authenticate(r, nil)
}

// AuthenticateBody authenticates a request whose body the caller has
// already read (the Auto Scaling Query API on the same endpoint), exactly
// as API calls are. Failures are *ecs.Error.
func (s *Server) AuthenticateBody(r *http.Request, body []byte) (ecs.Namespace, error) {
	return s.authenticate(r, body)
}

// authenticate returns the namespace of the request. Under AuthNone it reads
// the credential scope if the request is signed, without verifying it.
func (s *Server) authenticate(r *http.Request, body []byte) (ecs.Namespace, error) {
	ns := ecs.Namespace{Partition: s.cfg.Partition, Account: s.cfg.DefaultAccount, Region: s.cfg.DefaultRegion}
	cred, signed, err := sigv4.Parse(r)
	if err != nil {
		if s.cfg.Auth == AuthSigV4 {
			return ns, ecs.Errorf(ecs.IncompleteSignature, "The request signature is malformed: %s", trimErr(err))
		}
		signed = false
	}
	if !signed {
		if s.cfg.Auth == AuthSigV4 {
			return ns, ecs.Errorf(ecs.MissingAuthenticationToken, "Missing Authentication Token")
		}
		ns.Principal = ns.RootPrincipal()
		return ns, nil
	}
	ns.Region = cred.Region
	key, known := s.creds[cred.AccessKeyID]
	switch {
	case known:
		ns.Account = key.AccountID
	case ValidAccount(cred.AccessKeyID):
		ns.Account = cred.AccessKeyID
	}
	ns.Principal = ns.RootPrincipal()
	if s.cfg.Auth == AuthNone {
		return ns, nil
	}
	if !known {
		return ns, ecs.Errorf(ecs.UnrecognizedClient, "The security token included in the request is invalid.")
	}
	// An unsigned payload would leave the body unauthenticated; the ECS API
	// always signs its JSON body.
	if len(body) > 0 && r.Header.Get("X-Amz-Content-Sha256") == sigv4.UnsignedPayload {
		return ns, ecs.Errorf(ecs.InvalidSignature, "The request body must be signed (UNSIGNED-PAYLOAD is not accepted).")
	}
	switch err := sigv4.Verify(r, body, cred, key.SecretAccessKey, s.now()); {
	case err == nil:
		return ns, nil
	case errors.Is(err, sigv4.ErrExpired):
		return ns, ecs.Errorf(ecs.InvalidSignature, "Signature expired: the request time is too far from the server's time.")
	case errors.Is(err, sigv4.ErrMalformed):
		return ns, ecs.Errorf(ecs.IncompleteSignature, "The request signature is malformed: %s", trimErr(err))
	default:
		return ns, ecs.Errorf(ecs.InvalidSignature, "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.")
	}
}
