package repl

import (
	"errors"
	"strconv"
	"strings"
)

// errUnbalanced reports a line with an unterminated quote.
var errUnbalanced = errors.New("unbalanced quotes")

// splitLine splits an input line into arguments with redis-cli's quoting:
// "double quotes" with \n, \r, \t, \b, \a, \", \\ and \xNN escapes,
// 'single quotes' taken literally (with \' for a quote).
func splitLine(line string) ([]string, error) {
	var args []string
	i := 0
	for {
		for i < len(line) && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r' || line[i] == '\n') {
			i++
		}
		if i >= len(line) {
			return args, nil
		}
		var sb strings.Builder
		switch line[i] {
		case '"':
			i++
			for {
				if i >= len(line) {
					return nil, errUnbalanced
				}
				c := line[i]
				if c == '"' {
					i++
					break
				}
				if c == '\\' && i+1 < len(line) {
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
					case 'x':
						if i+2 < len(line) {
							if v, err := strconv.ParseUint(line[i+1:i+3], 16, 8); err == nil {
								sb.WriteByte(byte(v))
								i += 2
								break
							}
						}
						sb.WriteByte('x')
					default:
						sb.WriteByte(e)
					}
					i++
					continue
				}
				sb.WriteByte(c)
				i++
			}
		case '\'':
			i++
			for {
				if i >= len(line) {
					return nil, errUnbalanced
				}
				c := line[i]
				if c == '\'' {
					i++
					break
				}
				if c == '\\' && i+1 < len(line) && line[i+1] == '\'' {
					sb.WriteByte('\'')
					i += 2
					continue
				}
				sb.WriteByte(c)
				i++
			}
		default:
			for i < len(line) && line[i] != ' ' && line[i] != '\t' && line[i] != '\r' && line[i] != '\n' {
				sb.WriteByte(line[i])
				i++
			}
		}
		if i < len(line) && line[i] != ' ' && line[i] != '\t' && line[i] != '\r' && line[i] != '\n' {
			return nil, errUnbalanced // closing quote followed by a character
		}
		args = append(args, sb.String())
	}
}
