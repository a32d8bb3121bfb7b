package core

import (
	"bytes"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Table tests for IncrByFloat, in the style of ops_test.go: every expected
// result is what redis-server 7.0.15 (x86-64) answered to INCRBYFLOAT
// with redis-cli.

func TestOpsIncrByFloat(t *testing.T) {
	cases := []struct {
		name    string
		pre     []opsKV
		advance int64
		incr    string
		want    string
		wantErr error
		after   opsState
	}{
		{name: "10.5 + 0.1", pre: []opsKV{{"f", "10.5", 0}}, incr: "0.1", want: "10.6", after: opsState{"f", "10.6", -1}},
		{name: "5.0e3 + 2.0e2", pre: []opsKV{{"f", "5.0e3", 0}}, incr: "2.0e2", want: "5200", after: opsState{"f", "5200", -1}},
		{name: "missing + 1e20", incr: "1e20", want: "100000000000000000000", after: opsState{"f", "100000000000000000000", -1}},
		{name: "missing + 0.1, keeps no TTL", incr: "0.1", want: "0.1", after: opsState{"f", "0.1", -1}},
		{name: "0.1 + 0.2", pre: []opsKV{{"f", "0.1", 0}}, incr: "0.2", want: "0.3", after: opsState{"f", "0.3", -1}},
		{name: "5 + 0.5 keeps TTL", pre: []opsKV{{"f", "5", 100_000}}, advance: 1000, incr: "0.5", want: "5.5", after: opsState{"f", "5.5", 99_000}},
		{name: "expired + 1", pre: []opsKV{{"f", "5", 1000}}, advance: 1001, incr: "1", want: "1", after: opsState{"f", "1", -1}},
		{name: "-1913.629551083981 + 5.3088", pre: []opsKV{{"f", "-1913.629551083981", 0}}, incr: "5.3088", want: "-1908.32075108398100005", after: opsState{"f", "-1908.32075108398100005", -1}},
		{name: "-126.88494417798223 + 3.095988259226", pre: []opsKV{{"f", "-126.88494417798223", 0}}, incr: "3.095988259226", want: "-123.78895591875622999", after: opsState{"f", "-123.78895591875622999", -1}},
		{name: "453.44831626710743 + 1.61765405629", pre: []opsKV{{"f", "453.44831626710743", 0}}, incr: "1.61765405629", want: "455.06597032339743", after: opsState{"f", "455.06597032339743", -1}},
		{name: "missing + 3.0000000000000000001", incr: "3.0000000000000000001", want: "3", after: opsState{"f", "3", -1}},
		{name: "missing + 0x1p-3", incr: "0x1p-3", want: "0.125", after: opsState{"f", "0.125", -1}},
		{name: "missing + 0x10", incr: "0x10", want: "16", after: opsState{"f", "16", -1}},
		{name: "missing + +1.5", incr: "+1.5", want: "1.5", after: opsState{"f", "1.5", -1}},
		{name: "missing + .5", incr: ".5", want: "0.5", after: opsState{"f", "0.5", -1}},
		{name: "missing + 5.", incr: "5.", want: "5", after: opsState{"f", "5", -1}},
		{name: "missing + -0", incr: "-0", want: "0", after: opsState{"f", "0", -1}},
		{name: "missing + 1e-17", incr: "1e-17", want: "0.00000000000000001", after: opsState{"f", "0.00000000000000001", -1}},
		{name: "missing + 5e-18", incr: "5e-18", want: "0", after: opsState{"f", "0", -1}},
		{name: "missing + -6e-18", incr: "-6e-18", want: "-0.00000000000000001", after: opsState{"f", "-0.00000000000000001", -1}},
		{name: "missing + 0.000003814697265625 (a tie, to even)", incr: "0.000003814697265625", want: "0.00000381469726562", after: opsState{"f", "0.00000381469726562", -1}},
		{name: "missing + 1e-4950 (subnormal)", incr: "1e-4950", want: "0", after: opsState{"f", "0", -1}},
		{name: "1e4932 - 1e4932", pre: []opsKV{{"f", "1e4932", 0}}, incr: "-1e4932", want: "0", after: opsState{"f", "0", -1}},
		{name: "10.5 - 10.5", pre: []opsKV{{"f", "10.5", 0}}, incr: "-10.5", want: "0", after: opsState{"f", "0", -1}},
		{name: "missing + inf", incr: "inf", wantErr: ErrNaNOrInf, after: opsState{"f", "", opsAbsent}},
		{name: "missing + -Infinity", incr: "-Infinity", wantErr: ErrNaNOrInf, after: opsState{"f", "", opsAbsent}},
		{name: "inf + 1", pre: []opsKV{{"f", "inf", 0}}, incr: "1", wantErr: ErrNaNOrInf, after: opsState{"f", "inf", -1}},
		{name: "1e4932 + 1e4932 overflows", pre: []opsKV{{"f", "1e4932", 0}}, incr: "1e4932", wantErr: ErrNaNOrInf, after: opsState{"f", "1e4932", -1}},
		{name: "1e4932 + 1.9e4931 overflows", pre: []opsKV{{"f", "1e4932", 0}}, incr: "1.9e4931", wantErr: ErrNaNOrInf, after: opsState{"f", "1e4932", -1}},
		{name: "abc + 1", pre: []opsKV{{"f", "abc", 100_000}}, incr: "1", wantErr: ErrNotFloat, after: opsState{"f", "abc", 100_000}},
		{name: "1 + abc", pre: []opsKV{{"f", "1", 0}}, incr: "abc", wantErr: ErrNotFloat, after: opsState{"f", "1", -1}},
		{name: "1.2e4932 (over the range) + 1", pre: []opsKV{{"f", "1.2e4932", 0}}, incr: "1", wantErr: ErrNotFloat, after: opsState{"f", "1.2e4932", -1}},
	}
	// What string2ld refuses (each checked against Redis 7.0.15).
	for _, v := range []string{
		"", " 1", "1 ", "\t1", "1\n", "1\x00", "\x001", "1.5\x00x", "nan", "-nan", "NaN(1)", "infinit", "1e5000", "1e-5000",
		"1.82259976594123730126e-4951", "1.18973149535723176508e+4932", "0x1p-16446", "0x1p16384", "0x1.ffffffffffffffffp16383",
		".", "-", "+", "1e", "1e+", "e5", "1.5p3", "0x", "0x.", "0xg", "0x1p", "1_0", "0b1", "0o7",
		"1e99999999999999999999", "1e-99999999999999999999999", strings.Repeat("1", 5120),
	} {
		cases = append(cases, struct {
			name    string
			pre     []opsKV
			advance int64
			incr    string
			want    string
			wantErr error
			after   opsState
		}{name: fmt.Sprintf("missing + %q", clipName(v)), incr: v, wantErr: ErrNotFloat, after: opsState{"f", "", opsAbsent}})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ks, now := newOpsKS(t, Options{})
			seedOps(t, ks, tc.pre)
			now.Add(tc.advance)
			got, err := ks.IncrByFloat(opsB("dst:"), opsB("f"), opsB(tc.incr))
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				assert.Equal(t, "dst:", string(got))
			} else {
				require.NoError(t, err)
				assert.Equal(t, "dst:"+tc.want, string(got))
			}
			checkOpsState(t, ks, []opsState{tc.after})
		})
	}
}

