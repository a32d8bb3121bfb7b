package transport

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ringdb/ringdb/transport/binproto"
)

// TestPostponed: a postponed request is served again once retried, before
// the requests pipelined behind it, which then get their replies in order;
// its arguments survive input read while it waits (the transport's copy,
// not the read buffer); other clients are served meanwhile; and a retry
// after the client has gone is ignored.
func TestPostponed(t *testing.T) {
	t.Parallel()
	forEach(t, Config{}, func(t *testing.T, e *env) {
		// Long enough that the other client's round trip fits in it on a
		// loaded 2-core host under -race (150 ms did not, once in CI).
		const wait = time.Second
		ms := strconv.Itoa(int(wait / time.Millisecond))
		long := strings.Repeat("r", 5000) // spans reads, so it is not left in a buffer by chance
		c := e.conn(t)
		start := time.Now()
		var p []byte
		p = append(p, cmd("SET", "a", "1")...)
		p = append(p, cmd("POSTPONE", ms, long)...)
		p = append(p, cmd("ECHO", "0")...)
		c.write(t, p)
		c.expect(t, "OK")
		eventually(t, "postponed", func() bool { return e.h.postpones.Load() == 1 })
		// More input while it waits, in separate reads: it overwrites the
		// read buffer the request was decoded from.
		for i := 1; i < 4; i++ {
			c.write(t, cmd("ECHO", strings.Repeat(strconv.Itoa(i), 6000)))
			time.Sleep(5 * time.Millisecond)
		}

		other := e.conn(t)
		other.write(t, cmd("GET", "a"))
		other.expect(t, "1")
		if time.Since(start) >= wait {
			t.Fatal("other client waited for the postponed request")
		}

		c.expect(t, long)
		if d := time.Since(start); d < wait {
			t.Fatalf("postponed reply after %v, want >= %v", d, wait)
		}
		c.expect(t, "0")
		for i := 1; i < 4; i++ {
			c.expect(t, strings.Repeat(strconv.Itoa(i), 6000))
		}

		// Binary: the retried request keeps its id and opcode.
		b := e.conn(t)
		p = binReq(opPostpone, 7, int(wait/time.Millisecond), "done")
		p = append(p, binReq(binproto.OpPing, 8, "after")...)
		b.write(t, p)
		b.expectReply(t, opPostpone, 7, "done")
		b.expectReply(t, binproto.OpPing, 8, "after")

		// A client that leaves while postponed: the retry is ignored.
		n := e.h.postpones.Load()
		gone := e.conn(t)
		gone.write(t, cmd("POSTPONE", "30", "nobody"))
		eventually(t, "postponed", func() bool { return e.h.postpones.Load() == n+1 })
		closed := e.h.closed.Load()
		_ = gone.Close()
		eventually(t, "closed", func() bool { return e.h.closed.Load() == closed+1 })
		time.Sleep(60 * time.Millisecond)
		c.write(t, cmd("PING"))
		c.expect(t, "PONG")
	})
}

// TestPostponeServesAgain drives the state machine directly: nothing is
// served while postponed, and the wake after Retry serves the request
// again, then the input held behind it.
func TestPostponeServesAgain(t *testing.T) {
	h := newTestHandler()
	cs, tr := newTestState(h, Config{})
	out := cs.process(nil, append(cmd("POSTPONE", "200", "done"), cmd("ECHO", "x")...))
	if len(out) != 0 || !cs.parked {
		t.Fatalf("out %q parked %v", out, cs.parked)
	}
	out = cs.process(out, cmd("ECHO", "y"))
	if len(out) != 0 {
		t.Fatalf("served while postponed: %q", out)
	}
	waitWake(t, cs, tr)
	out = cs.process(out, nil)
	if want := "$4\r\ndone\r\n$1\r\nx\r\n$1\r\ny\r\n"; string(out) != want {
		t.Fatalf("got %q, want %q", out, want)
	}
	if n := h.postpones.Load(); n != 1 {
		t.Fatalf("postponed %d times, want 1", n)
	}
}

// TestOwnedRequest: the copy shares no memory with the original and keeps
// empty and nil arguments as they were.
func TestOwnedRequest(t *testing.T) {
	argv := [][]byte{[]byte("SET"), []byte("k"), {}}
	c := ownedRequest(&Request{Argv: argv})
	argv[1][0] = 'x'
	if string(c.Argv[0]) != "SET" || string(c.Argv[1]) != "k" || c.Argv[2] == nil || len(c.Argv[2]) != 0 || c.Args != nil {
		t.Fatalf("RESP copy = %q", c.Argv)
	}
	args := []binproto.Value{{Kind: binproto.KindBytes, Bytes: []byte("v")}, {Kind: binproto.KindInt, Int: 5}, {Kind: binproto.KindNull}}
	c = ownedRequest(&Request{Op: binproto.OpSet, ID: 9, Args: args})
	args[0].Bytes[0] = 'x'
	if c.Op != binproto.OpSet || c.ID != 9 || string(c.Args[0].Bytes) != "v" || c.Args[1].Int != 5 || c.Args[2].Bytes != nil || c.Argv != nil {
		t.Fatalf("binary copy = %+v", c)
	}
}
