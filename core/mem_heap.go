//go:build !linux || race

package core

import "sync/atomic"

func allocPage(size int) []byte { return make([]byte, size) }

func freePage([]byte) {}

func allocLargeBuf(n int) []byte {
	largeBufsMade.Add(1)
	return make([]byte, n)
}

func freeLarge([]byte) {}

func allocSlots(n int) ([]atomic.Uint64, []byte) { return make([]atomic.Uint64, n), nil }
