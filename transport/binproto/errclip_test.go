package binproto

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestErrorClippedAtCharacter: an error message past MaxErrorMessage is
// cut at the start of the UTF-8 character that crosses the limit, so it
// stays valid UTF-8, and the frame's length counts exactly the bytes
// sent (error replies and DISCONNECT pushes).
func TestErrorClippedAtCharacter(t *testing.T) {
	for _, tc := range []struct {
		msg  string
		want int // bytes of the clipped message
	}{
		{strings.Repeat("a", MaxErrorMessage), MaxErrorMessage},
		{strings.Repeat("a", MaxErrorMessage+1), MaxErrorMessage},
		{strings.Repeat("a", MaxErrorMessage-1) + "é", MaxErrorMessage - 1},            // 2 bytes across the limit
		{strings.Repeat("a", MaxErrorMessage-2) + "€x", MaxErrorMessage - 2},           // 3 bytes
		{strings.Repeat("a", MaxErrorMessage-1) + "😀", MaxErrorMessage - 1},            // 4 bytes
		{strings.Repeat("a", MaxErrorMessage-4) + "😀😀", MaxErrorMessage},               // ends on a boundary
		{strings.Repeat("\x80", MaxErrorMessage+8), MaxErrorMessage - utf8.UTFMax + 1}, // not UTF-8: at most 3 back
	} {
		for _, frame := range []struct {
			name string
			b    []byte
		}{
			{"reply", AppendErrorReply(nil, OpGet, 7, ClassErr, tc.msg)},
			{"disconnect", AppendDisconnect(nil, ClassProto, tc.msg)},
		} {
			h, err := ParseHeader(frame.b)
			if err != nil {
				t.Fatalf("%s: %v", frame.name, err)
			}
			body := frame.b[HeaderSize:]
			if int(h.Length) != len(body) {
				t.Fatalf("%s: header says %d bytes, body has %d", frame.name, h.Length, len(body))
			}
			r := NewReader(body, Limits{})
			v, err := r.Next()
			if err != nil || v.Kind != KindError {
				t.Fatalf("%s: %v %v", frame.name, v.Kind, err)
			}
			if len(v.Bytes) != tc.want || string(v.Bytes) != tc.msg[:tc.want] {
				t.Errorf("%s: message of %d bytes, want the first %d", frame.name, len(v.Bytes), tc.want)
			}
			if utf8.ValidString(tc.msg) && !utf8.Valid(v.Bytes) {
				t.Errorf("%s: clipped message is not UTF-8", frame.name)
			}
		}
	}
}
