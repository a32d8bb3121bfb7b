package server

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringdb/ringdb/transport/resp"
)

// TestOneLoopManySessionsInterleaved: on one gnet loop (its connections
// share the Writer, the Request and the decoders between requests), many
// sessions pipeline requests cut at random bytes, some parked
// (DEBUG.SLEEPREPLY), some held by CLIENT PAUSE WRITE and served again,
// some GETs of large values written by reference, while a MONITOR client
// gets a line for every command, another client lists, kills and
// inspects sessions (CLIENT LIST, CLIENT KILL, INFO clients) and short
// connections come and go. Every pipelining session must get exactly its
// own replies, in order.
func TestOneLoopManySessionsInterleaved(t *testing.T) {
	t.Parallel()
	ts := startServer(t, TransportGnet, Config{Loops: 1, EnableDebugCommands: true})
	admin := ts.raw(t)
	big := strings.Repeat("B", 200<<10) // past the transport's refMin: written by reference
	if got := admin.do(t, "SET", "big", big); got != "+OK\r\n" {
		t.Fatalf("SET big = %q", got)
	}
	mon := ts.raw(t)
	if got := mon.do(t, "MONITOR"); got != "+OK\r\n" {
		t.Fatalf("MONITOR = %q", got)
	}
	stop := make(chan struct{})
	var bg sync.WaitGroup
	var monLines atomic.Int64
	bg.Add(1)
	go func() { // the monitor reads its feed
		defer bg.Done()
		for {
			_ = mon.conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
			line, err := mon.r.ReadString('\n')
			if err != nil {
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					select {
					case <-stop:
						return
					default:
						continue
					}
				}
				return
			}
			if !strings.HasPrefix(line, "+") {
				t.Errorf("monitor line %q", line)
				return
			}
			monLines.Add(1)
		}
	}()

	const sessions, rounds = 10, 6
	var wg sync.WaitGroup
	errs := make(chan error, sessions+4)
	for si := range sessions {
		c := ts.dial(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := loopShareSession(c, si, rounds, big); err != nil {
				errs <- fmt.Errorf("session %d: %w", si, err)
			}
		}()
	}
	// The churn: short connections, killed or closing by themselves,
	// while an admin lists, kills, pauses and reads INFO.
	bg.Add(1)
	go func() {
		defer bg.Done()
		rng := rand.New(rand.NewSource(7))
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			c, err := net.Dial("tcp", ts.Addr())
			if err != nil {
				errs <- err
				return
			}
			name := "churn" + strconv.Itoa(i)
			_, _ = c.Write(resp.AppendCommand(nil, argvOf([]string{"CLIENT", "SETNAME", name})...))
			_, _ = c.Write(resp.AppendCommand(nil, argvOf([]string{"ECHO", name})...))
			if rng.Intn(2) == 0 {
				_ = c.Close()
				continue
			}
			go func() { // closed by the admin's CLIENT KILL, or after a while
				time.Sleep(20 * time.Millisecond)
				_ = c.Close()
			}()
		}
	}()
	adminErr := make(chan error, 1)
	go func() {
		rng := rand.New(rand.NewSource(11))
		r := bufio.NewReader(admin.conn)
		do := func(args ...string) (string, error) {
			_ = admin.conn.SetDeadline(time.Now().Add(10 * time.Second))
			if _, err := admin.conn.Write(resp.AppendCommand(nil, argvOf(args)...)); err != nil {
				return "", err
			}
			return readReply(r)
		}
		for {
			select {
			case <-stop:
				adminErr <- nil
				return
			default:
			}
			var err error
			var got string
			switch rng.Intn(5) {
			case 0:
				if got, err = do("CLIENT", "LIST"); err == nil && !strings.HasPrefix(got, "$") {
					err = fmt.Errorf("CLIENT LIST = %.100q", got)
				}
			case 1: // kill a churning connection, named so, by its ID
				if got, err = do("CLIENT", "LIST"); err != nil {
					break
				}
				var ids []string
				for _, line := range strings.Split(got, "\n") {
					if f := strings.Fields(line); len(f) > 4 && strings.HasPrefix(f[4], "name=churn") {
						ids = append(ids, strings.TrimPrefix(f[0], "id="))
					}
				}
				if len(ids) == 0 {
					break
				}
				if got, err = do("CLIENT", "KILL", "ID", ids[rng.Intn(len(ids))]); err == nil && !strings.HasPrefix(got, ":") {
					err = fmt.Errorf("CLIENT KILL = %q", got)
				}
			case 2:
				if got, err = do("INFO", "clients"); err == nil && !strings.Contains(got, "connected_clients:") {
					err = fmt.Errorf("INFO clients = %.100q", got)
				}
			case 3:
				if got, err = do("CLIENT", "PAUSE", strconv.Itoa(1+rng.Intn(5)), "WRITE"); err == nil && got != "+OK\r\n" {
					err = fmt.Errorf("CLIENT PAUSE = %q", got)
				}
			case 4:
				time.Sleep(time.Millisecond)
			}
			if err != nil {
				adminErr <- err
				return
			}
		}
	}()
	wg.Wait()
	close(stop)
	if err := <-adminErr; err != nil {
		t.Error("admin:", err)
	}
	bg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if monLines.Load() == 0 {
		t.Error("the monitor saw no command")
	}
}

