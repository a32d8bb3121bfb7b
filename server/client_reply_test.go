package server

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// clientReplySeq exercises CLIENT REPLY as Redis 7.0 answers it: SKIP
// drops the next reply only, OFF every reply (errors too) until ON, which
// answers; SKIP while OFF does nothing; RESET turns replies back on and
// answers, unless a SKIP came just before it. It ends with replies on and
// ECHO end, whose reply ends the output.
const clientReplySeq = "CLIENT REPLY SKIP\r\nPING\r\nECHO a\r\n" +
	"CLIENT REPLY OFF\r\nCLIENT REPLY SKIP\r\nSET k v\r\nGET k\r\nNOSUCHCMD\r\nGET\r\nRESET\r\nECHO b\r\n" +
	"CLIENT REPLY SKIP\r\nRESET\r\nECHO c\r\n" +
	"CLIENT REPLY OFF\r\nCLIENT REPLY ON\r\nGET k\r\n" +
	"CLIENT REPLY SKIP\r\nCLIENT REPLY ON\r\nECHO d\r\n" +
	"CLIENT REPLY maybe\r\nCLIENT REPLY\r\nCLIENT REPLY SKIP\r\nCLIENT REPLY SKIP\r\nECHO e\r\nECHO f\r\n" +
	"ECHO end\r\n"

// readThrough reads c's output until it ends with end.
func readThrough(t *testing.T, c *netClient, end string) string {
	t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	var out bytes.Buffer
	buf := make([]byte, 4096)
	for !strings.HasSuffix(out.String(), end) {
		n, err := c.r.Read(buf)
		out.Write(buf[:n])
		if err != nil {
			t.Fatalf("after %q: %v", out.String(), err)
		}
	}
	return out.String()
}

// TestClientReplyAgainstRedis: the byte stream a pipeline using CLIENT
// REPLY gets is Redis 7.0's, over every transport. ringdb refused OFF and
// SKIP, so fire-and-forget clients got error replies they did not expect.
func TestClientReplyAgainstRedis(t *testing.T) {
	r := compareRedis(t)
	if _, err := r.conn.Write([]byte(clientReplySeq)); err != nil {
		t.Fatal(err)
	}
	want := readThrough(t, r, "$3\r\nend\r\n")
	forEachTransport(t, Config{}, func(t *testing.T, ts *testServer) {
		c := ts.raw(t)
		if _, err := c.conn.Write([]byte(clientReplySeq)); err != nil {
			t.Fatal(err)
		}
		if got := readThrough(t, c, "$3\r\nend\r\n"); got != want {
			t.Errorf("got  %q\nwant %q (Redis)", got, want)
		}
	})
}

// TestClientReplyOffParked: a request parked while replies are off (WAIT
// with a timeout) completes without a reply, as in Redis; CLIENT REPLY
// inside MULTI is refused (in Redis 7.0 an OFF run by EXEC cuts EXEC's
// array short of the length it sent).
func TestClientReplyOffParked(t *testing.T) {
	forEachTransport(t, Config{}, func(t *testing.T, ts *testServer) {
		c := ts.raw(t)
		seq := "CLIENT REPLY OFF\r\nWAIT 1 50\r\nCLIENT REPLY SKIP\r\nCLIENT REPLY ON\r\n" +
			"CLIENT REPLY SKIP\r\nWAIT 1 50\r\nECHO x\r\n" +
			"MULTI\r\nCLIENT REPLY OFF\r\nEXEC\r\nECHO end\r\n"
		if _, err := c.conn.Write([]byte(seq)); err != nil {
			t.Fatal(err)
		}
		got := readThrough(t, c, "$3\r\nend\r\n")
		want := "+OK\r\n$1\r\nx\r\n+OK\r\n-ERR Command not allowed inside a transaction\r\n" +
			"-EXECABORT Transaction discarded because of previous errors.\r\n$3\r\nend\r\n"
		if got != want {
			t.Errorf("got  %q\nwant %q", got, want)
		}
	})
}

// TestClientReplySkipHeldByPause: a request CLIENT PAUSE WRITE holds is
// served again when the pause ends; a SKIP before it still drops its
// reply. The SKIP was spent on the first, postponed pass, and the write's
// +OK came through.
func TestClientReplySkipHeldByPause(t *testing.T) {
	forEachTransport(t, Config{}, func(t *testing.T, ts *testServer) {
		if got := ts.raw(t).do(t, "CLIENT", "PAUSE", "300", "WRITE"); got != okR {
			t.Fatalf("CLIENT PAUSE = %q", got)
		}
		c := ts.raw(t)
		if _, err := c.conn.Write([]byte("CLIENT REPLY SKIP\r\nSET k v\r\nECHO end\r\n")); err != nil {
			t.Fatal(err)
		}
		if got := readThrough(t, c, "$3\r\nend\r\n"); got != "$3\r\nend\r\n" {
			t.Errorf("got %q, want only ECHO's reply", got)
		}
	})
}
