package transport

import (
	"testing"
	"time"
)

// runtimeSettings is what the server's CONFIG SET maxclients and timeout
// look for on a transport.
type runtimeSettings interface {
	SetMaxClients(int)
	SetIdleTimeout(time.Duration)
}

// TestSetMaxClientsAtRunTime: as CONFIG SET maxclients in Redis, a lower
// limit keeps the clients already connected and refuses new ones past it;
// a higher one admits them again.
func TestSetMaxClientsAtRunTime(t *testing.T) {
	t.Parallel()
	forEach(t, Config{MaxClients: 3}, func(t *testing.T, e *env) {
		rs := e.srv.(runtimeSettings)
		c1, c2 := e.conn(t), e.conn(t)
		for _, c := range []*client{c1, c2} {
			c.write(t, cmd("PING"))
			c.expect(t, "PONG")
		}
		rs.SetMaxClients(1)
		for _, c := range []*client{c1, c2} {
			c.write(t, cmd("PING"))
			c.expect(t, "PONG")
		}
		c3 := e.conn(t)
		c3.write(t, cmd("PING"))
		c3.expect(t, respErr("ERR max number of clients reached"))
		c3.expectEOF(t)
		rs.SetMaxClients(3)
		c4 := e.conn(t)
		c4.write(t, cmd("PING"))
		c4.expect(t, "PONG")
	})
}

// TestSetIdleTimeoutAtRunTime: CONFIG SET timeout closes clients idle for
// the new timeout, counting from the change for those idle since before
// it (on std, whose reads wait without a deadline while it is off), and
// setting it back to 0 spares them again.
func TestSetIdleTimeoutAtRunTime(t *testing.T) {
	t.Parallel()
	forEach(t, Config{}, func(t *testing.T, e *env) {
		rs := e.srv.(runtimeSettings)
		idle, busy := e.conn(t), e.conn(t)
		for _, c := range []*client{idle, busy} {
			c.write(t, cmd("PING"))
			c.expect(t, "PONG")
		}
		// The margins are wide: under -race on two busy cores (CI runs the
		// packages side by side) a 100 ms sleep has overrun by another
		// 100 ms, which a 200 ms timeout took for idleness, and busy has
		// gone 600 ms without a PING (closed, it failed its last one).
		const timeout = 1500 * time.Millisecond
		time.Sleep(timeout + 200*time.Millisecond) // idle for longer than the timeout to come
		rs.SetIdleTimeout(timeout)
		start := time.Now()
		closed := make(chan time.Duration, 1)
		go func() {
			_, err := idle.read()
			for err == nil {
				_, err = idle.read()
			}
			closed <- time.Since(start) // RESP clients are closed silently, as by Redis
		}()
		deadline := time.After(10 * time.Second)
	wait:
		for { // busy sends every 100 ms until the idle client is closed
			select {
			case d := <-closed:
				if d < timeout*3/4 {
					t.Fatalf("closed %v after the change: the time idle before it counted", d)
				}
				break wait
			case <-deadline:
				t.Fatal("the idle client was not closed")
			default:
			}
			busy.write(t, cmd("PING"))
			busy.expect(t, "PONG")
			time.Sleep(100 * time.Millisecond)
		}
		// busy has sent nothing since its last PING; off again, it stays.
		rs.SetIdleTimeout(0)
		time.Sleep(timeout + 300*time.Millisecond)
		busy.write(t, cmd("PING"))
		busy.expect(t, "PONG")
	})
}
