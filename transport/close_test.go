package transport

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestRepliesSurviveCloseWithInputInFlight: a pipelining client whose
// connection the server closes (here a protocol error in the middle of a
// pipeline, so the rest of the pipeline is still arriving) must still get
// every reply the server wrote before closing, then the error, then EOF.
// Both transports half-close and drain the input before closing (std's
// lingerClose, gnet's closeWritten); gnet used to close the socket with
// input unread, so the kernel sent a reset and the client lost replies
// already written.
func TestRepliesSurviveCloseWithInputInFlight(t *testing.T) {
	forEach(t, Config{}, func(t *testing.T, e *env) {
		c := e.conn(t)
		const n = 2000
		var p []byte
		for range n {
			p = append(p, cmd("ECHO", strings.Repeat("v", 100))...)
		}
		p = append(p, "*1\r\n$x\r\n"...)         // malformed: error, then close
		tail := bytes.Repeat(cmd("PING"), 1<<18) // 3.5 MiB still on its way
		go func() {
			_, _ = c.Write(p)
			_, _ = c.Write(tail)
		}()
		time.Sleep(300 * time.Millisecond) // read only once the server has closed
		for i := range n {
			got, err := c.read()
			if err != nil {
				t.Fatalf("reply %d of %d: %v", i+1, n, err)
			}
			if got != strings.Repeat("v", 100) {
				t.Fatalf("reply %d: %v", i+1, got)
			}
		}
		c.expect(t, respErr("ERR Protocol error: invalid bulk length"))
		_, err := io.Copy(io.Discard, c.br)
		if err != nil {
			t.Fatalf("after the error: %v, want EOF", err)
		}
	})
}

// TestShutdownKeepsRepliesOfExecutedWrites: at Shutdown a client that
// is still pipelining gets a reply for every write the server executed
// (README: "finishes the replies in flight"), so it knows which were
// applied.
func TestShutdownKeepsRepliesOfExecutedWrites(t *testing.T) {
	// Its own servers; 21 s under -race, mostly waiting.
	t.Parallel()
	// A net.Pipe has no buffer to read later from.
	for _, kind := range []string{"gnet", "std"} {
		t.Run(kind, func(t *testing.T) { shutdownReplies(t, startEnv(t, kind, Config{})) })
	}
}

func shutdownReplies(t *testing.T, e *env) {
	{
		const n = 300_000
		echo := cmd("ECHO", strings.Repeat("e", 200)) // a larger reply
		// Sized and encoded by hand: 600,000 cmd calls (fmt) took much of
		// the test's 28 s under -race.
		p := make([]byte, 0, n*(len(echo)+40))
		for i := range n {
			k := strconv.AppendInt([]byte("k"), int64(i), 10)
			p = append(p, "*3\r\n$3\r\nSET\r\n$"...)
			p = strconv.AppendInt(p, int64(len(k)), 10)
			p = append(p, "\r\n"...)
			p = append(p, k...)
			p = append(p, "\r\n$1\r\nv\r\n"...)
			p = append(p, echo...)
		}
		// Dialled once the pipeline is built: the client's deadline runs
		// from the dial, and building it took over 20 s under -race on a
		// loaded host, so Write failed at once, nothing was executed, and
		// the wait below timed out.
		c := e.conn(t)
		go func() { // 10 MiB of pipelined requests, still arriving at Shutdown
			_, _ = c.Write(p)
		}()
		replies := make(chan int, 1)
		var lastErr error
		shut := make(chan struct{})
		go func() {
			<-shut // this client reads its replies a moment later
			k := 0
			for {
				got, err := c.read()
				if err != nil {
					lastErr = err
					break
				}
				if got == "OK" {
					k++
				}
			}
			replies <- k
		}()
		// Well under what the socket buffers hold: with the client not
		// reading yet, the server stops executing once its replies fill
		// them, after 250 to 1,250 pairs here (fewer on a loaded host),
		// so a wait for 1,000 could never end.
		eventually(t, "some writes executed", func() bool {
			e.h.mu.Lock()
			defer e.h.mu.Unlock()
			return len(e.h.data) > 100
		})
		// The context only bounds a shutdown that hangs; cut short on a
		// loaded host (5 s under -race beside busy loops) it would drop
		// the connection with replies still unread, which is not what
		// this test is about.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		shutErr := make(chan error, 1)
		go func() { shutErr <- e.srv.Shutdown(ctx) }()
		// The client starts reading only once Shutdown is under way. It
		// must not wait for Shutdown to return: the replies to what was
		// executed may not fit in the socket buffers, and Shutdown rightly
		// waits for them to be read (up to closeWait).
		time.Sleep(100 * time.Millisecond)
		close(shut)
		if err := <-shutErr; err != nil {
			t.Fatal(err)
		}
		got := <-replies
		e.h.mu.Lock()
		executed := len(e.h.data)
		e.h.mu.Unlock()
		t.Logf("executed %d, replies %d, end %v", executed, got, lastErr)
		if got != executed {
			t.Fatalf("server executed %d SETs, client got %d replies (end: %v)", executed, got, lastErr)
		}
	}
}

