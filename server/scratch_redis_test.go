package server

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// compareRedis returns a client of the Redis 7.0 that the *AgainstRedis
// tests prove their tables against: the one RINGDB_COMPARE_REDIS names
// (host:port; it is flushed), or else a scratch redis-server started for
// the test on a Unix socket, persistence off. Without redis-server the
// test skips, or fails when RINGDB_REQUIRE_REDIS is set (.ci/run sets it
// and installs redis-server), so CI never skips the comparison.
func compareRedis(t *testing.T) *netClient {
	t.Helper()
	if addr := os.Getenv("RINGDB_COMPARE_REDIS"); addr != "" {
		return dialRaw(t, addr)
	}
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("RINGDB_REQUIRE_REDIS") != "" {
			t.Fatalf("redis-server not found and RINGDB_REQUIRE_REDIS is set: %v", err)
		}
		t.Skip("redis-server not installed (apt-get install redis-server), nor RINGDB_COMPARE_REDIS set; .ci/run installs it")
	}
	// A Unix socket in a temporary directory: a TCP port picked in
	// advance could be taken by another test meanwhile.
	sock := filepath.Join(t.TempDir(), "redis.sock")
	cmd := exec.Command(bin, "--port", "0", "--unixsocket", sock, "--unixsocketperm", "700",
		"--save", "", "--appendonly", "no", "--daemonize", "no")
	cmd.SysProcAttr = scratchProcAttr() // killed with the test process
	if err := cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	var c net.Conn
	for deadline := time.Now().Add(10 * time.Second); ; {
		if c, err = net.DialTimeout("unix", sock, time.Second); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server did not listen on %s: %v", sock, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Cleanup(func() { c.Close() })
	n := &netClient{conn: c, r: bufio.NewReader(c)}
	// The tables hold Redis 7.0's replies; later versions changed some.
	info := n.do(t, "INFO", "server")
	if !strings.Contains(info, "redis_version:7.0.") {
		msg := bin + " is not Redis 7.0; the tables hold 7.0's replies"
		if os.Getenv("RINGDB_REQUIRE_REDIS") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return n
}