func clipName(s string) string {
	if len(s) > 40 {
		return fmt.Sprintf("%s...(%d bytes)", s[:20], len(s))
	}
	return s
}

// TestIncrByFloatAccepts: what string2ld takes beyond plain decimals, each
// checked against Redis 7.0.15 as INCRBYFLOAT of a missing key.
func TestIncrByFloatAccepts(t *testing.T) {
	for in, want := range map[string]string{
		"0X1P+2":                         "4",
		"0x.8":                           "0.5",
		"0x1.8p1":                        "3",
		"1E2":                            "100",
		"0.1e1":                          "1",
		"00012":                          "12",
		"+0":                             "0",
		"0e99999999999999999999":         "0",
		"0x0p99999999999":                "0",
		"1e0000000000000000000000000002": "100",
		strings.Repeat("1", 30):          "111111111111111111110991806464", // 64 significant bits
		"0x1.0000000000001p-16446":       "0",
		"0x1p-16445":                     "0",
		"1.82259976594123730127e-4951":   "0",
	} {
		ks, _ := newOpsKS(t, Options{})
		got, err := ks.IncrByFloat(nil, opsB("f"), opsB(in))
		if assert.NoError(t, err, "INCRBYFLOAT f %q", in) {
			assert.Equal(t, want, string(got), "INCRBYFLOAT f %q", in)
		}
	}
	// The longest string string2ld takes: 5119 bytes.
	ks, _ := newOpsKS(t, Options{})
	got, err := ks.IncrByFloat(nil, opsB("long"), opsB("1."+strings.Repeat("0", 5117)))
	require.NoError(t, err)
	assert.Equal(t, "1", string(got))
	_, err = ks.IncrByFloat(nil, opsB("long"), opsB("1."+strings.Repeat("0", 5118)))
	require.ErrorIs(t, err, ErrNotFloat)
	// The largest long double, and 1.7976931348623157e308 + 1e-17, print
	// in full: 4933 and 309+ digits.
	got, err = ks.IncrByFloat(nil, opsB("max"), opsB("0x1.fffffffffffffffep16383"))
	require.NoError(t, err)
	assert.Len(t, got, 4933)
	assert.True(t, strings.HasPrefix(string(got), "11897314953572317650"), "%.30s", got)
	require.NoError(t, ks.Set(opsB("d"), opsB("1.7976931348623157e308")))
	got, err = ks.IncrByFloat(nil, opsB("d"), opsB("1e-17"))
	require.NoError(t, err)
	assert.Len(t, got, 309)
	assert.True(t, strings.HasPrefix(string(got), "17976931348623156999592104677410443404838644694432917848531442076517662852312439"), "%.80s", got)
}

