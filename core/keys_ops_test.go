package core

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Table tests for RenameNX, Copy, Touch and Inspect, in the style of
// ops_test.go; expectations were checked against Redis 7.0.15 (RENAMENX,
// COPY, TOUCH) with redis-cli.

func TestOpsRenameNX(t *testing.T) {
	cases := []struct {
		name     string
		pre      []opsKV
		advance  int64
		src, dst string
		want     bool
		wantErr  error
		after    []opsState
	}{
		{name: "RENAMENX s d (missing src)", pre: []opsKV{{"d", "2", 0}}, src: "s", dst: "d", wantErr: ErrNoSuchKey, after: []opsState{{"d", "2", -1}}},
		{name: "RENAMENX s s (missing)", src: "s", dst: "s", wantErr: ErrNoSuchKey},
		{name: "RENAMENX s d (expired src)", pre: []opsKV{{"s", "1", 1000}}, advance: 1001, src: "s", dst: "d", wantErr: ErrNoSuchKey, after: []opsState{{"s", "", opsAbsent}, {"d", "", opsAbsent}}},
		{name: "RENAMENX s d (new dst)", pre: []opsKV{{"s", "1", 0}}, src: "s", dst: "d", want: true, after: []opsState{{"s", "", opsAbsent}, {"d", "1", -1}}},
		{name: "RENAMENX s d (TTL carried)", pre: []opsKV{{"s", "1", 100_000}}, advance: 1000, src: "s", dst: "d", want: true, after: []opsState{{"s", "", opsAbsent}, {"d", "1", 99_000}}},
		{name: "RENAMENX s d (dst exists)", pre: []opsKV{{"s", "1", 0}, {"d", "2", 50_000}}, src: "s", dst: "d", after: []opsState{{"s", "1", -1}, {"d", "2", 50_000}}},
		{name: "RENAMENX s d (expired dst)", pre: []opsKV{{"s", "1", 0}, {"d", "2", 1000}}, advance: 1001, src: "s", dst: "d", want: true, after: []opsState{{"s", "", opsAbsent}, {"d", "1", -1}}},
		{name: "RENAMENX k k (onto itself)", pre: []opsKV{{"k", "5", 100_000}}, src: "k", dst: "k", after: []opsState{{"k", "5", 100_000}}},
		{name: "RENAMENX s d (large value)", pre: []opsKV{{"s", strings.Repeat("L", 1<<20), 0}}, src: "s", dst: "d", want: true, after: []opsState{{"s", "", opsAbsent}, {"d", strings.Repeat("L", 1<<20), -1}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ks, now := newOpsKS(t, Options{})
			seedOps(t, ks, tc.pre)
			now.Add(tc.advance)
			got, err := ks.RenameNX(opsB(tc.src), opsB(tc.dst))
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tc.want, got)
			checkOpsState(t, ks, tc.after)
		})
	}
}

func TestOpsCopy(t *testing.T) {
	large := strings.Repeat("L", 1<<20)
	cases := []struct {
		name     string
		pre      []opsKV
		advance  int64
		src, dst string
		replace  bool
		want     bool
		wantErr  error
		after    []opsState
	}{
		{name: "COPY s s", pre: []opsKV{{"s", "1", 0}}, src: "s", dst: "s", wantErr: ErrSameKey, after: []opsState{{"s", "1", -1}}},
		{name: "COPY s s (missing)", src: "s", dst: "s", wantErr: ErrSameKey},
		{name: "COPY s d (missing src)", pre: []opsKV{{"d", "2", 0}}, src: "s", dst: "d", replace: true, after: []opsState{{"d", "2", -1}}},
		{name: "COPY s d (expired src)", pre: []opsKV{{"s", "1", 1000}}, advance: 1001, src: "s", dst: "d", after: []opsState{{"s", "", opsAbsent}, {"d", "", opsAbsent}}},
		{name: "COPY s d (new dst)", pre: []opsKV{{"s", "1", 0}}, src: "s", dst: "d", want: true, after: []opsState{{"s", "1", -1}, {"d", "1", -1}}},
		{name: "COPY s d (TTL copied)", pre: []opsKV{{"s", "1", 100_000}}, advance: 1000, src: "s", dst: "d", want: true, after: []opsState{{"s", "1", 99_000}, {"d", "1", 99_000}}},
		{name: "COPY s d (dst exists)", pre: []opsKV{{"s", "1", 0}, {"d", "2", 0}}, src: "s", dst: "d", after: []opsState{{"s", "1", -1}, {"d", "2", -1}}},
		{name: "COPY s d REPLACE", pre: []opsKV{{"s", "1", 0}, {"d", "2", 50_000}}, src: "s", dst: "d", replace: true, want: true, after: []opsState{{"s", "1", -1}, {"d", "1", -1}}},
		{name: "COPY s d REPLACE (same length, TTL)", pre: []opsKV{{"s", "abc", 70_000}, {"d", "xyz", 0}}, src: "s", dst: "d", replace: true, want: true, after: []opsState{{"s", "abc", 70_000}, {"d", "abc", 70_000}}},
		{name: "COPY s d (expired dst)", pre: []opsKV{{"s", "1", 0}, {"d", "2", 1000}}, advance: 1001, src: "s", dst: "d", want: true, after: []opsState{{"s", "1", -1}, {"d", "1", -1}}},
		{name: "COPY s d (empty value)", pre: []opsKV{{"s", "", 0}}, src: "s", dst: "d", want: true, after: []opsState{{"s", "", -1}, {"d", "", -1}}},
		{name: "COPY s d (large value)", pre: []opsKV{{"s", large, 0}}, src: "s", dst: "d", want: true, after: []opsState{{"s", large, -1}, {"d", large, -1}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ks, now := newOpsKS(t, Options{})
			seedOps(t, ks, tc.pre)
			now.Add(tc.advance)
			got, err := ks.Copy(opsB(tc.src), opsB(tc.dst), tc.replace)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tc.want, got)
			checkOpsState(t, ks, tc.after)
		})
	}
}

