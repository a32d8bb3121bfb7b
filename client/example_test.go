package client_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
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
