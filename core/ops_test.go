package core

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Table tests for every keyspace operation in API.txt. Each row is named
// after the Redis command it mirrors, and every expectation was checked by
// hand against Redis 7.0.15 with redis-cli (relative TTLs there were read
// back immediately; here a fake clock makes them exact). Time only moves
// when a test advances the clock, and active expiry is off, so an expired
// key stays in the arena until a read has to skip it.

// opsT0 is the fake clock's start: a whole second, so EXPIREAT (seconds)
// arithmetic is exact.
const opsT0 = int64(1_700_000_000_000)

// opsAbsent as an expected PTTL means the key must not exist.
const opsAbsent = -2

func opsB(s string) []byte { return []byte(s) }

func opsStr(s string) *string { return &s }

// newOpsKS returns a keyspace on a fake clock that starts at opsT0, with
// active expiry off.
func newOpsKS(t testing.TB, o Options) (*Keyspace, *atomic.Int64) {
	t.Helper()
	now := new(atomic.Int64)
	now.Store(opsT0)
	return newOpsKSClock(t, o, now), now
}

// newOpsKSClock returns a keyspace on the given fake clock.
func newOpsKSClock(t testing.TB, o Options, now *atomic.Int64) *Keyspace {
	t.Helper()
	o.Clock = func() int64 { return now.Load() }
	o.NoActiveExpiry = true
	ks, err := New(o)
	require.NoError(t, err)
	t.Cleanup(ks.Close)
	return ks
}

// opsKV is a key to create before a row runs, with a relative TTL in ms
// when ttl > 0.
type opsKV struct {
	k, v string
	ttl  int64
}

func seedOps(t testing.TB, ks *Keyspace, kvs []opsKV) {
	t.Helper()
	for _, kv := range kvs {
		_, err := ks.SetOpt(nil, opsB(kv.k), opsB(kv.v), SetOptions{TTL: kv.ttl})
		require.NoError(t, err, "seed SET %q", kv.k)
	}
}

// opsState is what a key must look like after a row: missing when pttl is
// opsAbsent, otherwise holding v with that PTTL (-1: no TTL).
type opsState struct {
	k    string
	v    string
	pttl int64
}

func checkOpsState(t testing.TB, ks *Keyspace, states []opsState) {
	t.Helper()
	for _, st := range states {
		key := opsB(st.k)
		got, ok := ks.Get(nil, key)
		if st.pttl == opsAbsent {
			assert.False(t, ok, "GET %q: want (nil), got %q", st.k, got)
			assert.False(t, ks.Exists(key), "EXISTS %q", st.k)
			assert.Equal(t, int64(-2), ks.PTTL(key), "PTTL %q", st.k)
			continue
		}
		if assert.True(t, ok, "GET %q: want %q, got (nil)", st.k, st.v) {
			assert.Equal(t, st.v, string(got), "GET %q", st.k)
		}
		assert.True(t, ks.Exists(key), "EXISTS %q", st.k)
		assert.Equal(t, st.pttl, ks.PTTL(key), "PTTL %q", st.k)
	}
}

// opsReclaim runs active-expiry passes until want keys were reclaimed or it
// is clear no more will be.
func opsReclaim(t testing.TB, ks *Keyspace, want int) int {
	t.Helper()
	total := 0
	for i := 0; i < 1000 && total < want; i++ {
		total += ks.ActiveExpireCycle(time.Second)
	}
	return total
}

func TestOpsSet(t *testing.T) {
	old := []opsKV{{"k", "old", 0}}
	oldTTL := []opsKV{{"k", "old", 100_000}}
	oldShort := []opsKV{{"k", "old", 1000}}
	cases := []struct {
		name        string
		pre         []opsKV
		advance     int64
		dst         string
		val         string
		o           SetOptions
		wantErr     error
		wantWritten bool
		wantHadPrev bool
		wantPrev    string // checked when o.Get
		after       []opsState
	}{
		{name: "SET k v", val: "v", wantWritten: true, after: []opsState{{"k", "v", -1}}},
		{name: "SET k v (clears TTL)", pre: oldTTL, val: "v", wantWritten: true, after: []opsState{{"k", "v", -1}}},
		{name: "SET k '' (empty value)", val: "", wantWritten: true, after: []opsState{{"k", "", -1}}},
		{name: "SET k v NX (missing)", val: "v", o: SetOptions{NX: true}, wantWritten: true, after: []opsState{{"k", "v", -1}}},
		{name: "SET k v NX (exists)", pre: oldTTL, val: "v", o: SetOptions{NX: true}, after: []opsState{{"k", "old", 100_000}}},
		{name: "SET k v NX (expired)", pre: oldShort, advance: 1001, val: "v", o: SetOptions{NX: true}, wantWritten: true, after: []opsState{{"k", "v", -1}}},
		{name: "SET k v XX (missing)", val: "v", o: SetOptions{XX: true}, after: []opsState{{"k", "", opsAbsent}}},
		{name: "SET k v XX (exists)", pre: oldTTL, val: "v", o: SetOptions{XX: true}, wantWritten: true, after: []opsState{{"k", "v", -1}}},
		{name: "SET k v XX (expired)", pre: oldShort, advance: 1001, val: "v", o: SetOptions{XX: true}, after: []opsState{{"k", "", opsAbsent}}},
		{name: "SET k v NX XX", pre: old, val: "v", o: SetOptions{NX: true, XX: true}, wantErr: ErrSyntax, after: []opsState{{"k", "old", -1}}},
		{name: "SET k v PX 5000", val: "v", o: SetOptions{TTL: 5000}, wantWritten: true, after: []opsState{{"k", "v", 5000}}},
		{name: "SET k v PX 5000 (replaces TTL)", pre: oldTTL, val: "v", o: SetOptions{TTL: 5000}, wantWritten: true, after: []opsState{{"k", "v", 5000}}},
		{name: "SET k v PX 5000 (after time passed)", pre: oldTTL, advance: 30_000, val: "v", o: SetOptions{TTL: 5000}, wantWritten: true, after: []opsState{{"k", "v", 5000}}},
		{name: "SET k v PXAT now+5000", val: "v", o: SetOptions{ExpireAt: opsT0 + 5000}, wantWritten: true, after: []opsState{{"k", "v", 5000}}},
		{name: "SET k v PXAT t0+5000 (absolute, clock moved)", advance: 2000, val: "v", o: SetOptions{ExpireAt: opsT0 + 5000}, wantWritten: true, after: []opsState{{"k", "v", 3000}}},
		{name: "SET k v PXAT 9223372036854775807", val: "v", o: SetOptions{ExpireAt: math.MaxInt64}, wantWritten: true, after: []opsState{{"k", "v", math.MaxInt64 - opsT0}}},
		{name: "SET k v PX 10 PXAT t", pre: old, val: "v", o: SetOptions{TTL: 10, ExpireAt: opsT0 + 10}, wantErr: ErrSyntax, after: []opsState{{"k", "old", -1}}},
		{name: "SET k v PX -1", pre: old, val: "v", o: SetOptions{TTL: -1}, wantErr: ErrInvalidExpire, after: []opsState{{"k", "old", -1}}},
		{name: "SET k v PXAT -5", val: "v", o: SetOptions{ExpireAt: -5}, wantErr: ErrInvalidExpire, after: []opsState{{"k", "", opsAbsent}}},
		{name: "SET k v PX 9223372036854775807 (overflow)", pre: old, val: "v", o: SetOptions{TTL: math.MaxInt64}, wantErr: ErrInvalidExpire, after: []opsState{{"k", "old", -1}}},
		{name: "SET k v PXAT 1 (past deadline)", val: "v", o: SetOptions{ExpireAt: 1}, wantWritten: true, after: []opsState{{"k", "", opsAbsent}}},
		{name: "SET k v PXAT now-1 (past deadline, key existed)", pre: old, val: "v", o: SetOptions{ExpireAt: opsT0 - 1}, wantWritten: true, after: []opsState{{"k", "", opsAbsent}}},
		{name: "SET k v KEEPTTL", pre: oldTTL, val: "v", o: SetOptions{KeepTTL: true}, wantWritten: true, after: []opsState{{"k", "v", 100_000}}},
		{name: "SET k v KEEPTTL (keeps the deadline)", pre: oldTTL, advance: 30_000, val: "v", o: SetOptions{KeepTTL: true}, wantWritten: true, after: []opsState{{"k", "v", 70_000}}},
		{name: "SET k v KEEPTTL (no TTL)", pre: old, val: "v", o: SetOptions{KeepTTL: true}, wantWritten: true, after: []opsState{{"k", "v", -1}}},
		{name: "SET k v KEEPTTL (missing)", val: "v", o: SetOptions{KeepTTL: true}, wantWritten: true, after: []opsState{{"k", "v", -1}}},
		{name: "SET k v KEEPTTL (expired)", pre: oldShort, advance: 1001, val: "v", o: SetOptions{KeepTTL: true}, wantWritten: true, after: []opsState{{"k", "v", -1}}},
		{name: "SET k v PX 100 KEEPTTL", pre: oldTTL, val: "v", o: SetOptions{TTL: 100, KeepTTL: true}, wantErr: ErrSyntax, after: []opsState{{"k", "old", 100_000}}},
		{name: "SET k v PXAT t KEEPTTL", pre: oldTTL, val: "v", o: SetOptions{ExpireAt: opsT0 + 100, KeepTTL: true}, wantErr: ErrSyntax, after: []opsState{{"k", "old", 100_000}}},
		{name: "SET k v GET (exists)", pre: oldTTL, val: "v", o: SetOptions{Get: true}, wantWritten: true, wantHadPrev: true, wantPrev: "old", after: []opsState{{"k", "v", -1}}},
		{name: "SET k v GET (missing)", val: "v", o: SetOptions{Get: true}, wantWritten: true, after: []opsState{{"k", "v", -1}}},
		{name: "SET k v GET (appends to dst)", pre: old, dst: "prefix:", val: "v", o: SetOptions{Get: true}, wantWritten: true, wantHadPrev: true, wantPrev: "prefix:old", after: []opsState{{"k", "v", -1}}},
		{name: "SET k v GET (missing, dst untouched)", dst: "prefix:", val: "v", o: SetOptions{Get: true}, wantWritten: true, wantPrev: "prefix:", after: []opsState{{"k", "v", -1}}},
		{name: "SET k v GET (expired)", pre: oldShort, advance: 1001, val: "v", o: SetOptions{Get: true}, wantWritten: true, after: []opsState{{"k", "v", -1}}},
		{name: "SET k v GET (empty previous value)", pre: []opsKV{{"k", "", 0}}, val: "v", o: SetOptions{Get: true}, wantWritten: true, wantHadPrev: true, after: []opsState{{"k", "v", -1}}},
		{name: "SET k v NX GET (exists)", pre: oldTTL, val: "v", o: SetOptions{NX: true, Get: true}, wantHadPrev: true, wantPrev: "old", after: []opsState{{"k", "old", 100_000}}},
		{name: "SET k v NX GET (missing)", val: "v", o: SetOptions{NX: true, Get: true}, wantWritten: true, after: []opsState{{"k", "v", -1}}},
		{name: "SET k v XX GET (missing)", val: "v", o: SetOptions{XX: true, Get: true}, after: []opsState{{"k", "", opsAbsent}}},
		{name: "SET k v XX GET (exists)", pre: old, val: "v", o: SetOptions{XX: true, Get: true}, wantWritten: true, wantHadPrev: true, wantPrev: "old", after: []opsState{{"k", "v", -1}}},
		{name: "SET k v KEEPTTL GET", pre: oldTTL, val: "v", o: SetOptions{KeepTTL: true, Get: true}, wantWritten: true, wantHadPrev: true, wantPrev: "old", after: []opsState{{"k", "v", 100_000}}},
		{name: "SET k v PXAT 1 GET (exists)", pre: old, val: "v", o: SetOptions{ExpireAt: 1, Get: true}, wantWritten: true, wantHadPrev: true, wantPrev: "old", after: []opsState{{"k", "", opsAbsent}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ks, now := newOpsKS(t, Options{})
			seedOps(t, ks, tc.pre)
			now.Add(tc.advance)
			var dst []byte
			if tc.dst != "" {
				dst = opsB(tc.dst)
			}
			res, err := ks.SetOpt(dst, opsB("k"), opsB(tc.val), tc.o)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
			} else {
				require.NoError(t, err)
				assert.Equal(t, tc.wantWritten, res.Written, "Written")
				if tc.o.Get {
					assert.Equal(t, tc.wantHadPrev, res.HadPrev, "HadPrev")
					assert.Equal(t, tc.wantPrev, string(res.Prev), "Prev")
				}
			}
			checkOpsState(t, ks, tc.after)
		})
	}
}

