// Side-by-side benchmark of ringdb's keyspace and its peers.
//
//	go test -run '^$' -bench Compare -cpu 2 -benchtime 2s
//
// BenchmarkCompare/<impl>/<op> runs with impl in impls.Names and op in Get,
// Set, Mixed90 (90% Get, 10% Set). Every store is prefilled with the same
// -compare.keys records (16-byte key, 64-byte value) and driven by the same
// loop: goroutine k of a run draws record indexes from its own splitmix64
// generator seeded with k, so all stores see the same key sequences.
// Set overwrites a record with its own value (derived from the key, see
// package workload), so every Get must keep hitting and returning the
// expected bytes; the benchmark fails if one does not.
package benchmarks

import (
	"bytes"
	"flag"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ringdb/ringdb/benchmarks/internal/impls"
	"github.com/ringdb/ringdb/benchmarks/internal/workload"
)

var keysFlag = flag.Int("compare.keys", 1<<20, "records prefilled into each store by BenchmarkCompare")

// setShare is the fraction of Mixed90 operations that are a Set, as a
// threshold on 32 random bits.
const setShare = (1 << 32) / 10

// verifySample is how many random records are checked after each timed run.
const verifySample = 4096

var (
	datasetOnce sync.Once
	dataset     *workload.Dataset
)

// sharedDataset builds the records once per process; they are pointer-free,
// so keeping them alive costs the garbage collector nothing.
func sharedDataset() *workload.Dataset {
	datasetOnce.Do(func() { dataset = workload.NewDataset(*keysFlag) })
	return dataset
}

func BenchmarkCompare(b *testing.B) {
	ds := sharedDataset()
	for _, name := range impls.Names {
		b.Run(name, func(b *testing.B) {
			// A parent benchmark body runs once, so each store is built and
			// prefilled once per -count, and only while its name matches
			// -bench. It is released before the next store is built, so no
			// store's heap objects burden another's garbage collections.
			switch name {
			case "ringdb":
				compareOps(b, ds, impls.NewRingdb)
			case "fastcache":
				compareOps(b, ds, noErr(impls.NewFastcache))
			case "freecache":
				compareOps(b, ds, noErr(impls.NewFreecache))
			case "otter":
				compareOps(b, ds, impls.NewOtter)
			case "shardedmap":
				compareOps(b, ds, noErr(impls.NewShardedMap))
			default:
				b.Fatalf("no benchmark wiring for store %q", name)
			}
		})
	}
}

func noErr[S impls.Store](f func() S) func() (S, error) {
	return func() (S, error) { return f(), nil }
}

// compareOps is generic over the adapter type so that each store gets its own
// instantiation with direct calls to its methods.
func compareOps[S impls.Store](b *testing.B, ds *workload.Dataset, newStore func() (S, error)) {
	s, err := newStore()
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		s.Close()
		runtime.GC()
		debug.FreeOSMemory()
	}()
	if err := prefill(s, ds); err != nil {
		b.Fatal(err)
	}
	if err := verifyAll(s, ds); err != nil {
		b.Fatal(err)
	}
	b.Run("Get", func(b *testing.B) { runOp(b, s, ds, opGet) })
	b.Run("Set", func(b *testing.B) { runOp(b, s, ds, opSet) })
	b.Run("Mixed90", func(b *testing.B) { runOp(b, s, ds, opMixed90) })
}

type op int

const (
	opGet op = iota
	opSet
	opMixed90
)

// verifySeed seeds the generator that picks the records checked after each
// timed run; it differs from the goroutine seeds (1, 2, ...).
const verifySeed = 0x5eed

