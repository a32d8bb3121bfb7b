package server

import (
	"bytes"
	"math"
	"strconv"
	"strings"

	"github.com/ringdb/ringdb/core"
)

// parseInt parses an integer argument (see core.ParseInt).
func parseInt(b []byte) (int64, bool) { return core.ParseInt(b) }

// eqFold reports whether b equals the lower-case ASCII word s, ignoring
// case, without allocating. Like the strcasecmp Redis matches keywords
// with, it reads b only up to a NUL byte ("NX\x00junk" is NX).
func eqFold(b []byte, s string) bool {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

// parseMemory parses a memory size the way Redis's memtoull does ("100",
// "1k" = 1000, "1kb" = 1024, "3gb", ASCII case-insensitive; no sign or
// spaces; no digits at all, as in "" or "kb", is 0), also accepting "t",
// "tb" and the IEC forms "KiB", "MiB", "GiB" and "TiB" after digits. Sizes
// past int64 are refused (Redis takes them, wrapping).
func parseMemory(s string) (int64, bool) {
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i] // memtoull reads a C string
	}
	b := []byte(s)
	i := 0
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	digits, unit := s[:i], b[i:]
	mul, redisUnit := int64(0), true
	switch {
	case len(unit) == 0 || eqFold(unit, "b"):
		mul = 1
	case eqFold(unit, "k"):
		mul = 1e3
	case eqFold(unit, "kb"):
		mul = 1 << 10
	case eqFold(unit, "m"):
		mul = 1e6
	case eqFold(unit, "mb"):
		mul = 1 << 20
	case eqFold(unit, "g"):
		mul = 1e9
	case eqFold(unit, "gb"):
		mul = 1 << 30
	default:
		redisUnit = false
		for _, u := range []struct {
			name string
			mul  int64
		}{{"t", 1e12}, {"tb", 1 << 40}, {"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"tib", 1 << 40}} {
			if eqFold(unit, u.name) {
				mul = u.mul
			}
		}
	}
	switch {
	case mul == 0:
		return 0, false
	case digits == "":
		return 0, redisUnit // memtoull reads no digits as 0; ours need digits
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n > math.MaxInt64/mul {
		return 0, false
	}
	return n * mul, true
}

// formatMemory renders n bytes as Redis's *_human INFO fields do: "1.50M".
func formatMemory(n int64) string {
	const units = "BKMGTPE"
	f := float64(n)
	i := 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	if i == 0 {
		return strconv.FormatInt(n, 10) + "B"
	}
	return strconv.FormatFloat(f, 'f', 2, 64) + units[i:i+1]
}

// validName reports whether s may be a client name or library attribute:
// printable ASCII without spaces, as Redis requires.
func validName(b []byte) bool {
	for _, c := range b {
		if c < '!' || c > '~' {
			return false
		}
	}
	return true
}
