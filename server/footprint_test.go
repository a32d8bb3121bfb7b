package server

import (
	"testing"
	"unsafe"
)

// TestSessionFootprint: a session stays within the 352-byte size class.
// Past it, every connection's session takes the 384-byte class: 32 bytes
// more per idle client, where RSS per idle connection is held to Redis's
// (BENCHMARKS.md, "idle connections").
func TestSessionFootprint(t *testing.T) {
	if n := unsafe.Sizeof(session{}); n > 352 {
		t.Fatalf("session is %d bytes, over the 352-byte size class", n)
	}
}
