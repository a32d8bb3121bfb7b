package transport

import (
	"context"
	"net"
	"syscall"
)

// TCP keep-alive of accepted connections: Go's defaults for them
// (net.KeepAliveConfig), so a peer that vanished is found within about
// two and a half minutes of silence.
const (
	keepIdleSecs     = 15
	keepIntervalSecs = 15
	keepCount        = 9
)

// listenTCP listens on addr. Linux copies a listening socket's keep-alive
// settings to every connection it accepts, so they are set once on the
// listener, not by four setsockopt calls per accepted connection (Go's
// default): a client that connects for each request costs that much
// less (benchmarks/churn-vs-redis.sh).
func listenTCP(addr string) (net.Listener, error) {
	lc := net.ListenConfig{
		KeepAlive: -1, // inherited from the listener: see Control
		Control: func(_, _ string, c syscall.RawConn) error {
			var err error
			cerr := c.Control(func(fd uintptr) {
				for _, o := range [...]struct{ level, opt, v int }{
					{syscall.SOL_SOCKET, syscall.SO_KEEPALIVE, 1},
					{syscall.IPPROTO_TCP, syscall.TCP_KEEPIDLE, keepIdleSecs},
					{syscall.IPPROTO_TCP, syscall.TCP_KEEPINTVL, keepIntervalSecs},
					{syscall.IPPROTO_TCP, syscall.TCP_KEEPCNT, keepCount},
				} {
					if err == nil {
						err = syscall.SetsockoptInt(int(fd), o.level, o.opt, o.v)
					}
				}
			})
			if cerr != nil {
				return cerr
			}
			return err
		},
	}
	return lc.Listen(context.Background(), "tcp", addr)
}