func TestOpsPlainSet(t *testing.T) {
	cases := []struct {
		name    string
		pre     []opsKV
		advance int64
		val     string
	}{
		{"SET k v (missing)", nil, 0, "v"},
		{"SET k v (overwrite)", []opsKV{{"k", "old", 0}}, 0, "v"},
		{"SET k v (clears TTL)", []opsKV{{"k", "old", 100_000}}, 0, "v"},
		{"SET k v (expired)", []opsKV{{"k", "old", 1000}}, 1001, "v"},
		{"SET k '' (empty)", []opsKV{{"k", "old", 0}}, 0, ""},
		{"SET k <4 KiB>", nil, 0, strings.Repeat("x", 4096)},
		{"SET k <1 MiB> (large value)", nil, 0, strings.Repeat("y", 1<<20)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ks, now := newOpsKS(t, Options{})
			seedOps(t, ks, tc.pre)
			now.Add(tc.advance)
			require.NoError(t, ks.Set(opsB("k"), opsB(tc.val)))
			checkOpsState(t, ks, []opsState{{"k", tc.val, -1}})
			assert.Equal(t, len(tc.val), ks.StrLen(opsB("k")), "STRLEN k")
		})
	}
}

func TestOpsGet(t *testing.T) {
	cases := []struct {
		name    string
		pre     []opsKV
		advance int64
		dst     []byte
		want    string
		wantOK  bool
	}{
		{"GET k", []opsKV{{"k", "value", 0}}, 0, nil, "value", true},
		{"GET k (appends to dst)", []opsKV{{"k", "value", 0}}, 0, opsB("pre:"), "pre:value", true},
		{"GET k (appends within dst capacity)", []opsKV{{"k", "value", 0}}, 0, append(make([]byte, 0, 64), "pre:"...), "pre:value", true},
		{"GET k (missing, dst untouched)", nil, 0, opsB("pre:"), "pre:", false},
		{"GET k (empty value)", []opsKV{{"k", "", 0}}, 0, opsB("pre:"), "pre:", true},
		{"GET k (with TTL)", []opsKV{{"k", "value", 1000}}, 999, nil, "value", true},
		{"GET k (expired)", []opsKV{{"k", "value", 1000}}, 1001, opsB("pre:"), "pre:", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ks, now := newOpsKS(t, Options{})
			seedOps(t, ks, tc.pre)
			now.Add(tc.advance)
			got, ok := ks.Get(tc.dst, opsB("k"))
			assert.Equal(t, tc.wantOK, ok)
			assert.Equal(t, tc.want, string(got))
		})
	}
}

func TestOpsDeleteExistsStrLen(t *testing.T) {
	cases := []struct {
		name       string
		pre        []opsKV
		advance    int64
		wantExists bool
		wantStrLen int
		wantDel    bool
	}{
		{"DEL/EXISTS/STRLEN k (exists)", []opsKV{{"k", "hello", 0}}, 0, true, 5, true},
		{"DEL/EXISTS/STRLEN k (with TTL)", []opsKV{{"k", "hello", 100_000}}, 0, true, 5, true},
		{"DEL/EXISTS/STRLEN k (empty value)", []opsKV{{"k", "", 0}}, 0, true, 0, true},
		{"DEL/EXISTS/STRLEN k (missing)", nil, 0, false, 0, false},
		{"DEL/EXISTS/STRLEN k (expired)", []opsKV{{"k", "hello", 1000}}, 1001, false, 0, false},
		{"DEL/EXISTS/STRLEN k (other key only)", []opsKV{{"k2", "hello", 0}}, 0, false, 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ks, now := newOpsKS(t, Options{})
			seedOps(t, ks, tc.pre)
			now.Add(tc.advance)
			assert.Equal(t, tc.wantExists, ks.Exists(opsB("k")), "EXISTS k")
			assert.Equal(t, tc.wantStrLen, ks.StrLen(opsB("k")), "STRLEN k")
			assert.Equal(t, tc.wantDel, ks.Delete(opsB("k")), "DEL k")
			assert.False(t, ks.Delete(opsB("k")), "second DEL k")
			checkOpsState(t, ks, []opsState{{"k", "", opsAbsent}})
		})
	}
}

func TestOpsIncr(t *testing.T) {
	cases := []struct {
		name    string
		pre     []opsKV
		advance int64
		fn      string // INCR, INCRBY, DECR, DECRBY
		delta   int64
		want    int64
		wantErr error
		after   opsState
	}{
		{name: "INCR n (missing)", fn: "INCR", want: 1, after: opsState{"n", "1", -1}},
		{name: "INCRBY n 10 (missing)", fn: "INCRBY", delta: 10, want: 10, after: opsState{"n", "10", -1}},
		{name: "DECR n (missing)", fn: "DECR", want: -1, after: opsState{"n", "-1", -1}},
		{name: "DECRBY n 3 (missing)", fn: "DECRBY", delta: 3, want: -3, after: opsState{"n", "-3", -1}},
		{name: "INCRBY n -7 (missing)", fn: "INCRBY", delta: -7, want: -7, after: opsState{"n", "-7", -1}},
		{name: "INCR n (41)", pre: []opsKV{{"n", "41", 0}}, fn: "INCR", want: 42, after: opsState{"n", "42", -1}},
		{name: "INCR n (-1)", pre: []opsKV{{"n", "-1", 0}}, fn: "INCR", want: 0, after: opsState{"n", "0", -1}},
		{name: "INCR n (0)", pre: []opsKV{{"n", "0", 0}}, fn: "INCR", want: 1, after: opsState{"n", "1", -1}},
		{name: "DECR n (0)", pre: []opsKV{{"n", "0", 0}}, fn: "DECR", want: -1, after: opsState{"n", "-1", -1}},
		{name: "DECRBY n -5 (10)", pre: []opsKV{{"n", "10", 0}}, fn: "DECRBY", delta: -5, want: 15, after: opsState{"n", "15", -1}},
		{name: "INCRBY n 0 (5)", pre: []opsKV{{"n", "5", 0}}, fn: "INCRBY", delta: 0, want: 5, after: opsState{"n", "5", -1}},
		{name: "INCR n (keeps TTL)", pre: []opsKV{{"n", "5", 100_000}}, fn: "INCR", want: 6, after: opsState{"n", "6", 100_000}},
		{name: "DECRBY n 2 (keeps TTL)", pre: []opsKV{{"n", "5", 100_000}}, advance: 1000, fn: "DECRBY", delta: 2, want: 3, after: opsState{"n", "3", 99_000}},
		{name: "INCR n (expired)", pre: []opsKV{{"n", "5", 1000}}, advance: 1001, fn: "INCR", want: 1, after: opsState{"n", "1", -1}},
		{name: "INCR n (9223372036854775806)", pre: []opsKV{{"n", "9223372036854775806", 0}}, fn: "INCR", want: math.MaxInt64, after: opsState{"n", "9223372036854775807", -1}},
		{name: "INCR n (9223372036854775807) overflows", pre: []opsKV{{"n", "9223372036854775807", 0}}, fn: "INCR", wantErr: ErrOverflow, after: opsState{"n", "9223372036854775807", -1}},
		{name: "INCRBY n 0 (9223372036854775807)", pre: []opsKV{{"n", "9223372036854775807", 0}}, fn: "INCRBY", want: math.MaxInt64, after: opsState{"n", "9223372036854775807", -1}},
		{name: "INCRBY n 9223372036854775807 (1) overflows", pre: []opsKV{{"n", "1", 0}}, fn: "INCRBY", delta: math.MaxInt64, wantErr: ErrOverflow, after: opsState{"n", "1", -1}},
		{name: "DECR n (-9223372036854775808) overflows", pre: []opsKV{{"n", "-9223372036854775808", 0}}, fn: "DECR", wantErr: ErrOverflow, after: opsState{"n", "-9223372036854775808", -1}},
		{name: "INCRBY n -1 (-9223372036854775808) overflows", pre: []opsKV{{"n", "-9223372036854775808", 0}}, fn: "INCRBY", delta: -1, wantErr: ErrOverflow, after: opsState{"n", "-9223372036854775808", -1}},
		{name: "INCRBY n 9223372036854775807 (-9223372036854775808)", pre: []opsKV{{"n", "-9223372036854775808", 0}}, fn: "INCRBY", delta: math.MaxInt64, want: -1, after: opsState{"n", "-1", -1}},
		{name: "INCRBY n -9223372036854775807 (-1)", pre: []opsKV{{"n", "-1", 0}}, fn: "INCRBY", delta: -math.MaxInt64, want: math.MinInt64, after: opsState{"n", "-9223372036854775808", -1}},
		{name: "DECRBY n 9223372036854775807 (missing)", fn: "DECRBY", delta: math.MaxInt64, want: -math.MaxInt64, after: opsState{"n", "-9223372036854775807", -1}},
		{name: "DECRBY n 1 (-9223372036854775807)", pre: []opsKV{{"n", "-9223372036854775807", 0}}, fn: "DECRBY", delta: 1, want: math.MinInt64, after: opsState{"n", "-9223372036854775808", -1}},
		{name: "DECRBY n 1 (-9223372036854775808) overflows", pre: []opsKV{{"n", "-9223372036854775808", 0}}, fn: "DECRBY", delta: 1, wantErr: ErrOverflow, after: opsState{"n", "-9223372036854775808", -1}},
		{name: "DECRBY n -9223372036854775808 (missing) overflows", fn: "DECRBY", delta: math.MinInt64, wantErr: ErrOverflow, after: opsState{"n", "", opsAbsent}},
		{name: "DECRBY n -9223372036854775808 (0) overflows", pre: []opsKV{{"n", "0", 0}}, fn: "DECRBY", delta: math.MinInt64, wantErr: ErrOverflow, after: opsState{"n", "0", -1}},
	}
	// Values Redis 7 refuses with "value is not an integer or out of range":
	// string2ll accepts only an optional '-' followed by digits without a
	// leading zero, no spaces, no '+', and only values that fit in int64.
	for _, v := range []string{
		"1.5", " 1", "1 ", "+1", "01", "", "-0", "-", "abc", "1\x00", "0x10", "1e3",
		"12345678901234567890", "00000000000000000001", "9223372036854775808",
		"-9223372036854775809", "99999999999999999999999",
	} {
		for _, fn := range []string{"INCR", "DECRBY"} {
			cases = append(cases, struct {
				name    string
				pre     []opsKV
				advance int64
				fn      string
				delta   int64
				want    int64
				wantErr error
				after   opsState
			}{
				name: fmt.Sprintf("%s n (%q) not an integer", fn, v), pre: []opsKV{{"n", v, 100_000}},
				fn: fn, delta: 1, wantErr: ErrNotInteger, after: opsState{"n", v, 100_000},
			})
		}
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ks, now := newOpsKS(t, Options{})
			seedOps(t, ks, tc.pre)
			now.Add(tc.advance)
			var got int64
			var err error
			switch tc.fn {
			case "INCR":
				got, err = ks.Incr(opsB("n"))
			case "INCRBY":
				got, err = ks.IncrBy(opsB("n"), tc.delta)
			case "DECR":
				got, err = ks.Decr(opsB("n"))
			case "DECRBY":
				got, err = ks.DecrBy(opsB("n"), tc.delta)
			default:
				t.Fatalf("unknown op %s", tc.fn)
			}
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
			} else {
				require.NoError(t, err)
				assert.Equal(t, tc.want, got)
			}
			checkOpsState(t, ks, []opsState{tc.after})
		})
	}
}

func TestOpsAppend(t *testing.T) {
	cases := []struct {
		name    string
		pre     []opsKV
		advance int64
		val     string
		want    int
		after   opsState
	}{
		{"APPEND k abc (missing)", nil, 0, "abc", 3, opsState{"k", "abc", -1}},
		{"APPEND k xx (keeps TTL)", []opsKV{{"k", "6", 100_000}}, 0, "xx", 3, opsState{"k", "6xx", 100_000}},
		{"APPEND k xx (no TTL)", []opsKV{{"k", "6", 0}}, 0, "xx", 3, opsState{"k", "6xx", -1}},
		{"APPEND k '' (missing creates an empty string)", nil, 0, "", 0, opsState{"k", "", -1}},
		{"APPEND k '' (exists)", []opsKV{{"k", "abc", 0}}, 0, "", 3, opsState{"k", "abc", -1}},
		{"APPEND k abc (empty value)", []opsKV{{"k", "", 0}}, 0, "abc", 3, opsState{"k", "abc", -1}},
		{"APPEND k abc (expired)", []opsKV{{"k", "old", 1000}}, 1001, "abc", 3, opsState{"k", "abc", -1}},
		{"APPEND k <4 KiB> (grows past small-record size)", []opsKV{{"k", "ab", 0}}, 0, strings.Repeat("z", 4096), 4098, opsState{"k", "ab" + strings.Repeat("z", 4096), -1}},
		{"APPEND k binary", []opsKV{{"k", "\x00\xff", 0}}, 0, "\x00", 3, opsState{"k", "\x00\xff\x00", -1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ks, now := newOpsKS(t, Options{})
			seedOps(t, ks, tc.pre)
			now.Add(tc.advance)
			n, err := ks.Append(opsB("k"), opsB(tc.val))
			require.NoError(t, err)
			assert.Equal(t, tc.want, n)
			checkOpsState(t, ks, []opsState{tc.after})
		})
	}
}

