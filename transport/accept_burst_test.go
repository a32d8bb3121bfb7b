package transport

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestAcceptBurstServesEvery: connections that arrive together, each
// sending one request and closing (a client that connects per request),
// are all served, and the server's counts of accepted, open and closed
// connections agree once they are gone.
func TestAcceptBurstServesEvery(t *testing.T) {
	forEach(t, Config{}, func(t *testing.T, e *env) {
		const clients, each = 32, 20
		var wg sync.WaitGroup
		errs := make(chan error, clients)
		for range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range each {
					nc, err := e.dial()
					if err != nil {
						errs <- err
						return
					}
					_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
					c := newClient(nc)
					if _, err := nc.Write(cmd("PING")); err != nil {
						errs <- err
						nc.Close()
						return
					}
					got, err := c.read()
					nc.Close()
					if err != nil {
						errs <- err
						return
					}
					if got != "PONG" {
						errs <- fmt.Errorf("PING: got %#v, want PONG", got)
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		eventually(t, "every connection closed", func() bool {
			st := e.stats()
			return st.Connected == 0 && e.h.closed.Load() == clients*each
		})
		if st := e.stats(); st.ConnectionsTotal != clients*each {
			t.Errorf("%d connections counted, want %d", st.ConnectionsTotal, clients*each)
		}
	})
}
