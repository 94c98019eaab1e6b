package acs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// Defaults of the session timing knobs.
const (
	DefaultHeartbeatInterval = 20 * time.Second
	DefaultWriteTimeout      = 10 * time.Second
	DefaultSendQueue         = 64
	DefaultMaxMessageBytes   = 4 << 20
	// closeGrace bounds the best-effort close frame at the end of a session.
	closeGrace = time.Second
)

// timing is the resolved timing of a hub's sessions.
type timing struct {
	heartbeat  time.Duration
	inactivity time.Duration // <= 0: never
	write      time.Duration
	queue      int
	maxBytes   int64
}

func resolveTiming(heartbeat, inactivity, write time.Duration, queue int, maxBytes int64) timing {
	t := timing{heartbeat: heartbeat, inactivity: inactivity, write: write, queue: queue, maxBytes: maxBytes}
	if t.heartbeat <= 0 {
		t.heartbeat = DefaultHeartbeatInterval
	}
	if t.inactivity == 0 {
		t.inactivity = 3 * t.heartbeat
	}
	if t.write <= 0 {
		t.write = DefaultWriteTimeout
	}
	if t.queue <= 0 {
		t.queue = DefaultSendQueue
	}
	if t.maxBytes <= 0 {
		t.maxBytes = DefaultMaxMessageBytes
	}
	return t
}

// protocol is what differs between the ACS and TCS sessions.
type protocol struct {
	name      string
	encode    func(any) ([]byte, error)
	decode    func([]byte) (any, error)
	heartbeat func() any
	// pong: also send a websocket ping with every heartbeat and count the
	// pong as activity.
	pong bool
}

// hub owns the sessions of one handler: the registry (one session per
// container instance), the lifecycle context and the WaitGroup of every
// goroutine serving them.
type hub struct {
	log      *slog.Logger
	timing   timing
	proto    *protocol
	upgrader websocket.Upgrader

	// base is cancelled by close; every session context derives from it.
	base   context.Context
	cancel context.CancelFunc

	mu       sync.Mutex
	closed   bool
	sessions map[string]*conn // by container instance ARN
	nextID   uint64

	// wg counts the ServeHTTP calls in progress and the writer goroutines
	// they start.
	wg sync.WaitGroup
}

func newHub(log *slog.Logger, t timing, p *protocol) *hub {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	base, cancel := context.WithCancel(context.Background())
	return &hub{
		log:    log,
		timing: t,
		proto:  p,
		upgrader: websocket.Upgrader{
			HandshakeTimeout: 30 * time.Second,
			// No ReadBufferSize: the connection reads through the
			// 4 KiB buffer net/http already gave it, instead of holding
			// a second one (thousands of sessions hold one each).
			WriteBufferSize: 32 << 10,
			// Write buffers are taken from the hub's pool for each
			// message and returned after it: thousands of idle sessions
			// hold none.
			WriteBufferPool: &sync.Pool{},
		},
		base:     base,
		cancel:   cancel,
		sessions: map[string]*conn{},
	}
}

// enter counts a ServeHTTP call; false once the hub is closed. The caller
// must call h.wg.Done when enter returned true.
func (h *hub) enter() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	h.wg.Add(1)
	return true
}

// recoverSession, deferred by a session's goroutine, turns a panic (in a
// Backend, say) into the end of that session, as net/http does for a
// handler, instead of the end of the process.
func (h *hub) recoverSession(c *conn, log *slog.Logger) {
	if v := recover(); v != nil {
		log.Error("session panicked", "panic", v, "stack", string(debug.Stack()))
		c.close(fmt.Errorf("%w: panic: %v", ErrSessionClosed, v), true)
	}
}

// newConn makes the session state for one connection attempt.
func (h *hub) newConn(key string) *conn {
	h.mu.Lock()
	h.nextID++
	id := h.nextID
	h.mu.Unlock()
	ctx, cancel := context.WithCancel(h.base)
	c := &conn{
		id:         id,
		key:        key,
		hub:        h,
		ctx:        ctx,
		cancel:     cancel,
		out:        make(chan []byte, h.timing.queue),
		done:       make(chan struct{}),
		finished:   make(chan struct{}),
		writerDone: make(chan struct{}),
	}
	c.touch()
	return c
}

