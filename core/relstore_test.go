package core

import (
	"bytes"
	"encoding/binary"
	"sync/atomic"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

// TestStoreWords: the writer side of in-place overwrites (assembly on
// amd64, sync/atomic elsewhere and under -race) stores every byte of the
// value, zero-pads its last word, and writes nothing past the words it
// was given.
func TestStoreWords(t *testing.T) {
	for n := 0; n <= 40; n++ {
		val := make([]byte, n)
		for i := range val {
			val[i] = byte(i*7 + 1)
		}
		buf := bytes.Repeat([]byte{0xee}, 64+8)
		w := buf[8 : 8+roundUp8(n)]
		storeWords(w, val)
		require.Equal(t, val, w[:n], "n=%d", n)
		require.Equal(t, make([]byte, len(w)-n), w[n:], "n=%d: padding", n)
		require.Equal(t, bytes.Repeat([]byte{0xee}, 8), buf[:8], "n=%d: before", n)
		require.Equal(t, bytes.Repeat([]byte{0xee}, len(buf)-8-len(w)), buf[8+len(w):], "n=%d: after", n)
		require.Equal(t, string(val), string(appendWords(nil, w, n)), "n=%d: read back", n)
	}
	d := make([]byte, 16)
	storeDeadline(d[8:], -1)
	require.EqualValues(t, -1, loadDeadline(d[8:]))
	require.Equal(t, make([]byte, 8), d[:8])
	var seq atomic.Uint32
	seqBump(&seq)
	seqBump(&seq)
	require.EqualValues(t, 2, seq.Load())
}

// BenchmarkStoreWords is the writer side of one in-place overwrite of a
// 64-byte value in cache: the two sequence increments and eight value
// words, as built (impl=build: assembly release stores on amd64) and with
// sync/atomic's sequentially consistent stores (impl=seqcst, the generic
// build's), for a same-run ratio.
func BenchmarkStoreWords(b *testing.B) {
	val := bytes.Repeat([]byte("v"), 64)
	for _, impl := range []string{"build", "seqcst"} {
		b.Run("impl="+impl, func(b *testing.B) {
			buf := make([]byte, 32*128)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				rec := buf[(i&31)*128:]
				seq := seqWord(rec)
				if impl == "build" {
					seqBump(seq)
					storeWords(rec[8:72], val)
					seqBump(seq)
				} else {
					seq.Add(1)
					for j := 0; j < 64; j += 8 {
						atomic.StoreUint64((*uint64)(unsafe.Pointer(&rec[8+j])), binary.LittleEndian.Uint64(val[j:]))
					}
					seq.Add(1)
				}
			}
		})
	}
}
