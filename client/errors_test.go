package client

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/ringdb/ringdb/core"
	"github.com/ringdb/ringdb/server"
	"github.com/ringdb/ringdb/transport/binproto"
)

// TestServerErrorClasses provokes every error class the server can produce
// over the binary protocol and checks its mapping to the typed errors.
func TestServerErrorClasses(t *testing.T) {
	s := startServer(t, server.Config{MaxMemory: 4 << 20, Eviction: core.NoEviction})
	c := newClient(t, s.Addr())
	ctx := testCtx(t)

	t.Run("ERR", func(t *testing.T) {
		if err := c.Set(ctx, "s", []byte("abc"), 0); err != nil {
			t.Fatal(err)
		}
		_, err := c.Incr(ctx, "s")
		var se *ServerError
		if !errors.As(err, &se) || se.Class != binproto.ClassErr || !strings.Contains(se.Msg, "not an integer") {
			t.Fatalf("incr non-integer: %v", err)
		}
		// Wrong arity.
		_, err = run(ctx, c, command[optBytes]{newReq(binproto.OpGet, 0).finish(), false, parseOptBytes})
		if !errors.As(err, &se) || se.Class != binproto.ClassErr || !strings.Contains(se.Msg, "wrong number of arguments") {
			t.Fatalf("arity: %v", err)
		}
		// Syntax: NX with XX.
		if _, err := c.SetArgs(ctx, "s", nil, SetOptions{NX: true, XX: true}); !errors.As(err, &se) || se.Class != binproto.ClassErr {
			t.Fatalf("nx+xx: %v", err)
		}
	})
	t.Run("PROTO", func(t *testing.T) {
		e := newReq(binproto.OpGet, 1)
		e.b = append(e.b, byte(binproto.KindBytes), 0, 0, 0, 9, 'k') // declares 9 bytes, has 1
		_, err := run(ctx, c, command[optBytes]{e.finish(), false, parseOptBytes})
		if !errors.Is(err, ErrProtocol) {
			t.Fatalf("truncated value: %v", err)
		}
		// A body fault keeps the connection.
		if err := c.Ping(ctx); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("LIMIT", func(t *testing.T) {
		err := c.Set(ctx, strings.Repeat("k", core.DefaultMaxKeySize+1), []byte("v"), 0)
		if !errors.Is(err, ErrLimit) {
			t.Fatalf("oversized key: %v", err)
		}
	})
	t.Run("OOM", func(t *testing.T) {
		val := bytes.Repeat([]byte("x"), 64<<10)
		var err error
		for i := 0; i < 1000 && err == nil; i++ {
			err = c.Set(ctx, "oom:"+string(rune('a'+i%26))+strings.Repeat("x", i/26), val, 0)
		}
		if !errors.Is(err, ErrOOM) {
			t.Fatalf("filling a 4 MiB noeviction server: %v", err)
		}
		if err := c.FlushAll(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

func TestAuth(t *testing.T) {
	s := startServer(t, server.Config{AuthToken: "secret"})
	ctx := testCtx(t)
	if _, err := New(ctx, s.Addr()); !errors.Is(err, ErrAuth) {
		t.Fatalf("no token: %v", err)
	}
	if _, err := New(ctx, s.Addr(), WithAuthToken("wrong")); !errors.Is(err, ErrAuth) {
		t.Fatalf("wrong token: %v", err)
	}
	c := newClient(t, s.Addr(), WithAuthToken("secret"))
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestErrorMapping covers classes the server cannot produce yet over the
// binary protocol (WRONGTYPE needs non-string types, READONLY a replica).
func TestErrorMapping(t *testing.T) {
	cases := []struct {
		class binproto.Class
		want  error
	}{
		{binproto.ClassWrongType, ErrWrongType},
		{binproto.ClassOOM, ErrOOM},
		{binproto.ClassReadOnly, ErrReadOnly},
		{binproto.ClassNoAuth, ErrAuth},
		{binproto.ClassLimit, ErrLimit},
		{binproto.ClassProto, ErrProtocol},
	}
	for _, tc := range cases {
		body := binproto.AppendError(nil, tc.class, "m")
		_, _, err := first(body)
		if !errors.Is(err, tc.want) {
			t.Errorf("class %v: %v does not match %v", tc.class, err, tc.want)
		}
		for _, other := range cases {
			if other.want != tc.want && errors.Is(err, other.want) {
				t.Errorf("class %v also matches %v", tc.class, other.want)
			}
		}
	}
	// Unknown classes are ERR.
	_, _, err := first(binproto.AppendError(nil, 0x42, "m"))
	var se *ServerError
	if !errors.As(err, &se) || se.Class != binproto.ClassErr {
		t.Fatalf("unknown class: %v", err)
	}
}

// TestLargeValues stores values at and just over the server's limits.
func TestLargeValues(t *testing.T) {
	const maxValue = 8 << 20
	s := startServer(t, server.Config{MaxValueSize: maxValue})
	c := newClient(t, s.Addr())
	ctx := testCtx(t)

	val := bytes.Repeat([]byte{0xAB}, maxValue)
	val[0], val[len(val)-1] = 1, 2
	if err := c.Set(ctx, "big", val, 0); err != nil {
		t.Fatal(err)
	}
	got, found, err := c.Get(ctx, "big")
	if err != nil || !found || !bytes.Equal(got, val) {
		t.Fatalf("get big: %d bytes, %v %v", len(got), found, err)
	}
	if err := c.Set(ctx, "big2", append(val, 0), 0); !errors.Is(err, ErrLimit) {
		t.Fatalf("value over the limit: %v", err)
	}
	if _, err := c.Append(ctx, "big", []byte("x")); !errors.Is(err, ErrLimit) {
		t.Fatalf("append over the limit: %v", err)
	}
	key := strings.Repeat("k", core.DefaultMaxKeySize)
	if err := c.Set(ctx, key, []byte("v"), 0); err != nil {
		t.Fatalf("key at the limit: %v", err)
	}
	if v, _, err := c.Get(ctx, key); err != nil || string(v) != "v" {
		t.Fatalf("get max key: %q %v", v, err)
	}
	// The connection still serves small calls afterwards.
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	// A frame over the server's max frame is refused client-side, so the
	// server does not drop the connection over it.
	huge := make([]byte, 3*maxValue)
	if err := c.Set(ctx, "huge", huge, 0); !errors.Is(err, ErrLimit) {
		t.Fatalf("frame over the limit: %v", err)
	}
	vals, err := c.MGet(ctx, "big", key)
	if err != nil || len(vals[0]) != maxValue || string(vals[1]) != "v" {
		t.Fatalf("mget: %v", err)
	}
}
