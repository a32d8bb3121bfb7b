package fuzz

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ringdb/ringdb/core"
)

// FuzzKeyspace decodes its input into a sequence of keyspace operations over
// a small key alphabet, applies each to a core.Keyspace driven by a fake
// clock and to a plain map model with expiry deadlines, and compares every
// result. At the end it compares the full contents (Scan, Get, PTTL, Len)
// and checks that Digest equals the Digest of a fresh keyspace loaded with
// the same live contents.
//
// Input layout: byte 0 picks the configuration; then each operation is an
// opcode byte followed by its arguments (see fzRun.step). A missing byte
// reads as 0, so every input is valid.
//
// Configurations (byte 0): bits 1-3 = 4, 5, 6 pick a tight memory bound
// (fzTight) under AllKeys, Volatile or NoEviction, on one shard; 7 picks
// twice that bound on eight shards (a shard's even share is then less than
// the largest value: writes borrow room other shards hold, or take it from
// them), with bits 4-5 choosing the policy; otherwise bit 0 picks a bound
// far above the data or none, and no write may fail for memory.
// Under a tight bound every write may fail with ErrOOM, keys the policy may
// evict may vanish after a write (fzRun.sync drops them from the model),
// keys it may not evict must never vanish, and a failed write must leave
// the keys it touches as they were (or evicted).
//
// Semantics follow Redis 7 (string2ll-strict integers, EXPIRE conditions and
// overflow checks, a key with deadline D is live while now <= D; SET, GETEX
// and EXPIRE with a deadline <= now delete the key).
func FuzzKeyspace(f *testing.F) {
	f.Add([]byte{0, 0, 1, 5, 'h', 'e', 'l', 'l', 'o', 2, 1, 15})
	f.Add([]byte{1, 1, 2, 0x38, 200, 7, 100, 17, 4, 2, 2, 18, 0, 3})
	// SET a hello, RENAMENX a b, COPY b k1 REPLACE, TOUCH a b k1,
	// Inspect b, SET k2 <integer>, Inspect k2, COPY k2 k2.
	f.Add([]byte{0, 0, 0, 5, 'h', 'e', 'l', 'l', 'o', 23, 0, 0, 1, 23, 1, 1, 2, 1, 23, 2, 2, 0, 1, 2,
		23, 3, 1, 1, 0, 3, 0xc1, 23, 3, 3, 0, 23, 1, 3, 3, 0})
	// Tight bound, each policy: large values over a few keys, some with a
	// TTL, then reads, MSETNX and a digest.
	for _, cfg := range []byte{8, 10, 12, 14, 14 | 1<<4, 14 | 2<<4} {
		seed := []byte{cfg}
		for i := 0; i < 24; i++ {
			if i%2 == 0 { // SET key value
				seed = append(seed, 1, byte(i), 0xc0, 80+byte(i), byte(i), 0)
			} else { // SET key value PX 60000
				seed = append(seed, 1, byte(i), 0xc0, 80+byte(i), byte(i), 0x10, 7)
			}
			seed = append(seed, 2, byte(i+3))
		}
		seed = append(seed, 16, 40, 1, 0, 3, 5, 0, 16, 250, 0, 16, 200, 1, 19, 15, 18, 0, 4)
		f.Add(seed)
	}
	// SETRANGE and GETRANGE (fzRangeOp): into a missing key, a small value
	// made aligned by a rewrite, across into a large value, under the
	// roomy bound and the tight NoEviction one.
	for _, cfg := range []byte{1, 12} {
		f.Add([]byte{cfg,
			fzRangeOp, 0, 2, 3, 'x', 'y', 'z', fzRangeOp + 1, 0, 0, 14,
			0, 2, 5, 'h', 'e', 'l', 'l', 'o', 0, 2, 5, 'w', 'o', 'r', 'l', 'd', // SET b twice: aligned
			fzRangeOp, 2, 1, 3, 'i', 'p', 'p', fzRangeOp + 1, 2, 14, 16, 2, 2,
			fzRangeOp, 2, 10, 0xc0, 60, 7, fzRangeOp + 1, 2, 17, 14, 14, 4, 2,
			fzRangeOp, 3, 12, 0xc0, 0, 1, fzRangeOp, 3, 19, 1, 'q', 19, 15})
	}
	// RENAME of large values, which moves their buffers: a chain of
	// renames with APPEND and PEXPIRE in place between them, to the empty
	// key and back, over a large dst, then PERSIST, reads and a digest;
	// unbounded, and tight on one shard and on eight.
	for _, cfg := range []byte{0, 8, 12, 14, 14 | 2<<4} {
		f.Add([]byte{cfg,
			0, 0, 0xc0, 20, 1, // SET a <4000 bytes>
			6, 0, 2, 'x', 'y', // APPEND a xy
			9, 0, 1, // RENAME a b
			10, 1, 1, 0, 7, // PEXPIRE b 60000
			9, 1, 2, // RENAME b k1
			6, 2, 1, 'z', // APPEND k1 z
			2, 2, // GET k1
			9, 2, 5, // RENAME k1 ""
			2, 5, // GET ""
			9, 5, 0, // RENAME "" a
			0, 1, 0xc0, 30, 2, // SET b <5500 bytes>
			9, 0, 1, // RENAME a b
			17, 3, // CLOCK
			11, 1, // PERSIST b
			9, 1, 4, // RENAME b k10
			19, 15, 18, 0, 4, // DIGEST, LEN, SCAN
			7, 4}) // GETDEL k10
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fzRunInput(t, data)
	})
}

const (
	// fzTight bounds a tight configuration: a few of the largest values
	// overflow it. fzTightLow and fzTightHigh are what SetMaxMemory
	// switches between.
	fzTight     = 48 << 10
	fzTightLow  = 24 << 10
	fzTightHigh = 96 << 10
	fzMaxValue  = 32 << 10
	fzMaxOps    = 1000
	fzStart     = int64(1_700_000_000_123)
)

var fzKeys = [][]byte{
	[]byte("a"),
	[]byte("b"),
	[]byte("k1"),
	[]byte("k2"),
	[]byte("k10"),
	{},
	{0x00, 0xff, 'b', 'i', 'n'},
	bytes.Repeat([]byte("L"), 300),
}

var fzIntValues = []string{
	"0", "1", "-1", "42", "9223372036854775807", "-9223372036854775808", "9223372036854775806",
	"+1", "01", "-0", " 1", "1 ", "abc", "", "12a", "99999999999999999999", "-", "1e3", "0x10",
}

// fzRel are relative TTLs in milliseconds (SET PX, GETEX PX, PEXPIRE).
var fzRel = []int64{1, 2, 10, 999, 1000, 1001, 1500, 60000, 0, -1, -1000, math.MaxInt64, math.MaxInt64 / 2, 3_600_000}