func TestOpsGetDel(t *testing.T) {
	cases := []struct {
		name    string
		pre     []opsKV
		advance int64
		dst     []byte
		want    string
		wantOK  bool
	}{
		{"GETDEL k", []opsKV{{"k", "v", 0}}, 0, nil, "v", true},
		{"GETDEL k (with TTL)", []opsKV{{"k", "v", 100_000}}, 0, nil, "v", true},
		{"GETDEL k (appends to dst)", []opsKV{{"k", "v", 0}}, 0, opsB("pre:"), "pre:v", true},
		{"GETDEL k (empty value)", []opsKV{{"k", "", 0}}, 0, nil, "", true},
		{"GETDEL k (missing)", nil, 0, opsB("pre:"), "pre:", false},
		{"GETDEL k (expired)", []opsKV{{"k", "v", 1000}}, 1001, nil, "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ks, now := newOpsKS(t, Options{})
			seedOps(t, ks, tc.pre)
			seedOps(t, ks, []opsKV{{"other", "o", 0}})
			now.Add(tc.advance)
			got, ok := ks.GetDel(tc.dst, opsB("k"))
			assert.Equal(t, tc.wantOK, ok)
			assert.Equal(t, tc.want, string(got))
			checkOpsState(t, ks, []opsState{{"k", "", opsAbsent}, {"other", "o", -1}})
			_, ok = ks.GetDel(nil, opsB("k"))
			assert.False(t, ok, "second GETDEL k")
		})
	}
}

func TestOpsGetEx(t *testing.T) {
	withTTL := []opsKV{{"k", "v", 100_000}}
	noTTL := []opsKV{{"k", "v", 0}}
	cases := []struct {
		name    string
		pre     []opsKV
		advance int64
		dst     []byte
		o       GetExOptions
		wantErr error
		want    string
		wantOK  bool
		after   opsState
	}{
		{name: "GETEX k", pre: withTTL, want: "v", wantOK: true, after: opsState{"k", "v", 100_000}},
		{name: "GETEX k (appends to dst)", pre: noTTL, dst: opsB("pre:"), want: "pre:v", wantOK: true, after: opsState{"k", "v", -1}},
		{name: "GETEX k PX 5000", pre: withTTL, o: GetExOptions{TTL: 5000}, want: "v", wantOK: true, after: opsState{"k", "v", 5000}},
		{name: "GETEX k PX 5000 (no TTL)", pre: noTTL, o: GetExOptions{TTL: 5000}, want: "v", wantOK: true, after: opsState{"k", "v", 5000}},
		{name: "GETEX k PXAT now+7000", pre: withTTL, o: GetExOptions{ExpireAt: opsT0 + 7000}, want: "v", wantOK: true, after: opsState{"k", "v", 7000}},
		{name: "GETEX k PXAT 9223372036854775807", pre: noTTL, o: GetExOptions{ExpireAt: math.MaxInt64}, want: "v", wantOK: true, after: opsState{"k", "v", math.MaxInt64 - opsT0}},
		{name: "GETEX k PERSIST", pre: withTTL, o: GetExOptions{Persist: true}, want: "v", wantOK: true, after: opsState{"k", "v", -1}},
		{name: "GETEX k PERSIST (no TTL)", pre: noTTL, o: GetExOptions{Persist: true}, want: "v", wantOK: true, after: opsState{"k", "v", -1}},
		{name: "GETEX k PXAT 1 (past deadline)", pre: withTTL, o: GetExOptions{ExpireAt: 1}, want: "v", wantOK: true, after: opsState{"k", "", opsAbsent}},
		{name: "GETEX k PXAT now-1 (past deadline)", pre: noTTL, o: GetExOptions{ExpireAt: opsT0 - 1}, want: "v", wantOK: true, after: opsState{"k", "", opsAbsent}},
		{name: "GETEX k PX -5", pre: withTTL, o: GetExOptions{TTL: -5}, wantErr: ErrInvalidExpire, after: opsState{"k", "v", 100_000}},
		{name: "GETEX k PXAT -1", pre: withTTL, o: GetExOptions{ExpireAt: -1}, wantErr: ErrInvalidExpire, after: opsState{"k", "v", 100_000}},
		{name: "GETEX k PX 9223372036854775807 (overflow)", pre: noTTL, o: GetExOptions{TTL: math.MaxInt64}, wantErr: ErrInvalidExpire, after: opsState{"k", "v", -1}},
		{name: "GETEX k PX 10 PERSIST", pre: withTTL, o: GetExOptions{TTL: 10, Persist: true}, wantErr: ErrSyntax, after: opsState{"k", "v", 100_000}},
		{name: "GETEX k PXAT t PERSIST", pre: withTTL, o: GetExOptions{ExpireAt: opsT0 + 10, Persist: true}, wantErr: ErrSyntax, after: opsState{"k", "v", 100_000}},
		{name: "GETEX k PX 10 PXAT t", pre: withTTL, o: GetExOptions{TTL: 10, ExpireAt: opsT0 + 10}, wantErr: ErrSyntax, after: opsState{"k", "v", 100_000}},
		{name: "GETEX k PX 10 PERSIST (missing)", o: GetExOptions{TTL: 10, Persist: true}, wantErr: ErrSyntax, after: opsState{"k", "", opsAbsent}},
		{name: "GETEX k (missing)", dst: opsB("pre:"), want: "pre:", after: opsState{"k", "", opsAbsent}},
		{name: "GETEX k PX 10 (missing)", o: GetExOptions{TTL: 10}, after: opsState{"k", "", opsAbsent}},
		// Redis looks the key up before it validates the expire time.
		{name: "GETEX k PX -1 (missing)", o: GetExOptions{TTL: -1}, after: opsState{"k", "", opsAbsent}},
		{name: "GETEX k PERSIST (expired)", pre: []opsKV{{"k", "v", 1000}}, advance: 1001, o: GetExOptions{Persist: true}, after: opsState{"k", "", opsAbsent}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ks, now := newOpsKS(t, Options{})
			seedOps(t, ks, tc.pre)
			now.Add(tc.advance)
			got, ok, err := ks.GetEx(tc.dst, opsB("k"), tc.o)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
			} else {
				require.NoError(t, err)
				assert.Equal(t, tc.wantOK, ok)
				assert.Equal(t, tc.want, string(got))
			}
			checkOpsState(t, ks, []opsState{tc.after})
		})
	}
}

func TestOpsMGet(t *testing.T) {
	big := strings.Repeat("B", 3000)
	pre := []opsKV{{"a", "1", 0}, {"b", "2", 100_000}, {"empty", "", 0}, {"gone", "x", 1000},
		{"big1", big + "1", 0}, {"big2", big + "2", 0}}
	cases := []struct {
		name string
		buf  []byte
		vals [][]byte
		keys []string
		want []*string
	}{
		{name: "MGET a nope b", keys: []string{"a", "nope", "b"}, want: []*string{opsStr("1"), nil, opsStr("2")}},
		{name: "MGET a b (buf prefix kept)", buf: opsB("prefix"), keys: []string{"a", "b"}, want: []*string{opsStr("1"), opsStr("2")}},
		{name: "MGET empty (empty value is not nil)", keys: []string{"empty", "a"}, want: []*string{opsStr(""), opsStr("1")}},
		// Found by TestDifferentialAgainstRedis: with only empty values
		// found and a nil buf, nothing is appended and the value slices
		// must not become slices of the nil buf (nil: missing).
		{name: "MGET empty alone, nil buf", keys: []string{"empty"}, want: []*string{opsStr("")}},
		{name: "MGET empty nope empty, nil buf", keys: []string{"empty", "nope", "empty"}, want: []*string{opsStr(""), nil, opsStr("")}},
		{name: "MGET gone (expired)", keys: []string{"gone", "a"}, want: []*string{nil, opsStr("1")}},
		{name: "MGET a a (duplicate keys)", keys: []string{"a", "a"}, want: []*string{opsStr("1"), opsStr("1")}},
		{name: "MGET nope nope", keys: []string{"nope", "nope2"}, want: []*string{nil, nil}},
		{name: "MGET (no keys)", keys: nil, want: []*string{}},
		{name: "MGET a big1 big2 (buffer grows)", buf: make([]byte, 0, 4), keys: []string{"a", "big1", "nope", "big2"}, want: []*string{opsStr("1"), opsStr(big + "1"), nil, opsStr(big + "2")}},
		{name: "MGET a b (reuses vals)", vals: [][]byte{opsB("junk"), opsB("junk"), opsB("junk")}, keys: []string{"a", "b"}, want: []*string{opsStr("1"), opsStr("2")}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ks, now := newOpsKS(t, Options{})
			seedOps(t, ks, pre)
			now.Add(1001)
			keys := make([][]byte, len(tc.keys))
			for i, k := range tc.keys {
				keys[i] = opsB(k)
			}
			prefix := string(tc.buf)
			buf, vals := ks.MGet(tc.buf, tc.vals, keys...)
			assert.True(t, strings.HasPrefix(string(buf), prefix), "buf lost its prefix: %q", buf)
			require.Len(t, vals, len(tc.want))
			for i, w := range tc.want {
				if w == nil {
					assert.Nil(t, vals[i], "MGET value %d (%q)", i, tc.keys[i])
					continue
				}
				if assert.NotNil(t, vals[i], "MGET value %d (%q)", i, tc.keys[i]) {
					assert.Equal(t, *w, string(vals[i]), "MGET value %d (%q)", i, tc.keys[i])
				}
			}
		})
	}
}

func TestOpsMSet(t *testing.T) {
	cases := []struct {
		name    string
		nx      bool
		pre     []opsKV
		advance int64
		pairs   []string
		wantOK  bool // MSETNX
		wantErr bool
		after   []opsState
	}{
		{name: "MSET a 1 b 2", pairs: []string{"a", "1", "b", "2"}, after: []opsState{{"a", "1", -1}, {"b", "2", -1}}},
		{name: "MSET a 9 (clears TTL)", pre: []opsKV{{"a", "1", 100_000}}, pairs: []string{"a", "9"}, after: []opsState{{"a", "9", -1}}},
		{name: "MSET r 1 r 2 (last wins)", pairs: []string{"r", "1", "r", "2"}, after: []opsState{{"r", "2", -1}}},
		{name: "MSET a '' (empty value)", pairs: []string{"a", ""}, after: []opsState{{"a", "", -1}}},
		{name: "MSET a (odd arguments)", pairs: []string{"a"}, wantErr: true, after: []opsState{{"a", "", opsAbsent}}},
		{name: "MSET a 1 b (odd arguments)", pairs: []string{"a", "1", "b"}, wantErr: true, after: []opsState{{"a", "", opsAbsent}, {"b", "", opsAbsent}}},
		{name: "MSETNX z 1 w 2", nx: true, pairs: []string{"z", "1", "w", "2"}, wantOK: true, after: []opsState{{"z", "1", -1}, {"w", "2", -1}}},
		{name: "MSETNX x 1 z 2 (x exists)", nx: true, pre: []opsKV{{"x", "old", 100_000}}, pairs: []string{"z", "2", "x", "1"}, after: []opsState{{"x", "old", 100_000}, {"z", "", opsAbsent}}},
		{name: "MSETNX q 1 q 2 (duplicate key)", nx: true, pairs: []string{"q", "1", "q", "2"}, wantOK: true, after: []opsState{{"q", "2", -1}}},
		{name: "MSETNX e 1 (e expired)", nx: true, pre: []opsKV{{"e", "old", 1000}}, advance: 1001, pairs: []string{"e", "1"}, wantOK: true, after: []opsState{{"e", "1", -1}}},
		{name: "MSETNX a (odd arguments)", nx: true, pairs: []string{"a"}, wantErr: true, after: []opsState{{"a", "", opsAbsent}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ks, now := newOpsKS(t, Options{})
			seedOps(t, ks, tc.pre)
			now.Add(tc.advance)
			pairs := make([][]byte, len(tc.pairs))
			for i, p := range tc.pairs {
				pairs[i] = opsB(p)
			}
			var err error
			if tc.nx {
				var ok bool
				ok, err = ks.MSetNX(pairs...)
				if !tc.wantErr {
					assert.Equal(t, tc.wantOK, ok, "MSETNX reply")
				}
			} else {
				err = ks.MSet(pairs...)
			}
			if tc.wantErr {
				assert.Error(t, err)
			} else {
				assert.NoError(t, err)
			}
			checkOpsState(t, ks, tc.after)
		})
	}
}

