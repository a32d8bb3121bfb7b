package fuzz

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ringdb/ringdb/server"
)

// FuzzServerAuth drives a real in-process server that requires a password
// (server.Config.AuthToken) with a fresh, unauthenticated connection per
// input, sending a random mix of AUTH (right and wrong passwords, one and
// two arguments), HELLO [ver] [AUTH user pass], CONFIG SET requirepass
// (from the client itself, and from an authenticated admin connection
// between pipelined segments), and ordinary commands whose sizes sit on
// both sides of the pre-authentication limits (10 elements, 16 KiB per
// bulk string), some pipelined and cut at random points.
//
// A model follows the password and whether the client authenticated, and
// checks every reply exactly: before authentication (while a password is
// set) only AUTH, HELLO and unknown-command / arity errors answer, anything
// else is NOAUTH; a request over the pre-auth limits is answered with the
// protocol error and the connection then closes; and a request within the
// limits (or any request once the limits are lifted) is never refused. The
// server must never panic, desynchronise, or close otherwise.
//
// Input layout: byte 0: bit 0 the transport, bits 1-2 how many cut bytes
// follow (each a cut position in 256ths of a segment). Then one opcode byte
// per command, followed by the bytes its generator reads (missing bytes
// read as 0).
func FuzzServerAuth(f *testing.F) {
	f.Add([]byte{0, 0, 5, 0, 6, 4, 7, 3})
	f.Add([]byte{1, 0, 7, 2, 0, 7, 2, 8, 5})
	f.Add([]byte{2, 128, 5, 2, 0, 0, 7, 4, 0, 8, 6, 0})
	f.Add([]byte{0, 14, 2, 6, 0, 7, 4, 8, 6, 5, 1})
	f.Add([]byte{1, 14, 3, 5, 3, 0, 7, 4})
	f.Fuzz(func(t *testing.T, data []byte) {
		auRunInput(t, data)
	})
}

const auToken0 = "pw0"

var auPasswords = []string{auToken0, "pw1", "", strings.Repeat("p", 16384), "x", strings.Repeat("q", 16385)}

// auSizes are value sizes around the pre-auth bulk limit (16384).
var auSizes = []int{0, 1, 100, 16383, 16384, 16385, 40000}

var auKeys = []string{"k1", "k2", "k3"}

type auTarget struct {
	kind  string
	once  sync.Once
	srv   *server.Server
	err   error
	admin net.Conn
	ar    *bufio.Reader
}

var (
	auMu      sync.Mutex
	auTargets = [2]*auTarget{{kind: server.TransportGnet}, {kind: server.TransportStd}}
)

func (tg *auTarget) start(t *testing.T) {
	tg.once.Do(func() { tg.srv, tg.err = startServer(tg.kind, auToken0) })
	if tg.err != nil {
		t.Fatalf("start %s server: %v", tg.kind, tg.err)
	}
	if tg.admin == nil {
		c, err := net.DialTimeout("tcp", tg.srv.Addr(), 5*time.Second)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		tg.admin, tg.ar = c, bufio.NewReader(c)
		// The admin authenticates with HELLO AUTH (any password is accepted
		// when none is set, the right one otherwise): it stays
		// authenticated for good whatever the password becomes.
		tg.adminDo(t, "+OK", "AUTH", "default", auToken0)
	}
}

// adminDo sends one command on the admin connection and expects a simple
// string reply.
func (tg *auTarget) adminDo(t *testing.T, want string, argv ...string) {
	_ = tg.admin.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := tg.admin.Write(svAppendCommand(nil, argv)); err != nil {
		tg.admin.Close()
		tg.admin = nil
		t.Fatalf("admin write: %v", err)
	}
	v, err := svParse(tg.ar, 2, 0)
	if err != nil || v.String() != want {
		tg.admin.Close()
		tg.admin = nil
		t.Fatalf("admin %q: got %s %v, want %s", argv, v.String(), err, want)
	}
}

// auState is the model.
type auState struct {
	token  string
	authed bool
	proto  int
	data   map[string]string
}

// restricted reports whether the next request is parsed under the pre-auth
// limits, and whether it is refused with NOAUTH.
func (st *auState) restricted() bool { return !st.authed && st.token != "" }

type auCmd struct {
	argv   []string
	inline bool
	// admin: not sent on the client connection; the admin connection sets
	// requirepass to argv[0] between segments.
	admin bool
	// expect checks the reply and updates the model. It runs in order,
	// with st as left by the previous commands.
	expect func(st *auState, v *svVal) error
}

