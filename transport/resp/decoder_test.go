package resp

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// drain pulls every complete command out of d, copying each argv.
func drain(d *Decoder, cmds [][]string) ([][]string, error) {
	for {
		argv, err := d.Next()
		if err != nil {
			return cmds, err
		}
		if argv == nil {
			return cmds, nil
		}
		cmd := make([]string, len(argv))
		for i, a := range argv {
			cmd[i] = string(a)
		}
		cmds = append(cmds, cmd)
	}
}

// decodeChunks feeds chunks one after another, each in a fresh buffer that
// is scribbled over once the decoder has released it, and returns every
// command and the first error.
func decodeChunks(lim Limits, chunks ...[]byte) ([][]string, error) {
	d := NewDecoder(lim)
	var cmds [][]string
	for _, c := range chunks {
		buf := bytes.Clone(c)
		d.Feed(buf)
		var err error
		cmds, err = drain(d, cmds)
		if err != nil {
			return cmds, err
		}
		for i := range buf {
			buf[i] = '#' // the decoder must not read it any more
		}
	}
	return cmds, nil
}

// split cuts b at the given ascending offsets.
func split(b []byte, at ...int) [][]byte {
	var out [][]byte
	prev := 0
	for _, a := range at {
		out = append(out, b[prev:a])
		prev = a
	}
	return append(out, b[prev:])
}

func cmd(args ...string) []string { return args }

