//go:build unix

package main

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestBrokenLogPipeDoesNotKillServer: with stderr a pipe whose reader has
// gone (`ringdb-server 2>&1 | some-log-shipper` and the shipper exits),
// the next log line raised SIGPIPE, which Go turns into the process's
// death on fd 2: every key gone for a log line. Redis ignores SIGPIPE;
// the server now does too and goes on serving.
func TestBrokenLogPipeDoesNotKillServer(t *testing.T) {
	bin := buildServer(t)
	addr := freeAddr(t)
	r, w, err := os.Pipe()
	require.NoError(t, err)
	cmd := exec.Command(bin, "--listen", addr, "--maxmemory", "64MiB", "--metrics-listen", "off")
	cmd.Stderr = w
	require.NoError(t, cmd.Start())
	w.Close()
	defer cmd.Process.Kill()
	conn := dialRetry(t, addr)
	defer conn.Close()
	require.NoError(t, r.Close()) // the log reader goes away

	// SHUTDOWN SAVE is refused with a warning in the log: a log line.
	br := bufio.NewReader(conn)
	_, err = conn.Write([]byte("*2\r\n$8\r\nSHUTDOWN\r\n$4\r\nSAVE\r\n"))
	require.NoError(t, err)
	line, err := br.ReadString('\n')
	require.NoError(t, err, "the server died when it logged to a broken pipe")
	require.Equal(t, "-ERR", line[:4])

	_, err = conn.Write([]byte("*1\r\n$4\r\nPING\r\n"))
	require.NoError(t, err)
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err = br.ReadString('\n')
	require.NoError(t, err, "the server died when it logged to a broken pipe")
	require.Equal(t, "+PONG\r\n", line)

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("exit after SIGTERM: %v", ee)
		}
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("still running 5 s after SIGTERM")
	}
}

// TestHangupDoesNotKillServer: SIGHUP (the terminal or SSH session the
// server was started from going away) leaves it serving, as Redis
// ignores it; SIGTERM still stops it.
func TestHangupDoesNotKillServer(t *testing.T) {
	bin := buildServer(t)
	addr := freeAddr(t)
	cmd := exec.Command(bin, "--listen", addr, "--maxmemory", "64MiB", "--metrics-listen", "off")
	require.NoError(t, cmd.Start())
	defer cmd.Process.Kill()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	conn := dialRetry(t, addr)
	defer conn.Close()
	br := bufio.NewReader(conn)

	require.NoError(t, cmd.Process.Signal(syscall.SIGHUP))
	select {
	case err := <-done:
		t.Fatalf("the server exited on SIGHUP: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	_, err := conn.Write([]byte("*1\r\n$4\r\nPING\r\n"))
	require.NoError(t, err)
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := br.ReadString('\n')
	require.NoError(t, err, "the server died of SIGHUP")
	require.Equal(t, "+PONG\r\n", line)

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("still running 5 s after SIGTERM")
	}
}
