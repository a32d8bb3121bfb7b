package core

import (
	"bytes"
	"fmt"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestMGetManyLargeValuesGrowsGeometrically: an MGET of many values over
// bigValue gathers them in a buffer that grows geometrically. Past
// bufpool.Max, appendValue took a buffer of exactly what it held plus the
// next value, copying all it held for every value: an MGET of 300 values
// of 100 KiB (a 30 MB reply) cost the server 3.5 s of CPU and 3.3 GB of
// garbage, and one of 1000 such values took the server to 23 GB and the
// OOM killer.
func TestMGetManyLargeValuesGrowsGeometrically(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	ks, _ := newOpsKS(t, Options{})
	const n, size = 48, 1 << 20
	keys := make([][]byte, n)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "k%d", i)
		require.NoError(t, ks.Set(keys[i], bytes.Repeat([]byte{byte('a' + i%26)}, size)))
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	buf, vals := ks.MGet(nil, nil, keys...)
	runtime.ReadMemStats(&after)
	require.Len(t, vals, n)
	for i, v := range vals {
		require.True(t, bytes.Equal(v, bytes.Repeat([]byte{byte('a' + i%26)}, size)), "value %d", i)
	}
	require.GreaterOrEqual(t, len(buf), n*size)
	if got := after.TotalAlloc - before.TotalAlloc; got > 5*n*size {
		t.Fatalf("MGET of %d values of %d bytes allocated %d MiB", n, size, got>>20)
	}
}
