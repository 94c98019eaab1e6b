package acs

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// ClientConn is the agent's end of an ACS or TCS session, for Berth's own
// agent and for tests. Recv may be called from one goroutine while Send is
// called from others; Send calls are serialised. A ClientConn does not
// answer heartbeats by itself: the caller acks HeartbeatMessage (ACS) and
// payloads as the agent would.
type ClientConn struct {
	ws     *websocket.Conn
	encode func(any) ([]byte, error)
	decode func([]byte) (any, error)

	frames   chan []byte   // from the reader goroutine to Recv
	done     chan struct{} // closed by Close
	readDone chan struct{} // closed when the reader goroutine returns
	readErr  error         // why the reader stopped; written before readDone is closed

	wmu       sync.Mutex // serialises writes
	closeOnce sync.Once
	wg        sync.WaitGroup // the reader goroutine
}

// Dial opens an ACS session at url (ws://, wss://, or http:// and https://,
// which are mapped to ws:// and wss:// as the agent does), sending header
// with the upgrade request; the caller signs it (SigV4, service "ecs", as the
// agent signs a GET of url). A refused handshake is a *HandshakeError whose
// Exception is, for example, an *InactiveInstanceException. ctx bounds the
// handshake only.
func Dial(ctx context.Context, url string, header http.Header) (*ClientConn, error) {
	return dial(ctx, url, header, Encode, Decode)
}

// DialTelemetry opens a TCS session, as Dial does for ACS. Its Send writes
// bare frames (no signed-header preamble), which the server accepts.
func DialTelemetry(ctx context.Context, url string, header http.Header) (*ClientConn, error) {
	return dial(ctx, url, header, EncodeTelemetry, DecodeTelemetry)
}

func dial(ctx context.Context, rawURL string, header http.Header, enc func(any) ([]byte, error), dec func([]byte) (any, error)) (*ClientConn, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("acs: dial: %w", err)
	}
	switch u.Scheme {
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	case "ws", "wss":
	default:
		return nil, fmt.Errorf("acs: dial: unsupported scheme %q", u.Scheme)
	}
	d := websocket.Dialer{
		Proxy:            http.ProxyFromEnvironment,
		HandshakeTimeout: 30 * time.Second,
		// Small buffers: frames of any size still pass (gorilla reads
		// and writes past the buffer), and an agent's session mostly
		// carries small messages. Thousands of sim instances in one
		// process hold two sessions each.
		ReadBufferSize:  4 << 10,
		WriteBufferSize: 4 << 10,
	}
	ws, resp, err := d.DialContext(ctx, u.String(), header)
	if err != nil {
		if resp == nil {
			return nil, fmt.Errorf("acs: dial: %w", err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		he := &HandshakeError{StatusCode: resp.StatusCode, Body: body}
		// The refusal may use a shape of either model (a TCS endpoint
		// refuses with AccessDeniedException too).
		for _, c := range []*codec{acsCodec, tcsCodec} {
			if e, ok := c.decodeUnframedError(body); ok {
				he.Exception = e
				break
			}
		}
		return nil, he
	}
	c := &ClientConn{
		ws:       ws,
		encode:   enc,
		decode:   dec,
		frames:   make(chan []byte),
		done:     make(chan struct{}),
		readDone: make(chan struct{}),
	}
	c.wg.Go(c.readLoop)
	return c, nil
}

func (c *ClientConn) readLoop() {
	defer close(c.readDone)
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			c.readErr = err
			return
		}
		select {
		case c.frames <- data:
		case <-c.done:
			return
		}
	}
}

// Recv returns the next message from the server, decoded as Decode (or
// DecodeTelemetry) does. A frame that does not decode is returned as its
// error (*UnknownTypeError, *MalformedFrameError) and the connection stays
// usable. When the connection has ended, Recv returns an error wrapping
// ErrSessionClosed and, when the server closed it, the
// *websocket.CloseError with its code.
func (c *ClientConn) Recv(ctx context.Context) (any, error) {
	select {
	case data := <-c.frames:
		return c.decode(data)
	case <-c.readDone:
		if c.readErr != nil {
			return nil, fmt.Errorf("%w: %w", ErrSessionClosed, c.readErr)
		}
		return nil, ErrSessionClosed
	case <-c.done:
		return nil, ErrSessionClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Send encodes msg and writes it as one frame. The write is bounded by
// ctx's deadline, or by 10 s without one.
func (c *ClientConn) Send(ctx context.Context, msg any) error {
	b, err := c.encode(msg)
	if err != nil {
		return err
	}
	return c.SendFrame(ctx, b)
}

// SendFrame writes b, unchanged, as one text frame: for a frame built by
// hand, such as a TCS frame with the agent's signed-header preamble.
func (c *ClientConn) SendFrame(ctx context.Context, b []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case <-c.done:
		return ErrSessionClosed
	default:
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(DefaultWriteTimeout)
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.ws.SetWriteDeadline(deadline); err != nil {
		return err
	}
	if err := c.ws.WriteMessage(websocket.TextMessage, b); err != nil {
		return fmt.Errorf("acs: send: %w", err)
	}
	return nil
}

// Close sends a normal close frame (best effort), closes the connection and
// waits for the reader goroutine. It is idempotent and returns nil.
func (c *ClientConn) Close() error {
	c.closeOnce.Do(func() {
		close(c.done)
		msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
		_ = c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(closeGrace))
		_ = c.ws.Close()
		c.wg.Wait()
	})
	return nil
}
