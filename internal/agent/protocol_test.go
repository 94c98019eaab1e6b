package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/berth-dev/berth/internal/acs"
	"github.com/berth-dev/berth/internal/runtime/sim"
	"github.com/berth-dev/berth/internal/sigv4"
	"github.com/berth-dev/berth/internal/testkit"
)

// The tests in this file put the agent in front of a scripted control
// plane: a minimal ECS JSON endpoint and a real acs.Handler whose backend
// the test drives, to check the protocol details the real server does not
// exercise on its own (heartbeat acks, credential acks, stale manifests,
// refused updates, retried reports, the attribute echo).

const fakeInstanceARN = "arn:aws:ecs:us-east-1:000000000000:container-instance/fake/00000000000000000000000000000001"

// fakeECS answers the ECS calls an agent makes.
type fakeECS struct {
	mu       sync.Mutex
	dropAttr string // an attribute left out of the registration's echo
	fail     int    // SubmitTaskStateChange calls to refuse with a 500 first
	calls    []fakeCall
}

// fakeCall is one recorded ECS call.
type fakeCall struct {
	op string
	in map[string]any
}

func (f *fakeECS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "AmazonEC2ContainerServiceV20141113.")
	var in map[string]any
	_ = json.NewDecoder(r.Body).Decode(&in)
	f.mu.Lock()
	f.calls = append(f.calls, fakeCall{op, in})
	fail := op == "SubmitTaskStateChange" && f.fail > 0
	if fail {
		f.fail--
	}
	drop := f.dropAttr
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	var out any
	switch op {
	case "RegisterContainerInstance":
		var attrs []any
		for _, a := range in["attributes"].([]any) {
			if a.(map[string]any)["name"] != drop {
				attrs = append(attrs, a)
			}
		}
		out = map[string]any{"containerInstance": map[string]any{"containerInstanceArn": fakeInstanceARN, "status": "ACTIVE", "attributes": attrs}}
	case "DiscoverPollEndpoint":
		out = map[string]any{"endpoint": "http://" + r.Host, "telemetryEndpoint": "http://" + r.Host + "/tcs"}
	case "SubmitTaskStateChange", "SubmitContainerStateChange":
		if fail {
			w.WriteHeader(http.StatusInternalServerError)
			out = map[string]any{"__type": "ServerException", "message": "try again"}
			break
		}
		out = map[string]any{"acknowledgment": "ACK"}
	default:
		w.WriteHeader(http.StatusBadRequest)
		out = map[string]any{"__type": "InvalidParameterException", "message": "unexpected " + op}
	}
	_ = json.NewEncoder(w).Encode(out)
}

// taskChanges returns the statuses of the recorded SubmitTaskStateChange
// calls (failed ones included).
func (f *fakeECS) taskChanges() []map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []map[string]any
	for _, c := range f.calls {
		if c.op == "SubmitTaskStateChange" {
			out = append(out, c.in)
		}
	}
	return out
}

// fakeBackend hands the test every session and message.
type fakeBackend struct {
	sessions    chan *acs.Session
	msgs        chan any
	disconnects chan error
}

func (b *fakeBackend) Connect(ctx context.Context, s *acs.Session) error {
	b.sessions <- s
	return nil
}

func (b *fakeBackend) Handle(ctx context.Context, s *acs.Session, msg any) {
	if _, ok := msg.(*acs.HeartbeatAckRequest); ok {
		select {
		case b.msgs <- msg:
		default: // the test looks at a few heartbeat acks only
		}
		return
	}
	b.msgs <- msg
}

func (b *fakeBackend) Disconnect(ctx context.Context, s *acs.Session, cause error) {
	b.disconnects <- cause
}

// fakePlane is the scripted control plane.
type fakePlane struct {
	ecs     *fakeECS
	backend *fakeBackend
	url     string
	signed  chan error // the verdict on each upgrade's signature
}

func startFakePlane(t *testing.T, f *fakeECS) *fakePlane {
	t.Helper()
	p := &fakePlane{ecs: f, signed: make(chan error, 16), backend: &fakeBackend{
		sessions: make(chan *acs.Session, 4), msgs: make(chan any, 64), disconnects: make(chan error, 4)}}
	h, err := acs.New(acs.Config{
		Backend:           p.backend,
		HeartbeatInterval: 20 * time.Millisecond,
		InactivityTimeout: 300 * time.Millisecond,
		Authenticate: func(r *http.Request) (acs.Identity, error) {
			c, ok, err := sigv4.Parse(r)
			if err == nil && (!ok || c.Service != "ecs" || c.AccessKeyID != "AKIDFAKE") {
				err = fmt.Errorf("unexpected credential %+v (signed: %v)", c, ok)
			}
			if err == nil {
				err = sigv4.Verify(r, nil, c, "fake-secret", time.Now())
			}
			p.signed <- err
			return acs.Identity{}, err
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(acs.Path, h)
	mux.Handle("/", f)
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		h.Close()
		srv.Close()
	})
	p.url = srv.URL
	return p
}

// agentFor returns a Config for an agent of the fake plane on a fresh
// simulated runtime. Its client does not retry by itself, so the agent's
// own retries are what is tested.
func (p *fakePlane) agentFor(t *testing.T) Config {
	rt, err := sim.New(sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close() })
	cfg := agentConfig(t, nil, rt, "fake", t.TempDir())
	cfg.ECS = ecs.New(ecs.Options{Region: "us-east-1", BaseEndpoint: aws.String(p.url), Retryer: aws.NopRetryer{},
		Credentials: credentials.NewStaticCredentialsProvider("AKIDFAKE", "fake-secret", "")})
	return cfg
}