func TestOpsRename(t *testing.T) {
	cases := []struct {
		name     string
		pre      []opsKV
		advance  int64
		src, dst string
		wantErr  error
		after    []opsState
	}{
		{name: "RENAME s d (missing)", pre: []opsKV{{"d", "2", 0}}, src: "s", dst: "d", wantErr: ErrNoSuchKey, after: []opsState{{"d", "2", -1}}},
		{name: "RENAME s s (missing)", src: "s", dst: "s", wantErr: ErrNoSuchKey, after: []opsState{{"s", "", opsAbsent}}},
		{name: "RENAME s d (expired src)", pre: []opsKV{{"s", "1", 1000}, {"d", "2", 0}}, advance: 1001, src: "s", dst: "d", wantErr: ErrNoSuchKey, after: []opsState{{"s", "", opsAbsent}, {"d", "2", -1}}},
		{name: "RENAME s d (new dst)", pre: []opsKV{{"s", "1", 0}}, src: "s", dst: "d", after: []opsState{{"s", "", opsAbsent}, {"d", "1", -1}}},
		{name: "RENAME s d (TTL carried)", pre: []opsKV{{"s", "1", 100_000}, {"d", "2", 0}}, advance: 1000, src: "s", dst: "d", after: []opsState{{"s", "", opsAbsent}, {"d", "1", 99_000}}},
		{name: "RENAME s d (dst TTL dropped)", pre: []opsKV{{"s", "3", 0}, {"d", "4", 100_000}}, src: "s", dst: "d", after: []opsState{{"s", "", opsAbsent}, {"d", "3", -1}}},
		{name: "RENAME s d (dst TTL replaced)", pre: []opsKV{{"s", "3", 50_000}, {"d", "4", 100_000}}, src: "s", dst: "d", after: []opsState{{"s", "", opsAbsent}, {"d", "3", 50_000}}},
		{name: "RENAME s d (expired dst)", pre: []opsKV{{"s", "1", 0}, {"d", "2", 1000}}, advance: 1001, src: "s", dst: "d", after: []opsState{{"s", "", opsAbsent}, {"d", "1", -1}}},
		{name: "RENAME k k (onto itself)", pre: []opsKV{{"k", "5", 100_000}}, src: "k", dst: "k", after: []opsState{{"k", "5", 100_000}}},
		{name: "RENAME s d (empty value)", pre: []opsKV{{"s", "", 0}}, src: "s", dst: "d", after: []opsState{{"s", "", opsAbsent}, {"d", "", -1}}},
		{name: "RENAME s d (large value)", pre: []opsKV{{"s", strings.Repeat("L", 1<<20), 0}}, src: "s", dst: "d", after: []opsState{{"s", "", opsAbsent}, {"d", strings.Repeat("L", 1<<20), -1}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ks, now := newOpsKS(t, Options{})
			seedOps(t, ks, tc.pre)
			now.Add(tc.advance)
			err := ks.Rename(opsB(tc.src), opsB(tc.dst))
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
			} else {
				require.NoError(t, err)
			}
			checkOpsState(t, ks, tc.after)
		})
	}
}

func TestOpsExpire(t *testing.T) {
	sec := opsT0 / 1000
	cases := []struct {
		name     string
		ttl      int64 // key's TTL before the row; 0: none; opsAbsent: no key
		fn       string
		arg      int64
		cond     ExpireCond
		want     bool
		wantErr  error
		wantPTTL int64
	}{
		// The NX/XX/GT/LT matrix for a key without and with a TTL of
		// 100000 ms (PEXPIRE k <ms> [cond], then PTTL k, in Redis 7.0.15).
		{"PEXPIRE k 50000 (no TTL)", 0, "PEXPIRE", 50000, ExpireAlways, true, nil, 50000},
		{"PEXPIRE k 200000 (no TTL)", 0, "PEXPIRE", 200000, ExpireAlways, true, nil, 200000},
		{"PEXPIRE k 0 (no TTL)", 0, "PEXPIRE", 0, ExpireAlways, true, nil, -2},
		{"PEXPIRE k -1 (no TTL)", 0, "PEXPIRE", -1, ExpireAlways, true, nil, -2},
		{"PEXPIREAT k 1 (no TTL)", 0, "PEXPIREAT", 1, ExpireAlways, true, nil, -2},
		{"PEXPIRE k 50000 NX (no TTL)", 0, "PEXPIRE", 50000, ExpireNX, true, nil, 50000},
		{"PEXPIRE k 200000 NX (no TTL)", 0, "PEXPIRE", 200000, ExpireNX, true, nil, 200000},
		{"PEXPIRE k 0 NX (no TTL)", 0, "PEXPIRE", 0, ExpireNX, true, nil, -2},
		{"PEXPIRE k -1 NX (no TTL)", 0, "PEXPIRE", -1, ExpireNX, true, nil, -2},
		{"PEXPIREAT k 1 NX (no TTL)", 0, "PEXPIREAT", 1, ExpireNX, true, nil, -2},
		{"PEXPIRE k 50000 XX (no TTL)", 0, "PEXPIRE", 50000, ExpireXX, false, nil, -1},
		{"PEXPIRE k 200000 XX (no TTL)", 0, "PEXPIRE", 200000, ExpireXX, false, nil, -1},
		{"PEXPIRE k 0 XX (no TTL)", 0, "PEXPIRE", 0, ExpireXX, false, nil, -1},
		{"PEXPIRE k -1 XX (no TTL)", 0, "PEXPIRE", -1, ExpireXX, false, nil, -1},
		{"PEXPIREAT k 1 XX (no TTL)", 0, "PEXPIREAT", 1, ExpireXX, false, nil, -1},
		{"PEXPIRE k 50000 GT (no TTL)", 0, "PEXPIRE", 50000, ExpireGT, false, nil, -1},
		{"PEXPIRE k 200000 GT (no TTL)", 0, "PEXPIRE", 200000, ExpireGT, false, nil, -1},
		{"PEXPIRE k 0 GT (no TTL)", 0, "PEXPIRE", 0, ExpireGT, false, nil, -1},
		{"PEXPIRE k -1 GT (no TTL)", 0, "PEXPIRE", -1, ExpireGT, false, nil, -1},
		{"PEXPIREAT k 1 GT (no TTL)", 0, "PEXPIREAT", 1, ExpireGT, false, nil, -1},
		{"PEXPIRE k 50000 LT (no TTL)", 0, "PEXPIRE", 50000, ExpireLT, true, nil, 50000},
		{"PEXPIRE k 200000 LT (no TTL)", 0, "PEXPIRE", 200000, ExpireLT, true, nil, 200000},
		{"PEXPIRE k 0 LT (no TTL)", 0, "PEXPIRE", 0, ExpireLT, true, nil, -2},
		{"PEXPIRE k -1 LT (no TTL)", 0, "PEXPIRE", -1, ExpireLT, true, nil, -2},
		{"PEXPIREAT k 1 LT (no TTL)", 0, "PEXPIREAT", 1, ExpireLT, true, nil, -2},
		{"PEXPIRE k 50000 (TTL 100000)", 100000, "PEXPIRE", 50000, ExpireAlways, true, nil, 50000},
		{"PEXPIRE k 200000 (TTL 100000)", 100000, "PEXPIRE", 200000, ExpireAlways, true, nil, 200000},
		{"PEXPIRE k 0 (TTL 100000)", 100000, "PEXPIRE", 0, ExpireAlways, true, nil, -2},
		{"PEXPIRE k -1 (TTL 100000)", 100000, "PEXPIRE", -1, ExpireAlways, true, nil, -2},
		{"PEXPIREAT k 1 (TTL 100000)", 100000, "PEXPIREAT", 1, ExpireAlways, true, nil, -2},
		{"PEXPIRE k 50000 NX (TTL 100000)", 100000, "PEXPIRE", 50000, ExpireNX, false, nil, 100000},
		{"PEXPIRE k 200000 NX (TTL 100000)", 100000, "PEXPIRE", 200000, ExpireNX, false, nil, 100000},
		{"PEXPIRE k 0 NX (TTL 100000)", 100000, "PEXPIRE", 0, ExpireNX, false, nil, 100000},
		{"PEXPIRE k -1 NX (TTL 100000)", 100000, "PEXPIRE", -1, ExpireNX, false, nil, 100000},
		{"PEXPIREAT k 1 NX (TTL 100000)", 100000, "PEXPIREAT", 1, ExpireNX, false, nil, 100000},
		{"PEXPIRE k 50000 XX (TTL 100000)", 100000, "PEXPIRE", 50000, ExpireXX, true, nil, 50000},
		{"PEXPIRE k 200000 XX (TTL 100000)", 100000, "PEXPIRE", 200000, ExpireXX, true, nil, 200000},
		{"PEXPIRE k 0 XX (TTL 100000)", 100000, "PEXPIRE", 0, ExpireXX, true, nil, -2},
		{"PEXPIRE k -1 XX (TTL 100000)", 100000, "PEXPIRE", -1, ExpireXX, true, nil, -2},
		{"PEXPIREAT k 1 XX (TTL 100000)", 100000, "PEXPIREAT", 1, ExpireXX, true, nil, -2},
		{"PEXPIRE k 50000 GT (TTL 100000)", 100000, "PEXPIRE", 50000, ExpireGT, false, nil, 100000},
		{"PEXPIRE k 200000 GT (TTL 100000)", 100000, "PEXPIRE", 200000, ExpireGT, true, nil, 200000},
		{"PEXPIRE k 0 GT (TTL 100000)", 100000, "PEXPIRE", 0, ExpireGT, false, nil, 100000},
		{"PEXPIRE k -1 GT (TTL 100000)", 100000, "PEXPIRE", -1, ExpireGT, false, nil, 100000},
		{"PEXPIREAT k 1 GT (TTL 100000)", 100000, "PEXPIREAT", 1, ExpireGT, false, nil, 100000},
		{"PEXPIRE k 50000 LT (TTL 100000)", 100000, "PEXPIRE", 50000, ExpireLT, true, nil, 50000},
		{"PEXPIRE k 200000 LT (TTL 100000)", 100000, "PEXPIRE", 200000, ExpireLT, false, nil, 100000},
		{"PEXPIRE k 0 LT (TTL 100000)", 100000, "PEXPIRE", 0, ExpireLT, true, nil, -2},
		{"PEXPIRE k -1 LT (TTL 100000)", 100000, "PEXPIRE", -1, ExpireLT, true, nil, -2},
		{"PEXPIREAT k 1 LT (TTL 100000)", 100000, "PEXPIREAT", 1, ExpireLT, true, nil, -2},
		// Equal deadlines: GT and LT need a strict change.
		{"PEXPIRE k 100000 GT (TTL 100000, equal)", 100_000, "PEXPIRE", 100_000, ExpireGT, false, nil, 100_000},
		{"PEXPIRE k 100000 LT (TTL 100000, equal)", 100_000, "PEXPIRE", 100_000, ExpireLT, false, nil, 100_000},
		{"PEXPIRE k 100000 XX (TTL 100000, equal)", 100_000, "PEXPIRE", 100_000, ExpireXX, true, nil, 100_000},
		// Missing keys: 0 whatever the condition, and no key is created.
		{"EXPIRE nope 100 (missing)", opsAbsent, "EXPIRE", 100, ExpireAlways, false, nil, opsAbsent},
		{"PEXPIRE nope 100 (missing)", opsAbsent, "PEXPIRE", 100, ExpireAlways, false, nil, opsAbsent},
		{"EXPIRE nope 100 NX (missing)", opsAbsent, "EXPIRE", 100, ExpireNX, false, nil, opsAbsent},
		{"EXPIRE nope 100 LT (missing)", opsAbsent, "EXPIRE", 100, ExpireLT, false, nil, opsAbsent},
		{"EXPIRE nope -1 (missing)", opsAbsent, "EXPIRE", -1, ExpireAlways, false, nil, opsAbsent},
		{"PEXPIRE nope -1 GT (missing)", opsAbsent, "PEXPIRE", -1, ExpireGT, false, nil, opsAbsent},
		{"EXPIREAT nope 1 (missing)", opsAbsent, "EXPIREAT", 1, ExpireAlways, false, nil, opsAbsent},
		{"PEXPIREAT nope 9223372036854775807 (missing)", opsAbsent, "PEXPIREAT", math.MaxInt64, ExpireAlways, false, nil, opsAbsent},
		// Seconds and absolute forms.
		{"EXPIRE k 100", 0, "EXPIRE", 100, ExpireAlways, true, nil, 100_000},
		{"EXPIRE k 50 GT (TTL 100000)", 100_000, "EXPIRE", 50, ExpireGT, false, nil, 100_000},
		{"EXPIRE k 50 LT (TTL 100000)", 100_000, "EXPIRE", 50, ExpireLT, true, nil, 50_000},
		{"EXPIRE k 0", 0, "EXPIRE", 0, ExpireAlways, true, nil, opsAbsent},
		{"EXPIRE k -1", 100_000, "EXPIRE", -1, ExpireAlways, true, nil, opsAbsent},
		{"EXPIRE k -1 NX (TTL 100000)", 100_000, "EXPIRE", -1, ExpireNX, false, nil, 100_000},
		{"EXPIRE k -1 XX (no TTL)", 0, "EXPIRE", -1, ExpireXX, false, nil, -1},
		{"EXPIREAT k now+50s", 0, "EXPIREAT", sec + 50, ExpireAlways, true, nil, 50_000},
		{"EXPIREAT k now+200s GT (TTL 100000)", 100_000, "EXPIREAT", sec + 200, ExpireGT, true, nil, 200_000},
		{"EXPIREAT k now (deadline reached)", 0, "EXPIREAT", sec, ExpireAlways, true, nil, opsAbsent},
		{"EXPIREAT k 1", 100_000, "EXPIREAT", 1, ExpireAlways, true, nil, opsAbsent},
		{"EXPIREAT k 1 GT (TTL 100000)", 100_000, "EXPIREAT", 1, ExpireGT, false, nil, 100_000},
		{"PEXPIREAT k now+1", 0, "PEXPIREAT", opsT0 + 1, ExpireAlways, true, nil, 1},
		{"PEXPIREAT k now (deadline reached)", 0, "PEXPIREAT", opsT0, ExpireAlways, true, nil, opsAbsent},
		{"PEXPIREAT k now-1 LT (no TTL)", 0, "PEXPIREAT", opsT0 - 1, ExpireLT, true, nil, opsAbsent},
		{"PEXPIREAT k 0", 0, "PEXPIREAT", 0, ExpireAlways, true, nil, opsAbsent},
		{"PEXPIREAT k -5", 0, "PEXPIREAT", -5, ExpireAlways, true, nil, opsAbsent},
		// Overflow: seconds*1000 and base+offset.
		{"EXPIRE k 9223372036854775807 (overflow)", 0, "EXPIRE", math.MaxInt64, ExpireAlways, false, ErrInvalidExpire, -1},
		{"EXPIRE k 9223372036854775 (overflow adding now)", 100_000, "EXPIRE", math.MaxInt64 / 1000, ExpireAlways, false, ErrInvalidExpire, 100_000},
		{"EXPIRE k -9223372036854776 (overflow)", 0, "EXPIRE", math.MinInt64/1000 - 1, ExpireAlways, false, ErrInvalidExpire, -1},
		{"EXPIRE k -9223372036854775", 0, "EXPIRE", math.MinInt64 / 1000, ExpireAlways, true, nil, opsAbsent},
		{"EXPIRE k -9223372036854775808 (overflow)", 0, "EXPIRE", math.MinInt64, ExpireAlways, false, ErrInvalidExpire, -1},
		{"PEXPIRE k 9223372036854775807 (overflow)", 0, "PEXPIRE", math.MaxInt64, ExpireAlways, false, ErrInvalidExpire, -1},
		{"PEXPIRE k 9223372036854775807 NX (overflow)", 0, "PEXPIRE", math.MaxInt64, ExpireNX, false, ErrInvalidExpire, -1},
		{"PEXPIRE k -9223372036854775808", 0, "PEXPIRE", math.MinInt64, ExpireAlways, true, nil, opsAbsent},
		{"EXPIREAT k 9223372036854776 (overflow)", 0, "EXPIREAT", math.MaxInt64/1000 + 1, ExpireAlways, false, ErrInvalidExpire, -1},
		{"EXPIREAT k 9223372036854775", 0, "EXPIREAT", math.MaxInt64 / 1000, ExpireAlways, true, nil, math.MaxInt64/1000*1000 - opsT0},
		{"PEXPIREAT k 9223372036854775807", 0, "PEXPIREAT", math.MaxInt64, ExpireAlways, true, nil, math.MaxInt64 - opsT0},
		{"PEXPIREAT k 9223372036854775807 LT (no TTL)", 0, "PEXPIREAT", math.MaxInt64, ExpireLT, true, nil, math.MaxInt64 - opsT0},
		{"PEXPIREAT k 9223372036854775807 GT (no TTL)", 0, "PEXPIREAT", math.MaxInt64, ExpireGT, false, nil, -1},
		{"EXPIRE nope 9223372036854775807 (overflow, missing)", opsAbsent, "EXPIRE", math.MaxInt64, ExpireAlways, false, ErrInvalidExpire, opsAbsent},
		{"PEXPIRE nope 9223372036854775807 (overflow, missing)", opsAbsent, "PEXPIRE", math.MaxInt64, ExpireAlways, false, ErrInvalidExpire, opsAbsent},
		{"EXPIREAT nope 9223372036854776 (overflow, missing)", opsAbsent, "EXPIREAT", math.MaxInt64/1000 + 1, ExpireAlways, false, ErrInvalidExpire, opsAbsent},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ks, _ := newOpsKS(t, Options{})
			key := opsB("k")
			if tc.ttl != opsAbsent {
				seedOps(t, ks, []opsKV{{"k", "v", tc.ttl}})
			}
			var got bool
			var err error
			switch tc.fn {
			case "EXPIRE":
				got, err = ks.Expire(key, tc.arg, tc.cond)
			case "PEXPIRE":
				got, err = ks.PExpire(key, tc.arg, tc.cond)
			case "EXPIREAT":
				got, err = ks.ExpireAt(key, tc.arg, tc.cond)
			case "PEXPIREAT":
				got, err = ks.PExpireAt(key, tc.arg, tc.cond)
			default:
				t.Fatalf("unknown op %s", tc.fn)
			}
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
			} else {
				require.NoError(t, err)
				assert.Equal(t, tc.want, got, "%s reply", tc.fn)
			}
			checkOpsState(t, ks, []opsState{{"k", "v", tc.wantPTTL}})
			if tc.wantPTTL >= 0 {
				assert.Equal(t, opsT0+tc.wantPTTL, ks.PExpireTime(key), "PEXPIRETIME k")
			}
		})
	}
}

