package main

import (
	"bufio"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// serverBuild is the ringdb-server binary the tests run, built once for
// the package: go build links it anew on every call (the build cache
// keeps no linked binaries), 1.5-3 s each on a loaded 2-core host, and a
// dozen tests asked for it.
var serverBuild struct {
	once sync.Once
	dir  string
	bin  string
	out  []byte
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if serverBuild.dir != "" {
		os.RemoveAll(serverBuild.dir)
	}
	os.Exit(code)
}

// buildServer returns the path of the ringdb-server binary, built from
// this package on the first call. Tests only run it: none may change it.
func buildServer(t *testing.T) string {
	t.Helper()
	b := &serverBuild
	b.once.Do(func() {
		b.dir, b.err = os.MkdirTemp("", "ringdb-server-test-")
		if b.err != nil {
			return
		}
		b.bin = filepath.Join(b.dir, "ringdb-server")
		b.out, b.err = exec.Command("go", "build", "-o", b.bin, ".").CombinedOutput()
	})
	require.NoError(t, b.err, string(b.out))
	return b.bin
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}

// The binary serves RESP, and SIGTERM stops it with exit status 0 in 5 s.
func TestServerStartsAndStopsOnSignal(t *testing.T) {
	bin := buildServer(t)
	for _, tr := range []string{"gnet", "std"} {
		addr := freeAddr(t)
		cmd := exec.Command(bin, "--listen", addr, "--transport", tr, "--maxmemory", "64MiB", "--metrics-listen", "")
		cmd.Stderr = os.Stderr
		require.NoError(t, cmd.Start())
		conn := dialRetry(t, addr)
		_, err := conn.Write([]byte("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"))
		require.NoError(t, err)
		r := bufio.NewReader(conn)
		line, err := r.ReadString('\n')
		require.NoError(t, err)
		require.Equal(t, "+OK\r\n", line, tr)
		line, _ = r.ReadString('\n')
		require.Equal(t, "$1\r\n", line, tr)
		conn.Close()

		require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			require.NoError(t, err, "%s: exit status after SIGTERM", tr)
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("%s: still running 5 s after SIGTERM", tr)
		}
	}
}

func TestBadConfigurationExits2(t *testing.T) {
	bin := buildServer(t)
	for _, args := range [][]string{
		{"--maxmemory", "lots"},
		{"--eviction", "random"},
		{"--tls-cert", "/nonexistent.pem", "--tls-key", "/nonexistent.key"},
	} {
		cmd := exec.Command(bin, args...)
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		require.True(t, errors.As(err, &ee), "%v: %s", args, out)
		require.Equal(t, 2, ee.ExitCode(), "%v: %s", args, out)
		require.NotEmpty(t, out, "a clear message")
	}
	out, err := exec.Command(bin, "--version").CombinedOutput()
	require.NoError(t, err)
	require.Contains(t, string(out), "ringdb-server")
}

// dialRetry connects to addr, retrying for 5 s while the server starts.
func dialRetry(t *testing.T, addr string) net.Conn {
	t.Helper()
	var conn net.Conn
	var err error
	for i := 0; i < 100; i++ {
		if conn, err = net.Dial("tcp", addr); err == nil {
			return conn
		}
		time.Sleep(50 * time.Millisecond)
	}
	require.NoError(t, err, "server did not listen")
	return nil
}
