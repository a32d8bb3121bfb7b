package binproto

import (
	"bytes"
	"reflect"
	"testing"
)

// fuzzLimits are small so that the fuzzer reaches every limit check.
var fuzzLimits = Limits{MaxFrame: 1 << 12, MaxValue: 256, MaxArray: 16}

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

// reencode writes the values a Reader yields back out; for a well-formed
// body the result is the body itself.
func reencode(body []byte) ([]byte, error) {
	r := NewReader(body, fuzzLimits)
	var out []byte
	for r.Len() > 0 {
		v, err := r.Next()
		if err != nil {
			return nil, err
		}
		switch v.Kind {
		case KindNull:
			out = AppendNull(out)
		case KindOK:
			out = AppendOK(out)
		case KindInt:
			out = AppendInt(out, v.Int)
		case KindBytes:
			out = AppendBytes(out, v.Bytes)
		case KindArray:
			out = AppendArrayHeader(out, int(v.Int))
		case KindMap:
			out = AppendMapHeader(out, int(v.Int))
		case KindError:
			out = AppendError(out, v.Class, string(v.Bytes))
		}
	}
	return out, nil
}

// FuzzBinaryDecoder feeds data to the decoder whole, cut at points taken
// from cuts, and byte by byte, and checks that every way of feeding yields
// the same frames and the same error, and the frames (and ParseArgs's
// arguments and errors) an independent reference finds; that re-encoding
// the frames gives back
// the bytes they came from; and that parsing their bodies never panics and
// round-trips when it succeeds.
func FuzzBinaryDecoder(f *testing.F) {
	f.Add(request(OpGet, 1, "k"), []byte{5})
	f.Add(cat(request(OpSet, 2, "k", "v"), reply), []byte{12, 3})
	f.Fuzz(func(t *testing.T, data, cuts []byte) {
		whole, werr := decodeChunks(fuzzLimits, data)
		if ref, rerr := refFrames(fuzzLimits, data); !reflect.DeepEqual(whole, ref) || werr != rerr {
			t.Fatalf("decoder: %v %v\nreference: %v %v", whole, werr, ref, rerr)
		}
		parts, perr := decodeChunks(fuzzLimits, chunks(data, cuts)...)
		if !reflect.DeepEqual(whole, parts) || werr != perr {
			t.Fatalf("whole: %v %v\ncut %v: %v %v", whole, werr, cuts, parts, perr)
		}
		if len(data) <= 2048 {
			var bytewise [][]byte
			for i := range data {
				bytewise = append(bytewise, data[i:i+1])
			}
			bw, berr := decodeChunks(fuzzLimits, bytewise...)
			if !reflect.DeepEqual(whole, bw) || werr != berr {
				t.Fatalf("whole: %v %v\nbytewise: %v %v", whole, werr, bw, berr)
			}
		}
		var enc []byte
		for _, fr := range whole {
			enc = AppendHeader(enc, fr.H)
			enc = append(enc, fr.Body...)

			body := []byte(fr.Body)
			args, err := ParseArgs(nil, body, fuzzLimits)
			if ref, rerr := refArgs(body, fuzzLimits); err != rerr || (err == nil && !reflect.DeepEqual(args, ref)) {
				t.Fatalf("ParseArgs(%x): %v %v\nreference: %v %v", body, args, err, ref, rerr)
			}
			if err == nil {
				re := AppendArgCount(nil, len(args))
				for _, a := range args {
					switch a.Kind {
					case KindNull:
						re = AppendNull(re)
					case KindInt:
						re = AppendInt(re, a.Int)
					case KindBytes:
						re = AppendBytes(re, a.Bytes)
					default:
						t.Fatalf("ParseArgs returned a %v", a.Kind)
					}
				}
				if !bytes.Equal(re, body) {
					t.Fatalf("args round trip: %x -> %x", body, re)
				}
			}
			if ValidateBody(body, fuzzLimits) == nil {
				re, err := reencode(body)
				if err != nil || !bytes.Equal(re, body) {
					t.Fatalf("value round trip: %x -> %x %v", body, re, err)
				}
			}
		}
		if !bytes.HasPrefix(data, enc) {
			t.Fatalf("re-encoded frames %x are not a prefix of the input %x", enc, data)
		}
	})
}
