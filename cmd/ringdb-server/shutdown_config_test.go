package main

import (
	"bufio"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// README: "A bad value prints a message and exits with status 2." That
// includes a --listen or --metrics-listen value no listener could bind,
// which once passed validation and failed in Run with status 1.
func TestBadListenAddressExits2(t *testing.T) {
	bin := buildServer(t)
	for _, args := range [][]string{
		{"--listen", "notanaddress", "--metrics-listen", ""},
		{"--listen", "127.0.0.1:99999", "--metrics-listen", ""},
		{"--listen", freeAddr(t), "--metrics-listen", "bogus"},
	} {
		args = append(args, "--maxmemory", "64MiB")
		out, err := exec.Command(bin, args...).CombinedOutput()
		var ee *exec.ExitError
		require.True(t, errors.As(err, &ee), "%v: %s", args, out)
		if ee.ExitCode() != 2 {
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			t.Errorf("%v: exit status %d, want 2 (last line: %s)", args, ee.ExitCode(), lines[len(lines)-1])
		}
	}
}

// README: "SIGINT or SIGTERM: the server stops accepting, finishes the
// replies in flight and exits 0 within 5 seconds", also with a client that
// has stopped reading its replies (it is dropped after the drain time; it
// once made the server wait the whole 5 s and exit 1).
func TestSIGTERMWithStalledReaderExits0Within5s(t *testing.T) {
	bin := buildServer(t)
	for _, tr := range []string{"gnet", "std"} {
		addr := freeAddr(t)
		cmd := exec.Command(bin, "--listen", addr, "--transport", tr, "--maxmemory", "512MiB", "--metrics-listen", "")
		require.NoError(t, cmd.Start())
		conn := dialRetry(t, addr)
		val := strings.Repeat("x", 1<<20)
		_, err := fmt.Fprintf(conn, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$%d\r\n%s\r\n", len(val), val)
		require.NoError(t, err)
		line, err := bufio.NewReader(conn).ReadString('\n')
		require.NoError(t, err)
		require.Equal(t, "+OK\r\n", line)
		// 100 replies of 1 MiB that the client never reads (under the
		// 256 MiB hard output limit).
		_, err = conn.Write([]byte(strings.Repeat("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", 100)))
		require.NoError(t, err)
		time.Sleep(500 * time.Millisecond)

		start := time.Now()
		require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			took := time.Since(start)
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			}
			if code != 0 || took > 5*time.Second {
				t.Errorf("%s: exit status %d after %v, want 0 within 5s", tr, code, took.Round(10*time.Millisecond))
			}
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("%s: still running 10 s after SIGTERM", tr)
		}
		conn.Close()
	}
}
