package server

import (
	"math"
	"strconv"
	"strings"

	"github.com/ringdb/ringdb/core"
)

// parseInt parses an integer argument (see core.ParseInt).
func parseInt(b []byte) (int64, bool) { return core.ParseInt(b) }

// eqFold reports whether b equals the lower-case ASCII word s, ignoring
// case, without allocating.
func eqFold(b []byte, s string) bool {
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
// "1k" = 1000, "1kb" = 1024, "3gb", case-insensitive; no sign or spaces;
// no digits at all, as in "" or "kb", is 0), also accepting "t", "tb" and
// the IEC forms "KiB", "MiB", "GiB" and "TiB". Sizes past int64 are
// refused (Redis takes them, wrapping).
func parseMemory(s string) (int64, bool) {
	l := strings.ToLower(s)
	mul := int64(1)
	for _, u := range []struct {
		suffix string
		mul    int64
	}{
		{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"tib", 1 << 40},
		{"kb", 1 << 10}, {"mb", 1 << 20}, {"gb", 1 << 30}, {"tb", 1 << 40},
		{"k", 1e3}, {"m", 1e6}, {"g", 1e9}, {"t", 1e12}, {"b", 1},
	} {
		if strings.HasSuffix(l, u.suffix) {
			l, mul = l[:len(l)-len(u.suffix)], u.mul
			break
		}
	}
	if l == "" {
		return 0, true // memtoull: no digits reads as 0
	}
	for i := 0; i < len(l); i++ {
		if l[i] < '0' || l[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(l, 10, 64)
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