// fzAbs are absolute deadlines in milliseconds relative to now.
var fzAbs = []func(now int64) int64{
	func(now int64) int64 { return now - 1000 },
	func(now int64) int64 { return now - 1 },
	func(now int64) int64 { return now },
	func(now int64) int64 { return now + 1 },
	func(now int64) int64 { return now + 2 },
	func(now int64) int64 { return now + 500 },
	func(now int64) int64 { return now + 1000 },
	func(now int64) int64 { return now + 60000 },
	func(now int64) int64 { return 0 },
	func(now int64) int64 { return -5 },
	func(now int64) int64 { return 1 },
	func(now int64) int64 { return math.MaxInt64 },
}

// fzSeconds are EXPIRE arguments.
var fzSeconds = []int64{-1, 0, 1, 2, 10, 100, 3600, math.MaxInt64/1000 + 1, math.MinInt64/1000 - 1, math.MaxInt64, math.MaxInt64 / 1000}

// fzAbsSeconds are EXPIREAT arguments relative to now.
var fzAbsSeconds = []func(now int64) int64{
	func(now int64) int64 { return now/1000 - 1 },
	func(now int64) int64 { return now / 1000 },
	func(now int64) int64 { return now/1000 + 1 },
	func(now int64) int64 { return now/1000 + 2 },
	func(now int64) int64 { return now/1000 + 100 },
	func(now int64) int64 { return 0 },
	func(now int64) int64 { return -1 },
	func(now int64) int64 { return math.MaxInt64/1000 + 1 },
	func(now int64) int64 { return math.MaxInt64 / 1000 },
}

var fzDeltas = []int64{1, -1, 0, 5, -5, 100, math.MaxInt64, math.MinInt64, math.MaxInt64 / 2, -(math.MaxInt64 / 2), 1 << 40}

var fzAdvance = []int64{0, 1, 2, 499, 500, 999, 1000, 1001, 60_000, 3_600_000}

var fzPatterns = [][]byte{nil, []byte("*"), []byte("k*"), []byte("?"), []byte("*1*"), []byte("[ab]"), {0x00, '*'}, []byte("k[!1]*"), []byte("L*L"), []byte("")}

// ---- model ----

type fzEntry struct {
	val      []byte
	deadline int64 // 0: no TTL
}

type fzModel struct {
	now int64
	// m holds every key that may still be present in the keyspace: live keys
	// and expired keys not yet overwritten (lazy expiry may keep them).
	m map[string]*fzEntry
}

func (m *fzModel) live(k []byte) (*fzEntry, bool) {
	e, ok := m.m[string(k)]
	if !ok || (e.deadline != 0 && m.now > e.deadline) {
		return nil, false
	}
	return e, true
}

// counter is what INCRBY and DECRBY find at k: its number (0 when absent),
// its deadline, and ErrNotInteger when the value is not a number.
func (m *fzModel) counter(k []byte) (cur, deadline int64, want []error) {
	e, exists := m.live(k)
	if !exists {
		return 0, 0, nil
	}
	n, ok := fzParseInt(e.val)
	if !ok {
		want = append(want, core.ErrNotInteger)
	}
	return n, e.deadline, want
}

func (m *fzModel) liveKeys() []string {
	var ks []string
	for k, e := range m.m {
		if e.deadline == 0 || m.now <= e.deadline {
			ks = append(ks, k)
		}
	}
	sort.Strings(ks)
	return ks
}

func (m *fzModel) put(k []byte, v []byte, deadline int64) {
	m.m[string(k)] = &fzEntry{val: bytes.Clone(v), deadline: deadline}
}

func (m *fzModel) del(k []byte) { delete(m.m, string(k)) }

// fzParseInt parses like Redis string2ll.
func fzParseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil || strconv.FormatInt(n, 10) != string(b) {
		return 0, false
	}
	return n, true
}

func fzAddOverflows(a, b int64) bool {
	return (b > 0 && a > math.MaxInt64-b) || (b < 0 && a < math.MinInt64-b)
}

