package client

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/ringdb/ringdb/server"
)

// TestBackgroundRedialLeavesNoContext: Client.conn's background redial
// made ctx, cancel := context.WithCancel(c.bg) and, with a dial timeout
// (the default), overwrote both with context.WithTimeout(c.bg, ...): the
// first cancel was never called, so every background redial left one child
// context registered in c.bg until Close (a slow leak in a long-lived
// client that reconnects). The check reads the context package's private
// children field, so a Go release that renames it fails here loudly.
func TestBackgroundRedialLeavesNoContext(t *testing.T) {
	addr := scriptedServer(t, helloOK, breakOnSet)
	c := newClient(t, addr, WithPoolSize(2))
	const rounds = 5
	for i := 0; i < rounds; i++ {
		_ = c.Set(testCtx(t), "k", []byte("v"), 0) // breaks one connection
		deadline := time.Now().Add(5 * time.Second)
		for {
			_ = c.Ping(testCtx(t)) // starts the background redial of the broken slot
			healthy := 0
			for _, s := range c.slots {
				if cn := s.cur.Load(); cn != nil && !cn.broken() && !s.dialling.Load() {
					healthy++
				}
			}
			if healthy == len(c.slots) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("pool not repaired")
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	children := reflect.ValueOf(c.bg).Elem().FieldByName("children").Len()
	if children != 0 {
		t.Fatalf("after %d background redials, c.bg holds %d child contexts never cancelled (want 0)", rounds, children)
	}
}

// TestNewLeavesNoContext: dial made dctx, cancel := context.WithCancel(ctx)
// and, with a dial timeout (the default), overwrote both with
// context.WithTimeout(ctx, ...), so each connection New opened left one
// child context registered in the caller's context (an application's
// long-lived one, say) until that context ended.
func TestNewLeavesNoContext(t *testing.T) {
	s := startServer(t, server.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for range 3 {
		c, err := New(ctx, s.Addr(), WithPoolSize(2))
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
	if n := reflect.ValueOf(ctx).Elem().FieldByName("children").Len(); n != 0 {
		t.Fatalf("after 3 New calls with pool size 2, the caller's context holds %d child contexts never cancelled (want 0)", n)
	}
}
