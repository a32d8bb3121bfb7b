package server

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

// TestAuth: with a token, every command but AUTH, HELLO and QUIT answers
// NOAUTH until the client authenticates; unknown commands and arity errors
// still come first, as in Redis.
func TestAuth(t *testing.T) {
	forEachTransport(t, Config{AuthToken: "s3cret"}, func(t *testing.T, ts *testServer) {
		noAuth := errR("NOAUTH Authentication required.")
		c := ts.raw(t)
		runSteps(t, c, []step{
			s(noAuth, "GET", "k"),
			s(noAuth, "PING"),
			s(errR("ERR unknown command 'nosuch', with args beginning with: "), "nosuch"),
			s(arity("get"), "GET"),
			s(errR("WRONGPASS invalid username-password pair or user is disabled."), "AUTH", "wrong"),
			s(errR("WRONGPASS invalid username-password pair or user is disabled."), "AUTH", "other", "s3cret"),
			s(errR("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"), "HELLO", "2"),
			s(errR("WRONGPASS invalid username-password pair or user is disabled."), "HELLO", "2", "AUTH", "default", "nope"),
			s(noAuth, "GET", "k"),
			s(okR, "AUTH", "s3cret"),
			s(nullR, "GET", "k"),
			s(okR, "AUTH", "default", "s3cret"),
		}, false)

		c2 := ts.raw(t)
		if got := c2.do(t, "HELLO", "2", "AUTH", "default", "s3cret", "SETNAME", "n1"); !strings.HasPrefix(got, "*14\r\n") {
			t.Errorf("HELLO AUTH = %q", got)
		}
		if got := c2.do(t, "CLIENT", "GETNAME"); got != bulkR("n1") {
			t.Errorf("CLIENT GETNAME = %q", got)
		}

		ctx := context.Background()
		good := ts.redis(t, 3, func(o *redis.Options) { o.Password = "s3cret" })
		if err := good.Set(ctx, "k", "v", 0).Err(); err != nil {
			t.Fatalf("go-redis with password: %v", err)
		}
		bad := ts.redis(t, 3, nil)
		if err := bad.Get(ctx, "k").Err(); err == nil || !strings.HasPrefix(err.Error(), "NOAUTH") {
			t.Errorf("go-redis without password: %v", err)
		}
		var re redis.Error
		if err := ts.redis(t, 2, func(o *redis.Options) { o.Password = "bad" }).Ping(ctx).Err(); !errors.As(err, &re) {
			t.Errorf("go-redis wrong password: %v", err)
		}

		// Clearing requirepass lifts the requirement for everyone.
		if got := c.do(t, "CONFIG", "GET", "requirepass"); got != bulksR("requirepass", "s3cret") {
			t.Errorf("CONFIG GET requirepass = %q", got)
		}
		if got := c.do(t, "CONFIG", "SET", "requirepass", ""); got != okR {
			t.Fatalf("CONFIG SET requirepass = %q", got)
		}
		if got := ts.raw(t).do(t, "GET", "k"); got != bulkR("v") {
			t.Errorf("GET after clearing requirepass = %q", got)
		}
	})
}
