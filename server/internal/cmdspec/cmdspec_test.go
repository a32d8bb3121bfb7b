package cmdspec

import (
	"bytes"
	"testing"
)

// TestCaptureRoundTrip: the capture parses, and writes back byte for
// byte, so what the server writes from it is what Redis sent.
func TestCaptureRoundTrip(t *testing.T) {
	v, rest, err := Parse(capture)
	if err != nil || len(rest) != 0 {
		t.Fatalf("Parse: %v, %d bytes left", err, len(rest))
	}
	if got := Append(nil, v); !bytes.Equal(got, capture) {
		t.Error("Append(Parse(capture)) differs from the capture")
	}
}

// TestKeys: key specifications are evaluated as Redis's
// getKeysUsingKeySpecs evaluates them.
func TestKeys(t *testing.T) {
	argv := func(s ...string) [][]byte {
		b := make([][]byte, len(s))
		for i, a := range s {
			b[i] = []byte(a)
		}
		return b
	}
	for _, tc := range []struct {
		name string
		argv [][]byte
		want []int
	}{
		{"mset", argv("mset", "a", "1", "b", "2"), []int{1, 3}},
		{"mset", argv("mset", "a", "1", "b"), []int{1, 3}},
		{"rename", argv("rename", "a", "b"), []int{1, 2}},
		{"del", argv("del", "a", "b", "c"), []int{1, 2, 3}},
		{"object|encoding", argv("object", "encoding", "k"), []int{2}},
		{"get", argv("get", "k"), []int{1}},
	} {
		keys, ok := Lookup(tc.name).Keys(tc.argv)
		var got []int
		for _, k := range keys {
			got = append(got, k.Pos)
		}
		if !ok || len(got) != len(tc.want) || (len(got) > 0 && got[len(got)-1] != tc.want[len(tc.want)-1]) {
			t.Errorf("%s %q: keys at %v (ok %v), want %v", tc.name, tc.argv, got, ok, tc.want)
		}
	}
}
