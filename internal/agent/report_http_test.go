package agent

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"

	"github.com/berth-dev/berth/internal/api"
	"github.com/berth-dev/berth/internal/runtime"
	"github.com/berth-dev/berth/internal/server"
	"github.com/berth-dev/berth/internal/wire"
)

// leanReporter is newReporter's reporter for cli, which must be the lean
// one.
func leanReporter(t *testing.T, cli *ecs.Client, cluster string) *httpReporter {
	t.Helper()
	r, ok := newReporter(cli, cluster).(*httpReporter)
	if !ok {
		t.Fatalf("newReporter of a client with a BaseEndpoint is %T, want *httpReporter", newReporter(cli, cluster))
	}
	return r
}

// TestNewReporter checks the choice between the lean reporter and the
// SDK's, and the credentials cache.
func TestNewReporter(t *testing.T) {
	static := credentials.NewStaticCredentialsProvider("AKID", "secret", "")
	cached := aws.NewCredentialsCache(static)
	for _, tc := range []struct {
		name string
		opts ecs.Options
		lean bool
	}{
		{"NoEndpoint", ecs.Options{Region: "us-east-1", Credentials: static}, false},
		{"BadEndpoint", ecs.Options{Region: "us-east-1", BaseEndpoint: aws.String("::nope"), Credentials: static}, false},
		{"Endpoint", ecs.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://127.0.0.1:1"), Credentials: static}, true},
		{"Cached", ecs.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://127.0.0.1:1/"), Credentials: cached}, true},
		{"Anonymous", ecs.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://127.0.0.1:1"), Credentials: aws.AnonymousCredentials{}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := newReporter(ecs.New(tc.opts), "c")
			r, lean := rep.(*httpReporter)
			if lean != tc.lean {
				t.Fatalf("newReporter = %T, lean %v", rep, tc.lean)
			}
			if !lean {
				return
			}
			if r.url.String() != "http://127.0.0.1:1/" {
				t.Errorf("endpoint %q", r.url)
			}
			switch tc.name {
			case "Cached":
				if r.creds != cached {
					t.Errorf("a credentials cache was wrapped again: %T", r.creds)
				}
			case "Anonymous":
				if r.creds != nil {
					t.Errorf("anonymous credentials sign: %T", r.creds)
				}
			default:
				if _, ok := r.creds.(*aws.CredentialsCache); !ok {
					t.Errorf("credentials %T, want a cache", r.creds)
				}
			}
		})
	}
}

// TestHTTPReporter_Server reports a real task's state changes to a real
// server with the lean reporter and reads them back through the SDK.
func TestHTTPReporter_Server(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	cluster := createCluster(t, s, "lean")
	dir := t.TempDir()
	rt := newSim(t, dir)
	startAgent(t, s, agentConfig(t, s.ecs, rt, cluster, dir))
	// The agent spends a minute pulling: the task stays PENDING on the
	// server, and the reports are the test's.
	arn := runTask(t, s, cluster,
		types.ContainerDefinition{Name: aws.String("web"), Image: aws.String("berth/web:1"), Memory: aws.Int32(64),
			PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(80)}, {ContainerPort: aws.Int32(53), Protocol: types.TransportProtocolUdp}},
			Environment:  env("BERTH_SIM_PULL_DELAY=60")},
		types.ContainerDefinition{Name: aws.String("side"), Image: aws.String("berth/side:1"), Memory: aws.Int32(32),
			Essential: aws.Bool(false), Environment: env("BERTH_SIM_PULL_DELAY=60")},
	)
	waitTask(t, s, cluster, arn, "PENDING", 10*time.Second)
	rep := leanReporter(t, s.ecs, cluster)

	t.Run("Running", func(t *testing.T) {
		pullStart := time.UnixMilli(1_767_225_600_123).UTC()
		pullStop := pullStart.Add(1500 * time.Millisecond)
		err := rep.SubmitTask(t.Context(), TaskChange{
			TaskARN: arn, Status: "RUNNING", PullStartedAt: pullStart, PullStoppedAt: pullStop,
			Containers: []ContainerChange{{Name: "web", RuntimeID: "lean-web-1", Status: "RUNNING", Ports: []runtime.PortBinding{
				{ContainerPort: 80, HostPort: 32801, Protocol: "tcp"},
				{ContainerPort: 53, HostPort: 32802, Protocol: "udp", HostIP: "127.0.0.1"},
			}}},
		})
		if err != nil {
			t.Fatalf("SubmitTask: %v", err)
		}
		task := waitTask(t, s, cluster, arn, "RUNNING", 5*time.Second)
		if !aws.ToTime(task.PullStartedAt).Equal(pullStart) || !aws.ToTime(task.PullStoppedAt).Equal(pullStop) {
			t.Errorf("pull times %v %v, want %v %v", task.PullStartedAt, task.PullStoppedAt, pullStart, pullStop)
		}
		c := container(t, task, "web")
		if aws.ToString(c.RuntimeId) != "lean-web-1" || aws.ToString(c.LastStatus) != "RUNNING" {
			t.Fatalf("container %s: runtimeId %q, lastStatus %q", "web", aws.ToString(c.RuntimeId), aws.ToString(c.LastStatus))
		}
		want := []types.NetworkBinding{
			{BindIP: aws.String("0.0.0.0"), ContainerPort: aws.Int32(80), HostPort: aws.Int32(32801), Protocol: types.TransportProtocolTcp},
			{BindIP: aws.String("127.0.0.1"), ContainerPort: aws.Int32(53), HostPort: aws.Int32(32802), Protocol: types.TransportProtocolUdp},
		}
		if !reflect.DeepEqual(c.NetworkBindings, want) {
			t.Errorf("network bindings %s, want %s", jsonOf(c.NetworkBindings), jsonOf(want))
		}
	})

	t.Run("Container", func(t *testing.T) {
		err := rep.SubmitContainer(t.Context(), arn, ContainerChange{Name: "side", RuntimeID: "lean-side-1", Status: "STOPPED",
			ExitCode: aws.Int(3), Reason: `exited <"3">`})
		if err != nil {
			t.Fatalf("SubmitContainer: %v", err)
		}
		d, err := s.ecs.DescribeTasks(t.Context(), &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: []string{arn}})
		if err != nil || len(d.Tasks) != 1 {
			t.Fatalf("DescribeTasks: %v %+v", err, d)
		}
		c := container(t, d.Tasks[0], "side")
		if aws.ToString(c.LastStatus) != "STOPPED" || aws.ToInt32(c.ExitCode) != 3 || aws.ToString(c.Reason) != `exited <"3">` ||
			aws.ToString(c.RuntimeId) != "lean-side-1" {
			t.Errorf("container side: %s", jsonOf(c))
		}
	})

	t.Run("UnknownTask", func(t *testing.T) {
		unknown := "arn:aws:ecs:us-east-1:000000000000:task/" + cluster + "/0123456789abcdef0123456789abcdef"
		ch := TaskChange{TaskARN: unknown, Status: "RUNNING"}
		err := rep.SubmitTask(t.Context(), ch)
		wantRefused(t, err, "InvalidParameterException", 400)
		// The SDK's reporter classifies the same answer the same way.
		if sdkErr := NewECSReporter(s.ecs, cluster).SubmitTask(t.Context(), ch); !errors.Is(sdkErr, ErrRefused) || apiCode(sdkErr) != apiCode(err) {
			t.Errorf("SDK reporter: %v; lean: %v", sdkErr, err)
		}
		err = rep.SubmitContainer(t.Context(), unknown, ContainerChange{Name: "web", Status: "RUNNING"})
		wantRefused(t, err, "InvalidParameterException", 400)
	})

	t.Run("UnknownCluster", func(t *testing.T) {
		err := leanReporter(t, s.ecs, "nope-"+cluster).SubmitTask(t.Context(), TaskChange{TaskARN: arn, Status: "RUNNING"})
		wantRefused(t, err, "ClusterNotFoundException", 400)
	})
}

