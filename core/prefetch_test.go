package core

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// Prefetch changes nothing and counts nothing, whatever it is given, also
// while writers move and delete the records it reads (run with -race).
func TestPrefetchChangesNothing(t *testing.T) {
	ks, err := New(Options{NoActiveExpiry: true, Shards: 2, PageSize: 4 << 10})
	require.NoError(t, err)
	defer ks.Close()
	var keys [][]byte
	for i := range 100 {
		keys = append(keys, fmt.Appendf(nil, "k%d", i))
		if i%2 == 0 {
			require.NoError(t, ks.Set(keys[i], []byte("v")))
		}
	}
	before, digest := ks.Stats(), ks.Digest()
	ks.Prefetch(nil)
	ks.Prefetch(keys) // more than PrefetchMax, half of them missing
	ks.Prefetch([][]byte{{}, []byte("k0")})
	after := ks.Stats()
	require.Equal(t, before.Hits, after.Hits)
	require.Equal(t, before.Misses, after.Misses)
	require.Equal(t, before.Keys, after.Keys)
	require.Equal(t, digest, ks.Digest())

	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for n := range 20000 {
			k := keys[n%len(keys)]
			if n%3 == 0 {
				ks.Delete(k)
			} else {
				require.NoError(t, ks.Set(k, make([]byte, n%200)))
			}
		}
	}()
	go func() {
		defer wg.Done()
		for n := range 5000 {
			ks.Prefetch(keys[n%len(keys):])
		}
	}()
	wg.Wait()
}