func TestOpsTTL(t *testing.T) {
	cases := []struct {
		name     string
		ttl      int64 // PX before the row; 0: no TTL; opsAbsent: no key
		advance  int64
		wantTTL  int64
		wantPTTL int64
		wantPET  int64
	}{
		{"TTL/PTTL/PEXPIRETIME nope (missing)", opsAbsent, 0, -2, -2, -2},
		{"TTL/PTTL/PEXPIRETIME k (no TTL)", 0, 0, -1, -1, -1},
		{"TTL k (PX 400 rounds to 0)", 400, 0, 0, 400, opsT0 + 400},
		{"TTL k (PX 499 rounds to 0)", 499, 0, 0, 499, opsT0 + 499},
		{"TTL k (PX 500 rounds to 1)", 500, 0, 1, 500, opsT0 + 500},
		{"TTL k (PX 1499 rounds to 1)", 1499, 0, 1, 1499, opsT0 + 1499},
		{"TTL k (PX 1500 rounds to 2)", 1500, 0, 2, 1500, opsT0 + 1500},
		{"TTL k (PX 1600 rounds to 2)", 1600, 0, 2, 1600, opsT0 + 1600},
		{"TTL k (PX 2400 rounds to 2)", 2400, 0, 2, 2400, opsT0 + 2400},
		{"TTL k (PX 2500 rounds to 3)", 2500, 0, 3, 2500, opsT0 + 2500},
		{"TTL k (PX 100000)", 100_000, 0, 100, 100_000, opsT0 + 100_000},
		{"TTL k (PX 100000, 40s later)", 100_000, 40_000, 60, 60_000, opsT0 + 100_000},
		{"TTL k (PX 1000, 1 ms left)", 1000, 999, 0, 1, opsT0 + 1000},
		// Redis expires a key once now > deadline: at the deadline itself
		// the key still exists with PTTL 0.
		{"TTL k (PX 1000, at the deadline)", 1000, 1000, 0, 0, opsT0 + 1000},
		{"TTL k (PX 1000, 1 ms past the deadline)", 1000, 1001, -2, -2, -2},
		{"TTL k (PX 1, long past)", 1, 86_400_000, -2, -2, -2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ks, now := newOpsKS(t, Options{})
			if tc.ttl != opsAbsent {
				seedOps(t, ks, []opsKV{{"k", "v", tc.ttl}})
			}
			now.Add(tc.advance)
			key := opsB("k")
			assert.Equal(t, tc.wantTTL, ks.TTL(key), "TTL k")
			assert.Equal(t, tc.wantPTTL, ks.PTTL(key), "PTTL k")
			assert.Equal(t, tc.wantPET, ks.PExpireTime(key), "PEXPIRETIME k")
			assert.Equal(t, tc.wantPTTL != -2, ks.Exists(key), "EXISTS k")
		})
	}
}

func TestOpsPersist(t *testing.T) {
	cases := []struct {
		name    string
		pre     []opsKV
		advance int64
		want    bool
		after   opsState
	}{
		{"PERSIST k (TTL)", []opsKV{{"k", "v", 100_000}}, 0, true, opsState{"k", "v", -1}},
		{"PERSIST k (no TTL)", []opsKV{{"k", "v", 0}}, 0, false, opsState{"k", "v", -1}},
		{"PERSIST k (missing)", nil, 0, false, opsState{"k", "", opsAbsent}},
		{"PERSIST k (expired)", []opsKV{{"k", "v", 1000}}, 1001, false, opsState{"k", "", opsAbsent}},
		{"PERSIST k (at the deadline)", []opsKV{{"k", "v", 1000}}, 1000, true, opsState{"k", "v", -1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ks, now := newOpsKS(t, Options{})
			seedOps(t, ks, tc.pre)
			now.Add(tc.advance)
			ok, err := ks.Persist(opsB("k"))
			require.NoError(t, err)
			assert.Equal(t, tc.want, ok, "PERSIST k")
			checkOpsState(t, ks, []opsState{tc.after})
			now.Add(10 * 86_400_000)
			checkOpsState(t, ks, []opsState{tc.after})
			ok, err = ks.Persist(opsB("k"))
			require.NoError(t, err)
			assert.False(t, ok, "second PERSIST k")
		})
	}
}

// scanAllOps runs a full SCAN loop and counts how often each key came back.
func scanAllOps(t testing.TB, ks *Keyspace, match []byte, count int) map[string]int {
	t.Helper()
	seen := map[string]int{}
	var cursor uint64
	for i := 0; ; i++ {
		require.Less(t, i, 1_000_000, "SCAN did not finish")
		var keys [][]byte
		keys, cursor = ks.Scan(cursor, match, count, nil)
		for _, k := range keys {
			seen[string(k)]++
		}
		if cursor == 0 {
			return seen
		}
	}
}

func assertScanned(t testing.TB, seen map[string]int, want []string) {
	t.Helper()
	wantSet := map[string]bool{}
	for _, k := range want {
		wantSet[k] = true
		if seen[k] < 1 {
			t.Errorf("SCAN never returned %q", k)
		}
	}
	for k := range seen {
		if !wantSet[k] {
			t.Errorf("SCAN returned unexpected key %q", k)
		}
	}
}

func TestOpsScan(t *testing.T) {
	var all []string
	for i := 0; i < 300; i++ {
		all = append(all, fmt.Sprintf("key:%d", i))
	}
	all = append(all, "other:1", "other:2", "\x00bin", "k\xff", "K:1")
	filter := func(f func(string) bool) []string {
		var out []string
		for _, k := range all {
			if f(k) {
				out = append(out, k)
			}
		}
		return out
	}
	cases := []struct {
		name  string
		match []byte
		count int
		want  []string
	}{
		{"SCAN 0", nil, 0, all},
		{"SCAN 0 COUNT 1", nil, 1, all},
		{"SCAN 0 COUNT 10", nil, 10, all},
		{"SCAN 0 COUNT 100000", nil, 100_000, all},
		{"SCAN 0 MATCH *", opsB("*"), 10, all},
		{"SCAN 0 MATCH key:1* COUNT 7", opsB("key:1*"), 7, filter(func(k string) bool { return strings.HasPrefix(k, "key:1") })},
		{"SCAN 0 MATCH key:?", opsB("key:?"), 10, filter(func(k string) bool { return strings.HasPrefix(k, "key:") && len(k) == 5 })},
		{"SCAN 0 MATCH *:[12]", opsB("*:[12]"), 10, []string{"key:1", "key:2", "other:1", "other:2", "K:1"}},
		{"SCAN 0 MATCH key:2[^0-4]?", opsB("key:2[^0-4]?"), 10, filter(func(k string) bool {
			return len(k) == 7 && strings.HasPrefix(k, "key:2") && k[5] >= '5' && k[5] <= '9'
		})},
		{"SCAN 0 MATCH k*:1 (case-sensitive)", opsB("k*:1"), 10, []string{"key:1"}},
		{"SCAN 0 MATCH \\x00*", opsB("\x00*"), 10, []string{"\x00bin"}},
		{"SCAN 0 MATCH *\\xff", opsB("*\xff"), 10, []string{"k\xff"}},
		{"SCAN 0 MATCH nomatch*", opsB("nomatch*"), 10, nil},
		{"SCAN 0 MATCH key:299", opsB("key:299"), 1, []string{"key:299"}},
	}
	ks, _ := newOpsKS(t, Options{})
	for _, k := range all {
		require.NoError(t, ks.Set(opsB(k), opsB("v")))
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assertScanned(t, scanAllOps(t, ks, tc.match, tc.count), tc.want)
		})
	}

	t.Run("SCAN 0 (empty keyspace)", func(t *testing.T) {
		empty, _ := newOpsKS(t, Options{})
		keys, cursor := empty.Scan(0, nil, 10, nil)
		assert.Empty(t, keys)
		assert.Equal(t, uint64(0), cursor)
	})

	t.Run("SCAN 0 MATCH * (empty key)", func(t *testing.T) {
		// Redis treats MATCH * as no pattern, so the empty key comes back
		// even though stringmatchlen("*", "") is false.
		ks, _ := newOpsKS(t, Options{})
		require.NoError(t, ks.Set(opsB(""), opsB("v")))
		require.NoError(t, ks.Set(opsB("a"), opsB("v")))
		assertScanned(t, scanAllOps(t, ks, opsB("*"), 10), []string{"", "a"})
		assertScanned(t, scanAllOps(t, ks, nil, 10), []string{"", "a"})
	})

	t.Run("SCAN returns fresh copies", func(t *testing.T) {
		ks, _ := newOpsKS(t, Options{})
		require.NoError(t, ks.Set(opsB("alpha"), opsB("1")))
		require.NoError(t, ks.Set(opsB("beta"), opsB("2")))
		var got [][]byte
		var cursor uint64
		for {
			got, cursor = ks.Scan(cursor, nil, 100, got)
			if cursor == 0 {
				break
			}
		}
		require.Len(t, got, 2)
		for _, k := range got {
			for i := range k {
				k[i] = 'X'
			}
		}
		checkOpsState(t, ks, []opsState{{"alpha", "1", -1}, {"beta", "2", -1}})
		assertScanned(t, scanAllOps(t, ks, nil, 10), []string{"alpha", "beta"})
	})

	t.Run("SCAN appends to dst", func(t *testing.T) {
		ks, _ := newOpsKS(t, Options{})
		require.NoError(t, ks.Set(opsB("alpha"), opsB("1")))
		dst := [][]byte{opsB("mine")}
		var cursor uint64
		for {
			dst, cursor = ks.Scan(cursor, nil, 100, dst)
			if cursor == 0 {
				break
			}
		}
		require.NotEmpty(t, dst)
		assert.Equal(t, "mine", string(dst[0]))
		assert.Contains(t, dst[1:], opsB("alpha"))
	})

	t.Run("SCAN while the table grows", func(t *testing.T) {
		// A key present for the whole scan is returned at least once.
		ks, _ := newOpsKS(t, Options{})
		var orig []string
		for i := 0; i < 2000; i++ {
			k := fmt.Sprintf("orig:%d", i)
			orig = append(orig, k)
			require.NoError(t, ks.Set(opsB(k), opsB("v")))
		}
		seen := map[string]int{}
		var cursor uint64
		added := 0
		for i := 0; ; i++ {
			require.Less(t, i, 1_000_000, "SCAN did not finish")
			var keys [][]byte
			keys, cursor = ks.Scan(cursor, opsB("orig:*"), 10, nil)
			for _, k := range keys {
				seen[string(k)]++
			}
			if cursor == 0 {
				break
			}
			for j := 0; j < 20; j++ {
				require.NoError(t, ks.Set(opsB(fmt.Sprintf("new:%d", added)), opsB("v")))
				added++
			}
		}
		assertScanned(t, seen, orig)
		assert.Greater(t, added, 0)
	})
}