var decodeCases = []struct {
	name string
	in   string
	want [][]string
	err  error // nil, a sentinel, or a *ProtocolError compared by text
}{
	{name: "empty"},
	{name: "get", in: "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", want: [][]string{cmd("GET", "k")}},
	{name: "set", in: "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n", want: [][]string{cmd("SET", "key", "value")}},
	{name: "binary-bulk", in: "*2\r\n$4\r\nECHO\r\n$6\r\na\r\n\x00*$\r\n", want: [][]string{cmd("ECHO", "a\r\n\x00*$")}},
	{name: "empty-bulk", in: "*2\r\n$3\r\nGET\r\n$0\r\n\r\n", want: [][]string{cmd("GET", "")}},
	{name: "pipeline", in: "*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\na\r\nPING\r\n",
		want: [][]string{cmd("PING"), cmd("GET", "a"), cmd("PING")}},
	{name: "mset", in: "*5\r\n$4\r\nMSET\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n",
		want: [][]string{cmd("MSET", "a", "1", "b", "2")}},
	{name: "zero-array-skipped", in: "*0\r\n*1\r\n$4\r\nPING\r\n", want: [][]string{cmd("PING")}},
	{name: "neg-array-skipped", in: "*-1\r\n*1\r\n$4\r\nPING\r\n", want: [][]string{cmd("PING")}},
	{name: "incomplete", in: "*2\r\n$3\r\nGET\r\n$1\r\n"},
	{name: "incomplete-after-one", in: "*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPI", want: [][]string{cmd("PING")}},

	{name: "inline", in: "PING\r\n", want: [][]string{cmd("PING")}},
	{name: "inline-lf", in: "SET a b\n", want: [][]string{cmd("SET", "a", "b")}},
	{name: "inline-blanks", in: "  SET\t a   b  \r\n", want: [][]string{cmd("SET", "a", "b")}},
	{name: "inline-empty-lines", in: "\r\n\n  \r\nPING\r\n", want: [][]string{cmd("PING")}},
	{name: "inline-dquote", in: "SET \"a b\" \"x\\n\\r\\t\\b\\a\\\\\\\"\\x41\\q\"\r\n",
		want: [][]string{cmd("SET", "a b", "x\n\r\t\b\a\\\"Aq")}},
	{name: "inline-squote", in: "SET 'a \\' b' 'c\\n'\r\n", want: [][]string{cmd("SET", "a ' b", "c\\n")}},
	{name: "inline-empty-quotes", in: "SET k \"\"\r\n", want: [][]string{cmd("SET", "k", "")}},
	{name: "inline-quote-midtoken", in: "SET ab\"c d\"\r\n", want: [][]string{cmd("SET", "abc d")}},
	{name: "inline-bad-hex", in: "ECHO \"\\xZZ\"\r\n", want: [][]string{cmd("ECHO", "xZZ")}},
	{name: "inline-nul-ends", in: "ECHO a\x00b c\r\n", want: [][]string{cmd("ECHO", "a")}},
	{name: "inline-vtab-in-token", in: "ECHO a\vb\r\n", want: [][]string{cmd("ECHO", "a\vb")}},
	{name: "inline-then-multibulk", in: "PING\r\n*1\r\n$4\r\nPING\r\n", want: [][]string{cmd("PING"), cmd("PING")}},
	{name: "inline-unbalanced-d", in: "SET \"abc\r\n", err: ErrUnbalancedQuotes},
	{name: "inline-unbalanced-s", in: "SET 'abc\r\n", err: ErrUnbalancedQuotes},
	{name: "inline-quote-then-text", in: "SET \"a\"b\r\n", err: ErrUnbalancedQuotes},
	{name: "inline-squote-then-text", in: "SET 'a'b\r\n", err: ErrUnbalancedQuotes},
	{name: "inline-error-after-good", in: "PING\r\nSET \"x\r\n", want: [][]string{cmd("PING")}, err: ErrUnbalancedQuotes},

	{name: "count-garbage", in: "*x\r\n", err: ErrInvalidMultibulkLength},
	{name: "count-empty", in: "*\r\n", err: ErrInvalidMultibulkLength},
	{name: "count-leading-zero", in: "*01\r\n", err: ErrInvalidMultibulkLength},
	{name: "count-minus-zero", in: "*-0\r\n", err: ErrInvalidMultibulkLength},
	{name: "count-plus", in: "*+1\r\n", err: ErrInvalidMultibulkLength},
	{name: "count-no-lf", in: "*1\rx", err: ErrInvalidMultibulkLength},
	{name: "count-too-big", in: "*1048577\r\n", err: ErrInvalidMultibulkLength},
	{name: "count-2^32", in: "*4294967296\r\n", err: ErrInvalidMultibulkLength},
	{name: "count-huge", in: "*99999999999999999999999999\r\n", err: ErrInvalidMultibulkLength},
	{name: "count-neg-huge", in: "*-99999999999999999999999999\r\n", err: ErrInvalidMultibulkLength},
	{name: "count-max-ok", in: "*1048576\r\n$1\r\n"},
	{name: "expected-dollar", in: "*1\r\n:1\r\n", err: &ProtocolError{Msg: "Protocol error: expected '$', got ':'"}},
	{name: "expected-dollar-2nd", in: "*2\r\n$1\r\na\r\nb", want: nil, err: &ProtocolError{Msg: "Protocol error: expected '$', got 'b'"}},
	{name: "bulk-garbage", in: "*1\r\n$x\r\n", err: ErrInvalidBulkLength},
	{name: "bulk-negative", in: "*1\r\n$-1\r\n", err: ErrInvalidBulkLength},
	{name: "bulk-empty-len", in: "*1\r\n$\r\n", err: ErrInvalidBulkLength},
	{name: "bulk-leading-zero", in: "*1\r\n$01\r\na\r\n", err: ErrInvalidBulkLength},
	{name: "bulk-too-big", in: "*1\r\n$536870913\r\n", err: ErrInvalidBulkLength},
	{name: "bulk-4GiB", in: "*1\r\n$4294967296\r\n", err: ErrInvalidBulkLength},
	{name: "bulk-max-ok", in: "*1\r\n$536870912\r\nabc"},
	{name: "bulk-no-lf", in: "*1\r\n$1\rx", err: ErrInvalidBulkLength},
	{name: "bulk-short-data", in: "*1\r\n$1\r\nab\r\n", err: ErrInvalidBulkLength},
	{name: "bulk-no-crlf", in: "*1\r\n$1\r\na\rx", err: ErrInvalidBulkLength},
	{name: "error-after-good", in: "*1\r\n$4\r\nPING\r\n*1\r\n$y", want: [][]string{cmd("PING")}, err: ErrInvalidBulkLength},
}