// TestQuitDrainsSlowSteadyReader: a client that pipelines large replies
// and QUIT, and reads them slowly but steadily, gets every one of them
// before the connection closes: closeWait bounds a close whose output does
// not move, not one that takes long to drain. Both transports closed the
// connection closeWait after QUIT whatever the client read, so a client
// reading 30 MB at 3 MB/s lost a third of the replies to requests the
// server had executed.
func TestQuitDrainsSlowSteadyReader(t *testing.T) {
	t.Parallel()
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			e := startEnv(t, kind, Config{})
			c := e.conn(t)
			_ = c.SetDeadline(time.Now().Add(60 * time.Second))
			const n, size = 6, 4 << 20 // 24 MiB, read in some 8 s
			c.write(t, append(bytes.Repeat(cmd("BIG", strconv.Itoa(size)), n), cmd("QUIT")...))
			want := n*(size+len("$4194304\r\n\r\n")) + len("+OK\r\n")
			got := 0
			buf := make([]byte, 64<<10)
			for {
				k, err := c.br.Read(buf)
				got += k
				if err != nil {
					break
				}
				time.Sleep(20 * time.Millisecond) // some 3 MiB/s
			}
			if got != want {
				t.Fatalf("read %d bytes of %d before the connection closed", got, want)
			}
		})
	}
}

// TestShutdownKeepsRepliesForSlowReader: at Shutdown, a client that is
// still sending and reads its replies slowly gets a reply for every write
// the server executed. The server half-closes once its output is in the
// socket, then reads and drops input; both transports closed the socket
// lingerWait (500 ms) later whatever was still in its send queue, and
// closing a socket with unread input makes the kernel reset it and drop
// that queue: replies to executed writes never reached the client. Over
// TLS (std) too, where the half-close is a close_notify without a FIN, so
// the send queue settles at 0 rather than 1 (lingerDone).
func TestShutdownKeepsRepliesForSlowReader(t *testing.T) {
	t.Parallel()                                          // its own servers, mostly waiting
	for _, kind := range []string{"gnet", "std", "tls"} { // a net.Pipe has no socket queue
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			// closeWait 1 s rather than 5 (and sweeps at 100 ms): the
			// client reads for longer than that, and a close that saw no
			// progress for it cut the client off while it read.
			cfg := Config{waits: waits{close: time.Second, maxTick: 100 * time.Millisecond}}
			// A small receive buffer, as a client that has not read much
			// yet has: the replies wait in the server's send queue.
			small := func(raw net.Conn) net.Conn {
				if err := raw.(*net.TCPConn).SetReadBuffer(256 << 10); err != nil {
					t.Fatal(err)
				}
				return raw
			}
			if kind != "tls" {
				e := startEnv(t, kind, cfg)
				c := e.conn(t)
				small(c.Conn)
				slowReaderShutdown(t, e, c)
				return
			}
			cert, pool := selfSigned(t)
			cfg.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
			e := startEnv(t, "std", cfg)
			c := dialTLS(t, e, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}, small)
			slowReaderShutdown(t, e, c)
		})
	}
}

// slowReaderShutdown is TestShutdownKeepsRepliesForSlowReader on client c
// of e.
func slowReaderShutdown(t *testing.T, e *env, c *client) {
	go func() { // sends until the server resets the connection or the test ends
		var p []byte
		for i := 0; ; {
			p = p[:0]
			for range 1000 {
				p = append(p, cmd("SET", "k"+strconv.Itoa(i), "v")...)
				p = append(p, cmd("ECHO", strings.Repeat("e", 200))...)
				i++
			}
			if _, err := c.Write(p); err != nil {
				return
			}
		}
	}()
	type result struct {
		oks int
		end error
	}
	done := make(chan result, 1)
	go func() {
		// About 2 MB/s: what the server's socket buffer holds at
		// Shutdown takes longer than lingerWait to read.
		oks, n := 0, 0
		for {
			got, err := c.read()
			if err != nil {
				done <- result{oks, err}
				return
			}
			if got == "OK" {
				oks++
			}
			if n += 213; n >= 64<<10 {
				n = 0
				time.Sleep(30 * time.Millisecond)
			}
		}
	}()
	eventually(t, "many writes executed", func() bool {
		e.h.mu.Lock()
		defer e.h.mu.Unlock()
		return len(e.h.data) > 20_000
	})
	start := time.Now()
	e.h.mu.Lock()
	atShut := len(e.h.data)
	e.h.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	r := <-done
	e.h.mu.Lock()
	executed := len(e.h.data)
	e.h.mu.Unlock()
	t.Logf("executed %d (%d at Shutdown), replies %d, end %v after %v", executed, atShut, r.oks, r.end, time.Since(start))
	if r.oks != executed {
		t.Fatalf("server executed %d SETs, client got %d replies (end: %v)", executed, r.oks, r.end)
	}
}
