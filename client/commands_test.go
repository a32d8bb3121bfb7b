package client

import (
	"errors"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ringdb/ringdb/server"
)

func TestCommands(t *testing.T) {
	s := startServer(t, server.Config{})
	c := newClient(t, s.Addr(), WithClientName("test"))
	ctx := testCtx(t)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	eq := func(got, want any) {
		t.Helper()
		if g, w := toStr(got), toStr(want); g != w {
			t.Fatalf("got %v, want %v", g, w)
		}
	}

	must(c.Ping(ctx))
	msg, err := c.Echo(ctx, "hi")
	must(err)
	eq(msg, "hi")

	_, found, err := c.Get(ctx, "k")
	must(err)
	eq(found, false)
	must(c.Set(ctx, "k", []byte("v"), 0))
	v, found, err := c.Get(ctx, "k")
	must(err)
	eq(found, true)
	eq(v, "v")

	ok, err := c.SetArgs(ctx, "k", []byte("x"), SetOptions{NX: true})
	must(err)
	eq(ok, false)
	ok, err = c.SetArgs(ctx, "nx", []byte("x"), SetOptions{XX: true})
	must(err)
	eq(ok, false)
	ok, err = c.SetArgs(ctx, "k", []byte("v2"), SetOptions{XX: true, TTL: time.Minute})
	must(err)
	eq(ok, true)
	ttl, err := c.TTL(ctx, "k")
	must(err)
	if ttl <= 58*time.Second || ttl > time.Minute {
		t.Fatalf("ttl %v", ttl)
	}
	ok, err = c.SetArgs(ctx, "k", []byte("v3"), SetOptions{KeepTTL: true})
	must(err)
	eq(ok, true)
	ttl, err = c.TTL(ctx, "k")
	must(err)
	if ttl <= 0 {
		t.Fatalf("KEEPTTL lost the ttl: %v", ttl)
	}
	prev, found, err := c.SetGet(ctx, "k", []byte("v4"), SetOptions{})
	must(err)
	eq(found, true)
	eq(prev, "v3")
	ttl, err = c.TTL(ctx, "k")
	must(err)
	eq(ttl, TTLPersistent)
	ttl, err = c.TTL(ctx, "missing")
	must(err)
	eq(ttl, TTLMissing)

	must(c.Set(ctx, "e", []byte("1"), 0))
	ok, err = c.Expire(ctx, "e", time.Hour, ExpireXX)
	must(err)
	eq(ok, false)
	ok, err = c.Expire(ctx, "e", time.Hour, ExpireNX)
	must(err)
	eq(ok, true)
	ok, err = c.Expire(ctx, "e", time.Minute, ExpireGT)
	must(err)
	eq(ok, false)
	ok, err = c.Expire(ctx, "e", time.Minute, ExpireLT)
	must(err)
	eq(ok, true)
	ok, err = c.ExpireSeconds(ctx, "e", 100, ExpireAlways)
	must(err)
	eq(ok, true)
	ok, err = c.ExpireAt(ctx, "e", time.Now().Add(time.Hour), ExpireAlways)
	must(err)
	eq(ok, true)
	ok, err = c.Persist(ctx, "e")
	must(err)
	eq(ok, true)
	ok, err = c.Persist(ctx, "e")
	must(err)
	eq(ok, false)

	v, found, err = c.GetEx(ctx, "e", GetExOptions{TTL: time.Hour})
	must(err)
	eq(found, true)
	eq(v, "1")
	ttl, _ = c.TTL(ctx, "e")
	if ttl <= 0 {
		t.Fatalf("GETEX PX: ttl %v", ttl)
	}
	_, _, err = c.GetEx(ctx, "e", GetExOptions{Persist: true})
	must(err)
	ttl, _ = c.TTL(ctx, "e")
	eq(ttl, TTLPersistent)
	_, _, err = c.GetEx(ctx, "e", GetExOptions{ExpireAt: time.Now().Add(time.Hour)})
	must(err)

	v, found, err = c.GetDel(ctx, "e")
	must(err)
	eq(found, true)
	eq(v, "1")
	n, err := c.Exists(ctx, "e", "k", "k")
	must(err)
	eq(n, 2)

	must(c.MSet(ctx, KV{"a", []byte("1")}, KV{"b", []byte("2")}))
	vals, err := c.MGet(ctx, "a", "nope", "b")
	must(err)
	eq(vals, [][]byte{[]byte("1"), nil, []byte("2")})

	n, err = c.Incr(ctx, "a")
	must(err)
	eq(n, 2)
	n, err = c.IncrBy(ctx, "a", 10)
	must(err)
	eq(n, 12)
	n, err = c.Decr(ctx, "a")
	must(err)
	eq(n, 11)
	n, err = c.DecrBy(ctx, "a", 11)
	must(err)
	eq(n, 0)
	n, err = c.Append(ctx, "b", []byte("34"))
	must(err)
	eq(n, 3)

	must(c.Rename(ctx, "b", "b2"))
	if err := c.Rename(ctx, "b", "b3"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("rename missing: %v", err)
	}
	n, err = c.Del(ctx, "b2", "zzz")
	must(err)
	eq(n, 1)

	must(c.FlushAll(ctx))
	for i := range 50 {
		must(c.Set(ctx, "scan:"+string(rune('a'+i%26))+string(rune('a'+i/26)), []byte("x"), 0))
	}
	must(c.Set(ctx, "other", []byte("x"), 0))
	size, err := c.DBSize(ctx)
	must(err)
	eq(size, 51)
	var keys []string
	for k, err := range c.Keys(ctx, "scan:*") {
		must(err)
		keys = append(keys, k)
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	eq(len(keys), 50)

	st, err := c.Stats(ctx)
	must(err)
	eq(st["keys"], 51)
	d1, err := c.Digest(ctx)
	must(err)
	must(c.Set(ctx, "other", []byte("y"), 0))
	d2, err := c.Digest(ctx)
	must(err)
	if d1 == d2 {
		t.Fatal("digest did not change")
	}
}

func TestPipeline(t *testing.T) {
	s := startServer(t, server.Config{})
	c := newClient(t, s.Addr(), WithPoolSize(1))
	ctx := testCtx(t)
	before := c.writeCount()
	p := c.Pipeline()
	set := p.Set("p", []byte("1"), SetOptions{})
	inc := p.Incr("p")
	get := p.Get("p")
	miss := p.Get("nope")
	ex := p.Exists("p", "nope")
	mg := p.MGet("p", "nope")
	ms := p.MSet(KV{"q", []byte("z")})
	exp := p.Expire("q", time.Hour, ExpireAlways)
	ttl := p.TTL("q")
	del := p.Del("q")
	if p.Len() != 10 {
		t.Fatalf("len %d", p.Len())
	}
	if err := p.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if w := c.writeCount() - before; w != 1 {
		t.Errorf("pipeline took %d writes, want 1", w)
	}
	if ok, err := set.Val(); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if n, _ := inc.Val(); n != 2 {
		t.Fatal(n)
	}
	if v, err := get.Val(); string(v) != "2" || err != nil {
		t.Fatal(v, err)
	}
	if _, err := miss.Val(); !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
	if n, _ := ex.Val(); n != 1 {
		t.Fatal(n)
	}
	if v, _ := mg.Val(); len(v) != 2 || v[1] != nil {
		t.Fatal(v)
	}
	if ms.Err() != nil {
		t.Fatal(ms.Err())
	}
	if ok, _ := exp.Val(); !ok {
		t.Fatal("expire")
	}
	if d, _ := ttl.Val(); d <= 0 {
		t.Fatal(d)
	}
	if n, _ := del.Val(); n != 1 {
		t.Fatal(n)
	}

	// A server error in one command is reported by Exec and its Result,
	// and the others still succeed.
	p.Set("str", []byte("abc"), SetOptions{})
	bad := p.Incr("str")
	good := p.Get("str")
	err := p.Exec(ctx)
	var se *ServerError
	if !errors.As(err, &se) || bad.Err() == nil || good.Err() != nil {
		t.Fatalf("exec %v, bad %v, good %v", err, bad.Err(), good.Err())
	}
	if err := p.Exec(ctx); err != nil {
		t.Fatal("empty exec:", err)
	}

	app := p.Append("ap", []byte("abc"))
	pexp := p.ExpireAt("ap", time.Now().Add(time.Hour), ExpireAlways)
	pers := p.Persist("ap")
	gd := p.GetDel("ap")
	gd2 := p.GetDel("ap")
	dec := p.Decr("dec")
	if err := p.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if n, _ := app.Val(); n != 3 {
		t.Fatal("append", n)
	}
	if ok, _ := pexp.Val(); !ok {
		t.Fatal("expireat")
	}
	if ok, _ := pers.Val(); !ok {
		t.Fatal("persist")
	}
	if v, err := gd.Val(); string(v) != "abc" || err != nil {
		t.Fatal("getdel", v, err)
	}
	if _, err := gd2.Val(); !errors.Is(err, ErrNotFound) {
		t.Fatal("getdel missing", err)
	}
	if n, _ := dec.Val(); n != -1 {
		t.Fatal("decr", n)
	}
}

// TestNoGoroutineLeak: Close stops every goroutine the client started
// (the server's and the transport library's own goroutines are not counted).
func TestNoGoroutineLeak(t *testing.T) {
	s := startServer(t, server.Config{})
	c, err := New(testCtx(t), s.Addr(), WithPoolSize(4))
	if err != nil {
		t.Fatal(err)
	}
	for range 100 {
		c.Ping(testCtx(t))
	}
	if n := clientGoroutines(); n < 8 {
		t.Fatalf("%d client goroutines for 4 connections, want 8", n)
	}
	c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for clientGoroutines() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d client goroutines left after Close", clientGoroutines())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// clientGoroutines counts goroutines running this package's connection code.
func clientGoroutines() int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "client.(*conn)") {
			n++
		}
	}
	return n
}

