package transport

import (
	"io"
	"testing"
)

// TestMaxOpenClosesAtOnce: past MaxOpen a new connection is closed before
// it is served or even refused, so that a flood of connections cannot use
// up the file descriptors (on gnet, a failed accept stops the server).
// Refused connections count towards MaxOpen while they wait for their
// first byte.
func TestMaxOpenClosesAtOnce(t *testing.T) {
	t.Parallel()
	forEach(t, Config{MaxClients: 1, MaxOpen: 2}, func(t *testing.T, e *env) {
		open := e.srv.(interface{ count() int })
		c1 := e.conn(t)
		c1.write(t, cmd("PING"))
		c1.expect(t, "PONG")
		refused := e.conn(t) // over MaxClients: answered on its first byte
		eventually(t, "refused client registered", func() bool { return open.count() == 2 })

		shed := e.conn(t)
		_, _ = shed.Write(cmd("PING")) // may fail: the server closes it
		got, _ := io.ReadAll(shed.br)  // a reset counts as closed
		if len(got) != 0 {
			t.Fatalf("connection past MaxOpen got %q, want it closed unanswered", got)
		}

		refused.write(t, cmd("PING"))
		refused.expect(t, respErr("ERR max number of clients reached"))
		refused.expectEOF(t)
		st := e.stats()
		if st.Rejected != 2 || st.ConnectionsTotal != 3 || st.Connected != 1 {
			t.Fatalf("stats %+v", st)
		}
		eventually(t, "room again", func() bool { return open.count() == 1 })
		c1.write(t, cmd("PING"))
		c1.expect(t, "PONG")
	})
}