func runOp[S impls.Store](b *testing.B, s S, ds *workload.Dataset, o op) {
	n := ds.Len()
	var (
		seeds    atomic.Uint64 // goroutine k of every run of every store draws from seed k
		bad      atomic.Int64  // Gets that missed or returned the wrong length
		setErrs  atomic.Int64
		firstErr atomic.Value
	)
	b.ReportAllocs()
	b.SetBytes(workload.RecordSize)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		rng := workload.NewRand(seeds.Add(1))
		buf := make([]byte, 0, 2*workload.ValueSize)
		val := make([]byte, 0, workload.ValueSize)
		// Keys are built in a buffer that stays in cache, as a server
		// finds them in its read buffer (see workload.Dataset).
		kbuf := make([]byte, 0, workload.KeySize)
		var misses, errs int64
		switch o {
		case opGet:
			for pb.Next() {
				i := workload.Index(rng.Next(), n)
				var ok bool
				buf, ok = s.Get(buf[:0], workload.AppendKey(kbuf[:0], i))
				if !ok || len(buf) != workload.ValueSize {
					misses++
				}
			}
		case opSet:
			for pb.Next() {
				key := workload.AppendKey(kbuf[:0], workload.Index(rng.Next(), n))
				val = workload.AppendValueOf(val[:0], key)
				if err := s.Set(key, val); err != nil {
					errs++
					firstErr.CompareAndSwap(nil, err)
				}
			}
		case opMixed90:
			for pb.Next() {
				r := rng.Next()
				key := workload.AppendKey(kbuf[:0], workload.Index(r, n))
				if uint32(r>>32) < setShare {
					val = workload.AppendValueOf(val[:0], key)
					if err := s.Set(key, val); err != nil {
						errs++
						firstErr.CompareAndSwap(nil, err)
					}
					continue
				}
				var ok bool
				buf, ok = s.Get(buf[:0], key)
				if !ok || len(buf) != workload.ValueSize {
					misses++
				}
			}
		}
		bad.Add(misses)
		setErrs.Add(errs)
	})
	b.StopTimer()
	if e := setErrs.Load(); e > 0 {
		b.Fatalf("%d of %d Set calls failed; first: %v", e, b.N, firstErr.Load())
	}
	if m := bad.Load(); m > 0 {
		b.Fatalf("%d of %d Get calls missed or returned a value of the wrong length", m, b.N)
	}
	if err := verifySampled(s, ds, verifySeed); err != nil {
		b.Fatal(err)
	}
}

func prefill(s impls.Store, ds *workload.Dataset) error {
	var val []byte
	for i := range ds.Len() {
		val = workload.AppendValueOf(val[:0], ds.Key(i))
		if err := s.Set(ds.Key(i), val); err != nil {
			return fmt.Errorf("prefill: Set(%q): %w", ds.Key(i), err)
		}
	}
	return nil
}

// verifyAll checks every record and one absent key.
func verifyAll(s impls.Store, ds *workload.Dataset) error {
	var buf []byte
	for i := range ds.Len() {
		if err := verifyOne(s, ds, i, &buf); err != nil {
			return err
		}
	}
	absent := []byte("absent:000000000")
	if v, ok := s.Get(nil, absent); ok {
		return fmt.Errorf("Get(%q) of a key never set returned %q, true", absent, v)
	}
	return nil
}

// verifySampled checks verifySample records chosen by a generator seeded
// with seed.
func verifySampled(s impls.Store, ds *workload.Dataset, seed uint64) error {
	rng := workload.NewRand(seed)
	var buf []byte
	for range verifySample {
		if err := verifyOne(s, ds, workload.Index(rng.Next(), ds.Len()), &buf); err != nil {
			return err
		}
	}
	return nil
}

func verifyOne(s impls.Store, ds *workload.Dataset, i int, buf *[]byte) error {
	prefix := []byte("prefix")
	v, ok := s.Get(append((*buf)[:0], prefix...), ds.Key(i))
	*buf = v
	switch {
	case !ok:
		return fmt.Errorf("Get(%q): missing", ds.Key(i))
	case !bytes.HasPrefix(v, prefix):
		return fmt.Errorf("Get(%q): did not append to dst: got %q", ds.Key(i), v)
	}
	var want [workload.ValueSize]byte
	if w := workload.AppendValueOf(want[:0], ds.Key(i)); !bytes.Equal(v[len(prefix):], w) {
		return fmt.Errorf("Get(%q) = %q, want %q", ds.Key(i), v[len(prefix):], w)
	}
	return nil
}
