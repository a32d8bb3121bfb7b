package server

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ringdb/ringdb/transport/binproto"
	"github.com/ringdb/ringdb/transport/resp"
)

// With a password set, a client that has not authenticated may not make
// the server hold a large request (Redis since CVE-2021-32675): more than
// 10 elements or a bulk string over 16 KiB is refused as soon as its
// header is read, and the connection is closed. AUTH lifts the limits,
// from the very next command of the same pipeline.
func TestPreAuthRequestLimits(t *testing.T) {
	for _, kind := range []string{TransportGnet, TransportStd} {
		t.Run(kind, func(t *testing.T) {
			ts := startServer(t, kind, Config{AuthToken: "s3cret"})
			for _, tc := range []struct{ raw, want string }{
				{"*11\r\n", "ERR Protocol error: unauthenticated multibulk length"},
				{"*2\r\n$4\r\necho\r\n$16385\r\n", "ERR Protocol error: unauthenticated bulk length"},
			} {
				c := ts.raw(t)
				if _, err := c.conn.Write([]byte(tc.raw)); err != nil {
					t.Fatal(err)
				}
				if got := c.read(t); got != errR(tc.want) {
					t.Errorf("%q: got %q, want %q", tc.raw, got, errR(tc.want))
				}
				c.expectClosed(t)
			}

			// At the limits, a stranger still gets NOAUTH, not a
			// protocol error.
			c := ts.raw(t)
			args := append([]string{"MSET"}, strings.Split("a 1 b 2 c 3 d 4 e", " ")...)
			if got := c.do(t, args...); got != errR("NOAUTH "+msgNoAuth) {
				t.Errorf("10-element MSET before AUTH = %q", got)
			}
			if got := c.do(t, "ECHO", strings.Repeat("x", resp.UnauthMaxBulk)); got != errR("NOAUTH "+msgNoAuth) {
				t.Errorf("16 KiB ECHO before AUTH = %q", got)
			}

			// AUTH and a large SET in one write: the SET is parsed after
			// AUTH ran, under the configured limits.
			big := strings.Repeat("v", 100<<10)
			c = ts.raw(t)
			pipe := string(resp.AppendCommand(nil, []byte("AUTH"), []byte("s3cret")))
			pipe += string(resp.AppendCommand(nil, []byte("SET"), []byte("k"), []byte(big)))
			if _, err := c.conn.Write([]byte(pipe)); err != nil {
				t.Fatal(err)
			}
			if a, b := c.read(t), c.read(t); a != "+OK\r\n" || b != "+OK\r\n" {
				t.Fatalf("AUTH, big SET = %q, %q", a, b)
			}
			many := []string{"MSET"}
			for i := range 20 {
				many = append(many, "k"+string(rune('a'+i)), "v")
			}
			if got := c.do(t, many...); got != "+OK\r\n" {
				t.Errorf("20-element MSET after AUTH = %q", got)
			}
		})
	}
}

// The connections of a gnet loop share its decoders between requests
// (transport's decPool): each still parses under its own limits, whoever
// used the decoder before. A stranger's decoder must not come with an
// authenticated client's limits, nor the client's with the stranger's.
func TestPreAuthLimitsWithSharedDecoders(t *testing.T) {
	ts := startServer(t, TransportGnet, Config{AuthToken: "s3cret", Loops: 1})
	authed := ts.raw(t)
	if got := authed.do(t, "AUTH", "s3cret"); got != "+OK\r\n" {
		t.Fatalf("AUTH = %q", got)
	}
	many := []string{"MSET"}
	for i := range 20 {
		many = append(many, "k"+string(rune('a'+i)), "v")
	}
	for i := range 3 {
		if got := authed.do(t, many...); got != "+OK\r\n" {
			t.Fatalf("round %d: 20-element MSET after AUTH = %q", i, got)
		}
		stranger := ts.raw(t)
		if got := stranger.do(t, "PING"); got != errR("NOAUTH "+msgNoAuth) {
			t.Fatalf("round %d: PING before AUTH = %q", i, got)
		}
		if _, err := stranger.conn.Write([]byte("*11\r\n")); err != nil {
			t.Fatal(err)
		}
		if got, want := stranger.read(t), errR("ERR Protocol error: unauthenticated multibulk length"); got != want {
			t.Fatalf("round %d: 11 elements before AUTH = %q, want %q", i, got, want)
		}
		stranger.expectClosed(t)
	}
}