// TestCopyCountsRead: COPY looks its source up as a read (a hit or a
// miss), as Redis counts it; the destination is not counted.
func TestCopyCountsRead(t *testing.T) {
	ks, _ := newOpsKS(t, Options{})
	require.NoError(t, ks.Set(opsB("s"), opsB("v")))
	require.NoError(t, ks.Set(opsB("d"), opsB("v")))
	_, _ = ks.Copy(opsB("s"), opsB("d"), false)
	_, _ = ks.Copy(opsB("nosuch"), opsB("d"), false)
	st := ks.Stats()
	assert.Equal(t, uint64(1), st.Hits)
	assert.Equal(t, uint64(1), st.Misses)
}

// TestCopyAtBoundReportsOOM: the copy is a new record. Under NoEviction at
// the bound it fails with ErrOOM and leaves the destination as it was.
func TestCopyAtBoundReportsOOM(t *testing.T) {
	ks, _ := newOpsKS(t, Options{MaxMemory: 48 << 10, Shards: 1, Eviction: NoEviction})
	big := make([]byte, 6000)
	require.NoError(t, ks.Set(opsB("src"), big))
	var err error
	copied := 0
	for i := 0; i < 100; i++ {
		var ok bool
		ok, err = ks.Copy(opsB("src"), opsB(fmt.Sprintf("dst%d", i)), false)
		if err != nil {
			break
		}
		require.True(t, ok)
		copied++
	}
	require.ErrorIs(t, err, ErrOOM)
	require.Positive(t, copied)
	assert.False(t, ks.Exists(opsB(fmt.Sprintf("dst%d", copied))), "a failed COPY left its destination")
	st := ks.Stats()
	assert.LessOrEqual(t, st.UsedBytes, st.MaxBytes)
	assert.Equal(t, int64(copied+1), st.Keys)
}

func TestOpsTouch(t *testing.T) {
	ks, now := newOpsKS(t, Options{})
	seedOps(t, ks, []opsKV{{"a", "1", 0}, {"b", "2", 1000}, {"c", "3", 5000}})
	now.Add(1001) // b expires
	cases := []struct {
		keys []string
		want int
	}{
		{[]string{"a"}, 1},
		{[]string{"b"}, 0},
		{[]string{"nosuch"}, 0},
		{[]string{"a", "a", "c", "b", "nosuch"}, 3},
	}
	for _, tc := range cases {
		keys := make([][]byte, len(tc.keys))
		for i, k := range tc.keys {
			keys[i] = opsB(k)
		}
		assert.Equal(t, tc.want, ks.Touch(keys...), "TOUCH %q", tc.keys)
	}
	st := ks.Stats()
	assert.Equal(t, uint64(4), st.Hits)
	assert.Equal(t, uint64(4), st.Misses)
}