func auWant(s string) func(st *auState, v *svVal) error {
	return func(st *auState, v *svVal) error {
		if v.String() != s {
			return fmt.Errorf("want %s", s)
		}
		return nil
	}
}

func auErrPrefix(p string) func(st *auState, v *svVal) error {
	return func(st *auState, v *svVal) error {
		if !v.isErr() || !strings.HasPrefix(v.s, p) {
			return fmt.Errorf("want an error starting with %q", p)
		}
		return nil
	}
}

var auNoAuth = auErrPrefix("NOAUTH ")

// gated wraps the check of a command that needs authentication.
func gated(ok func(st *auState, v *svVal) error) func(st *auState, v *svVal) error {
	return func(st *auState, v *svVal) error {
		if st.restricted() {
			return auNoAuth(st, v)
		}
		return ok(st, v)
	}
}

func auHelloOK(ver int) func(st *auState, v *svVal) error {
	return func(st *auState, v *svVal) error {
		if ver != 0 {
			st.proto = ver
		}
		if v.isErr() || len(v.elems) != 14 {
			return errors.New("want the HELLO map")
		}
		for i := 0; i+1 < len(v.elems); i += 2 {
			if v.elems[i].s == "proto" && v.elems[i+1].n != int64(st.proto) {
				return fmt.Errorf("want proto %d", st.proto)
			}
		}
		return nil
	}
}

func auPick[T any](in *svIn, list []T) T { return list[int(in.next())%len(list)] }

