package resp

// isSpace reports whether c is a C isspace character, as sdssplitargs uses.
func isSpace(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\v', '\f', '\r':
		return true
	}
	return false
}

// isHex reports whether c is a hexadecimal digit.
func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// hexVal returns the value of the hexadecimal digit c.
func hexVal(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// at returns line[k], or 0 past the end, mirroring the NUL terminator the C
// parser sees.
func at(line []byte, k int) byte {
	if k < len(line) {
		return line[k]
	}
	return 0
}

// splitArgs splits an inline command line into arguments exactly as Redis's
// sdssplitargs does: blanks separate arguments; "double quotes" support the
// escapes \n \r \t \b \a \xHH and \<any>; 'single quotes' support \'; a
// closing quote must be followed by a blank or the end of the line; a NUL
// byte ends the line. Unquoted arguments are sub-slices of line; quoted ones
// are unescaped into d.inl, which is sized up front so it never moves while
// the arguments are collected.
func (d *Decoder) splitArgs(line []byte) ([][]byte, error) {
	if cap(d.inl) < len(line) {
		d.inl = make([]byte, 0, len(line))
	}
	out := d.inl[:0]
	argv := d.argv[:0]
	p := 0
	for {
		for p < len(line) && isSpace(line[p]) {
			p++
		}
		if at(line, p) == 0 {
			break
		}
		inq, insq, done, plain := false, false, false, true
		tok, ostart, end := p, len(out), p
		for !done {
			c := at(line, p)
			switch {
			case inq:
				switch {
				case c == '\\' && at(line, p+1) == 'x' && isHex(at(line, p+2)) && isHex(at(line, p+3)):
					out = append(out, hexVal(line[p+2])<<4|hexVal(line[p+3]))
					p += 3
				case c == '\\' && at(line, p+1) != 0:
					p++
					switch e := line[p]; e {
					case 'n':
						out = append(out, '\n')
					case 'r':
						out = append(out, '\r')
					case 't':
						out = append(out, '\t')
					case 'b':
						out = append(out, '\b')
					case 'a':
						out = append(out, '\a')
					default:
						out = append(out, e)
					}
				case c == '"':
					if n := at(line, p+1); n != 0 && !isSpace(n) {
						return nil, ErrUnbalancedQuotes
					}
					done = true
				case c == 0:
					return nil, ErrUnbalancedQuotes
				default:
					out = append(out, c)
				}
			case insq:
				switch {
				case c == '\\' && at(line, p+1) == '\'':
					p++
					out = append(out, '\'')
				case c == '\'':
					if n := at(line, p+1); n != 0 && !isSpace(n) {
						return nil, ErrUnbalancedQuotes
					}
					done = true
				case c == 0:
					return nil, ErrUnbalancedQuotes
				default:
					out = append(out, c)
				}
			default:
				switch c {
				case ' ', '\n', '\r', '\t', 0:
					done, end = true, p
				case '"', '\'':
					out = append(out, line[tok:p]...)
					plain, inq, insq = false, c == '"', c == '\''
				default:
				}
			}
			if at(line, p) != 0 {
				p++
			}
		}
		if plain {
			argv = append(argv, line[tok:end:end])
		} else {
			argv = append(argv, out[ostart:len(out):len(out)])
		}
	}
	d.argv, d.inl = argv, out
	d.shrink = d.shrink || cap(argv) > retainArgs
	return argv, nil
}
