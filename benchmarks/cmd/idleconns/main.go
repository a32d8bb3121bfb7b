// Command idleconns measures what idle connections cost a server: it reads
// the server's VmRSS, opens n TCP connections that each send one PING and read
// the reply, waits -settle, reads VmRSS again, then checks that every
// connection still answers a second PING before closing them all. It also
// reports the server's CPU time per second over the second half of the
// wait, with the connections open and idle (idle_cpu_ms_per_s).
//
//	idleconns -addr 127.0.0.1:6379 -pid 1234 -n 10000
//
// It prints one line of key=value pairs. The exit status is 0 when every
// connection got +PONG both times, 3 when some were refused or dropped (the
// first error is printed), and 1 on other failures.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

const ping = "*1\r\n$4\r\nPING\r\n"

func main() {
	addr := flag.String("addr", "127.0.0.1:6379", "server address")
	pid := flag.Int("pid", 0, "server process id, for /proc/PID/status")
	n := flag.Int("n", 10000, "connections to open")
	workers := flag.Int("workers", 16, "connections opened concurrently")
	settle := flag.Duration("settle", 3*time.Second, "wait before reading RSS with the connections open")
	flag.Parse()
	if *pid <= 0 {
		fmt.Fprintln(os.Stderr, "idleconns: -pid is required")
		os.Exit(1)
	}
	code, err := run(*addr, *pid, *n, max(*workers, 1), *settle)
	if err != nil {
		fmt.Fprintln(os.Stderr, "idleconns:", err)
	}
	os.Exit(code)
}

type held struct {
	conn net.Conn
	r    *bufio.Reader
}

func run(addr string, pid, n, workers int, settle time.Duration) (int, error) {
	before, err := rss(pid)
	if err != nil {
		return 1, err
	}
	conns := make([]held, n)
	var (
		mu       sync.Mutex
		failed   int
		firstErr error
		next     = make(chan int)
		wg       sync.WaitGroup
	)
	fail := func(i int, err error) {
		mu.Lock()
		defer mu.Unlock()
		failed++
		if firstErr == nil {
			firstErr = fmt.Errorf("connection %d: %w", i+1, err)
		}
	}
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				c, err := net.DialTimeout("tcp", addr, 10*time.Second)
				if err != nil {
					fail(i, err)
					continue
				}
				h := held{conn: c, r: bufio.NewReaderSize(c, 64)}
				if err := pingOnce(h); err != nil {
					c.Close()
					fail(i, err)
					continue
				}
				conns[i] = h
			}
		}()
	}
	start := time.Now()
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	opened := time.Since(start)

	// The server's CPU time over the second half of the wait, with every
	// connection open and idle: what holding them costs it.
	time.Sleep(settle / 2)
	cpu0, err := cpuTicks(pid)
	if err != nil {
		return 1, err
	}
	t0 := time.Now()
	time.Sleep(settle - settle/2)
	cpu1, err := cpuTicks(pid)
	if err != nil {
		return 1, err
	}
	idleCPU := float64(cpu1-cpu0) * 1000 / userHZ / time.Since(t0).Seconds()
	after, err := rss(pid)
	if err != nil {
		return 1, err
	}
	threads, _ := statusField(pid, "Threads:")

	// Every connection that got +PONG must still answer.
	dropped := 0
	var dropErr error
	for i, h := range conns {
		if h.conn == nil {
			continue
		}
		if err := pingOnce(h); err != nil {
			dropped++
			if dropErr == nil {
				dropErr = fmt.Errorf("connection %d on re-check: %w", i+1, err)
			}
		}
		h.conn.Close()
	}
	ok := n - failed
	perConn := 0.0
	if ok > 0 {
		perConn = float64(after-before) / float64(ok)
	}
	fmt.Printf("conns=%d ok=%d refused=%d dropped=%d open_seconds=%.2f rss_before=%d rss_after=%d rss_per_conn=%.0f server_threads=%s idle_cpu_ms_per_s=%.1f\n",
		n, ok, failed, dropped, opened.Seconds(), before, after, perConn, threads, idleCPU)
	switch {
	case firstErr != nil:
		return 3, firstErr
	case dropErr != nil:
		return 3, dropErr
	}
	return 0, nil
}

func pingOnce(h held) error {
	h.conn.SetDeadline(time.Now().Add(10 * time.Second))
	defer h.conn.SetDeadline(time.Time{})
	if _, err := h.conn.Write([]byte(ping)); err != nil {
		return err
	}
	line, err := h.r.ReadString('\n')
	if err != nil {
		return err
	}
	if line != "+PONG\r\n" {
		return errors.New("reply " + strconv.Quote(line))
	}
	return nil
}

// userHZ is the unit of the CPU times in /proc/PID/stat (USER_HZ, 100 on
// Linux whatever the kernel's own tick).
const userHZ = 100

// cpuTicks returns utime+stime of pid from /proc/PID/stat, in userHZ.
func cpuTicks(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name, in parentheses, may hold spaces: fields count
	// from after its closing one (state is field 3, utime 14, stime 15).
	i := strings.LastIndexByte(string(b), ')')
	f := strings.Fields(string(b[i+1:]))
	if i < 0 || len(f) < 13 {
		return 0, errors.New("short /proc/" + strconv.Itoa(pid) + "/stat")
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	s, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return u + s, nil
}

// rss returns VmRSS of pid in bytes.
func rss(pid int) (int64, error) {
	v, err := statusField(pid, "VmRSS:")
	if err != nil {
		return 0, err
	}
	kb, err := strconv.ParseInt(strings.TrimSuffix(v, " kB"), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("VmRSS %q: %w", v, err)
	}
	return kb << 10, nil
}

func statusField(pid int, name string) (string, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return "", err
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, name); ok {
			return strings.TrimSpace(v), nil
		}
	}
	return "", errors.New(name + " not in /proc/" + strconv.Itoa(pid) + "/status")
}
