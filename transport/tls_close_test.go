package transport

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ringdb/ringdb/transport/binproto"
)

// recordTap is a TLS client's socket that follows the TLS records it
// reads, so that a test can tell how the server ended the stream.
//
// Go's TLS client cannot tell it: it reads a TCP end of stream at a record
// boundary as io.EOF, as it reads a close_notify alert (crypto/tls,
// readRecordOrCCS), so a clean EOF from tls.Conn.Read proves nothing. The
// record type can: with TLS 1.2 a record's header, type included, is in
// the clear (TLS 1.3 hides it), and a stream that ends with io.EOF right
// after an alert record ended with close_notify (any other alert is an
// error to Read).
type recordTap struct {
	net.Conn
	mu   sync.Mutex
	hdr  []byte // the part of a record header read so far
	left int    // the bytes of the current record's body still to come
	last byte   // the type of the last record begun
}

// recordAlert is the TLS content type of alert records.
const recordAlert = 21

func (r *recordTap) Read(b []byte) (int, error) {
	k, err := r.Conn.Read(b)
	r.mu.Lock()
	defer r.mu.Unlock()
	for p := b[:k]; len(p) > 0; {
		if r.left > 0 {
			m := min(r.left, len(p))
			r.left -= m
			p = p[m:]
			continue
		}
		m := min(5-len(r.hdr), len(p))
		r.hdr = append(r.hdr, p[:m]...)
		p = p[m:]
		if len(r.hdr) == 5 {
			r.last = r.hdr[0]
			r.left = int(binary.BigEndian.Uint16(r.hdr[3:]))
			r.hdr = r.hdr[:0]
		}
	}
	return k, err
}

// ended reports whether the stream read so far ends with a whole alert
// record.
func (r *recordTap) ended() (alert bool, last byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last == recordAlert && r.left == 0 && len(r.hdr) == 0, r.last
}

// dialTap connects a TLS 1.2 client to e through a recordTap.
func dialTap(t *testing.T, e *env, ccfg *tls.Config) (*client, *recordTap) {
	t.Helper()
	var tap *recordTap
	cfg := ccfg.Clone()
	cfg.MaxVersion = tls.VersionTLS12
	c := dialTLS(t, e, cfg, func(c net.Conn) net.Conn {
		tap = &recordTap{Conn: c}
		return tap
	})
	return c, tap
}

// expectCloseNotify reads c to its end, which must be a close_notify
// alert followed by the end of the stream: a clean io.EOF, not a
// truncation.
func expectCloseNotify(t *testing.T, c *client, tap *recordTap) {
	t.Helper()
	_, err := io.Copy(io.Discard, c.br)
	if err != nil {
		t.Fatalf("the stream ended with %v, want a close_notify and EOF", err)
	}
	if alert, last := tap.ended(); !alert {
		t.Fatalf("the stream ended without a close_notify (last record of type %d): the server closed the socket under the TLS session", last)
	}
}

// serverConn returns the server side of e's i-th opened connection.
func serverConn(t *testing.T, e *env, i int) *Conn {
	t.Helper()
	var c *Conn
	eventually(t, "connection opened", func() bool {
		e.h.connMu.Lock()
		defer e.h.connMu.Unlock()
		if len(e.h.conns) > i {
			c = e.h.conns[i]
		}
		return c != nil
	})
	return c
}