// Once the password is removed (CONFIG SET requirepass ""), a client that
// never authenticated is held to the small limits no more, as in Redis,
// where they apply only while authentication is required.
func TestPreAuthLimitsFollowRequirepass(t *testing.T) {
	ts := startServer(t, TransportGnet, Config{AuthToken: "s3cret"})
	stranger := ts.raw(t)
	if got := stranger.do(t, "PING"); got != errR("NOAUTH "+msgNoAuth) {
		t.Fatalf("PING before AUTH = %q", got)
	}
	admin := ts.raw(t)
	admin.do(t, "AUTH", "s3cret")
	if got := admin.do(t, "CONFIG", "SET", "requirepass", ""); got != "+OK\r\n" {
		t.Fatalf("CONFIG SET requirepass = %q", got)
	}
	if got := stranger.do(t, "PING"); got != "+PONG\r\n" {
		t.Fatalf("PING once no password is required = %q", got)
	}
	big := strings.Repeat("v", 100<<10)
	if got := stranger.do(t, "ECHO", big); got != "$"+"102400\r\n"+big+"\r\n" {
		t.Fatalf("ECHO of 100 KiB = %.40q", got)
	}
}

// The binary protocol's equivalent: before a HELLO with the token, a frame
// over 64 KiB is refused at its header (DISCONNECT LIMIT); after it, a
// large SET goes through.
func TestPreAuthFrameLimit(t *testing.T) {
	for _, kind := range []string{TransportGnet, TransportStd} {
		t.Run(kind, func(t *testing.T) {
			ts := startServer(t, kind, Config{AuthToken: "s3cret"})
			b := newBinClient(t, ts)
			b.writeRaw(binproto.AppendHeader(nil, binproto.Header{Op: binproto.OpHello, ID: 1, Length: binproto.UnauthMaxFrame + 1}))
			h, body, err := b.readFrame()
			if err != nil || h.Op != binproto.OpDisconnect {
				t.Fatalf("frame over the limit before HELLO: %+v %v", h, err)
			}
			wantV(t, "DISCONNECT", decode(t, body), errV(0x06, "frame too large before authentication"))
			b.expectClosed()

			b = newBinClient(t, ts)
			b.hello("app", "s3cret")
			wantV(t, "SET 100 KiB after HELLO", b.call(0x0011, "k", strings.Repeat("v", 100<<10)), okV{})
		})
	}
}

// The limits follow the password at the moment a request is read, not
// after the client's next command: a stranger whose very first request
// comes after CONFIG SET requirepass "" may send a large one.
func TestPreAuthLimitsLiftedBeforeFirstCommand(t *testing.T) {
	for _, kind := range []string{TransportGnet, TransportStd} {
		t.Run(kind, func(t *testing.T) {
			ts := startServer(t, kind, Config{AuthToken: "s3cret"})
			stranger := ts.raw(t)
			admin := ts.raw(t)
			admin.do(t, "AUTH", "s3cret")
			// The stranger's session must open while the password is
			// required: one opened without (its accept can lag behind
			// the admin's commands) is authenticated for good, as in
			// Redis, and would not be limited again below.
			waitSessions(t, ts, 2)
			if got := admin.do(t, "CONFIG", "SET", "requirepass", ""); got != "+OK\r\n" {
				t.Fatalf("CONFIG SET requirepass = %q", got)
			}
			big := strings.Repeat("v", 100<<10)
			if got := stranger.do(t, "ECHO", big); got != "$"+"102400\r\n"+big+"\r\n" {
				t.Fatalf("first command, ECHO of 100 KiB, once no password is required = %.80q", got)
			}
			// And back: with a password again, the stranger is limited again.
			admin.do(t, "CONFIG", "SET", "requirepass", "s3cret")
			if _, err := stranger.conn.Write([]byte("*11\r\n")); err != nil {
				t.Fatal(err)
			}
			if got := stranger.read(t); got != errR("ERR Protocol error: unauthenticated multibulk length") {
				t.Fatalf("*11 once a password is required again = %q", got)
			}
		})
	}
}

