//go:build unix

package transport

import (
	"io"
	"net"
	"syscall"
	"testing"
	"time"
)

// BytesOut counts bytes written to client sockets (INFO
// total_net_output_bytes, ringdb_network_outbound_bytes_total), as Redis
// does: the replies a client never got, because it went away without
// reading them, are not network traffic. gnet counted every byte it was
// handed, so a client that reset its connection with 32 MiB of replies
// unread (a client-side timeout, CLIENT KILL, an output-buffer-limit
// disconnect) added 32 MiB to the outbound counter, while std counted
// only what its socket took. The socket of a client that reads nothing
// takes at most the server's send buffer and the client's receive
// buffer (here shrunk to a few KiB), a few MiB at most.
func TestStatsBytesOutLeavesOutUnsentReplies(t *testing.T) {
	const reply, n = 16 << 20, 2 // each: BIG 1 MiB × 16
	for _, kind := range []string{"gnet", "std"} {
		t.Run(kind, func(t *testing.T) {
			e := startEnv(t, kind, Config{})
			d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
				return rc.Control(func(fd uintptr) {
					_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
				})
			}}
			nc, err := d.Dial("tcp", e.srv.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			for range n {
				if _, err := nc.Write(cmd("BIG", "1048576", "16")); err != nil {
					t.Fatal(err)
				}
			}
			eventually(t, "replies made", func() bool { return e.h.bigs.Load() == n })
			eventually(t, "some output written", func() bool { return e.stats().BytesOut > 0 })
			time.Sleep(20 * time.Millisecond) // let the socket take what it will
			_ = nc.(*net.TCPConn).SetLinger(0)
			_ = nc.Close() // a reset: the unread replies are lost
			eventually(t, "disconnect seen", func() bool { return e.stats().Connected == 0 })
			if out := e.stats().BytesOut; out > n*reply/4 {
				t.Fatalf("BytesOut = %d after a client read none of %d bytes of replies and reset", out, n*reply)
			}
		})
	}
}

// What a client does read is all counted, even when the transport had to
// buffer it first (a reply larger than the socket takes at once).
func TestStatsBytesOutCountsBufferedReplies(t *testing.T) {
	for _, kind := range []string{"gnet", "std"} {
		t.Run(kind, func(t *testing.T) {
			e := startEnv(t, kind, Config{})
			c := e.conn(t)
			req := cmd("BIG", "1048576", "8")
			c.write(t, req)
			want := int64(len("*8\r\n") + 8*len("$1048576\r\n\r\n") + 8<<20)
			if k, err := io.CopyN(io.Discard, c.br, want); err != nil {
				t.Fatalf("read %d of %d: %v", k, want, err)
			}
			eventually(t, "every byte counted", func() bool { return e.stats().BytesOut == uint64(want) })
		})
	}
}