// fzGlob is a small reference for the patterns in fzPatterns: '*', '?',
// '[...]' with '^' negation and ranges (Redis stringmatchlen; '!' is a
// literal there); no escapes. SCAN MATCH "*" matches every key, the empty
// one included (Redis skips matching for a lone "*").
func fzGlob(p, s []byte) bool {
	for len(p) > 0 {
		switch p[0] {
		case '*':
			for len(p) > 0 && p[0] == '*' {
				p = p[1:]
			}
			if len(p) == 0 {
				return true
			}
			for i := 0; i <= len(s); i++ {
				if fzGlob(p, s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if len(s) == 0 {
				return false
			}
			p, s = p[1:], s[1:]
		case '[':
			if len(s) == 0 {
				return false
			}
			end := bytes.IndexByte(p, ']')
			set := p[1:end]
			neg := len(set) > 0 && set[0] == '^'
			if neg {
				set = set[1:]
			}
			match := false
			for i := 0; i < len(set); i++ {
				if i+2 < len(set) && set[i+1] == '-' {
					if s[0] >= set[i] && s[0] <= set[i+2] {
						match = true
					}
					i += 2
				} else if set[i] == s[0] {
					match = true
				}
			}
			if match == neg {
				return false
			}
			p, s = p[end+1:], s[1:]
		default:
			if len(s) == 0 || s[0] != p[0] {
				return false
			}
			p, s = p[1:], s[1:]
		}
	}
	return len(s) == 0
}

// ---- decoder ----

type fzDec struct {
	b []byte
	i int
}

func (d *fzDec) more() bool { return d.i < len(d.b) }

func (d *fzDec) u8() byte {
	if d.i >= len(d.b) {
		return 0
	}
	c := d.b[d.i]
	d.i++
	return c
}

func (d *fzDec) n(m int) int { return int(d.u8()) % m }

func (d *fzDec) key() []byte { return fzKeys[d.n(len(fzKeys))] }

func (d *fzDec) value() []byte {
	c := d.u8()
	switch {
	case c < 128:
		n := int(c % 32)
		v := make([]byte, n)
		for i := range v {
			v[i] = d.u8()
		}
		return v
	case c < 192:
		return []byte(fzIntValues[int(c)%len(fzIntValues)])
	default:
		size := 1000 + int(d.u8())*150 // up to 39250: beyond fzMaxValue sometimes
		fill := d.u8()
		v := make([]byte, size)
		for i := range v {
			v[i] = fill + byte(i/7)
		}
		return v
	}
}

// ---- runner ----

type fzRun struct {
	t      *testing.T
	ks     *core.Keyspace
	m      *fzModel
	opts   core.Options
	trace  []string
	digest int
	// tight: writes may fail with ErrOOM and keys may be evicted under
	// policy. lost counts the evictions sync observed; lowered is set once
	// SetMaxMemory has lowered the bound (used memory may then stay above
	// it until writes make room).
	tight     bool
	policy    core.EvictionPolicy
	lost      uint64
	lowered   bool
	everEvict bool
	// evicted is the keyspace's eviction count before the current
	// operation (selfEvicted: a key evicted while an operation ran needs
	// an eviction during it).
	evicted uint64
}

// failedOOM reports whether a write that the model expects to succeed
// (want is empty) failed with ErrOOM under a tight bound, where that is
// allowed; it then checks that the keys the write touches are unchanged.
func (r *fzRun) failedOOM(op string, err error, want []error, keys ...[]byte) bool {
	r.t.Helper()
	if !r.tight || len(want) != 0 || !errors.Is(err, core.ErrOOM) {
		return false
	}
	r.logf("(%s: ErrOOM)", op)
	for _, k := range keys {
		r.afterFail(op, k)
	}
	return true
}

// afterPartial reconciles the model with a multi-key write (MSET, MSETNX)
// that failed with ErrOOM: each key holds its old value, or is absent if
// it was absent before or the policy may have evicted what it held; under
// AllKeys, which may fail part-way, it may hold one of the values the
// write assigned it.
func (r *fzRun) afterPartial(op string, pairs [][]byte) {
	r.t.Helper()
	r.logf("(%s: ErrOOM)", op)
	done := map[string]bool{}
	for i := 0; i < len(pairs); i += 2 {
		k := pairs[i]
		if done[string(k)] {
			continue
		}
		done[string(k)] = true
		old, live := r.m.live(k)
		got, ok := r.ks.Get(nil, k)
		if !ok {
			// A new value has no TTL: only AllKeys may evict it.
			if live && !r.evictable(old) && r.policy != core.AllKeys {
				r.fatalf("%s failed with ErrOOM and key %s (deadline %d) vanished under %v", op, fzShort(k), old.deadline, r.policy)
			}
			if live {
				// Evicted. An expired key stays in the model: the
				// keyspace may still hold it for the expiry cycle.
				r.m.del(k)
			}
			continue
		}
		at := r.ks.PExpireTime(k)
		if live && bytes.Equal(got, old.val) && (at == old.deadline || (at == -1 && old.deadline == 0)) {
			continue
		}
		match := false
		for j := i; j < len(pairs); j += 2 {
			if bytes.Equal(pairs[j], k) && bytes.Equal(pairs[j+1], got) {
				match = true
			}
		}
		if !match || at != -1 {
			r.fatalf("%s failed with ErrOOM; key %s holds %s (expire at %d), neither its old value nor one assigned", op, fzShort(k), fzShort(got), at)
		}
		if r.policy != core.AllKeys {
			// Refused for memory, the write stores no pair (core's
			// roomForPairs); only AllKeys, evicting as it goes, may
			// fail part-way.
			r.fatalf("%s failed with ErrOOM under %v yet stored key %s", op, r.policy, fzShort(k))
		}
		r.m.put(k, got, 0)
	}
}

// evictable reports whether the current policy may evict e.
func (r *fzRun) evictable(e *fzEntry) bool {
	return r.policy == core.AllKeys || (r.policy == core.Volatile && e.deadline != 0)
}

// sync reconciles the model with evictions under a tight bound: a key the
// model holds live but the keyspace lost must be one the policy may evict,
// and is dropped from the model; a key the keyspace has that the model
// does not is an error.
func (r *fzRun) sync() {
	r.t.Helper()
	for _, k := range fzKeys {
		e, live := r.m.live(k)
		has := r.ks.Exists(k)
		switch {
		case live && !has:
			if !r.evictable(e) {
				r.fatalf("key %s (deadline %d) vanished; policy %v may not evict it", fzShort(k), e.deadline, r.policy)
			}
			r.logf("(evicted %s)", fzShort(k))
			r.m.del(k)
			r.lost++
		case !live && has:
			r.fatalf("key %s exists; the model has it absent", fzShort(k))
		}
	}
}

// selfEvicted reports whether the policy may have evicted key k, live in
// the model, for room while a write that reads it ran (a shed between two
// runs of the write, or the write's own makeRoom in a run that then
// failed), the write then finding it absent; a write's result that
// matches an absent key is accepted so, as Redis may evict a key just
// before a command that reads it (APPEND, INCRBY, RENAMENX's destination,
// COPY's source or destination), provided the keyspace evicted something
// while the operation ran. It drops k from the model, counted as evicted,
// when so.
func (r *fzRun) selfEvicted(op string, k []byte) bool {
	r.t.Helper()
	e, live := r.m.live(k)
	if !r.tight || !live || !r.evictable(e) || r.ks.Stats().Evicted == r.evicted {
		return false
	}
	r.logf("(evicted %s while its %s ran)", fzShort(k), op)
	r.m.del(k)
	r.lost++
	return true
}

// afterFail checks, after a write failed with ErrOOM, that key holds what
// the model says (or was evicted, if the policy allows).
func (r *fzRun) afterFail(op string, key []byte) {
	r.t.Helper()
	got, ok := r.ks.Get(nil, key)
	if e, live := r.m.live(key); live && !ok && r.evictable(e) {
		r.logf("(evicted %s)", fzShort(key))
		r.m.del(key)
		r.lost++
		return
	}
	r.checkValue(op+" after ErrOOM", key, got, ok, nil)
}

func (r *fzRun) fatalf(format string, args ...any) {
	r.t.Helper()
	from := max(0, len(r.trace)-40)
	r.t.Fatalf("op %d at now=%d: %s\nlast operations:\n  %s", len(r.trace), r.m.now, fmt.Sprintf(format, args...),
		strings.Join(r.trace[from:], "\n  "))
}

func (r *fzRun) logf(format string, args ...any) {
	r.trace = append(r.trace, fmt.Sprintf(format, args...))
}

func fzShort(b []byte) string {
	if len(b) > 24 {
		return fmt.Sprintf("%q…(%d bytes)", b[:16], len(b))
	}
	return strconv.Quote(string(b))
}

// checkErr compares got with the errors the model allows (none: nil).
func (r *fzRun) checkErr(op string, got error, want []error) bool {
	r.t.Helper()
	if len(want) == 0 {
		if got != nil {
			r.fatalf("%s: unexpected error %v", op, got)
		}
		return false
	}
	for _, w := range want {
		if errors.Is(got, w) {
			return true
		}
	}
	r.fatalf("%s: got error %v, want one of %v", op, got, want)
	return true
}

func (r *fzRun) checkValue(op string, key, got []byte, gotOK bool, prefix []byte) {
	r.t.Helper()
	e, ok := r.m.live(key)
	if gotOK != ok {
		r.fatalf("%s(%s): found=%v, model says %v", op, fzShort(key), gotOK, ok)
	}
	if !bytes.HasPrefix(got, prefix) {
		r.fatalf("%s(%s): destination prefix %q clobbered: %s", op, fzShort(key), prefix, fzShort(got))
	}
	want := prefix
	if ok {
		want = append(bytes.Clone(prefix), e.val...)
	}
	if !bytes.Equal(got, want) {
		r.fatalf("%s(%s): got %s, want %s", op, fzShort(key), fzShort(got), fzShort(want))
	}
}

func fzRunInput(t *testing.T, data []byte) {
	d := &fzDec{b: data}
	m := &fzModel{now: fzStart, m: make(map[string]*fzEntry)}
	opts := core.Options{
		PageSize:       4096,
		MaxValueSize:   fzMaxValue,
		NoActiveExpiry: true,
		Clock:          func() int64 { return m.now },
	}
	cfg := d.u8()
	tight := false
	switch (cfg >> 1) & 7 {
	case 4, 5, 6:
		// A bound the largest values overflow, on one shard, with the
		// page size derived from it (as SetMaxMemory re-derives it).
		tight = true
		opts.MaxMemory = fzTight
		opts.Shards = 1
		opts.PageSize = 0
		opts.Eviction = []core.EvictionPolicy{core.AllKeys, core.Volatile, core.NoEviction}[(cfg>>1)&7-4]
	case 7:
		tight = true
		opts.MaxMemory = 2 * fzTight
		opts.Shards = 8
		opts.PageSize = 0
		opts.Eviction = []core.EvictionPolicy{core.AllKeys, core.Volatile, core.NoEviction, core.AllKeys}[(cfg>>4)&3]
	default:
		if cfg&1 == 1 {
			// A bound far above the live data (at most 8 x 32 KiB) on one
			// shard: writes must never fail, but the log turns over its
			// pages constantly (compaction with live records re-appended).
			opts.MaxMemory = 1 << 20
			opts.Shards = 1
			opts.Eviction = core.NoEviction
		}
	}
	ks, err := core.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Close()
	r := &fzRun{t: t, ks: ks, m: m, opts: opts, tight: tight, policy: opts.Eviction, everEvict: opts.Eviction != core.NoEviction}
	for ops := 0; d.more() && ops < fzMaxOps; ops++ {
		if tight {
			r.sync()
			r.evicted = ks.Stats().Evicted
		}
		r.step(d)
	}
	if tight {
		r.sync()
	}
	r.finalCheck()
}

// fzRangeOp is the first of the opcode bytes (fzRangeOp, fzRangeOp+1) for
// SETRANGE and GETRANGE. Other bytes pick one of the 23 older operations
// modulo 23; taking the two highest bytes for the range operations left
// every regression input in testdata/ meaning what it meant.
const fzRangeOp = 0xfe

// fzOffsets are SETRANGE offsets and GETRANGE indexes: inside, at and past
// the ends of small and large values, past fzMaxValue, and negative.
var fzOffsets = []int64{0, 1, 2, 3, 7, 8, 31, 100, 1000, 5000, 30000, fzMaxValue - 1, fzMaxValue, 40000, -1, -2, -8, -100, -40000, math.MaxInt64, math.MinInt64}

func (r *fzRun) step(d *fzDec) {
	ks, m := r.ks, r.m
	pfx := []byte("dst:")
	// Op bytes 23, 47, ... (23 mod 24) were among ops 0 to 22; they are
	// now the key operations added later (RENAMENX, COPY, TOUCH,
	// Inspect), so that the corpus's regression inputs, which use none of
	// those bytes, still mean what they did. Bytes fzRangeOp and the one
	// after it are SETRANGE and GETRANGE, for the same reason.
	c := d.u8()
	switch c {
	case fzRangeOp:
		r.setRange(d)
		return
	case fzRangeOp + 1:
		r.getRange(d)
		return
	}
	op := int(c) % 23
	if c%24 == 23 {
		op = 23
	}
	switch op {
	case 0: // SET
		k, v := d.key(), d.value()
		r.logf("SET %s %s", fzShort(k), fzShort(v))
		var want []error
		if len(v) > fzMaxValue {
			want = append(want, core.ErrValueTooLarge)
		}
		err := ks.Set(k, v)
		if r.failedOOM("SET", err, want, k) {
			return
		}
		if !r.checkErr("SET", err, want) {
			m.put(k, v, 0)
		}

	case 1: // SET with options
		k, v := d.key(), d.value()
		fl := d.u8()
		o := core.SetOptions{NX: fl&1 != 0, XX: fl&2 != 0, KeepTTL: fl&4 != 0, Get: fl&8 != 0}
		switch (fl >> 4) & 3 {
		case 1:
			o.TTL = fzRel[d.n(len(fzRel))]
		case 2:
			o.ExpireAt = fzAbs[d.n(len(fzAbs))](m.now)
		}
		r.logf("SETOPT %s %s %+v", fzShort(k), fzShort(v), o)
		var want []error
		if len(v) > fzMaxValue {
			want = append(want, core.ErrValueTooLarge)
		}
		if o.TTL < 0 || o.ExpireAt < 0 || (o.TTL > 0 && o.TTL > math.MaxInt64-m.now) {
			want = append(want, core.ErrInvalidExpire)
		}
		if (o.NX && o.XX) || (o.KeepTTL && (o.TTL != 0 || o.ExpireAt != 0)) {
			want = append(want, core.ErrSyntax)
		}
		res, err := ks.SetOpt(bytes.Clone(pfx), k, v, o)
		if r.failedOOM("SETOPT", err, want, k) {
			return
		}
		if r.checkErr("SETOPT", err, want) {
			return
		}
		e, exists := m.live(k)
		if o.Get {
			r.checkValue("SETOPT GET", k, res.Prev, res.HadPrev, pfx)
		}
		write := !(o.NX && exists) && !(o.XX && !exists)
		if res.Written != write {
			r.fatalf("SETOPT %s %+v: Written=%v, want %v (key exists: %v)", fzShort(k), o, res.Written, write, exists)
		}
		if !write {
			return
		}
		var deadline int64
		switch {
		case o.TTL > 0:
			deadline = m.now + o.TTL
		case o.ExpireAt > 0:
			deadline = o.ExpireAt
		case o.KeepTTL && exists:
			deadline = e.deadline
		}
		// A deadline already past stores the key expired (Redis 7.0 SET
		// sets it without checkAlreadyExpired, unlike EXPIRE and GETEX):
		// absent to reads, counted by Len until reclaimed.
		m.put(k, v, deadline)

	case 2: // GET
		k := d.key()
		r.logf("GET %s", fzShort(k))
		got, ok := ks.Get(bytes.Clone(pfx), k)
		r.checkValue("GET", k, got, ok, pfx)

	case 3: // DEL
		k := d.key()
		r.logf("DEL %s", fzShort(k))
		_, want := m.live(k)
		if got := ks.Delete(k); got != want {
			r.fatalf("DEL %s = %v, want %v", fzShort(k), got, want)
		}
		if want {
			m.del(k)
		}

	case 4: // EXISTS
		k := d.key()
		r.logf("EXISTS %s", fzShort(k))
		if _, want := m.live(k); ks.Exists(k) != want {
			r.fatalf("EXISTS %s = %v, want %v", fzShort(k), !want, want)
		}

	case 5, 22: // INCRBY / INCR / DECR
		k := d.key()
		delta := fzDeltas[d.n(len(fzDeltas))]
		var got int64
		var err error
		switch {
		case op == 22 && delta >= 0:
			r.logf("INCR %s", fzShort(k))
			delta = 1
			got, err = ks.Incr(k)
		case op == 22:
			r.logf("DECR %s", fzShort(k))
			delta = -1
			got, err = ks.Decr(k)
		default:
			r.logf("INCRBY %s %d", fzShort(k), delta)
			got, err = ks.IncrBy(k, delta)
		}
		cur, deadline, want := m.counter(k)
		if len(want) == 0 && fzAddOverflows(cur, delta) {
			want = append(want, core.ErrOverflow)
		}
		if r.failedOOM("INCRBY", err, want, k) {
			return
		}
		if r.checkErr("INCRBY", err, want) {
			return
		}
		if got != cur+delta {
			if got != delta || !r.selfEvicted("INCRBY", k) {
				r.fatalf("INCRBY %s %d = %d, want %d", fzShort(k), delta, got, cur+delta)
			}
			cur, deadline = 0, 0
		}
		m.put(k, []byte(strconv.FormatInt(cur+delta, 10)), deadline)

	case 6: // APPEND
		k, v := d.key(), d.value()
		r.logf("APPEND %s %s", fzShort(k), fzShort(v))
		e, exists := m.live(k)
		nv, deadline := v, int64(0)
		if exists {
			nv, deadline = append(bytes.Clone(e.val), v...), e.deadline
		}
		var want []error
		if len(nv) > fzMaxValue {
			want = append(want, core.ErrValueTooLarge)
		}
		n, err := ks.Append(k, v)
		if r.failedOOM("APPEND", err, want, k) {
			return
		}
		if r.checkErr("APPEND", err, want) {
			return
		}
		if n != len(nv) {
			if n != len(v) || !r.selfEvicted("APPEND", k) {
				r.fatalf("APPEND %s = %d, want %d", fzShort(k), n, len(nv))
			}
			nv, deadline = v, 0
		}
		m.put(k, nv, deadline)

	case 7: // GETDEL
		k := d.key()
		r.logf("GETDEL %s", fzShort(k))
		got, ok := ks.GetDel(bytes.Clone(pfx), k)
		r.checkValue("GETDEL", k, got, ok, pfx)
		if ok {
			m.del(k)
		}

	case 8: // GETEX
		k := d.key()
		var o core.GetExOptions
		switch d.n(4) {
		case 1:
			o.TTL = fzRel[d.n(len(fzRel))]
		case 2:
			o.ExpireAt = fzAbs[d.n(len(fzAbs))](m.now)
		case 3:
			o.Persist = true
		}
		r.logf("GETEX %s %+v", fzShort(k), o)
		// Redis getexCommand looks the key up before it validates the
		// expire: a missing key is a plain miss.
		var want []error
		if _, exists := m.live(k); exists && (o.TTL < 0 || o.ExpireAt < 0 || (o.TTL > 0 && o.TTL > math.MaxInt64-m.now)) {
			want = append(want, core.ErrInvalidExpire)
		}
		got, ok, err := ks.GetEx(bytes.Clone(pfx), k, o)
		if r.failedOOM("GETEX", err, want, k) {
			return
		}
		if r.checkErr("GETEX", err, want) {
			return
		}
		r.checkValue("GETEX", k, got, ok, pfx)
		if e, exists := m.live(k); exists {
			switch {
			case o.TTL > 0:
				e.deadline = m.now + o.TTL
			case o.ExpireAt > 0 && o.ExpireAt <= m.now:
				m.del(k)
			case o.ExpireAt > 0:
				e.deadline = o.ExpireAt
			case o.Persist:
				e.deadline = 0
			}
		}

	case 9: // RENAME
		src, dst := d.key(), d.key()
		r.logf("RENAME %s %s", fzShort(src), fzShort(dst))
		e, exists := m.live(src)
		var want []error
		if !exists {
			want = append(want, core.ErrNoSuchKey)
		}
		err := ks.Rename(src, dst)
		if r.failedOOM("RENAME", err, want, src, dst) {
			return
		}
		if r.checkErr("RENAME", err, want) {
			return
		}
		if !bytes.Equal(src, dst) {
			m.del(src)
			m.put(dst, e.val, e.deadline)
		}

	case 10: // EXPIRE / PEXPIRE / EXPIREAT / PEXPIREAT
		k := d.key()
		kind, cond := d.n(4), core.ExpireCond(d.n(5))
		var arg, when int64
		var got bool
		var err error
		overflow := false
		switch kind {
		case 0:
			arg = fzSeconds[d.n(len(fzSeconds))]
			r.logf("EXPIRE %s %d cond=%d", fzShort(k), arg, cond)
			got, err = ks.Expire(k, arg, cond)
			if arg > math.MaxInt64/1000 || arg < math.MinInt64/1000 || arg*1000 > math.MaxInt64-m.now {
				overflow = true
			} else {
				when = arg*1000 + m.now
			}
		case 1:
			arg = fzRel[d.n(len(fzRel))]
			r.logf("PEXPIRE %s %d cond=%d", fzShort(k), arg, cond)
			got, err = ks.PExpire(k, arg, cond)
			if arg > math.MaxInt64-m.now {
				overflow = true
			} else {
				when = arg + m.now
			}
		case 2:
			arg = fzAbsSeconds[d.n(len(fzAbsSeconds))](m.now)
			r.logf("EXPIREAT %s %d cond=%d", fzShort(k), arg, cond)
			got, err = ks.ExpireAt(k, arg, cond)
			if arg > math.MaxInt64/1000 || arg < math.MinInt64/1000 {
				overflow = true
			} else {
				when = arg * 1000
			}
		default:
			arg = fzAbs[d.n(len(fzAbs))](m.now)
			r.logf("PEXPIREAT %s %d cond=%d", fzShort(k), arg, cond)
			got, err = ks.PExpireAt(k, arg, cond)
			when = arg
		}
		var want []error
		if overflow {
			want = append(want, core.ErrInvalidExpire)
		}
		if r.failedOOM("EXPIRE", err, want, k) {
			return
		}
		if r.checkErr("EXPIRE", err, want) {
			return
		}
		e, exists := m.live(k)
		ok := exists
		if exists {
			cur := e.deadline
			switch cond {
			case core.ExpireNX:
				ok = cur == 0
			case core.ExpireXX:
				ok = cur != 0
			case core.ExpireGT:
				ok = cur != 0 && when > cur
			case core.ExpireLT:
				ok = cur == 0 || when < cur
			}
		}
		if got != ok {
			r.fatalf("expire %s when=%d cond=%d = %v, want %v", fzShort(k), when, cond, got, ok)
		}
		if ok {
			if when <= m.now {
				m.del(k)
			} else {
				e.deadline = when
			}
		}

	case 11: // PERSIST
		k := d.key()
		r.logf("PERSIST %s", fzShort(k))
		e, exists := m.live(k)
		want := exists && e.deadline != 0
		got, err := ks.Persist(k)
		// Removing a TTL rewrites the record: at a tight bound it may fail.
		if want && r.failedOOM("PERSIST", err, nil, k) {
			return
		}
		r.checkErr("PERSIST", err, nil)
		if got != want {
			// Not persisted where k had a TTL: the rewrite's room-making
			// evicted k itself (it has a TTL, so even Volatile may), and
			// the write's next run found it absent.
			if got || !r.selfEvicted("PERSIST", k) {
				r.fatalf("PERSIST %s = %v, want %v", fzShort(k), got, want)
			}
			return
		}
		if want {
			e.deadline = 0
		}

	case 12: // MSET
		pairs, want := fzPairs(d)
		r.logf("MSET %d pairs (%s ...)", len(pairs)/2, fzShort(pairs[0]))
		err := ks.MSet(pairs...)
		if r.tight && len(want) == 0 && errors.Is(err, core.ErrOOM) {
			r.afterPartial("MSET", pairs)
			return
		}
		if r.checkErr("MSET", err, want) {
			return
		}
		for i := 0; i < len(pairs); i += 2 {
			m.put(pairs[i], pairs[i+1], 0)
		}

	case 13: // MGET
		n := 1 + d.n(4)
		keys := make([][]byte, n)
		for i := range keys {
			keys[i] = d.key()
		}
		r.logf("MGET %d keys", n)
		buf, vals := ks.MGet(bytes.Clone(pfx), nil, keys...)
		if !bytes.HasPrefix(buf, pfx) {
			r.fatalf("MGET: buffer prefix clobbered")
		}
		if len(vals) != n {
			r.fatalf("MGET: %d values for %d keys", len(vals), n)
		}
		for i, k := range keys {
			e, ok := m.live(k)
			if (vals[i] != nil) != ok {
				r.fatalf("MGET: key %d %s found=%v, want %v", i, fzShort(k), vals[i] != nil, ok)
			}
			if ok && !bytes.Equal(vals[i], e.val) {
				r.fatalf("MGET: key %d %s = %s, want %s", i, fzShort(k), fzShort(vals[i]), fzShort(e.val))
			}
		}

	case 14: // TTL / PTTL / PEXPIRETIME / STRLEN
		k := d.key()
		e, ok := m.live(k)
		var pttl, at int64 = -2, -2
		strlen := 0
		if ok {
			pttl, at, strlen = -1, -1, len(e.val)
			if e.deadline != 0 {
				pttl, at = e.deadline-m.now, e.deadline
			}
		}
		ttl := pttl
		if pttl >= 0 {
			ttl = (pttl + 500) / 1000
		}
		switch d.n(4) {
		case 0:
			r.logf("TTL %s", fzShort(k))
			if got := ks.TTL(k); got != ttl {
				r.fatalf("TTL %s = %d, want %d", fzShort(k), got, ttl)
			}
		case 1:
			r.logf("PTTL %s", fzShort(k))
			if got := ks.PTTL(k); got != pttl {
				r.fatalf("PTTL %s = %d, want %d", fzShort(k), got, pttl)
			}
		case 2:
			r.logf("PEXPIRETIME %s", fzShort(k))
			if got := ks.PExpireTime(k); got != at {
				r.fatalf("PEXPIRETIME %s = %d, want %d", fzShort(k), got, at)
			}
		default:
			r.logf("STRLEN %s", fzShort(k))
			if got := ks.StrLen(k); got != strlen {
				r.fatalf("STRLEN %s = %d, want %d", fzShort(k), got, strlen)
			}
		}

	case 15: // LEN
		r.logf("LEN")
		r.checkLen()

	case 16: // FLUSH (rare), MSETNX, DECRBY, SetMaxMemory, SetEviction
		switch b := d.u8(); {
		case b < 32:
			r.logf("FLUSH")
			ks.Flush()
			clear(m.m)
			if n := ks.Len(); n != 0 {
				r.fatalf("Len after FLUSH = %d", n)
			}
		case b < 128:
			r.msetnx(d)
		case b < 192:
			k := d.key()
			delta := fzDeltas[d.n(len(fzDeltas))]
			r.logf("DECRBY %s %d", fzShort(k), delta)
			got, err := ks.DecrBy(k, delta)
			cur, deadline, want := m.counter(k)
			// Redis decrbyCommand refuses LLONG_MIN before it reads the key.
			if delta == math.MinInt64 {
				want = []error{core.ErrOverflow}
			} else if len(want) == 0 && fzAddOverflows(cur, -delta) {
				want = append(want, core.ErrOverflow)
			}
			if r.failedOOM("DECRBY", err, want, k) || r.checkErr("DECRBY", err, want) {
				return
			}
			if got != cur-delta {
				r.fatalf("DECRBY %s %d = %d, want %d", fzShort(k), delta, got, cur-delta)
			}
			m.put(k, []byte(strconv.FormatInt(cur-delta, 10)), deadline)
		case b < 224:
			if !r.tight {
				return
			}
			n := []int64{fzTightLow, fzTight, fzTightHigh}[d.n(3)]
			r.logf("SETMAXMEMORY %d", n)
			if n < ks.Stats().MaxBytes {
				r.lowered = true
			}
			if err := ks.SetMaxMemory(n); err != nil {
				r.fatalf("SetMaxMemory(%d): %v", n, err)
			}
			// A lower bound is reached in the background; the model
			// learns of its evictions at the next sync, once it is done.
			ks.Settle()
		default:
			if !r.tight {
				return
			}
			p := core.EvictionPolicy(d.n(3))
			r.logf("SETEVICTION %v", p)
			if err := ks.SetEviction(p); err != nil {
				r.fatalf("SetEviction(%v): %v", p, err)
			}
			ks.Settle()
			r.policy = p
			r.everEvict = r.everEvict || p != core.NoEviction
		}

	case 17: // advance the clock
		adv := fzAdvance[d.n(len(fzAdvance))]
		m.now += adv
		r.logf("CLOCK +%d -> %d", adv, m.now)

	case 18: // SCAN
		pat := fzPatterns[d.n(len(fzPatterns))]
		count := 1 + d.n(10)
		r.logf("SCAN match=%q count=%d", pat, count)
		r.checkScan(pat, count)

	case 19: // DIGEST (bounded: each builds a fresh keyspace)
		if r.digest < 3 {
			r.digest++
			r.logf("DIGEST")
			r.checkDigest()
		}

	case 20: // RANDOMKEY
		r.logf("RANDOMKEY")
		k, ok := ks.RandomKey(nil)
		live := m.liveKeys()
		if ok {
			if _, isLive := m.live(k); !isLive {
				r.fatalf("RANDOMKEY returned %s, which is not live", fzShort(k))
			}
		} else if len(live) > 0 && len(live) == len(m.m) {
			r.fatalf("RANDOMKEY found nothing; %d live keys, none expired", len(live))
		}

	case 21: // one active-expiry pass
		r.logf("ACTIVE-EXPIRE")
		n := ks.ActiveExpireCycle(time.Millisecond)
		if expired := len(m.m) - len(m.liveKeys()); n > expired {
			r.fatalf("ActiveExpireCycle reclaimed %d keys; at most %d are expired", n, expired)
		}

	case 23: // RENAMENX, COPY, TOUCH, INSPECT
		r.keyOps(d)
	}
}

// keyOps is one of RENAMENX, COPY [REPLACE], TOUCH of one to three keys,
// or Inspect, checked against the model.
func (r *fzRun) keyOps(d *fzDec) {
	ks, m := r.ks, r.m
	switch d.n(4) {
	case 0:
		src, dst := d.key(), d.key()
		r.logf("RENAMENX %s %s", fzShort(src), fzShort(dst))
		e, exists := m.live(src)
		_, dstLive := m.live(dst)
		var want []error
		if !exists {
			want = append(want, core.ErrNoSuchKey)
		}
		got, err := ks.RenameNX(src, dst)
		if r.failedOOM("RENAMENX", err, want, src, dst) || r.checkErr("RENAMENX", err, want) {
			return
		}
		if moved := !bytes.Equal(src, dst) && !dstLive; got != moved {
			// Moved where dst was live: evicted as the move made room.
			if !got || bytes.Equal(src, dst) || !r.selfEvicted("RENAMENX", dst) {
				r.fatalf("RENAMENX %s %s = %v, want %v", fzShort(src), fzShort(dst), got, moved)
			}
		}
		if got {
			m.del(src)
			m.put(dst, e.val, e.deadline)
		}
	case 1:
		src, dst, replace := d.key(), d.key(), d.n(2) == 1
		r.logf("COPY %s %s replace=%v", fzShort(src), fzShort(dst), replace)
		e, exists := m.live(src)
		_, dstLive := m.live(dst)
		var want []error
		if bytes.Equal(src, dst) {
			want = append(want, core.ErrSameKey)
		}
		got, err := ks.Copy(src, dst, replace)
		if r.failedOOM("COPY", err, want, src, dst) || r.checkErr("COPY", err, want) {
			return
		}
		if copied := exists && (replace || !dstLive); got != copied {
			// Copied where dst was live, or not copied where src was:
			// evicted as the copy made room.
			switch {
			case got && !replace && r.selfEvicted("COPY", dst):
			case !got && exists && r.selfEvicted("COPY", src):
			default:
				r.fatalf("COPY %s %s replace=%v = %v, want %v", fzShort(src), fzShort(dst), replace, got, copied)
			}
		}
		if got {
			m.put(dst, e.val, e.deadline)
		}
	case 2:
		keys := make([][]byte, 1+d.n(3))
		want := 0
		for i := range keys {
			keys[i] = d.key()
			if _, live := m.live(keys[i]); live {
				want++
			}
		}
		r.logf("TOUCH %d keys (%s ...)", len(keys), fzShort(keys[0]))
		if got := ks.Touch(keys...); got != want {
			r.fatalf("TOUCH = %d, want %d", got, want)
		}
	default:
		k := d.key()
		r.logf("INSPECT %s", fzShort(k))
		info, ok := ks.Inspect(k, d.n(2) == 1)
		e, live := m.live(k)
		if ok != live {
			r.fatalf("Inspect(%s) found=%v, model says %v", fzShort(k), ok, live)
		}
		if !ok {
			return
		}
		n, isInt := fzParseInt(e.val)
		deadline := e.deadline
		if deadline == 0 {
			deadline = -1
		}
		switch {
		case info.ValueLen != len(e.val), info.IsInt != isInt, info.Int != n, info.ExpireAt != deadline:
			r.fatalf("Inspect(%s) = %+v; model holds %s (deadline %d)", fzShort(k), info, fzShort(e.val), e.deadline)
		case info.Freq < 0 || info.Freq > core.MaxFreq:
			r.fatalf("Inspect(%s): frequency %d", fzShort(k), info.Freq)
		case info.Bytes < int64(len(k)+len(e.val)) || info.Bytes > ks.Stats().UsedBytes:
			r.fatalf("Inspect(%s): %d bytes for a %d-byte key and a %d-byte value (used %d)", fzShort(k), info.Bytes, len(k), len(e.val), ks.Stats().UsedBytes)
		}
	}
}

// fzPairs draws one to three key/value pairs for MSET or MSETNX, and the
// error expected of them (a value over the limit).
// setRange runs SETRANGE against the model: zero padding up to the
// offset, the TTL kept, nothing written (nor created) for an empty value,
// ErrOffsetRange for a negative offset before anything else, and
// ErrValueTooLarge past fzMaxValue.
func (r *fzRun) setRange(d *fzDec) {
	k := d.key()
	off := fzOffsets[d.n(len(fzOffsets))]
	v := d.value()
	r.logf("SETRANGE %s %d %s", fzShort(k), off, fzShort(v))
	e, exists := r.m.live(k)
	var old []byte
	var deadline int64
	if exists {
		old, deadline = e.val, e.deadline
	}
	var want []error
	var nv []byte
	switch {
	case off < 0:
		want = append(want, core.ErrOffsetRange)
	case len(v) == 0:
		nv = old
	case off > int64(fzMaxValue-len(v)):
		want = append(want, core.ErrValueTooLarge)
	default:
		nv = bytes.Clone(old)
		if end := int(off) + len(v); end > len(nv) {
			nv = append(nv, make([]byte, end-len(nv))...)
		}
		copy(nv[off:], v)
	}
	n, err := r.ks.SetRange(k, off, v)
	if r.failedOOM("SETRANGE", err, want, k) || r.checkErr("SETRANGE", err, want) {
		return
	}
	if n != len(nv) {
		r.fatalf("SETRANGE %s %d %s = %d, want %d", fzShort(k), off, fzShort(v), n, len(nv))
	}
	if len(v) > 0 {
		r.m.put(k, nv, deadline)
	}
}

// getRange runs GETRANGE against the model, Redis's getrangeCommand
// written out again on the model's value.
func (r *fzRun) getRange(d *fzDec) {
	k := d.key()
	start, end := fzOffsets[d.n(len(fzOffsets))], fzOffsets[d.n(len(fzOffsets))]
	r.logf("GETRANGE %s %d %d", fzShort(k), start, end)
	pfx := []byte("dst:")
	got, ok := r.ks.GetRange(bytes.Clone(pfx), k, start, end)
	e, exists := r.m.live(k)
	want := pfx
	if s, t := start, end; exists && !(s < 0 && t < 0 && s > t) {
		l := int64(len(e.val))
		if s < 0 {
			s = max(l+s, 0)
		}
		if t < 0 {
			t = max(l+t, 0)
		}
		if t >= l {
			t = l - 1
		}
		if s <= t {
			want = append(want, e.val[s:t+1]...)
		}
	}
	if ok != exists || !bytes.Equal(got, want) {
		r.fatalf("GETRANGE %s %d %d = %s (found %v), want %s (found %v)", fzShort(k), start, end, fzShort(got), ok, fzShort(want), exists)
	}
}

func fzPairs(d *fzDec) (pairs [][]byte, want []error) {
	n := 1 + d.n(3)
	for i := 0; i < n; i++ {
		k, v := d.key(), d.value()
		if len(v) > fzMaxValue && len(want) == 0 {
			want = append(want, core.ErrValueTooLarge)
		}
		pairs = append(pairs, k, v)
	}
	return pairs, want
}

// msetnx is MSETNX over one to three pairs: it writes them all only when
// none of the keys is live.
func (r *fzRun) msetnx(d *fzDec) {
	r.t.Helper()
	pairs, want := fzPairs(d)
	r.logf("MSETNX %d pairs (%s ...)", len(pairs)/2, fzShort(pairs[0]))
	anyLive := false
	for i := 0; i < len(pairs); i += 2 {
		if _, ok := r.m.live(pairs[i]); ok {
			anyLive = true
		}
	}
	got, err := r.ks.MSetNX(pairs...)
	if r.tight && len(want) == 0 && !anyLive && errors.Is(err, core.ErrOOM) {
		r.afterPartial("MSETNX", pairs)
		return
	}
	if r.checkErr("MSETNX", err, want) {
		if got {
			r.fatalf("MSETNX failed with %v but reported a write", err)
		}
		return
	}
	if got == anyLive {
		r.fatalf("MSETNX = %v; a key among them is live: %v", got, anyLive)
	}
	if got {
		for i := 0; i < len(pairs); i += 2 {
			r.m.put(pairs[i], pairs[i+1], 0)
		}
	}
}

// checkMemory compares the keyspace's counters with what the run saw:
// nothing evicted unless a policy allows it, at least every key sync saw
// vanish counted as evicted, and the bound held (unless it was lowered:
// memory then only shrinks as writes need it).
func (r *fzRun) checkMemory() {
	r.t.Helper()
	st := r.ks.Stats()
	if !r.everEvict && st.Evicted != 0 {
		r.fatalf("Stats.Evicted = %d without an eviction policy", st.Evicted)
	}
	if st.Evicted < r.lost {
		r.fatalf("Stats.Evicted = %d, but %d keys were seen evicted", st.Evicted, r.lost)
	}
	if st.MaxBytes > 0 && !r.lowered && st.UsedBytes > st.MaxBytes {
		r.fatalf("UsedBytes = %d over the bound %d", st.UsedBytes, st.MaxBytes)
	}
}

func (r *fzRun) checkLen() {
	r.t.Helper()
	lo, hi := len(r.m.liveKeys()), len(r.m.m)
	if n := r.ks.Len(); n < lo || n > hi {
		r.fatalf("Len = %d, want %d live keys (up to %d counting expired keys not yet reclaimed)", n, lo, hi)
	}
}

// checkExpires compares Expires, the keys the keyspace counts with a TTL
// (what Volatile eviction relies on), with the model's.
func (r *fzRun) checkExpires() {
	r.t.Helper()
	lo, hi := 0, 0
	for _, k := range r.m.liveKeys() {
		if r.m.m[k].deadline != 0 {
			lo++
		}
	}
	for _, e := range r.m.m {
		if e.deadline != 0 {
			hi++
		}
	}
	if n := r.ks.Expires(); n < int64(lo) || n > int64(hi) {
		r.fatalf("Expires = %d, want %d keys with a TTL (up to %d counting expired keys not yet reclaimed)", n, lo, hi)
	}
}

func (r *fzRun) checkScan(pat []byte, count int) {
	r.t.Helper()
	seen := map[string]bool{}
	cursor := uint64(0)
	var dst [][]byte
	for steps := 0; ; steps++ {
		dst, cursor = r.ks.Scan(cursor, pat, count, dst[:0])
		for _, k := range dst {
			seen[string(k)] = true
		}
		if cursor == 0 {
			break
		}
		if steps > 100_000 {
			r.fatalf("SCAN %q did not terminate", pat)
		}
	}
	var want []string
	for _, k := range r.m.liveKeys() {
		if pat == nil || fzGlob(pat, []byte(k)) {
			want = append(want, k)
		}
	}
	got := make([]string, 0, len(seen))
	for k := range seen {
		got = append(got, k)
	}
	sort.Strings(got)
	if strings.Join(got, "\x01") != strings.Join(want, "\x01") || len(got) != len(want) {
		r.fatalf("SCAN match=%q returned %q, want %q", pat, got, want)
	}
}

// checkDigest compares Digest with that of a fresh keyspace holding the
// model's live contents.
func (r *fzRun) checkDigest() {
	r.t.Helper()
	fresh, err := core.New(core.Options{Clock: r.opts.Clock, NoActiveExpiry: true, MaxValueSize: fzMaxValue})
	if err != nil {
		r.fatalf("New: %v", err)
	}
	defer fresh.Close()
	for _, k := range r.m.liveKeys() {
		e := r.m.m[k]
		if e.deadline == 0 {
			err = fresh.Set([]byte(k), e.val)
		} else {
			// Digest covers only whether a key has a TTL. A key whose
			// deadline is exactly now is live, but SET with that
			// deadline would delete it: load it one ms later.
			_, err = fresh.SetOpt(nil, []byte(k), e.val, core.SetOptions{ExpireAt: max(e.deadline, r.m.now+1)})
		}
		if err != nil {
			r.fatalf("loading the fresh keyspace: %v", err)
		}
	}
	if n := len(r.m.liveKeys()); fresh.Len() != n {
		r.fatalf("the fresh keyspace holds %d keys, want %d", fresh.Len(), n)
	}
	if got, want := r.ks.Digest(), fresh.Digest(); got != want {
		r.fatalf("Digest = %#x, want %#x (fresh keyspace with the same %d live keys)", got, want, fresh.Len())
	}
}

func (r *fzRun) finalCheck() {
	r.t.Helper()
	r.logf("FINAL CHECK")
	r.checkScan(nil, 3)
	for _, k := range fzKeys {
		got, ok := r.ks.Get(nil, k)
		r.checkValue("final GET", k, got, ok, nil)
		want := int64(-2)
		if e, ok := r.m.live(k); ok {
			want = -1
			if e.deadline != 0 {
				want = e.deadline - r.m.now
			}
		}
		if p := r.ks.PTTL(k); p != want {
			r.fatalf("final PTTL %s = %d, want %d", fzShort(k), p, want)
		}
	}
	r.checkLen()
	r.checkExpires()
	r.checkDigest()
	r.checkMemory()
}