// A binary connection accepted before CONFIG SET requirepass has carried no
// token (its HELLO is refused without one), so it is held to the 64 KiB
// frame limit until a HELLO carries the token; it once was not.
func TestPreAuthFrameLimitAfterRequirepass(t *testing.T) {
	for _, kind := range []string{TransportGnet, TransportStd} {
		t.Run(kind, func(t *testing.T) {
			ts := startServer(t, kind, Config{})
			admin := ts.raw(t)
			admin.do(t, "PING")
			b := newBinClient(t, ts) // accepted while no token is configured
			waitSessions(t, ts, 2)
			if got := admin.do(t, "CONFIG", "SET", "requirepass", "s3cret"); got != "+OK\r\n" {
				t.Fatalf("CONFIG SET requirepass = %q", got)
			}
			wantV(t, "HELLO without token", b.call(binproto.OpHello, 1, 1, nil, nil),
				errV(binproto.ClassNoAuth, "authentication required"))
			b.send(binproto.OpHello, 1, 1, nil, strings.Repeat("x", 100<<10))
			h, body, err := b.readFrame()
			if err != nil || h.Op != binproto.OpDisconnect {
				t.Fatalf("100 KiB HELLO before authentication: %+v %v, want DISCONNECT", h, err)
			}
			wantV(t, "DISCONNECT", decode(t, body), errV(0x06, "frame too large before authentication"))
			b.expectClosed()

			// A binary client that carries the token is not limited.
			ok := newBinClient(t, ts)
			ok.hello("app", "s3cret")
			wantV(t, "SET 100 KiB", ok.call(0x0011, "k", strings.Repeat("v", 100<<10)), okV{})
		})
	}
}

// waitSessions waits until the server has opened n sessions.
func waitSessions(t *testing.T, ts *testServer, n int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; {
		ts.sessMu.Lock()
		got := ts.sessions.Len()
		ts.sessMu.Unlock()
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d sessions open, want %d", got, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestPreAuthFrameLimitWithSharedDecoders is TestPreAuthLimitsWithSharedDecoders
// for the binary protocol: a stranger refused its HELLO hands its
// (restricted) decoder back to the loop, which lends it to an
// authenticated client next, whose large frame must go through; that
// client's decoder then goes to the stranger, whose large frame must not.
func TestPreAuthFrameLimitWithSharedDecoders(t *testing.T) {
	ts := startServer(t, TransportGnet, Config{AuthToken: "s3cret", Loops: 1})
	authed := newBinClient(t, ts)
	authed.hello("app", "s3cret")
	big := strings.Repeat("v", 100<<10)
	for i := range 3 {
		stranger := newBinClient(t, ts)
		wantV(t, "HELLO without token", stranger.call(binproto.OpHello, 1, 1, nil, nil),
			errV(binproto.ClassNoAuth, "authentication required"))
		wantV(t, fmt.Sprintf("round %d: SET 100 KiB after HELLO", i), authed.call(0x0011, "k", big), okV{})
		stranger.send(binproto.OpHello, 1, 1, nil, big)
		h, body, err := stranger.readFrame()
		if err != nil || h.Op != binproto.OpDisconnect {
			t.Fatalf("round %d: 100 KiB HELLO before authentication: %+v %v, want DISCONNECT", i, h, err)
		}
		wantV(t, "DISCONNECT", decode(t, body), errV(0x06, "frame too large before authentication"))
		stranger.expectClosed()
	}
}
