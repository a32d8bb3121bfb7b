package server

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"
)

// writeRaw sends raw bytes on a RESP connection.
func (n *netClient) writeRaw(t testing.TB, b string) {
	t.Helper()
	n.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := n.conn.Write([]byte(b)); err != nil {
		t.Fatalf("write %q: %v", b, err)
	}
}

// TestMalformedRESP: a protocol error gets Redis's error reply, then the
// connection is closed; the server keeps serving others.
func TestMalformedRESP(t *testing.T) {
	cases := []struct{ in, want string }{
		{"*2\r\nxx\r\n", "-ERR Protocol error: expected '$', got 'x'\r\n"},
		{"*3000000000\r\n", "-ERR Protocol error: invalid multibulk length\r\n"},
		{"*1\r\n$4294967296\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
		{"*1\r\n$-5\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
		{"*1\r\n$3\r\nabcdef\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
		{"*x\r\n", "-ERR Protocol error: invalid multibulk length\r\n"},
		{"SET \"a b\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n"},
		{strings.Repeat("a", 70<<10), "-ERR Protocol error: too big inline request\r\n"},
	}
	forEachTransport(t, Config{}, func(t *testing.T, ts *testServer) {
		other := ts.raw(t)
		if got := other.do(t, "SET", "safe", "1"); got != okR {
			t.Fatalf("SET = %q", got)
		}
		for _, tc := range cases {
			c := ts.raw(t)
			if got := c.do(t, "PING"); got != simpleR("PONG") {
				t.Fatalf("PING = %q", got)
			}
			c.writeRaw(t, tc.in)
			if got := c.read(t); got != tc.want {
				t.Errorf("%.40q: got %q, want %q", tc.in, got, tc.want)
			}
			c.expectClosed(t)
			if got := other.do(t, "GET", "safe"); got != bulkR("1") {
				t.Fatalf("other client: GET = %q", got)
			}
		}
	})
}

// TestErrorsKeepConnection: unknown commands, wrong arity and bad
// arguments get an error and leave the connection usable; inline commands
// and empty lines work as in Redis.
func TestErrorsKeepConnection(t *testing.T) {
	forEachTransport(t, Config{}, func(t *testing.T, ts *testServer) {
		c := ts.raw(t)
		steps := []step{
			s(errR("ERR unknown command 'nosuch', with args beginning with: 'a' "), "nosuch", "a"),
			s(simpleR("PONG"), "PING"),
			s(arity("get"), "GET"),
			s(arity("set"), "SET", "a"),
			s(syntaxR, "SET", "a", "b", "bogus"),
			s(notIntR, "INCRBY", "a", "x"),
			s(okR, "SET", "a", "b"),
			s(bulkR("b"), "GET", "a"),
		}
		runSteps(t, c, steps, false)
		c.writeRaw(t, "\r\n\r\nPING\r\nSET k \"hello world\"\nGET k\r\n*0\r\n*-1\r\nECHO 'x y'\r\n")
		for _, want := range []string{simpleR("PONG"), okR, bulkR("hello world"), bulkR("x y")} {
			if got := c.read(t); got != want {
				t.Errorf("inline: got %q, want %q", got, want)
			}
		}
		if got := c.do(t, "PING"); got != simpleR("PONG") {
			t.Errorf("PING after inline = %q", got)
		}
	})
}

// TestGarbageAndHalfOpen: random bytes and many abandoned half-written
// requests leave the server serving other clients with their data intact.
func TestGarbageAndHalfOpen(t *testing.T) {
	t.Parallel() // its own servers; it mostly waits (pauses, timeouts)
	forEachTransport(t, Config{}, func(t *testing.T, ts *testServer) {
		good := ts.raw(t)
		for i := range 20 {
			if got := good.do(t, "SET", fmt.Sprint("k", i), fmt.Sprint("v", i)); got != okR {
				t.Fatalf("SET = %q", got)
			}
		}
		rng := rand.New(rand.NewPCG(1, 2))
		var wg sync.WaitGroup
		for i := range 20 {
			c := ts.dial(t)
			junk := make([]byte, 1+rng.IntN(4096))
			for j := range junk {
				junk[j] = byte(rng.Uint32())
			}
			if i%2 == 0 {
				junk[0] = '*' // RESP-looking garbage
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				c.SetDeadline(time.Now().Add(500 * time.Millisecond))
				c.Write(junk)
				buf := make([]byte, 4096)
				for {
					if _, err := c.Read(buf); err != nil {
						return
					}
				}
			}()
		}
		halves := []string{"*2\r\n$3\r\nGET", "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100\r\nabc", "\xb1\x00\x00\x10\x00\x00", "PIN"}
		n := 200
		if ts.kind == "pipe" {
			n = 50
		}
		for i := range n {
			c := ts.dial(t)
			c.SetWriteDeadline(time.Now().Add(2 * time.Second))
			if _, err := c.Write([]byte(halves[i%len(halves)])); err != nil {
				t.Fatalf("half-open %d: %v", i, err)
			}
		}
		wg.Wait()
		for i := range 20 {
			if got := good.do(t, "GET", fmt.Sprint("k", i)); got != bulkR(fmt.Sprint("v", i)) {
				t.Fatalf("GET k%d = %q", i, got)
			}
		}
		fresh := ts.raw(t)
		if got := fresh.do(t, "DBSIZE"); got != intR(20) {
			t.Errorf("DBSIZE = %q", got)
		}
	})
}

// TestQuit: QUIT replies +OK and closes the connection.
func TestQuit(t *testing.T) {
	forEachTransport(t, Config{}, func(t *testing.T, ts *testServer) {
		c := ts.raw(t)
		c.writeRaw(t, "*1\r\n$4\r\nQUIT\r\n*1\r\n$4\r\nPING\r\n")
		if got := c.read(t); got != okR {
			t.Fatalf("QUIT = %q", got)
		}
		c.expectClosed(t)
	})
}