// TestTLSCloseNotify: whatever closes a TLS client's connection, the
// server ends the session with a close_notify alert, as Redis does
// (SSL_shutdown), so that the client sees a clean end of stream rather
// than a truncation (OpenSSL's "unexpected eof while reading"). The
// closes that wait for the output (QUIT, protocol errors, the idle
// timeout, Shutdown, refusals) sent it; those that close at once
// (CLIENT KILL, an output limit, a Shutdown whose context ends) closed
// the socket under the session.
func TestTLSCloseNotify(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		cfg  Config
		// run closes the connection of c, a client that has done a
		// PING.
		run func(t *testing.T, e *env, c *client)
	}{
		{"quit", Config{}, func(t *testing.T, _ *env, c *client) {
			c.write(t, cmd("QUIT"))
			c.expect(t, "OK")
		}},
		{"protocol-error", Config{}, func(t *testing.T, _ *env, c *client) {
			c.write(t, []byte("*1\r\n$x\r\n"))
			c.expect(t, respErr("ERR Protocol error: invalid bulk length"))
		}},
		{"idle-timeout", Config{IdleTimeout: 200 * time.Millisecond}, func(*testing.T, *env, *client) {}},
		{"close", Config{}, func(t *testing.T, e *env, _ *client) {
			serverConn(t, e, 0).Close()
		}},
		{"shutdown", Config{}, func(t *testing.T, e *env, _ *client) {
			go func() { _ = e.srv.Shutdown(context.Background()) }()
		}},
		{"client-kill", Config{}, func(t *testing.T, e *env, _ *client) {
			serverConn(t, e, 0).Abort()
		}},
		{"output-limit", Config{OutputHardLimit: 1024}, func(t *testing.T, e *env, _ *client) {
			err := serverConn(t, e, 0).Push(binproto.OpMessage, func(w *Writer) {
				w.Push(1)
				w.BulkString(strings.Repeat("m", 2048))
			})
			if !errors.Is(err, ErrOutputLimit) {
				t.Fatalf("push past the hard limit: %v", err)
			}
		}},
		{"shutdown-context-ends", Config{}, func(t *testing.T, e *env, c *client) {
			// The connection is busy (its handler sleeps) when Shutdown
			// asks it to close, so it cannot close gracefully before
			// Shutdown's context ends: Shutdown aborts it.
			c.write(t, cmd("SLEEP", "1000"))
			eventually(t, "SLEEP begun", func() bool { return e.h.sleeps.Load() == 1 })
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			if err := e.srv.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Shutdown: %v, want its context's end", err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, ccfg := startTLS(t, tc.cfg)
			c, tap := dialTap(t, e, ccfg)
			c.write(t, cmd("PING"))
			c.expect(t, "PONG")
			tc.run(t, e, c)
			expectCloseNotify(t, c, tap)
		})
	}
	t.Run("max-clients", func(t *testing.T) {
		t.Parallel()
		e, ccfg := startTLS(t, Config{MaxClients: 1})
		first, _ := dialTap(t, e, ccfg)
		first.write(t, cmd("PING"))
		first.expect(t, "PONG")
		c, tap := dialTap(t, e, ccfg)
		c.write(t, cmd("PING"))
		c.expect(t, respErr("ERR "+maxClientsMsg))
		expectCloseNotify(t, c, tap)
	})
}

// dialTLS connects a TLS client to e, a std or pipe server, over the
// tlsPinged starts a TLS server of kind with the given hard output limit
// and returns it with a TLS 1.2 client that has had its PONG, and the
// client's configuration.
func tlsPinged(t *testing.T, kind string, hard int64) (*env, *client, *tls.Config) {
	t.Helper()
	cert, pool := selfSigned(t)
	e := startEnv(t, kind, Config{
		OutputHardLimit: hard,
		TLS:             &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
	})
	ccfg := &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	c := dialTLS(t, e, ccfg, nil)
	c.write(t, cmd("PING"))
	c.expect(t, "PONG")
	return e, c, ccfg
}

// socket wrap makes of its own (nil: the socket itself).
func dialTLS(t *testing.T, e *env, ccfg *tls.Config, wrap func(net.Conn) net.Conn) *client {
	t.Helper()
	var raw net.Conn
	var err error
	if e.kind == "pipe" {
		raw, err = e.dial()
	} else {
		raw, err = net.Dial("tcp", e.srv.Addr().String())
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = raw.Close() })
	if wrap != nil {
		raw = wrap(raw)
	}
	c := tls.Client(raw, ccfg)
	cl := newClient(c)
	if err := c.Handshake(); err != nil {
		t.Fatalf("handshake: %v", err)
	}
	return cl
}

