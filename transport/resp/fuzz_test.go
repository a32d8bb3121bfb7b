package resp

import (
	"bytes"
	"reflect"
	"testing"
)

// fuzzLimits are small so that the fuzzer reaches every limit check.
var fuzzLimits = Limits{MaxBulk: 1 << 12, MaxArray: 64, MaxInline: 256}

// chunks cuts data into pieces whose lengths are the successive bytes of
// cuts (zero-length pieces included); what is left is the last piece.
func chunks(data, cuts []byte) [][]byte {
	var out [][]byte
	for _, c := range cuts {
		n := min(int(c), len(data))
		out = append(out, data[:n])
		data = data[n:]
	}
	return append(out, data)
}

// FuzzRESPDecoder feeds data to the decoder whole, cut at points taken from
// cuts, and byte by byte, and checks that every way of feeding yields the
// same commands and the same error, that these agree with an independent
// reference for the multibulk grammar (refDecode), that nothing panics, and
// that a clean parse survives a re-encoding round trip.
func FuzzRESPDecoder(f *testing.F) {
	f.Add([]byte("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"), []byte{5, 9})
	f.Add([]byte("PING\r\nGET \"a b\"\r\n"), []byte{3})
	f.Fuzz(func(t *testing.T, data, cuts []byte) {
		whole, werr := decodeChunks(fuzzLimits, data)
		// The commands (and the error) agree with the reference grammar,
		// up to the first inline command, which it does not model.
		ref, rerr, inline := refDecode(fuzzLimits, data)
		if inline {
			if len(whole) < len(ref) || (len(ref) > 0 && !reflect.DeepEqual(whole[:len(ref)], ref)) {
				t.Fatalf("decoder: %q %v\nreference (up to an inline command): %q", whole, werr, ref)
			}
		} else if !reflect.DeepEqual(whole, ref) || !sameErr(werr, rerr) {
			t.Fatalf("decoder: %q %v\nreference: %q %v", whole, werr, ref, rerr)
		}
		parts, perr := decodeChunks(fuzzLimits, chunks(data, cuts)...)
		if !reflect.DeepEqual(whole, parts) || !sameErr(werr, perr) {
			t.Fatalf("whole: %q %v\ncut %v: %q %v", whole, werr, cuts, parts, perr)
		}
		if len(data) <= 2048 {
			var bytewise [][]byte
			for i := range data {
				bytewise = append(bytewise, data[i:i+1])
			}
			bw, berr := decodeChunks(fuzzLimits, bytewise...)
			if !reflect.DeepEqual(whole, bw) || !sameErr(werr, berr) {
				t.Fatalf("whole: %q %v\nbytewise: %q %v", whole, werr, bw, berr)
			}
		}
		// Peeking (which keeps what it parsed for Next) changes nothing Next
		// returns, however the input is cut and however often it peeks.
		for _, every := range []int{1, 3} {
			peekd, perr := decodePeeking(fuzzLimits, every, chunks(data, cuts)...)
			if !reflect.DeepEqual(whole, peekd) || !sameErr(werr, perr) {
				t.Fatalf("whole: %q %v\npeeking every %d, cut %v: %q %v", whole, werr, every, cuts, peekd, perr)
			}
		}
		// Peek reports the second arguments of a prefix of the commands
		// Next returns (those with at least two), and never panics.
		pd := NewDecoder(fuzzLimits)
		pd.Feed(data)
		peeked := pd.Peek(nil, len(data))
		var seconds []string
		for _, c := range whole {
			if len(c) >= 2 {
				seconds = append(seconds, c[1])
			}
		}
		if len(peeked) > len(seconds) {
			t.Fatalf("Peek found %d keys, Next only %d commands with one", len(peeked), len(seconds))
		}
		for i, p := range peeked {
			if string(p) != seconds[i] {
				t.Fatalf("Peek key %d = %q, Next's command has %q", i, p, seconds[i])
			}
		}
		if werr != nil {
			return
		}
		// Everything decoded re-encodes as multibulk and decodes the same.
		// (Default limits: an inline line may hold more arguments than
		// fuzzLimits.MaxArray.)
		var enc []byte
		for _, c := range whole {
			argv := make([][]byte, len(c))
			for i, a := range c {
				argv[i] = []byte(a)
			}
			enc = AppendCommand(enc, argv...)
		}
		again, err := decodeChunks(Limits{}, chunks(enc, cuts)...)
		if err != nil || !reflect.DeepEqual(again, whole) {
			t.Fatalf("re-encoded %q: got %q %v, want %q", enc, again, err, whole)
		}
	})
}

// decodePeeking is decodeChunks with Peek called after every Feed (at most
// max commands ahead, as a server does) and again after every Next that
// returns a command whose index is a multiple of every.
func decodePeeking(lim Limits, every int, chunks ...[]byte) ([][]string, error) {
	d := NewDecoder(lim)
	var cmds [][]string
	var keys [][]byte
	for _, c := range chunks {
		buf := bytes.Clone(c)
		d.Feed(buf)
		keys = d.Peek(keys[:0], 4)
		for {
			argv, err := d.Next()
			if err != nil {
				return cmds, err
			}
			if argv == nil {
				break
			}
			cmd := make([]string, len(argv))
			for i, a := range argv {
				cmd[i] = string(a)
			}
			cmds = append(cmds, cmd)
			if len(cmds)%every == 0 {
				keys = d.Peek(keys[:0], 2)
			}
		}
		for i := range buf {
			buf[i] = '#' // the decoder must not read it any more
		}
	}
	return cmds, nil
}
