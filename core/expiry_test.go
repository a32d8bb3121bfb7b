package core

import (
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Keys that expire and are never touched again are reclaimed by the active
// cycle alone, and their memory (pages and index) is given back.
func TestActiveExpiryReclaimsMemory(t *testing.T) {
	SkipOneGoroutineUnderRace(t)
	t.Parallel() // its own keyspace: overlaps the others
	var now atomic.Int64
	now.Store(1_000_000)
	const shards, pageSize = 16, 16 << 10
	ks, err := New(Options{NoActiveExpiry: true, Clock: now.Load, Shards: shards, PageSize: pageSize})
	require.NoError(t, err)
	defer ks.Close()
	val := make([]byte, 64)
	for i := 0; i < 1000; i++ {
		require.NoError(t, ks.Set(fmt.Appendf(nil, "keep-%d", i), val))
	}
	base := ks.Stats().UsedBytes
	n := 200_000
	if testing.Short() {
		n = 50_000
	}
	for i := 0; i < n; i++ {
		_, err := ks.SetOpt(nil, fmt.Appendf(nil, "tmp-%d", i), val, SetOptions{TTL: 1000})
		require.NoError(t, err)
	}
	full := ks.Stats().UsedBytes
	now.Add(1001)
	cycles := 0
	for ks.Len() > 1000 {
		ks.ActiveExpireCycle(25 * time.Millisecond)
		cycles++
		require.Less(t, cycles, 100_000, "active expiry made no progress")
	}
	st := ks.Stats()
	t.Logf("used: %d before, %d with %d TTL keys, %d after %d cycles", base, full, n, st.UsedBytes, cycles)
	require.Equal(t, uint64(n), st.Expired)
	// What may stay: each shard's tail page and one partly live page, and a
	// tenth of the rest.
	require.Less(t, st.UsedBytes, base+2*shards*pageSize+(full-base)/10, "memory of expired keys not reclaimed")
	for i := 0; i < 1000; i++ {
		require.True(t, ks.Exists(fmt.Appendf(nil, "keep-%d", i)))
	}
}

// BenchmarkMassExpiry1M loads 1M keys that all expire at once, then measures
// how long the background cycle takes to reclaim them and the latency of
// reads of other keys meanwhile. Run with -benchtime 1x.
func BenchmarkMassExpiry1M(b *testing.B) {
	for i := 0; i < b.N; i++ {
		var now atomic.Int64
		now.Store(time.Now().UnixMilli())
		ks, err := New(Options{Clock: now.Load})
		if err != nil {
			b.Fatal(err)
		}
		val := make([]byte, 64)
		hot := make([][]byte, 1000)
		for j := range hot {
			hot[j] = fmt.Appendf(nil, "hot-%d", j)
			_ = ks.Set(hot[j], val)
		}
		base := ks.Stats().UsedBytes
		key := make([]byte, 0, 32)
		for j := 0; j < 1<<20; j++ {
			key = fmt.Appendf(key[:0], "exp-%d", j)
			if _, err := ks.SetOpt(nil, key, val, SetOptions{TTL: 1000}); err != nil {
				b.Fatal(err)
			}
		}
		full := ks.Stats().UsedBytes
		b.ResetTimer()
		start := time.Now()
		now.Add(1001)
		// Sample the latency of every 64th read of a hot key while the
		// background cycle reclaims the expired ones.
		var lat []time.Duration
		buf := make([]byte, 0, 64)
		for j := 0; ks.Len() > len(hot); j++ {
			if j%64 != 0 {
				buf, _ = ks.Get(buf[:0], hot[j%len(hot)])
				continue
			}
			t0 := time.Now()
			buf, _ = ks.Get(buf[:0], hot[j%len(hot)])
			lat = append(lat, time.Since(t0))
			if j%(1<<16) == 0 {
				time.Sleep(time.Millisecond) // leave the expiry goroutine a core
			}
		}
		reclaim := time.Since(start)
		b.StopTimer()
		slices.Sort(lat)
		used := ks.Stats().UsedBytes
		b.ReportMetric(float64(reclaim.Milliseconds()), "reclaim-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "get-p99-ns")
		b.ReportMetric(float64(lat[len(lat)-1].Nanoseconds()), "get-max-ns")
		b.ReportMetric(float64(full-base)/(1<<20), "expiring-MiB")
		b.ReportMetric(float64(used-base)/(1<<20), "left-MiB")
		ks.Close()
		b.StartTimer()
	}
}

// ExpiryStats' average TTL follows Redis's avg_ttl: 0 before the active
// cycle has sampled, then the TTL left on sampled keys with a TTL, moving
// towards a new average by 1/50 per sample, and 0 again once no key has a
// TTL.
func TestExpiryStatsAverageTTL(t *testing.T) {
	ks, now := newOpsKS(t, Options{Shards: 4})
	for i := range 400 {
		require.NoError(t, ks.Set(fmt.Appendf(nil, "plain-%d", i), []byte("v")))
		_, err := ks.SetOpt(nil, fmt.Appendf(nil, "ttl-%d", i), []byte("v"), SetOptions{TTL: 10_000})
		require.NoError(t, err)
	}
	n, avg := ks.ExpiryStats()
	require.Equal(t, int64(400), n)
	require.Zero(t, avg, "nothing sampled yet")

	ks.ActiveExpireCycle(time.Second)
	_, avg = ks.ExpiryStats()
	require.Equal(t, int64(10_000), avg, "every sampled key has 10 s left")

	// 4 s later the keys have 6 s left: the estimate moves there by a
	// fiftieth of the gap per sample.
	now.Add(4_000)
	prev := avg
	for range 5 {
		ks.ActiveExpireCycle(time.Second)
		_, avg = ks.ExpiryStats()
		require.Less(t, avg, prev, "the estimate moves towards 6 s")
		require.Greater(t, avg, int64(6_000))
		prev = avg
	}
	for range 2000 {
		ks.ActiveExpireCycle(time.Second)
	}
	_, avg = ks.ExpiryStats()
	require.InDelta(t, 6_000, avg, 100)

	for i := range 400 {
		ks.Persist(fmt.Appendf(nil, "ttl-%d", i))
	}
	ks.ActiveExpireCycle(time.Second)
	n, avg = ks.ExpiryStats()
	require.Zero(t, n)
	require.Zero(t, avg, "no key has a TTL")
	require.Zero(t, ks.Expires())
}