// TestTLSStalledClientCutPromptly: a TLS client that has stopped reading,
// its socket full, is still cut off at once by CLIENT KILL or an output
// limit, whether the connection's writer is blocked writing to it or
// idle: close_notify cannot go out past the unread output, and the server
// does not wait for it (tls.Conn.Close would wait 5 s to send it), nor
// does the call that cuts it off block.
func TestTLSStalledClientCutPromptly(t *testing.T) {
	t.Parallel()
	push := func(sc *Conn, msg string) error {
		return sc.Push(binproto.OpMessage, func(w *Writer) {
			w.Push(1)
			w.BulkString(msg)
		})
	}
	msg := strings.Repeat("m", 256<<10)
	kill := func(_ *testing.T, sc *Conn) time.Time {
		start := time.Now()
		sc.Abort()
		return start
	}
	cases := []struct {
		name string
		kind string
		// stall fills the socket, so that the writer blocks in a write;
		// nil: the writer is idle.
		stall func(t *testing.T, c *client, sc *Conn)
		// cut cuts the client off and returns when the call that did
		// began.
		cut func(t *testing.T, sc *Conn) time.Time
	}{
		{
			"client-kill",
			"std",
			func(t *testing.T, c *client, _ *Conn) {
				// 40 MiB of replies the client does not read.
				c.write(t, bytes.Repeat(cmd("BIG", "4194304"), 10))
			},
			kill,
		},
		{
			// On a pipe every write waits for the client to read: the
			// writer, idle when the client is killed, waits to write
			// close_notify as on a full socket.
			"client-kill-idle-writer",
			"pipe",
			nil,
			kill,
		},
		{
			"output-limit",
			"std",
			func(t *testing.T, _ *client, sc *Conn) {
				// 10 MiB of pushes the client does not read, under the
				// hard limit (16 MiB).
				for i := range 40 {
					if err := push(sc, msg); err != nil {
						t.Fatalf("push %d: %v", i, err)
					}
				}
			},
			func(t *testing.T, sc *Conn) time.Time {
				for i := 0; ; i++ {
					start := time.Now()
					err := push(sc, msg)
					if errors.Is(err, ErrOutputLimit) {
						return start
					}
					if err != nil || i > 100 {
						t.Fatalf("push %d: %v, want the output limit", i, err)
					}
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, c, ccfg := tlsPinged(t, tc.kind, 16<<20)
			sc := serverConn(t, e, 0)
			if tc.stall != nil {
				tc.stall(t, c, sc)
				eventually(t, "the writer blocked on the full socket", func() bool {
					out := e.stats().BytesOut
					time.Sleep(100 * time.Millisecond)
					return sc.PendingOutput() > 0 && e.stats().BytesOut == out
				})
			}

			// Both bounds are generous, for -race on a loaded host (a
			// push into a 16 MiB queue took 560 ms there): what they rule
			// out is a wait for the client, 5 s for tls.Conn's
			// close_notify or closeWait, or for ever. The server's own
			// bound is 200 ms (notifyWait for the write under way, then
			// for the alert).
			const bound = 2500 * time.Millisecond
			start := tc.cut(t, sc)
			if d := time.Since(start); d > bound {
				t.Errorf("cutting the client off blocked for %v", d)
			}
			start = time.Now()
			eventually(t, "connection closed", func() bool { return e.h.closed.Load() == 1 })
			if d := time.Since(start); d > bound {
				t.Fatalf("a stalled client was cut off %v after it was killed", d)
			}
			// The client sees the end of the stream once it reads (what
			// the kernel holds, then the end), rather than waiting.
			_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, err := io.Copy(io.Discard, c.br)
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("the client's read did not end: %v", err)
			}
			// Another client is served meanwhile.
			oc := dialTLS(t, e, ccfg, nil)
			oc.write(t, cmd("PING"))
			oc.expect(t, "PONG")
		})
	}
}

