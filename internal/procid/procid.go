// Package procid tells which P (the Go scheduler's processor) the calling
// goroutine runs on, as a hint for per-P data such as reader slots.
//
// Callers read the id with Pin and release the P with Unpin at once:
//
//	p := procid.Pin()
//	procid.Unpin()
//
// The goroutine may move to another P right after, so the id is only a
// hint, fit where any answer is correct and the usual one is faster (a
// starting slot). The two are the runtime's own functions, linked
// directly, so that hot paths pay no call of ours around them.
package procid

import (
	_ "unsafe" // go:linkname
)

// Pin disables preemption and returns the id of the caller's P, in
// [0, GOMAXPROCS). Call Unpin right after.
//
//go:linkname Pin runtime.procPin
func Pin() int

// Unpin ends Pin.
//
//go:linkname Unpin runtime.procUnpin
func Unpin()
