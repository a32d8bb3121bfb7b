package core_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringdb/ringdb/core"
)

// The stress test runs many goroutines over a small, overlapping key set.
// Every value is self-checking:
//
//	keyLen  2 bytes   little-endian
//	key     keyLen bytes
//	seq     8 bytes   unique per write; indexes stressRun.written
//	kind    1 byte    how the value's expiry is known (stressTTL*)
//	arg     8 bytes   absolute deadline (ms) or relative TTL (ms)
//	payload n bytes   a slice of a fixed random buffer
//	crc     4 bytes   crc32 (IEEE) of everything before it
//
// A reader checks the checksum (no torn or recycled bytes), the embedded key
// (no value of another key) and the expiry (no value whose TTL has passed).
//
// Expiry check. The keyspace follows Redis: a key with deadline D is live
// while now <= D (record.expiredAt). A read that started at tBefore (same
// clock as the keyspace) may therefore legally return the value only if
// D >= tBefore. The test only uses operations that can move a deadline
// earlier (SET variants write a fresh one, PEXPIRE/PEXPIREAT with LT), so an
// upper bound U of D known to the reader is enough: U < tBefore is a bug.
const (
	stressTTLNone     = 0 // no TTL when written (a later LT expire only shortens it)
	stressTTLAt       = 1 // arg = absolute deadline passed as ExpireAt
	stressTTLRelative = 2 // arg = relative TTL; deadline <= written[seq] + arg
	stressTTLKept     = 3 // KEEPTTL: the deadline is the previous value's; not checked
)

const stressHeader = 2 + 8 + 1 + 8

type stressVariant struct {
	name      string
	opts      core.Options
	budget    int64 // if > 0, MaxMemory = empty keyspace's UsedBytes + budget, AllKeys
	maxLarge  int   // largest payload of the "large value" class
	keys      int
	workers   int
	iters     int // per worker; divided by 4 under -short
	withScans bool
}

func TestStressSelfChecking(t *testing.T) {
	t.Parallel() // its own keyspace: overlaps the others, under -race too
	variants := []stressVariant{
		{
			name:     "unbounded-4KiB-pages",
			opts:     core.Options{PageSize: 4096},
			maxLarge: 24 << 10,
			keys:     64, workers: 12, iters: 16000, withScans: true,
		},
		{
			name:     "allkeys-small-memory-4KiB-pages",
			opts:     core.Options{PageSize: 4096, Shards: 4},
			budget:   192 << 10,
			maxLarge: 16 << 10,
			keys:     64, workers: 12, iters: 16000, withScans: true,
		},
		{
			name:     "default-options",
			opts:     core.Options{},
			maxLarge: 64 << 10,
			keys:     64, workers: 8, iters: 8000, withScans: true,
		},
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) { runStress(t, v) })
	}
}

type stressRun struct {
	t        *testing.T
	ks       *core.Keyspace
	keys     [][]byte
	keyIndex map[string]int
	noise    []byte
	maxLarge int

	seq     atomic.Uint64
	written []atomic.Int64 // seq -> wall ms after the write returned (0 = not yet)

	failures atomic.Int64
	reads    atomic.Int64
	checked  atomic.Int64 // values whose expiry was checked against a deadline
	ooms     atomic.Int64
}

