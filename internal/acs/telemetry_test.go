package acs

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

type telemetryHarness struct {
	t        *testing.T
	handler  *TelemetryHandler
	srv      *httptest.Server
	received chan telemetryEvent
}

type telemetryEvent struct {
	from TelemetrySource
	msg  any
}

func newTelemetryHarness(t *testing.T, cfg TelemetryConfig) *telemetryHarness {
	t.Helper()
	th := &telemetryHarness{t: t, received: make(chan telemetryEvent, 64)}
	cfg.OnMessage = func(ctx context.Context, from TelemetrySource, msg any) {
		th.received <- telemetryEvent{from, msg}
	}
	if cfg.HeartbeatInterval == 0 {
		cfg.HeartbeatInterval = time.Hour
	}
	th.handler = NewTelemetry(cfg)
	mux := http.NewServeMux()
	mux.Handle(TelemetryPath, th.handler)
	th.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		_ = th.handler.Close()
		th.srv.Close()
	})
	return th
}

func telemetryParams(instance string) TelemetryParams {
	return TelemetryParams{Cluster: "default", ContainerInstance: instance, AgentVersion: "1.80.0", AgentHash: "abc",
		DockerVersion: "25.0.3"}
}

func (th *telemetryHarness) dial(p TelemetryParams) *ClientConn {
	th.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	// DiscoverPollEndpoint returns base + TelemetryEndpointSuffix; the agent
	// appends /ws.
	c, err := DialTelemetry(ctx, TelemetryURL(th.srv.URL+TelemetryEndpointSuffix, p), nil)
	if err != nil {
		th.t.Fatalf("dial: %v", err)
	}
	th.t.Cleanup(func() { _ = c.Close() })
	return c
}

// signed prefixes a frame with headers the way the agent does.
func signed(frame string) []byte {
	h := http.Header{}
	h.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AK/20240101/us-east-1/ecs/aws4_request, SignedHeaders=host;x-amz-date, Signature=00")
	h.Set("X-Amz-Date", "20240101T000000Z")
	h.Add("Host", "berth:8080")
	var b []byte
	for _, k := range []string{"Authorization", "Host", "X-Amz-Date"} {
		b = append(b, k+": "+h.Get(k)+"\r\n"...)
	}
	return append(append(b, "\r\n"...), frame...)
}

