package client

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/ringdb/ringdb/server"
)

// BenchmarkGoRedisGetParallel is BenchmarkGetParallel with go-redis over
// RESP against the same server, for comparison.
func BenchmarkGoRedisGetParallel(b *testing.B) {
	s := startServer(b, server.Config{})
	rc := redis.NewClient(&redis.Options{Addr: s.Addr(), PoolSize: 50})
	defer rc.Close()
	ctx := context.Background()
	if err := rc.Set(ctx, "k", "value", 0).Err(); err != nil {
		b.Fatal(err)
	}
	b.SetParallelism(25)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := rc.Get(ctx, "k").Err(); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkGoRedisGetSerial is BenchmarkGetSerial with go-redis over RESP.
func BenchmarkGoRedisGetSerial(b *testing.B) {
	s := startServer(b, server.Config{})
	rc := redis.NewClient(&redis.Options{Addr: s.Addr()})
	defer rc.Close()
	ctx := context.Background()
	if err := rc.Set(ctx, "k", "value", 0).Err(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := rc.Get(ctx, "k").Err(); err != nil {
			b.Fatal(err)
		}
	}
}