// wantRefused checks that err is a final *apiError with code and status.
func wantRefused(t *testing.T, err error, code string, status int) {
	t.Helper()
	var ae *apiError
	if !errors.Is(err, ErrRefused) || !errors.As(err, &ae) || ae.Code != code || ae.Status != status || ae.Message == "" {
		t.Fatalf("err = %v, want a refused %s (HTTP %d) with a message", err, code, status)
	}
	if retriable(err) {
		t.Fatalf("retriable(%v) = true", err)
	}
}

// apiCode is the smithy.APIError code of err ("" for none).
func apiCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestHTTPReporter_Auth checks the signature against a server that
// verifies it: the right key is accepted (the call gets as far as the
// unknown task), a wrong secret or an unknown key is refused for good.
func TestHTTPReporter_Auth(t *testing.T) {
	t.Parallel()
	creds := filepath.Join(t.TempDir(), "credentials")
	if err := os.WriteFile(creds, []byte("AKIDGOOD secret 123456789012\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	m, err := server.Start(context.Background(), server.Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Auth: api.AuthSigV4, CredentialsFile: creds})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	client := func(key, secret, token string) *ecs.Client {
		return ecs.New(ecs.Options{Region: "us-east-1", BaseEndpoint: aws.String(m.URL()),
			Credentials: credentials.NewStaticCredentialsProvider(key, secret, token)})
	}
	good := client("AKIDGOOD", "secret", "")
	if _, err := good.CreateCluster(t.Context(), &ecs.CreateClusterInput{ClusterName: aws.String("auth")}); err != nil {
		t.Fatal(err)
	}
	unknown := TaskChange{TaskARN: "arn:aws:ecs:us-east-1:123456789012:task/auth/0123456789abcdef0123456789abcdef", Status: "RUNNING",
		Reason: "a reason with spaces & <html>", Containers: []ContainerChange{{Name: "web", Status: "RUNNING",
			Ports: []runtime.PortBinding{{ContainerPort: 80, HostPort: 8080}}}}}

	for _, tc := range []struct {
		name   string
		cli    *ecs.Client
		code   string
		status int
	}{
		{"Good", good, "InvalidParameterException", 400},
		{"WrongSecret", client("AKIDGOOD", "wrong", ""), "InvalidSignatureException", 403},
		{"UnknownKey", client("AKIDBAD", "secret", ""), "UnrecognizedClientException", 403},
		{"Unsigned", ecs.New(ecs.Options{Region: "us-east-1", BaseEndpoint: aws.String(m.URL()), Credentials: aws.AnonymousCredentials{}}),
			"MissingAuthenticationTokenException", 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := leanReporter(t, tc.cli, "auth").SubmitTask(t.Context(), unknown)
			wantRefused(t, err, tc.code, tc.status)
			err = leanReporter(t, tc.cli, "auth").SubmitContainer(t.Context(), unknown.TaskARN, unknown.Containers[0])
			wantRefused(t, err, tc.code, tc.status)
		})
	}
}