// loopShareSession runs rounds of random pipelines, cut at random bytes,
// on c, and checks every reply.
func loopShareSession(c net.Conn, si, rounds int, big string) error {
	rng := rand.New(rand.NewSource(int64(si) + 1))
	r := bufio.NewReader(c)
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	key := "k" + strconv.Itoa(si)
	for rd := range rounds {
		var p []byte
		var want []string
		for k := range 4 + rng.Intn(8) {
			v := fmt.Sprintf("s%d-r%d-k%d-%s", si, rd, k, bytes.Repeat([]byte{'a' + byte(si%26)}, rng.Intn(3000)))
			switch rng.Intn(6) {
			case 0:
				p = resp.AppendCommand(p, argvOf([]string{"SET", key, v})...)
				p = resp.AppendCommand(p, argvOf([]string{"GET", key})...)
				want = append(want, "+OK\r\n", bulkR(v))
			case 1:
				p = resp.AppendCommand(p, argvOf([]string{"ECHO", v})...)
				want = append(want, bulkR(v))
			case 2:
				p = resp.AppendCommand(p, argvOf([]string{"DEBUG.SLEEPREPLY", strconv.Itoa(rng.Intn(3))})...)
				p = resp.AppendCommand(p, argvOf([]string{"ECHO", v})...)
				want = append(want, "+OK\r\n", bulkR(v))
			case 3:
				p = resp.AppendCommand(p, argvOf([]string{"GET", "big"})...)
				want = append(want, bulkR(big))
			case 4:
				p = resp.AppendCommand(p, argvOf([]string{"APPEND", key + "x", v})...)
				p = resp.AppendCommand(p, argvOf([]string{"DEL", key + "x"})...)
				want = append(want, intR(int64(len(v))), intR(1))
			case 5:
				p = resp.AppendCommand(p, argvOf([]string{"PING"})...)
				want = append(want, "+PONG\r\n")
			}
		}
		wrng := rand.New(rand.NewSource(rng.Int63()))
		wrote := make(chan error, 1)
		go func() {
			for len(p) > 0 {
				n := min(len(p), 1+wrng.Intn(len(p)))
				if _, err := c.Write(p[:n]); err != nil {
					wrote <- err
					return
				}
				p = p[n:]
				if wrng.Intn(3) == 0 {
					time.Sleep(time.Duration(wrng.Intn(500)) * time.Microsecond)
				}
			}
			wrote <- nil
		}()
		for i, w := range want {
			got, err := readReply(r)
			if err != nil {
				return fmt.Errorf("round %d reply %d: %w", rd, i, err)
			}
			if got != w {
				return fmt.Errorf("round %d reply %d: got %.100q, want %.100q", rd, i, got, w)
			}
		}
		if err := <-wrote; err != nil {
			return err
		}
	}
	return nil
}
