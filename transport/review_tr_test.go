package transport

import (
	"bytes"
	"strconv"
	"testing"
	"time"
)

// A client whose deep pipeline keeps it on hold at the hard limit has
// requests waiting to be served: it is not idle while it reads its output,
// although it sends nothing more. The idle timeout used to close it, and the
// requests still held were never answered.
func TestReviewIdleTimeoutSparesHeldClient(t *testing.T) {
	t.Parallel()
	const (
		n     = 200
		reply = 64 << 10
	)
	cfg := Config{IdleTimeout: 300 * time.Millisecond, OutputHardLimit: 256 << 10}
	forEach(t, cfg, func(t *testing.T, e *env) {
		c := e.conn(t)
		c.write(t, bytes.Repeat(cmd("BIG", strconv.Itoa(reply)), n))
		for i := range n {
			v, err := c.read()
			if err != nil {
				t.Fatalf("reply %d of %d: %v", i+1, n, err)
			}
			if s, _ := v.(string); len(s) != reply {
				t.Fatalf("reply %d: %T of %d bytes", i+1, v, len(s))
			}
			time.Sleep(5 * time.Millisecond) // ~1 s in all: over IdleTimeout
		}
	})
}
