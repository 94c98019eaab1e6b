package agent

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/smithy-go"

	"github.com/berth-dev/berth/internal/wire"
)

// The state changes an agent reports are the calls it makes most: one per
// task start and stop, one per container change. The SDK runs each call
// through its whole middleware stack (endpoint and auth resolution, retry
// and clock-skew bookkeeping, user agent, invocation ids, serialisation and
// deserialisation of the input and output structures), which at the 5,000
// agents of `berth sim` sharing one process costs about a fifth of its CPU,
// and deep call chains whose goroutine stacks keep being grown. httpReporter
// sends the same requests itself: the request shapes of package wire
// encoded by their generated AppendJSON (the bytes encoding/json writes),
// POSTed with the ECS JSON 1.1 headers and a SigV4 signature by the SDK's
// own signer, so that the server cannot tell it from the SDK. It does not
// retry; the runner's report worker does, with backoff.

// Limits on what is read of a response: an answer is drained (so that its
// connection is reused) up to drainLimit; an error body is decoded from
// its first errorBodyLimit bytes.
const (
	drainLimit     = 64 << 10
	errorBodyLimit = 64 << 10
)

// maxPooledBody bounds the request buffers kept for reuse.
const maxPooledBody = 64 << 10

// jsonContentType is the content type of the ECS JSON protocol.
const jsonContentType = "application/x-amz-json-1.1"

// The operations the reporter calls.
const (
	opSubmitTask      = "SubmitTaskStateChange"
	opSubmitContainer = "SubmitContainerStateChange"
)

// newReporter returns the Reporter of an agent of cli in cluster: the lean
// httpReporter when the client has a BaseEndpoint (always, for Berth: the
// server's URL), else the SDK's (NewECSReporter), whose endpoint
// resolution the lean one does not reproduce.
func newReporter(cli *ecs.Client, cluster string) Reporter {
	if r := newHTTPReporter(cli.Options(), cluster); r != nil {
		return r
	}
	return NewECSReporter(cli, cluster)
}

// doer is what the reporter needs of an HTTP client (ecs.HTTPClient, and
// *http.Client).
type doer interface {
	Do(*http.Request) (*http.Response, error)
}

// httpReporter is a Reporter that speaks the ECS JSON protocol itself (see
// the comment at the top of this file). It is safe for concurrent use.
type httpReporter struct {
	cluster string
	url     *url.URL // BaseEndpoint + "/", parsed (requests copy it)
	region  string
	creds   aws.CredentialsProvider // nil: requests go unsigned, as the SDK sends them without credentials
	client  doer
	signer  *v4.Signer

	// bufs holds *[]byte scratch buffers to encode request bodies in.
	bufs sync.Pool
}

// newHTTPReporter returns the lean reporter of a client with options
// opts, or nil when opts has no usable BaseEndpoint.
func newHTTPReporter(opts ecs.Options, cluster string) *httpReporter {
	base := aws.ToString(opts.BaseEndpoint)
	if base == "" {
		return nil
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil
	}
	eu, err := url.Parse(strings.TrimRight(base, "/") + "/")
	if err != nil {
		return nil
	}
	r := &httpReporter{
		cluster: cluster,
		url:     eu,
		region:  opts.Region,
		client:  http.DefaultClient,
		signer:  v4.NewSigner(),
	}
	if opts.HTTPClient != nil {
		r.client = opts.HTTPClient
	}
	// Retrieve is called on every report: a provider that fetches
	// credentials must be asked only when they expire. The ECS client
	// does not wrap its provider itself (config.LoadDefaultConfig does).
	switch p := opts.Credentials; {
	case p == nil, aws.IsCredentialsProvider(p, (*aws.AnonymousCredentials)(nil)):
	default:
		if _, cached := p.(*aws.CredentialsCache); cached {
			r.creds = p
		} else {
			r.creds = aws.NewCredentialsCache(p)
		}
	}
	return r
}

func (r *httpReporter) SubmitTask(ctx context.Context, ch TaskChange) error {
	return r.call(ctx, opSubmitTask, ch.Request(r.cluster))
}

func (r *httpReporter) SubmitContainer(ctx context.Context, taskARN string, ch ContainerChange) error {
	return r.call(ctx, opSubmitContainer, ch.Request(r.cluster, taskARN))
}

// call sends one request of operation op and classifies its outcome as the
// SDK reporter does: nil on a 2xx answer, an *apiError wrapped in
// ErrRefused when retrying cannot help (see retriable), any other error
// (transport, 5xx, throttling) as it is, for the report worker to retry.
func (r *httpReporter) call(ctx context.Context, op string, in wire.AppendJSONer) error {
	req, err := r.request(ctx, op, r.encode(in))
	if err != nil {
		return fmt.Errorf("ecs %s: %w", op, err)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return fmt.Errorf("ecs %s: %w", op, err)
	}
	defer func() {
		_, _ = io.CopyN(io.Discard, resp.Body, drainLimit)
		resp.Body.Close()
	}()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	return refused(readAPIError(op, resp))
}

