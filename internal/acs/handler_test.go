package acs

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// wait bounds every wait of these tests; nothing should take this long.
const wait = 5 * time.Second

type event struct {
	kind  string // "connect", "handle", "disconnect"
	s     *Session
	msg   any
	cause error
}

// fakeBackend records every call on a channel. onConnect and onHandle, when
// set, run inside Connect and Handle.
type fakeBackend struct {
	events    chan event
	onConnect func(ctx context.Context, s *Session) error
	onHandle  func(ctx context.Context, s *Session, msg any)
}

func newFakeBackend() *fakeBackend { return &fakeBackend{events: make(chan event, 1024)} }

func (b *fakeBackend) Connect(ctx context.Context, s *Session) error {
	b.events <- event{kind: "connect", s: s}
	if b.onConnect != nil {
		return b.onConnect(ctx, s)
	}
	return nil
}

func (b *fakeBackend) Handle(ctx context.Context, s *Session, msg any) {
	b.events <- event{kind: "handle", s: s, msg: msg}
	if b.onHandle != nil {
		b.onHandle(ctx, s, msg)
	}
}

func (b *fakeBackend) Disconnect(ctx context.Context, s *Session, cause error) {
	b.events <- event{kind: "disconnect", s: s, cause: cause}
}

// next returns the next event that is not a heartbeat ack.
func (b *fakeBackend) next(t *testing.T) event {
	t.Helper()
	timeout := time.After(wait)
	for {
		select {
		case e := <-b.events:
			if _, ok := e.msg.(*HeartbeatAckRequest); ok {
				continue
			}
			return e
		case <-timeout:
			t.Fatal("timed out waiting for a backend event")
			return event{}
		}
	}
}

// none fails if an event (other than a heartbeat ack) is pending.
func (b *fakeBackend) none(t *testing.T) {
	t.Helper()
	for {
		select {
		case e := <-b.events:
			if _, ok := e.msg.(*HeartbeatAckRequest); ok {
				continue
			}
			t.Fatalf("unexpected event %s %T %v", e.kind, e.msg, e.cause)
		default:
			return
		}
	}
}

type harness struct {
	t       *testing.T
	backend *fakeBackend
	handler *Handler
	srv     *httptest.Server
}

func newHarness(t *testing.T, cfg Config) *harness {
	t.Helper()
	b := newFakeBackend()
	cfg.Backend = b
	if cfg.HeartbeatInterval == 0 {
		cfg.HeartbeatInterval = time.Hour // tests that need heartbeats set it
	}
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(Path, h)
	srv := httptest.NewUnstartedServer(mux)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // recovered panics of TestHandler_BackendPanics
	srv.Start()
	t.Cleanup(func() {
		_ = h.Close()
		srv.Close()
	})
	return &harness{t: t, backend: b, handler: h, srv: srv}
}

func testParams(instance string) Params {
	return Params{
		ClusterARN:           "arn:aws:ecs:us-east-1:123456789012:cluster/default",
		ContainerInstanceARN: instance,
		AgentVersion:         "1.80.0",
		AgentHash:            "abc",
		DockerVersion:        "DockerVersion: 25.0.3",
		SeqNum:               1,
		ProtocolVersion:      2,
		SendCredentials:      true,
	}
}

const instanceA = "arn:aws:ecs:us-east-1:123456789012:container-instance/default/aaaa"

func (h *harness) dial(p Params) *ClientConn {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c, err := Dial(ctx, SessionURL(h.srv.URL, p), nil)
	if err != nil {
		h.t.Fatalf("dial: %v", err)
	}
	h.t.Cleanup(func() { _ = c.Close() })
	return c
}

// connect dials and returns the client and the session the backend saw.
func (h *harness) connect(p Params) (*ClientConn, *Session) {
	h.t.Helper()
	c := h.dial(p)
	e := h.backend.next(h.t)
	if e.kind != "connect" {
		h.t.Fatalf("first event %s, want connect", e.kind)
	}
	return c, e.s
}

// recv returns the next message that is not a heartbeat.
func recv(t *testing.T, c *ClientConn) any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	for {
		m, err := c.Recv(ctx)
		if err != nil {
			t.Fatalf("recv: %v", err)
		}
		if _, ok := m.(*HeartbeatMessage); ok {
			continue
		}
		return m
	}
}