// TestHTTPReporter_Retriable checks that server faults, throttling,
// unreadable answers, an unreachable server and an expired context are
// retried (not ErrRefused), that the error's name follows the SDK's rules
// (X-Amzn-ErrorType first; '#' and ':' parts dropped), and that the SDK's
// reporter classifies every answer the same way.
func TestHTTPReporter_Retriable(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		status    int
		header    string // X-Amzn-ErrorType
		body      string
		code      string
		retriable bool
	}{
		{"ServerException", 500, "", `{"__type":"ServerException","message":"try again"}`, "ServerException", true},
		{"Unavailable", 503, "", `<html>busy</html>`, "UnknownError", true},
		{"EmptyBody", 502, "", ``, "UnknownError", true},
		{"Throttling", 400, "", `{"__type":"com.amazonaws#ThrottlingException","message":"Rate exceeded"}`, "ThrottlingException", true},
		{"ClientException", 400, "", `{"__type":"com.amazonaws.ecs#ClientException","message":"no"}`, "ClientException", false},
		{"Header", 400, "AccessDeniedException:http://internal.amazon.com/coral/com.amazon.coral.service/", `{"__type":"ServerException","message":"denied"}`, "AccessDeniedException", false},
		{"Code", 400, "", `{"code":"InvalidParameterException","message":"bad"}`, "InvalidParameterException", false},
		{"Signature", 403, "", `{"__type":"InvalidSignatureException","Message":"bad signature"}`, "InvalidSignatureException", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				if tc.header != "" {
					w.Header().Set("X-Amzn-ErrorType", tc.header)
				}
				w.Header().Set("Content-Type", jsonContentType)
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, tc.body)
			}))
			t.Cleanup(srv.Close)
			cli := noRetryClient(srv.URL)
			ch := TaskChange{TaskARN: "t", Status: "RUNNING"}
			err := leanReporter(t, cli, "c").SubmitTask(t.Context(), ch)
			var ae *apiError
			if !errors.As(err, &ae) || ae.Code != tc.code || ae.Status != tc.status {
				t.Fatalf("err = %#v, want code %s, status %d", err, tc.code, tc.status)
			}
			if got := !errors.Is(err, ErrRefused); got != tc.retriable {
				t.Errorf("retriable = %v, want %v (%v)", got, tc.retriable, err)
			}
			if fault := ae.ErrorFault(); (fault == smithy.FaultServer) != (tc.status >= 500) {
				t.Errorf("fault %v for HTTP %d", fault, tc.status)
			}
			// (The SDK names no error for a body that is not JSON.)
			sdkErr := NewECSReporter(cli, "c").SubmitTask(t.Context(), ch)
			if errors.Is(sdkErr, ErrRefused) != errors.Is(err, ErrRefused) || (apiCode(sdkErr) != tc.code && tc.code != "UnknownError") {
				t.Errorf("SDK reporter: %v (code %q); lean: %v", sdkErr, apiCode(sdkErr), err)
			}
		})
	}

	t.Run("Unreachable", func(t *testing.T) {
		t.Parallel()
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		url := "http://" + l.Addr().String()
		l.Close()
		err = leanReporter(t, noRetryClient(url), "c").SubmitTask(t.Context(), TaskChange{TaskARN: "t", Status: "RUNNING"})
		if err == nil || errors.Is(err, ErrRefused) || !retriable(err) {
			t.Fatalf("err = %v, want a retriable error", err)
		}
	})

	t.Run("Timeout", func(t *testing.T) {
		t.Parallel()
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			<-release // the server does not notice the client going before it reads
		}))
		t.Cleanup(srv.Close)
		t.Cleanup(func() { close(release) }) // before Close, which waits for the handler
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		err := leanReporter(t, noRetryClient(srv.URL), "c").SubmitContainer(ctx, "t", ContainerChange{Name: "web", Status: "RUNNING"})
		if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrRefused) {
			t.Fatalf("err = %v, want a retriable deadline error", err)
		}
	})
}

