//go:build amd64 || arm64

package core

import "unsafe"

// Shards sit in an array and each must fill whole cache lines, so that no
// two shards share one. The padding at the end of shard makes it 512
// bytes where pointers are 8 bytes; this fails to compile when a field
// change breaks that. (On 32-bit platforms the struct is smaller and
// shards may share lines: correct, only slower.)
var _ [0]struct{} = [unsafe.Sizeof(shard{}) - 576]struct{}{}
