package server

import (
	"bufio"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ringdb/ringdb/transport/binproto"
	"github.com/ringdb/ringdb/transport/resp"
)

// heapInUse returns the Go heap in use after a collection.
func heapInUse() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapInuse)
}

// A reply naming one large value many times (MGET of the same key, or
// EXEC of many GETs of it) writes it by reference each time: while the
// client has read none of a 128 MiB reply, the server holds a few MiB
// for it, not the copies it used to build (three of them, 2.9 GB for
// MGET of a 50 MB key 16 times). The client that then reads gets every
// value whole, and the replies after it.
//
// Not parallel: it measures the process's heap.
func TestReplyNamingLargeValueManyTimesHoldsNoCopies(t *testing.T) {
	const size, times = 2 << 20, 64
	const reply = size * times
	// Limits far above the reply: the client is neither held nor
	// disconnected while it reads nothing.
	cfg := Config{OutputHardLimit: 4 << 30, OutputSoftLimit: 4 << 30}
	forEachTransport(t, cfg, func(t *testing.T, ts *testServer) {
		val := versionedValue(size, 3)
		setup := ts.raw(t)
		if got := setup.do(t, "SET", "big", string(val)); got != "+OK\r\n" {
			t.Fatalf("SET: %q", got)
		}
		mget := []string{"MGET"}
		tx := [][]string{{"MULTI"}}
		for range times {
			mget = append(mget, "big")
			tx = append(tx, []string{"GET", "big"})
		}
		tx = append(tx, []string{"EXEC"})
		for _, tc := range []struct {
			name string
			cmds [][]string
		}{{"MGET", [][]string{mget}}, {"EXEC", tx}} {
			t.Run(tc.name, func(t *testing.T) {
				c := ts.dial(t)
				var p []byte
				for _, args := range tc.cmds {
					p = resp.AppendCommand(p, argvOf(args)...)
				}
				p = resp.AppendCommand(p, argvOf([]string{"ECHO", "after"})...)
				before := heapInUse()
				hits := ts.ks.Stats().Hits
				_ = c.SetWriteDeadline(time.Now().Add(10 * time.Second))
				if _, err := c.Write(p); err != nil {
					t.Fatal(err)
				}
				deadline := time.Now().Add(20 * time.Second)
				for ts.ks.Stats().Hits < hits+times {
					if time.Now().After(deadline) {
						t.Fatalf("%d of %d reads after 20 s", ts.ks.Stats().Hits-hits, times)
					}
					time.Sleep(5 * time.Millisecond)
				}
				time.Sleep(50 * time.Millisecond) // the transport's write of what it can
				if grew := heapInUse() - before; grew > reply/4 {
					t.Errorf("heap grew by %d MiB for a %d MiB reply not yet read, want it written by reference", grew>>20, reply>>20)
				}

				r := bufio.NewReaderSize(c, 64<<10)
				_ = c.SetReadDeadline(time.Now().Add(60 * time.Second))
				for range len(tc.cmds) - 1 {
					if _, err := readReply(r); err != nil { // MULTI's OK, QUEUED
						t.Fatal(err)
					}
				}
				if got, err := r.ReadString('\n'); err != nil || got != "*"+strconv.Itoa(times)+"\r\n" {
					t.Fatalf("reply header %q, %v", got, err)
				}
				// Made once: two copies of 2 MiB per value, 256 values,
				// were most of the test's time under -race.
				want := bulkR(string(val))
				for i := range times {
					got, err := readReply(r)
					if err != nil || got != want {
						t.Fatalf("value %d: %d bytes, %v: not the value stored", i, len(got), err)
					}
				}
				if got, err := readReply(r); err != nil || got != bulkR("after") {
					t.Fatalf("reply after it: %q, %v", got, err)
				}
			})
		}
		// The binary protocol's MGET frames the values it writes by
		// reference.
		b := newBinClient(t, ts)
		b.hello(nil, nil)
		m := b.send(binproto.OpMGet, "big", "nokey", "big", "big")
		p := b.send(binproto.OpPing)
		got, _ := b.reply(binproto.OpMGet, m).([]any)
		if len(got) != 4 || got[0] != string(val) || got[1] != nil || got[2] != string(val) || got[3] != string(val) {
			t.Fatalf("binary MGET: %d values, not the ones stored", len(got))
		}
		if got := b.reply(binproto.OpPing, p); got != (okV{}) {
			t.Fatalf("binary PING after MGET: %v", got)
		}
	})
}

