package core

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// reviewVal builds a self-checking value: family id, generation, payload,
// crc32 of all before it.
func reviewVal(dst []byte, fam int, gen uint64, n int) []byte {
	dst = dst[:0]
	dst = binary.LittleEndian.AppendUint32(dst, uint32(fam))
	dst = binary.LittleEndian.AppendUint64(dst, gen)
	for i := 0; i < n; i++ {
		dst = append(dst, byte(gen)+byte(i*7))
	}
	return binary.LittleEndian.AppendUint32(dst, crc32.ChecksumIEEE(dst))
}

func reviewCheck(v []byte, fam int) error {
	if len(v) < 16 {
		return fmt.Errorf("short value %d", len(v))
	}
	body := v[:len(v)-4]
	if crc32.ChecksumIEEE(body) != binary.LittleEndian.Uint32(v[len(v)-4:]) {
		return fmt.Errorf("bad crc (len %d)", len(v))
	}
	if f := int(binary.LittleEndian.Uint32(v)); f != fam {
		return fmt.Errorf("value of family %d under family %d", f, fam)
	}
	return nil
}

// Large and small values are overwritten, renamed, expired, evicted and
// deleted while readers copy them (Get, MGet, Prefetch, Scan); every value
// read must be whole and belong to its key, and once everything is deleted
// the memory must be given back.
func TestEpochChurnLargeValues(t *testing.T) {
	for _, o := range []Options{
		{NoActiveExpiry: true, Shards: 2, PageSize: 4 << 10},
		{Shards: 2, PageSize: 4 << 10, MaxMemory: 512 << 10, Eviction: AllKeys},
		{Shards: 2, MaxMemory: 1 << 20, Eviction: AllKeys},
	} {
		t.Run(fmt.Sprintf("max%d", o.MaxMemory), func(t *testing.T) { reviewChurn(t, o) })
	}
}

func reviewChurn(t *testing.T, o Options) {
	base, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	baseUsed := base.Stats().UsedBytes
	base.Close()
	ks, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Close()
	const fams = 24
	// Family f has keys f:a and f:b; Rename moves a value between them.
	keys := make([][]byte, 0, 2*fams)
	famOf := map[string]int{}
	for f := 0; f < fams; f++ {
		for _, s := range []string{"a", "b"} {
			k := fmt.Appendf(nil, "fam%d:%s", f, s)
			keys = append(keys, k)
			famOf[string(k)] = f
		}
	}
	var gen atomic.Uint64
	var failures atomic.Int64
	fail := func(format string, args ...any) {
		if failures.Add(1) < 10 {
			t.Errorf(format, args...)
		}
	}
	stop := make(chan struct{})
	var wg, rwg sync.WaitGroup
	if o.PageSize == 0 {
		// Page size follows the bound: records change between normal
		// and large pages under the writers.
		rwg.Add(1)
		go func() {
			defer rwg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				case <-time.After(time.Millisecond):
				}
				_ = ks.SetMaxMemory([]int64{1 << 20, 64 << 20, 2 << 20}[i%3])
			}
		}()
	}
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 9))
			var buf []byte
			for i := 0; i < 6000; i++ {
				k := keys[rng.IntN(len(keys))]
				f := famOf[string(k)]
				n := rng.IntN(64)
				switch rng.IntN(4) {
				case 0:
					n = 900 + rng.IntN(6000) // large
				case 1:
					n = 8 * rng.IntN(4) // a few lengths: in-place overwrites
				}
				buf = reviewVal(buf, f, gen.Add(1), n)
				var err error
				switch op := rng.IntN(10); {
				case op < 4:
					err = ks.Set(k, buf)
				case op < 6:
					_, err = ks.SetOpt(nil, k, buf, SetOptions{TTL: int64(1 + rng.IntN(5))})
				case op < 7:
					err = ks.Rename(k, keys[(2*f)+rng.IntN(2)])
					if err == ErrNoSuchKey {
						err = nil
					}
				case op < 8:
					ks.Delete(k)
				case op < 9:
					_, err = ks.PExpire(k, int64(rng.IntN(3)), ExpireAlways)
				default:
					_, _ = ks.GetDel(nil, k)
				}
				if err != nil && err != ErrOOM {
					fail("write: %v", err)
				}
			}
		}(w)
	}
	for r := 0; r < 6; r++ {
		rwg.Add(1)
		go func(r int) {
			defer rwg.Done()
			rng := rand.New(rand.NewPCG(uint64(r), 7))
			var buf []byte
			var vals [][]byte
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				switch r % 3 {
				case 0:
					k := keys[rng.IntN(len(keys))]
					var ok bool
					if buf, ok = ks.Get(buf[:0], k); ok {
						if err := reviewCheck(buf, famOf[string(k)]); err != nil {
							fail("Get %s: %v", k, err)
						}
					}
				case 1:
					i := rng.IntN(len(keys) - 8)
					ks.Prefetch(keys[i : i+8])
					buf, vals = ks.MGet(buf[:0], vals, keys[i:i+8]...)
					for j, v := range vals {
						if v != nil {
							if err := reviewCheck(v, famOf[string(keys[i+j])]); err != nil {
								fail("MGet %s: %v", keys[i+j], err)
							}
						}
					}
				default:
					var cur uint64
					var out [][]byte
					for {
						out, cur = ks.Scan(cur, nil, 5, out[:0])
						for _, k := range out {
							if _, ok := famOf[string(k)]; !ok {
								fail("Scan returned unknown key %q", k)
							}
						}
						if cur == 0 {
							break
						}
					}
					ks.Len()
				}
				if n%64 == 0 {
					runtime.Gosched()
				}
			}
		}(r)
	}
	wg.Wait()
	close(stop)
	rwg.Wait()
	for _, k := range keys {
		ks.Delete(k)
	}
	time.Sleep(10 * time.Millisecond)
	for _, k := range keys {
		ks.Delete(k)
	}
	if l := ks.Len(); l != 0 {
		t.Errorf("Len = %d after deleting every key", l)
	}
	ks.Flush()
	st := ks.Stats()
	// Up to two pooled pages per shard stay (newTail's reserve), as
	// TestReviewFlushShrinksGhost allows.
	if st.UsedBytes > baseUsed+int64(2*len(ks.shards)*ks.pageSize)+int64(len(ks.shards))*4*64 {
		t.Errorf("UsedBytes %d after Flush, empty keyspace %d", st.UsedBytes, baseUsed)
	}
	var sum int64
	for i := range ks.shards {
		s := &ks.shards[i]
		s.mu.Lock()
		for _, p := range s.free {
			sum += int64(len(p.buf))
		}
		sum += s.table.Load().bytes() + int64(len(s.ghost))*4
		for _, p := range s.retired {
			sum += int64(len(p.buf))
		}
		s.mu.Unlock()
	}
	if sum != st.UsedBytes {
		t.Errorf("UsedBytes %d, but pooled+retired+tables+ghost hold %d", st.UsedBytes, sum)
	}
}

