package acs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/gorilla/websocket"
)

// Identity is who signed the websocket upgrade, as the Authenticator
// established it.
type Identity struct {
	AccessKeyID string
	AccountID   string
	Region      string
}

// Authenticator verifies the upgrade request of a session (the agent signs
// the GET of the websocket URL with SigV4, service "ecs"). It returns the
// caller's identity, or an error that refuses the handshake: an Exception
// (typically *AccessDeniedException) is written as it is, any other error
// as AccessDeniedException with the error's text. It may be called
// concurrently.
type Authenticator func(r *http.Request) (Identity, error)

// Backend is the control plane's side of ACS sessions. The handler calls it
// from the goroutine serving the session; calls for one session never
// overlap, and follow the order Connect, Handle*, Disconnect. Disconnect is
// called exactly once for every Connect that returned nil.
type Backend interface {
	// Connect admits a session. It is called before the websocket upgrade,
	// so returning an error refuses the handshake: an Exception (e.g.
	// *InactiveInstanceException for a deregistered instance,
	// *InvalidInstanceException for an unknown one) is written as the body
	// {"<ExceptionName>":"<message>"}, any other error as ServerException.
	// Messages sent on s during Connect are queued and delivered after the
	// upgrade. When the same container instance already has a session, that
	// session has been closed, and its Disconnect has returned, before
	// Connect is called. ctx ends if the client goes away or the handler is
	// closed.
	Connect(ctx context.Context, s *Session) error
	// Handle receives every decoded frame from the agent, in order: acks
	// (AckRequest, IAMRoleCredentialsAckRequest, HeartbeatAckRequest,
	// NackRequest), TaskStopVerificationMessage, and anything else the agent
	// sends. The handler has already answered a HeartbeatMessage from the
	// agent. Handle blocks the session's reads, so it must be quick; it may
	// call s.Send. ctx is cancelled when the session ends.
	Handle(ctx context.Context, s *Session, msg any)
	// Disconnect reports the end of a session, with its cause: an
	// ErrInactive, ErrReplaced, ErrHandlerClosed or ErrSlowConsumer, the
	// error given to Session.Close, or an error wrapping ErrPeerClosed. The
	// backend typically marks the instance agentConnected=false unless a
	// newer session exists (compare Session.ID). ctx is not cancelled.
	Disconnect(ctx context.Context, s *Session, cause error)
}

// Config configures a Handler.
type Config struct {
	// Backend receives sessions and messages. Required.
	Backend Backend
	// Authenticate verifies upgrade requests; nil accepts every request
	// with the zero Identity.
	Authenticate Authenticator
	// Log receives session events; nil discards them.
	Log *slog.Logger
	// HeartbeatInterval is the period of HeartbeatMessage (default 20 s;
	// the agent drops a session after 1 to 2 minutes without any server
	// message).
	HeartbeatInterval time.Duration
	// InactivityTimeout closes a session when no frame at all arrived from
	// the agent for this long (default 3 heartbeat intervals; negative:
	// never). The agent acks every heartbeat, so a live agent is never idle.
	InactivityTimeout time.Duration
	// WriteTimeout bounds the write of one frame (default 10 s); an agent
	// that does not read within it is disconnected.
	WriteTimeout time.Duration
	// SendQueue is the number of frames Send may queue per session
	// (default 64); when full, the session is closed (ErrSlowConsumer).
	SendQueue int
	// MaxMessageBytes bounds one frame from the agent (default 4 MiB).
	MaxMessageBytes int64
}

// Handler serves the ACS websocket (mounted at Path, "/ws"). One session per
// container instance: a new connection for the same containerInstanceArn
// closes the previous session (cause ErrReplaced) before the backend sees
// the new one. Every session's goroutines are owned by the Handler; Close
// ends them all.
type Handler struct {
	hub     *hub
	backend Backend
	auth    Authenticator
}

