package resp

import (
	"fmt"
	"reflect"
	"testing"
)

// edgeCases are inputs whose outcome was checked against redis-server 7.0.15
// byte for byte (printf '...' | nc).
var edgeCases = []struct {
	name string
	in   string
	want [][]string
	err  error
}{
	// Redis parses a count with string2ll: any negative count that fits an
	// int64 skips the command, however many digits it has.
	{name: "count-neg-19-digits", in: "*-1000000000000000000\r\n*1\r\n$4\r\nPING\r\n", want: [][]string{cmd("PING")}},
	{name: "count-neg-int64-min", in: "*-9223372036854775808\r\n*1\r\n$4\r\nPING\r\n", want: [][]string{cmd("PING")}},
	{name: "count-neg-int64-min-minus-1", in: "*-9223372036854775809\r\n", err: ErrInvalidMultibulkLength},
	{name: "count-neg-20-digits", in: "*-10000000000000000000\r\n", err: ErrInvalidMultibulkLength},
	{name: "count-neg-leading-zero", in: "*-01\r\n", err: ErrInvalidMultibulkLength},
	{name: "count-19-digits", in: "*1000000000000000000\r\n", err: ErrInvalidMultibulkLength},
}

// TestDecoderEdgeCases decodes every edge case whole, cut at every byte and
// byte by byte, with and without peeking.
func TestDecoderEdgeCases(t *testing.T) {
	for _, c := range edgeCases {
		t.Run(c.name, func(t *testing.T) {
			in := []byte(c.in)
			check := func(how string, cmds [][]string, err error) {
				t.Helper()
				if !reflect.DeepEqual(cmds, c.want) || !sameErr(err, c.err) {
					t.Fatalf("%s: got %q, %v; want %q, %v", how, cmds, err, c.want, c.err)
				}
			}
			cmds, err := decodeChunks(Limits{}, in)
			check("whole", cmds, err)
			for i := 0; i <= len(in); i++ {
				cmds, err := decodeChunks(Limits{}, split(in, i)...)
				check(fmt.Sprintf("split at %d", i), cmds, err)
				cmds, err = decodePeeking(Limits{}, 1, split(in, i)...)
				check(fmt.Sprintf("peeking, split at %d", i), cmds, err)
			}
			var bytewise [][]byte
			for i := range in {
				bytewise = append(bytewise, in[i:i+1])
			}
			cmds, err = decodeChunks(Limits{}, bytewise...)
			check("bytewise", cmds, err)
		})
	}
}

// TestAppendDoubleLayout checks doubles against redis-server 7.0.15's
// ZSCORE replies (RESP2 bulk and RESP3 double): the digits are the
// shortest that read back (Redis 7.2's; 7.0 prints 17 significant digits,
// 1.0000000000000001e-05 for 1e-05), laid out as %.17g does, plain up to
// an exponent of 16.
func TestAppendDoubleLayout(t *testing.T) {
	for _, c := range []struct {
		f    float64
		want string
	}{
		{1e6, "1000000"},
		{123456789, "123456789"},
		{-4096.5, "-4096.5"},
		{1e16, "10000000000000000"},
		{1e17, "1e+17"},
		{1e20, "1e+20"},
		{1.5e300, "1.5e+300"},
		{12345.678, "12345.678"},
		{0.0001, "0.0001"},
		{1e-5, "1e-05"},
		{-2.5e-7, "-2.5e-07"},
		{1.5, "1.5"},
		{0, "0"},
		{5e-324, "5e-324"},
	} {
		want3 := "," + c.want + "\r\n"
		if got := string(AppendDouble(nil, RESP3, c.f)); got != want3 {
			t.Errorf("RESP3 %v: got %q, want %q", c.f, got, want3)
		}
		want2 := fmt.Sprintf("$%d\r\n%s\r\n", len(c.want), c.want)
		if got := string(AppendDouble([]byte("x"), RESP2, c.f)); got != "x"+want2 {
			t.Errorf("RESP2 %v: got %q, want %q", c.f, got, "x"+want2)
		}
	}
}

// TestRestrictedCountBeforeLF: Redis finds the count's line by its CR and
// refuses a count over the unauthenticated limit without looking at the
// byte after the CR, as the decoder already does for a bulk length; a
// broken LF after such a count is an unauthenticated multibulk length
// there, however the input is cut.
func TestRestrictedCountBeforeLF(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want error
	}{
		{"*11\rX", ErrUnauthMultibulkLength},
		{"*2\r\n$4\r\necho\r\n$16385\rX", ErrUnauthBulkLength}, // already so
		{"*10\rX", ErrInvalidMultibulkLength},
		{"*-11\rX", ErrInvalidMultibulkLength},
	} {
		in := []byte(tc.in)
		for i := 0; i <= len(in); i++ {
			d := NewDecoder(Limits{})
			d.Restrict(true)
			var err error
			for _, c := range split(in, i) {
				if d.Feed(c); err == nil {
					_, err = d.Next()
				}
			}
			if err != tc.want {
				t.Errorf("%q split at %d: got %v, want %v", tc.in, i, err, tc.want)
			}
		}
	}
}