func runStress(t *testing.T, v stressVariant) {
	iters := v.iters
	if testing.Short() {
		iters /= 4
	}
	opts := v.opts
	if v.budget > 0 {
		probe, err := core.New(opts)
		if err != nil {
			t.Fatal(err)
		}
		base := probe.Stats().UsedBytes
		probe.Close()
		opts.MaxMemory = base + v.budget
		opts.Eviction = core.AllKeys
	}
	ks, err := core.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Close()

	r := &stressRun{
		t:        t,
		ks:       ks,
		keyIndex: make(map[string]int),
		maxLarge: v.maxLarge,
		written:  make([]atomic.Int64, v.workers*iters+2),
	}
	for i := 0; i < v.keys; i++ {
		// Keys of different lengths, some binary, none a prefix of another
		// once the length prefix in the value is taken into account.
		k := []byte(fmt.Sprintf("s%d:%s", i, bytes.Repeat([]byte{byte('a' + i%26)}, i%13)))
		if i%7 == 0 {
			k = append(k, 0, 0xff, byte(i))
		}
		r.keys = append(r.keys, k)
		r.keyIndex[string(k)] = i
	}
	rng := rand.New(rand.NewPCG(1, 2))
	r.noise = make([]byte, 2*v.maxLarge+4096)
	for i := range r.noise {
		r.noise[i] = byte(rng.Uint32())
	}

	start := time.Now()
	var maxUsed atomic.Int64
	stop := make(chan struct{})
	var bg sync.WaitGroup
	if v.withScans {
		bg.Add(1)
		go func() {
			defer bg.Done()
			r.scanner(stop, &maxUsed)
		}()
	}
	var wg sync.WaitGroup
	for w := 0; w < v.workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			r.worker(uint64(w), iters)
		}(w)
	}
	wg.Wait()
	close(stop)
	bg.Wait()

	st := ks.Stats()
	t.Logf("%s: %d workers x %d ops in %v; reads=%d expiry-checked=%d; stats: keys=%d used=%d max=%d evicted=%d expired=%d maxUsedSeen=%d ooms=%d",
		v.name, v.workers, iters, time.Since(start).Round(time.Millisecond), r.reads.Load(), r.checked.Load(),
		st.Keys, st.UsedBytes, st.MaxBytes, st.Evicted, st.Expired, maxUsed.Load(), r.ooms.Load())
	if n := r.ooms.Load(); n > 0 {
		// Unbounded, or bounded with allkeys eviction: no write may fail.
		t.Errorf("%d writes (SET variants and LT expires) failed with ErrOOM (MaxMemory %d, allkeys eviction)", n, opts.MaxMemory)
	}
	if l := ks.Len(); l < 0 || l > v.keys {
		t.Errorf("Len() = %d, want within [0, %d]", l, v.keys)
	}
	// Quiescent pass: every value left must still be well formed.
	var buf []byte
	for _, k := range r.keys {
		tb := time.Now().UnixMilli()
		var ok bool
		buf, ok = ks.Get(buf[:0], k)
		if ok {
			r.verify("final Get", k, buf, tb)
		}
	}
}

func (r *stressRun) fail(format string, args ...any) {
	if r.failures.Add(1) <= 20 {
		r.t.Errorf(format, args...)
	}
}

// encode builds a self-checking value for key into buf.
func (r *stressRun) encode(buf []byte, rng *rand.Rand, key []byte, seq uint64, kind byte, arg int64) []byte {
	var n int
	switch c := rng.IntN(100); {
	case c < 50:
		n = rng.IntN(257)
	case c < 80:
		n = 256 + rng.IntN(3000)
	default:
		n = 4097 + rng.IntN(r.maxLarge-4096)
	}
	buf = buf[:0]
	buf = binary.LittleEndian.AppendUint16(buf, uint16(len(key)))
	buf = append(buf, key...)
	buf = binary.LittleEndian.AppendUint64(buf, seq)
	buf = append(buf, kind)
	buf = binary.LittleEndian.AppendUint64(buf, uint64(arg))
	off := int(seq*131) % (len(r.noise) - n)
	buf = append(buf, r.noise[off:off+n]...)
	return binary.LittleEndian.AppendUint32(buf, crc32.ChecksumIEEE(buf))
}

