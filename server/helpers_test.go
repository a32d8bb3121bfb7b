package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ringdb/ringdb/core"
	"github.com/ringdb/ringdb/transport"
	"github.com/ringdb/ringdb/transport/resp"
)

// Expected RESP2 replies, as raw bytes.
const (
	okR   = "+OK\r\n"
	nullR = "$-1\r\n"
)

func intR(n int64) string     { return ":" + strconv.FormatInt(n, 10) + "\r\n" }
func bulkR(s string) string   { return "$" + strconv.Itoa(len(s)) + "\r\n" + s + "\r\n" }
func errR(s string) string    { return "-" + s + "\r\n" }
func simpleR(s string) string { return "+" + s + "\r\n" }
func arrR(e ...string) string { return "*" + strconv.Itoa(len(e)) + "\r\n" + strings.Join(e, "") }
func bulksR(s ...string) string {
	e := make([]string, len(s))
	for i, v := range s {
		e[i] = bulkR(v)
	}
	return arrR(e...)
}

// readReply reads one complete RESP2 or RESP3 value from r and returns its
// raw bytes.
func readReply(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return line, err
	}
	if len(line) < 3 || !strings.HasSuffix(line, "\r\n") {
		return line, fmt.Errorf("bad reply line %q", line)
	}
	body := line[1 : len(line)-2]
	switch line[0] {
	case '+', '-', ':', '_', ',', '#', '(':
		return line, nil
	case '$', '=', '!':
		n, err := strconv.Atoi(body)
		if err != nil {
			return line, err
		}
		if n < 0 {
			return line, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return line, err
		}
		return line + string(buf), nil
	case '*', '~', '>', '%', '|':
		n, err := strconv.Atoi(body)
		if err != nil {
			return line, err
		}
		if line[0] == '%' || line[0] == '|' {
			n *= 2
		}
		out := line
		for i := 0; i < n; i++ {
			e, err := readReply(r)
			out += e
			if err != nil {
				return out, err
			}
		}
		return out, nil
	}
	return line, fmt.Errorf("unknown reply type %q", line)
}

// rawClient sends one RESP command and returns the raw reply.
type rawClient interface {
	do(t testing.TB, args ...string) string
}

func argvOf(args []string) [][]byte {
	argv := make([][]byte, len(args))
	for i, a := range args {
		argv[i] = []byte(a)
	}
	return argv
}

// directClient calls the handler in-process, without a transport, with a
// zero transport.Conn (which cannot park, push or close).
type directClient struct {
	srv  *Server
	conn *transport.Conn
}

func newDirectClient(t testing.TB, s *Server) *directClient {
	t.Helper()
	c := &transport.Conn{}
	if err := s.h.Open(c); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.h.Close(c) })
	return &directClient{srv: s, conn: c}
}

func (d *directClient) do(t testing.TB, args ...string) string {
	t.Helper()
	v := d.conn.RESPVersion()
	w := transport.NewWriter(nil, transport.ProtoRESP, v)
	d.srv.h.Serve(d.conn, &transport.Request{Argv: argvOf(args)}, w)
	out := w.Bytes()
	r := bufio.NewReader(strings.NewReader(string(out)))
	one, err := readReply(r)
	if err != nil {
		t.Fatalf("%q: reply %q: %v", args, out, err)
	}
	if one != string(out) {
		t.Fatalf("%q: more than one reply: %q", args, out)
	}
	return one
}

// netClient speaks RESP over a real connection.
type netClient struct {
	conn net.Conn
	r    *bufio.Reader
}

func dialRaw(t testing.TB, addr string) *netClient {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &netClient{conn: c, r: bufio.NewReader(c)}
}

// send writes one command. Its deadline, like read's, only bounds how
// long a test whose write never completes takes to say so: 5 s once
// passed writing a 32 MiB SET under -race on a host loaded by other work.
func (n *netClient) send(t testing.TB, args ...string) {
	t.Helper()
	n.conn.SetWriteDeadline(time.Now().Add(20 * time.Second))
	if _, err := n.conn.Write(resp.AppendCommand(nil, argvOf(args)...)); err != nil {
		t.Fatalf("%q: write: %v", args, err)
	}
}

// read reads one reply. Its deadline only bounds how long a test whose
// reply never comes takes to say so: 5 s once passed on a CI host loaded
// by other work, under -race, for a reply a 600 ms CLIENT PAUSE held.
func (n *netClient) read(t testing.TB) string {
	t.Helper()
	n.conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	s, err := readReply(n.r)
	if err != nil {
		t.Fatalf("read: %v (got %q)", err, s)
	}
	return s
}

func (n *netClient) do(t testing.TB, args ...string) string {
	t.Helper()
	n.send(t, args...)
	return n.read(t)
}

// expectClosed waits for the server to close the connection.
func (n *netClient) expectClosed(t testing.TB) {
	t.Helper()
	n.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, err := n.r.ReadByte()
	if err == nil {
		rest, _ := n.r.Peek(n.r.Buffered())
		t.Fatalf("connection still open: read %q%q", b, rest)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("connection still open after 5s")
	}
}

// fakeTransport stands in for a transport in handler-level tests.
type fakeTransport struct {
	ready, stop chan struct{}
}

func newFakeTransport() *fakeTransport {
	f := &fakeTransport{ready: make(chan struct{}), stop: make(chan struct{})}
	close(f.ready)
	return f
}

func (f *fakeTransport) Serve(transport.Handler) error  { <-f.stop; return nil }
func (f *fakeTransport) Ready() <-chan struct{}         { return f.ready }
func (f *fakeTransport) Addr() net.Addr                 { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 7379} }
func (f *fakeTransport) Shutdown(context.Context) error { close(f.stop); return nil }

// testLogger discards logs unless -v is given.
func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(testWriter{t}, nil))
	}
	return slog.New(slog.DiscardHandler)
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// newDirectServer builds a server on a fake transport, for handler tests.
func newDirectServer(t testing.TB, cfg Config) *Server {
	return newDirectServerOpts(t, cfg, core.Options{})
}

// newDirectServerOpts is newDirectServer with the keyspace options the
// Config does not set (a fake clock, no active expiry).
func newDirectServerOpts(t testing.TB, cfg Config, o core.Options) *Server {
	t.Helper()
	if cfg.MetricsAddr == "" {
		cfg.MetricsAddr = metricsOff
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	cfg.applyDefaults()
	o.MaxMemory, o.Eviction, o.MaxKeySize, o.MaxValueSize = cfg.MaxMemory, cfg.Eviction, cfg.MaxKeySize, cfg.MaxValueSize
	ks, err := core.New(o)
	if err != nil {
		t.Fatal(err)
	}
	cfg.CrashOnPanic = true // a panic is a bug: fail the test
	s := newServer(cfg, testLogger(t), ks, newFakeTransport())
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown(context.Background()) })
	return s
}

// waitUntil polls cond every few milliseconds and fails the test when it
// has not held within 5 s, naming what it waited for.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not after 5s: %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// sessionByIDLocked returns the open session of connection id, nil if
// there is none. REQUIRES: s.sessMu held.
func (s *Server) sessionByIDLocked(id uint64) *session {
	for _, sess := range s.sessions.Items() {
		if sess.id() == id {
			return sess
		}
	}
	return nil
}
