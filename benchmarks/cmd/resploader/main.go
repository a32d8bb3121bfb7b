// Command resploader loads n string keys into a RESP server over one
// connection: SET key:%012d <value>, pipelined in batches, every reply checked
// to be +OK. Keys are 16 bytes and values -size bytes of printable bytes that
// differ per key, so neither server can share them.
//
//	resploader -addr 127.0.0.1:6379 -n 1048576 -size 64 -pipeline 1000
//
// It prints one line: keys sent, seconds, and the server's DBSIZE afterwards.
// Any reply other than +OK makes it exit 1 after printing the first one.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:6379", "server address")
	n := flag.Int("n", 1<<20, "keys to set")
	size := flag.Int("size", 64, "value size in bytes")
	pipeline := flag.Int("pipeline", 1000, "requests per pipelined batch")
	flag.Parse()
	if err := run(*addr, *n, *size, max(*pipeline, 1)); err != nil {
		fmt.Fprintln(os.Stderr, "resploader:", err)
		os.Exit(1)
	}
}

func run(addr string, n, size, pipeline int) error {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	r := bufio.NewReaderSize(conn, 64<<10)
	start := time.Now()
	var buf []byte
	val := make([]byte, size)
	for first := 0; first < n; first += pipeline {
		last := min(first+pipeline, n)
		buf = buf[:0]
		for i := first; i < last; i++ {
			fillValue(val, uint64(i))
			buf = appendSet(buf, i, val)
		}
		if _, err := conn.Write(buf); err != nil {
			return fmt.Errorf("write at key %d: %w", first, err)
		}
		for i := first; i < last; i++ {
			line, err := r.ReadSlice('\n')
			if err != nil {
				return fmt.Errorf("reply to key %d: %w", i, err)
			}
			if !bytes.Equal(line, []byte("+OK\r\n")) {
				return fmt.Errorf("reply to SET key:%012d: %q", i, line)
			}
		}
	}
	elapsed := time.Since(start)
	dbsize, err := command(conn, r, "DBSIZE")
	if err != nil {
		return err
	}
	fmt.Printf("keys=%d key_bytes=16 value_bytes=%d seconds=%.2f dbsize=%s\n", n, size, elapsed.Seconds(), dbsize)
	return nil
}

// appendSet appends SET key:%012d val as a RESP array.
func appendSet(b []byte, i int, val []byte) []byte {
	b = append(b, "*3\r\n$3\r\nSET\r\n$16\r\nkey:"...)
	var digits [12]byte
	s := strconv.AppendInt(digits[:0], int64(i), 10)
	for range 12 - len(s) {
		b = append(b, '0')
	}
	b = append(b, s...)
	b = append(b, "\r\n$"...)
	b = strconv.AppendInt(b, int64(len(val)), 10)
	b = append(b, "\r\n"...)
	b = append(b, val...)
	return append(b, "\r\n"...)
}

// fillValue writes printable bytes derived from seed (splitmix64) into v.
func fillValue(v []byte, seed uint64) {
	x := seed
	for i := 0; i < len(v); i += 8 {
		x += 0x9e3779b97f4a7c15
		z := x
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		z ^= z >> 31
		for j := i; j < min(i+8, len(v)); j++ {
			v[j] = 'a' + byte(z%26)
			z >>= 8
		}
	}
}

// command sends one argument-less command and returns its integer or
// simple-string reply.
func command(conn net.Conn, r *bufio.Reader, name string) (string, error) {
	req := "*1\r\n$" + strconv.Itoa(len(name)) + "\r\n" + name + "\r\n"
	if _, err := conn.Write([]byte(req)); err != nil {
		return "", err
	}
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	if len(line) < 3 || (line[0] != ':' && line[0] != '+') {
		return "", errors.New(name + ": unexpected reply " + strconv.Quote(line))
	}
	return line[1 : len(line)-2], nil
}