func send(t *testing.T, c *ClientConn, msg any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := c.Send(ctx, msg); err != nil {
		t.Fatalf("send %T: %v", msg, err)
	}
}

// recvUntilClosed reads until the connection ends and returns the error.
func recvUntilClosed(t *testing.T, c *ClientConn) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	for {
		if _, err := c.Recv(ctx); err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				t.Fatal("connection still open")
			}
			return err
		}
	}
}

func closeCode(err error) int {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return -1
}

func TestHandler_PayloadAndAck(t *testing.T) {
	h := newHarness(t, Config{})
	queued := &PayloadMessage{MessageID: "queued-in-connect", ClusterARN: "c", ContainerInstanceARN: instanceA, SeqNum: 1}
	h.backend.onConnect = func(ctx context.Context, s *Session) error { return s.Send(ctx, queued) }
	c, s := h.connect(testParams(instanceA))

	if got, want := s.Params(), testParams(instanceA); got != want {
		t.Errorf("params = %+v, want %+v", got, want)
	}
	if s.ContainerInstanceARN() != instanceA || s.SeqNum() != 1 || s.ClusterARN() != testParams(instanceA).ClusterARN {
		t.Errorf("session accessors: %q %d %q", s.ContainerInstanceARN(), s.SeqNum(), s.ClusterARN())
	}
	if h.handler.Lookup(instanceA) != s {
		t.Error("Lookup does not return the session")
	}
	if got := recv(t, c); !reflect.DeepEqual(got, queued) {
		t.Errorf("message queued during Connect: got %#v", got)
	}

	payload := &PayloadMessage{
		ClusterARN: "c", ContainerInstanceARN: instanceA, MessageID: "p1", SeqNum: 2,
		Tasks: []Task{{ARN: "arn:task/1", DesiredStatus: DesiredStatusRunning, Family: "web", Version: "1",
			Containers:      []Container{{Name: "app", Image: "nginx", Essential: true, Memory: 128}},
			RoleCredentials: &IAMRoleCredentials{CredentialsID: "cred1", AccessKeyID: "AK", Expiration: "2030-01-01T00:00:00Z"},
		}},
	}
	if err := s.Send(context.Background(), payload); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, c); !reflect.DeepEqual(got, payload) {
		t.Errorf("payload: got %#v", got)
	}
	send(t, c, &AckRequest{Cluster: "c", ContainerInstance: instanceA, MessageID: "p1"})
	send(t, c, &IAMRoleCredentialsAckRequest{MessageID: "p1", CredentialsID: "cred1", Expiration: "2030-01-01T00:00:00Z"})
	if e := h.backend.next(t); e.kind != "handle" || !reflect.DeepEqual(e.msg, &AckRequest{Cluster: "c", ContainerInstance: instanceA, MessageID: "p1"}) || e.s != s {
		t.Errorf("got %s %#v", e.kind, e.msg)
	}
	if e := h.backend.next(t); e.kind != "handle" || e.msg.(*IAMRoleCredentialsAckRequest).CredentialsID != "cred1" {
		t.Errorf("got %s %#v", e.kind, e.msg)
	}

	// An unknown frame is dropped; the session goes on.
	if err := c.SendFrame(context.Background(), []byte(`{"type":"FromTheFuture","message":{}}`)); err != nil {
		t.Fatal(err)
	}
	send(t, c, &AckRequest{MessageID: "p2"})
	if e := h.backend.next(t); e.msg.(*AckRequest).MessageID != "p2" {
		t.Errorf("got %#v", e.msg)
	}
	if err := s.Send(context.Background(), 42); err == nil {
		t.Error("Send(42) succeeded")
	}

	// The agent leaves.
	_ = c.Close()
	e := h.backend.next(t)
	if e.kind != "disconnect" || e.s != s || !errors.Is(e.cause, ErrPeerClosed) {
		t.Fatalf("got %s %v, want disconnect ErrPeerClosed", e.kind, e.cause)
	}
	if !errors.Is(s.Err(), ErrPeerClosed) || h.handler.Lookup(instanceA) != nil {
		t.Errorf("after disconnect: Err=%v Lookup=%v", s.Err(), h.handler.Lookup(instanceA))
	}
	if err := s.Send(context.Background(), payload); !errors.Is(err, ErrSessionClosed) {
		t.Errorf("Send after end = %v", err)
	}
}

