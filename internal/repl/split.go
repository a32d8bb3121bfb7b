package repl

import (
	"errors"
	"strings"
)

// errUnbalanced reports a line with an unterminated quote, or a closing
// quote followed by something other than a blank.
var errUnbalanced = errors.New("unbalanced quotes")

// splitLine splits an input line into arguments as redis-cli does (its
// sdssplitargs): "double quotes" with \n, \r, \t, \b, \a and \xNN escapes
// (any other escaped character stands for itself), 'single quotes' taken
// literally but for \'. A quote may open in the middle of a word
// (ab"c d" is one argument, abc d); a closing quote must end the argument.
func splitLine(line string) ([]string, error) {
	var args []string
	i := 0
	for {
		for i < len(line) && isBlank(line[i]) {
			i++
		}
		if i >= len(line) {
			return args, nil
		}
		var sb strings.Builder
		for done := false; !done; {
			switch {
			case i >= len(line) || endsWord(line[i]):
				done = true
			case line[i] == '"':
				end, err := doubleQuoted(line, i+1, &sb)
				if err != nil {
					return nil, err
				}
				i, done = end, true
			case line[i] == '\'':
				end, err := singleQuoted(line, i+1, &sb)
				if err != nil {
					return nil, err
				}
				i, done = end, true
			default:
				sb.WriteByte(line[i])
				i++
			}
		}
		args = append(args, sb.String())
	}
}

// isBlank reports whether c is skipped before an argument, and may
// follow a closing quote (C's isspace).
func isBlank(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// endsWord reports whether c ends an unquoted argument: sdssplitargs
// stops a word at a space, tab, CR or LF only, so a \v or \f inside one
// is part of it (they are skipped only before an argument).
func endsWord(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r'
}

// closeQuote checks that the quote closing at i ends the argument and
// returns the index after it.
func closeQuote(line string, i int) (int, error) {
	if i+1 < len(line) && !isBlank(line[i+1]) {
		return 0, errUnbalanced
	}
	return i + 1, nil
}

// doubleQuoted reads a double-quoted section starting after its opening
// quote at i into sb, and returns the index after the closing quote.
func doubleQuoted(line string, i int, sb *strings.Builder) (int, error) {
	for ; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\\' && i+3 < len(line) && line[i+1] == 'x' && isHex(line[i+2]) && isHex(line[i+3]):
			sb.WriteByte(unhex(line[i+2])<<4 | unhex(line[i+3]))
			i += 3
		case c == '\\' && i+1 < len(line):
			i++
			switch e := line[i]; e {
			case 'n':
				sb.WriteByte('\n')
			case 'r':
				sb.WriteByte('\r')
			case 't':
				sb.WriteByte('\t')
			case 'b':
				sb.WriteByte('\b')
			case 'a':
				sb.WriteByte('\a')
			default:
				sb.WriteByte(e)
			}
		case c == '"':
			return closeQuote(line, i)
		default:
			sb.WriteByte(c)
		}
	}
	return 0, errUnbalanced
}

// singleQuoted is doubleQuoted for 'single quotes'.
func singleQuoted(line string, i int, sb *strings.Builder) (int, error) {
	for ; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\\' && i+1 < len(line) && line[i+1] == '\'':
			sb.WriteByte('\'')
			i++
		case c == '\'':
			return closeQuote(line, i)
		default:
			sb.WriteByte(c)
		}
	}
	return 0, errUnbalanced
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}
