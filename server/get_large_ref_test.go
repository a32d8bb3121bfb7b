package server

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/ringdb/ringdb/transport/binproto"
)

// versionedValue is version ver of a large value: its version in the
// first 8 bytes, then bytes that depend on it.
func versionedValue(size, ver int) []byte {
	b := bytes.Repeat([]byte{byte('a' + ver%26)}, size)
	copy(b, fmt.Sprintf("%08d", ver))
	return b
}

// checkVersioned reports whether v is one whole versionedValue.
func checkVersioned(v []byte, size int) error {
	var ver int
	if len(v) != size {
		return fmt.Errorf("value of %d bytes, want %d", len(v), size)
	}
	if _, err := fmt.Sscanf(string(v[:8]), "%08d", &ver); err != nil {
		return fmt.Errorf("value header %q", v[:8])
	}
	if !bytes.Equal(v, versionedValue(size, ver)) {
		return fmt.Errorf("version %d torn", ver)
	}
	return nil
}

// overwriteBig stores version 0 of a large value of size bytes under
// "big", then, on a goroutine wg waits for, stores versions 1 to versions
// over it, deleting the key after every seventh; it reports a failed
// write on errs. It returns its client.
func overwriteBig(t *testing.T, ts *testServer, wg *sync.WaitGroup, errs chan<- error, size, versions int) *redis.Client {
	t.Helper()
	ctx := context.Background()
	w := ts.redis(t, 2, nil)
	if err := w.Set(ctx, "big", versionedValue(size, 0), 0).Err(); err != nil {
		t.Fatal(err)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ver := 1; ver <= versions; ver++ {
			if err := w.Set(ctx, "big", versionedValue(size, ver), 0).Err(); err != nil {
				errs <- err
				return
			}
			if ver%7 == 0 {
				w.Del(ctx, "big")
			}
		}
	}()
	return w
}