// next returns the next message of type T from the agent, skipping others.
func next[T any](t *testing.T, p *fakePlane) T {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case m := <-p.backend.msgs:
			if v, ok := m.(T); ok {
				return v
			}
		case err := <-p.backend.disconnects:
			t.Fatalf("session ended while waiting for %T: %v", *new(T), err)
		case <-timeout:
			var zero T
			t.Fatalf("no %T from the agent", zero)
			return zero
		}
	}
}

func TestAgent_Protocol(t *testing.T) {
	t.Parallel()
	p := startFakePlane(t, &fakeECS{fail: 1})
	a, err := New(p.agentFor(t))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(context.Background()) }()
	defer func() {
		a.Close()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()

	var s *acs.Session
	select {
	case s = <-p.backend.sessions:
	case <-time.After(10 * time.Second):
		t.Fatal("no ACS session")
	}
	if err := <-p.signed; err != nil {
		t.Fatalf("upgrade signature: %v", err)
	}
	if prm := s.Params(); prm.ContainerInstanceARN != fakeInstanceARN || prm.ClusterARN != "fake" || !prm.SendCredentials || prm.ProtocolVersion != 2 || prm.SeqNum != 1 {
		t.Fatalf("session params %+v", prm)
	}
	// Heartbeats come every 20 ms and the handler drops a session idle for
	// 300 ms: a few acks in a row and no disconnect show the agent answers.
	for range 5 {
		next[*acs.HeartbeatAckRequest](t, p)
	}

	ctx := t.Context()
	taskARN := "arn:aws:ecs:us-east-1:000000000000:task/fake/0000000000000000000000000000000a"
	task := acs.Task{ARN: taskARN, Family: "f", Version: "1", DesiredStatus: "RUNNING",
		Containers:      []acs.Container{{Name: "c", Image: "berth/c:1", Essential: true}},
		RoleCredentials: &acs.IAMRoleCredentials{CredentialsID: "cred-1", Expiration: "2030-01-01T00:00:00Z"}}
	if err := s.Send(ctx, &acs.PayloadMessage{MessageID: "p1", SeqNum: 2, ClusterARN: "fake-arn", ContainerInstanceARN: fakeInstanceARN, Tasks: []acs.Task{task}}); err != nil {
		t.Fatal(err)
	}
	if ack := next[*acs.AckRequest](t, p); ack.MessageID != "p1" || ack.Cluster != "fake-arn" || ack.ContainerInstance != fakeInstanceARN {
		t.Fatalf("payload ack %+v", ack)
	}
	if ack := next[*acs.IAMRoleCredentialsAckRequest](t, p); ack.MessageID != "p1" || ack.CredentialsID != "cred-1" || ack.Expiration != "2030-01-01T00:00:00Z" {
		t.Fatalf("credentials ack %+v", ack)
	}
	// The first RUNNING report is refused with a 500; the agent retries.
	testkit.Eventually(t, 10*time.Second, "", func() error {
		ch := p.ecs.taskChanges()
		if len(ch) < 2 || ch[1]["status"] != "RUNNING" {
			return fmt.Errorf("task changes %v", ch)
		}
		return nil
	})

	// A manifest older than the payload is acked and ignored; a newer one
	// without the task makes the agent ask about it.
	if err := s.Send(ctx, &acs.TaskManifestMessage{MessageID: "m-stale", Timeline: 2}); err != nil {
		t.Fatal(err)
	}
	if ack := next[*acs.AckRequest](t, p); ack.MessageID != "m-stale" {
		t.Fatalf("manifest ack %+v", ack)
	}
	if err := s.Send(ctx, &acs.TaskManifestMessage{MessageID: "m-new", Timeline: 3}); err != nil {
		t.Fatal(err)
	}
	v := next[*acs.TaskStopVerificationMessage](t, p)
	if v.MessageID != "m-new" || len(v.StopCandidates) != 1 || v.StopCandidates[0].TaskARN != taskARN {
		t.Fatalf("stop verification %+v", v)
	}
	if err := s.Send(ctx, &acs.TaskStopVerificationAck{MessageID: "m-new", StopTasks: v.StopCandidates}); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 10*time.Second, "", func() error {
		ch := p.ecs.taskChanges()
		last := ch[len(ch)-1]
		if last["status"] != "STOPPED" {
			return fmt.Errorf("last task change %v", last)
		}
		if c := last["containers"].([]any)[0].(map[string]any); c["exitCode"] != float64(143) {
			return fmt.Errorf("container %v", c)
		}
		return nil
	})

	// Updates are refused; a CloseMessage makes the agent reconnect,
	// without asking for credentials again.
	if err := s.Send(ctx, &acs.StageUpdateMessage{MessageID: "u1"}); err != nil {
		t.Fatal(err)
	}
	if nack := next[*acs.NackRequest](t, p); nack.MessageID != "u1" || nack.Reason == "" {
		t.Fatalf("nack %+v", nack)
	}
	if err := s.Send(ctx, &acs.CloseMessage{Message: "bye"}); err != nil {
		t.Fatal(err)
	}
	select {
	case s = <-p.backend.sessions:
	case <-time.After(10 * time.Second):
		t.Fatal("no reconnection")
	}
	if s.Params().SendCredentials {
		t.Fatalf("sendCredentials on a reconnection")
	}
}

// TestAgent_AttributeEcho checks that an attribute missing from the
// registration's echo is a terminal error, as for the ECS agent.
func TestAgent_AttributeEcho(t *testing.T) {
	t.Parallel()
	p := startFakePlane(t, &fakeECS{dropAttr: "ecs.capability.container-ordering"})
	a, err := New(p.agentFor(t))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := a.Run(ctx); !errors.Is(err, ErrAttributeMismatch) || !strings.Contains(err.Error(), "container-ordering") {
		t.Fatalf("Run = %v, want ErrAttributeMismatch", err)
	}
}