func TestOpsRandomKey(t *testing.T) {
	t.Run("RANDOMKEY (empty)", func(t *testing.T) {
		ks, _ := newOpsKS(t, Options{})
		got, ok := ks.RandomKey(opsB("pre:"))
		assert.False(t, ok)
		assert.Equal(t, "pre:", string(got))
	})
	t.Run("RANDOMKEY (one key, appends to dst)", func(t *testing.T) {
		ks, _ := newOpsKS(t, Options{})
		require.NoError(t, ks.Set(opsB("only\x00"), opsB("v")))
		got, ok := ks.RandomKey(opsB("pre:"))
		assert.True(t, ok)
		assert.Equal(t, "pre:only\x00", string(got))
	})
	t.Run("RANDOMKEY (many keys)", func(t *testing.T) {
		ks, _ := newOpsKS(t, Options{})
		keys := map[string]bool{}
		for i := 0; i < 100; i++ {
			k := fmt.Sprintf("k%d", i)
			keys[k] = true
			require.NoError(t, ks.Set(opsB(k), opsB("v")))
		}
		distinct := map[string]bool{}
		for i := 0; i < 200; i++ {
			got, ok := ks.RandomKey(nil)
			require.True(t, ok)
			require.True(t, keys[string(got)], "RANDOMKEY returned unknown key %q", got)
			distinct[string(got)] = true
		}
		assert.Greater(t, len(distinct), 1, "RANDOMKEY always returns the same key")
	})
	t.Run("RANDOMKEY (only expired keys)", func(t *testing.T) {
		ks, now := newOpsKS(t, Options{})
		for i := 0; i < 50; i++ {
			seedOps(t, ks, []opsKV{{fmt.Sprintf("gone%d", i), "v", 1000}})
		}
		now.Add(1001)
		for i := 0; i < 20; i++ {
			got, ok := ks.RandomKey(nil)
			assert.False(t, ok, "RANDOMKEY returned expired key %q", got)
		}
	})
	t.Run("RANDOMKEY (one live among expired)", func(t *testing.T) {
		ks, now := newOpsKS(t, Options{})
		for i := 0; i < 50; i++ {
			seedOps(t, ks, []opsKV{{fmt.Sprintf("gone%d", i), "v", 1000}})
		}
		seedOps(t, ks, []opsKV{{"live", "v", 0}})
		now.Add(1001)
		for i := 0; i < 50; i++ {
			got, ok := ks.RandomKey(nil)
			require.True(t, ok)
			assert.Equal(t, "live", string(got))
		}
	})
}

func TestOpsLenFlush(t *testing.T) {
	ks, now := newOpsKS(t, Options{})
	assert.Equal(t, 0, ks.Len(), "DBSIZE (new)")
	for i := 0; i < 100; i++ {
		require.NoError(t, ks.Set(opsB(fmt.Sprintf("k%d", i)), opsB("v")))
	}
	assert.Equal(t, 100, ks.Len(), "DBSIZE after 100 SETs")
	require.NoError(t, ks.Set(opsB("k1"), opsB("overwrite")))
	assert.Equal(t, 100, ks.Len(), "DBSIZE after overwrite")
	assert.True(t, ks.Delete(opsB("k1")))
	assert.Equal(t, 99, ks.Len(), "DBSIZE after DEL")
	ok, err := ks.MSetNX(opsB("m1"), opsB("1"), opsB("m2"), opsB("2"))
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, 101, ks.Len(), "DBSIZE after MSETNX")
	require.NoError(t, ks.Rename(opsB("m1"), opsB("m2")))
	assert.Equal(t, 100, ks.Len(), "DBSIZE after RENAME onto an existing key")
	_, ok = ks.GetDel(nil, opsB("m2"))
	require.True(t, ok)
	assert.Equal(t, 99, ks.Len(), "DBSIZE after GETDEL")
	require.NoError(t, ks.MSet(opsB("r"), opsB("1"), opsB("r"), opsB("2")))
	assert.Equal(t, 100, ks.Len(), "DBSIZE after MSET r 1 r 2")
	ok, err = ks.MSetNX(opsB("q"), opsB("1"), opsB("q"), opsB("2"))
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, 101, ks.Len(), "DBSIZE after MSETNX q 1 q 2")
	require.NoError(t, ks.Rename(opsB("q"), opsB("q")))
	assert.Equal(t, 101, ks.Len(), "DBSIZE after RENAME q q")
	assert.True(t, ks.Delete(opsB("q")))
	assert.True(t, ks.Delete(opsB("r")))
	assert.Equal(t, 99, ks.Len())
	assert.Equal(t, ks.Len(), int(ks.Stats().Keys), "Stats.Keys")

	// Len is documented to count expired keys until they are reclaimed,
	// like DBSIZE; it must never count fewer than the live keys or more
	// than everything written.
	for i := 0; i < 10; i++ {
		seedOps(t, ks, []opsKV{{fmt.Sprintf("e%d", i), "v", 1000}})
	}
	now.Add(1001)
	assert.GreaterOrEqual(t, ks.Len(), 99)
	assert.LessOrEqual(t, ks.Len(), 109)
	assert.Equal(t, 10, opsReclaim(t, ks, 10), "ActiveExpireCycle reclaimed")
	assert.Equal(t, 99, ks.Len(), "DBSIZE after the expired keys are reclaimed")

	ks.Flush()
	assert.Equal(t, 0, ks.Len(), "DBSIZE after FLUSHALL")
	assert.Equal(t, int64(0), ks.Stats().Keys, "Stats.Keys after FLUSHALL")
	checkOpsState(t, ks, []opsState{{"k0", "", opsAbsent}, {"k99", "", opsAbsent}})
	assert.Empty(t, scanAllOps(t, ks, nil, 10))
	_, ok = ks.RandomKey(nil)
	assert.False(t, ok, "RANDOMKEY after FLUSHALL")
	empty, _ := newOpsKS(t, Options{})
	assert.Equal(t, empty.Digest(), ks.Digest(), "DIGEST after FLUSHALL")

	require.NoError(t, ks.Set(opsB("after"), opsB("flush")))
	assert.Equal(t, 1, ks.Len())
	checkOpsState(t, ks, []opsState{{"after", "flush", -1}})
	ks.Flush()
	ks.Flush()
	assert.Equal(t, 0, ks.Len(), "DBSIZE after a second FLUSHALL")
}

func TestOpsDigest(t *testing.T) {
	now := new(atomic.Int64)
	now.Store(opsT0)
	a := newOpsKSClock(t, Options{}, now)
	b := newOpsKSClock(t, Options{}, now)
	require.Equal(t, a.Digest(), b.Digest(), "empty keyspaces")
	empty := a.Digest()

	pairs := []string{"x", "1", "y", "2", "z", "\x00\xff", "", "empty key"}
	for i := 0; i < len(pairs); i += 2 {
		require.NoError(t, a.Set(opsB(pairs[i]), opsB(pairs[i+1])))
	}
	for i := len(pairs) - 2; i >= 0; i -= 2 {
		require.NoError(t, b.Set(opsB(pairs[i]), opsB(pairs[i+1])))
	}
	require.Equal(t, a.Digest(), b.Digest(), "same contents, reverse insertion order")
	require.NotEqual(t, empty, a.Digest(), "contents change the digest")

	steps := []struct {
		name  string
		apply func(ks *Keyspace)
		same  bool // whether a (changed) still equals b (unchanged)
	}{
		{"SET x 9 (value change)", func(ks *Keyspace) { require.NoError(t, ks.Set(opsB("x"), opsB("9"))) }, false},
		{"SET x 1 (value back)", func(ks *Keyspace) { require.NoError(t, ks.Set(opsB("x"), opsB("1"))) }, true},
		{"PEXPIRE x 100000 (TTL added)", func(ks *Keyspace) { ks.PExpire(opsB("x"), 100_000, ExpireAlways) }, false},
		{"PEXPIRE x 200000 (TTL moved)", func(ks *Keyspace) { ks.PExpire(opsB("x"), 200_000, ExpireAlways) }, false},
		{"PERSIST x (TTL removed)", func(ks *Keyspace) { ks.Persist(opsB("x")) }, true},
		{"SET w 1 PX 1000 (new key with TTL)", func(ks *Keyspace) {
			_, err := ks.SetOpt(nil, opsB("w"), opsB("1"), SetOptions{TTL: 1000})
			require.NoError(t, err)
		}, false},
		{"(w expires)", func(*Keyspace) { now.Add(1001) }, true},
		{"SET x '' (empty value)", func(ks *Keyspace) { require.NoError(t, ks.Set(opsB("x"), opsB(""))) }, false},
		{"DEL x", func(ks *Keyspace) { ks.Delete(opsB("x")) }, false},
		{"SET x 1 (restored)", func(ks *Keyspace) { require.NoError(t, ks.Set(opsB("x"), opsB("1"))) }, true},
		{"RENAME x x2", func(ks *Keyspace) { require.NoError(t, ks.Rename(opsB("x"), opsB("x2"))) }, false},
		{"RENAME x2 x", func(ks *Keyspace) { require.NoError(t, ks.Rename(opsB("x2"), opsB("x"))) }, true},
	}
	for _, st := range steps {
		st.apply(a)
		if st.same {
			assert.Equal(t, b.Digest(), a.Digest(), "after %s", st.name)
		} else {
			assert.NotEqual(t, b.Digest(), a.Digest(), "after %s", st.name)
		}
	}

	t.Run("DIGEST (TTL presence, not the deadline)", func(t *testing.T) {
		c := newOpsKSClock(t, Options{}, now)
		d := newOpsKSClock(t, Options{}, now)
		_, err := c.SetOpt(nil, opsB("k"), opsB("v"), SetOptions{TTL: 100_000})
		require.NoError(t, err)
		_, err = d.SetOpt(nil, opsB("k"), opsB("v"), SetOptions{TTL: 200_000})
		require.NoError(t, err)
		assert.Equal(t, c.Digest(), d.Digest())
		e := newOpsKSClock(t, Options{}, now)
		require.NoError(t, e.Set(opsB("k"), opsB("v")))
		assert.NotEqual(t, c.Digest(), e.Digest())
	})
	t.Run("DIGEST (key/value boundary)", func(t *testing.T) {
		c := newOpsKSClock(t, Options{}, now)
		d := newOpsKSClock(t, Options{}, now)
		require.NoError(t, c.Set(opsB("ab"), opsB("c")))
		require.NoError(t, d.Set(opsB("a"), opsB("bc")))
		assert.NotEqual(t, c.Digest(), d.Digest())
	})
	t.Run("DIGEST (swapped values)", func(t *testing.T) {
		c := newOpsKSClock(t, Options{}, now)
		d := newOpsKSClock(t, Options{}, now)
		require.NoError(t, c.MSet(opsB("a"), opsB("1"), opsB("b"), opsB("2")))
		require.NoError(t, d.MSet(opsB("a"), opsB("2"), opsB("b"), opsB("1")))
		assert.NotEqual(t, c.Digest(), d.Digest())
	})
	t.Run("DIGEST (unaffected by expired keys)", func(t *testing.T) {
		c := newOpsKSClock(t, Options{}, now)
		d := newOpsKSClock(t, Options{}, now)
		require.NoError(t, c.Set(opsB("live"), opsB("v")))
		require.NoError(t, d.Set(opsB("live"), opsB("v")))
		for i := 0; i < 20; i++ {
			_, err := d.SetOpt(nil, opsB(fmt.Sprintf("gone%d", i)), opsB("v"), SetOptions{TTL: 500})
			require.NoError(t, err)
		}
		assert.NotEqual(t, c.Digest(), d.Digest())
		now.Add(501)
		assert.Equal(t, c.Digest(), d.Digest())
	})
}

