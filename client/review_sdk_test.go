package client

import (
	"context"
	"errors"
	"testing"

	"github.com/ringdb/ringdb/server"
)

// TestPipelineEndedContextSendsNothing: Exec with a context that has
// already ended returned ctx.Err() for every command, yet sent them, so
// its writes were applied (Client calls send nothing in that case, as
// go-redis does not).
func TestPipelineEndedContextSendsNothing(t *testing.T) {
	s := startServer(t, server.Config{})
	c := newClient(t, s.Addr(), WithPoolSize(1))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p := c.Pipeline()
	set := p.Set("pipe-ended", []byte("v"), SetOptions{})
	if err := p.Exec(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Exec = %v, want context.Canceled", err)
	}
	if !errors.Is(set.Err(), context.Canceled) {
		t.Fatalf("Set result = %v, want context.Canceled", set.Err())
	}
	// The PING goes after anything the pipeline could have queued on the
	// same connection, so its reply orders the check after it.
	if err := c.Ping(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if _, found, err := c.Get(testCtx(t), "pipe-ended"); found || err != nil {
		t.Fatalf("the pipeline's SET was applied (found %v, err %v)", found, err)
	}
}