// TestIncrByFloatSteps: repeated small increments stay what Redis prints
// (long double, not float64: in float64 the third step is 10.79999...).
func TestIncrByFloatSteps(t *testing.T) {
	ks, _ := newOpsKS(t, Options{})
	require.NoError(t, ks.Set(opsB("f"), opsB("10.5")))
	for _, want := range []string{"10.6", "10.7", "10.8"} {
		got, err := ks.IncrByFloat(nil, opsB("f"), opsB("0.1"))
		require.NoError(t, err)
		require.Equal(t, want, string(got))
	}
	got, err := ks.IncrByFloat(nil, opsB("f"), opsB("-10.8"))
	require.NoError(t, err)
	require.Equal(t, "0", string(got))
}

// TestIncrByFloatLimits: the key and the result obey the size limits.
func TestIncrByFloatLimits(t *testing.T) {
	ks, _ := newOpsKS(t, Options{MaxValueSize: 10})
	_, err := ks.IncrByFloat(nil, opsB("f"), opsB("1e20"))
	var le *LimitError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, 21, le.Size)
	checkOpsState(t, ks, []opsState{{"f", "", opsAbsent}})
	_, err = ks.IncrByFloat(nil, make([]byte, DefaultMaxKeySize+1), opsB("1"))
	require.ErrorIs(t, err, ErrKeyTooLarge)
	ks.Close()
	_, err = ks.IncrByFloat(nil, opsB("f"), opsB("1"))
	require.True(t, errors.Is(err, ErrClosed))
	_, err = ks.SetRange(opsB("f"), 0, opsB("1"))
	require.ErrorIs(t, err, ErrClosed)
}

// TestIncrByFloatTinyIsCheap: a sum that rounds to 0 at 17 decimals is
// written "0" without big.Float's decimal conversion, which for 1e-4950
// took about 3 ms (under the shard lock) and allocated its thousands of
// digits; the shortcut answers as the conversion does on both sides of its
// bound.
func TestIncrByFloatTinyIsCheap(t *testing.T) {
	for _, s := range []string{"1e-4950", "-1e-4900", "1e-300", "3.4e-18"} {
		x, ok := parseLongDouble([]byte(s))
		if !ok {
			t.Fatalf("parse %s", s)
		}
		dst := make([]byte, 0, 8)
		if n := testing.AllocsPerRun(5, func() { dst = appendLongDouble(dst[:0], x) }); n != 0 {
			t.Errorf("%s: %.0f allocations", s, n)
		}
		if string(dst) != "0" {
			t.Errorf("%s printed %q", s, dst)
		}
	}
	slow := func(x *big.Float) string {
		b := []byte(x.Text('f', 17))
		b = bytes.TrimRight(b, "0")
		b = bytes.TrimSuffix(b, []byte("."))
		if string(b) == "-0" {
			b = b[1:]
		}
		return string(b)
	}
	for _, e := range []int{-61, -60, -59, -58, -57, -56} {
		for _, m := range []float64{0.5, 0.75, 0.9999999, -0.5, -0.9999999} {
			x := new(big.Float).SetPrec(ldoublePrec).SetMantExp(big.NewFloat(m), e)
			if got, want := string(appendLongDouble(nil, x)), slow(x); got != want {
				t.Errorf("%v: %q, want %q", x, got, want)
			}
		}
	}
}
