package server

import (
	"bufio"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// Cross-protocol scripting: a web page can make a browser POST to a
// loopback port. Its request line and headers reach a RESP server as
// inline commands ("POST", "Host:") and its body as more of them. Redis
// (securityWarningCommand, since 3.2.7) closes a connection whose command
// is POST or Host:, without replying and without running anything after
// it; ringdb answered them as unknown commands and ran the body.

// crossProtoCases are requests that must close the connection before
// SET pwned 1 runs. A reply to an earlier command in the same write may be
// dropped too (Redis drops what it has not written yet): none is expected.
var crossProtoCases = []struct{ name, in string }{
	{"browser POST", "POST / HTTP/1.1\r\nHost: 127.0.0.1:7379\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nSET pwned 1\r\n"},
	{"Host line", "Host: 127.0.0.1:7379\r\nSET pwned 1\r\n"},
	{"lower case", "post /\r\nSET pwned 1\r\n"},
	{"multibulk POST", string(respCmd("post")) + string(respCmd("SET", "pwned", "1"))},
	{"multibulk HOST:", string(respCmd("HOST:", "x")) + string(respCmd("SET", "pwned", "1"))},
	{"NUL ends the name", string(respCmd("post\x00x")) + string(respCmd("SET", "pwned", "1"))},
}

// checkCrossProto sends each case on a new connection from dial, expects
// the connection closed with no reply, and asks check (a client of the
// same server) that nothing ran. A near miss (POSTX) is an unknown command.
func checkCrossProto(t *testing.T, dial func(t testing.TB) net.Conn, check *netClient) {
	t.Helper()
	for _, tc := range crossProtoCases {
		c := dial(t)
		if _, err := io.WriteString(c, tc.in); err != nil {
			t.Fatalf("%s: write: %v", tc.name, err)
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		got, err := io.ReadAll(c)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Errorf("%s: connection still open after 5 s (read %q)", tc.name, got)
		} else if len(got) != 0 {
			t.Errorf("%s: got reply %q, want the connection closed without one", tc.name, got)
		}
		if v := check.do(t, "GET", "pwned"); v != nullR {
			t.Fatalf("%s: the request's body ran: GET pwned = %q", tc.name, v)
		}
	}
	c := dial(t)
	n := &netClient{conn: c, r: bufio.NewReader(c)}
	if _, err := io.WriteString(c, "POSTX /\r\nPING\r\n"); err != nil {
		t.Fatal(err)
	}
	if got, want := n.read(t), errR("ERR unknown command 'POSTX', with args beginning with: '/' "); got != want {
		t.Errorf("POSTX: got %q, want %q", got, want)
	}
	if got := n.read(t); got != simpleR("PONG") {
		t.Errorf("PING after POSTX: got %q", got)
	}
}

func TestCrossProtocolScriptingClosesConnection(t *testing.T) {
	forEachTransport(t, Config{}, func(t *testing.T, ts *testServer) {
		checkCrossProto(t, ts.dial, ts.raw(t))
	})
}

// TestCrossProtocolScriptingAgainstRedis proves the expectations against
// Redis 7.0 (compareRedis).
func TestCrossProtocolScriptingAgainstRedis(t *testing.T) {
	dial := compareRedisDialer(t)
	check := dial(t)
	if v := check.do(t, "DEL", "pwned"); v != intR(0) && v != intR(1) {
		t.Fatalf("DEL pwned = %q", v)
	}
	checkCrossProto(t, func(t testing.TB) net.Conn { return dial(t).conn }, check)
}
