package server

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// Redis's idle= in CLIENT LIST is the time since the client's last
// interaction, which its writes to the client count as (c->lastinteraction
// is set when output is written, not only when a command is read). So
// redis-server 7.0.15 showed idle=0 for a MONITOR receiving the lines of
// other clients' commands, and idle=1 a second after a WAIT 1 2500 timed
// out and answered, where ringdb counted from the last command the client
// sent (idle=4 for both, four seconds on): a script that drops clients
// idle too long would have dropped a working monitor.

// clientIdle returns the idle= of client id in obs's CLIENT LIST.
func clientIdle(t *testing.T, obs *netClient, id string) int {
	t.Helper()
	v, err := parseValue(obs.do(t, "CLIENT", "LIST", "ID", id))
	list, ok := v.(string)
	if err != nil || !ok {
		t.Fatalf("CLIENT LIST = %v, %v", v, err)
	}
	for _, f := range strings.Fields(list) {
		if s, ok := strings.CutPrefix(f, "idle="); ok {
			n, err := strconv.Atoi(s)
			if err != nil {
				t.Fatalf("idle=%s", s)
			}
			return n
		}
	}
	t.Fatalf("no client %s in %q", id, list)
	return 0
}

func idOf(t *testing.T, c *netClient) string {
	t.Helper()
	return strings.TrimSuffix(strings.TrimPrefix(c.do(t, "CLIENT", "ID"), ":"), "\r\n")
}

func TestClientListIdleCountsOutput(t *testing.T) {
	t.Parallel() // its own servers; it mostly waits (pauses, timeouts)
	ts := startServer(t, TransportGnet, Config{})
	obs, c, w, m := ts.raw(t), ts.raw(t), ts.raw(t), ts.raw(t)
	mid, wid := idOf(t, m), idOf(t, w)
	if got := m.do(t, "MONITOR"); got != okR {
		t.Fatalf("MONITOR = %q", got)
	}
	w.send(t, "WAIT", "1", "2500")
	start := time.Now()
	// The monitor sends nothing more; it reads a line a command.
	for time.Since(start) < 3500*time.Millisecond {
		c.do(t, "PING")
		monitorArgs(t, m, "")
		time.Sleep(100 * time.Millisecond)
	}
	if got := w.read(t); got != ":0\r\n" {
		t.Fatalf("WAIT = %q", got)
	}
	// The server's clock moves once a second: 1 s of slack.
	if idle := clientIdle(t, obs, mid); idle > 1 {
		t.Errorf("monitor receiving lines: idle=%d, want 0 (Redis counts output as interaction)", idle)
	}
	if idle := clientIdle(t, obs, wid); idle > 2 {
		t.Errorf("a second after WAIT answered: idle=%d, want 1", idle)
	}
}
