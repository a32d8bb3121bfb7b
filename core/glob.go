package core

// MatchGlob reports whether s matches the glob pattern as KEYS, SCAN MATCH
// and PSUBSCRIBE match it (Redis's stringmatchlen, case-sensitive); see
// matchGlob for the exact rules. It runs in O(len(pattern)·len(s)) time and
// never allocates.
func MatchGlob(pattern, s []byte) bool { return matchGlob(pattern, s) }

// matchGlob reports whether s matches the glob pattern, with the semantics of
// Redis's stringmatchlen (util.c, case-sensitive), as used by KEYS, SCAN MATCH
// and PSUBSCRIBE:
//
//   - '*' matches any run of bytes, '?' exactly one byte.
//   - "[abc]" matches one byte of the set, "[^abc]" one byte outside it,
//     "[a-z]" a range; a reversed range "[z-a]" is the same as "[a-z]".
//     Inside a class "\x" stands for x. An unterminated class runs to the end
//     of the pattern, and a ']' right after '[' or '[^' closes an empty class.
//   - "\x" matches x literally; a trailing '\' matches a '\'.
//   - Everything else matches itself, byte for byte: patterns and subjects are
//     binary safe.
//
// Redis quirks reproduced on purpose, so that a client sees the same answers
// as from Redis 7 on x86-64, where C's plain char is signed:
//
//   - Range bounds and the subject byte are compared as signed 8-bit values,
//     so "[a-\xff]" means [0xff..'a'] in signed order: it matches 0xff and
//     the ASCII bytes up to 'a', but not 'b' or 0x80.
//   - An empty subject matches only the empty pattern; even "*" does not
//     match it. (KEYS * and SCAN without MATCH special-case "*" before
//     calling the matcher; callers wanting that must do the same.)
//
// Unlike Redis, there is no nesting limit (Redis gives up and reports no match
// past 1000 nested stars): matching is iterative, remembers only the most
// recent star, and runs in O(len(pattern)·len(s)) time and constant space.
// It never allocates.
func matchGlob(pattern, s []byte) bool {
	if len(s) == 0 {
		return len(pattern) == 0
	}
	// Each token of the pattern other than '*' matches exactly one byte, and
	// how a token is parsed never depends on the subject. That makes the
	// classic algorithm exact: on a mismatch, let the most recent star
	// swallow one more byte and retry from just after it. Earlier stars never
	// need to be revisited, because anything they could absorb the latest star
	// can absorb too.
	p, i := 0, 0
	starP, starI := -1, 0
	for i < len(s) {
		if p < len(pattern) && pattern[p] == '*' {
			for p < len(pattern) && pattern[p] == '*' {
				p++
			}
			if p == len(pattern) {
				return true // trailing star swallows the rest
			}
			starP, starI = p, i
			continue
		}
		if p < len(pattern) {
			if ok, next := globMatchOne(pattern, p, s[i]); ok {
				p, i = next, i+1
				continue
			}
		}
		if starP < 0 {
			return false
		}
		starI++
		p, i = starP, starI
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// globMatchOne matches byte c against the single-byte token of pattern
// starting at p (which must not be '*'), and returns the offset just past
// the token.
func globMatchOne(pattern []byte, p int, c byte) (bool, int) {
	switch pattern[p] {
	case '?':
		return true, p + 1
	case '[':
		return globMatchClass(pattern, p+1, c)
	case '\\':
		if len(pattern)-p >= 2 {
			p++
		}
	}
	return pattern[p] == c, p + 1
}

// globMatchClass matches c against the class whose body starts at q (just
// past the '['). It mirrors the class loop of stringmatchlen step for step,
// including its reads of the terminating NUL that follows a Redis string.
func globMatchClass(pattern []byte, q int, c byte) (bool, int) {
	n := len(pattern)
	not := q < n && pattern[q] == '^'
	if not {
		q++
	}
	match := false
	for {
		switch {
		case n-q >= 2 && pattern[q] == '\\':
			q++
			if pattern[q] == c {
				match = true
			}
		case q < n && pattern[q] == ']':
			return match != not, q + 1
		case q >= n:
			// Unterminated: the class ends with the pattern.
			return match != not, n
		case n-q >= 3 && pattern[q+1] == '-':
			// Redis compares plain chars, which are signed on its
			// common platforms.
			lo, hi, b := int8(pattern[q]), int8(pattern[q+2]), int8(c)
			if lo > hi {
				lo, hi = hi, lo
			}
			q += 2
			if b >= lo && b <= hi {
				match = true
			}
		default:
			if pattern[q] == c {
				match = true
			}
		}
		q++
	}
}