// More readers than epoch slots, each descheduled mid-read by the
// scheduler; writers keep retiring pages. Nothing may deadlock or tear.
func TestEpochSlotExhaustion(t *testing.T) {
	ks, err := New(Options{NoActiveExpiry: true, Shards: 2, PageSize: 4 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Close()
	nslots := len(ks.ep.slots)
	keys := make([][]byte, 32)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "k%d", i)
	}
	var stopW atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var buf []byte
		for g := uint64(0); !stopW.Load(); g++ {
			i := int(g) % len(keys)
			buf = reviewVal(buf, i, g, int(g%100))
			if err := ks.Set(keys[i], buf); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	// Hold every slot but a few, then start many readers.
	var held []*readerSlot
	for i := 0; i < nslots-2; i++ {
		held = append(held, ks.ep.enter())
	}
	var rwg sync.WaitGroup
	var bad atomic.Int64
	for r := 0; r < 4*nslots; r++ {
		rwg.Add(1)
		go func(r int) {
			defer rwg.Done()
			var buf []byte
			for n := 0; n < 50; n++ {
				i := (r + n) % len(keys)
				var ok bool
				if buf, ok = ks.Get(buf[:0], keys[i]); ok {
					if reviewCheck(buf, i) != nil {
						bad.Add(1)
					}
				}
			}
		}(r)
	}
	time.Sleep(50 * time.Millisecond)
	for _, s := range held {
		s.exit()
	}
	done := make(chan struct{})
	go func() { rwg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("readers stuck with every slot held")
	}
	stopW.Store(true)
	wg.Wait()
	if bad.Load() != 0 {
		t.Fatalf("%d torn reads", bad.Load())
	}
}

// Close while readers and writers run: no panic, writes after Close fail
// with ErrClosed, reads after Close find nothing.
func TestEpochCloseConcurrent(t *testing.T) {
	for round := 0; round < 20; round++ {
		ks, err := New(Options{Shards: 4, PageSize: 4 << 10})
		if err != nil {
			t.Fatal(err)
		}
		keys := make([][]byte, 64)
		for i := range keys {
			keys[i] = fmt.Appendf(nil, "k%d", i)
		}
		var closed atomic.Bool
		var wg sync.WaitGroup
		for w := 0; w < 6; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				var buf []byte
				var vals [][]byte
				for n := 0; n < 3000; n++ {
					i := (n*7 + w) % len(keys)
					after := closed.Load()
					switch n % 5 {
					case 0, 1:
						buf = reviewVal(buf, i, uint64(n), (n*13)%2000)
						err := ks.Set(keys[i], buf)
						if after && err != ErrClosed {
							t.Errorf("Set after Close: %v", err)
						}
					case 2:
						var ok bool
						buf, ok = ks.Get(buf[:0], keys[i])
						if ok {
							if err := reviewCheck(buf, i); err != nil {
								t.Errorf("Get %s: %v", keys[i], err)
							}
						}
						if ok && after {
							t.Errorf("Get after Close found %s", keys[i])
						}
					case 3:
						ks.Prefetch(keys[i/2 : i/2+8])
						buf, vals = ks.MGet(buf[:0], vals, keys[i/2:i/2+8]...)
						_ = ks.Delete(keys[i])
					default:
						ks.Scan(0, nil, 20, nil)
						ks.Len()
						ks.Exists(keys[i])
					}
				}
			}(w)
		}
		time.Sleep(time.Duration(round%5) * time.Millisecond)
		ks.Close()
		closed.Store(true)
		wg.Wait()
		if l := ks.Len(); l != 0 {
			t.Errorf("Len after Close = %d", l)
		}
		if st := ks.Stats(); st.UsedBytes > int64(len(ks.shards))*(newTableBytes(minTableSize)+64*4) {
			t.Errorf("UsedBytes after Close = %d", st.UsedBytes)
		}
	}
}

