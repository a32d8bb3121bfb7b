package transport

import (
	"bytes"
	"strconv"
	"testing"
	"time"
)

// TestPipelineOutputMadeAsRead: a pipeline of large replies, read as they
// come, is served a turn at a time as its client reads, not built whole in
// memory first. The std transport built the replies of everything it had
// read into one buffer before writing any (200 GETs of 1 MiB: 200 MiB,
// grown by doubling and page-faulted afresh; a pipeline of 2000 GETs of
// 100 KB took 10x gnet's time and 600 MB of RSS). The hard limit is set
// past the whole pipeline, so that only the turns keep the output small.
// gnet holds what the socket does not take in its outbound buffer and is
// not checked here.
func TestPipelineOutputMadeAsRead(t *testing.T) {
	const n, size = 128, 1 << 20
	const bound = 48 << 20 // far below n*size; turns are 1 MiB (turnOut)
	e := startEnv(t, "std", Config{OutputHardLimit: 1 << 30, OutputSoftLimit: -1})
	c := e.conn(t)
	_ = c.SetDeadline(time.Now().Add(3 * time.Minute))
	done := readBigs(c, n, size)
	c.write(t, bytes.Repeat(cmd("BIG", strconv.Itoa(size)), n))
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	held := e.h.bigHeld.Load()
	t.Logf("most output held for the client: %d KiB of %d MiB in all", held>>10, n*size>>20)
	if held > bound {
		t.Fatalf("the server held %d MiB of output for a client reading %d MiB of replies as they came", held>>20, n*size>>20)
	}
}
