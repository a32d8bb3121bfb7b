package core

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSmokeBasic(t *testing.T) {
	for _, o := range []Options{{NoActiveExpiry: true}, {NoActiveExpiry: true, PageSize: 4096, MaxMemory: 1 << 20, Eviction: AllKeys}} {
		k, err := New(o)
		require.NoError(t, err)
		for i := 0; i < 20000; i++ {
			require.NoError(t, k.Set([]byte(fmt.Sprintf("key-%d", i)), []byte(fmt.Sprintf("value-%d", i))))
		}
		found := 0
		for i := 0; i < 20000; i++ {
			v, ok := k.Get(nil, []byte(fmt.Sprintf("key-%d", i)))
			if ok {
				found++
				require.Equal(t, fmt.Sprintf("value-%d", i), string(v))
			}
		}
		st := k.Stats()
		t.Logf("found %d len %d stats %+v", found, k.Len(), st)
		if o.MaxMemory == 0 {
			require.Equal(t, 20000, found)
		} else {
			require.LessOrEqual(t, st.UsedBytes, o.MaxMemory)
		}
		k.Close()
	}
}

func TestSmokeEvictionRace(t *testing.T) {
	t.Parallel() // its own keyspace: overlaps the others, under -race too
	for _, pol := range []EvictionPolicy{AllKeys, Volatile, NoEviction} {
		k, err := New(Options{NoActiveExpiry: true, MaxMemory: 2 << 20, Eviction: pol})
		require.NoError(t, err)
		val := make([]byte, 100)
		big := make([]byte, 5000)
		ooms := 0
		for i := 0; i < 100000; i++ {
			key := []byte(fmt.Sprintf("key-%d", i))
			v := val
			if i%50 == 0 {
				v = big
			}
			var err error
			if pol == Volatile {
				_, err = k.SetOpt(nil, key, v, SetOptions{TTL: 100000})
			} else {
				err = k.Set(key, v)
			}
			if err == ErrOOM {
				ooms++
			} else {
				require.NoError(t, err)
			}
			if k.Stats().UsedBytes > 2<<20 {
				t.Fatalf("%v: used %d > max", pol, k.Stats().UsedBytes)
			}
			if i%7 == 0 {
				k.Get(nil, []byte(fmt.Sprintf("key-%d", i/2)))
			}
		}
		t.Logf("%v: ooms %d stats %+v", pol, ooms, k.Stats())
		k.Close()
	}
}
