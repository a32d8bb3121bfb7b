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

// reply is a command's result, rendered the way redis-cli renders it.
type reply interface {
	write(w io.Writer, indent string)
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

func (r statsReply) write(w io.Writer, _ string) {
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
	for _, k := range names {
		fmt.Fprintf(w, "%-*s  %d\n", width, k, r[k])
	}
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

// errorText renders an error reply as "(error) CLASS message".
func errorText(err error) string {
	var se *client.ServerError
	if errors.As(err, &se) {
		return "(error) " + se.Class.String() + " " + se.Msg
	}
	var ue usageError
	if errors.As(err, &ue) {
		return "(error) ERR " + string(ue)
	}
	return "(error) " + err.Error()
}

// usageError is a command line the CLI rejects before sending it.
type usageError string

func (e usageError) Error() string { return string(e) }
