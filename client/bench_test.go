package client

import (
	"context"
	"fmt"
	"testing"

	"github.com/ringdb/ringdb/server"
)

// BenchmarkGetParallel measures GET from many goroutines sharing a client
// (automatic pipelining).
func BenchmarkGetParallel(b *testing.B) {
	s := startServer(b, server.Config{})
	c := newClient(b, s.Addr())
	ctx := context.Background()
	if err := c.Set(ctx, "k", []byte("value"), 0); err != nil {
		b.Fatal(err)
	}
	b.SetParallelism(25) // 50 goroutines on 2 cores
	b.ReportAllocs()
	before := c.writeCount()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, err := c.Get(ctx, "k"); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/float64(c.writeCount()-before), "calls/write")
}

// BenchmarkGetSerial measures one caller's round trip.
func BenchmarkGetSerial(b *testing.B) {
	for _, n := range []int{1, 2} {
		b.Run(fmt.Sprintf("pool=%d", n), func(b *testing.B) { benchGetSerial(b, n) })
	}
}

func benchGetSerial(b *testing.B, pool int) {
	s := startServer(b, server.Config{})
	c := newClient(b, s.Addr(), WithPoolSize(pool))
	ctx := context.Background()
	if err := c.Set(ctx, "k", []byte("value"), 0); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := c.Get(ctx, "k"); err != nil {
			b.Fatal(err)
		}
	}
}
