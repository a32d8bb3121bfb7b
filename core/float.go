package core

import (
	"math/big"
)

// INCRBYFLOAT computes in C's long double, which on the x86-64 Linux builds
// of Redis is the x87 80-bit extended format: a 64-bit significand and
// binary exponents down to -16382 (-16445 with subnormals) and up to 16383.
// Go has no such type, and float64 gives different digits for everyday
// inputs (10.5 + 0.1 is 10.59999999999999964 in float64 printed to 17
// decimals, 10.6 in long double), so ldouble emulates it with big.Float at
// 64 bits of precision: strtold's parsing and the x87 addition are both
// correctly rounded to nearest-even, as big.Float's conversion and Add
// are, so the results are bit for bit those of Redis's, subnormals aside
// (see parseLongDouble).

const (
	// ldoublePrec is the x87 extended significand width.
	ldoublePrec = 64
	// ldoubleMaxExp bounds big.Float's MantExp exponent (x = m × 2^e, with
	// 0.5 <= m < 1) of a finite long double: every one is below 2^16384.
	ldoubleMaxExp = 16384
	// ldoubleZeroExp: a value of at most 2^ldoubleZeroExp in magnitude
	// rounds to zero (half the smallest subnormal, 2^-16445; the tie goes
	// to the even zero).
	ldoubleZeroExp = -16446
	// ldoubleMaxChars is Redis's MAX_LONG_DOUBLE_CHARS: string2ld refuses
	// strings of this length or longer.
	ldoubleMaxChars = 5 * 1024
)

// expSaturate caps a parsed exponent: far past every finite long double
// either way, and safe to add to a digit count without overflow.
const expSaturate = 1 << 30

// parseLongDouble parses b as Redis's string2ld does: the whole of b,
// shorter than 5 KiB, must be what glibc's strtold reads as a number, with
// no leading space; a value that overflows to infinity, or underflows to
// zero from a non-zero digit string, or is NaN, is refused. "inf" and
// "infinity" (any case, with a sign) are accepted, as strtold reads them.
// Decimal ("1.5e3", ".5", "5.") and hexadecimal ("0x1.8p3") forms are
// both taken. It reports false for anything Redis would answer with
// "value is not a valid float".
//
// A value in the subnormal range keeps 64 significant bits here where the
// x87 format keeps fewer; the difference is below 10^-4900, and
// INCRBYFLOAT prints 17 decimals, so it never shows in a reply.
func parseLongDouble(b []byte) (*big.Float, bool) {
	if len(b) == 0 || len(b) >= ldoubleMaxChars {
		return nil, false
	}
	neg := false
	i := 0
	switch b[0] {
	case '-':
		neg = true
		i++
	case '+':
		i++
	}
	rest := b[i:]
	if isInfWord(rest) {
		f := new(big.Float).SetInf(neg)
		return f, true
	}
	var f *big.Float
	var ok bool
	if len(rest) > 2 && rest[0] == '0' && (rest[1] == 'x' || rest[1] == 'X') && hasHexMantissa(rest[2:]) {
		f, ok = parseHexFloat(rest[2:])
	} else {
		f, ok = parseDecFloat(rest)
	}
	if !ok {
		return nil, false
	}
	if neg {
		f.Neg(f)
	}
	return f, true
}

