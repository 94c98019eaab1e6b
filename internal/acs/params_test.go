package acs

import (
	"context"
	"errors"
	"net/url"
	"testing"
	"time"
)

func TestParseParams(t *testing.T) {
	tests := []struct {
		name    string
		query   string
		want    Params
		wantErr string
	}{
		{"OK", "clusterArn=default&containerInstanceArn=ci&agentHash=h&agentVersion=1.80.0&seqNum=1&protocolVersion=2" +
			"&dockerVersion=DockerVersion%3A+25.0.3&sendCredentials=true",
			Params{ClusterARN: "default", ContainerInstanceARN: "ci", AgentHash: "h", AgentVersion: "1.80.0", SeqNum: 1,
				ProtocolVersion: 2, DockerVersion: "DockerVersion: 25.0.3", SendCredentials: true}, ""},
		{"Defaults", "containerInstanceArn=ci", Params{ContainerInstanceARN: "ci", ProtocolVersion: 1}, ""},
		{"ErrNoInstance", "clusterArn=c", Params{}, "missing containerInstanceArn"},
		{"ErrSeqNum", "containerInstanceArn=ci&seqNum=x", Params{}, `invalid seqNum "x"`},
		{"ErrProtocolVersion", "containerInstanceArn=ci&protocolVersion=0", Params{}, `invalid protocolVersion "0"`},
		{"ErrSendCredentials", "containerInstanceArn=ci&sendCredentials=maybe", Params{}, `invalid sendCredentials "maybe"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, _ := url.ParseQuery(tt.query)
			got, err := ParseParams(q)
			if tt.wantErr != "" {
				var bad *BadRequestException
				if !errors.As(err, &bad) || bad.Message != tt.wantErr {
					t.Fatalf("err = %v, want BadRequestException %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
			// Query is the inverse of ParseParams.
			back, err := ParseParams(got.Query())
			if err != nil || back != got {
				t.Errorf("round trip: %+v, %v", back, err)
			}
		})
	}
}

func TestSessionURL(t *testing.T) {
	p := Params{ClusterARN: "default", ContainerInstanceARN: "arn:ci", SeqNum: 1, ProtocolVersion: 2}
	for _, endpoint := range []string{"http://berth:8080", "http://berth:8080/"} {
		u, err := url.Parse(SessionURL(endpoint, p))
		if err != nil || u.Path != Path || u.Host != "berth:8080" {
			t.Fatalf("SessionURL(%q) = %v, %v", endpoint, u, err)
		}
		if got, err := ParseParams(u.Query()); err != nil || got != p {
			t.Errorf("params %+v, %v", got, err)
		}
	}
	tp := TelemetryParams{Cluster: "default", ContainerInstance: "arn:ci", AgentVersion: "1"}
	u, err := url.Parse(TelemetryURL("http://berth:8080"+TelemetryEndpointSuffix, tp))
	if err != nil || u.Path != TelemetryPath {
		t.Fatalf("TelemetryURL = %v, %v", u, err)
	}
	if got, err := ParseTelemetryParams(u.Query()); err != nil || got != tp {
		t.Errorf("telemetry params %+v, %v", got, err)
	}
}

func TestDial_Errors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if _, err := Dial(ctx, "ftp://berth/ws", nil); err == nil {
		t.Error("ftp scheme accepted")
	}
	if _, err := Dial(ctx, "http://127.0.0.1:1/ws", nil); err == nil {
		t.Error("dial to a closed port succeeded")
	}
}

func TestClientConn_RecvContextAndClose(t *testing.T) {
	h := newHarness(t, Config{})
	c, _ := h.connect(testParams(instanceA))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := c.Recv(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Recv = %v, want DeadlineExceeded", err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Recv(context.Background()); !errors.Is(err, ErrSessionClosed) {
		t.Errorf("Recv after Close = %v", err)
	}
	if err := c.Send(context.Background(), &AckRequest{}); !errors.Is(err, ErrSessionClosed) {
		t.Errorf("Send after Close = %v", err)
	}
	if e := h.backend.next(t); e.kind != "disconnect" {
		t.Errorf("got %s", e.kind)
	}
}