// request builds the signed POST of body for op.
func (r *httpReporter) request(ctx context.Context, op string, body []byte) (*http.Request, error) {
	// A *bytes.Reader body: the transport knows it is in memory and
	// writes the headers and the body in one write (it flushes the
	// headers on their own before a body of another type), and the
	// request gets its Content-Length (without it the transport would
	// send the request chunked; the signature covers Content-Length).
	// The request is built as http.NewRequestWithContext builds it, from
	// the endpoint parsed once (parsing it for every report was a
	// noticeable part of a simulated fleet's reporting). It has no
	// GetBody: the transport does not resend the POST on its own (it
	// would after some failures of a reused connection); the report
	// worker retries.
	u := *r.url
	req := (&http.Request{
		Method: http.MethodPost, URL: &u, Host: u.Host,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{
			"Content-Type": {jsonContentType},
			"X-Amz-Target": {wire.TargetPrefix + "." + op},
		},
		Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body)),
	}).WithContext(ctx)
	if r.creds == nil {
		return req, nil
	}
	creds, err := r.creds.Retrieve(ctx)
	if err != nil {
		return nil, fmt.Errorf("retrieve credentials: %w", err)
	}
	sum := sha256.Sum256(body)
	if err := r.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "ecs", r.region, time.Now()); err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	return req, nil
}

// encode returns the JSON body of in, encoded in a scratch buffer of the
// reporter's pool and copied out at its exact size.
func (r *httpReporter) encode(in wire.AppendJSONer) []byte {
	buf, _ := r.bufs.Get().(*[]byte)
	if buf == nil {
		buf = new([]byte)
	}
	*buf = in.AppendJSON((*buf)[:0])
	body := bytes.Clone(*buf)
	if cap(*buf) <= maxPooledBody {
		r.bufs.Put(buf)
	}
	return body
}

// apiError is an error answer of the ECS API: its HTTP status and the
// exception's name and message. It is a smithy.APIError, so retriable
// classifies it exactly as it classifies the SDK's errors.
type apiError struct {
	Op      string
	Status  int
	Code    string
	Message string
}

var _ smithy.APIError = (*apiError)(nil)

func (e *apiError) Error() string {
	return "ecs " + e.Op + ": HTTP " + strconv.Itoa(e.Status) + ": " + e.Code + ": " + e.Message
}

// ErrorCode is the exception's name, e.g. ClientException.
func (e *apiError) ErrorCode() string { return e.Code }

// ErrorMessage is the exception's message.
func (e *apiError) ErrorMessage() string { return e.Message }

// ErrorFault is FaultServer for a 5xx answer, else FaultClient.
func (e *apiError) ErrorFault() smithy.ErrorFault {
	if e.Status >= 500 {
		return smithy.FaultServer
	}
	return smithy.FaultClient
}

// HTTPStatusCode is the answer's HTTP status.
func (e *apiError) HTTPStatusCode() int { return e.Status }

// readAPIError decodes a non-2xx answer the way the SDK's AWS JSON 1.1
// deserialiser does: the exception's name is the X-Amzn-ErrorType header
// when present, else the body's __type (or code); in either, anything
// after ':' and before '#' is dropped. Without one it is UnknownError.
func readAPIError(op string, resp *http.Response) *apiError {
	e := &apiError{Op: op, Status: resp.StatusCode}
	var body struct {
		Type    string `json:"__type"`
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	if b, err := io.ReadAll(io.LimitReader(resp.Body, errorBodyLimit)); err == nil && len(bytes.TrimSpace(b)) > 0 {
		_ = json.Unmarshal(b, &body) // a body that is not JSON leaves the header's name, or UnknownError
	}
	e.Message = body.Message
	switch {
	case resp.Header.Get("X-Amzn-ErrorType") != "":
		e.Code = errorCode(resp.Header.Get("X-Amzn-ErrorType"))
	case body.Type != "":
		e.Code = errorCode(body.Type)
	case body.Code != "":
		e.Code = errorCode(body.Code)
	}
	if e.Code == "" {
		e.Code = "UnknownError"
	}
	if e.Message == "" {
		e.Message = http.StatusText(resp.StatusCode)
	}
	return e
}

// errorCode sanitises an exception name: "aws.ecs#ClientException:http://..."
// is ClientException.
func errorCode(s string) string {
	s, _, _ = strings.Cut(s, ":")
	if _, after, ok := strings.Cut(s, "#"); ok {
		s = after
	}
	return strings.TrimSpace(s)
}