// New returns a Handler. It fails when cfg.Backend is nil.
func New(cfg Config) (*Handler, error) {
	if cfg.Backend == nil {
		return nil, errors.New("acs: Config.Backend is nil")
	}
	t := resolveTiming(cfg.HeartbeatInterval, cfg.InactivityTimeout, cfg.WriteTimeout, cfg.SendQueue, cfg.MaxMessageBytes)
	p := &protocol{
		name:      "ACS",
		encode:    Encode,
		decode:    Decode,
		heartbeat: func() any { return &HeartbeatMessage{Healthy: true, MessageID: newMessageID()} },
	}
	return &Handler{hub: newHub(cfg.Log, t, p), backend: cfg.Backend, auth: cfg.Authenticate}, nil
}

// Close closes every session (cause ErrHandlerClosed, close code 1001),
// refuses new ones, and returns once every session goroutine, including the
// Backend.Disconnect calls, has returned. It is idempotent and always
// returns nil.
func (h *Handler) Close() error {
	h.hub.close()
	return nil
}

// Lookup returns the current session of a container instance, or nil.
func (h *Handler) Lookup(containerInstanceARN string) *Session {
	c := h.hub.lookup(containerInstanceARN)
	if c == nil {
		return nil
	}
	return c.session
}

// admit performs the checks every session handler starts with: the request
// must be a websocket upgrade, and it must pass auth (when set). It writes
// the refusal and reports false when either fails.
func admit(w http.ResponseWriter, r *http.Request, auth Authenticator) (Identity, bool) {
	if !websocket.IsWebSocketUpgrade(r) {
		refuse(w, &BadRequestException{Message: "expected a websocket upgrade"})
		return Identity{}, false
	}
	if auth == nil {
		return Identity{}, true
	}
	ident, err := auth(r)
	if err != nil {
		refuse(w, asException(err, func(m string) Exception { return &AccessDeniedException{Message: m} }))
		return Identity{}, false
	}
	return ident, true
}

// ServeHTTP runs one ACS session: authenticate, parse the query (Params),
// Backend.Connect, upgrade, then serve until the session ends. Once the
// connection is upgraded the session is served by a goroutine of the hub
// (Close waits for it) and ServeHTTP returns, so that net/http's
// per-request memory (its response buffer, the deep stack of its serving
// goroutine) is not held for the session's whole life by each of
// thousands of agents. Before that, ServeHTTP returns when the teardown
// (Backend.Disconnect included) is complete.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.hub.enter() {
		refuse(w, &ServerException{Message: "server shutting down"})
		return
	}
	defer h.hub.wg.Done()
	ident, ok := admit(w, r, h.auth)
	if !ok {
		return
	}
	params, err := ParseParams(r.URL.Query())
	if err != nil {
		refuse(w, asException(err, func(m string) Exception { return &BadRequestException{Message: m} }))
		return
	}

	c := h.hub.newConn(params.ContainerInstanceARN)
	s := &Session{conn: c, params: params, identity: ident, remoteAddr: r.RemoteAddr, connectedAt: time.Now()}
	c.session = s
	log := h.hub.log.With("session", c.id, "containerInstance", params.ContainerInstanceARN, "cluster", params.ClusterARN)

	old, ok := h.hub.register(c)
	if !ok {
		c.cancel()
		close(c.finished)
		refuse(w, &ServerException{Message: "server shutting down"})
		return
	}
	// From here on, the deferred teardown runs whatever happens, a panic
	// in the Backend included: a session left registered would block the
	// instance's next connection forever.
	connected, handedOff := false, false
	finish := func() {
		if connected {
			h.teardown(s, log)
			return
		}
		c.close(ErrSessionClosed, true)
		h.hub.unregister(c)
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

	if err := h.connect(r, s); err != nil {
		c.close(err, true)
		log.Info("ACS session refused", "err", err)
		refuse(w, asException(err, func(m string) Exception { return &ServerException{Message: m} }))
		return
	}
	connected = true

	if cause := c.err(); cause != nil {
		// Replaced or shut down while Connect ran.
		refuse(w, &ServerException{Message: cause.Error()})
		return
	}
	ws, err := h.hub.upgrader.Upgrade(w, r, nil) // on failure the upgrader has answered
	if err != nil {
		c.close(fmt.Errorf("%w: upgrade: %w", ErrPeerClosed, err), true)
		return
	}
	if !c.attach(ws) {
		return
	}
	log.Info("ACS session connected", "agentVersion", params.AgentVersion, "protocolVersion", params.ProtocolVersion,
		"sendCredentials", params.SendCredentials, "remote", r.RemoteAddr)
	h.hub.wg.Go(func() { c.writeLoop(ws) })
	handedOff = true
	h.hub.wg.Go(func() {
		defer finish()
		defer h.hub.recoverSession(c, log)
		c.readLoop(ws, func(ctx context.Context, msg any) {
			if hb, ok := msg.(*HeartbeatMessage); ok {
				_ = c.send(ctx, &HeartbeatAckRequest{MessageID: hb.MessageID})
			}
			h.backend.Handle(ctx, s, msg)
		})
	})
}

