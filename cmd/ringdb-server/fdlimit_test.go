package main

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestClientsPastOpenFileLimit: with a low open-file limit (ulimit -n 128),
// clients connecting one after another past it used to make accept fail
// with EMFILE, and gnet then stopped the whole server. Now maxclients is
// reduced to fit, as in Redis: the clients past it are refused or closed,
// and the server keeps serving.
func TestClientsPastOpenFileLimit(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("needs sh for ulimit")
	}
	bin := buildServer(t)
	for _, tr := range []string{"gnet", "std"} {
		addr, stop := startLowFD(t, bin, tr)

		first := dialRetry(t, addr)
		first.Close()
		var served []net.Conn
		refused := 0
		for i := 0; i < 150; i++ {
			c := dialRetry(t, addr)
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			_, _ = c.Write([]byte("PING\r\n"))
			line, _ := bufio.NewReader(c).ReadString('\n')
			switch {
			case line == "+PONG\r\n":
				served = append(served, c)
				continue
			case line == "" || line == "-ERR max number of clients reached\r\n":
				refused++
			default:
				t.Fatalf("%s: client %d got %q", tr, i, line)
			}
			c.Close()
		}
		require.NotEmpty(t, served, tr)
		require.Positive(t, refused, tr)

		for _, c := range served {
			c.Close()
		}
		// A slot freed by a close is counted free a moment later.
		require.Equal(t, "+PONG\r\n", pingEventually(addr), "%s: still serving", tr)

		stop()
	}
}

// TestClientsBurstPastOpenFileLimit: 300 connections at once at ulimit -n
// 128. gnet's own acceptor took every queued connection before OnOpen
// could close any, failed with EMFILE and stopped the engine: the server
// exited (2 runs in 3). The gnet transport now accepts connections
// itself, backing off while descriptors run out, as std does.
func TestClientsBurstPastOpenFileLimit(t *testing.T) {
	bin := buildServer(t)
	for _, tr := range []string{"gnet", "std"} {
		addr, stop := startLowFD(t, bin, tr)
		first := dialRetry(t, addr)
		first.Close()
		var mu sync.Mutex
		var conns []net.Conn
		var wg sync.WaitGroup
		for g := 0; g < 300; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := net.DialTimeout("tcp", addr, 5*time.Second)
				if err != nil {
					return
				}
				mu.Lock()
				conns = append(conns, c)
				mu.Unlock()
			}()
		}
		wg.Wait()
		time.Sleep(200 * time.Millisecond)
		for _, c := range conns {
			c.Close()
		}
		require.Equal(t, "+PONG\r\n", pingEventually(addr), "%s: still serving after a burst of connections", tr)
		stop()
	}
}

// startLowFD starts the server binary bin with transport tr under
// ulimit -n 128 and returns its address and a function that sends it
// SIGTERM and requires it to exit with status 0 within 10 s.
func startLowFD(t *testing.T, bin, tr string) (string, func()) {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command("sh", "-c", `ulimit -n 128 && exec "$0" "$@"`, bin,
		"--listen", addr, "--transport", tr, "--loops", "1", "--maxmemory", "64MiB", "--metrics-listen", "off")
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	return addr, func() {
		t.Helper()
		require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
		select {
		case err := <-exited:
			require.NoError(t, err, "%s: exit status after SIGTERM", tr)
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatalf("%s: still running 10 s after SIGTERM", tr)
		}
	}
}

// pingEventually sends PING on fresh connections to addr, up to 50 times
// 100 ms apart, until one is answered +PONG, and returns the last line
// read.
func pingEventually(addr string) string {
	var line string
	for i := 0; i < 50 && line != "+PONG\r\n"; i++ {
		if i > 0 {
			time.Sleep(100 * time.Millisecond)
		}
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			continue
		}
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		_, _ = c.Write([]byte("PING\r\n"))
		line, _ = bufio.NewReader(c).ReadString('\n')
		c.Close()
	}
	return line
}