// isInfWord reports whether b is "inf" or "infinity" in any case.
func isInfWord(b []byte) bool {
	const word = "infinity"
	if len(b) != 3 && len(b) != len(word) {
		return false
	}
	for i, c := range b {
		if c|0x20 != word[i] {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func hexVal(c byte) (int, bool) {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0'), true
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10, true
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10, true
	}
	return 0, false
}

// hasHexMantissa reports whether b (what follows "0x") starts with a hex
// digit, or a point and a hex digit: otherwise strtold reads only the "0".
func hasHexMantissa(b []byte) bool {
	if len(b) > 0 && b[0] == '.' {
		b = b[1:]
	}
	if len(b) == 0 {
		return false
	}
	_, ok := hexVal(b[0])
	return ok
}

// scanExp parses the exponent digits after 'e' or 'p' (with an optional
// sign), saturating at expSaturate. It reports false unless b is exactly
// an exponent: strtold would stop before the 'e' and leave text over.
func scanExp(b []byte) (int64, bool) {
	neg := false
	if len(b) > 0 && (b[0] == '+' || b[0] == '-') {
		neg = b[0] == '-'
		b = b[1:]
	}
	if len(b) == 0 {
		return 0, false
	}
	var e int64
	for _, c := range b {
		if !isDigit(c) {
			return 0, false
		}
		if e < expSaturate {
			e = e*10 + int64(c-'0')
		}
	}
	e = min(e, expSaturate)
	if neg {
		e = -e
	}
	return e, true
}

// parseDecFloat parses digits [. digits] [e [sign] digits], at least one
// digit in the mantissa, into a long double.
func parseDecFloat(b []byte) (*big.Float, bool) {
	// Gather the significant digits (leading zeros dropped) and where the
	// decimal point falls among them.
	digits := make([]byte, 0, len(b))
	seen, point := false, false
	exp10 := int64(0) // value = int(digits) × 10^exp10
	i := 0
	for ; i < len(b); i++ {
		c := b[i]
		switch {
		case isDigit(c):
			seen = true
			if c == '0' && len(digits) == 0 {
				if point {
					exp10--
				}
				continue
			}
			digits = append(digits, c)
			if point {
				exp10--
			}
			continue
		case c == '.' && !point:
			point = true
			continue
		}
		break
	}
	if !seen {
		return nil, false
	}
	if i < len(b) {
		if b[i] != 'e' && b[i] != 'E' {
			return nil, false
		}
		e, ok := scanExp(b[i+1:])
		if !ok {
			return nil, false
		}
		exp10 += e
	}
	f := new(big.Float).SetPrec(ldoublePrec)
	if len(digits) == 0 {
		return f, true // zero, whatever the exponent
	}
	// lead is the decimal exponent of the first digit: the value is in
	// [10^lead, 10^(lead+1)).
	lead := exp10 + int64(len(digits)) - 1
	switch {
	case lead > 4933: // over 1e4933 > max long double (1.19e4932)
		return nil, false
	case lead < -4952: // under 1e-4951 < 2^-16446 (1.82e-4951)
		return nil, false
	}
	m, _ := new(big.Int).SetString(string(digits), 10)
	if exp10 >= 0 {
		m.Mul(m, new(big.Int).Exp(big.NewInt(10), big.NewInt(exp10), nil))
		f.SetInt(m)
	} else {
		d := new(big.Int).Exp(big.NewInt(10), big.NewInt(-exp10), nil)
		if lead < -4900 {
			// Near the bottom: rounds to zero iff m/d <= 2^-16446, that
			// is m × 2^16446 <= d, decided exactly.
			if new(big.Int).Lsh(m, -ldoubleZeroExp).Cmp(d) <= 0 {
				return nil, false
			}
		}
		f.Quo(new(big.Float).SetInt(m), new(big.Float).SetInt(d))
	}
	if f.MantExp(nil) > ldoubleMaxExp {
		return nil, false // rounds to infinity: strtold's ERANGE
	}
	return f, true
}

// parseHexFloat parses what follows "0x": hexdigits [. hexdigits]
// [p [sign] digits], the exponent binary, into a long double.
func parseHexFloat(b []byte) (*big.Float, bool) {
	digits := make([]byte, 0, len(b))
	point := false
	exp2 := int64(0) // value = int(digits, 16) × 2^exp2
	i := 0
	for ; i < len(b); i++ {
		c := b[i]
		if c == '.' && !point {
			point = true
			continue
		}
		if _, ok := hexVal(c); !ok {
			break
		}
		if c != '0' || len(digits) > 0 {
			digits = append(digits, c)
		}
		if point {
			exp2 -= 4
		}
	}
	if i < len(b) {
		if b[i] != 'p' && b[i] != 'P' {
			return nil, false
		}
		e, ok := scanExp(b[i+1:])
		if !ok {
			return nil, false
		}
		exp2 += e
	}
	f := new(big.Float).SetPrec(ldoublePrec)
	if len(digits) == 0 {
		return f, true
	}
	m, _ := new(big.Int).SetString(string(digits), 16)
	// m is in [2^(n-1), 2^n): the value is in [2^(n-1+exp2), 2^(n+exp2)).
	n := int64(m.BitLen())
	switch {
	case n+exp2 > ldoubleMaxExp+1:
		return nil, false
	case n+exp2 <= ldoubleZeroExp:
		return nil, false // below 2^-16446: zero
	case n-1+exp2 == ldoubleZeroExp && m.TrailingZeroBits() == uint(n-1):
		return nil, false // exactly 2^-16446: the tie goes to zero
	}
	f.SetInt(m)
	f.SetMantExp(f, int(exp2))
	if f.MantExp(nil) > ldoubleMaxExp {
		return nil, false // rounds to infinity: strtold's ERANGE
	}
	return f, true
}

// tinyExp bounds the values that print as 0 at 17 decimals: below
// 2^tinyExp (3.5e-18), under the 5e-18 that rounds up to 1e-17.
const tinyExp = -58

// appendLongDouble appends x as Redis's ld2string in LD_STR_HUMAN mode
// writes it: printf's "%.17Lf", then trailing zeros and a trailing point
// dropped, and "-0" written "0". x must be finite.
func appendLongDouble(dst []byte, x *big.Float) []byte {
	if x.Sign() != 0 && x.MantExp(nil) <= tinyExp {
		// Rounds to 0 at 17 decimals. Printed the long way, such a value
		// (1e-4950 is a valid operand) costs milliseconds under the
		// shard lock: big.Float's decimal conversion shifts all of its
		// thousands of digits.
		return append(dst, '0')
	}
	n := len(dst)
	dst = x.Append(dst, 'f', 17)
	s := dst[n:]
	for len(s) > 0 && s[len(s)-1] == '0' {
		s = s[:len(s)-1]
	}
	if len(s) > 0 && s[len(s)-1] == '.' {
		s = s[:len(s)-1]
	}
	if string(s) == "-0" {
		s[0] = '0'
		s = s[:1]
	}
	return dst[:n+len(s)]
}

// IncrByFloat adds incr to the number stored at key (0 when the key is
// missing), keeps the TTL, and appends the new value, as stored, to dst.
// It is Redis's INCRBYFLOAT: incr and the stored value are text that
// Redis's string2ld accepts (decimal or hexadecimal floating point, "inf"
// included, no spaces, shorter than 5 KiB), the sum is computed in the
// x87 80-bit long double of Redis's x86-64 builds, emulated exactly (see
// float.go), and written as Redis writes it: 17 decimals, then trailing
// zeros dropped ("10.6", "5200", "100000000000000000000" for 1e20; never
// an exponent).
//
// Either operand not a number gives ErrNotFloat; a sum that is infinite
// or NaN (an infinite operand included) gives ErrNaNOrInf. Neither writes
// anything.
//
// Known difference: Redis builds whose long double is not the x87 format
// (arm64 Linux has a 128-bit one) print other digits for some sums; this
// follows the x86-64 one. Numbers are parsed and added under the shard
// lock, with heap allocations (math/big): operands near the 5 KiB limit
// cost tens of microseconds there.
func (k *Keyspace) IncrByFloat(dst, key, incr []byte) ([]byte, error) {
	if err := k.checkKey(key); err != nil {
		return dst, err
	}
	inc, incValid := parseLongDouble(incr)
	s, h := k.shardFor(key)
	return retrying(k, func() ([]byte, error) {
		lock := k.lock
		if !incValid {
			lock = k.lockOnly // it writes nothing: no feeding
		}
		if err := lock(s); err != nil {
			return dst, err
		}
		defer s.mu.Unlock()
		pos, v, r, pg, ok, exp := s.find(h, key, k.clock)
		if exp {
			// Whatever the numbers: Redis looks the key up for the
			// write, which deletes it, before it parses them.
			s.reclaimExpired(pos, v)
		}
		if !incValid {
			return dst, ErrNotFloat
		}
		cur := new(big.Float)
		expireAt := noExpiry
		if ok {
			var valid bool
			if cur, valid = parseLongDouble(r.val); !valid {
				return dst, ErrNotFloat
			}
			expireAt = r.expireAt
		}
		if cur.IsInf() || inc.IsInf() {
			return dst, ErrNaNOrInf
		}
		sum := new(big.Float).SetPrec(ldoublePrec).Add(cur, inc)
		if sum.MantExp(nil) > ldoubleMaxExp {
			return dst, ErrNaNOrInf // the x87 sum overflows to infinity
		}
		nv := appendLongDouble(s.scratch[:0], sum)
		s.scratch = nv
		if len(nv) > k.maxVal {
			return dst, &LimitError{Kind: ErrValueTooLarge, Size: len(nv), Limit: k.maxVal}
		}
		if !ok || !s.tryOverwrite(v, &r, pg, nv, expireAt) {
			if err := s.put(h, key, nv, expireAt); err != nil {
				return dst, err
			}
		}
		return append(dst, nv...), nil
	})
}
