package server

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/ringdb/ringdb/transport"
)

// TestMaxClientsFitsOpenFileLimit: as Redis, maxclients stays within what
// the open-file limit leaves room for. A larger value at startup is
// reduced, and CONFIG SET past it fails naming the most that fits: clients
// past it used to make accept fail with EMFILE, which stops a gnet server.
func TestMaxClientsFitsOpenFileLimit(t *testing.T) {
	m := transport.MaxClientsForFDs(2)
	if m == 0 {
		t.Skip("the process has no open-file limit")
	}
	ts := startServer(t, TransportGnet, Config{MaxClients: m + 100, Loops: 2})
	c := ts.raw(t)
	most := strconv.Itoa(m)
	if got := c.do(t, "CONFIG", "GET", "maxclients"); got != bulksR("maxclients", most) {
		t.Fatalf("CONFIG GET maxclients = %q, want %s", got, most)
	}
	want := fmt.Sprintf("-ERR CONFIG SET failed (possibly related to argument 'maxclients') - The operating system is not able to handle the specified number of clients, try with %d\r\n", m)
	if got := c.do(t, "CONFIG", "SET", "maxclients", strconv.Itoa(m+1)); got != want {
		t.Fatalf("CONFIG SET maxclients %d = %q, want %q", m+1, got, want)
	}
	if got := c.do(t, "CONFIG", "SET", "maxclients", strconv.Itoa(m-1)); got != "+OK\r\n" {
		t.Fatalf("CONFIG SET maxclients %d = %q", m-1, got)
	}
}
