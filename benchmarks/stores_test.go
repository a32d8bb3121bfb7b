package benchmarks

import (
	"bytes"
	"testing"

	"github.com/ringdb/ringdb/benchmarks/internal/impls"
	"github.com/ringdb/ringdb/benchmarks/internal/workload"
)

// TestStores checks every adapter against the Store contract on a small data
// set, so a broken adapter fails here quickly instead of looking fast in
// BenchmarkCompare.
func TestStores(t *testing.T) {
	ds := workload.NewDataset(4096)
	for _, name := range impls.Names {
		t.Run(name, func(t *testing.T) {
			s, err := impls.New(name)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if v, ok := s.Get([]byte("x"), ds.Key(0)); ok || string(v) != "x" {
				t.Fatalf("Get on an empty store = %q, %v; want %q, false", v, ok, "x")
			}
			if err := prefill(s, ds); err != nil {
				t.Fatal(err)
			}
			if err := verifyAll(s, ds); err != nil {
				t.Fatal(err)
			}

			// Overwrite with a shorter and a longer value, from a buffer the
			// caller then scribbles over.
			key := bytes.Clone(ds.Key(7))
			for _, size := range []int{3, 200, workload.ValueSize} {
				val := bytes.Repeat([]byte{byte(size)}, size)
				if err := s.Set(key, val); err != nil {
					t.Fatalf("Set %d bytes: %v", size, err)
				}
				want := bytes.Clone(val)
				clear(val)
				key[0] ^= 0xff
				got, ok := s.Get(nil, ds.Key(7))
				key[0] ^= 0xff
				if !ok || !bytes.Equal(got, want) {
					t.Fatalf("after Set of %d bytes: Get = %x, %v; want %x", size, got, ok, want)
				}
			}
			// Put record 7 back; then every record must read as written.
			if err := s.Set(key, workload.AppendValue(nil, 7)); err != nil {
				t.Fatal(err)
			}
			var buf []byte
			for i := range ds.Len() {
				if err := verifyOne(s, ds, i, &buf); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}
