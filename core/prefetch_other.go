//go:build !amd64 && !arm64

package core

import "unsafe"

// prefetchLine does nothing on this architecture.
func prefetchLine(unsafe.Pointer) {}
