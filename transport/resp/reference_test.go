package resp

import "math"

// refDecode is an independent reference for the multibulk grammar the
// Decoder implements (Redis's processMultibulkBuffer, with every check made
// as soon as the bytes it needs are there): it decodes data, all of it fed
// at once, under lim (lim's fields must be set; no Restrict). It stops at
// the first command that does not start with '*' (an inline command, which
// it does not model) and reports inline = true; otherwise it returns the
// commands up to the end of data or up to the first error, as the Decoder
// must.
func refDecode(lim Limits, data []byte) (cmds [][]string, err error, inline bool) {
	i := 0
	// number parses the digits of a count or length at data[i:], up to and
	// including its CRLF; more = false when data ends first.
	number := func(allowNeg bool, max int64, bad error) (n int64, neg, more bool, err error) {
		if i < len(data) && data[i] == '-' && allowNeg {
			neg = true
			i++
		}
		ndig := 0
		for ; i < len(data) && data[i] >= '0' && data[i] <= '9'; i++ {
			if ndig > 0 && n == 0 {
				return 0, false, true, bad // leading zero
			}
			d := int64(data[i] - '0')
			if neg {
				if d == 0 && ndig == 0 {
					return 0, false, true, bad // -0
				}
				if n < (math.MinInt64+d)/10 {
					return 0, false, true, bad
				}
				n = n*10 - d
			} else if n = n*10 + d; n > max {
				return 0, false, true, bad
			}
			ndig++
		}
		if i == len(data) {
			return 0, false, false, nil
		}
		if data[i] != '\r' || ndig == 0 {
			return 0, false, true, bad
		}
		i++
		if i == len(data) {
			return 0, false, false, nil
		}
		if data[i] != '\n' {
			return 0, false, true, bad
		}
		i++
		return n, neg, true, nil
	}
	for i < len(data) {
		if data[i] != '*' {
			return cmds, nil, true
		}
		i++
		count, neg, more, err := number(true, int64(lim.MaxArray), ErrInvalidMultibulkLength)
		if err != nil || !more {
			return cmds, err, false
		}
		if neg || count == 0 {
			continue // Redis skips an empty or null multibulk
		}
		cmd := make([]string, 0, count)
		for ; count > 0; count-- {
			if i == len(data) {
				return cmds, nil, false
			}
			if data[i] != '$' {
				return cmds, expectedDollar(data[i]), false
			}
			i++
			n, _, more, err := number(false, int64(lim.MaxBulk), ErrInvalidBulkLength)
			if err != nil || !more {
				return cmds, err, false
			}
			if int64(len(data)-i) < n {
				return cmds, nil, false
			}
			cmd = append(cmd, string(data[i:i+int(n)]))
			i += int(n)
			for _, c := range []byte("\r\n") {
				if i == len(data) {
					return cmds, nil, false
				}
				if data[i] != c {
					return cmds, ErrInvalidBulkLength, false
				}
				i++
			}
		}
		cmds = append(cmds, cmd)
	}
	return cmds, nil, false
}