func TestOpsStats(t *testing.T) {
	ks, now := newOpsKS(t, Options{})
	base := ks.Stats()
	assert.Equal(t, int64(0), base.MaxBytes, "MaxBytes unbounded")

	require.NoError(t, ks.Set(opsB("a"), opsB("1")))
	require.NoError(t, ks.Set(opsB("b"), opsB("2")))
	require.NoError(t, ks.Set(opsB("a"), opsB("3")))
	_, ok := ks.Get(nil, opsB("a"))
	require.True(t, ok)
	_, ok = ks.Get(nil, opsB("b"))
	require.True(t, ok)
	_, ok = ks.Get(nil, opsB("nope"))
	require.False(t, ok)
	st := ks.Stats()
	assert.Equal(t, uint64(3), st.Sets-base.Sets, "Sets after 3 SETs")
	assert.Equal(t, uint64(2), st.Hits-base.Hits, "keyspace_hits after 2 GET hits")
	assert.Equal(t, uint64(1), st.Misses-base.Misses, "keyspace_misses after 1 GET miss")
	assert.Equal(t, int64(2), st.Keys, "Keys")
	assert.Greater(t, st.UsedBytes, int64(0), "UsedBytes")

	base = ks.Stats()
	assert.True(t, ks.Delete(opsB("a")))
	assert.False(t, ks.Delete(opsB("a")))
	st = ks.Stats()
	assert.Equal(t, uint64(1), st.Deletes-base.Deletes, "Deletes after one effective DEL")
	assert.Equal(t, int64(1), st.Keys, "Keys")

	base = ks.Stats()
	_, ok = ks.GetDel(nil, opsB("b"))
	require.True(t, ok)
	st = ks.Stats()
	assert.Equal(t, uint64(1), st.Deletes-base.Deletes, "Deletes after GETDEL")

	// A GET of an expired key is a miss (Redis counts keyspace_misses), and
	// the key counts as expired once it is reclaimed.
	seedOps(t, ks, []opsKV{{"e", "v", 1000}})
	now.Add(1001)
	base = ks.Stats()
	_, ok = ks.Get(nil, opsB("e"))
	require.False(t, ok)
	st = ks.Stats()
	assert.Equal(t, uint64(1), st.Misses-base.Misses, "keyspace_misses after GET of an expired key")
	assert.Equal(t, uint64(0), st.Hits-base.Hits, "keyspace_hits after GET of an expired key")
	for i := 0; i < 1000 && ks.Stats().Expired == base.Expired; i++ {
		ks.ActiveExpireCycle(time.Second)
	}
	assert.Equal(t, uint64(1), ks.Stats().Expired-base.Expired, "expired_keys")
	assert.Equal(t, int64(0), ks.Stats().Keys, "Keys after the expired key is reclaimed")
	assert.Equal(t, uint64(0), ks.Stats().Evicted, "Evicted without a memory bound")
}

func TestOpsActiveExpireCycle(t *testing.T) {
	ks, now := newOpsKS(t, Options{})
	for i := 0; i < 500; i++ {
		seedOps(t, ks, []opsKV{{fmt.Sprintf("e%d", i), "v", 1000 + int64(i%3)}})
	}
	for i := 0; i < 5; i++ {
		seedOps(t, ks, []opsKV{{fmt.Sprintf("live%d", i), "v", 0}})
	}
	seedOps(t, ks, []opsKV{{"later", "v", 100_000}})
	assert.Equal(t, 0, ks.ActiveExpireCycle(time.Second), "nothing expired yet")
	base := ks.Stats()
	now.Add(1003)
	assert.Equal(t, 500, opsReclaim(t, ks, 500), "keys reclaimed")
	assert.Equal(t, 0, ks.ActiveExpireCycle(time.Second), "a pass after everything is reclaimed")
	assert.Equal(t, 6, ks.Len())
	assert.Equal(t, uint64(500), ks.Stats().Expired-base.Expired, "expired_keys")
	checkOpsState(t, ks, []opsState{{"live0", "v", -1}, {"live4", "v", -1}, {"later", "v", 100_000 - 1003}, {"e0", "", opsAbsent}})
}

func TestOpsBinarySafe(t *testing.T) {
	ks, _ := newOpsKS(t, Options{})
	kvs := []opsKV{
		{"a", "plain", 0},
		{"a\x00", "nul suffix", 0},
		{"a\x00b", "\x00\x00\x00", 0},
		{"a\x00c", "\xff\xfe\x00", 0},
		{"\x00", "just nul", 0},
		{"\xff", "\xff", 0},
		{"\xff\xfe\xfd", "\x80\x81", 100_000},
		{"\r\n*1\r\n", "$-1\r\n", 0},
	}
	seedOps(t, ks, kvs)
	for _, kv := range kvs {
		pttl := int64(-1)
		if kv.ttl > 0 {
			pttl = kv.ttl
		}
		checkOpsState(t, ks, []opsState{{kv.k, kv.v, pttl}})
		assert.Equal(t, len(kv.v), ks.StrLen(opsB(kv.k)), "STRLEN %q", kv.k)
	}
	checkOpsState(t, ks, []opsState{{"a\x00d", "", opsAbsent}, {"", "", opsAbsent}, {"\x00\x00", "", opsAbsent}})

	var all []string
	for _, kv := range kvs {
		all = append(all, kv.k)
	}
	assertScanned(t, scanAllOps(t, ks, nil, 3), all)
	assertScanned(t, scanAllOps(t, ks, opsB("a\x00*"), 3), []string{"a\x00", "a\x00b", "a\x00c"})
	assertScanned(t, scanAllOps(t, ks, opsB("\xff*"), 3), []string{"\xff", "\xff\xfe\xfd"})

	_, vals := ks.MGet(nil, nil, opsB("a\x00b"), opsB("a\x00d"), opsB("\xff"))
	require.Len(t, vals, 3)
	assert.Equal(t, "\x00\x00\x00", string(vals[0]))
	assert.Nil(t, vals[1])
	assert.Equal(t, "\xff", string(vals[2]))

	require.NoError(t, ks.Rename(opsB("a\x00b"), opsB("\xff\x00")))
	checkOpsState(t, ks, []opsState{{"a\x00b", "", opsAbsent}, {"\xff\x00", "\x00\x00\x00", -1}, {"a\x00", "nul suffix", -1}})
	n, err := ks.Append(opsB("\xff\x00"), opsB("\xff"))
	require.NoError(t, err)
	assert.Equal(t, 4, n)
	checkOpsState(t, ks, []opsState{{"\xff\x00", "\x00\x00\x00\xff", -1}})
	v, err := ks.Incr(opsB("\x00n\xff"))
	require.NoError(t, err)
	assert.Equal(t, int64(1), v)
	assert.True(t, ks.Delete(opsB("a\x00")))
	checkOpsState(t, ks, []opsState{{"a\x00", "", opsAbsent}, {"a", "plain", -1}, {"a\x00c", "\xff\xfe\x00", -1}})
	got, ok := ks.GetDel(nil, opsB("\x00"))
	assert.True(t, ok)
	assert.Equal(t, "just nul", string(got))
}

func TestOpsLimits(t *testing.T) {
	k16, k17 := strings.Repeat("k", 16), strings.Repeat("k", 17)
	v64, v65 := strings.Repeat("v", 64), strings.Repeat("v", 65)
	cases := []struct {
		name      string
		pre       []opsKV
		fn        func(ks *Keyspace) error
		wantKind  error // nil: must succeed
		wantSize  int   // 0: not checked
		wantLimit int
		after     []opsState
	}{
		{name: "SET k16 v64 (at the limits)", fn: func(ks *Keyspace) error { return ks.Set(opsB(k16), opsB(v64)) }, after: []opsState{{k16, v64, -1}}},
		{name: "SET k17 v (key too large)", fn: func(ks *Keyspace) error { return ks.Set(opsB(k17), opsB("v")) }, wantKind: ErrKeyTooLarge, wantSize: 17, wantLimit: 16, after: []opsState{{k17, "", opsAbsent}}},
		{name: "SET k v65 (value too large)", pre: []opsKV{{"k", "old", 0}}, fn: func(ks *Keyspace) error { return ks.Set(opsB("k"), opsB(v65)) }, wantKind: ErrValueTooLarge, wantSize: 65, wantLimit: 64, after: []opsState{{"k", "old", -1}}},
		{name: "SET k17 v PX 100 (SetOpt, key too large)", fn: func(ks *Keyspace) error {
			_, err := ks.SetOpt(nil, opsB(k17), opsB("v"), SetOptions{TTL: 100})
			return err
		}, wantKind: ErrKeyTooLarge, wantSize: 17, wantLimit: 16, after: []opsState{{k17, "", opsAbsent}}},
		{name: "SET k v65 GET (SetOpt, value too large)", pre: []opsKV{{"k", "old", 0}}, fn: func(ks *Keyspace) error {
			_, err := ks.SetOpt(nil, opsB("k"), opsB(v65), SetOptions{Get: true})
			return err
		}, wantKind: ErrValueTooLarge, wantSize: 65, wantLimit: 64, after: []opsState{{"k", "old", -1}}},
		{name: "MSET a 1 k17 2 (key too large, nothing written)", fn: func(ks *Keyspace) error {
			return ks.MSet(opsB("a"), opsB("1"), opsB(k17), opsB("2"))
		}, wantKind: ErrKeyTooLarge, wantSize: 17, wantLimit: 16, after: []opsState{{"a", "", opsAbsent}, {k17, "", opsAbsent}}},
		{name: "MSET a 1 b v65 (value too large, nothing written)", fn: func(ks *Keyspace) error {
			return ks.MSet(opsB("a"), opsB("1"), opsB("b"), opsB(v65))
		}, wantKind: ErrValueTooLarge, wantSize: 65, wantLimit: 64, after: []opsState{{"a", "", opsAbsent}, {"b", "", opsAbsent}}},
		{name: "MSETNX a 1 k17 2 (key too large, nothing written)", fn: func(ks *Keyspace) error {
			_, err := ks.MSetNX(opsB("a"), opsB("1"), opsB(k17), opsB("2"))
			return err
		}, wantKind: ErrKeyTooLarge, wantSize: 17, wantLimit: 16, after: []opsState{{"a", "", opsAbsent}}},
		{name: "MSETNX a v65 (value too large)", fn: func(ks *Keyspace) error {
			_, err := ks.MSetNX(opsB("a"), opsB(v65))
			return err
		}, wantKind: ErrValueTooLarge, wantSize: 65, wantLimit: 64, after: []opsState{{"a", "", opsAbsent}}},
		{name: "APPEND k v5 (result too large)", pre: []opsKV{{"k", strings.Repeat("x", 60), 0}}, fn: func(ks *Keyspace) error {
			_, err := ks.Append(opsB("k"), opsB("12345"))
			return err
		}, wantKind: ErrValueTooLarge, wantLimit: 64, after: []opsState{{"k", strings.Repeat("x", 60), -1}}},
		{name: "APPEND k v4 (result at the limit)", pre: []opsKV{{"k", strings.Repeat("x", 60), 0}}, fn: func(ks *Keyspace) error {
			_, err := ks.Append(opsB("k"), opsB("1234"))
			return err
		}, after: []opsState{{"k", strings.Repeat("x", 60) + "1234", -1}}},
		{name: "APPEND k17 v (key too large)", fn: func(ks *Keyspace) error {
			_, err := ks.Append(opsB(k17), opsB("v"))
			return err
		}, wantKind: ErrKeyTooLarge, wantSize: 17, wantLimit: 16, after: []opsState{{k17, "", opsAbsent}}},
		{name: "INCR k17 (key too large)", fn: func(ks *Keyspace) error {
			_, err := ks.Incr(opsB(k17))
			return err
		}, wantKind: ErrKeyTooLarge, wantSize: 17, wantLimit: 16, after: []opsState{{k17, "", opsAbsent}}},
		{name: "RENAME s k17 (dst key too large)", pre: []opsKV{{"s", "v", 0}}, fn: func(ks *Keyspace) error {
			return ks.Rename(opsB("s"), opsB(k17))
		}, wantKind: ErrKeyTooLarge, wantSize: 17, wantLimit: 16, after: []opsState{{"s", "v", -1}, {k17, "", opsAbsent}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ks, _ := newOpsKS(t, Options{MaxKeySize: 16, MaxValueSize: 64})
			seedOps(t, ks, tc.pre)
			err := tc.fn(ks)
			if tc.wantKind == nil {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, tc.wantKind)
				other := ErrKeyTooLarge
				if tc.wantKind == ErrKeyTooLarge {
					other = ErrValueTooLarge
				}
				assert.NotErrorIs(t, err, other)
				assert.True(t, errors.Is(err, tc.wantKind), "errors.Is(%v, %v)", err, tc.wantKind)
				var le *LimitError
				if assert.True(t, errors.As(err, &le), "errors.As(%v, *LimitError)", err) {
					assert.Equal(t, tc.wantKind, le.Kind)
					assert.Equal(t, tc.wantLimit, le.Limit)
					if tc.wantSize != 0 {
						assert.Equal(t, tc.wantSize, le.Size)
					} else {
						assert.Greater(t, le.Size, le.Limit)
					}
				}
			}
			checkOpsState(t, ks, tc.after)
		})
	}
}

