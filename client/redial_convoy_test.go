package client

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/ringdb/ringdb/server"
)

// TestDownServerCallersDoNotQueue: with the server down, concurrent callers
// queued on the slot's redial one behind the other, each waiting a whole
// backoff and dialling again after the one before it had failed, so the
// n-th caller got its ErrNotExecuted after n backoffs (ringdb-bench with
// 10 clients: calls of 10 s, a 4 s run lasting 13 s). Callers that waited
// while a dial failed now get that dial's error.
func TestDownServerCallersDoNotQueue(t *testing.T) {
	s := startServer(t, server.Config{})
	const backoff = 300 * time.Millisecond
	c := newClient(t, s.Addr(), WithPoolSize(1), withBackoff(backoff, backoff))
	ctx := testCtx(t)
	if err := c.Set(ctx, "k", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	stopServer(t, s)
	waitUntil(t, "the connection breaks", func() bool { return c.slots[0].cur.Load().broken() })
	// One failed dial, so that the slot is in backoff.
	if err := c.Ping(ctx); !errors.Is(err, ErrNotExecuted) {
		t.Fatalf("Ping with the server down = %v; want ErrNotExecuted", err)
	}
	const callers = 10
	var wg sync.WaitGroup
	took := make([]time.Duration, callers)
	errs := make([]error, callers)
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			errs[i] = c.Set(ctx, "k", []byte("v"), 0)
			took[i] = time.Since(t0)
		}()
	}
	wg.Wait()
	for i := range callers {
		if !errors.Is(errs[i], ErrNotExecuted) || !errors.Is(errs[i], ErrConnLost) {
			t.Errorf("caller %d: %v; want ErrNotExecuted and ErrConnLost", i, errs[i])
		}
		if took[i] > 4*backoff {
			t.Errorf("caller %d failed after %v; want about one backoff (%v), not one per caller ahead of it", i, took[i].Round(time.Millisecond), backoff)
		}
	}
}
