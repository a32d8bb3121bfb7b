package server

import (
	"bufio"
	"net"
	"os"
	"testing"
	"time"

	"github.com/ringdb/ringdb/internal/redistest"
)

// compareRedis returns a client of the Redis 7.0 that the *AgainstRedis
// tests prove their tables against: the one RINGDB_COMPARE_REDIS names
// (host:port; it is flushed), or else a scratch redis-server started for
// the test (redistest: it skips without one, or fails under
// RINGDB_REQUIRE_REDIS, as .ci/run sets, so CI never skips the
// comparison).
func compareRedis(t *testing.T) *netClient {
	t.Helper()
	return compareRedisDialer(t)(t)
}

// compareRedisDialer is compareRedis for a test that needs several
// clients of the same Redis: each call of the function it returns opens
// one more, closed when the test ends.
func compareRedisDialer(t *testing.T) func(t testing.TB) *netClient {
	t.Helper()
	if addr := os.Getenv("RINGDB_COMPARE_REDIS"); addr != "" {
		return func(t testing.TB) *netClient { return dialRaw(t, addr) }
	}
	sock := redistest.Start(t, redistest.Bin(t))
	return func(t testing.TB) *netClient {
		t.Helper()
		c, err := net.DialTimeout("unix", sock, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return &netClient{conn: c, r: bufio.NewReader(c)}
	}
}