// TestTouchRaisesFreq: TOUCH marks a key read for eviction, as GET does,
// up to MaxFreq; Inspect itself changes nothing.
func TestTouchRaisesFreq(t *testing.T) {
	ks, _ := newOpsKS(t, Options{})
	require.NoError(t, ks.Set(opsB("k"), opsB("v")))
	freq := func() int {
		info, ok := ks.Inspect(opsB("k"), false)
		require.True(t, ok)
		return info.Freq
	}
	require.Equal(t, 0, freq())
	require.Equal(t, 0, freq(), "Inspect raised the frequency")
	for want := 1; want <= MaxFreq+2; want++ {
		require.Equal(t, 1, ks.Touch(opsB("k")))
		require.Equal(t, min(want, MaxFreq), freq())
	}
	require.NoError(t, ks.Set(opsB("g"), opsB("v")))
	_, _ = ks.Get(nil, opsB("g"))
	info, _ := ks.Inspect(opsB("g"), false)
	require.Equal(t, 1, info.Freq, "GET and TOUCH raise it alike")
}

func TestOpsInspect(t *testing.T) {
	large := strings.Repeat("L", 100_000)
	cases := []struct {
		name   string
		val    string
		ttl    int64
		isInt  bool
		n      int64
		large  bool
		minRec int64
	}{
		{name: "int", val: "12345", isInt: true, n: 12345, minRec: 6},
		{name: "negative int", val: "-9223372036854775808", isInt: true, n: -9223372036854775808, minRec: 21},
		{name: "leading zero", val: "007", minRec: 4},
		{name: "minus zero", val: "-0", minRec: 3},
		{name: "past int64", val: "9223372036854775808", minRec: 20},
		{name: "empty", val: "", minRec: 1},
		{name: "text with TTL", val: "hello", ttl: 10_000, minRec: 14},
		{name: "large", val: large, large: true, minRec: 100_000},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ks, _ := newOpsKS(t, Options{})
			seedOps(t, ks, []opsKV{{"k", tc.val, tc.ttl}})
			info, ok := ks.Inspect(opsB("k"), false)
			require.True(t, ok)
			assert.Equal(t, len(tc.val), info.ValueLen)
			assert.Equal(t, tc.isInt, info.IsInt)
			assert.Equal(t, tc.n, info.Int)
			assert.Equal(t, tc.large, info.Large)
			assert.GreaterOrEqual(t, info.Bytes, tc.minRec+int64(len("k")))
			assert.LessOrEqual(t, info.Bytes, ks.Stats().UsedBytes)
			if tc.ttl > 0 {
				assert.Equal(t, opsT0+tc.ttl, info.ExpireAt)
			} else {
				assert.Equal(t, int64(-1), info.ExpireAt)
			}
		})
	}
}

// TestInspectMissingAndCounts: a missing or expired key is not found (the
// expired one is reclaimed); only with countRead is the lookup a hit or a
// miss.
func TestInspectMissingAndCounts(t *testing.T) {
	ks, now := newOpsKS(t, Options{})
	seedOps(t, ks, []opsKV{{"a", "1", 0}, {"e", "1", 1000}})
	now.Add(1001)
	_, ok := ks.Inspect(opsB("nosuch"), false)
	assert.False(t, ok)
	_, ok = ks.Inspect(opsB("e"), false)
	assert.False(t, ok)
	assert.Equal(t, 1, ks.Len(), "the expired key was not reclaimed")
	_, _ = ks.Inspect(opsB("a"), false)
	st := ks.Stats()
	assert.Zero(t, st.Hits+st.Misses)
	_, _ = ks.Inspect(opsB("a"), true)
	_, _ = ks.Inspect(opsB("nosuch"), true)
	st = ks.Stats()
	assert.Equal(t, uint64(1), st.Hits)
	assert.Equal(t, uint64(1), st.Misses)
}

// TestInspectBytesAddUp: the keys' Bytes add up to about what the
// keyspace counts: all of it but free and partly filled pages, and at
// least the keys and values themselves.
func TestInspectBytesAddUp(t *testing.T) {
	ks, _ := newOpsKS(t, Options{Shards: 1})
	const n = 5000
	var sum, raw int64
	for i := range n {
		k, v := fmt.Sprintf("key:%d", i), strings.Repeat("v", 10+i%200)
		require.NoError(t, ks.Set(opsB(k), opsB(v)))
		raw += int64(len(k) + len(v))
	}
	for i := range n {
		info, ok := ks.Inspect(opsB(fmt.Sprintf("key:%d", i)), false)
		require.True(t, ok)
		sum += info.Bytes
	}
	used := ks.UsedBytes()
	st := ks.Stats()
	assert.Equal(t, st.UsedBytes, used)
	assert.GreaterOrEqual(t, st.IndexBytes, int64(8*n), "an 8-byte slot per key at least")
	assert.Less(t, st.IndexBytes, used/4)
	assert.Greater(t, sum, raw)
	assert.LessOrEqual(t, sum, used)
	assert.Greater(t, sum, used*7/10, "sum %d of used %d", sum, used)
}