// TestOpsExpiredNeverReturned checks every read and every write that looks
// at an existing value against keys whose deadline has passed but which no
// one has reclaimed (active expiry is off).
func TestOpsExpiredNeverReturned(t *testing.T) {
	ks, now := newOpsKS(t, Options{})
	var gone []string
	for i := 0; i < 50; i++ {
		k := fmt.Sprintf("gone:%d", i)
		gone = append(gone, k)
		seedOps(t, ks, []opsKV{{k, "stale", 1000 + int64(i)}})
	}
	seedOps(t, ks, []opsKV{{"live", "v", 0}})
	reference := newOpsKSClock(t, Options{}, now)
	require.NoError(t, reference.Set(opsB("live"), opsB("v")))
	now.Add(1050)

	t.Run("reads", func(t *testing.T) {
		for _, k := range gone {
			key := opsB(k)
			got, ok := ks.Get(nil, key)
			assert.False(t, ok, "GET %s returned %q", k, got)
			assert.False(t, ks.Exists(key), "EXISTS %s", k)
			assert.Equal(t, 0, ks.StrLen(key), "STRLEN %s", k)
			assert.Equal(t, int64(-2), ks.TTL(key), "TTL %s", k)
			assert.Equal(t, int64(-2), ks.PTTL(key), "PTTL %s", k)
			assert.Equal(t, int64(-2), ks.PExpireTime(key), "PEXPIRETIME %s", k)
		}
		keys := [][]byte{opsB("live")}
		for _, k := range gone {
			keys = append(keys, opsB(k))
		}
		_, vals := ks.MGet(nil, nil, keys...)
		require.Len(t, vals, len(keys))
		assert.Equal(t, "v", string(vals[0]))
		for i, v := range vals[1:] {
			assert.Nil(t, v, "MGET %s", gone[i])
		}
		for _, count := range []int{1, 10, 1000} {
			assertScanned(t, scanAllOps(t, ks, nil, count), []string{"live"})
			assertScanned(t, scanAllOps(t, ks, opsB("gone:*"), count), nil)
		}
		for i := 0; i < 30; i++ {
			got, ok := ks.RandomKey(nil)
			require.True(t, ok)
			assert.Equal(t, "live", string(got), "RANDOMKEY")
		}
		assert.Equal(t, reference.Digest(), ks.Digest(), "DIGEST")
	})

	t.Run("writes", func(t *testing.T) {
		g := func(i int) []byte { return opsB(gone[i]) }
		res, err := ks.SetOpt(nil, g(0), opsB("new"), SetOptions{NX: true, Get: true})
		require.NoError(t, err)
		assert.True(t, res.Written, "SET NX on an expired key")
		assert.False(t, res.HadPrev, "SET GET on an expired key")
		res, err = ks.SetOpt(nil, g(1), opsB("new"), SetOptions{XX: true})
		require.NoError(t, err)
		assert.False(t, res.Written, "SET XX on an expired key")
		n, err := ks.Incr(g(2))
		require.NoError(t, err)
		assert.Equal(t, int64(1), n, "INCR on an expired key")
		l, err := ks.Append(g(3), opsB("abc"))
		require.NoError(t, err)
		assert.Equal(t, 3, l, "APPEND on an expired key")
		_, ok := ks.GetDel(nil, g(4))
		assert.False(t, ok, "GETDEL on an expired key")
		_, ok, err = ks.GetEx(nil, g(5), GetExOptions{Persist: true})
		require.NoError(t, err)
		assert.False(t, ok, "GETEX PERSIST on an expired key")
		assert.ErrorIs(t, ks.Rename(g(6), opsB("dst")), ErrNoSuchKey, "RENAME from an expired key")
		ok, err = ks.Expire(g(7), 100, ExpireAlways)
		require.NoError(t, err)
		assert.False(t, ok, "EXPIRE on an expired key")
		ok, err = ks.PExpire(g(8), 100, ExpireLT)
		require.NoError(t, err)
		assert.False(t, ok, "PEXPIRE LT on an expired key")
		ok, err = ks.Persist(g(9))
		require.NoError(t, err)
		assert.False(t, ok, "PERSIST on an expired key")
		assert.False(t, ks.Delete(g(10)), "DEL on an expired key")
		ok, err = ks.MSetNX(g(11), opsB("new"))
		require.NoError(t, err)
		assert.True(t, ok, "MSETNX onto an expired key")
		checkOpsState(t, ks, []opsState{
			{gone[0], "new", -1}, {gone[1], "", opsAbsent}, {gone[2], "1", -1}, {gone[3], "abc", -1},
			{gone[4], "", opsAbsent}, {gone[5], "", opsAbsent}, {gone[6], "", opsAbsent}, {"dst", "", opsAbsent},
			{gone[7], "", opsAbsent}, {gone[8], "", opsAbsent}, {gone[9], "", opsAbsent}, {gone[10], "", opsAbsent},
			{gone[11], "new", -1},
		})
	})
}

func TestOpsCloseAndPolicy(t *testing.T) {
	t.Run("writes after Close", func(t *testing.T) {
		ks, _ := newOpsKS(t, Options{})
		require.NoError(t, ks.Set(opsB("k"), opsB("v")))
		ks.Close()
		ks.Close() // idempotent
		assert.ErrorIs(t, ks.Set(opsB("k"), opsB("v")), ErrClosed, "SET")
		_, err := ks.SetOpt(nil, opsB("k"), opsB("v"), SetOptions{})
		assert.ErrorIs(t, err, ErrClosed, "SET (SetOpt)")
		_, err = ks.Incr(opsB("n"))
		assert.ErrorIs(t, err, ErrClosed, "INCR")
		_, err = ks.Append(opsB("k"), opsB("v"))
		assert.ErrorIs(t, err, ErrClosed, "APPEND")
		assert.ErrorIs(t, ks.MSet(opsB("a"), opsB("1")), ErrClosed, "MSET")
		_, err = ks.MSetNX(opsB("a"), opsB("1"))
		assert.ErrorIs(t, err, ErrClosed, "MSETNX")
		_, ok := ks.Get(nil, opsB("k"))
		assert.False(t, ok, "GET after Close finds nothing")
	})
	t.Run("ParseEvictionPolicy", func(t *testing.T) {
		for _, p := range []EvictionPolicy{NoEviction, AllKeys, Volatile} {
			got, err := ParseEvictionPolicy(p.String())
			require.NoError(t, err, p.String())
			assert.Equal(t, p, got)
		}
		assert.Equal(t, "noeviction", NoEviction.String())
		assert.Equal(t, "allkeys", AllKeys.String())
		assert.Equal(t, "volatile", Volatile.String())
		_, err := ParseEvictionPolicy("allkeys-lru-ish")
		assert.Error(t, err)
	})
	t.Run("noeviction: OOM on write, reads and deletes keep working", func(t *testing.T) {
		const maxMem = 8 << 20
		ks, _ := newOpsKS(t, Options{MaxMemory: maxMem, Eviction: NoEviction})
		assert.Equal(t, int64(maxMem), ks.Stats().MaxBytes)
		val := bytes.Repeat([]byte("m"), 512)
		var err error
		written := 0
		for ; written < 100_000; written++ {
			if err = ks.Set(opsB(fmt.Sprintf("key:%d", written)), val); err != nil {
				break
			}
		}
		require.ErrorIs(t, err, ErrOOM, "after %d writes", written)
		require.Greater(t, written, 0)
		assert.LessOrEqual(t, ks.Stats().UsedBytes, int64(maxMem))
		assert.Equal(t, uint64(0), ks.Stats().Evicted)
		got, ok := ks.Get(nil, opsB("key:0"))
		assert.True(t, ok, "GET after OOM")
		assert.Equal(t, val, got)
		assert.True(t, ks.Exists(opsB(fmt.Sprintf("key:%d", written-1))))
		assert.True(t, ks.Delete(opsB("key:0")), "DEL after OOM")
		assert.Equal(t, written-1, ks.Len())
	})
}

// TestOpsValueSizes runs the value-carrying commands across the small-record
// and large-value paths, with the smallest page size so that the thresholds
// (a fraction of a page, a whole page) are crossed.
func TestOpsValueSizes(t *testing.T) {
	sizes := []int{0, 1, 100, 1000, 1023, 1024, 1025, 2047, 2048, 4095, 4096, 4097, 8192, 65536, 1 << 20}
	for _, shards := range []int{1, 4} {
		for _, size := range sizes {
			t.Run(fmt.Sprintf("shards=%d/SET GET APPEND PEXPIRE PERSIST GETEX RENAME (%d bytes)", shards, size), func(t *testing.T) {
				ks, now := newOpsKS(t, Options{Shards: shards, PageSize: 4096})
				val := bytes.Repeat([]byte{0xA5}, size)
				for i := range val {
					val[i] = byte(i * 7)
				}
				key := opsB("k")
				require.NoError(t, ks.Set(key, val))
				checkOpsState(t, ks, []opsState{{"k", string(val), -1}})
				ok, err := ks.PExpire(key, 5000, ExpireAlways)
				require.NoError(t, err)
				require.True(t, ok)
				checkOpsState(t, ks, []opsState{{"k", string(val), 5000}})
				n, err := ks.Append(key, opsB("!"))
				require.NoError(t, err)
				require.Equal(t, size+1, n)
				val = append(val, '!')
				checkOpsState(t, ks, []opsState{{"k", string(val), 5000}})
				ok, err = ks.Persist(key)
				require.NoError(t, err)
				assert.True(t, ok)
				checkOpsState(t, ks, []opsState{{"k", string(val), -1}})
				got, ok, err := ks.GetEx(nil, key, GetExOptions{TTL: 7000})
				require.NoError(t, err)
				require.True(t, ok)
				assert.Equal(t, val, got)
				res, err := ks.SetOpt(nil, key, val[:len(val)/2], SetOptions{KeepTTL: true, Get: true})
				require.NoError(t, err)
				assert.Equal(t, val, res.Prev)
				val = val[:len(val)/2]
				checkOpsState(t, ks, []opsState{{"k", string(val), 7000}})
				require.NoError(t, ks.Rename(key, opsB("k2")))
				checkOpsState(t, ks, []opsState{{"k", "", opsAbsent}, {"k2", string(val), 7000}})
				now.Add(7001)
				checkOpsState(t, ks, []opsState{{"k2", "", opsAbsent}})
				assert.Equal(t, 1, opsReclaim(t, ks, 1))
				assert.Equal(t, 0, ks.Len())
			})
		}
	}
}

// TestOpsManyKeys grows the index and the arena well past their initial
// sizes, rewrites and deletes keys, and compares every observable with a Go
// map holding what Redis would hold.
func TestOpsManyKeys(t *testing.T) {
	const n = 20_000
	for _, shards := range []int{1, 8} {
		t.Run(fmt.Sprintf("shards=%d", shards), func(t *testing.T) {
			ks, now := newOpsKS(t, Options{Shards: shards, PageSize: 4096})
			model := map[string]string{}
			for i := 0; i < n; i++ {
				k := fmt.Sprintf("key:%d", i)
				v := strings.Repeat(string(rune('a'+i%26)), i%50)
				if err := ks.Set(opsB(k), opsB(v)); err != nil {
					t.Fatalf("SET %s: %v", k, err)
				}
				model[k] = v
			}
			for i := 0; i < n; i += 2 {
				k := fmt.Sprintf("key:%d", i)
				v := fmt.Sprintf("rewritten:%d", i)
				if err := ks.Set(opsB(k), opsB(v)); err != nil {
					t.Fatalf("SET %s: %v", k, err)
				}
				model[k] = v
			}
			for i := 0; i < n; i += 4 {
				k := fmt.Sprintf("key:%d", i+1)
				require.True(t, ks.Delete(opsB(k)), "DEL %s", k)
				delete(model, k)
			}
			for i := 0; i < n; i += 10 {
				k := fmt.Sprintf("key:%d", i+3)
				_, err := ks.PExpire(opsB(k), 1000, ExpireAlways)
				require.NoError(t, err)
				if i%20 == 0 {
					delete(model, k) // will have expired
				}
			}
			for i := 0; i < n; i += 20 {
				ks.Persist(opsB(fmt.Sprintf("key:%d", i+13)))
			}
			now.Add(1001)
			for i := 0; i < n; i++ {
				k := fmt.Sprintf("key:%d", i)
				got, ok := ks.Get(nil, opsB(k))
				want, wantOK := model[k]
				if ok != wantOK || string(got) != want {
					t.Errorf("GET %s = %q, %v; want %q, %v", k, got, ok, want, wantOK)
				}
			}
			var keys []string
			for k := range model {
				keys = append(keys, k)
			}
			assertScanned(t, scanAllOps(t, ks, nil, 100), keys)
			assert.Equal(t, n/20, opsReclaim(t, ks, n/20), "keys reclaimed")
			assert.Equal(t, len(model), ks.Len(), "DBSIZE once expired keys are reclaimed")

			ref := newOpsKSClock(t, Options{}, now)
			for i := len(keys) - 1; i >= 0; i-- {
				require.NoError(t, ref.Set(opsB(keys[i]), opsB(model[keys[i]])))
			}
			assert.Equal(t, ref.Digest(), ks.Digest(), "DIGEST against a keyspace built from the model")
		})
	}
}