// verify checks a value returned for key by a read that started at tBefore.
func (r *stressRun) verify(op string, key, val []byte, tBefore int64) {
	r.reads.Add(1)
	if len(val) < stressHeader+len(key)+4 {
		r.fail("%s(%q): value of %d bytes is too short to be one we wrote", op, key, len(val))
		return
	}
	body, sum := val[:len(val)-4], binary.LittleEndian.Uint32(val[len(val)-4:])
	if crc32.ChecksumIEEE(body) != sum {
		r.fail("%s(%q): torn or recycled value: checksum mismatch (len %d)", op, key, len(val))
		return
	}
	kl := int(binary.LittleEndian.Uint16(val))
	if kl+stressHeader+4 > len(val) || !bytes.Equal(val[2:2+kl], key) {
		r.fail("%s(%q): value belongs to another key (%q)", op, key, val[2:min(2+kl, len(val))])
		return
	}
	p := val[2+kl:]
	seq := binary.LittleEndian.Uint64(p)
	kind := p[8]
	arg := int64(binary.LittleEndian.Uint64(p[9:]))
	if seq == 0 || seq >= uint64(len(r.written)) {
		r.fail("%s(%q): impossible sequence number %d", op, key, seq)
		return
	}
	// off must match what encode used: payload is noise[off:off+n].
	payload := p[17 : len(p)-4]
	off := int(seq*131) % (len(r.noise) - len(payload))
	if !bytes.Equal(payload, r.noise[off:off+len(payload)]) {
		r.fail("%s(%q): payload of seq %d differs from what was written", op, key, seq)
		return
	}
	var deadline int64
	switch kind {
	case stressTTLNone, stressTTLKept:
		return
	case stressTTLAt:
		deadline = arg
	case stressTTLRelative:
		// The write computed its deadline as now+arg at some instant before
		// it returned; wait until the writer has published that instant.
		waitUntil := time.Now().Add(10 * time.Second)
		for {
			if w := r.written[seq].Load(); w != 0 {
				deadline = w + arg
				break
			}
			if time.Now().After(waitUntil) {
				r.fail("%s(%q): writer of seq %d never returned", op, key, seq)
				return
			}
			runtime.Gosched()
		}
	default:
		r.fail("%s(%q): unknown expiry kind %d", op, key, kind)
		return
	}
	r.checked.Add(1)
	if deadline < tBefore {
		r.fail("%s(%q): returned an expired value: seq %d deadline %d (kind %d) < read start %d (by %d ms)",
			op, key, seq, deadline, kind, tBefore, tBefore-deadline)
	}
}

func (r *stressRun) writeErr(op string, key []byte, err error) {
	if err == nil {
		return
	}
	if errors.Is(err, core.ErrOOM) {
		r.ooms.Add(1)
		return
	}
	r.fail("%s(%q): unexpected error %v", op, key, err)
}

