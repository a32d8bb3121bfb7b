package transport

import (
	"strconv"
	"testing"
	"time"
)

// Sweeps wait a quarter of the idle timeout and of the soft output
// limit's period as they are now, within [minTick, the interval chosen at
// start]. gnet swept every 10 ms whenever no idle timeout was set,
// which cost a server holding 10,000 idle connections 60% of a core.
func TestSweepInterval(t *testing.T) {
	h := newHub(Config{}) // the defaults: no idle timeout, a 60 s soft period
	g := &gnetServer{hub: h}
	check := func(what string, want time.Duration) {
		t.Helper()
		if got := h.sweepInterval(); got != want {
			t.Errorf("%s: sweepInterval %v, want %v", what, got, want)
		}
		if got, _ := g.OnTick(); got != want {
			t.Errorf("%s: gnet's OnTick %v, want %v", what, got, want)
		}
	}
	check("defaults", maxTick)
	h.SetIdleTimeout(200 * time.Millisecond)
	check("idle timeout 200ms", 50*time.Millisecond)
	h.SetIdleTimeout(0)
	check("idle timeout off again", maxTick)
	hard, _, _ := h.OutputLimits()
	h.SetOutputLimits(hard, 1<<20, 400*time.Millisecond)
	check("soft period 400ms", 100*time.Millisecond)
	h.SetOutputLimits(hard, 1<<20, time.Millisecond)
	check("soft period 1ms", minTick)
	h.SetOutputLimits(hard, 0, time.Millisecond)
	check("soft limit off", maxTick)
}

// A connection that quits with output still to write is closed soon
// after the output is out, not at the next housekeeping sweep (a second
// away by default): gnet's loop sweeps itself while connections of it
// quit. Each client reads the replies to 64 BIGs and QUIT after a pause
// and must see the end of the stream within 500 ms of its last byte
// (before, up to a second: five in a row passed one time in thirty).
func TestQuitClosesSoonAfterOutput(t *testing.T) {
	t.Parallel()
	forEach(t, Config{}, func(t *testing.T, e *env) {
		var p []byte
		for range 64 {
			p = append(p, cmd("BIG", strconv.Itoa(64<<10))...)
		}
		p = append(p, cmd("QUIT")...)
		for i := range 5 {
			c := e.conn(t)
			c.write(t, p)
			time.Sleep(100 * time.Millisecond) // replies wait in the server
			buf := make([]byte, 1<<20)
			var last time.Time
			total := 0
			for {
				n, err := c.Read(buf)
				if n > 0 {
					total, last = total+n, time.Now()
				}
				if err != nil {
					break
				}
			}
			if total < 64<<16 {
				t.Fatalf("client %d: read %d bytes, want the 64 replies", i, total)
			}
			if d := time.Since(last); d > 500*time.Millisecond {
				t.Fatalf("client %d: the connection closed %v after its last byte", i, d)
			}
		}
	})
}
