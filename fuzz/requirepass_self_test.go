package fuzz

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/ringdb/ringdb/server"
)

// A client that never authenticated, on a server whose password was
// removed, sets a password with CONFIG SET requirepass: from its next
// request on, it is a stranger again (Redis's authRequired): NOAUTH, and
// the pre-auth request limits.
func TestRequirepassBySelfRestricts(t *testing.T) {
	for _, kind := range []string{server.TransportGnet, server.TransportStd} {
		for _, pipelined := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/pipelined=%v", kind, pipelined), func(t *testing.T) {
				cfg := server.Config{Addr: "127.0.0.1:0", Transport: kind, MetricsAddr: "off", Loops: 1, AuthToken: "pw0", CrashOnPanic: true}
				s, err := server.New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
				if err != nil {
					t.Fatal(err)
				}
				if err := s.Start(); err != nil {
					t.Fatal(err)
				}
				dial := func() (net.Conn, *bufio.Reader) {
					c, err := net.Dial("tcp", s.Addr())
					if err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() { c.Close() })
					_ = c.SetDeadline(time.Now().Add(5 * time.Second))
					return c, bufio.NewReader(c)
				}
				do := func(c net.Conn, r *bufio.Reader, argv ...string) string {
					if _, err := c.Write(svAppendCommand(nil, argv)); err != nil {
						t.Fatal(err)
					}
					v, err := svParse(r, 2, 0)
					if err != nil {
						return "read error: " + err.Error()
					}
					return v.String()
				}
				client, cr := dial() // connects while a password is required
				admin, ar := dial()
				if got := do(admin, ar, "AUTH", "pw0"); got != "+OK" {
					t.Fatal(got)
				}
				if got := do(admin, ar, "CONFIG", "SET", "requirepass", ""); got != "+OK" {
					t.Fatal(got)
				}
				small := []string{"SET", "k1", "v"}
				big := []string{"MSET", "a", "1", "b", "2", "c", "3", "d", "4", "e", "5", "f", "6"}
				var got1, got2 string
				if pipelined {
					buf := svAppendCommand(nil, []string{"CONFIG", "SET", "requirepass", "pw0"})
					buf = svAppendCommand(buf, small)
					buf = svAppendCommand(buf, big)
					client.Write(buf)
					for _, p := range []*string{nil, &got1, &got2} {
						v, err := svParse(cr, 2, 0)
						s := v.String()
						if err != nil {
							s = "read error: " + err.Error()
						}
						if p != nil {
							*p = s
						}
					}
				} else {
					if got := do(client, cr, "CONFIG", "SET", "requirepass", "pw0"); got != "+OK" {
						t.Fatal(got)
					}
					got1 = do(client, cr, small...)
					got2 = do(client, cr, big...)
				}
				t.Logf("pipelined=%v: SET -> %s; 13-element MSET -> %s; admin GET k1 -> %s, GET a -> %s",
					pipelined, got1, got2, do(admin, ar, "GET", "k1"), do(admin, ar, "GET", "a"))
				if got1 != "-NOAUTH Authentication required." {
					t.Errorf("SET after the client itself set a password: %s, want -NOAUTH", got1)
				}
				if got2 != "-ERR Protocol error: unauthenticated multibulk length" {
					t.Errorf("13-element MSET after the client itself set a password: %s, want the pre-auth protocol error", got2)
				}
			})
		}
	}
}
