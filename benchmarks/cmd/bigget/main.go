// Command bigget measures reading one large value from many clients at
// once: it stores a value of -size bytes under one key (unless -noset),
// then -clients connections each GET it -n times, one after another,
// reading every reply to the end and checking its length and bytes; with
// -mget K, each request is instead one MGET naming the key K times. It
// prints the wall time and the rate of value bytes read. With -wait, it
// pauses after the SET (printing "stored") until a line arrives on stdin,
// so that a script can sample the server's memory between the phases.
// Used by big-values-vs-redis.sh.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:6379", "server address")
	size := flag.Int("size", 100<<20, "value size in bytes")
	clients := flag.Int("clients", 4, "connections reading at once")
	n := flag.Int("n", 3, "GETs per connection")
	mget := flag.Int("mget", 0, "if over 0, each request is an MGET naming the key this many times")
	wait := flag.Bool("wait", false, "after the SET, print \"stored\" and wait for a line on stdin")
	flag.Parse()
	if err := run(*addr, *size, *clients, *n, *mget, *wait); err != nil {
		fmt.Fprintln(os.Stderr, "bigget:", err)
		os.Exit(1)
	}
}

const key = "bigget:value"

// pattern is the value's byte at offset i: not all zeroes, so that a reply
// holding the wrong part of the value shows.
func pattern(i int) byte { return byte(i*7 + i>>16) }

func run(addr string, size, clients, n, mget int, wait bool) error {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	val := make([]byte, size)
	for i := range val {
		val[i] = pattern(i)
	}
	set := fmt.Appendf(nil, "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n", len(key), key, size)
	if _, err := c.Write(set); err != nil {
		return err
	}
	if _, err := c.Write(val); err != nil {
		return err
	}
	r := bufio.NewReader(c)
	if _, err := c.Write([]byte("\r\n")); err != nil {
		return err
	}
	if line, err := r.ReadString('\n'); err != nil || line != "+OK\r\n" {
		return fmt.Errorf("SET: %q %v", line, err)
	}
	if wait {
		fmt.Println("stored")
		if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
			return err
		}
	}
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := reader(addr, val, n, mget); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	el := time.Since(start)
	values := clients * n * max(mget, 1)
	total := float64(size) * float64(values)
	fmt.Printf("gets %d  seconds %.3f  MB/s %.0f\n", values, el.Seconds(), total/el.Seconds()/1e6)
	return nil
}

// reader GETs the value n times on its own connection (or MGETs it, named
// mget times), checking each value against want.
func reader(addr string, want []byte, n, mget int) error {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	r := bufio.NewReaderSize(c, 256<<10)
	get := fmt.Appendf(nil, "*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n", len(key), key)
	values := 1
	if mget > 0 {
		get = fmt.Appendf(nil, "*%d\r\n$4\r\nMGET\r\n", mget+1)
		for range mget {
			get = fmt.Appendf(get, "$%d\r\n%s\r\n", len(key), key)
		}
		values = mget
	}
	buf := make([]byte, 256<<10)
	for range n {
		if _, err := c.Write(get); err != nil {
			return err
		}
		if mget > 0 {
			line, err := r.ReadString('\n')
			if err != nil {
				return err
			}
			if want := "*" + strconv.Itoa(mget) + "\r\n"; line != want {
				return fmt.Errorf("MGET: header %q, want %q", line, want)
			}
		}
		for range values {
			if err := readValue(r, want, buf); err != nil {
				return err
			}
		}
	}
	return nil
}

// readValue reads one bulk reply and checks it against want, buf being
// scratch.
func readValue(r *bufio.Reader, want, buf []byte) error {
	line, err := r.ReadString('\n')
	if err != nil {
		return err
	}
	if want := "$" + strconv.Itoa(len(want)) + "\r\n"; line != want {
		return fmt.Errorf("GET: header %q, want %q", line, want)
	}
	for off := 0; off < len(want); {
		k, err := r.Read(buf[:min(len(buf), len(want)-off)])
		if err != nil {
			return err
		}
		if !bytes.Equal(buf[:k], want[off:off+k]) {
			return fmt.Errorf("GET: value differs within bytes %d-%d", off, off+k)
		}
		off += k
	}
	var crlf [2]byte
	if _, err := io.ReadFull(r, crlf[:]); err != nil || crlf != [2]byte{'\r', '\n'} {
		return fmt.Errorf("GET: value not followed by CRLF (%q, %v)", crlf, err)
	}
	return nil
}
