//go:build linux

package server

import (
	"context"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

// CLIENT LIST and CLIENT INFO show each connection's socket descriptor, as
// Redis does (tools match clients to sockets by it; -1 is what Redis shows
// for its internal clients, and every connection here showed it), and -1
// for the in-memory pipe, which has none.
func TestClientListShowsSocketFD(t *testing.T) {
	forEachTransport(t, Config{}, func(t *testing.T, ts *testServer) {
		ctx := context.Background()
		a := ts.redis(t, 2, func(o *redis.Options) { o.PoolSize = 1 })
		b := ts.redis(t, 2, func(o *redis.Options) { o.PoolSize = 1 })
		fdOf := func(rdb *redis.Client) int {
			t.Helper()
			info, err := rdb.Do(ctx, "CLIENT", "INFO").Text()
			if err != nil {
				t.Fatal(err)
			}
			m := regexp.MustCompile(` fd=(-?\d+) `).FindStringSubmatch(info)
			if m == nil {
				t.Fatalf("no fd in CLIENT INFO %q", info)
			}
			fd, _ := strconv.Atoi(m[1])
			if ts.kind == "pipe" {
				if fd != -1 {
					t.Fatalf("CLIENT INFO fd=%d over the in-memory pipe, want -1", fd)
				}
				return fd
			}
			// The server runs in this process: its descriptor is one of
			// this process's sockets.
			if link, err := os.Readlink("/proc/self/fd/" + m[1]); err != nil || !strings.HasPrefix(link, "socket:") {
				t.Fatalf("CLIENT INFO fd=%d: /proc/self/fd/%d is %q, %v, not a socket", fd, fd, link, err)
			}
			return fd
		}
		fa, fb := fdOf(a), fdOf(b)
		if fa == fb && ts.kind != "pipe" {
			t.Fatalf("two connections show the same fd %d", fa)
		}
		list, err := a.ClientList(ctx).Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, fd := range []int{fa, fb} {
			if !strings.Contains(list, " fd="+strconv.Itoa(fd)+" ") {
				t.Fatalf("CLIENT LIST lacks fd=%d:\n%s", fd, list)
			}
		}
	})
}