// auGen generates one command. last is the password the last CONFIG SET
// requirepass generated set (whether or not it ran): the likely password.
func auGen(in *svIn, last *string) auCmd {
	switch in.next() % 17 {
	case 0, 1: // AUTH <password>, AUTH <likely password>
		pw := auPick(in, auPasswords)
		if in.next()%2 == 0 {
			pw = *last
		}
		return auCmd{argv: []string{"AUTH", pw}, expect: func(st *auState, v *svVal) error {
			switch {
			case st.token == "":
				return auErrPrefix("ERR AUTH <password> called without any password configured")(st, v)
			case pw == st.token:
				st.authed = true
				return auWant("+OK")(st, v)
			}
			return auErrPrefix("WRONGPASS ")(st, v)
		}}
	case 2: // AUTH user password
		user := auPick(in, []string{"default", "default", "bob", "DEFAULT"})
		pw := auPick(in, auPasswords)
		return auCmd{argv: []string{"AUTH", user, pw}, expect: func(st *auState, v *svVal) error {
			if user == "default" && (st.token == "" || pw == st.token) {
				st.authed = true
				return auWant("+OK")(st, v)
			}
			return auErrPrefix("WRONGPASS ")(st, v)
		}}
	case 3: // HELLO [ver] [AUTH default pw]
		vers := []string{"", "2", "3", "4", "x"}
		ver := auPick(in, vers)
		argv := []string{"HELLO"}
		if ver != "" {
			argv = append(argv, ver)
		}
		withAuth := ver != "" && in.next()%2 == 0
		var pw string
		if withAuth {
			pw = auPick(in, append([]string{*last, *last}, auPasswords...))
			argv = append(argv, "AUTH", "default", pw)
		}
		return auCmd{argv: argv, expect: func(st *auState, v *svVal) error {
			switch ver {
			case "4":
				return auErrPrefix("NOPROTO ")(st, v)
			case "x":
				return auErrPrefix("ERR Protocol version is not an integer")(st, v)
			}
			n, _ := strconv.Atoi(ver)
			if withAuth {
				if pw != st.token && st.token != "" {
					return auErrPrefix("WRONGPASS ")(st, v)
				}
				st.authed = true
			}
			if st.restricted() {
				return auErrPrefix("NOAUTH HELLO must be called")(st, v)
			}
			return auHelloOK(n)(st, v)
		}}
	case 4: // CONFIG SET requirepass, from the client
		pw := auPick(in, auPasswords[:5])
		*last = pw
		return auCmd{argv: []string{"CONFIG", "SET", "requirepass", pw}, expect: gated(func(st *auState, v *svVal) error {
			st.token = pw
			return auWant("+OK")(st, v)
		})}
	case 5: // CONFIG SET requirepass, from the admin, between segments
		pw := auPick(in, auPasswords[:5])
		*last = pw
		return auCmd{argv: []string{pw}, admin: true}
	case 6: // GET
		k := auPick(in, auKeys)
		return auCmd{argv: []string{"GET", k}, expect: gated(func(st *auState, v *svVal) error {
			if want, ok := st.data[k]; ok {
				if !v.isBulk() || v.s != want {
					return fmt.Errorf("want the %d-byte value set", len(want))
				}
				return nil
			}
			if !v.null {
				return errors.New("want nil")
			}
			return nil
		})}
	case 7: // SET key value, value sized around the limit
		k := auPick(in, auKeys)
		val := strings.Repeat(string(rune('a'+in.next()%26)), auPick(in, auSizes))
		return auCmd{argv: []string{"SET", k, val}, expect: gated(func(st *auState, v *svVal) error {
			st.data[k] = val
			return auWant("+OK")(st, v)
		})}
	case 8: // MSET with 1 to 7 pairs: 3 to 15 elements
		n := 1 + int(in.next())%7
		argv := []string{"MSET"}
		for i := range n {
			argv = append(argv, auKeys[i%len(auKeys)], strconv.Itoa(i))
		}
		return auCmd{argv: argv, expect: gated(func(st *auState, v *svVal) error {
			for i := 1; i+1 < len(argv); i += 2 {
				st.data[argv[i]] = argv[i+1]
			}
			return auWant("+OK")(st, v)
		})}
	case 9: // ECHO sized around the limit
		m := strings.Repeat("e", auPick(in, auSizes))
		return auCmd{argv: []string{"ECHO", m}, expect: gated(func(st *auState, v *svVal) error {
			if !v.isBulk() || v.s != m {
				return fmt.Errorf("want the %d-byte echo", len(m))
			}
			return nil
		})}
	case 10:
		return auCmd{argv: []string{"PING"}, expect: gated(auWant("+PONG"))}
	case 11: // unknown command: answered as such before authentication
		return auCmd{argv: []string{"NOSUCHCMD", "a"}, expect: auErrPrefix("ERR unknown command")}
	case 12: // arity error: answered before authentication
		return auCmd{argv: []string{"GET", "a", "b"}, expect: auErrPrefix("ERR wrong number of arguments")}
	case 13: // unknown subcommand: answered before authentication
		return auCmd{argv: []string{"CONFIG", "BOGUS"}, expect: auErrPrefix("ERR unknown subcommand")}
	case 14: // inline command: not under the multibulk limits
		size := auPick(in, []int{0, 100, 16385, 30000})
		if size == 0 {
			return auCmd{argv: []string{"PING"}, inline: true, expect: gated(auWant("+PONG"))}
		}
		m := strings.Repeat("i", size)
		return auCmd{argv: []string{"ECHO", m}, inline: true, expect: gated(func(st *auState, v *svVal) error {
			if !v.isBulk() || v.s != m {
				return fmt.Errorf("want the %d-byte echo", len(m))
			}
			return nil
		})}
	case 15: // CONFIG GET requirepass
		return auCmd{argv: []string{"CONFIG", "GET", "requirepass"}, expect: gated(func(st *auState, v *svVal) error {
			if len(v.elems) != 2 || v.elems[1].s != st.token {
				return fmt.Errorf("want requirepass %q", clipStr(st.token))
			}
			return nil
		})}
	default: // DEL, many keys: 2 to 13 elements
		n := 1 + int(in.next())%12
		argv := []string{"DEL"}
		for i := range n {
			argv = append(argv, auKeys[i%len(auKeys)])
		}
		return auCmd{argv: argv, expect: gated(func(st *auState, v *svVal) error {
			n := 0
			for _, k := range argv[1:] {
				if _, ok := st.data[k]; ok {
					n++
					delete(st.data, k)
				}
			}
			return auWant(":"+strconv.Itoa(n))(st, v)
		})}
	}
}

func clipStr(s string) string {
	if len(s) > 20 {
		return s[:20] + "..." + strconv.Itoa(len(s))
	}
	return s
}

// overLimits returns the protocol error a restricted decoder gives c, or "".
func (c *auCmd) overLimits() string {
	if c.inline {
		return ""
	}
	if len(c.argv) > 10 {
		return "ERR Protocol error: unauthenticated multibulk length"
	}
	for _, a := range c.argv {
		if len(a) > 16384 {
			return "ERR Protocol error: unauthenticated bulk length"
		}
	}
	return ""
}

func auEncode(dst []byte, c *auCmd) []byte {
	if c.inline {
		dst = append(dst, strings.Join(c.argv, " ")...)
		return append(dst, '\r', '\n')
	}
	return svAppendCommand(dst, c.argv)
}

