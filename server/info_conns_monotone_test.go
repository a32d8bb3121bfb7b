package server

import (
	"net"
	"sync"
	"testing"
	"time"

	"github.com/ringdb/ringdb/core"
)

// INFO's total_connections_received never goes back, even while
// connections are refused by maxclients. It was the transport's accepted
// count less its refused count, and a connection refused is counted
// accepted first and refused just after: an INFO in between counted it,
// the next one no longer did. One less is a counter reset to
// redis_exporter and Prometheus, whose increase() then adds the whole
// count again.
func TestInfoConnectionsReceivedNeverGoesBack(t *testing.T) {
	for _, kind := range []string{TransportGnet, TransportStd} {
		t.Run(kind, func(t *testing.T) {
			ts := startServer(t, kind, Config{MaxClients: 1})
			c1 := ts.dial(t)
			rawExchange(t, c1, respCmd("PING"), "+PONG\r\n")
			addr := ts.Addr()
			stop := make(chan struct{})
			var wg sync.WaitGroup
			for range 4 {
				wg.Add(1)
				go func() { // connections the server refuses
					defer wg.Done()
					for {
						select {
						case <-stop:
							return
						default:
						}
						if c, err := net.Dial("tcp", addr); err == nil {
							c.Close()
						}
					}
				}()
			}
			defer func() { close(stop); wg.Wait() }()
			var st core.Stats
			prev := uint64(0)
			for end := time.Now().Add(500 * time.Millisecond); time.Now().Before(end); {
				tr := ts.transportStats()
				d := ts.infoStatsNow(&st, &tr)
				if d.conns < prev {
					t.Fatalf("total_connections_received went from %d to %d (rejected %d)", prev, d.conns, tr.Rejected)
				}
				prev = d.conns
			}
			if tr := ts.transportStats(); tr.Rejected == 0 {
				t.Fatal("no connection refused")
			}
		})
	}
}
