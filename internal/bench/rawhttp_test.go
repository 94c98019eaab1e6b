package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"strconv"
)

// rawConn is a lean HTTP/1.1 keep-alive client of one connection, a load
// generator for the read benchmarks: net/http's client spends about 30 µs
// of CPU per DescribeTasks (its transport's goroutines and channels, a
// header map per answer, a 4 KiB read buffer), as much as the server
// spends answering, and on a 2-core machine that CPU is the server's.
// rawConn writes each request in one write and reads the answer from a
// 64 KiB buffer. It understands what the Berth server sends: a status
// line, headers with Content-Length, a body. Not safe for concurrent use.
type rawConn struct {
	c    net.Conn
	host string
	br   *bufio.Reader
	req  []byte
}

func dialRaw(addr string) (*rawConn, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	return &rawConn{c: c, host: addr, br: bufio.NewReaderSize(c, 64<<10)}, nil
}

// post sends one ECS JSON request and returns the answer's body, which is
// valid until the next call; an answer other than 200 is an error.
func (r *rawConn) post(op string, body []byte) ([]byte, error) {
	r.req = append(r.req[:0], "POST / HTTP/1.1\r\nHost: "...)
	r.req = append(r.req, r.host...)
	r.req = append(r.req, "\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Target: "...)
	r.req = append(r.req, target+op...)
	r.req = append(r.req, "\r\nContent-Length: "...)
	r.req = strconv.AppendInt(r.req, int64(len(body)), 10)
	r.req = append(r.req, "\r\n\r\n"...)
	r.req = append(r.req, body...)
	if _, err := r.c.Write(r.req); err != nil {
		return nil, err
	}
	status, err := r.br.ReadSlice('\n')
	if err != nil {
		return nil, err
	}
	ok := bytes.HasPrefix(status, []byte("HTTP/1.1 200 "))
	n := -1
	for {
		line, err := r.br.ReadSlice('\n')
		if err != nil {
			return nil, err
		}
		if len(line) <= 2 { // the blank line
			break
		}
		if k, v, found := bytes.Cut(line, []byte(":")); found && bytes.EqualFold(k, []byte("Content-Length")) {
			if n, err = strconv.Atoi(string(bytes.TrimSpace(v))); err != nil {
				return nil, fmt.Errorf("%s: Content-Length %q", op, v)
			}
		}
	}
	if n < 0 || n > r.br.Size() {
		return nil, fmt.Errorf("%s: an answer of %d bytes (without Content-Length, or larger than the buffer)", op, n)
	}
	b, err := r.br.Peek(n)
	if err != nil {
		return nil, err
	}
	_, _ = r.br.Discard(n)
	if !ok {
		return nil, fmt.Errorf("%s: %s %s", op, bytes.TrimSpace(status), b)
	}
	return b, nil
}

func (r *rawConn) close() { _ = r.c.Close() }