func auRunInput(t *testing.T, data []byte) {
	in := &svIn{b: data}
	mode := in.next()
	tg := auTargets[mode&1]
	var cuts []byte
	for range int(mode>>1) & 3 {
		cuts = append(cuts, in.next())
	}
	var cmds []auCmd
	last := auToken0
	for !in.done() && len(cmds) < 48 {
		cmds = append(cmds, auGen(in, &last))
	}

	auMu.Lock()
	defer auMu.Unlock()
	tg.start(t)
	tg.adminDo(t, "+OK", "CONFIG", "SET", "requirepass", auToken0)
	tg.adminDo(t, "+OK", "FLUSHALL")

	c, err := net.DialTimeout("tcp", tg.srv.Addr(), 5*time.Second)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReaderSize(c, 64<<10)
	st := &auState{token: auToken0, proto: 2, data: map[string]string{}}
	// One round trip first: the server opens the session (and decides
	// whether it is authenticated) when it accepts, which may come after
	// Dial returns.
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		t.Fatalf("write: %v", err)
	}
	if v, err := svParse(r, 2, 0); err != nil || v.String() != "-NOAUTH Authentication required." {
		t.Fatalf("%s server: first PING: %s %v", tg.kind, v.String(), err)
	}

	var log []string
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("%s server: %s\nsequence (cuts %v):\n  %s", tg.kind, fmt.Sprintf(format, args...), cuts, strings.Join(log, "\n  "))
	}
	desc := func(c *auCmd) string {
		parts := make([]string, len(c.argv))
		for i, a := range c.argv {
			parts[i] = strconv.Quote(clipStr(a))
		}
		s := strings.Join(parts, " ")
		if c.inline {
			s += " (inline)"
		}
		return s
	}

	// Segments: runs of client commands, separated by admin commands.
	// The final PING checks that the connection is alive and in sync.
	cmds = append(cmds, auCmd{argv: []string{"PING"}, expect: gated(auWant("+PONG"))})
	for i := 0; i < len(cmds); {
		if cmds[i].admin {
			pw := cmds[i].argv[0]
			tg.adminDo(t, "+OK", "CONFIG", "SET", "requirepass", pw)
			st.token = pw
			log = append(log, fmt.Sprintf("[admin] CONFIG SET requirepass %q", clipStr(pw)))
			i++
			continue
		}
		j := i
		var buf []byte
		for ; j < len(cmds) && !cmds[j].admin; j++ {
			buf = auEncode(buf, &cmds[j])
		}
		// Write the segment, cut as asked, while reading (so that large
		// segments cannot deadlock on full socket buffers).
		werr := make(chan error, 1)
		go func(buf []byte) {
			for _, cb := range cuts {
				if cut := int(cb) * len(buf) / 256; cut > 0 {
					if _, err := c.Write(buf[:cut]); err != nil {
						werr <- err
						return
					}
					buf = buf[cut:]
				}
			}
			_, err := c.Write(buf)
			werr <- err
		}(buf)
		for ; i < j; i++ {
			cmd := &cmds[i]
			if st.restricted() {
				if pe := cmd.overLimits(); pe != "" {
					v, err := svParse(r, st.proto, 0)
					if err != nil {
						fail("%s: want -%s, read: %v", desc(cmd), pe, err)
					}
					if !v.isErr() || v.s != pe {
						fail("%s: got %s, want -%s", desc(cmd), v.String(), pe)
					}
					log = append(log, desc(cmd)+" -> "+v.String())
					if svVerbose {
						t.Logf("%s server, cuts %v:\n  %s", tg.kind, cuts, strings.Join(log, "\n  "))
					}
					// The connection must close now, with nothing more.
					rest, err := io.ReadAll(r)
					if err != nil && !errors.Is(err, net.ErrClosed) && !strings.Contains(err.Error(), "reset") {
						fail("after the protocol error: %v (read %q)", err, rest)
					}
					if len(rest) > 0 {
						fail("after the protocol error: %q", rest)
					}
					<-werr
					return
				}
			}
			proto := st.proto
			if cmd.argv[0] == "HELLO" {
				proto = 0 // the reply speaks the version asked for
			}
			v, err := svParse(r, proto, 0)
			if err != nil {
				fail("%s: reply: %v (restricted=%v)", desc(cmd), err, st.restricted())
			}
			log = append(log, desc(cmd)+" -> "+clipStr(v.String()))
			if err := cmd.expect(st, &v); err != nil {
				fail("%s: got %s: %v (model: token %q authed %v)", desc(cmd), clipStr(v.String()), err, clipStr(st.token), st.authed)
			}
		}
		if err := <-werr; err != nil {
			fail("write: %v", err)
		}
	}
	if n := r.Buffered(); n > 0 {
		extra, _ := r.Peek(n)
		fail("%d bytes after the last reply: %q", n, extra)
	}
	if svVerbose {
		t.Logf("%s server, cuts %v:\n  %s", tg.kind, cuts, strings.Join(log, "\n  "))
	}
}
