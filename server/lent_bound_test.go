package server

import (
	"bufio"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ringdb/ringdb/core"
	"github.com/ringdb/ringdb/transport/resp"
)

// EXEC whose writes evict the large values its own GETs lent (allkeys)
// holds them until its reply is written, and the keyspace has dropped
// them: they count against maxmemory until then (INFO used_memory_lent),
// so its later writes fail with OOM at the bound rather than the server
// holding every value the transaction read outside it (2.07 GB at a
// 64 MiB bound, in a QA probe). The client that then reads gets every
// GET's value whole, and the memory is the keyspace's again.
func TestExecLentValuesCountAgainstMaxmemory(t *testing.T) {
	const size, pairs = 1 << 20, 48
	cfg := Config{MaxMemory: 16 << 20, Eviction: core.AllKeys, OutputHardLimit: 4 << 30, OutputSoftLimit: 4 << 30}
	forEachTransport(t, cfg, func(t *testing.T, ts *testServer) {
		setup := ts.raw(t)
		// Sized up front: grown by append, the 48 MiB pipeline was copied
		// some five times over, a large part of the test's time under
		// -race (every byte copied is checked).
		p := resp.AppendCommand(make([]byte, 0, pairs*(size+64)+256), []byte("MULTI"))
		for i := 0; i < pairs; i++ {
			k := []byte("k" + strconv.Itoa(i))
			p = resp.AppendCommand(p, []byte("SET"), k, versionedValue(size, i))
			p = resp.AppendCommand(p, []byte("GET"), k)
		}
		p = resp.AppendCommand(p, []byte("EXEC"))
		p = resp.AppendCommand(p, []byte("ECHO"), []byte("after"))
		c := ts.dial(t)
		reads := func() uint64 { st := ts.ks.Stats(); return st.Hits + st.Misses }
		before := reads()
		_ = c.SetWriteDeadline(time.Now().Add(30 * time.Second))
		if _, err := c.Write(p); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(30 * time.Second)
		for reads() < before+pairs {
			if time.Now().After(deadline) {
				t.Fatalf("%d of %d GETs ran after 30 s", reads()-before, pairs)
			}
			time.Sleep(5 * time.Millisecond)
		}
		st := ts.ks.Stats()
		t.Logf("unread: used %d MiB, lent %d MiB", st.UsedBytes>>20, st.LentBytes>>20)
		if st.UsedBytes > cfg.MaxMemory {
			t.Errorf("used_memory %d over maxmemory %d", st.UsedBytes, cfg.MaxMemory)
		}
		if st.LentBytes == 0 {
			t.Errorf("used_memory_lent 0 while evicted values wait in an unread reply")
		}
		// The values lent are client memory, not data.
		info := setup.do(t, "INFO", "memory")
		field := func(name string) int64 { return infoField(t, info, name) }
		if used, dataset, lent := field("used_memory"), field("used_memory_dataset"), field("used_memory_lent"); lent == 0 || dataset+lent > used {
			t.Errorf("INFO used_memory %d, used_memory_dataset %d, used_memory_lent %d: want the lent bytes outside the dataset", used, dataset, lent)
		} else if overhead := field("used_memory_overhead"); overhead+dataset != used {
			t.Errorf("INFO used_memory_overhead %d + used_memory_dataset %d != used_memory %d: the lent bytes are overhead (clients), as in Redis", overhead, dataset, used)
		}

		r := bufio.NewReaderSize(c, 64<<10)
		_ = c.SetReadDeadline(time.Now().Add(60 * time.Second))
		for i := 0; i <= 2*pairs; i++ { // OK, then QUEUED
			if _, err := readReply(r); err != nil {
				t.Fatal(err)
			}
		}
		if got, err := r.ReadString('\n'); err != nil || got != "*"+strconv.Itoa(2*pairs)+"\r\n" {
			t.Fatalf("EXEC reply header %q, %v", got, err)
		}
		ooms, values := 0, 0
		for i := 0; i < pairs; i++ {
			switch got, err := readReply(r); {
			case err != nil:
				t.Fatalf("SET %d: %v", i, err)
			case strings.HasPrefix(got, "-OOM "):
				ooms++
			case got != "+OK\r\n":
				t.Fatalf("SET %d: %q", i, got)
			}
			got, err := readReply(r)
			if err != nil {
				t.Fatalf("GET %d: %v", i, err)
			}
			if got == "$-1\r\n" {
				continue // its SET failed
			}
			body, ok := strings.CutPrefix(got, "$1048576\r\n")
			if !ok {
				t.Fatalf("GET %d: %.40q", i, got)
			}
			if err := checkVersioned([]byte(strings.TrimSuffix(body, "\r\n")), size); err != nil {
				t.Fatalf("GET %d: %v", i, err)
			}
			values++
		}
		if got, err := readReply(r); err != nil || got != bulkR("after") {
			t.Fatalf("ECHO after: %q, %v", got, err)
		}
		t.Logf("%d of %d SETs failed with OOM, %d values read", ooms, pairs, values)
		if ooms == 0 {
			t.Errorf("every SET succeeded while an unread reply held %d MiB of evicted values over a 16 MiB bound", pairs)
		}
		deadline = time.Now().Add(10 * time.Second)
		for ts.ks.Stats().LentBytes != 0 {
			if time.Now().After(deadline) {
				t.Fatalf("used_memory_lent %d after the client read everything", ts.ks.Stats().LentBytes)
			}
			time.Sleep(5 * time.Millisecond)
		}
		if got := setup.do(t, "SET", "big", string(versionedValue(size, 99))); got != "+OK\r\n" {
			t.Fatalf("SET after the reader caught up: %q", got)
		}
	})
}