// MGET naming a value under the size written by reference (copied into
// the reply) many times, past the output hard limit, gets an error
// instead of building the reply: it used to build all of it (MGET of a
// 100 KB value named a million times, a 7 MB command: 100 GB). The
// connection stays; a client that asked for no reply gets none; an MGET
// whose reply fits is answered.
//
// Not parallel: it measures the process's heap.
func TestMGetOverHardLimitRefused(t *testing.T) {
	const size, times = 100 << 10, 400 // 40 MB
	// With metrics on: INFO's command and error counts need them.
	forEachTransport(t, Config{OutputHardLimit: 1 << 20, MetricsAddr: "127.0.0.1:0"}, func(t *testing.T, ts *testServer) {
		c := ts.raw(t)
		val := strings.Repeat("v", size)
		if got := c.do(t, "SET", "mid", val); got != "+OK\r\n" {
			t.Fatalf("SET: %q", got)
		}
		args := []string{"MGET"}
		for range times {
			args = append(args, "mid")
		}
		before := heapInUse()
		c.send(t, args...)
		got := c.read(t)
		grew := heapInUse() - before
		if got != errR("ERR reply dropped: larger than the output buffer hard limit") {
			t.Fatalf("MGET of %d x %d KiB under a 1 MiB hard limit: %.60q", times, size>>10, got)
		}
		if grew > 16<<20 {
			t.Errorf("heap grew by %d MiB building a reply it dropped", grew>>20)
		}
		// Counted as the error it is.
		if info := c.do(t, "INFO", "errorstats"); !strings.Contains(info, "errorstat_ERR:count=1\r\n") {
			t.Errorf("INFO errorstats after the refused MGET: %q", info)
		}
		if info := c.do(t, "INFO", "commandstats"); !strings.Contains(info, "cmdstat_mget:calls=1,") || !strings.Contains(info, "failed_calls=1") {
			t.Errorf("INFO commandstats after the refused MGET: %q", info)
		}
		if got := c.do(t, "MGET", "mid", "nokey", "mid"); got != arrR(bulkR(val), "$-1\r\n", bulkR(val)) {
			t.Fatalf("MGET that fits: %.60q", got)
		}
		c.send(t, "CLIENT", "REPLY", "OFF")
		c.send(t, args...)
		c.send(t, "CLIENT", "REPLY", "ON")
		if got := c.read(t); got != "+OK\r\n" {
			t.Fatalf("after MGET under CLIENT REPLY OFF: %q, want only REPLY ON's OK", got)
		}
		if got := c.do(t, "PING"); got != "+PONG\r\n" {
			t.Fatalf("PING: %q", got)
		}
	})
}

// KEYS writes its keys straight into the reply: over the output hard limit
// it gets the error in place of the reply and stops early, without
// gathering every key first (a set of them cost KEYS of 10M keys over a
// gigabyte besides the reply); under it, each key once.
func TestKeysOverHardLimitRefused(t *testing.T) {
	forEachTransport(t, Config{OutputHardLimit: 64 << 10}, func(t *testing.T, ts *testServer) {
		for i := range 20000 {
			if err := ts.ks.Set(fmt.Appendf(nil, "key:%06d", i), []byte("v")); err != nil {
				t.Fatal(err)
			}
		}
		c := ts.raw(t)
		if got := c.do(t, "KEYS", "*"); got != errR("ERR reply dropped: larger than the output buffer hard limit") {
			t.Fatalf("KEYS * of 20000 keys under a 64 KiB limit: %.60q", got)
		}
		got := c.do(t, "KEYS", "key:00001?")
		if !strings.HasPrefix(got, "*10\r\n") {
			t.Fatalf("KEYS key:00001?: %.60q", got)
		}
		for i := 10; i < 20; i++ {
			if k := fmt.Sprintf("key:%06d", i); strings.Count(got, "\r\n"+k+"\r\n") != 1 {
				t.Fatalf("KEYS key:00001?: %s not there once in %q", k, got)
			}
		}
	})
}
