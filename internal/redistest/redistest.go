// Package redistest starts a scratch redis-server 7.0 for the tests that
// compare ringdb's replies with Redis's (fuzz's differential tests,
// server's compatibility tables).
package redistest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Bin returns the path of redis-server. Without one the test skips, or
// fails when RINGDB_REQUIRE_REDIS is set: .ci/run installs redis-server
// and sets it, so CI never skips a comparison.
func Bin(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("RINGDB_REQUIRE_REDIS") != "" {
			t.Fatalf("redis-server not found and RINGDB_REQUIRE_REDIS is set: %v", err)
		}
		t.Skip("redis-server not installed (apt-get install redis-server); .ci/run installs it")
	}
	return bin
}

// Start starts bin (Bin's redis-server) with persistence off, listening
// on a Unix socket in a temporary directory only (a TCP port picked in
// advance could be taken by another test meanwhile), and returns the
// socket's path once it answers. The server is killed when the test ends,
// or with the test process (on Linux). It fails, or skips unless
// RINGDB_REQUIRE_REDIS is set, when the server is not Redis 7.0: the
// expected replies are 7.0's (later versions changed some, such as SET
// with a past deadline).
func Start(t testing.TB, bin string) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "redis.sock")
	cmd := exec.Command(bin, "--port", "0", "--unixsocket", sock, "--unixsocketperm", "700",
		"--save", "", "--appendonly", "no", "--daemonize", "no")
	cmd.SysProcAttr = procAttr() // killed with the test process
	if err := cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	var c net.Conn
	var err error
	for deadline := time.Now().Add(10 * time.Second); ; {
		if c, err = net.DialTimeout("unix", sock, time.Second); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server did not listen on %s: %v", sock, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	info, err := infoServer(c)
	c.Close() // tests' CLIENT KILL counts the other clients
	if err != nil {
		t.Fatalf("redis-server INFO: %v", err)
	}
	version := ""
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "redis_version:"); ok {
			version = v
		}
	}
	if !strings.HasPrefix(version, "7.0.") {
		msg := fmt.Sprintf("%s is Redis %q; the expected replies are Redis 7.0's", bin, version)
		if os.Getenv("RINGDB_REQUIRE_REDIS") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return sock
}

// infoServer sends INFO server on c and returns the bulk string it gets.
func infoServer(c net.Conn) (string, error) {
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, "*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n"); err != nil {
		return "", err
	}
	r := bufio.NewReader(c)
	head, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(head, "$"), "\r\n"))
	if !strings.HasPrefix(head, "$") || err != nil || n < 0 || n > 1<<20 {
		return "", fmt.Errorf("reply %q is not a bulk string", head)
	}
	b := make([]byte, n+2)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", err
	}
	return string(b[:n]), nil
}