// noRetryClient is an SDK client of url that does not retry by itself.
func noRetryClient(url string) *ecs.Client {
	return ecs.New(ecs.Options{Region: "us-east-1", BaseEndpoint: aws.String(url), Retryer: aws.NopRetryer{},
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "")})
}

// captured is one request a capturing server received.
type captured struct {
	header http.Header
	path   string
	body   []byte
}

// captureServer answers every request with an acknowledgment and hands
// it to the test.
func captureServer(t *testing.T) (string, <-chan captured) {
	t.Helper()
	reqs := make(chan captured, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		reqs <- captured{header: r.Header.Clone(), path: r.URL.Path, body: b}
		w.Header().Set("Content-Type", jsonContentType)
		_, _ = io.WriteString(w, `{"acknowledgment":"ACK"}`)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, reqs
}

// TestHTTPReporter_Wire checks the bytes the lean reporter sends: the body
// is encoding/json's encoding of the wire request (the generated encoder
// must not drift from it), it carries what the SDK's reporter sends for the
// same change, under the same path, content type, target and signed
// headers.
func TestHTTPReporter_Wire(t *testing.T) {
	t.Parallel()
	url, reqs := captureServer(t)
	cli := noRetryClient(url)
	lean, sdk := leanReporter(t, cli, "wire"), NewECSReporter(cli, "wire")
	at := time.UnixMilli(1_767_225_600_051)
	task := TaskChange{
		TaskARN: "arn:aws:ecs:us-east-1:000000000000:task/wire/0123456789abcdef0123456789abcdef", Status: "STOPPED",
		Reason: "Essential container <main> exited \"3\" & more\u2028\x01", PullStartedAt: at, PullStoppedAt: at.Add(time.Second),
		ExecutionStoppedAt: at.Add(time.Minute + 7*time.Millisecond),
		Containers: []ContainerChange{
			{Name: "main", RuntimeID: "rid-1", Status: "STOPPED", ExitCode: aws.Int(3), Reason: "ünïcode"},
			{Name: "web", RuntimeID: "rid-2", Status: "RUNNING", Ports: []runtime.PortBinding{
				{ContainerPort: 80, HostPort: 32768, Protocol: "tcp"}, {ContainerPort: 53, HostPort: 53, Protocol: "udp", HostIP: "10.0.0.1"}}},
			{Name: "idle", Status: "RUNNING"},
		},
	}
	wantTask := wire.SubmitTaskStateChangeRequest{
		Cluster: wire.Ptr("wire"), Task: wire.Ptr(task.TaskARN), Status: wire.Ptr("STOPPED"), Reason: wire.Ptr(task.Reason),
		PullStartedAt: wire.NewTime(at), PullStoppedAt: wire.NewTime(at.Add(time.Second)),
		ExecutionStoppedAt: wire.NewTime(at.Add(time.Minute + 7*time.Millisecond)),
		Containers: []wire.ContainerStateChange{
			{ContainerName: wire.Ptr("main"), RuntimeId: wire.Ptr("rid-1"), Status: wire.Ptr("STOPPED"), ExitCode: wire.Ptr[int32](3), Reason: wire.Ptr("ünïcode")},
			{ContainerName: wire.Ptr("web"), RuntimeId: wire.Ptr("rid-2"), Status: wire.Ptr("RUNNING"), NetworkBindings: []wire.NetworkBinding{
				{BindIP: wire.Ptr("0.0.0.0"), ContainerPort: wire.Ptr[int32](80), HostPort: wire.Ptr[int32](32768), Protocol: wire.Ptr(wire.TransportProtocolTcp)},
				{BindIP: wire.Ptr("10.0.0.1"), ContainerPort: wire.Ptr[int32](53), HostPort: wire.Ptr[int32](53), Protocol: wire.Ptr(wire.TransportProtocolUdp)}}},
			{ContainerName: wire.Ptr("idle"), Status: wire.Ptr("RUNNING")},
		},
	}
	ctr := ContainerChange{Name: "web", RuntimeID: "rid-2", Status: "RUNNING", Ports: task.Containers[1].Ports}
	wantContainer := wire.SubmitContainerStateChangeRequest{
		Cluster: wire.Ptr("wire"), Task: wire.Ptr(task.TaskARN), ContainerName: wire.Ptr("web"), RuntimeId: wire.Ptr("rid-2"),
		Status: wire.Ptr("RUNNING"), NetworkBindings: wantTask.Containers[1].NetworkBindings,
	}

	for _, tc := range []struct {
		op   string
		send func(Reporter) error
		want any
	}{
		{opSubmitTask, func(r Reporter) error { return r.SubmitTask(t.Context(), task) }, &wantTask},
		{opSubmitContainer, func(r Reporter) error { return r.SubmitContainer(t.Context(), task.TaskARN, ctr) }, &wantContainer},
	} {
		t.Run(tc.op, func(t *testing.T) {
			if err := tc.send(lean); err != nil {
				t.Fatal(err)
			}
			got := <-reqs
			want, err := json.Marshal(tc.want)
			if err != nil {
				t.Fatal(err)
			}
			if string(got.body) != string(want) {
				t.Fatalf("body\n%s\nwant (encoding/json)\n%s", got.body, want)
			}
			if err := tc.send(sdk); err != nil {
				t.Fatal(err)
			}
			viaSDK := <-reqs
			var a, b any
			if err := json.Unmarshal(got.body, &a); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(viaSDK.body, &b); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(a, b) {
				t.Errorf("lean body\n%s\nSDK body\n%s", got.body, viaSDK.body)
			}
			if got.path != viaSDK.path || got.path != "/" {
				t.Errorf("path %q, SDK %q", got.path, viaSDK.path)
			}
			for _, h := range []string{"Content-Type", "X-Amz-Target"} {
				if got.header.Get(h) != viaSDK.header.Get(h) || got.header.Get(h) == "" {
					t.Errorf("%s %q, SDK %q", h, got.header.Get(h), viaSDK.header.Get(h))
				}
			}
			if got.header.Get("X-Amz-Target") != "AmazonEC2ContainerServiceV20141113."+tc.op {
				t.Errorf("X-Amz-Target %q", got.header.Get("X-Amz-Target"))
			}
			auth := got.header.Get("Authorization")
			if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/") || !strings.Contains(auth, "/us-east-1/ecs/aws4_request") ||
				!strings.Contains(auth, "SignedHeaders=content-length;content-type;host;x-amz-date;x-amz-target,") {
				t.Errorf("Authorization %q", auth)
			}
			if cl := got.header.Get("Content-Length"); cl != strconv.Itoa(len(got.body)) {
				t.Errorf("Content-Length %q for %d bytes (the body must not be chunked)", cl, len(got.body))
			}
		})
	}
}

// TestHTTPReporter_Concurrent sends from many goroutines at once, for the
// race detector to check the pooled buffers: each request must arrive
// whole and as sent.
func TestHTTPReporter_Concurrent(t *testing.T) {
	t.Parallel()
	var (
		mu   sync.Mutex
		seen = map[string]bool{}
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in wire.SubmitContainerStateChangeRequest
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || r.ContentLength <= 0 {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"__type":"SerializationException","message":"bad body"}`)
			return
		}
		mu.Lock()
		seen[wire.Val(in.Task)+"/"+wire.Val(in.RuntimeId)] = true
		mu.Unlock()
		_, _ = io.WriteString(w, `{"acknowledgment":"ACK"}`)
	}))
	t.Cleanup(srv.Close)
	rep := leanReporter(t, noRetryClient(srv.URL), "c")
	const goroutines, calls = 8, 50
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range calls {
				task := strings.Repeat("t", g*100+i%7) // bodies of different sizes
				id := string(rune('a'+g)) + strings.Repeat("x", i)
				if err := rep.SubmitContainer(t.Context(), task, ContainerChange{Name: "web", RuntimeID: id, Status: "RUNNING"}); err != nil {
					t.Errorf("SubmitContainer: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	if len(seen) != goroutines*calls {
		t.Errorf("%d distinct requests arrived, want %d", len(seen), goroutines*calls)
	}
}

// TestHTTPReporter_Agent checks that an agent reports through the lean
// reporter end to end (TestAgent_Sim covers the rest of the task life).
func TestHTTPReporter_Agent(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	cluster := createCluster(t, s, "leanagent")
	dir := t.TempDir()
	rt := newSim(t, dir)
	startAgent(t, s, agentConfig(t, s.ecs, rt, cluster, dir))
	arn := runTask(t, s, cluster, types.ContainerDefinition{Name: aws.String("job"), Image: aws.String("berth/job:1"), Memory: aws.Int32(32),
		Environment: env("BERTH_SIM_RUN_SECONDS=0.2", "BERTH_SIM_EXIT_CODE=7")})
	task := waitTask(t, s, cluster, arn, "STOPPED", 10*time.Second)
	if c := container(t, task, "job"); aws.ToInt32(c.ExitCode) != 7 || aws.ToString(c.RuntimeId) == "" {
		t.Fatalf("container %s", jsonOf(c))
	}
}

// BenchmarkReporter compares one SubmitTaskStateChange through the SDK's
// reporter and through the lean one, against the same local server.
func BenchmarkReporter(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", jsonContentType)
		_, _ = io.WriteString(w, `{"acknowledgment":"ACK"}`)
	}))
	b.Cleanup(srv.Close)
	cli := noRetryClient(srv.URL)
	at := time.Now()
	ch := TaskChange{TaskARN: "arn:aws:ecs:us-east-1:000000000000:task/bench/0123456789abcdef0123456789abcdef", Status: "RUNNING",
		PullStartedAt: at, PullStoppedAt: at,
		Containers: []ContainerChange{{Name: "web", RuntimeID: "0123456789abcdef", Status: "RUNNING",
			Ports: []runtime.PortBinding{{ContainerPort: 80, HostPort: 32768, Protocol: "tcp"}}}}}
	for _, r := range []struct {
		name string
		rep  Reporter
	}{{"SDK", NewECSReporter(cli, "bench")}, {"Lean", leanReporterB(b, cli, "bench")}} {
		b.Run(r.name, func(b *testing.B) {
			b.ReportAllocs()
			ctx := context.Background()
			for b.Loop() {
				if err := r.rep.SubmitTask(ctx, ch); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func leanReporterB(b *testing.B, cli *ecs.Client, cluster string) Reporter {
	r, ok := newReporter(cli, cluster).(*httpReporter)
	if !ok {
		b.Fatal("not the lean reporter")
	}
	return r
}
