package binproto

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
)

// decoded is a frame copied out of the decoder.
type decoded struct {
	H    Header
	Body string
}

// drain pulls every complete frame out of d, copying each.
func drain(d *Decoder, out []decoded) ([]decoded, error) {
	for {
		f, err := d.Next()
		if err != nil {
			return out, err
		}
		if f == nil {
			return out, nil
		}
		if int(f.Length) != len(f.Body) {
			panic(fmt.Sprintf("body %d bytes, header says %d", len(f.Body), f.Length))
		}
		out = append(out, decoded{f.Header, string(f.Body)})
	}
}

// decodeChunks feeds chunks one after another, each in a fresh buffer that
// is scribbled over once the decoder has released it.
func decodeChunks(lim Limits, chunks ...[]byte) ([]decoded, error) {
	d := NewDecoder(lim)
	var out []decoded
	for _, c := range chunks {
		buf := bytes.Clone(c)
		d.Feed(buf)
		var err error
		if out, err = drain(d, out); err != nil {
			return out, err
		}
		for i := range buf {
			buf[i] = 0xEE
		}
	}
	return out, nil
}

func split(b []byte, at ...int) [][]byte {
	var out [][]byte
	prev := 0
	for _, a := range at {
		out = append(out, b[prev:a])
		prev = a
	}
	return append(out, b[prev:])
}

func cat(frames ...[]byte) []byte { return bytes.Join(frames, nil) }

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

var (
	getK   = request(OpGet, 1, "k")
	setKV  = request(OpSet, 2, "key", "value", SetNX|ExpPX, 1500)
	mset   = request(OpMSet, 3, "a", "1", "b", "2")
	empty  = frame(OpPing, 0, 4, func(b []byte) []byte { return b })
	reply  = frame(OpGet, FlagReply, 1, func(b []byte) []byte { return AppendString(b, "v") })
	push   = frame(OpMessage, FlagPush, 0, func(b []byte) []byte { return AppendArrayHeader(b, 0) })
	hdrOf  = func(f []byte) Header { h, _ := ParseHeader(f); return h }
	bodyOf = func(f []byte) string { return string(f[HeaderSize:]) }
)

func dec(f []byte) decoded { return decoded{hdrOf(f), bodyOf(f)} }

var decodeCases = []struct {
	name string
	in   []byte
	want []decoded
	err  error
}{
	{name: "empty"},
	{name: "get", in: getK, want: []decoded{dec(getK)}},
	{name: "pipeline", in: cat(getK, setKV, mset, empty), want: []decoded{dec(getK), dec(setKV), dec(mset), dec(empty)}},
	{name: "reply-and-push", in: cat(reply, push), want: []decoded{dec(reply), dec(push)}},
	{name: "partial-header", in: getK[:5]},
	{name: "resp-input", in: []byte("GET k\r\n"), err: ErrBadMagic},
	{name: "partial-body", in: cat(getK, setKV[:20]), want: []decoded{dec(getK)}},
	{name: "bad-magic", in: cat(getK, []byte("*1\r\n$4\r\nPING\r\n")), want: []decoded{dec(getK)}, err: ErrBadMagic},
	{name: "bad-flags", in: mustHex("b1100010000000010000000000"), err: ErrBadFlags},
	{name: "bad-id", in: mustHex("b100001000000000000000000000"), err: ErrBadID},
	{name: "bad-opcode", in: mustHex("b1000000000000010000000000"), err: ErrBadOpcode},
	{name: "4GiB-frame", in: mustHex("b100001100000001ffffffff00000002"), err: ErrFrameTooLarge},
	{name: "max-frame-ok", in: mustHex("b10000110000000120100000"), err: nil},
	{name: "over-max-frame", in: mustHex("b10000110000000120100001"), err: ErrFrameTooLarge},
}

func TestDecoder(t *testing.T) {
	for _, c := range decodeCases {
		t.Run(c.name, func(t *testing.T) {
			check := func(how string, got []decoded, err error) {
				t.Helper()
				if !reflect.DeepEqual(got, c.want) || err != c.err {
					t.Fatalf("%s: got %v %v, want %v %v", how, got, err, c.want, c.err)
				}
			}
			got, err := decodeChunks(Limits{}, c.in)
			check("whole", got, err)
			for i := 0; i <= len(c.in); i++ {
				got, err := decodeChunks(Limits{}, split(c.in, i)...)
				check(fmt.Sprintf("split at %d", i), got, err)
				for j := i; j <= len(c.in); j++ {
					got, err := decodeChunks(Limits{}, split(c.in, i, j)...)
					check(fmt.Sprintf("split at %d,%d", i, j), got, err)
				}
			}
			var bytewise [][]byte
			for i := range c.in {
				bytewise = append(bytewise, c.in[i:i+1])
			}
			got, err = decodeChunks(Limits{}, bytewise...)
			check("bytewise", got, err)
		})
	}
}