func TestDecoder(t *testing.T) {
	for _, c := range decodeCases {
		t.Run(c.name, func(t *testing.T) {
			in := []byte(c.in)
			check := func(how string, cmds [][]string, err error) {
				t.Helper()
				if !reflect.DeepEqual(cmds, c.want) {
					t.Fatalf("%s: got %q, want %q", how, cmds, c.want)
				}
				if !sameErr(err, c.err) {
					t.Fatalf("%s: got error %v, want %v", how, err, c.err)
				}
			}
			cmds, err := decodeChunks(Limits{}, in)
			check("whole", cmds, err)
			for i := 0; i <= len(in); i++ {
				cmds, err := decodeChunks(Limits{}, split(in, i)...)
				check(fmt.Sprintf("split at %d", i), cmds, err)
			}
			for i := 0; i <= len(in); i++ {
				for j := i; j <= len(in); j++ {
					cmds, err := decodeChunks(Limits{}, split(in, i, j)...)
					check(fmt.Sprintf("split at %d,%d", i, j), cmds, err)
				}
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

func sameErr(got, want error) bool {
	if want == nil || got == nil {
		return got == want
	}
	if !errors.Is(got, ErrProtocol) {
		return false
	}
	return got.Error() == want.Error()
}

func TestDecoderErrorsAreSticky(t *testing.T) {
	d := NewDecoder(Limits{})
	d.Feed([]byte("*x\r\n"))
	if _, err := d.Next(); !errors.Is(err, ErrInvalidMultibulkLength) {
		t.Fatalf("got %v", err)
	}
	d.Feed([]byte("*1\r\n$4\r\nPING\r\n"))
	if argv, err := d.Next(); argv != nil || !errors.Is(err, ErrInvalidMultibulkLength) {
		t.Fatalf("after error: %q %v", argv, err)
	}
	d.Reset()
	d.Feed([]byte("*1\r\n$4\r\nPING\r\n"))
	if cmds, err := drain(d, nil); err != nil || len(cmds) != 1 {
		t.Fatalf("after Reset: %q %v", cmds, err)
	}
	if !errors.Is(ErrInlineTooBig, ErrProtocol) || !errors.Is(expectedDollar('x'), ErrProtocol) {
		t.Fatal("protocol errors must match ErrProtocol")
	}
}

func TestDecoderLimits(t *testing.T) {
	lim := Limits{MaxBulk: 5, MaxArray: 3, MaxInline: 10}
	cases := []struct {
		in  string
		n   int
		err error
	}{
		{"*3\r\n$5\r\nabcde\r\n$0\r\n\r\n$1\r\nx\r\n", 1, nil},
		{"*4\r\n", 0, ErrInvalidMultibulkLength},
		{"*1\r\n$6\r\n", 0, ErrInvalidBulkLength},
		{"0123456789\r\n", 0, ErrInlineTooBig}, // 11 bytes before LF: the CR counts
		{"012345678\r\n", 1, nil},              // 10 bytes before LF
		{"0123456789\n", 1, nil},
		{"0123456789A\n", 0, ErrInlineTooBig},
		{"0123456789A", 0, ErrInlineTooBig}, // known too long before the LF arrives
		{"0123456789", 0, nil},
	}
	for _, c := range cases {
		in := []byte(c.in)
		for i := 0; i <= len(in); i++ {
			cmds, err := decodeChunks(lim, split(in, i)...)
			if len(cmds) != c.n || err != c.err {
				t.Fatalf("%q split %d: got %d cmds, err %v; want %d, %v", c.in, i, len(cmds), err, c.n, c.err)
			}
		}
	}
	if got := NewDecoder(Limits{}).Limits(); got.MaxBulk != DefaultMaxBulk || got.MaxArray != DefaultMaxArray || got.MaxInline != DefaultMaxInline {
		t.Fatalf("defaults: %+v", got)
	}
}

// TestDecoderOversizedDeclarationsDoNotAllocate shows that declaring a huge
// bulk or array costs nothing: the error is found before any allocation.
func TestDecoderOversizedDeclarationsDoNotAllocate(t *testing.T) {
	for _, in := range []string{
		"*4294967296\r\n",
		"*1\r\n$4294967296\r\n",
		"*2\r\n$3\r\nSET\r\n$4294967296\r\n",
		"*9223372036854775807\r\n",
		"*1\r\n$99999999999999999999999\r\n",
	} {
		d := NewDecoder(Limits{})
		buf := []byte(in)
		allocs := testing.AllocsPerRun(100, func() {
			d.Reset()
			d.Feed(buf)
			if _, err := d.Next(); err == nil {
				t.Fatalf("%q: no error", in)
			}
		})
		if allocs != 0 {
			t.Fatalf("%q: %v allocations", in, allocs)
		}
	}
}

func TestDecoderArgsAreSubslices(t *testing.T) {
	buf := []byte("*2\r\n$3\r\nGET\r\n$3\r\nkey\r\nSET a b\r\n")
	d := NewDecoder(Limits{})
	d.Feed(buf)
	argv, err := d.Next()
	if err != nil || len(argv) != 2 {
		t.Fatal(argv, err)
	}
	if &argv[1][0] != &buf[17] {
		t.Fatal("multibulk argument is not a sub-slice of the input")
	}
	if cap(argv[0]) != 3 {
		t.Fatalf("argument capacity not clipped: %d", cap(argv[0]))
	}
	argv, err = d.Next()
	if err != nil || len(argv) != 3 {
		t.Fatal(argv, err)
	}
	if &argv[2][0] != &buf[len(buf)-3] {
		t.Fatal("inline argument is not a sub-slice of the input")
	}
}

// pipeline returns n SET commands with 64-byte values, as redis-benchmark
// sends them.
func pipeline(n int) []byte {
	var b []byte
	val := bytes.Repeat([]byte("v"), 64)
	for i := range n {
		b = AppendCommand(b, []byte("SET"), fmt.Appendf(nil, "key:%012d", i), val)
	}
	return b
}

func TestDecoderSteadyStateDoesNotAllocate(t *testing.T) {
	batch := append(pipeline(100), "PING\r\nSET \"quoted key\" v\r\n"...)
	d := NewDecoder(Limits{})
	run := func(chunks [][]byte, want int) func() {
		return func() {
			n := 0
			for _, c := range chunks {
				d.Feed(c)
				for {
					argv, err := d.Next()
					if err != nil {
						t.Fatal(err)
					}
					if argv == nil {
						break
					}
					n++
				}
			}
			if n != want {
				t.Fatalf("decoded %d commands, want %d", n, want)
			}
		}
	}
	if a := testing.AllocsPerRun(100, run([][]byte{batch}, 102)); a != 0 {
		t.Fatalf("whole batches: %v allocations per run", a)
	}
	// Reads that cut commands anywhere: the split path reuses its scratch.
	chunks := split(batch, 7, 100, 101, 1500, 4000, 4001, len(batch)-10)
	if a := testing.AllocsPerRun(100, run(chunks, 102)); a != 0 {
		t.Fatalf("split batches: %v allocations per run", a)
	}
}

func TestDecoderStash(t *testing.T) {
	in := pipeline(5)
	buf := bytes.Clone(in)
	d := NewDecoder(Limits{})
	d.Feed(buf)
	argv, err := d.Next()
	if err != nil || argv == nil {
		t.Fatal(argv, err)
	}
	first := string(argv[1])
	d.Stash()
	if string(argv[1]) != first {
		t.Fatal("Stash invalidated the last argv")
	}
	if d.Buffered() != len(in)-len(AppendCommand(nil, argv...)) {
		t.Fatalf("Buffered = %d", d.Buffered())
	}
	for i := range buf {
		buf[i] = 0
	}
	cmds, err := drain(d, nil)
	if err != nil || len(cmds) != 4 || cmds[3][1] != "key:000000000004" {
		t.Fatalf("after Stash: %q %v", cmds, err)
	}
}

func TestDecoderFeedBeforeDrained(t *testing.T) {
	in := pipeline(4)
	d := NewDecoder(Limits{})
	var got [][]string
	// Take one command per read, leaving the rest behind; then feed more.
	for _, c := range split(in, 10, 200, 201) {
		d.Feed(bytes.Clone(c))
		argv, err := d.Next()
		if err != nil {
			t.Fatal(err)
		}
		if argv != nil {
			got = append(got, []string{string(argv[0]), string(argv[1])})
		}
	}
	rest, err := drain(d, nil)
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, rest...)
	if len(got) != 4 || got[3][1] != "key:000000000003" {
		t.Fatalf("got %q", got)
	}
	if d.Buffered() != 0 {
		t.Fatalf("Buffered = %d after draining", d.Buffered())
	}
}

func TestDecoderReleasesLargeScratch(t *testing.T) {
	big := bytes.Repeat([]byte("x"), 1<<20)
	in := AppendCommand(nil, []byte("SET"), []byte("k"), big)
	d := NewDecoder(Limits{})
	cmds, err := func() ([][]string, error) {
		var cmds [][]string
		for _, c := range split(in, 100, 5000, 300000) {
			d.Feed(c)
			var err error
			if cmds, err = drain(d, cmds); err != nil {
				return nil, err
			}
		}
		return cmds, nil
	}()
	if err != nil || len(cmds) != 1 || cmds[0][2] != string(big) {
		t.Fatal("large split command not decoded", err)
	}
	if d.Buffered() != 0 {
		t.Fatalf("Buffered = %d", d.Buffered())
	}
	d.Feed([]byte("PING\r\n"))
	if _, err := drain(d, nil); err != nil {
		t.Fatal(err)
	}
	if cap(d.pend) > retainScratch {
		t.Fatalf("pend keeps %d bytes", cap(d.pend))
	}
}

func TestDecoderGarbageNeverPanics(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("*$\r\n0123456789-:+\"' \\xabAB\x00")
	for range 20000 {
		n := r.IntN(64)
		b := make([]byte, n)
		for i := range b {
			if r.IntN(2) == 0 {
				b[i] = alphabet[r.IntN(len(alphabet))]
			} else {
				b[i] = byte(r.Uint32())
			}
		}
		whole, werr := decodeChunks(Limits{MaxBulk: 16, MaxArray: 8, MaxInline: 32}, b)
		cut := r.IntN(n + 1)
		parts, perr := decodeChunks(Limits{MaxBulk: 16, MaxArray: 8, MaxInline: 32}, split(b, cut)...)
		if !reflect.DeepEqual(whole, parts) || !sameErr(werr, perr) {
			t.Fatalf("%q split at %d: %q %v vs %q %v", b, cut, whole, werr, parts, perr)
		}
	}
}

func TestDecoderRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		var in []byte
		var want [][]string
		for range 1 + r.IntN(5) {
			argv := make([][]byte, 1+r.IntN(4))
			strs := make([]string, len(argv))
			for i := range argv {
				argv[i] = make([]byte, r.IntN(20))
				for j := range argv[i] {
					argv[i][j] = byte(r.Uint32())
				}
				strs[i] = string(argv[i])
			}
			in = AppendCommand(in, argv...)
			want = append(want, strs)
		}
		got, err := decodeChunks(Limits{}, split(in, r.IntN(len(in)+1))...)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("round trip: got %q %v, want %q", got, err, want)
		}
	}
}

func BenchmarkDecoderPipeline(b *testing.B) {
	batch := pipeline(16)
	d := NewDecoder(Limits{})
	b.SetBytes(int64(len(batch)))
	b.ReportAllocs()
	for b.Loop() {
		d.Feed(batch)
		for {
			argv, err := d.Next()
			if err != nil {
				b.Fatal(err)
			}
			if argv == nil {
				break
			}
		}
	}
}

// BenchmarkDecoderPipelinePeeked decodes as a server does: Peek at the batch
// (to prefetch its keys), then Next every command.
func BenchmarkDecoderPipelinePeeked(b *testing.B) {
	batch := pipeline(16)
	d := NewDecoder(Limits{})
	keys := make([][]byte, 0, 32)
	b.SetBytes(int64(len(batch)))
	b.ReportAllocs()
	for b.Loop() {
		d.Feed(batch)
		keys = d.Peek(keys[:0], 32)
		for {
			argv, err := d.Next()
			if err != nil {
				b.Fatal(err)
			}
			if argv == nil {
				break
			}
		}
	}
}

func BenchmarkDecoderInline(b *testing.B) {
	batch := []byte(strings.Repeat("SET key:000000000001 \"some value\"\r\n", 16))
	d := NewDecoder(Limits{})
	b.SetBytes(int64(len(batch)))
	b.ReportAllocs()
	for b.Loop() {
		d.Feed(batch)
		for {
			argv, err := d.Next()
			if err != nil {
				b.Fatal(err)
			}
			if argv == nil {
				break
			}
		}
	}
}

// A restricted decoder refuses, with Redis's unauthenticated errors, what a
// client that has not authenticated may not send; over the configured limit
// the error stays the plain one; Restrict(false) lifts it.
func TestDecoderRestrict(t *testing.T) {
	for _, tc := range []struct {
		in       string
		want     error
		restrict bool
	}{
		{"*11\r\n", ErrUnauthMultibulkLength, true},
		{"*10\r\n", nil, true}, // incomplete, not refused
		{"*2\r\n$4\r\necho\r\n$16385\r\n", ErrUnauthBulkLength, true},
		{"*2\r\n$4\r\necho\r\n$16384\r\n", nil, true},
		{"*2000000\r\n", ErrInvalidMultibulkLength, true}, // over MaxArray too
		{"*2\r\n$4\r\necho\r\n$999999999999\r\n", ErrInvalidBulkLength, true},
		{"*11\r\n", nil, false},
		{"*2\r\n$4\r\necho\r\n$16385\r\n", nil, false},
	} {
		d := NewDecoder(Limits{})
		d.Restrict(tc.restrict)
		d.Feed([]byte(tc.in))
		_, err := d.Next()
		require.Equal(t, tc.want, err, "%q restricted=%v", tc.in, tc.restrict)
	}

	// Peek leaves a command over the restriction to Next, and lifting the
	// restriction lets the same input through.
	in := AppendCommand(nil, []byte("SET"), []byte("k"), bytes.Repeat([]byte("v"), UnauthMaxBulk+1))
	d := NewDecoder(Limits{})
	d.Restrict(true)
	d.Feed(in)
	require.Empty(t, d.Peek(nil, 8))
	d.Restrict(false)
	argv, err := d.Next()
	require.NoError(t, err)
	require.Len(t, argv, 3)

	// A restriction set after Peek drops what Peek parsed under the wider
	// limits.
	d = NewDecoder(Limits{})
	d.Feed(in)
	require.Len(t, d.Peek(nil, 8), 1)
	d.Restrict(true)
	_, err = d.Next()
	require.Equal(t, ErrUnauthBulkLength, err)
}
