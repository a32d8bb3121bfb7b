package repl

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/ringdb/ringdb/client"
)

// reply is a command's result, rendered in either of redis-cli's two
// output styles: write prints the standard (formatted) one, for a person
// at a terminal; appendRaw appends the raw one, for a script, without the
// newline that ends a reply.
type reply interface {
	write(w io.Writer, indent string)
	appendRaw(b []byte) []byte
}

type (
	okReply    struct{}
	nilReply   struct{}
	intReply   int64
	strReply   []byte
	arrReply   []reply
	statsReply map[string]int64
	textReply  string // printed verbatim, e.g. PONG
)

func (okReply) write(w io.Writer, _ string)    { fmt.Fprintln(w, "OK") }
func (nilReply) write(w io.Writer, _ string)   { fmt.Fprintln(w, "(nil)") }
func (r intReply) write(w io.Writer, _ string) { fmt.Fprintf(w, "(integer) %d\n", int64(r)) }
func (r strReply) write(w io.Writer, _ string) { fmt.Fprintln(w, quote(r)) }
func (r textReply) write(w io.Writer, _ string) {
	fmt.Fprintln(w, string(r))
}

// In raw mode, as redis-cli's: a string is its bytes unescaped, an
// integer its digits, nil nothing (an empty line), an array its elements
// one per line, nested arrays flattened and an empty one nothing.
func (okReply) appendRaw(b []byte) []byte     { return append(b, "OK"...) }
func (nilReply) appendRaw(b []byte) []byte    { return b }
func (r intReply) appendRaw(b []byte) []byte  { return strconv.AppendInt(b, int64(r), 10) }
func (r strReply) appendRaw(b []byte) []byte  { return append(b, r...) }
func (r textReply) appendRaw(b []byte) []byte { return append(b, r...) }

func (r arrReply) appendRaw(b []byte) []byte {
	for i, e := range r {
		if i > 0 {
			b = append(b, '\n')
		}
		b = e.appendRaw(b)
	}
	return b
}

func (r arrReply) write(w io.Writer, indent string) {
	if len(r) == 0 {
		fmt.Fprintln(w, "(empty array)")
		return
	}
	width := len(strconv.Itoa(len(r)))
	for i, e := range r {
		prefix := fmt.Sprintf("%*d) ", width, i+1)
		if i > 0 {
			fmt.Fprint(w, indent)
		}
		fmt.Fprint(w, prefix)
		e.write(w, indent+strings.Repeat(" ", len(prefix)))
	}
}

// statsOrder lists the documented STATS counters first; others follow
// sorted.
var statsOrder = []string{"keys", "used_bytes", "max_bytes", "hits", "misses", "sets", "deletes", "expired", "evicted"}

// STATS prints its table in both modes, as redis-cli prints INFO's text:
// one "name  value" line per counter.
func (r statsReply) write(w io.Writer, _ string) {
	w.Write(append(r.appendRaw(nil), '\n'))
}

func (r statsReply) appendRaw(b []byte) []byte {
	names := make([]string, 0, len(r))
	for k := range r {
		if !slices.Contains(statsOrder, k) {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	names = append(slices.DeleteFunc(slices.Clone(statsOrder), func(k string) bool {
		_, ok := r[k]
		return !ok
	}), names...)
	width := 0
	for _, k := range names {
		width = max(width, len(k))
	}
	for i, k := range names {
		if i > 0 {
			b = append(b, '\n')
		}
		b = fmt.Appendf(b, "%-*s  %d", width, k, r[k])
	}
	return b
}

// quote renders b as redis-cli does (sdscatrepr): in double quotes, with
// \n, \r, \t, \a and \b escapes and other non-printable bytes as \xNN.
func quote(b []byte) string {
	var sb strings.Builder
	sb.WriteByte('"')
	for _, c := range b {
		switch c {
		case '\\', '"':
			sb.WriteByte('\\')
			sb.WriteByte(c)
		case '\n':
			sb.WriteString(`\n`)
		case '\r':
			sb.WriteString(`\r`)
		case '\t':
			sb.WriteString(`\t`)
		case '\a':
			sb.WriteString(`\a`)
		case '\b':
			sb.WriteString(`\b`)
		default:
			if c < 0x20 || c >= 0x7f {
				fmt.Fprintf(&sb, `\x%02x`, c)
			} else {
				sb.WriteByte(c)
			}
		}
	}
	sb.WriteByte('"')
	return sb.String()
}

// errorText renders an error reply as "CLASS message" (the form raw mode
// prints; standard mode prefixes "(error) ").
func errorText(err error) string {
	var se *client.ServerError
	if errors.As(err, &se) {
		return se.Class.String() + " " + se.Msg
	}
	var ue usageError
	if errors.As(err, &ue) {
		return "ERR " + string(ue)
	}
	return err.Error()
}

// usageError is a command line the CLI rejects before sending it.
type usageError string

func (e usageError) Error() string { return string(e) }
