package acs

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/gorilla/websocket"
)

// TelemetrySource identifies the sender of a telemetry message.
type TelemetrySource struct {
	SessionID  uint64
	Identity   Identity
	Params     TelemetryParams
	RemoteAddr string
}

// TelemetryConfig configures a TelemetryHandler.
type TelemetryConfig struct {
	// Authenticate verifies upgrade requests, as for ACS; nil accepts every
	// request with the zero Identity. The per-frame signatures the agent
	// prefixes to its TCS frames are not verified.
	Authenticate Authenticator
	// OnMessage receives every *PublishMetricsRequest, *PublishHealthRequest
	// and *PublishInstanceStatusRequest, after the handler has queued its
	// ack. It runs on the session's read goroutine, so it must be quick;
	// nil drops the messages. ctx is cancelled when the session ends.
	OnMessage func(ctx context.Context, from TelemetrySource, msg any)
	// Log receives session events; nil discards them.
	Log *slog.Logger
	// HeartbeatInterval is the period of HeartbeatMessage and of websocket
	// pings (default 20 s).
	HeartbeatInterval time.Duration
	// InactivityTimeout closes a session when neither a frame nor a pong
	// arrived for this long (default 3 heartbeat intervals; negative:
	// never). Pongs count because an agent with nothing to publish sends no
	// frame and does not answer heartbeats on TCS.
	InactivityTimeout time.Duration
	// WriteTimeout bounds the write of one frame (default 10 s).
	WriteTimeout time.Duration
	// SendQueue bounds the queued acks per session (default 64).
	SendQueue int
	// MaxMessageBytes bounds one frame from the agent (default 4 MiB; the
	// agent splits metrics at 1 MiB).
	MaxMessageBytes int64
}

// TelemetryHandler serves the TCS websocket (mounted at TelemetryPath,
// "/tcs/ws"). It acks PublishMetricsRequest (AckPublishMetric),
// PublishHealthRequest (AckPublishHealth) and PublishInstanceStatusRequest
// (AckPublishInstanceStatus), sends heartbeats, and hands the published
// messages to TelemetryConfig.OnMessage. As with ACS, a new session of a
// container instance replaces the previous one.
type TelemetryHandler struct {
	hub       *hub
	auth      Authenticator
	onMessage func(ctx context.Context, from TelemetrySource, msg any)
}

// NewTelemetry returns a TelemetryHandler.
func NewTelemetry(cfg TelemetryConfig) *TelemetryHandler {
	t := resolveTiming(cfg.HeartbeatInterval, cfg.InactivityTimeout, cfg.WriteTimeout, cfg.SendQueue, cfg.MaxMessageBytes)
	p := &protocol{
		name:      "TCS",
		encode:    EncodeTelemetry,
		decode:    DecodeTelemetry,
		heartbeat: func() any { return &HeartbeatMessage{Healthy: true} },
		pong:      true,
	}
	return &TelemetryHandler{hub: newHub(cfg.Log, t, p), auth: cfg.Authenticate, onMessage: cfg.OnMessage}
}

// Close closes every telemetry session, refuses new ones and waits for every
// session goroutine. It is idempotent and always returns nil.
func (h *TelemetryHandler) Close() error {
	h.hub.close()
	return nil
}

// ServeHTTP runs one TCS session until it ends.
func (h *TelemetryHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.hub.enter() {
		refuse(w, &ServerException{Message: "server shutting down"})
		return
	}
	defer h.hub.wg.Done()
	ident, ok := admit(w, r, h.auth)
	if !ok {
		return
	}
	params, err := ParseTelemetryParams(r.URL.Query())
	if err != nil {
		refuse(w, asException(err, func(m string) Exception { return &BadRequestException{Message: m} }))
		return
	}
	c := h.hub.newConn(params.ContainerInstance)
	from := TelemetrySource{SessionID: c.id, Identity: ident, Params: params, RemoteAddr: r.RemoteAddr}
	log := h.hub.log.With("session", c.id, "containerInstance", params.ContainerInstance)

	old, ok := h.hub.register(c)
	if !ok {
		c.cancel()
		close(c.finished)
		refuse(w, &ServerException{Message: "server shutting down"})
		return
	}
	// The teardown is deferred before anything can block or panic, so that
	// finished is always closed (see Handler.ServeHTTP, which hands the
	// upgraded session to a goroutine of the hub the same way).
	handedOff := false
	finish := func() {
		c.close(ErrSessionClosed, false)
		if c.attached() {
			<-c.writerDone
		}
		h.hub.unregister(c)
		log.Info("TCS session ended", "cause", c.err())
		close(c.finished)
	}
	defer func() {
		if !handedOff {
			finish()
		}
	}()
	if old != nil {
		old.close(ErrReplaced, true)
		<-old.finished
	}
	ws, err := h.hub.upgrader.Upgrade(w, r, nil)
	if err != nil {
		c.close(fmt.Errorf("%w: upgrade: %w", ErrPeerClosed, err), true)
		return
	}
	if !c.attach(ws) {
		return
	}
	log.Info("TCS session connected", "agentVersion", params.AgentVersion, "remote", r.RemoteAddr)
	h.hub.wg.Go(func() { c.writeLoop(ws) })
	handedOff = true
	h.hub.wg.Go(func() {
		defer finish()
		defer h.hub.recoverSession(c, log)
		h.serveTelemetry(c, ws, from)
	})
}

// serveTelemetry reads a TCS session's messages and acknowledges them.
func (h *TelemetryHandler) serveTelemetry(c *conn, ws *websocket.Conn, from TelemetrySource) {
	c.readLoop(ws, func(ctx context.Context, msg any) {
		var ack any
		switch msg.(type) {
		case *PublishMetricsRequest:
			ack = &AckPublishMetric{}
		case *PublishHealthRequest:
			ack = &AckPublishHealth{}
		case *PublishInstanceStatusRequest:
			ack = &AckPublishInstanceStatus{}
		default:
			return
		}
		_ = c.send(ctx, ack)
		if h.onMessage != nil {
			h.onMessage(ctx, from, msg)
		}
	})
}
