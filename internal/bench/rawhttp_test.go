package bench

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// rawConn is one keep-alive HTTP/1.1 connection that POSTs ECS JSON
// requests and reads the answers with no more work than the protocol
// needs: the load generator of the read benchmarks (as wrk is for web
// servers). The server shares the machine's two cores with its clients,
// and net/http's client spends about as much CPU per request as the
// server does to answer a DescribeTasks (its transport hands every
// request and response between goroutines), so with it the benchmark
// measured the client as much as the server.
type rawConn struct {
	c    net.Conn
	br   *bufio.Reader
	req  []byte
	host string
}

func dialRaw(addr string) (*rawConn, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	return &rawConn{c: c, br: bufio.NewReaderSize(c, 64<<10), host: addr}, nil
}

// post sends op with body and reads the answer. A 200 answer's body is
// appended to *out when out is not nil, else discarded; any other status
// is an error carrying the body.
func (rc *rawConn) post(op string, body []byte, out *[]byte) error {
	rc.req = append(rc.req[:0], "POST / HTTP/1.1\r\nHost: "...)
	rc.req = append(rc.req, rc.host...)
	rc.req = append(rc.req, "\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Target: "+target...)
	rc.req = append(rc.req, op...)
	rc.req = append(rc.req, "\r\nContent-Length: "...)
	rc.req = strconv.AppendInt(rc.req, int64(len(body)), 10)
	rc.req = append(rc.req, "\r\n\r\n"...)
	rc.req = append(rc.req, body...)
	if _, err := rc.c.Write(rc.req); err != nil {
		return err
	}
	line, err := rc.br.ReadSlice('\n')
	if err != nil {
		return err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return fmt.Errorf("bad status line %q", line)
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return fmt.Errorf("bad status line %q", line)
	}
	n := -1
	for {
		h, err := rc.br.ReadSlice('\n')
		if err != nil {
			return err
		}
		h = bytes.TrimRight(h, "\r\n")
		if len(h) == 0 {
			break
		}
		name, val, ok := bytes.Cut(h, []byte(":"))
		if !ok {
			return fmt.Errorf("bad header %q", h)
		}
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if n, err = strconv.Atoi(string(bytes.TrimSpace(val))); err != nil || n < 0 {
				return fmt.Errorf("bad Content-Length %q", val)
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			return errors.New("chunked answers are not read by this client")
		}
	}
	if n < 0 {
		return errors.New("an answer without Content-Length")
	}
	if status != 200 || out != nil {
		var b []byte
		if out != nil {
			b = *out
		}
		start := len(b)
		b = append(b, make([]byte, n)...)
		if _, err := io.ReadFull(rc.br, b[start:]); err != nil {
			return err
		}
		if status != 200 {
			return fmt.Errorf("%s: %d %s", op, status, b[start:])
		}
		*out = b
		return nil
	}
	_, err = rc.br.Discard(n)
	return err
}

// readRateRaw runs fn from conc connections to addr for d and returns the
// calls per second, or an error when a call failed (a failing read does
// not count as throughput). fn gets its connection's index g and the
// call's number i.
func readRateRaw(addr string, conc int, d time.Duration, fn func(c *rawConn, g int, i int64) error) (float64, error) {
	conns := make([]*rawConn, conc)
	for g := range conns {
		c, err := dialRaw(addr)
		if err != nil {
			return 0, err
		}
		defer c.c.Close()
		conns[g] = c
	}
	var n atomic.Int64
	var first atomic.Pointer[error]
	stop := time.Now().Add(d)
	var wg sync.WaitGroup
	for g, c := range conns {
		wg.Go(func() {
			for time.Now().Before(stop) {
				i := n.Add(1)
				if err := fn(c, g, i); err != nil {
					first.CompareAndSwap(nil, &err)
					return
				}
			}
		})
	}
	wg.Wait()
	if p := first.Load(); p != nil {
		return 0, *p
	}
	return float64(n.Load()) / d.Seconds(), nil
}
