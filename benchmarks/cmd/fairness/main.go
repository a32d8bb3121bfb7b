// Command fairness measures what one client's pipeline of large replies
// does to the other clients of a server: it stores one value of -size
// bytes, then sends -n pipelined GETs of it -rounds times, reading every
// reply as fast as it can, while -pingers other connections each send
// PING, wait for the reply and pause 200 µs, all the while. It prints the
// pipeline's rate and the PING latencies seen meanwhile. Used by
// fairness-vs-redis.sh.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:6379", "server address")
	size := flag.Int("size", 2<<20, "value size in bytes")
	n := flag.Int("n", 200, "pipelined GETs per round")
	pingers := flag.Int("pingers", 8, "PINGing connections")
	rounds := flag.Int("rounds", 4, "pipelines sent, one after another")
	flag.Parse()
	if err := run(*addr, *size, *n, *pingers, *rounds); err != nil {
		fmt.Fprintln(os.Stderr, "fairness:", err)
		os.Exit(1)
	}
}

func run(addr string, size, n, pingers, rounds int) error {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	r := bufio.NewReaderSize(c, 1<<20)
	const key = "fairness:big"
	set := fmt.Appendf(nil, "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n", len(key), key, size)
	set = append(append(set, make([]byte, size)...), "\r\n"...)
	if _, err := c.Write(set); err != nil {
		return err
	}
	if line, err := r.ReadString('\n'); err != nil || line != "+OK\r\n" {
		return fmt.Errorf("SET: %q %v", line, err)
	}

	var stop atomic.Bool
	var mu sync.Mutex
	var lats []time.Duration
	var wg sync.WaitGroup
	errs := make(chan error, pingers)
	for range pingers {
		pc, err := net.Dial("tcp", addr)
		if err != nil {
			return err
		}
		defer pc.Close()
		wg.Add(1)
		go func() {
			defer wg.Done()
			pr := bufio.NewReader(pc)
			for !stop.Load() {
				t0 := time.Now()
				if _, err := pc.Write([]byte("PING\r\n")); err != nil {
					errs <- err
					return
				}
				if _, err := pr.ReadString('\n'); err != nil {
					errs <- err
					return
				}
				d := time.Since(t0)
				mu.Lock()
				lats = append(lats, d)
				mu.Unlock()
				time.Sleep(200 * time.Microsecond)
			}
		}()
	}
	time.Sleep(100 * time.Millisecond)

	var req []byte
	for range n {
		req = fmt.Appendf(req, "*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n", len(key), key)
	}
	reply := int64(n) * int64(len("$"+strconv.Itoa(size)+"\r\n")+size+2)
	var took time.Duration
	for range rounds {
		t0 := time.Now()
		if _, err := c.Write(req); err != nil {
			return err
		}
		if _, err := io.CopyN(io.Discard, r, reply); err != nil {
			return err
		}
		took += time.Since(t0)
		time.Sleep(50 * time.Millisecond)
	}
	stop.Store(true)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
	}
	if len(lats) == 0 {
		return fmt.Errorf("no PING answered")
	}
	slices.Sort(lats)
	q := func(p float64) float64 { return float64(lats[int(float64(len(lats)-1)*p)].Microseconds()) / 1000 }
	fmt.Printf("pipeline_mb_s %.0f ping_n %d ping_p50_ms %.3f ping_p99_ms %.3f ping_p999_ms %.3f ping_max_ms %.3f\n",
		float64(rounds)*float64(reply)/took.Seconds()/1e6, len(lats), q(0.5), q(0.99), q(0.999), q(1))
	return nil
}