// connect runs Backend.Connect with a context that ends with the request or
// the handler.
func (h *Handler) connect(r *http.Request, s *Session) error {
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	stop := context.AfterFunc(h.hub.base, cancel)
	defer stop()
	return h.backend.Connect(ctx, s)
}

// teardown ends a session whose Connect succeeded: wait for the writer,
// leave the registry, tell the backend, release anyone waiting to replace
// the session.
func (h *Handler) teardown(s *Session, log *slog.Logger) {
	c := s.conn
	defer close(c.finished)
	c.close(ErrSessionClosed, false) // no-op when already closed, as usual
	if c.attached() {
		<-c.writerDone
	}
	h.hub.unregister(c)
	cause := c.err()
	log.Info("ACS session ended", "cause", cause, "duration", time.Since(s.connectedAt).Round(time.Millisecond))
	h.backend.Disconnect(context.WithoutCancel(c.ctx), s, cause)
}

// Session is one ACS session of a container instance. Its accessors are
// safe for concurrent use; Send and Close may be called from any goroutine.
type Session struct {
	conn        *conn
	params      Params
	identity    Identity
	remoteAddr  string
	connectedAt time.Time
}

// ID is unique among the sessions of a Handler and increases with each
// connection attempt, so a later session of the same container instance has
// a larger ID.
func (s *Session) ID() uint64 { return s.conn.id }

// Params returns the query parameters the agent connected with.
func (s *Session) Params() Params { return s.params }

// ClusterARN is the clusterArn parameter (an ARN or a name, as the agent
// was configured).
func (s *Session) ClusterARN() string { return s.params.ClusterARN }

// ContainerInstanceARN is the containerInstanceArn parameter.
func (s *Session) ContainerInstanceARN() string { return s.params.ContainerInstanceARN }

// SeqNum is the seqNum parameter.
func (s *Session) SeqNum() int64 { return s.params.SeqNum }

// Identity is what the Authenticator returned.
func (s *Session) Identity() Identity { return s.identity }

// RemoteAddr is the network address of the agent.
func (s *Session) RemoteAddr() string { return s.remoteAddr }

// ConnectedAt is when the connection attempt arrived.
func (s *Session) ConnectedAt() time.Time { return s.connectedAt }

// Send queues msg (any ACS message: *PayloadMessage, *TaskManifestMessage,
// *TaskStopVerificationAck, *IAMRoleCredentialsMessage, ...) for the agent.
// It never blocks on the network: frames are written in Send order by the
// session's writer. A nil error means queued, not delivered. It returns
// ctx.Err() if ctx is done, an *UnknownTypeError for a value that is not a
// message, ErrSessionClosed once the session has ended, and
// ErrSlowConsumer, after closing the session, when the queue is full.
func (s *Session) Send(ctx context.Context, msg any) error { return s.conn.send(ctx, msg) }

// Close ends the session with cause (nil: ErrSessionClosed), sending a
// normal close frame; the agent reconnects at once. It does not wait for
// the teardown. Closing an ended session does nothing.
func (s *Session) Close(cause error) {
	if cause == nil {
		cause = ErrSessionClosed
	}
	s.conn.close(cause, false)
}

// Done is closed when the session ends.
func (s *Session) Done() <-chan struct{} { return s.conn.done }

// Err returns why the session ended, or nil while it is open.
func (s *Session) Err() error { return s.conn.err() }