func (r *stressRun) worker(id uint64, iters int) {
	rng := rand.New(rand.NewPCG(id, 0x5eed))
	ks := r.ks
	var vbuf, rbuf []byte
	mkeys := make([][]byte, 3)
	var vals [][]byte
	for i := 0; i < iters; i++ {
		key := r.keys[rng.IntN(len(r.keys))]
		ttl := int64(1 + rng.IntN(20))
		c := rng.IntN(100)
		switch {
		case c < 32: // Get
			tb := time.Now().UnixMilli()
			var ok bool
			rbuf, ok = ks.Get(rbuf[:0], key)
			if ok {
				r.verify("Get", key, rbuf, tb)
			}
		case c < 44: // plain Set: no TTL
			seq := r.seq.Add(1)
			vbuf = r.encode(vbuf, rng, key, seq, stressTTLNone, 0)
			err := ks.Set(key, vbuf)
			r.written[seq].Store(time.Now().UnixMilli())
			r.writeErr("Set", key, err)
		case c < 58: // SetOpt with a relative TTL, maybe NX/XX/GET
			seq := r.seq.Add(1)
			vbuf = r.encode(vbuf, rng, key, seq, stressTTLRelative, ttl)
			o := core.SetOptions{TTL: ttl, Get: rng.IntN(2) == 0}
			switch rng.IntN(4) {
			case 0:
				o.NX = true
			case 1:
				o.XX = true
			}
			tb := time.Now().UnixMilli()
			res, err := ks.SetOpt(rbuf[:0], key, vbuf, o)
			r.written[seq].Store(time.Now().UnixMilli())
			r.writeErr("SetOpt(TTL)", key, err)
			if err == nil && o.Get && res.HadPrev {
				r.verify("SetOpt(TTL,GET) previous", key, res.Prev, tb)
			}
			rbuf = res.Prev
		case c < 68: // SetOpt with an absolute deadline
			tb := time.Now().UnixMilli()
			at := tb + ttl
			seq := r.seq.Add(1)
			vbuf = r.encode(vbuf, rng, key, seq, stressTTLAt, at)
			o := core.SetOptions{ExpireAt: at, Get: rng.IntN(2) == 0}
			res, err := ks.SetOpt(rbuf[:0], key, vbuf, o)
			r.written[seq].Store(time.Now().UnixMilli())
			r.writeErr("SetOpt(ExpireAt)", key, err)
			if err == nil && o.Get && res.HadPrev {
				r.verify("SetOpt(ExpireAt,GET) previous", key, res.Prev, tb)
			}
			rbuf = res.Prev
		case c < 72: // SetOpt KEEPTTL
			seq := r.seq.Add(1)
			vbuf = r.encode(vbuf, rng, key, seq, stressTTLKept, 0)
			_, err := ks.SetOpt(nil, key, vbuf, core.SetOptions{KeepTTL: true})
			r.written[seq].Store(time.Now().UnixMilli())
			r.writeErr("SetOpt(KEEPTTL)", key, err)
		case c < 79:
			ks.Delete(key)
		case c < 85: // expiry changes that can only move a deadline earlier
			var err error
			switch rng.IntN(3) {
			case 0:
				_, err = ks.PExpire(key, ttl, core.ExpireLT)
			case 1:
				_, err = ks.PExpireAt(key, time.Now().UnixMilli()+ttl, core.ExpireLT)
			default:
				_, err = ks.Expire(key, 1, core.ExpireLT)
			}
			r.writeErr("PEXPIRE/PEXPIREAT/EXPIRE LT", key, err)
		case c < 89: // GetDel
			tb := time.Now().UnixMilli()
			var ok bool
			rbuf, ok = ks.GetDel(rbuf[:0], key)
			if ok {
				r.verify("GetDel", key, rbuf, tb)
			}
		case c < 95: // MGet of three keys, repeats allowed
			for j := range mkeys {
				mkeys[j] = r.keys[rng.IntN(len(r.keys))]
			}
			tb := time.Now().UnixMilli()
			rbuf, vals = ks.MGet(rbuf[:0], vals[:0], mkeys...)
			if len(vals) != len(mkeys) {
				r.fail("MGet: %d values for %d keys", len(vals), len(mkeys))
				break
			}
			for j, v := range vals {
				if v != nil {
					r.verify("MGet", mkeys[j], v, tb)
				}
			}
		default: // Exists / PTTL / StrLen: only sanity
			switch rng.IntN(3) {
			case 0:
				ks.Exists(key)
			case 1:
				if p := ks.PTTL(key); p < -2 {
					r.fail("PTTL(%q) = %d", key, p)
				}
			default:
				if n := ks.StrLen(key); n != 0 && n < stressHeader+len(key)+4 {
					r.fail("StrLen(%q) = %d: too short for a value we wrote", key, n)
				}
			}
		}
	}
}

// scanner runs Scan, Digest, Len and Stats against the writers.
func (r *stressRun) scanner(stop <-chan struct{}, maxUsed *atomic.Int64) {
	ks := r.ks
	var dst [][]byte
	patterns := [][]byte{nil, []byte("s1*"), []byte("s?:*"), []byte("*[0-3]:*")}
	for round := 0; ; round++ {
		select {
		case <-stop:
			return
		default:
		}
		pat := patterns[round%len(patterns)]
		cursor := uint64(0)
		for steps := 0; ; steps++ {
			dst, cursor = ks.Scan(cursor, pat, 1+round%16, dst[:0])
			for _, k := range dst {
				if _, ok := r.keyIndex[string(k)]; !ok {
					r.fail("Scan(%q) returned unknown key %q", pat, k)
				}
			}
			if cursor == 0 {
				break
			}
			if steps > 1<<20 {
				r.fail("Scan(%q) did not finish", pat)
				break
			}
		}
		_ = ks.Digest()
		if l := ks.Len(); l < 0 || l > len(r.keys) {
			r.fail("Len() = %d during the run, want within [0, %d]", l, len(r.keys))
		}
		st := ks.Stats()
		for {
			m := maxUsed.Load()
			if st.UsedBytes <= m || maxUsed.CompareAndSwap(m, st.UsedBytes) {
				break
			}
		}
		if k, ok := ks.RandomKey(nil); ok {
			if _, known := r.keyIndex[string(k)]; !known {
				r.fail("RandomKey returned unknown key %q", k)
			}
		}
		runtime.Gosched()
	}
}

