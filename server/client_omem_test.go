package server

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ringdb/ringdb/transport/resp"
)

// CLIENT LIST's omem and INFO's client_recent_max_output_buffer show the
// output a client has not read: a client stalled on a 32 MiB GET shows
// most of it (the sockets hold a few MiB), and nothing once it has read
// it, so that an operator can find who holds the server's memory.
func TestClientListOmem(t *testing.T) {
	forEachTransport(t, Config{}, func(t *testing.T, ts *testServer) {
		const size = 32 << 20
		admin := ts.raw(t)
		if got := admin.do(t, "SET", "big", strings.Repeat("x", size)); got != "+OK\r\n" {
			t.Fatalf("SET: %q", got)
		}
		stalled := ts.raw(t)
		id := stalled.do(t, "CLIENT", "ID")
		stalled.send(t, "GET", "big")
		omemOf := func() int64 {
			t.Helper()
			list := admin.do(t, "CLIENT", "LIST")
			m := regexp.MustCompile(`id=` + strings.Trim(id, ":\r\n") + ` .* omem=(\d+) `).FindStringSubmatch(list)
			if m == nil {
				t.Fatalf("no omem for client %s in %q", strings.TrimSpace(id), list)
			}
			n, _ := strconv.ParseInt(m[1], 10, 64)
			return n
		}
		infoMax := func() int64 {
			t.Helper()
			m := regexp.MustCompile(`client_recent_max_output_buffer:(\d+)`).FindStringSubmatch(admin.do(t, "INFO", "clients"))
			if m == nil {
				t.Fatal("INFO clients has no client_recent_max_output_buffer")
			}
			n, _ := strconv.ParseInt(m[1], 10, 64)
			return n
		}
		deadline := time.Now().Add(10 * time.Second)
		for omemOf() < size/2 {
			if time.Now().After(deadline) {
				t.Fatalf("omem %d for a client that read none of a %d-byte reply", omemOf(), size)
			}
			time.Sleep(10 * time.Millisecond)
		}
		if got := infoMax(); got < size/2 {
			t.Fatalf("client_recent_max_output_buffer %d with a client %d bytes behind", got, omemOf())
		}
		if got := stalled.read(t); len(got) != size+len(resp.AppendBulkHeader(nil, size))+2 {
			t.Fatalf("GET: %d bytes", len(got))
		}
		for omemOf() != 0 || infoMax() != 0 {
			if time.Now().After(deadline) {
				t.Fatalf("omem %d, client_recent_max_output_buffer %d after the client read everything", omemOf(), infoMax())
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}