// register makes c the session of its container instance and returns the
// session it replaces, if any; ok is false when the hub is closed.
func (h *hub) register(c *conn) (old *conn, ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, false
	}
	old = h.sessions[c.key]
	h.sessions[c.key] = c
	return old, true
}

// unregister removes c unless a newer session replaced it already.
func (h *hub) unregister(c *conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.sessions[c.key] == c {
		delete(h.sessions, c.key)
	}
}

func (h *hub) lookup(key string) *conn {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.sessions[key]
}

// close ends every session and waits for every goroutine of the hub:
//  1. refuse new connections,
//  2. cancel the lifecycle context (aborting pending Connect calls),
//  3. close every registered session,
//  4. wait for every ServeHTTP call (and so every teardown) to return.
func (h *hub) close() {
	h.mu.Lock()
	h.closed = true
	conns := make([]*conn, 0, len(h.sessions))
	for _, c := range h.sessions {
		conns = append(conns, c)
	}
	h.mu.Unlock()
	h.cancel()
	for _, c := range conns {
		c.close(ErrHandlerClosed, false)
	}
	h.wg.Wait()
}

// refuse answers a handshake with {"<ExceptionName>":"<message>"}.
func refuse(w http.ResponseWriter, e Exception) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(exceptionStatus(e))
	_, _ = w.Write(refusalBody(e))
}

// asException returns err as an Exception, or wraps its text in the
// fallback shape.
func asException(err error, fallback func(string) Exception) Exception {
	var e Exception
	if errors.As(err, &e) {
		return e
	}
	return fallback(err.Error())
}

// conn is one websocket session. Its goroutines: the reader (the ServeHTTP
// goroutine, which also runs the teardown) and the writer (writeLoop, the
// only goroutine that writes data frames). close may be called from any
// goroutine; it never blocks on the network.
type conn struct {
	id  uint64
	key string
	hub *hub

	// ctx is cancelled when the session ends.
	ctx    context.Context
	cancel context.CancelFunc

	out        chan []byte   // the send queue
	done       chan struct{} // closed by close
	finished   chan struct{} // closed when the teardown is complete
	writerDone chan struct{} // closed when writeLoop returns

	lastActivity atomic.Int64 // unix nanoseconds of the last frame (or pong) received

	// session is the ACS Session of this conn (nil on TCS).
	session *Session

	once  sync.Once
	mu    sync.Mutex
	ws    *websocket.Conn // nil until attach
	cause error
}

func (c *conn) touch() { c.lastActivity.Store(time.Now().UnixNano()) }

// attach gives the upgraded websocket to c. When c was closed meanwhile
// (between the upgrade and now), it sends the close frame, closes ws and
// returns false.
func (c *conn) attach(ws *websocket.Conn) bool {
	c.mu.Lock()
	closed := c.cause != nil
	if !closed {
		c.ws = ws
	}
	c.mu.Unlock()
	if closed {
		c.writeClose(ws)
		_ = ws.Close()
	}
	return !closed
}

// attached reports whether attach succeeded, i.e. whether the writer runs.
func (c *conn) attached() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ws != nil
}

// close ends the session with cause (kept from the first call). It unblocks
// the reader at once; the writer then sends a best-effort close frame and
// closes the connection. hard closes the connection immediately instead, for
// an agent that is not reading or a session that is being replaced.
func (c *conn) close(cause error, hard bool) {
	c.once.Do(func() {
		c.mu.Lock()
		c.cause = cause
		ws := c.ws
		c.mu.Unlock()
		close(c.done)
		c.cancel()
		if ws != nil {
			if hard {
				_ = ws.Close()
			} else {
				_ = ws.SetReadDeadline(time.Now())
			}
		}
	})
}

// err returns the cause once the session is closed, else nil.
func (c *conn) err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cause
}