func TestTelemetry_PublishAcked(t *testing.T) {
	th := newTelemetryHarness(t, TelemetryConfig{})
	c := th.dial(telemetryParams(instanceA))
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()

	frames := []struct {
		frame string
		ack   any
	}{
		{`{"type":"PublishMetricsRequest","message":{"metadata":{"cluster":"default","containerInstance":"` + instanceA +
			`","messageId":"m1","fin":true},"taskMetrics":[{"taskArn":"t1","containerMetrics":[{"containerName":"app",` +
			`"cpuStatsSet":{"min":1,"max":3,"sampleCount":2,"sum":4},"memoryStatsSet":{"min":10,"max":12,"sampleCount":2,"sum":22}}]}],` +
			`"timestamp":1700000000.25}}`, &AckPublishMetric{}},
		{`{"type":"PublishHealthRequest","message":{"metadata":{"messageId":"h1"},"tasks":[{"taskArn":"t1",` +
			`"containers":[{"containerName":"app","healthStatus":"HEALTHY","statusSince":1700000000}]}],"timestamp":1700000001}}`,
			&AckPublishHealth{}},
		{`{"type":"PublishInstanceStatusRequest","message":{"metadata":{"requestId":"r1"},"statuses":[{"type":"ContainerRuntime",` +
			`"status":"OK","lastUpdated":1700000002,"lastStatusChange":1700000000}],"timestamp":1700000002}}`,
			&AckPublishInstanceStatus{}},
	}
	for _, f := range frames {
		if err := c.SendFrame(ctx, signed(f.frame)); err != nil {
			t.Fatal(err)
		}
		m, err := c.Recv(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if TypeName(m) != TypeName(f.ack) {
			t.Errorf("got %T, want %T", m, f.ack)
		}
	}
	// A bare frame (Berth's agent) is acked too.
	if err := c.Send(ctx, &PublishMetricsRequest{Metadata: &MetricsMetadata{MessageID: "m2", Idle: true, Fin: true}}); err != nil {
		t.Fatal(err)
	}
	if m, err := c.Recv(ctx); err != nil || TypeName(m) != "AckPublishMetric" {
		t.Errorf("got %T %v", m, err)
	}

	var got []any
	for range 4 {
		select {
		case e := <-th.received:
			if e.from.Params != telemetryParams(instanceA) || e.from.SessionID == 0 {
				t.Errorf("from %+v", e.from)
			}
			got = append(got, e.msg)
		case <-time.After(wait):
			t.Fatal("OnMessage not called")
		}
	}
	pm := got[0].(*PublishMetricsRequest)
	if pm.Metadata.MessageID != "m1" || pm.TaskMetrics[0].ContainerMetrics[0].CPUStatsSet.Sum != 4 ||
		!pm.Timestamp.Equal(time.UnixMilli(1700000000250)) {
		t.Errorf("metrics %+v", pm)
	}
	ph := got[1].(*PublishHealthRequest)
	if ph.Tasks[0].Containers[0].HealthStatus != HealthStatusHealthy || ph.Tasks[0].Containers[0].StatusSince.Unix() != 1700000000 {
		t.Errorf("health %+v", ph.Tasks[0])
	}
	ps := got[2].(*PublishInstanceStatusRequest)
	if ps.Statuses[0].Status != InstanceStatusOK || ps.Statuses[0].LastUpdated.Unix() != 1700000002 {
		t.Errorf("status %+v", ps.Statuses[0])
	}
	if !got[3].(*PublishMetricsRequest).Metadata.Idle {
		t.Errorf("bare metrics %+v", got[3])
	}
}

func TestTelemetry_HeartbeatsAndPongs(t *testing.T) {
	// Margins wide enough for a loaded CI machine under -race.
	th := newTelemetryHarness(t, TelemetryConfig{HeartbeatInterval: 20 * time.Millisecond, InactivityTimeout: 400 * time.Millisecond})

	// An agent that publishes nothing but keeps reading (its websocket
	// library answers pings) stays connected.
	c := th.dial(telemetryParams(instanceA))
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	for range 60 { // at least 1.2 s, three timeouts
		m, err := c.Recv(ctx)
		if err != nil {
			t.Fatalf("recv: %v", err)
		}
		if hb, ok := m.(*HeartbeatMessage); !ok || !hb.Healthy || hb.MessageID != "" {
			t.Fatalf("got %#v", m)
		}
	}

	// An agent that stops reading sends no pong and is dropped.
	stuck := th.dial(telemetryParams(instanceA + "-stuck"))
	sc := th.handler.hub.lookup(instanceA + "-stuck") // registered before the upgrade
	if sc == nil {
		t.Fatal("stuck session not registered")
	}
	deadline := time.Now().Add(wait)
	for th.handler.hub.lookup(instanceA+"-stuck") != nil {
		if time.Now().After(deadline) {
			t.Fatal("stuck session not dropped")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if !errors.Is(sc.err(), ErrInactive) {
		t.Errorf("cause %v, want ErrInactive", sc.err())
	}
	// The client may see the close frame or, answering queued pings, a
	// broken pipe.
	if err := recvUntilClosed(t, stuck); !errors.Is(err, ErrSessionClosed) {
		t.Errorf("stuck client: %v", err)
	}
}

func TestTelemetry_ReplaceRefuseClose(t *testing.T) {
	th := newTelemetryHarness(t, TelemetryConfig{
		Authenticate: func(r *http.Request) (Identity, error) {
			if r.Header.Get("Authorization") == "" {
				return Identity{}, errors.New("unsigned")
			}
			return Identity{AccessKeyID: "AK"}, nil
		},
	})
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	url := TelemetryURL(th.srv.URL+TelemetryEndpointSuffix, telemetryParams(instanceA))
	_, err := DialTelemetry(ctx, url, nil)
	var denied *AccessDeniedException
	if !errors.As(err, &denied) || denied.Message != "unsigned" {
		t.Errorf("unsigned dial: %v", err)
	}
	h := http.Header{"Authorization": {"x"}}
	_, err = DialTelemetry(ctx, TelemetryURL(th.srv.URL+TelemetryEndpointSuffix, TelemetryParams{Cluster: "c"}), h)
	var bad *BadRequestException
	if !errors.As(err, &bad) {
		t.Errorf("dial without containerInstance: %v", err)
	}

	c1, err := DialTelemetry(ctx, url, h)
	if err != nil {
		t.Fatal(err)
	}
	defer c1.Close()
	c2, err := DialTelemetry(ctx, url, h)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if err := recvUntilClosed(t, c1); !errors.Is(err, ErrSessionClosed) {
		t.Errorf("replaced session: %v", err)
	}
	if err := c2.Send(ctx, &PublishHealthRequest{}); err != nil {
		t.Fatal(err)
	}
	if m, err := c2.Recv(ctx); err != nil || TypeName(m) != "AckPublishHealth" {
		t.Errorf("got %T %v", m, err)
	}
	if e := <-th.received; e.from.Identity.AccessKeyID != "AK" {
		t.Errorf("identity %+v", e.from.Identity)
	}

	_ = th.handler.Close()
	if err := recvUntilClosed(t, c2); closeCode(err) != websocket.CloseGoingAway {
		t.Errorf("after Close: %v", err)
	}
	if th.handler.hub.lookup(instanceA) != nil {
		t.Error("session still registered after Close")
	}
}
