package server

import (
	"strconv"
	"strings"
	"testing"
)

// A transaction that reads a large value and then writes its key, pair
// after pair, lends a version of the value per pair that only its reply
// keeps (the keyspace has moved on): 2000 pairs of GET and SETRANGE of a
// 1 MiB key, a 4 MB request, kept 2 GB of copies outside maxmemory and
// every output limit (measured: RSS 53 MB -> 2.1 GB, used_memory 12 MB).
// Those versions count against the output hard limit as a reply built
// in memory does: the reply is dropped with the LIMIT error. So is one
// gathering values as it deletes them (GETDEL). Reading the value many
// times without writing it, or reading it once and writing it, is
// answered.
func TestExecKeepingOverwrittenValuesOverHardLimitRefused(t *testing.T) {
	const size, pairs = 256 << 10, 32 // 8 MiB of versions, 1 MiB limit
	forEachTransport(t, Config{OutputHardLimit: 1 << 20}, func(t *testing.T, ts *testServer) {
		c := ts.raw(t)
		val := strings.Repeat("a", size)
		if got := c.do(t, "SET", "big", val); got != "+OK\r\n" {
			t.Fatalf("SET: %q", got)
		}
		exec := func(cmds ...[]string) string {
			t.Helper()
			if got := c.do(t, "MULTI"); got != "+OK\r\n" {
				t.Fatalf("MULTI: %q", got)
			}
			for _, args := range cmds {
				if got := c.do(t, args...); got != "+QUEUED\r\n" {
					t.Fatalf("%v: %q", args, got)
				}
			}
			return c.do(t, "EXEC")
		}
		dropped := errR("ERR reply dropped: larger than the output buffer hard limit")

		var overwrite, getdel, reads [][]string
		for range pairs {
			overwrite = append(overwrite, []string{"GET", "big"}, []string{"SETRANGE", "big", "0", "b"})
			getdel = append(getdel, []string{"SETRANGE", "tmp", strconv.Itoa(size - 1), "x"}, []string{"GETDEL", "tmp"})
			reads = append(reads, []string{"GET", "big"})
		}
		if got := exec(overwrite...); got != dropped {
			t.Errorf("EXEC of %d GET and SETRANGE of a %d KiB key: %.60q, want the reply dropped", pairs, size>>10, got)
		}
		if got := exec(getdel...); got != dropped {
			t.Errorf("EXEC of %d SETRANGE and GETDEL of a %d KiB key: %.60q, want the reply dropped", pairs, size>>10, got)
		}

		// The writes ran: the key is what the last SETRANGE made it.
		want := "b" + val[1:]
		if got := c.do(t, "GET", "big"); got != bulkR(want) {
			t.Fatalf("GET after the dropped EXEC: %.60q", got)
		}
		var all []string
		for range pairs {
			all = append(all, bulkR(want))
		}
		if got := exec(reads...); got != arrR(all...) {
			t.Errorf("EXEC of %d GETs of one %d KiB key: %.60q, want every value", pairs, size>>10, got)
		}
		if got := exec([]string{"GET", "big"}, []string{"SETRANGE", "big", "0", "c"}); got != arrR(bulkR(want), ":"+strconv.Itoa(size)+"\r\n") {
			t.Errorf("EXEC of GET and SETRANGE: %.60q", got)
		}
		if got := c.do(t, "PING"); got != "+PONG\r\n" {
			t.Fatalf("PING: %q", got)
		}
	})
}