func TestDecoderErrorIsSticky(t *testing.T) {
	d := NewDecoder(Limits{})
	d.Feed([]byte("GET k\r\n"))
	if _, err := d.Next(); err != ErrBadMagic {
		t.Fatal(err)
	}
	d.Feed(getK)
	if f, err := d.Next(); f != nil || err != ErrBadMagic {
		t.Fatal(f, err)
	}
	d.Reset()
	d.Feed(getK)
	if got, err := drain(d, nil); err != nil || len(got) != 1 {
		t.Fatal(got, err)
	}
}

func TestDecoderMaxFrame(t *testing.T) {
	big := request(OpSet, 1, "k", bytes.Repeat([]byte("v"), 100))
	if _, err := decodeChunks(Limits{MaxFrame: 100}, big); err != ErrFrameTooLarge {
		t.Fatal(err)
	}
	if got, err := decodeChunks(Limits{MaxFrame: int64(len(big) - HeaderSize)}, big); err != nil || len(got) != 1 {
		t.Fatal(got, err)
	}
	if NewDecoder(Limits{}).Limits().MaxFrame != DefaultMaxFrame {
		t.Fatal("default MaxFrame")
	}
}

// TestDecoderOversizedDeclarationsDoNotAllocate: a frame declaring a 4 GiB
// body, or a request declaring 2^32-1 arguments or a 4 GiB value, is
// refused before any memory is committed.
func TestDecoderOversizedDeclarationsDoNotAllocate(t *testing.T) {
	d := NewDecoder(Limits{})
	huge := mustHex("b100001100000001ffffffff")
	allocs := testing.AllocsPerRun(100, func() {
		d.Reset()
		d.Feed(huge)
		if _, err := d.Next(); err != ErrFrameTooLarge {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations", allocs)
	}
	// The same header split across reads.
	allocs = testing.AllocsPerRun(100, func() {
		d.Reset()
		d.Feed(huge[:3])
		d.Next()
		d.Feed(huge[3:])
		if _, err := d.Next(); err != ErrFrameTooLarge {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("split: %v allocations", allocs)
	}
	args := make([]Value, 0, 4)
	for _, body := range []string{"ffffffff00", "0000000101ffffffff"} {
		b := mustHex(body)
		allocs = testing.AllocsPerRun(100, func() {
			if _, err := ParseArgs(args, b, Limits{}); err == nil {
				t.Fatal("no error")
			}
		})
		if allocs != 0 {
			t.Fatalf("ParseArgs %s: %v allocations", body, allocs)
		}
	}
}

func TestDecoderBodyIsSubslice(t *testing.T) {
	in := cat(getK, setKV)
	d := NewDecoder(Limits{})
	d.Feed(in)
	f, err := d.Next()
	if err != nil || f == nil {
		t.Fatal(f, err)
	}
	if &f.Body[0] != &in[HeaderSize] || cap(f.Body) != len(f.Body) {
		t.Fatal("body is not a clipped sub-slice of the input")
	}
	// A header split from a body that then arrives whole: still no copy.
	d = NewDecoder(Limits{})
	d.Feed(setKV[:5])
	if f, _ := d.Next(); f != nil {
		t.Fatal("frame from half a header")
	}
	rest := bytes.Clone(setKV[5:])
	d.Feed(rest)
	f, err = d.Next()
	if err != nil || f == nil || &f.Body[0] != &rest[HeaderSize-5] {
		t.Fatal("body after a split header was copied", err)
	}
}

// batch returns n pipelined SET requests with 64-byte values.
func batch(n int) []byte {
	var b []byte
	val := bytes.Repeat([]byte("v"), 64)
	for i := range n {
		var m int
		b, m = BeginFrame(b, OpSet, 0, uint32(i+1))
		b = AppendArgCount(b, 2)
		b = AppendBytes(b, fmt.Appendf(nil, "key:%012d", i))
		b = AppendBytes(b, val)
		b, _ = EndFrame(b, m)
	}
	return b
}

func TestDecoderSteadyStateDoesNotAllocate(t *testing.T) {
	in := batch(100)
	d := NewDecoder(Limits{})
	var args []Value
	run := func(chunks [][]byte) func() {
		return func() {
			n := 0
			for _, c := range chunks {
				d.Feed(c)
				for {
					f, err := d.Next()
					if err != nil {
						t.Fatal(err)
					}
					if f == nil {
						break
					}
					if args, err = ParseArgs(args, f.Body, Limits{}); err != nil || len(args) != 2 {
						t.Fatal(args, err)
					}
					n++
				}
			}
			if n != 100 {
				t.Fatalf("decoded %d frames", n)
			}
		}
	}
	if a := testing.AllocsPerRun(100, run([][]byte{in})); a != 0 {
		t.Fatalf("whole: %v allocations per run", a)
	}
	chunks := split(in, 3, 50, 51, 1000, 4000, 4007, len(in)-1)
	if a := testing.AllocsPerRun(100, run(chunks)); a != 0 {
		t.Fatalf("split: %v allocations per run", a)
	}
	var r Reader
	body := reply[HeaderSize:]
	if a := testing.AllocsPerRun(100, func() {
		r.Reset(body)
		if _, err := r.Skip(); err != nil {
			t.Fatal(err)
		}
	}); a != 0 {
		t.Fatalf("Reader: %v allocations per run", a)
	}
}

func TestDecoderStashAndFeedBeforeDrained(t *testing.T) {
	in := batch(5)
	buf := bytes.Clone(in)
	d := NewDecoder(Limits{})
	d.Feed(buf)
	f, err := d.Next()
	if err != nil || f == nil || f.ID != 1 {
		t.Fatal(f, err)
	}
	body := string(f.Body)
	d.Stash()
	if string(f.Body) != body {
		t.Fatal("Stash invalidated the last frame")
	}
	if d.Buffered() != len(in)-HeaderSize-len(body) {
		t.Fatalf("Buffered %d", d.Buffered())
	}
	for i := range buf {
		buf[i] = 0
	}
	// Feed more before draining: both the stashed and the new input decode.
	d.Feed(getK[:7])
	d.Feed(getK[7:])
	got, err := drain(d, nil)
	if err != nil || len(got) != 5 || got[3].H.ID != 5 || got[4].H.Op != OpGet {
		t.Fatalf("%v %v", got, err)
	}
	if d.Buffered() != 0 {
		t.Fatalf("Buffered %d after draining", d.Buffered())
	}
	d.Feed(getK[:4])
	if f, _ := d.Next(); f != nil || d.Buffered() != 4 {
		t.Fatalf("partial header: Buffered %d", d.Buffered())
	}
}

func TestDecoderReleasesLargeScratch(t *testing.T) {
	big := request(OpSet, 1, "k", bytes.Repeat([]byte("x"), 1<<20))
	got, err := decodeChunks(Limits{}, split(big, 100, 5000, 300000)...)
	if err != nil || len(got) != 1 || len(got[0].Body) != len(big)-HeaderSize {
		t.Fatal(err)
	}
	d := NewDecoder(Limits{})
	for _, c := range split(big, 100, 5000, 300000) {
		d.Feed(c)
		if _, err := drain(d, nil); err != nil {
			t.Fatal(err)
		}
	}
	d.Feed(getK)
	if _, err := drain(d, nil); err != nil {
		t.Fatal(err)
	}
	if cap(d.pend) > retainScratch {
		t.Fatalf("pend keeps %d bytes", cap(d.pend))
	}
}

func TestGarbageNeverPanics(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	seeds := [][]byte{getK, setKV, mset, reply, push}
	lim := Limits{MaxFrame: 64, MaxValue: 16, MaxArray: 4}
	for range 20000 {
		var b []byte
		if r.IntN(2) == 0 {
			b = bytes.Clone(seeds[r.IntN(len(seeds))])
			for range 1 + r.IntN(3) {
				if len(b) > 0 {
					b[r.IntN(len(b))] = byte(r.Uint32())
				}
			}
		} else {
			b = make([]byte, r.IntN(48))
			for i := range b {
				b[i] = byte(r.Uint32())
			}
			if len(b) > 0 {
				b[0] = Magic
			}
		}
		whole, werr := decodeChunks(lim, b)
		cut := r.IntN(len(b) + 1)
		parts, perr := decodeChunks(lim, split(b, cut)...)
		if !reflect.DeepEqual(whole, parts) || werr != perr {
			t.Fatalf("%x cut %d: %v %v vs %v %v", b, cut, whole, werr, parts, perr)
		}
		for _, f := range whole {
			ParseArgs(nil, []byte(f.Body), lim)
			ValidateBody([]byte(f.Body), lim)
		}
	}
}

func BenchmarkDecoderPipeline(b *testing.B) {
	in := batch(16)
	d := NewDecoder(Limits{})
	var args []Value
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		d.Feed(in)
		for {
			f, err := d.Next()
			if err != nil {
				b.Fatal(err)
			}
			if f == nil {
				break
			}
			if args, err = ParseArgs(args, f.Body, Limits{}); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// A restricted decoder refuses a frame over UnauthMaxFrame as soon as its
// header is in, before any body byte; lifted, it accepts the same frame.
func TestDecoderRestrict(t *testing.T) {
	big := AppendHeader(nil, Header{Op: OpHello, ID: 1, Length: UnauthMaxFrame + 1})
	d := NewDecoder(Limits{})
	d.Restrict(true)
	d.Feed(big)
	if _, err := d.Next(); err != ErrUnauthFrameTooLarge {
		t.Fatalf("restricted: %v, want %v", err, ErrUnauthFrameTooLarge)
	}

	ok := AppendHeader(nil, Header{Op: OpHello, ID: 1, Length: UnauthMaxFrame})
	ok = append(ok, make([]byte, UnauthMaxFrame)...)
	d = NewDecoder(Limits{})
	d.Restrict(true)
	d.Feed(ok)
	if f, err := d.Next(); err != nil || f == nil {
		t.Fatalf("restricted, frame at the limit: %v %v", f, err)
	}

	d = NewDecoder(Limits{})
	d.Restrict(true)
	d.Restrict(false)
	d.Feed(append(big, make([]byte, UnauthMaxFrame+1)...))
	if f, err := d.Next(); err != nil || f == nil {
		t.Fatalf("lifted: %v %v", f, err)
	}
}
