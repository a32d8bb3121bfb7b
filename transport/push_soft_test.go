package transport

import (
	"testing"
	"time"
)

// TestPushSoftLimit: pushes queued for a client that does not read count
// against the soft output limit. On std, once the writer blocked on such
// a client, the pushes stayed queued on the connection (its inbox), where
// the soft limit did not look: with the hard limit off it never
// disconnected the client, and the queue grew without bound (with the
// defaults, to the 256 MiB hard limit rather than the 64 MiB soft one).
func TestPushSoftLimit(t *testing.T) {
	t.Parallel()
	cfg := Config{OutputHardLimit: -1, OutputSoftLimit: 64 << 10, OutputSoftSeconds: 100 * time.Millisecond}
	forEach(t, cfg, func(t *testing.T, e *env) {
		c := e.conn(t)
		c.write(t, cmd("HELLO", "3"))
		c.expect(t, []any{"proto", int64(3)})
		c.write(t, cmd("PUSH", "2000000")) // some 50 MB, never read
		// Unbounded, the pushes are never disconnected: the wait only
		// bounds how long that takes to show. It was 2 s, which the
		// pushing goroutine and the sweep overran under -race on a
		// 2-core host loaded by other work (gnet and std, 1 run in 1).
		eventually(t, "a disconnect by the soft limit", func() bool { return e.stats().OutputBufferDisconnects > 0 })
	})
}
