package core

import (
	"fmt"
	"strconv"
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
		var key, readKey []byte
		for i := 0; i < 100000; i++ {
			// Keys built without fmt, and the bound read with UsedBytes
			// (the figure Stats reports, without Stats' other sums):
			// under -race these dominated the 300,000 writes.
			key = strconv.AppendInt(append(key[:0], "key-"...), int64(i), 10)
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
			if used := k.UsedBytes(); used > 2<<20 {
				t.Fatalf("%v: used %d > max", pol, used)
			}
			if i%7 == 0 {
				readKey = strconv.AppendInt(append(readKey[:0], "key-"...), int64(i/2), 10)
				k.Get(nil, readKey)
			}
		}
		t.Logf("%v: ooms %d stats %+v", pol, ooms, k.Stats())
		k.Close()
	}
}
