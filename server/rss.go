package server

import (
	"bytes"
	"os"
	"strconv"
)

// processRSS returns the process's resident memory in bytes, from
// /proc/self/statm (its second field, in pages), or fallback where that
// file cannot be read (systems other than Linux).
func processRSS(fallback int64) int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return fallback
	}
	f := bytes.Fields(b)
	if len(f) < 2 {
		return fallback
	}
	pages, err := strconv.ParseInt(string(f[1]), 10, 64)
	if err != nil {
		return fallback
	}
	return pages * int64(os.Getpagesize())
}
