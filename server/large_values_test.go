package server

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"
)

// largeVal is value v of key k: its own length and bytes, so that a reply
// carrying another key's bytes, or a buffer reused too early, shows.
func largeVal(k, v int) []byte {
	n := 70_000 + (k*7919+v*104729)%400_000
	b := bytes.Repeat([]byte{byte('a' + (k+v)%26)}, n)
	copy(b, fmt.Sprintf("<%d:%d>", k, v))
	copy(b[n-16:], fmt.Sprintf("<%d:%d>", k, v))
	return b
}

// Large values move through buffers the decoders, the keyspace and the
// replies share through a pool (internal/bufpool). Clients pipelining SETs
// and GETs of large values at once, with small replies between them, must
// each read back exactly what they wrote: a buffer handed back to the pool
// while still in use would show up as another client's bytes.
func TestLargeValuesPipelinedAcrossClients(t *testing.T) {
	forEachTransport(t, Config{}, func(t *testing.T, ts *testServer) {
		ctx := context.Background()
		const clients, rounds, keysPer = 4, 6, 5
		var wg sync.WaitGroup
		errs := make(chan error, clients)
		for c := range clients {
			rc := ts.redis(t, 2+c%2, nil)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for r := range rounds {
					pipe := rc.Pipeline()
					for i := range keysPer {
						k := c*keysPer + i
						pipe.Set(ctx, fmt.Sprint("big", k), largeVal(k, r), 0)
						pipe.Incr(ctx, fmt.Sprint("n", c))
					}
					gets := make([]*redis.StringCmd, keysPer)
					for i := range keysPer {
						k := c*keysPer + i
						gets[i] = pipe.Get(ctx, fmt.Sprint("big", k))
						pipe.Ping(ctx)
					}
					mget := pipe.MGet(ctx, fmt.Sprint("big", c*keysPer), "nokey", fmt.Sprint("big", c*keysPer+1))
					if _, err := pipe.Exec(ctx); err != nil {
						errs <- fmt.Errorf("client %d round %d: %v", c, r, err)
						return
					}
					for i, g := range gets {
						k := c*keysPer + i
						if got := g.Val(); got != string(largeVal(k, r)) {
							errs <- fmt.Errorf("client %d round %d: GET big%d: %d bytes, starting %.12q", c, r, k, len(got), got)
							return
						}
					}
					mv := mget.Val()
					if len(mv) != 3 || mv[0] != string(largeVal(c*keysPer, r)) || mv[1] != nil || mv[2] != string(largeVal(c*keysPer+1, r)) {
						errs <- fmt.Errorf("client %d round %d: MGET reply wrong", c, r)
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})
}