func TestHandler_Heartbeats(t *testing.T) {
	h := newHarness(t, Config{HeartbeatInterval: 10 * time.Millisecond, InactivityTimeout: 10 * time.Second})
	c, _ := h.connect(testParams(instanceA))
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	ids := map[string]bool{}
	for len(ids) < 3 {
		m, err := c.Recv(ctx)
		if err != nil {
			t.Fatal(err)
		}
		hb, ok := m.(*HeartbeatMessage)
		if !ok || !hb.Healthy || hb.MessageID == "" || ids[hb.MessageID] {
			t.Fatalf("got %#v", m)
		}
		ids[hb.MessageID] = true
		send(t, c, &HeartbeatAckRequest{MessageID: hb.MessageID})
	}
	// The acks reach the backend.
	acked := map[string]bool{}
	timeout := time.After(wait)
	for len(acked) < 3 {
		select {
		case e := <-h.backend.events:
			if a, ok := e.msg.(*HeartbeatAckRequest); ok && ids[a.MessageID] {
				acked[a.MessageID] = true
			}
		case <-timeout:
			t.Fatalf("acked %v of %v", acked, ids)
		}
	}

	// A heartbeat from the agent is answered by the handler and delivered.
	send(t, c, &HeartbeatMessage{Healthy: true, MessageID: "from-agent"})
	for {
		m, err := c.Recv(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if a, ok := m.(*HeartbeatAckRequest); ok {
			if a.MessageID != "from-agent" {
				t.Errorf("ack %q", a.MessageID)
			}
			break
		}
	}
	if e := h.backend.next(t); !reflect.DeepEqual(e.msg, &HeartbeatMessage{Healthy: true, MessageID: "from-agent"}) {
		t.Errorf("backend got %#v", e.msg)
	}
}

func TestHandler_ManifestAndStopVerification(t *testing.T) {
	h := newHarness(t, Config{})
	h.backend.onHandle = func(ctx context.Context, s *Session, msg any) {
		if v, ok := msg.(*TaskStopVerificationMessage); ok {
			var stop []TaskIdentifier
			for _, c := range v.StopCandidates {
				if strings.HasSuffix(c.TaskARN, "/orphan") {
					stop = append(stop, TaskIdentifier{TaskARN: c.TaskARN, DesiredStatus: DesiredStatusStopped})
				}
			}
			_ = s.Send(ctx, &TaskStopVerificationAck{MessageID: v.MessageID, GeneratedAt: 1, StopTasks: stop})
		}
	}
	c, s := h.connect(testParams(instanceA))
	manifest := &TaskManifestMessage{
		ClusterARN: "c", ContainerInstanceARN: instanceA, MessageID: "man1", Timeline: 5, GeneratedAt: 1,
		Tasks: []TaskIdentifier{{TaskARN: "arn:task/keep", DesiredStatus: DesiredStatusRunning}},
	}
	if err := s.Send(context.Background(), manifest); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, c); !reflect.DeepEqual(got, manifest) {
		t.Fatalf("manifest: got %#v", got)
	}
	send(t, c, &AckRequest{MessageID: "man1"})
	send(t, c, &TaskStopVerificationMessage{MessageID: "man1", StopCandidates: []TaskIdentifier{
		{TaskARN: "arn:task/orphan"}, {TaskARN: "arn:task/other"},
	}})
	got := recv(t, c)
	want := &TaskStopVerificationAck{MessageID: "man1", GeneratedAt: 1,
		StopTasks: []TaskIdentifier{{TaskARN: "arn:task/orphan", DesiredStatus: DesiredStatusStopped}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v, want %#v", got, want)
	}
	if e := h.backend.next(t); e.msg.(*AckRequest).MessageID != "man1" {
		t.Errorf("got %#v", e.msg)
	}
	if e := h.backend.next(t); e.msg.(*TaskStopVerificationMessage).MessageID != "man1" {
		t.Errorf("got %#v", e.msg)
	}
}

func TestHandler_InactivityTimeout(t *testing.T) {
	// Margins wide enough for a loaded CI machine under -race.
	h := newHarness(t, Config{HeartbeatInterval: 20 * time.Millisecond, InactivityTimeout: 400 * time.Millisecond})

	// An agent that acks heartbeats stays connected well past the timeout.
	live, liveSession := h.connect(testParams(instanceA))
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	for range 60 { // 60 heartbeats: at least 1.2 s, three timeouts
		m, err := live.Recv(ctx)
		if err != nil {
			t.Fatal(err)
		}
		send(t, live, &HeartbeatAckRequest{MessageID: m.(*HeartbeatMessage).MessageID})
	}
	if err := liveSession.Err(); err != nil {
		t.Fatalf("live session closed: %v", err)
	}
	h.backend.none(t)
	_ = live.Close()
	if e := h.backend.next(t); e.kind != "disconnect" || !errors.Is(e.cause, ErrPeerClosed) {
		t.Fatalf("got %s %v", e.kind, e.cause)
	}

	// An agent that reads but never answers is dropped.
	// The server's clock starts when the connection arrives, before the
	// handshake completes: so does this one.
	start := time.Now()
	silent, s := h.connect(testParams(instanceA + "-silent"))
	err := recvUntilClosed(t, silent)
	if code := closeCode(err); code != websocket.CloseNormalClosure {
		t.Errorf("close code %d (%v), want 1000", code, err)
	}
	e := h.backend.next(t)
	if e.kind != "disconnect" || e.s != s || !errors.Is(e.cause, ErrInactive) {
		t.Fatalf("got %s %v, want disconnect ErrInactive", e.kind, e.cause)
	}
	if d := time.Since(start); d < 400*time.Millisecond {
		t.Errorf("closed after %v, before the timeout", d)
	}
}

func TestHandler_Reconnect(t *testing.T) {
	h := newHarness(t, Config{})
	c1, s1 := h.connect(testParams(instanceA))

	// The same instance connects again (a restarted agent, or a half-open
	// old connection): the old session is closed and disconnected first.
	c2 := h.dial(testParams(instanceA))
	e := h.backend.next(t)
	if e.kind != "disconnect" || e.s != s1 || !errors.Is(e.cause, ErrReplaced) {
		t.Fatalf("got %s %v, want disconnect of the old session with ErrReplaced", e.kind, e.cause)
	}
	e = h.backend.next(t)
	if e.kind != "connect" {
		t.Fatalf("got %s, want connect", e.kind)
	}
	s2 := e.s
	if s2.ID() <= s1.ID() || h.handler.Lookup(instanceA) != s2 {
		t.Errorf("ids %d, %d; lookup %v", s1.ID(), s2.ID(), h.handler.Lookup(instanceA))
	}
	if err := recvUntilClosed(t, c1); !errors.Is(err, ErrSessionClosed) {
		t.Errorf("old connection: %v", err)
	}
	if err := s1.Send(context.Background(), &HeartbeatMessage{}); !errors.Is(err, ErrSessionClosed) {
		t.Errorf("send on the old session: %v", err)
	}
	if err := s2.Send(context.Background(), &PayloadMessage{MessageID: "p"}); err != nil {
		t.Fatal(err)
	}
	if m := recv(t, c2); m.(*PayloadMessage).MessageID != "p" {
		t.Errorf("got %#v", m)
	}
	send(t, c2, &AckRequest{MessageID: "p"})
	if e := h.backend.next(t); e.s != s2 {
		t.Errorf("ack delivered for session %d", e.s.ID())
	}
	h.backend.none(t)
}

func TestHandler_Refusals(t *testing.T) {
	h := newHarness(t, Config{
		Authenticate: func(r *http.Request) (Identity, error) {
			switch r.Header.Get("Authorization") {
			case "good":
				return Identity{AccessKeyID: "AK", AccountID: "123456789012", Region: "us-east-1"}, nil
			case "plain-error":
				return Identity{}, errors.New("signature does not match")
			}
			return Identity{}, &AccessDeniedException{Message: "unknown key"}
		},
	})
	h.backend.onConnect = func(ctx context.Context, s *Session) error {
		switch s.ContainerInstanceARN() {
		case "inactive":
			return &InactiveInstanceException{Message: "Container instance is deregistered"}
		case "broken":
			return errors.New("store unavailable")
		}
		return nil
	}
	good := http.Header{"Authorization": {"good"}}
	tests := []struct {
		name     string
		instance string
		header   http.Header
		status   int
		body     string
	}{
		{"Inactive", "inactive", good, 400, `{"InactiveInstanceException":"Container instance is deregistered"}`},
		{"BackendError", "broken", good, 500, `{"ServerException":"store unavailable"}`},
		{"AuthException", instanceA, http.Header{"Authorization": {"other"}}, 403, `{"AccessDeniedException":"unknown key"}`},
		{"AuthError", instanceA, http.Header{"Authorization": {"plain-error"}}, 403, `{"AccessDeniedException":"signature does not match"}`},
		{"NoInstance", "", good, 400, `{"BadRequestException":"missing containerInstanceArn"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			_, err := Dial(ctx, SessionURL(h.srv.URL, testParams(tt.instance)), tt.header)
			var he *HandshakeError
			if !errors.As(err, &he) {
				t.Fatalf("err = %v, want *HandshakeError", err)
			}
			if he.StatusCode != tt.status || string(he.Body) != tt.body {
				t.Errorf("got %d %s, want %d %s", he.StatusCode, he.Body, tt.status, tt.body)
			}
			if he.Exception == nil || !strings.Contains(tt.body, `"`+he.Exception.ExceptionName()+`"`) {
				t.Errorf("exception %v", he.Exception)
			}
		})
	}
	var inactive *InactiveInstanceException
	_, err := Dial(context.Background(), SessionURL(h.srv.URL, testParams("inactive")), good)
	if !errors.As(err, &inactive) || inactive.Message != "Container instance is deregistered" {
		t.Errorf("errors.As to *InactiveInstanceException: %v", err)
	}
	// Refused Connects are never followed by Disconnect.
	for range 3 {
		if e := h.backend.next(t); e.kind != "connect" {
			t.Errorf("got %s", e.kind)
		}
	}
	h.backend.none(t)

	// A plain GET is not an upgrade.
	resp, err := http.Get(SessionURL(h.srv.URL, testParams(instanceA)))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || string(body) != `{"BadRequestException":"expected a websocket upgrade"}` {
		t.Errorf("plain GET: %d %s", resp.StatusCode, body)
	}

	// The identity reaches the session.
	if _, err := Dial(context.Background(), SessionURL(h.srv.URL, testParams(instanceA)), good); err != nil {
		t.Fatal(err)
	}
	if e := h.backend.next(t); e.s.Identity().AccountID != "123456789012" {
		t.Errorf("identity %+v", e.s.Identity())
	}
}

func TestHandler_SlowConsumer(t *testing.T) {
	h := newHarness(t, Config{SendQueue: 2})
	var sendErr error
	h.backend.onConnect = func(ctx context.Context, s *Session) error {
		for i := range 3 {
			if err := s.Send(ctx, &PayloadMessage{SeqNum: int64(i)}); err != nil {
				sendErr = err
				break
			}
		}
		return nil
	}
	_, err := Dial(context.Background(), SessionURL(h.srv.URL, testParams(instanceA)), nil)
	var he *HandshakeError
	if !errors.As(err, &he) || he.StatusCode != 500 {
		t.Errorf("dial: %v", err)
	}
	if e := h.backend.next(t); e.kind != "connect" {
		t.Fatalf("got %s", e.kind)
	}
	e := h.backend.next(t)
	if !errors.Is(sendErr, ErrSlowConsumer) || e.kind != "disconnect" || !errors.Is(e.cause, ErrSlowConsumer) {
		t.Errorf("send error %v; event %s %v", sendErr, e.kind, e.cause)
	}
}

func TestHandler_CloseSessionFromBackend(t *testing.T) {
	h := newHarness(t, Config{})
	c, s := h.connect(testParams(instanceA))
	deregistered := errors.New("instance deregistered")
	s.Close(deregistered)
	<-s.Done()
	if err := recvUntilClosed(t, c); closeCode(err) != websocket.CloseNormalClosure {
		t.Errorf("client: %v", err)
	}
	if e := h.backend.next(t); e.kind != "disconnect" || !errors.Is(e.cause, deregistered) {
		t.Errorf("got %s %v", e.kind, e.cause)
	}
}

func TestHandler_Close(t *testing.T) {
	h := newHarness(t, Config{})
	c1, _ := h.connect(testParams(instanceA))
	c2, _ := h.connect(testParams(instanceA + "-2"))
	if err := h.handler.Close(); err != nil {
		t.Fatal(err)
	}
	// Close has waited for both teardowns: the events are already there.
	for range 2 {
		select {
		case e := <-h.backend.events:
			if e.kind != "disconnect" || !errors.Is(e.cause, ErrHandlerClosed) {
				t.Errorf("got %s %v", e.kind, e.cause)
			}
		default:
			t.Fatal("Close returned before Disconnect")
		}
	}
	for _, c := range []*ClientConn{c1, c2} {
		if err := recvUntilClosed(t, c); closeCode(err) != websocket.CloseGoingAway {
			t.Errorf("client: %v, want close 1001", err)
		}
	}
	_, err := Dial(context.Background(), SessionURL(h.srv.URL, testParams(instanceA)), nil)
	var se *ServerException
	if !errors.As(err, &se) {
		t.Errorf("dial after Close: %v", err)
	}
	if err := h.handler.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestHandler_ConcurrentSenders exercises Send from many goroutines while the
// agent reads and acks, for the race detector.
func TestHandler_ConcurrentSenders(t *testing.T) {
	h := newHarness(t, Config{SendQueue: 1024, HeartbeatInterval: 5 * time.Millisecond, InactivityTimeout: 10 * time.Second})
	c, s := h.connect(testParams(instanceA))
	const senders, each = 8, 50
	var wg sync.WaitGroup
	for i := range senders {
		wg.Go(func() {
			for j := range each {
				if err := s.Send(context.Background(), &AckRequest{MessageID: string(rune('a'+i)) + string(rune(j))}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	got := 0
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	for got < senders*each {
		m, err := c.Recv(ctx)
		if err != nil {
			t.Fatal(err)
		}
		switch m := m.(type) {
		case *AckRequest:
			got++
		case *HeartbeatMessage:
			send(t, c, &HeartbeatAckRequest{MessageID: m.MessageID})
		}
	}
	wg.Wait()
}

func TestNew_RequiresBackend(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Error("New without a Backend succeeded")
	}
}

// TestHandler_StuckAgent: an agent that stops reading is disconnected; Send
// never blocks on it.
func TestHandler_StuckAgent(t *testing.T) {
	h := newHarness(t, Config{SendQueue: 4, WriteTimeout: 100 * time.Millisecond})
	_, s := h.connect(testParams(instanceA)) // the client never calls Recv
	big := &PayloadMessage{MessageID: strings.Repeat("x", 1<<20)}
	var err error
	for i := 0; i < 1000 && err == nil; i++ {
		err = s.Send(context.Background(), big)
	}
	if !errors.Is(err, ErrSlowConsumer) && !errors.Is(err, ErrSessionClosed) {
		t.Fatalf("Send kept succeeding: %v", err)
	}
	e := h.backend.next(t)
	if e.kind != "disconnect" || !(errors.Is(e.cause, ErrSlowConsumer) || errors.Is(e.cause, ErrPeerClosed)) {
		t.Errorf("got %s %v", e.kind, e.cause)
	}
}

// TestHandler_BackendPanics: a panicking Backend does not wedge the
// container instance: its next connection is served.
func TestHandler_BackendPanics(t *testing.T) {
	h := newHarness(t, Config{})
	var panicConnect atomic.Bool
	panicConnect.Store(true)
	h.backend.onConnect = func(ctx context.Context, s *Session) error {
		if panicConnect.Load() {
			panic("backend bug")
		}
		return nil
	}
	h.backend.onHandle = func(ctx context.Context, s *Session, msg any) {
		if a, ok := msg.(*AckRequest); ok && a.MessageID == "boom" {
			panic("backend bug")
		}
	}
	if _, err := Dial(context.Background(), SessionURL(h.srv.URL, testParams(instanceA)), nil); err == nil {
		t.Fatal("dial succeeded although Connect panicked")
	}
	if e := h.backend.next(t); e.kind != "connect" {
		t.Fatalf("got %s", e.kind)
	}
	panicConnect.Store(false)
	c, s := h.connect(testParams(instanceA))
	send(t, c, &AckRequest{MessageID: "boom"})
	if e := h.backend.next(t); e.kind != "handle" {
		t.Fatalf("got %s", e.kind)
	}
	if e := h.backend.next(t); e.kind != "disconnect" || e.s != s {
		t.Fatalf("got %s", e.kind)
	}
	c2, _ := h.connect(testParams(instanceA))
	send(t, c2, &AckRequest{MessageID: "fine"})
	if e := h.backend.next(t); e.kind != "handle" {
		t.Fatalf("got %s", e.kind)
	}
}