// TestTLSAbortServesNothingMore: a TLS connection closed at once (an
// output limit) serves none of the requests it has read. The abort leaves
// the socket open for close_notify, the writer blocked for notifyWait on
// a client that does not read; meanwhile the pacer, which serves the next
// turn of a pipeline whose client reads nothing, served one more turn of
// it, and a reader that had read a request before the abort served it:
// requests run whose fate the client never learns, where Redis runs
// nothing more for a client it is closing.
func TestTLSAbortServesNothingMore(t *testing.T) {
	t.Parallel()
	const hard = 16 << 20
	cases := []struct {
		name string
		// load has c send requests that wait to be served when n's
		// processing context is free; n.procMu is held when it returns.
		load func(t *testing.T, e *env, c *client, n *netConn)
	}{
		{"next-turn", func(t *testing.T, e *env, c *client, n *netConn) {
			// 400 replies of 64 KiB, 16 to a turn: 25 turns, the
			// pacer serving one each paceWait as the client reads
			// nothing (on a pipe the writer waits in its first
			// write), under the hard limit until the 16th.
			pipeline := bytes.Repeat(cmd("BIG", "65536"), 400)
			in := e.stats().BytesIn
			c.write(t, pipeline)
			eventually(t, "the pipeline read and two turns served", func() bool {
				return e.stats().BytesIn == in+uint64(len(pipeline)) && e.h.bigs.Load() >= 32
			})
			n.procMu.Lock() // between two turns
		}},
		{"read-before", func(t *testing.T, _ *env, c *client, n *netConn) {
			n.procMu.Lock()
			// On a pipe the write returns once the reader has read it:
			// the reader then waits for the processing context.
			c.write(t, cmd("BIG", "10"))
			time.Sleep(50 * time.Millisecond)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, c, _ := tlsPinged(t, "pipe", hard)
			sc := serverConn(t, e, 0)
			var n *netConn
			for _, cs := range e.srv.(*Pipe).snapshot() {
				n = cs.tr.(*netConn)
			}
			tc.load(t, e, c, n)
			err := sc.Push(binproto.OpMessage, func(w *Writer) {
				w.Push(1)
				w.BulkString(strings.Repeat("m", hard+1))
			})
			served := e.h.bigs.Load()
			n.procMu.Unlock()
			if !errors.Is(err, ErrOutputLimit) {
				t.Fatalf("push past the hard limit: %v", err)
			}
			eventually(t, "connection closed", func() bool { return e.h.closed.Load() == 1 })
			if got := e.h.bigs.Load(); got != served {
				t.Fatalf("%d requests served after the connection was closed for its output limit", got-served)
			}
		})
	}
}

// TestTLSKilledClientFreesItsPlace: a TLS client killed while it reads
// nothing gives up its MaxClients place as the kill returns, as Redis
// frees a killed client at once. The abort leaves its socket open for
// close_notify, for notifyWait while its writer is blocked on it; the
// place was kept until then, and a client connecting right after the
// kill was refused (max number of clients reached) while INFO's
// connected_clients, which leaves killed clients out, showed room.
func TestTLSKilledClientFreesItsPlace(t *testing.T) {
	t.Parallel()
	e, ccfg := startTLS(t, Config{MaxClients: 2})
	first := dialTLS(t, e, ccfg, nil)
	first.write(t, cmd("PING"))
	first.expect(t, "PONG")
	victim := dialTLS(t, e, ccfg, nil)
	victim.write(t, cmd("PING"))
	victim.expect(t, "PONG")
	sc := serverConn(t, e, 1)
	// 40 MiB of replies the victim does not read: its writer blocks.
	victim.write(t, bytes.Repeat(cmd("BIG", "4194304"), 10))
	eventually(t, "the writer blocked on the full socket", func() bool {
		out := e.stats().BytesOut
		time.Sleep(100 * time.Millisecond)
		return sc.PendingOutput() > 0 && e.stats().BytesOut == out
	})
	sc.Abort()
	c := dialTLS(t, e, ccfg, nil)
	c.write(t, cmd("PING"))
	c.expect(t, "PONG")
}
