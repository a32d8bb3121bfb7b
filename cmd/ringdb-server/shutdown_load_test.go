package main

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/ringdb/ringdb/internal/testcert"
)

// writeSelfSigned writes a self-signed certificate for 127.0.0.1 and its
// key to dir, returning their paths.
func writeSelfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	return testcert.Valid(t).Write(t, dir)
}

// exitCode waits for cmd for up to limit and returns its exit status and
// how long it took after start.
func exitCode(t *testing.T, cmd *exec.Cmd, start time.Time, limit time.Duration) (int, time.Duration) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), time.Since(start)
		}
		require.NoError(t, err)
		return 0, time.Since(start)
	case <-time.After(limit):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("still running %v after the signal", limit)
		return -1, 0
	}
}

// TestShutdownUnderLoad: SIGTERM while pipelining clients write (INCR, so
// that every reply is the next integer), idle clients wait, a client reads
// none of its replies and /metrics is scraped; on gnet, std and std with
// TLS. The server exits 0 within 5 s, and every client that keeps reading
// gets a gapless run of replies ending at a reply boundary with a clean
// EOF (a reset would mean executed writes whose replies were dropped).
func TestShutdownUnderLoad(t *testing.T) {
	bin := buildServer(t)
	certFile, keyFile := writeSelfSigned(t, t.TempDir())
	for _, mode := range []string{"gnet", "std", "std+tls"} {
		t.Run(mode, func(t *testing.T) {
			addr, maddr := freeAddr(t), freeAddr(t)
			args := []string{"--listen", addr, "--metrics-listen", maddr, "--maxmemory", "256MiB"}
			var tlsCfg *tls.Config
			if mode == "std+tls" {
				args = append(args, "--tls-cert", certFile, "--tls-key", keyFile)
				tlsCfg = &tls.Config{InsecureSkipVerify: true}
			} else {
				args = append(args, "--transport", mode)
			}
			cmd := exec.Command(bin, args...)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			require.NoError(t, cmd.Start())
			dial := func() net.Conn {
				c := dialRetry(t, addr)
				if tlsCfg != nil {
					tc := tls.Client(c, tlsCfg)
					require.NoError(t, tc.Handshake())
					return tc
				}
				return c
			}

			// A client that never reads: 64 replies of 1 MiB.
			stalled := dial()
			defer stalled.Close()
			val := strings.Repeat("x", 1<<20)
			_, err := fmt.Fprintf(stalled, "*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$%d\r\n%s\r\n", len(val), val)
			require.NoError(t, err)
			_, err = stalled.Write([]byte(strings.Repeat("*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n", 64)))
			require.NoError(t, err)

			var idle []net.Conn
			for range 4 {
				c := dial()
				defer c.Close()
				idle = append(idle, c)
			}

			const writers = 8
			type result struct {
				n   int
				err error
			}
			results := make(chan result, writers)
			for i := range writers {
				c := dial()
				defer c.Close()
				key := "ctr" + strconv.Itoa(i)
				req := fmt.Sprintf("*2\r\n$4\r\nINCR\r\n$%d\r\n%s\r\n", len(key), key)
				const depth = 64
				batch := []byte(strings.Repeat(req, depth))
				// At most 4 batches in flight, so that a client that reads
				// has little left to read at the signal.
				window := make(chan struct{}, 4)
				go func() {
					for {
						window <- struct{}{}
						if _, err := c.Write(batch); err != nil {
							return
						}
					}
				}()
				go func() {
					r := bufio.NewReader(c)
					n := 0
					for {
						line, err := r.ReadString('\n')
						if err != nil {
							if line != "" {
								err = fmt.Errorf("partial reply %q: %w", line, err)
							}
							results <- result{n, err}
							return
						}
						if line != ":"+strconv.Itoa(n+1)+"\r\n" {
							results <- result{n, fmt.Errorf("reply %d: %q", n+1, line)}
							return
						}
						n++
						if n%depth == 0 {
							<-window
						}
					}
				}()
			}

			scrapeErr := make(chan error, 1)
			stopScrape := make(chan struct{})
			go func() {
				defer close(scrapeErr)
				for {
					select {
					case <-stopScrape:
						return
					default:
					}
					resp, err := http.Get("http://" + maddr + "/metrics")
					if err != nil {
						continue // the endpoint is gone once shutdown starts
					}
					b, err := io.ReadAll(resp.Body)
					resp.Body.Close()
					if err != nil {
						continue
					}
					p := expfmt.NewTextParser(model.UTF8Validation)
					if _, err := p.TextToMetricFamilies(strings.NewReader(string(b))); err != nil {
						scrapeErr <- fmt.Errorf("parse /metrics: %v", err)
						return
					}
				}
			}()

			time.Sleep(time.Second)
			resp, err := http.Get("http://" + maddr + "/metrics")
			require.NoError(t, err)
			parser := expfmt.NewTextParser(model.UTF8Validation)
			fams, err := parser.TextToMetricFamilies(resp.Body)
			resp.Body.Close()
			require.NoError(t, err)
			for _, name := range []string{"ringdb_commands_total", "ringdb_network_inbound_bytes_total", "ringdb_network_outbound_bytes_total", "ringdb_cache_hits_total"} {
				require.Contains(t, fams, name)
			}
			start := time.Now()
			require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
			code, took := exitCode(t, cmd, start, 10*time.Second)
			close(stopScrape)
			if code != 0 || took > 5*time.Second {
				t.Errorf("exit status %d after %v, want 0 within 5s\n%s", code, took, stderr.String())
			}
			for range writers {
				select {
				case r := <-results:
					if !errors.Is(r.err, io.EOF) {
						t.Errorf("pipelining client: after %d replies: %v", r.n, r.err)
					} else if r.n == 0 {
						t.Errorf("pipelining client got no replies")
					}
				case <-time.After(5 * time.Second):
					t.Fatalf("a pipelining client did not see the connection end")
				}
			}
			for _, c := range idle {
				_ = c.SetReadDeadline(time.Now().Add(time.Second))
				if _, err := c.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
					t.Errorf("idle client: %v, want EOF", err)
				}
			}
			if err := <-scrapeErr; err != nil {
				t.Error(err)
			}
		})
	}
}

// A --listen or --metrics-listen address that cannot be bound (in use
// here) is bad configuration: exit status 2 and a message naming the
// flag. It used to exit 1 with gnet's bare "bind: address already in use",
// which named neither the flag nor the address.
func TestListenInUseExits2(t *testing.T) {
	bin := buildServer(t)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	for _, tr := range []string{"gnet", "std"} {
		for _, args := range [][]string{
			{"--listen", busy.Addr().String(), "--metrics-listen", "off"},
			{"--listen", freeAddr(t), "--metrics-listen", busy.Addr().String()},
		} {
			args = append(args, "--transport", tr, "--maxmemory", "64MiB")
			out, err := exec.Command(bin, args...).CombinedOutput()
			var ee *exec.ExitError
			require.True(t, errors.As(err, &ee), "%v: %s", args, out)
			if ee.ExitCode() != 2 || !strings.Contains(string(out), args[0]+" "+args[1]) && !strings.Contains(string(out), args[2]+" "+args[3]) {
				t.Errorf("%v: exit status %d, output %q; want 2 and the flag named", args, ee.ExitCode(), out)
			}
		}
	}
}