// GET of a large value writes it from the keyspace's memory (by
// reference, without a copy); every reply is one whole version while
// other clients overwrite and delete the key, over every transport, in
// RESP2, RESP3 and the binary protocol, with other replies pipelined
// around it.
func TestGetLargeValueWhileOverwritten(t *testing.T) {
	forEachTransport(t, Config{}, func(t *testing.T, ts *testServer) {
		ctx := context.Background()
		const size, versions, gets = 600 << 10, 40, 25
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		overwriteBig(t, ts, &wg, errs, size, versions)
		for proto := 2; proto <= 3; proto++ {
			rc := ts.redis(t, proto, nil)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range gets {
					pipe := rc.Pipeline()
					ping := pipe.Ping(ctx)
					get := pipe.Get(ctx, "big")
					echo := pipe.Echo(ctx, fmt.Sprint("after", i))
					_, _ = pipe.Exec(ctx)
					if ping.Val() != "PONG" || echo.Val() != fmt.Sprint("after", i) {
						errs <- fmt.Errorf("RESP%d: replies around GET: %q %q (%v)", proto, ping.Val(), echo.Val(), echo.Err())
						return
					}
					if get.Err() != nil {
						continue // deleted meanwhile
					}
					if err := checkVersioned([]byte(get.Val()), size); err != nil {
						errs <- fmt.Errorf("RESP%d GET: %v", proto, err)
						return
					}
				}
			}()
		}
		b := newBinClient(t, ts)
		b.hello(nil, nil)
		for range gets {
			p := b.send(binproto.OpPing)
			g := b.send(binproto.OpGet, "big")
			if got := b.reply(binproto.OpPing, p); got != (okV{}) {
				t.Fatalf("binary PING: %v", got)
			}
			got := b.reply(binproto.OpGet, g)
			if got == nil {
				continue
			}
			s, _ := got.(string)
			if err := checkVersioned([]byte(s), size); err != nil {
				t.Fatalf("binary GET: %v", err)
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	})
}

// GETEX and GETDEL write a large value by reference as GET does, with the
// TTL change or the delete applied, over every transport.
func TestGetExGetDelLargeValue(t *testing.T) {
	forEachTransport(t, Config{}, func(t *testing.T, ts *testServer) {
		ctx := context.Background()
		const size = 600 << 10
		want := versionedValue(size, 7)
		rc := ts.redis(t, 2, nil)
		if err := rc.Set(ctx, "big", want, 0).Err(); err != nil {
			t.Fatal(err)
		}
		pipe := rc.Pipeline()
		ex := pipe.GetEx(ctx, "big", 100*time.Second)
		ttl := pipe.TTL(ctx, "big")
		persist := pipe.Do(ctx, "GETEX", "big", "PERSIST")
		ttl2 := pipe.TTL(ctx, "big")
		del := pipe.GetDel(ctx, "big")
		gone := pipe.Exists(ctx, "big")
		if _, err := pipe.Exec(ctx); err != nil {
			t.Fatal(err)
		}
		for i, v := range []string{ex.Val(), fmt.Sprint(persist.Val()), del.Val()} {
			if err := checkVersioned([]byte(v), size); err != nil {
				t.Fatalf("reply %d: %v", i, err)
			}
		}
		if ttl.Val() <= 0 || ttl2.Val() != -1 || gone.Val() != 0 {
			t.Fatalf("TTL after GETEX EX %v, after PERSIST %v, EXISTS after GETDEL %d", ttl.Val(), ttl2.Val(), gone.Val())
		}
		b := newBinClient(t, ts)
		b.hello(nil, nil)
		if err := rc.Set(ctx, "big", want, 0).Err(); err != nil {
			t.Fatal(err)
		}
		if s, _ := b.call(binproto.OpGetDel, "big").(string); checkVersioned([]byte(s), size) != nil {
			t.Fatal("binary GETDEL: not the value")
		}
		if got := b.call(binproto.OpGetDel, "big"); got != nil {
			t.Fatalf("binary GETDEL of a deleted key: %v", short(got))
		}
	})
}

// short describes a reply for a failure message without dumping a large
// value.
func short(v any) string {
	s := fmt.Sprintf("%#v", v)
	if len(s) > 80 {
		s = fmt.Sprintf("%s... (%d chars)", s[:80], len(s))
	}
	return s
}

// GETRANGE of spans of a large value writes them by reference: each reply
// is the span of one whole version while another client overwrites and
// deletes the key, pipelined between other replies, in RESP2 and RESP3,
// over every transport; a missing key gives an empty string.
func TestGetRangeLargeValueWhileOverwritten(t *testing.T) {
	forEachTransport(t, Config{}, func(t *testing.T, ts *testServer) {
		ctx := context.Background()
		const size, versions, gets = 600 << 10, 40, 25
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		w := overwriteBig(t, ts, &wg, errs, size, versions)
		for proto := 2; proto <= 3; proto++ {
			rc := ts.redis(t, proto, nil)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range gets {
					pipe := rc.Pipeline()
					whole := pipe.GetRange(ctx, "big", 0, -1)
					mid := pipe.GetRange(ctx, "big", 100_000, 399_999)
					echo := pipe.Echo(ctx, fmt.Sprint("after", i))
					_, _ = pipe.Exec(ctx)
					if echo.Val() != fmt.Sprint("after", i) {
						errs <- fmt.Errorf("RESP%d: reply after GETRANGE: %q (%v)", proto, echo.Val(), echo.Err())
						return
					}
					if v := whole.Val(); v != "" {
						if err := checkVersioned([]byte(v), size); err != nil {
							errs <- fmt.Errorf("RESP%d GETRANGE 0 -1: %v", proto, err)
							return
						}
					}
					// Past its header a version is one byte repeated.
					if v := mid.Val(); v != "" && (len(v) != 300_000 || strings.Count(v, v[:1]) != len(v)) {
						errs <- fmt.Errorf("RESP%d GETRANGE 100000 399999: %d bytes, torn or short", proto, len(v))
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if err := w.Set(ctx, "big", versionedValue(size, 99), 0).Err(); err != nil {
			t.Fatal(err)
		}
		if v, err := w.GetRange(ctx, "big", -131072, -1).Result(); err != nil || v != string(versionedValue(size, 99)[size-131072:]) {
			t.Fatalf("GETRANGE of the last 128 KiB: %d bytes, %v", len(v), err)
		}
		if v, err := w.GetRange(ctx, "nokey", 0, -1).Result(); err != nil || v != "" {
			t.Fatalf("GETRANGE of a missing key = %q, %v", v, err)
		}
	})
}

// GETSET and SET ... GET write a large previous value by reference as GET
// does (it used to be copied under the shard's lock): each reply is the
// whole version written before it, in a pipeline of writes over the key,
// in RESP and in the binary protocol, over every transport.
func TestGetSetLargeValue(t *testing.T) {
	forEachTransport(t, Config{}, func(t *testing.T, ts *testServer) {
		ctx := context.Background()
		const size = 600 << 10
		rc := ts.redis(t, 2, nil)
		if err := rc.Set(ctx, "big", versionedValue(size, 0), 0).Err(); err != nil {
			t.Fatal(err)
		}
		pipe := rc.Pipeline()
		var prev []interface{ Val() string }
		for ver := 1; ver <= 6; ver++ {
			if ver%2 == 1 {
				prev = append(prev, pipe.GetSet(ctx, "big", versionedValue(size, ver)))
			} else {
				prev = append(prev, pipe.SetArgs(ctx, "big", versionedValue(size, ver), redis.SetArgs{Get: true}))
			}
		}
		last := pipe.Get(ctx, "big")
		if _, err := pipe.Exec(ctx); err != nil {
			t.Fatal(err)
		}
		for i, cmd := range prev {
			if want := versionedValue(size, i); cmd.Val() != string(want) {
				t.Fatalf("reply %d: %v, not version %d", i, checkVersioned([]byte(cmd.Val()), size), i)
			}
		}
		if last.Val() != string(versionedValue(size, 6)) {
			t.Fatal("GET after the writes: not the last version")
		}
		b := newBinClient(t, ts)
		b.hello(nil, nil)
		got := b.call(binproto.OpSet, "big", string(versionedValue(size, 7)), int64(binproto.SetGet))
		if s, _ := got.(string); s != string(versionedValue(size, 6)) {
			t.Fatalf("binary SET GET: %s, want version 6", short(got))
		}
	})
}
