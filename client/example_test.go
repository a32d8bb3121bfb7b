package client_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math"
	"os"
	"testing"
	"time"

	"github.com/ringdb/ringdb/client"
	"github.com/ringdb/ringdb/server"
)

// addr is the in-process server the examples talk to.
var addr string

func TestMain(m *testing.M) {
	s, err := server.New(server.Config{Addr: "127.0.0.1:0", MetricsAddr: "off", Loops: 2},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		log.Fatal(err)
	}
	if err := s.Start(); err != nil {
		log.Fatal(err)
	}
	addr = s.Addr()
	code := m.Run()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	_ = s.Shutdown(ctx)
	cancel()
	os.Exit(code)
}

func ExampleNew() {
	ctx := context.Background()
	c, err := client.New(ctx, addr, client.WithPoolSize(2), client.WithClientName("example"))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	fmt.Println(c.Ping(ctx))
	// Output: <nil>
}

func ExampleClient_Get() {
	ctx := context.Background()
	c, err := client.New(ctx, addr)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	if err := c.Set(ctx, "greeting", []byte("hello"), time.Minute); err != nil {
		log.Fatal(err)
	}
	v, found, err := c.Get(ctx, "greeting")
	fmt.Printf("%s %v %v\n", v, found, err)
	_, found, err = c.Get(ctx, "no-such-key")
	fmt.Println(found, err)
	// Output:
	// hello true <nil>
	// false <nil>
}

func ExampleClient_SetArgs() {
	ctx := context.Background()
	c, err := client.New(ctx, addr)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	c.Del(ctx, "lock")

	// SET lock owner NX PX 30000: take a lock only if nobody holds it.
	took, _ := c.SetArgs(ctx, "lock", []byte("me"), client.SetOptions{NX: true, TTL: 30 * time.Second})
	again, _ := c.SetArgs(ctx, "lock", []byte("you"), client.SetOptions{NX: true, TTL: 30 * time.Second})
	fmt.Println(took, again)
	// Output: true false
}

func ExampleClient_TTL() {
	ctx := context.Background()
	c, err := client.New(ctx, addr)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	c.Set(ctx, "session", []byte("data"), 0)

	ttl, _ := c.TTL(ctx, "session")
	fmt.Println(ttl == client.TTLPersistent)
	c.Expire(ctx, "session", time.Hour, client.ExpireAlways)
	ttl, _ = c.TTL(ctx, "session")
	fmt.Println(ttl > 59*time.Minute)
	ttl, _ = c.TTL(ctx, "no-such-key")
	fmt.Println(ttl == client.TTLMissing)
	// Output:
	// true
	// true
	// true
}

func ExampleClient_Pipeline() {
	ctx := context.Background()
	c, err := client.New(ctx, addr)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	p := c.Pipeline()
	p.Set("counter", []byte("10"), client.SetOptions{})
	incr := p.IncrBy("counter", 5)
	get := p.Get("counter")
	if err := p.Exec(ctx); err != nil { // one write, three replies
		log.Fatal(err)
	}
	n, _ := incr.Val()
	v, _ := get.Val()
	fmt.Println(n, string(v))
	// Output: 15 15
}

func ExampleClient_Keys() {
	ctx := context.Background()
	c, err := client.New(ctx, addr)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	c.MSet(ctx, client.KV{Key: "user:1", Value: []byte("a")}, client.KV{Key: "user:2", Value: []byte("b")})

	n := 0
	for _, err := range c.Keys(ctx, "user:*") {
		if err != nil {
			log.Fatal(err)
		}
		n++
	}
	fmt.Println(n >= 2)
	// Output: true
}

func ExampleServerError() {
	ctx := context.Background()
	c, err := client.New(ctx, addr)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	c.Set(ctx, "name", []byte("ringdb"), 0)

	_, err = c.Incr(ctx, "name")
	var se *client.ServerError
	if errors.As(err, &se) {
		fmt.Println(se.Class, se.Msg)
	}
	err = c.Rename(ctx, "no-such-key", "x")
	fmt.Println(errors.Is(err, client.ErrNotFound))
	// Output:
	// ERR value is not an integer or out of range
	// true
}

func ExampleClient_Set() {
	ctx := context.Background()
	c, err := client.New(ctx, addr)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	// Bound each call with its own deadline; the connection stays usable
	// for other calls if this one gives up.
	cctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	// Cache a token-check result for 30 seconds.
	if err := c.Set(cctx, "auth:token123", []byte(`{"user":42}`), 30*time.Second); err != nil {
		log.Fatal(err)
	}
	ttl, _ := c.TTL(cctx, "auth:token123")
	fmt.Println(ttl > 29*time.Second && ttl <= 30*time.Second)
	// Output: true
}

// Example_errorHandling classifies failures: errors.Is against the
// package's sentinels for what to do, errors.As for the server's message.
func Example_errorHandling() {
	ctx := context.Background()
	c, err := client.New(ctx, addr)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	// Retry what is safe to retry: a call the server did not run
	// (ErrNotExecuted; the client has already re-sent it a few times), or
	// a write refused for memory (ErrOOM), after a pause. A bare
	// ErrConnLost means a write may or may not have been applied.
	for attempt := 1; ; attempt++ {
		err := c.Set(ctx, "report", []byte("42"), time.Hour)
		if err == nil || attempt == 3 {
			fmt.Println(err)
			break
		}
		switch {
		case errors.Is(err, client.ErrNotExecuted): // never ran: retry
			continue
		case errors.Is(err, client.ErrOOM): // the server is full
			time.Sleep(100 * time.Millisecond)
			continue
		case errors.Is(err, client.ErrConnLost):
			err = fmt.Errorf("outcome unknown: %w", err)
		}
		log.Print(err) // context errors, ErrClosed, other server errors
		break
	}

	_, err = c.Incr(ctx, "report") // works: "42" is an integer
	fmt.Println(err)
	_, err = c.IncrBy(ctx, "report", math.MaxInt64) // overflows
	var se *client.ServerError
	if errors.As(err, &se) {
		fmt.Println(se.Class, se.Msg)
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, _, err = c.Get(cctx, "report")
	fmt.Println(errors.Is(err, context.Canceled))

	c.Close()
	_, _, err = c.Get(ctx, "report")
	fmt.Println(errors.Is(err, client.ErrClosed))
	// Output:
	// <nil>
	// <nil>
	// ERR increment or decrement would overflow
	// true
	// true
}
