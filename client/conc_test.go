package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringdb/ringdb/server"
)

// TestConcurrentMixed runs many goroutines of mixed calls; each goroutine
// owns its keys, so every reply can be checked exactly.
func TestConcurrentMixed(t *testing.T) {
	s := startServer(t, server.Config{})
	c := newClient(t, s.Addr(), WithPoolSize(3))
	ctx := testCtx(t)
	var wg sync.WaitGroup
	for g := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			model := map[string]string{}
			for i := range 300 {
				k := fmt.Sprintf("g%d:%d", g, rng.IntN(20))
				switch rng.IntN(4) {
				case 0:
					v := fmt.Sprintf("v%d", i)
					if err := c.Set(ctx, k, []byte(v), 0); err != nil {
						t.Error(err)
						return
					}
					model[k] = v
				case 1:
					v, found, err := c.Get(ctx, k)
					want, ok := model[k]
					if err != nil || found != ok || string(v) != want {
						t.Errorf("get %s = %q %v %v, want %q %v", k, v, found, err, want, ok)
						return
					}
				case 2:
					n, err := c.Del(ctx, k)
					_, ok := model[k]
					if err != nil || (n == 1) != ok {
						t.Errorf("del %s = %d %v", k, n, err)
						return
					}
					delete(model, k)
				case 3:
					p := c.Pipeline()
					r1 := p.Set(k, []byte("p"), SetOptions{})
					r2 := p.Get(k)
					if err := p.Exec(ctx); err != nil {
						t.Error(err)
						return
					}
					if v, err := r2.Val(); string(v) != "p" || r1.Err() != nil || err != nil {
						t.Errorf("pipeline get %q %v", v, err)
						return
					}
					model[k] = "p"
				}
			}
		}()
	}
	wg.Wait()
}

// TestCoalescing shows that 50 concurrent callers share writes: the
// connection writer sends everything queued since its last write at once.
func TestCoalescing(t *testing.T) {
	s := startServer(t, server.Config{})
	c := newClient(t, s.Addr(), WithPoolSize(2))
	ctx := testCtx(t)
	if err := c.Set(ctx, "k", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	const goroutines, per = 50, 200
	before := c.writeCount()
	var calls atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for range per {
				if _, _, err := c.Get(ctx, "k"); err != nil {
					t.Error(err)
					return
				}
				calls.Add(1)
			}
		}()
	}
	close(start)
	wg.Wait()
	writes := c.writeCount() - before
	t.Logf("%d calls, %d writes (%.1f calls per write)", calls.Load(), writes, float64(calls.Load())/float64(writes))
	if writes*4 > calls.Load() {
		t.Errorf("%d writes for %d calls: want at least 4 calls per write", writes, calls.Load())
	}
}

// TestCancel cancels calls mid-flight and checks that late replies are
// discarded without confusing the replies of later calls.
func TestCancel(t *testing.T) {
	s := startServer(t, server.Config{})
	c := newClient(t, s.Addr(), WithPoolSize(1))
	ctx := testCtx(t)
	big := bytes.Repeat([]byte("x"), 8<<20)
	if err := c.Set(ctx, "big", big, 0); err != nil {
		t.Fatal(err)
	}
	// A GET of 8 MiB cannot complete within a microsecond.
	cctx, cancel := context.WithTimeout(ctx, time.Microsecond)
	_, _, err := c.Get(cctx, "big")
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want deadline exceeded", err)
	}
	// Explicit cancellation while waiting.
	cctx, cancel = context.WithCancel(ctx)
	done := make(chan error)
	go func() { _, _, err := c.Get(cctx, "big"); done <- err }()
	cancel()
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}

	// Many short-deadline calls racing with their replies.
	var wg sync.WaitGroup
	for g := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				k := fmt.Sprintf("c%d", g)
				cctx, cancel := context.WithTimeout(ctx, time.Duration(i%5)*20*time.Microsecond)
				err := c.Set(cctx, k, []byte(k), 0)
				cancel()
				if err != nil && !errors.Is(err, context.DeadlineExceeded) {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	// The connection still works and replies match their calls.
	for g := range 20 {
		k := fmt.Sprintf("c%d", g)
		if err := c.Set(ctx, k, []byte(k), 0); err != nil {
			t.Fatal(err)
		}
		v, _, err := c.Get(ctx, k)
		if err != nil || string(v) != k {
			t.Fatalf("get %s = %q, %v", k, v, err)
		}
	}
	v, _, err := c.Get(ctx, "big")
	if err != nil || !bytes.Equal(v, big) {
		t.Fatalf("big: %d bytes, %v", len(v), err)
	}

	// WithReadTimeout bounds calls whose context has no deadline.
	rt := newClient(t, s.Addr(), WithReadTimeout(time.Microsecond))
	if _, _, err := rt.Get(context.Background(), "big"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("read timeout: %v", err)
	}
}

// TestRestart stops the server mid-run and starts a new one on the same
// address; the client fails in-flight calls clearly and then recovers.
func TestRestart(t *testing.T) {
	for _, tr := range []string{server.TransportStd, server.TransportGnet} {
		t.Run(tr, func(t *testing.T) { testRestart(t, tr) })
	}
}

func testRestart(t *testing.T, transport string) {
	s := startServer(t, server.Config{Transport: transport})
	addr := s.Addr()
	c := newClient(t, addr, WithPoolSize(2), withBackoff(5*time.Millisecond, 100*time.Millisecond))
	ctx := testCtx(t)
	if err := c.Set(ctx, "k", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}

	// Background load across the restart.
	stop := make(chan struct{})
	var okCalls, failed atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				cctx, cancel := context.WithTimeout(ctx, time.Second)
				_, err := c.Incr(cctx, "n")
				cancel()
				if err == nil {
					okCalls.Add(1)
				} else {
					if failed.Add(1) == 1 {
						t.Logf("first in-flight failure: %v", err)
					}
					if !errors.Is(err, ErrConnLost) && !errors.Is(err, context.DeadlineExceeded) {
						t.Errorf("unexpected error: %v", err)
					}
					time.Sleep(time.Millisecond)
				}
			}
		}()
	}
	time.Sleep(50 * time.Millisecond)
	stopServer(t, s)
	_, _, err := c.Get(ctx, "k")
	if !errors.Is(err, ErrConnLost) {
		t.Fatalf("get while down: %v, want ErrConnLost", err)
	}
	t.Logf("while down: %v", err)
	time.Sleep(100 * time.Millisecond)
	startServer(t, server.Config{Addr: addr, Transport: transport})

	deadline := time.Now().Add(10 * time.Second)
	for {
		err := c.Set(ctx, "k2", []byte("v2"), 0)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("client did not recover: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	before := okCalls.Load()
	time.Sleep(100 * time.Millisecond)
	close(stop)
	wg.Wait()
	if okCalls.Load() == before {
		t.Fatal("background callers did not recover")
	}
	t.Logf("ok %d, failed %d", okCalls.Load(), failed.Load())
	v, _, err := c.Get(ctx, "k2")
	if err != nil || string(v) != "v2" {
		t.Fatalf("after restart: %q %v", v, err)
	}
}

func TestClosed(t *testing.T) {
	s := startServer(t, server.Config{})
	c := newClient(t, s.Addr())
	c.Close()
	if _, _, err := c.Get(context.Background(), "k"); !errors.Is(err, ErrClosed) {
		t.Fatalf("got %v, want ErrClosed", err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
}