// TestStressPageTableGrowth reads keys while they are being inserted, so a
// reader's lookup overlaps the writer growing the shard's page table and
// index, and runs full SCANs meanwhile. Every value embeds its key and a
// checksum; a key inserted before a read (or a whole SCAN) started must be
// found by it.
func TestStressPageTableGrowth(t *testing.T) {
	t.Parallel() // its own keyspace: overlaps the others, under -race too
	const writers, readers = 2, 4
	perWriter := 3000
	if testing.Short() {
		perWriter = 1500
	}
	for _, opts := range []core.Options{
		{Shards: 1, PageSize: 4096},
		{Shards: 2, PageSize: 4096, MaxMemory: 1 << 30, Eviction: core.NoEviction},
	} {
		t.Run(fmt.Sprintf("shards=%d", opts.Shards), func(t *testing.T) {
			ks, err := core.New(opts)
			if err != nil {
				t.Fatal(err)
			}
			defer ks.Close()
			key := func(w, i int64) []byte { return []byte(fmt.Sprintf("g:%d:%d", w, i)) }
			var next, done [writers]atomic.Int64 // next: being inserted; done: inserted before it
			var failures atomic.Int64
			fail := func(format string, args ...any) {
				if failures.Add(1) <= 20 {
					t.Errorf(format, args...)
				}
			}
			check := func(op string, k, v []byte) {
				if len(v) < len(k)+4 || !bytes.Equal(v[:len(k)], k) ||
					crc32.ChecksumIEEE(v[:len(v)-4]) != binary.LittleEndian.Uint32(v[len(v)-4:]) {
					fail("%s(%q): torn or foreign value of %d bytes", op, k, len(v))
				}
			}
			var stop atomic.Bool
			var rwg, wwg sync.WaitGroup
			for r := 0; r < readers; r++ {
				rwg.Add(1)
				go func() {
					defer rwg.Done()
					var buf []byte
					for !stop.Load() {
						for w := int64(0); w < writers; w++ {
							d := done[w].Load()
							var ok bool
							k := key(w, next[w].Load())
							if buf, ok = ks.Get(buf[:0], k); ok {
								check("Get", k, buf)
							}
							if d > 0 {
								k = key(w, d-1)
								if buf, ok = ks.Get(buf[:0], k); !ok {
									fail("Get(%q): inserted before the read started, not found", k)
								} else {
									check("Get", k, buf)
								}
							}
						}
					}
				}()
			}
			rwg.Add(1)
			go func() {
				defer rwg.Done()
				var dst [][]byte
				scans := 0
				for !stop.Load() {
					var before [writers]int64
					for w := range before {
						before[w] = done[w].Load()
					}
					seen := make(map[string]bool)
					cursor := uint64(0)
					for {
						dst, cursor = ks.Scan(cursor, []byte("g:*"), 50, dst[:0])
						for _, k := range dst {
							seen[string(k)] = true
						}
						if cursor == 0 {
							break
						}
					}
					for w := int64(0); w < writers; w++ {
						for i := int64(0); i < before[w]; i++ {
							if !seen[string(key(w, i))] {
								fail("SCAN missed %q, inserted before the scan started", key(w, i))
								break
							}
						}
					}
					scans++
				}
				t.Logf("%d full scans", scans)
			}()
			for w := int64(0); w < writers; w++ {
				wwg.Add(1)
				go func(w int64) {
					defer wwg.Done()
					rng := rand.New(rand.NewPCG(uint64(w), 3))
					var v []byte
					for i := int64(0); i < int64(perWriter); i++ {
						k := key(w, i)
						v = append(v[:0], k...)
						for n := 200 + rng.IntN(3000); len(v) < n; {
							v = append(v, byte(rng.Uint32()))
						}
						v = binary.LittleEndian.AppendUint32(v, crc32.ChecksumIEEE(v))
						next[w].Store(i)
						if err := ks.Set(k, v); err != nil {
							fail("Set(%q): %v", k, err)
							return
						}
						done[w].Store(i + 1)
					}
				}(w)
			}
			wwg.Wait()
			stop.Store(true)
			rwg.Wait()
			if n := ks.Len(); n != writers*perWriter {
				t.Errorf("Len() = %d, want %d", n, writers*perWriter)
			}
		})
	}
}
