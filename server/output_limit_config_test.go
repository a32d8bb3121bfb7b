package server

import (
	"strings"
	"testing"
)

// CONFIG GET/SET client-output-buffer-limit reads and changes the output
// limits at run time, as Redis's: the new hard limit applies to the next
// reply (a reply built past it is refused; 0 is no limit), the classes
// are shown alike, and a malformed value is refused, leaving the limits.
func TestConfigClientOutputBufferLimit(t *testing.T) {
	forEachTransport(t, Config{}, func(t *testing.T, ts *testServer) {
		c := ts.raw(t)
		def := "normal 268435456 67108864 60 slave 268435456 67108864 60 pubsub 268435456 67108864 60"
		if got := c.do(t, "CONFIG", "GET", "client-output-buffer-limit"); got != arrR(bulkR("client-output-buffer-limit"), bulkR(def)) {
			t.Fatalf("CONFIG GET: %q", got)
		}
		val := strings.Repeat("v", 100<<10)
		if got := c.do(t, "SET", "mid", val); got != okR {
			t.Fatalf("SET: %q", got)
		}
		mget := []string{"MGET"}
		for range 20 { // 2 MB
			mget = append(mget, "mid")
		}
		if got := c.do(t, mget...); !strings.HasPrefix(got, "*20\r\n") {
			t.Fatalf("MGET of 2 MB under the default limit: %.40q", got)
		}
		if got := c.do(t, "CONFIG", "SET", "client-output-buffer-limit", "normal 1mb 512kb 10"); got != okR {
			t.Fatalf("CONFIG SET: %q", got)
		}
		want := "normal 1048576 524288 10 slave 1048576 524288 10 pubsub 1048576 524288 10"
		if got := c.do(t, "CONFIG", "GET", "client-output-buffer-limit"); got != arrR(bulkR("client-output-buffer-limit"), bulkR(want)) {
			t.Fatalf("CONFIG GET after SET: %q", got)
		}
		if got := c.do(t, mget...); got != errR("ERR reply dropped: larger than the output buffer hard limit") {
			t.Fatalf("MGET of 2 MB under a 1 MiB limit set at run time: %.40q", got)
		}
		for _, bad := range []string{"normal 1mb 512kb", "normal 1mb 512kb 10 pubsub 2mb 512kb 10", "other 1mb 512kb 10", "normal x 512kb 10", "normal 1mb 512kb -1"} {
			if got := c.do(t, "CONFIG", "SET", "client-output-buffer-limit", bad); !strings.HasPrefix(got, "-ERR") {
				t.Errorf("CONFIG SET client-output-buffer-limit %q: %q, want an error", bad, got)
			}
		}
		if got := c.do(t, "CONFIG", "GET", "client-output-buffer-limit"); got != arrR(bulkR("client-output-buffer-limit"), bulkR(want)) {
			t.Fatalf("CONFIG GET after refused SETs: %q", got)
		}
		if got := c.do(t, "CONFIG", "SET", "client-output-buffer-limit", "normal 0 0 0 replica 0 0 0"); got != okR {
			t.Fatalf("CONFIG SET no limits: %q", got)
		}
		if got := c.do(t, mget...); !strings.HasPrefix(got, "*20\r\n") {
			t.Fatalf("MGET of 2 MB with no limit: %.40q", got)
		}
	})
}
