package transport

import (
	"errors"
	"net"
	"os"
	"sync"
	"testing"
	"time"
)

// TestShutdownLeavesNoAcceptedConnection dials as fast as it can while
// Shutdown runs. Every connection the server accepted must end: answered
// and closed, or closed. gnet's acceptor (its main reactor) kept
// accepting after the event loops had exited and queued each new
// connection to a loop that would never run again: Shutdown returned, yet
// the socket stayed open, its request unread, until the process exited
// (tens of connections in most runs).
func TestShutdownLeavesNoAcceptedConnection(t *testing.T) {
	for _, kind := range []string{"gnet", "std"} {
		t.Run(kind, func(t *testing.T) {
			for round := range 4 {
				e := startEnv(t, kind, Config{})
				addr := e.srv.Addr().String()
				var (
					mu    sync.Mutex
					conns []net.Conn
					wg    sync.WaitGroup
				)
				stop := make(chan struct{})
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range 400 {
						select {
						case <-stop:
							return
						default:
						}
						c, err := net.DialTimeout("tcp", addr, time.Second)
						if err != nil {
							continue // refused once the listener is gone
						}
						_, _ = c.Write(cmd("PING"))
						mu.Lock()
						conns = append(conns, c)
						mu.Unlock()
					}
				}()
				time.Sleep(2 * time.Millisecond)
				e.shutdown(t)
				close(stop)
				wg.Wait()
				// Every connection is now closed by the server, or gets
				// closed at once: read until EOF or reset.
				deadline := time.Now().Add(2 * time.Second)
				open := 0
				for _, c := range conns {
					_ = c.SetReadDeadline(deadline)
					buf := make([]byte, 256)
					for {
						_, err := c.Read(buf)
						if err == nil {
							continue
						}
						if errors.Is(err, os.ErrDeadlineExceeded) {
							open++
						}
						break
					}
					c.Close()
				}
				if open > 0 {
					t.Fatalf("round %d: %d of %d connections still open 2 s after Shutdown returned", round, open, len(conns))
				}
			}
		})
	}
}
