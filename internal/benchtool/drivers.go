package benchtool

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/ringdb/ringdb/client"
	"github.com/ringdb/ringdb/transport/resp"
)

type driverFactory func(ctx context.Context, i int) (driver, error)

// newDriverFactory prepares what the clients share and returns how to make
// each client's driver, plus a cleanup for the shared part.
//
// binary: every client goroutine calls one shared *client.Client (default
// pool, client.DefaultPoolSize connections), which is exactly how a service
// with N concurrent callers uses the SDK: the SDK multiplexes and coalesces
// the callers' frames itself (automatic pipelining). --pipeline N > 1 sends
// each batch through the SDK's explicit Pipeline API.
//
// resp: each client owns one TCP connection and a minimal RESP2 client
// (transport/resp encoders, a small reply reader below); --pipeline N
// writes N commands at once and then reads N replies, like redis-benchmark -P.
func newDriverFactory(ctx context.Context, cfg Config, value []byte) (driverFactory, func(), error) {
	switch cfg.Protocol {
	case "binary":
		dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		c, err := client.New(dctx, cfg.Addr, client.WithClientName("ringdb-bench"))
		if err != nil {
			return nil, nil, fmt.Errorf("connect %s: %w", cfg.Addr, err)
		}
		if err := c.Ping(dctx); err != nil {
			c.Close()
			return nil, nil, fmt.Errorf("ping %s: %w", cfg.Addr, err)
		}
		return func(context.Context, int) (driver, error) {
			return &binaryDriver{c: c, value: value}, nil
		}, func() { c.Close() }, nil
	case "resp":
		return func(ctx context.Context, _ int) (driver, error) {
			d := &respDriver{addr: cfg.Addr, value: value}
			return d, d.dial(ctx)
		}, func() {}, nil
	}
	return nil, nil, fmt.Errorf("unknown protocol %q", cfg.Protocol)
}

type binaryDriver struct {
	c     *client.Client
	value []byte
	gets  []*client.Result[[]byte]
	sets  []*client.Result[bool]
}

func (d *binaryDriver) close() {}

func (d *binaryDriver) do(ctx context.Context, ops []op) (r opResult) {
	fail := func(err error) {
		r.errs++
		if r.err == nil {
			r.err = err
		}
	}
	if len(ops) == 1 {
		if ops[0].set {
			if err := d.c.Set(ctx, ops[0].key, d.value, 0); err != nil {
				fail(err)
			}
		} else {
			_, found, err := d.c.Get(ctx, ops[0].key)
			switch {
			case err != nil:
				fail(err)
			case !found:
				r.misses++
			}
		}
		return r
	}
	p := d.c.Pipeline()
	d.gets, d.sets = d.gets[:0], d.sets[:0]
	for _, o := range ops {
		if o.set {
			d.sets = append(d.sets, p.Set(o.key, d.value, client.SetOptions{}))
		} else {
			d.gets = append(d.gets, p.Get(o.key))
		}
	}
	_ = p.Exec(ctx) // per-command errors are in the results
	for _, g := range d.gets {
		if err := g.Err(); errors.Is(err, client.ErrNotFound) {
			r.misses++
		} else if err != nil {
			fail(err)
		}
	}
	for _, s := range d.sets {
		if err := s.Err(); err != nil {
			fail(err)
		}
	}
	return r
}

// respDriver is a minimal pipelined RESP client on one connection.
type respDriver struct {
	addr  string
	value []byte
	conn  net.Conn
	br    *bufio.Reader
	wbuf  []byte
}

func (d *respDriver) dial(ctx context.Context) error {
	dl := net.Dialer{Timeout: 5 * time.Second}
	c, err := dl.DialContext(ctx, "tcp", d.addr)
	if err != nil {
		return err
	}
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	d.conn = c
	d.br = bufio.NewReaderSize(c, 64<<10)
	return nil
}

func (d *respDriver) close() {
	if d.conn != nil {
		d.conn.Close()
		d.conn = nil
	}
}

// errServer is wrapped by server error replies.
var errServer = errors.New("server error reply")

func (d *respDriver) do(ctx context.Context, ops []op) (r opResult) {
	if d.conn == nil { // broken earlier: one redial attempt per batch
		if err := d.dial(ctx); err != nil {
			return opResult{errs: int64(len(ops)), err: err}
		}
	}
	b := d.wbuf[:0]
	for _, o := range ops {
		if o.set {
			b = resp.AppendArrayHeader(b, 3)
			b = resp.AppendBulkString(b, "SET")
			b = resp.AppendBulkString(b, o.key)
			b = resp.AppendBulk(b, d.value)
		} else {
			b = resp.AppendArrayHeader(b, 2)
			b = resp.AppendBulkString(b, "GET")
			b = resp.AppendBulkString(b, o.key)
		}
	}
	d.wbuf = b
	dl := time.Now().Add(callTimeout)
	if t, ok := ctx.Deadline(); ok && t.Before(dl) {
		dl = t
	}
	_ = d.conn.SetDeadline(dl)
	if _, err := d.conn.Write(b); err != nil {
		d.close()
		return opResult{errs: int64(len(ops)), err: err}
	}
	for i, o := range ops {
		null, err := readReply(d.br)
		if err != nil && !errors.Is(err, errServer) {
			d.close() // framing lost: the rest of the batch fails
			r.errs += int64(len(ops) - i)
			if r.err == nil {
				r.err = err
			}
			return r
		}
		switch {
		case err != nil:
			r.errs++
			if r.err == nil {
				r.err = err
			}
		case null && !o.set:
			r.misses++
		}
	}
	return r
}

// readReply reads one RESP2/RESP3 reply and reports whether it is null. A
// server error reply returns an error wrapping errServer; any other error
// means the connection is unusable.
func readReply(br *bufio.Reader) (null bool, err error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			err = errors.New("resp: reply line too long")
		}
		return false, err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return false, fmt.Errorf("resp: malformed reply line %q", line)
	}
	body := line[1 : len(line)-2]
	switch line[0] {
	case '+', ':', ',', '#', '(':
		return false, nil
	case '_':
		return true, nil
	case '-':
		return false, fmt.Errorf("%w: %s", errServer, body)
	case '$', '=', '!':
		n, err := atoi(body)
		if err != nil {
			return false, err
		}
		if n < 0 {
			return true, nil
		}
		if line[0] == '!' {
			msg := make([]byte, n+2)
			if _, err := io.ReadFull(br, msg); err != nil {
				return false, err
			}
			return false, fmt.Errorf("%w: %s", errServer, msg[:n])
		}
		if _, err := br.Discard(int(n) + 2); err != nil {
			return false, err
		}
		return false, nil
	case '*', '~', '>', '%', '|':
		n, err := atoi(body)
		if err != nil {
			return false, err
		}
		if n < 0 {
			return true, nil
		}
		if line[0] == '%' || line[0] == '|' {
			n *= 2
		}
		for range n {
			if _, err := readReply(br); err != nil && !errors.Is(err, errServer) {
				return false, err
			}
		}
		if line[0] == '|' { // attribute: the actual reply follows
			return readReply(br)
		}
		return false, nil
	}
	return false, fmt.Errorf("resp: unexpected reply type %q", line[0])
}

func atoi(b []byte) (int64, error) {
	if len(b) == 0 {
		return 0, errors.New("resp: empty length")
	}
	neg := b[0] == '-'
	if neg {
		b = b[1:]
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' || n > 1<<40 {
			return 0, fmt.Errorf("resp: bad length %q", b)
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, nil
}