// send queues a frame. It never blocks: a full queue closes the session.
func (c *conn) send(ctx context.Context, msg any) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b, err := c.hub.proto.encode(msg)
	if err != nil {
		return err
	}
	select {
	case <-c.done:
		return ErrSessionClosed
	default:
	}
	select {
	case c.out <- b:
		return nil
	default:
		c.close(ErrSlowConsumer, true)
		return ErrSlowConsumer
	}
}

// readLoop reads frames until the connection ends and hands every decoded
// message to handle, in order, on this goroutine.
func (c *conn) readLoop(ws *websocket.Conn, handle func(ctx context.Context, msg any)) {
	ws.SetReadLimit(c.hub.timing.maxBytes)
	if c.hub.proto.pong {
		ws.SetPongHandler(func(string) error { c.touch(); return nil })
	}
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			c.close(fmt.Errorf("%w: %w", ErrPeerClosed, err), false)
			return
		}
		c.touch()
		msg, err := c.hub.proto.decode(data)
		if err != nil {
			c.hub.log.Warn("undecodable frame", "protocol", c.hub.proto.name, "session", c.id,
				"containerInstance", c.key, "err", err)
			continue
		}
		handle(c.ctx, msg)
	}
}

// writeLoop owns the data writes: queued frames, heartbeats and, when the
// session ends, the close frame. It also enforces the inactivity timeout.
func (c *conn) writeLoop(ws *websocket.Conn) {
	defer close(c.writerDone)
	defer func() { _ = ws.Close() }()
	t := c.hub.timing
	heartbeat := time.NewTicker(t.heartbeat)
	defer heartbeat.Stop()
	// idle fires when the inactivity window may have elapsed; it is then
	// re-armed for what remains of the window since the last activity.
	var idleTimer *time.Timer
	var idle <-chan time.Time
	if t.inactivity > 0 {
		idleTimer = time.NewTimer(t.inactivity)
		defer idleTimer.Stop()
		idle = idleTimer.C
	}
	for {
		select {
		case <-c.done:
			c.writeClose(ws)
			return
		default:
		}
		select {
		case <-c.done:
			c.writeClose(ws)
			return
		case b := <-c.out:
			if err := c.write(ws, b); err != nil {
				c.close(fmt.Errorf("%w: write: %w", ErrPeerClosed, err), true)
				return
			}
		case <-heartbeat.C:
			b, err := c.hub.proto.encode(c.hub.proto.heartbeat())
			if err == nil {
				err = c.write(ws, b)
			}
			if err == nil && c.hub.proto.pong {
				err = ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(t.write))
			}
			if err != nil {
				c.close(fmt.Errorf("%w: write heartbeat: %w", ErrPeerClosed, err), true)
				return
			}
		case now := <-idle:
			quiet := max(now.Sub(time.Unix(0, c.lastActivity.Load())), 0)
			if quiet >= t.inactivity {
				c.close(ErrInactive, false)
				continue
			}
			idleTimer.Reset(t.inactivity - quiet)
		}
	}
}

func (c *conn) write(ws *websocket.Conn, b []byte) error {
	if err := ws.SetWriteDeadline(time.Now().Add(c.hub.timing.write)); err != nil {
		return err
	}
	return ws.WriteMessage(websocket.TextMessage, b)
}

// writeClose sends the close frame: 1001 when the server shuts down, 1000
// otherwise (the agent then reconnects at once, without back-off).
func (c *conn) writeClose(ws *websocket.Conn) {
	code := websocket.CloseNormalClosure
	cause := c.err()
	if errors.Is(cause, ErrHandlerClosed) {
		code = websocket.CloseGoingAway
	}
	reason := ""
	if cause != nil {
		reason = cause.Error()
	}
	if len(reason) > 120 { // a close frame's payload is at most 125 bytes
		reason = strings.ToValidUTF8(reason[:120], "")
	}
	_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(closeGrace))
}

// newMessageID returns a random UUID (version 4), the form ECS uses for
// message ids.
func newMessageID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
