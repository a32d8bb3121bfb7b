package transport

import (
	"net"
	"strconv"
	"testing"
	"time"
)

// hubOf returns the hub of a server of any kind.
func hubOf(t *testing.T, s Server) *hub {
	switch v := s.(type) {
	case *gnetServer:
		return v.hub
	case *netServer:
		return v.hub
	case *Pipe:
		return v.hub
	}
	t.Fatalf("no hub in %T", s)
	return nil
}

// Sweeps wait a quarter of the idle timeout and of the soft output
// limit's period as they are now, within [minTick, the interval chosen at
// start], and gnet's sweep every minTick only while connections drain
// before close. gnet swept every 10 ms whenever no idle timeout was set,
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

	h.quitting.Add(1)
	if got, _ := g.OnTick(); got != minTick {
		t.Errorf("a connection draining before close: gnet's OnTick %v, want %v", got, minTick)
	}
	h.quitting.Add(-1)
}

// Every connection that quits is counted out of hub.quitting once closed,
// whether its output drained, it was aborted, or it quit by closing: a
// count left behind would keep gnet sweeping every 10 ms for good.
func TestQuittingCountedOut(t *testing.T) {
	t.Parallel()
	forEach(t, Config{MaxClients: 4}, func(t *testing.T, e *env) {
		h := hubOf(t, e.srv)
		for i := range 3 {
			c := e.conn(t)
			c.write(t, cmd("PING"))
			c.expect(t, "PONG")
			switch i {
			case 0: // QUIT with replies pending
				var p []byte
				for range 64 {
					p = append(p, cmd("BIG", strconv.Itoa(64<<10))...)
				}
				c.write(t, append(p, cmd("QUIT")...))
				go func(c net.Conn) { _, _ = c.Read(make([]byte, 1<<20)); _ = c.Close() }(c.Conn)
			case 1: // QUIT, read to the end
				c.write(t, cmd("QUIT"))
				c.expect(t, "OK")
				c.expectEOF(t)
			case 2: // gone without QUIT
				_ = c.Close()
			}
		}
		eventually(t, "every connection closed and counted out", func() bool {
			return e.stats().Connected == 0 && h.quitting.Load() == 0
		})
	})
}