var _ = bytes.Equal

// Index tables big enough to live in the arena grow, shrink and are
// rebuilt while Get, MGet, Scan and Prefetch read them; TTL keys expire
// under the readers so that their hints are drained concurrently.
func TestEpochArenaTablesChurn(t *testing.T) {
	t.Parallel() // its own keyspace: overlaps the others, under -race too
	ks, err := New(Options{Shards: 1, PageSize: 16 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Close()
	const n = 30000
	keys := make([][]byte, n)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "key:%d", i)
	}
	var stop atomic.Bool
	var failures atomic.Int64
	var wg sync.WaitGroup
	for r := 0; r < 4; r++ {
		wg.Add(1)
		go func(r int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(r), 3))
			var buf []byte
			var vals [][]byte
			for !stop.Load() {
				i := rng.IntN(n - 16)
				switch r {
				case 0:
					var ok bool
					if buf, ok = ks.Get(buf[:0], keys[i]); ok {
						if reviewCheck(buf, i) != nil {
							failures.Add(1)
						}
					}
				case 1:
					ks.Prefetch(keys[i : i+16])
					buf, vals = ks.MGet(buf[:0], vals, keys[i:i+16]...)
					for j, v := range vals {
						if v != nil && reviewCheck(v, i+j) != nil {
							failures.Add(1)
						}
					}
				case 2:
					var cur uint64
					var out [][]byte
					for m := 0; m < 50; m++ {
						out, cur = ks.Scan(cur, nil, 100, out[:0])
						if cur == 0 {
							break
						}
					}
				default:
					ks.Len()
					ks.Exists(keys[i])
				}
			}
		}(r)
	}
	var buf []byte
	for round := 0; round < 6; round++ {
		for i := 0; i < n; i++ {
			buf = reviewVal(buf, i, uint64(round), i%40)
			if i%3 == 0 {
				_, err = ks.SetOpt(nil, keys[i], buf, SetOptions{TTL: 1})
			} else {
				err = ks.Set(keys[i], buf)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		for i := 0; i < n; i++ {
			if i%7 != 0 {
				ks.Delete(keys[i])
			}
		}
	}
	stop.Store(true)
	wg.Wait()
	if f := failures.Load(); f > 0 {
		t.Fatalf("%d bad values", f)
	}
}

// A large value deleted while a reader is inside an epoch stays retired;
// in a shard that still holds keys and sees no more writes, the expiry
// cycle must give its memory back once the reader has left, as it does
// for an empty shard.
func TestEpochRetiredFreedByExpiryCycle(t *testing.T) {
	ks, err := New(Options{NoActiveExpiry: true, Shards: 1, PageSize: 4 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Close()
	if err := ks.Set([]byte("keep"), []byte("v")); err != nil {
		t.Fatal(err)
	}
	before := ks.Stats().UsedBytes
	if err := ks.Set([]byte("big"), make([]byte, 100<<10)); err != nil {
		t.Fatal(err)
	}
	rs := ks.ep.enter() // a reader mid-read
	if _, ok := ks.GetDel(nil, []byte("big")); !ok {
		t.Fatal("GetDel found nothing")
	}
	rs.exit()
	ks.ActiveExpireCycle(time.Second)
	if used := ks.Stats().UsedBytes; used > before {
		t.Fatalf("UsedBytes %d after the expiry cycle, %d before the large value", used, before)
	}
}