// TTL of a deadline past a Duration's range (Redis takes deadlines up to
// about year 292 million) is TTLMax; the conversion to nanoseconds
// overflowed and returned an arbitrary smaller TTL (found by
// TestSDKDifferentialAgainstRedis).
func TestTTLBeyondDuration(t *testing.T) {
	s := startServer(t, server.Config{})
	c := newClient(t, s.Addr())
	ctx := testCtx(t)
	far := time.Unix(99999999999, 0) // year 5138
	if _, err := c.SetArgs(ctx, "far", []byte("v"), SetOptions{ExpireAt: far}); err != nil {
		t.Fatal(err)
	}
	if d, err := c.TTL(ctx, "far"); err != nil || d != TTLMax {
		t.Fatalf("TTL = %v, %v; want TTLMax", d, err)
	}
	near := time.Now().Add(200 * 365 * 24 * time.Hour) // within a Duration
	if _, err := c.SetArgs(ctx, "near", []byte("v"), SetOptions{ExpireAt: near}); err != nil {
		t.Fatal(err)
	}
	if d, err := c.TTL(ctx, "near"); err != nil || d <= 199*365*24*time.Hour || d == TTLMax {
		t.Fatalf("TTL = %v, %v; want about 200 years", d, err)
	}
}

// Deadlines beyond the int64 millisecond range saturate instead of
// wrapping into the past (which deleted the key, or lost the write), and
// conflicting options get Redis's syntax error instead of one silently
// winning (found in review).
func TestFarDeadlinesAndConflictingOptions(t *testing.T) {
	s := startServer(t, server.Config{})
	c := newClient(t, s.Addr())
	ctx := testCtx(t)
	future := time.Unix(300_000_000*365*24*3600, 0) // year ~300 million
	past := time.Unix(-300_000_000*365*24*3600, 0)

	if ok, err := c.SetArgs(ctx, "a", []byte("v"), SetOptions{ExpireAt: future}); err != nil || !ok {
		t.Fatalf("SetArgs far future: %v, %v", ok, err)
	}
	if d, err := c.TTL(ctx, "a"); err != nil || d != TTLMax {
		t.Fatalf("TTL after SetArgs far future = %v, %v; want TTLMax", d, err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c.Set(ctx, "b", []byte("v"), 0))
	if ok, err := c.ExpireAt(ctx, "b", future, ExpireAlways); err != nil || !ok {
		t.Fatalf("ExpireAt far future: %v, %v", ok, err)
	}
	if _, found, err := c.Get(ctx, "b"); err != nil || !found {
		t.Fatalf("b lost after ExpireAt far future: %v, %v", found, err)
	}
	if _, found, err := c.GetEx(ctx, "b", GetExOptions{ExpireAt: future}); err != nil || !found {
		t.Fatalf("GetEx far future: %v, %v", found, err)
	}
	if _, found, _ := c.Get(ctx, "b"); !found {
		t.Fatal("b lost after GetEx far future")
	}
	if ok, err := c.ExpireAt(ctx, "b", past, ExpireAlways); err != nil || !ok {
		t.Fatalf("ExpireAt far past: %v, %v", ok, err)
	}
	if d, _ := c.TTL(ctx, "b"); d != TTLMissing {
		t.Fatalf("TTL after ExpireAt far past = %v; want TTLMissing", d)
	}

	var se *ServerError
	_, err := c.SetArgs(ctx, "c", []byte("v"), SetOptions{TTL: time.Minute, ExpireAt: future})
	if !errors.As(err, &se) || se.Msg != "syntax error" {
		t.Fatalf("SetArgs with TTL and ExpireAt: %v; want a syntax error", err)
	}
	must(c.Set(ctx, "c", []byte("v"), 0))
	_, _, err = c.GetEx(ctx, "c", GetExOptions{Persist: true, TTL: time.Minute})
	if !errors.As(err, &se) || se.Msg != "syntax error" {
		t.Fatalf("GetEx with Persist and TTL: %v; want a syntax error", err)
	}
	if d, _ := c.TTL(ctx, "c"); d != TTLPersistent {
		t.Fatalf("GetEx that failed changed the TTL: %v", d)
	}
}
