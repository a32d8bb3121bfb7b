package transport

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringdb/ringdb/transport/binproto"
)

// Test-only binary opcodes, in the "future use" range.
const (
	opBlock binproto.Opcode = 0x0100 // INT ms, BYTES reply: parked, completed after ms
	opPush  binproto.Opcode = 0x0101 // INT n: OK, then n MESSAGE pushes from another goroutine
	opBig   binproto.Opcode = 0x0102 // INT n [INT k]: n zero bytes (with k, an array of k of them)
	opQuit  binproto.Opcode = 0x0103 // OK, then Close
	// INT ms, BYTES reply: postponed, served again after ms, then answers reply
	opPostpone binproto.Opcode = 0x0104
	opBigRef   binproto.Opcode = 0x0105 // INT n [INT k]: n pattern bytes, by reference (BIGREF; with k, BIGREFS)
)

// testHandler is a small Handler: PING, ECHO, SET, GET over a map, plus
// test commands that park (BLOCK), postpone (POSTPONE), push (PUSH), write
// big replies (BIG) and close (QUIT). The same commands exist as binary
// opcodes, but for two RESP only: NOIDLE, which exempts the connection
// from the idle timeout, and SLEEP, which keeps the connection's
// processing busy (a handler must not block, but a test may need it busy).
type testHandler struct {
	mu   sync.Mutex
	data map[string][]byte
	big  []byte

	opened, closed atomic.Int64
	parks          atomic.Int64                   // requests BLOCK has parked
	bigs           atomic.Int64                   // BIG requests served
	bigsAtPing     atomic.Int64                   // bigs when PING (RESP) was last served
	onBig          atomic.Pointer[func(k int64)]  // called with bigs as each BIG request is served
	bigHeld        atomic.Int64                   // most output a connection held (pending, and its batch's) as a RESP BIG was served
	postpones      atomic.Int64                   // requests POSTPONE has postponed
	sleeps         atomic.Int64                   // SLEEP requests begun
	retried        sync.Map                       // *Conn: its POSTPONE is being served again
	rejectOpen     atomic.Pointer[binproto.Error] // Open fails with it when set
	lent, released atomic.Int64                   // values BIGREF lent, and released
	badRelease     atomic.Int64                   // releases of a value released already

	connMu sync.Mutex
	conns  []*Conn // every opened connection
}

func newTestHandler() *testHandler {
	return &testHandler{data: make(map[string][]byte), big: make([]byte, 4<<20)}
}

func (h *testHandler) Open(c *Conn) error {
	if err := h.rejectOpen.Load(); err != nil {
		return err
	}
	h.opened.Add(1)
	h.connMu.Lock()
	h.conns = append(h.conns, c)
	h.connMu.Unlock()
	return nil
}

func (h *testHandler) Close(*Conn) { h.closed.Add(1) }

func (h *testHandler) set(k, v []byte) {
	h.mu.Lock()
	h.data[string(k)] = append([]byte(nil), v...)
	h.mu.Unlock()
}

// get writes the value of k, or a null.
func (h *testHandler) get(w *Writer, k []byte) {
	h.mu.Lock()
	v, ok := h.data[string(k)]
	h.mu.Unlock()
	if !ok {
		w.Null()
		return
	}
	w.Bulk(v)
}

// refPeriod is the period of the bytes BIGREF writes: a prime, so that a
// part of the value written at the wrong offset (by any power-of-two
// piece size) shows.
const refPeriod = 65521

// refValue returns what BIGREF n writes.
func refValue(n int) []byte {
	b := make([]byte, n)
	for i := range min(n, refPeriod) {
		b[i] = byte(i*31 + i>>12)
	}
	for k := refPeriod; k < n; k *= 2 {
		copy(b[k:], b[:k])
	}
	return b
}

// testRef is a value lent to a Writer. Its Release poisons the value, so
// that a transport writing any of it after the release sends bytes the
// client sees are wrong.
type testRef struct {
	h    *testHandler
	v    []byte
	done atomic.Bool
}

func (r *testRef) Release() {
	if r.done.Swap(true) {
		r.h.badRelease.Add(1)
		return
	}
	poison(r.v)
	r.h.released.Add(1)
}

// poison sets every byte of v to 0xEE by doubling copies: under -race a
// loop storing a byte at a time took 0.6 s for a 64 MiB value (each store
// instrumented), over 10 s on a loaded 2-core host, which ran tests
// waiting for the release out of time; a copy is checked as one range.
func poison(v []byte) {
	if len(v) == 0 {
		return
	}
	v[0] = 0xEE
	for k := 1; k < len(v); k *= 2 {
		copy(v[k:], v[:k])
	}
}

// bigRef writes refValue(n) by reference.
func (h *testHandler) bigRef(w *Writer, n int) {
	h.lent.Add(1)
	v := refValue(max(n, 0))
	w.BulkRef(v, &testRef{h: h, v: v})
}

// bigArray writes an array of k values of n zero bytes (BIG n k).
func (h *testHandler) bigArray(w *Writer, n, k int) {
	w.Array(k)
	for range k {
		w.Bulk(h.big[:min(n, len(h.big))])
	}
}

// bigRefs writes an array of k pairs: refValue(n) by reference, then its
// index (BIGREFS n k), so that k values by reference in one reply each
// have output after them.
func (h *testHandler) bigRefs(w *Writer, n, k int) {
	w.Array(2 * k)
	for i := range k {
		h.bigRef(w, n)
		w.Int(int64(i))
	}
}

// ringRefs is bigRefs with m values lent in turn, k loans in all
// (BIGREFS n k m), as MGET naming m keys over and over lends them: each
// loan is released on its own, without poisoning the value the others
// still lend.
func (h *testHandler) ringRefs(w *Writer, n, k, m int) {
	vals := make([][]byte, max(m, 1))
	for i := range vals {
		vals[i] = refValue(max(n, 0))
	}
	w.Array(2 * k)
	for i := range k {
		h.lent.Add(1)
		w.BulkRef(vals[i%len(vals)], &testRef{h: h}) // no v: its Release only counts
		w.Int(int64(i))
	}
}

// bigServed counts a BIG (or BIGREF) request served, and calls onBig.
func (h *testHandler) bigServed() {
	k := h.bigs.Add(1)
	if f := h.onBig.Load(); f != nil {
		(*f)(k)
	}
}

// block parks the request and completes it with reply after d.
func (h *testHandler) block(c *Conn, d time.Duration, reply []byte) {
	reply = append([]byte(nil), reply...)
	p := c.Park()
	h.parks.Add(1)
	time.AfterFunc(d, func() { p.Complete(func(w *Writer) { w.Bulk(reply) }) })
}

// postpone postpones the request and has it served again after d; on
// that second pass it writes reply.
func (h *testHandler) postpone(c *Conn, w *Writer, d time.Duration, reply []byte) {
	if _, again := h.retried.LoadAndDelete(c); again {
		w.Bulk(reply)
		return
	}
	p := c.Postpone()
	h.postpones.Add(1)
	time.AfterFunc(d, func() {
		h.retried.Store(c, struct{}{})
		p.Retry()
	})
}

// pushes sends n MESSAGE pushes from another goroutine.
func (h *testHandler) pushes(c *Conn, n int) {
	go func() {
		for i := range n {
			err := c.Push(binproto.OpMessage, func(w *Writer) {
				w.Push(2)
				w.BulkString("chan")
				w.BulkString(strconv.Itoa(i))
			})
			if err != nil {
				return
			}
		}
	}()
}

func (h *testHandler) Serve(c *Conn, req *Request, w *Writer) {
	if c.Proto() == ProtoBinary {
		h.serveBinary(c, req, w)
		return
	}
	argv := req.Argv
	name := strings.ToLower(string(argv[0]))
	arity := map[string]int{"ping": 1, "echo": 2, "set": 3, "get": 2, "block": 3, "push": 2, "quit": 1, "hello": 2, "noidle": 1, "postpone": 3, "sleep": 2}
	if n, ok := arity[name]; ok && len(argv) != n {
		w.Error(binproto.ClassErr, "wrong number of arguments for '"+name+"' command")
		return
	}
	num := func(b []byte) int { n, _ := strconv.Atoi(string(b)); return n }
	switch name {
	case "ping":
		h.bigsAtPing.Store(h.bigs.Load())
		w.Simple("PONG")
	case "echo":
		w.Bulk(argv[1])
	case "set":
		h.set(argv[1], argv[2])
		w.OK()
	case "get":
		h.get(w, argv[1])
	case "block":
		h.block(c, time.Duration(num(argv[1]))*time.Millisecond, argv[2])
	case "postpone":
		h.postpone(c, w, time.Duration(num(argv[1]))*time.Millisecond, argv[2])
	case "push":
		h.pushes(c, num(argv[1]))
		w.OK()
	case "big":
		// BIG n [k]: n zero bytes; with k, an array of k of them.
		if len(argv) != 2 && len(argv) != 3 {
			w.Error(binproto.ClassErr, "wrong number of arguments for 'big' command")
			return
		}
		h.bigServed()
		if held := c.PendingOutput() + int64(w.Len()); held > h.bigHeld.Load() {
			h.bigHeld.Store(held) // one connection's requests at a time
		}
		if len(argv) == 3 {
			h.bigArray(w, num(argv[1]), num(argv[2]))
			return
		}
		w.Bulk(h.big[:min(num(argv[1]), len(h.big))])
	case "bigref":
		// BIGREF n [after]: n pattern bytes by reference; with after, an
		// array of that value, a second one (which BulkRef copies) and
		// after.
		h.bigServed()
		if len(argv) == 3 {
			w.Array(3)
			h.bigRef(w, num(argv[1]))
			h.bigRef(w, num(argv[1]))
			w.Bulk(argv[2])
			return
		}
		h.bigRef(w, num(argv[1]))
	case "bigrefs":
		// BIGREFS n k [m]: k values by reference (bigRefs); with m, m
		// values lent in turn, k times in all, as MGET naming m keys
		// again and again lends them.
		h.bigServed()
		if len(argv) == 4 {
			h.ringRefs(w, num(argv[1]), num(argv[2]), num(argv[3]))
			return
		}
		h.bigRefs(w, num(argv[1]), num(argv[2]))
	case "quit":
		w.OK()
		c.Close()
	case "noidle":
		c.SetIdleExempt(true)
		w.OK()
	case "sleep":
		h.sleeps.Add(1)
		time.Sleep(time.Duration(num(argv[1])) * time.Millisecond)
		w.OK()
	case "hello":
		v := num(argv[1])
		c.SetRESPVersion(v)
		w.Map(1)
		w.BulkString("proto")
		w.Int(int64(v))
	default:
		w.Error(binproto.ClassErr, "unknown command '"+name+"'")
	}
}

func (h *testHandler) serveBinary(c *Conn, req *Request, w *Writer) {
	if req.Fault != nil {
		w.Fault(req.Fault)
		return
	}
	a := req.Args
	switch req.Op {
	case binproto.OpPing:
		if len(a) == 1 {
			w.Bulk(a[0].Bytes)
			return
		}
		w.OK()
	case binproto.OpSet:
		h.set(a[0].Bytes, a[1].Bytes)
		w.OK()
	case binproto.OpGet:
		h.get(w, a[0].Bytes)
	case opBlock:
		h.block(c, time.Duration(a[0].Int)*time.Millisecond, a[1].Bytes)
	case opPostpone:
		h.postpone(c, w, time.Duration(a[0].Int)*time.Millisecond, a[1].Bytes)
	case opPush:
		h.pushes(c, int(a[0].Int))
		w.OK()
	case opBig:
		h.bigServed()
		if len(a) == 2 {
			h.bigArray(w, int(a[0].Int), int(a[1].Int))
			return
		}
		w.Bulk(h.big[:min(int(a[0].Int), len(h.big))])
	case opBigRef:
		h.bigServed()
		if len(a) == 2 {
			h.bigRefs(w, int(a[0].Int), int(a[1].Int))
			return
		}
		h.bigRef(w, int(a[0].Int))
	case opQuit:
		w.OK()
		c.Close()
	default:
		w.Error(binproto.ClassErr, fmt.Sprintf("unknown opcode %#04x", uint16(req.Op)))
	}
}

// env is one running server under test.
type env struct {
	kind string
	srv  Server
	h    *testHandler
	dial func() (net.Conn, error)
	errc chan error
}

var kinds = []string{"gnet", "std", "pipe"}

// startEnv starts a server of the given kind with cfg and the test handler.
// The server is shut down when the test ends.
func startEnv(t testing.TB, kind string, cfg Config) *env {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.Loops == 0 {
		cfg.Loops = 2
	}
	e := &env{kind: kind, h: newTestHandler(), errc: make(chan error, 1)}
	switch kind {
	case "gnet":
		e.srv = NewGnet(cfg)
	case "std":
		e.srv = NewStd(cfg)
	case "pipe":
		p := NewPipe(cfg)
		e.srv, e.dial = p, p.Dial
	}
	go func() { e.errc <- e.srv.Serve(e.h) }()
	select {
	case <-e.srv.Ready():
	case err := <-e.errc:
		t.Fatalf("%s: Serve: %v", kind, err)
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: not ready", kind)
	}
	if e.dial == nil {
		addr := e.srv.Addr().String()
		if cfg.TLS != nil {
			e.dial = func() (net.Conn, error) { return nil, errors.New("use tls.Dial") }
		} else {
			e.dial = func() (net.Conn, error) { return net.Dial("tcp", addr) }
		}
	}
	t.Cleanup(func() { e.shutdown(t) })
	return e
}

// shutdown stops the server and checks that Serve returned nil.
//
// Its deadlines only bound how long a failing shutdown takes to say so: a
// graceful one drains what clients still read (16 MiB in
// TestBulkRefShutdownFinishesValue), which under -race on a loaded 2-core
// host took more than the 5 s they once were.
func (e *env) shutdown(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.srv.Shutdown(ctx); err != nil {
		t.Errorf("%s: Shutdown: %v", e.kind, err)
	}
	select {
	case err := <-e.errc:
		if err != nil {
			t.Errorf("%s: Serve returned %v", e.kind, err)
		}
		e.errc <- nil // for a second shutdown
	case <-time.After(30 * time.Second):
		t.Errorf("%s: Serve did not return", e.kind)
	}
}

// stats returns the server's counters.
func (e *env) stats() Stats { return e.srv.(StatsProvider).Stats() }

// conn dials a client with a read deadline far enough for any test.
func (e *env) conn(t testing.TB) *client {
	t.Helper()
	c, err := e.dial()
	if err != nil {
		t.Fatalf("%s: dial: %v", e.kind, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return newClient(c)
}

// forEach runs fn against a fresh server of every kind.
func forEach(t *testing.T, cfg Config, fn func(t *testing.T, e *env)) {
	t.Helper()
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) { fn(t, startEnv(t, kind, cfg)) })
	}
}

// eventually polls cond until it holds or 10 s pass.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	// Generous: under -race on a loaded 2-core host (CI beside other
	// packages' tests) the server can take seconds to get going; the
	// deadline only bounds how long a failing test takes to say so.
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// client is a test client speaking either protocol over one connection.
type client struct {
	net.Conn
	br *bufio.Reader
}

// newClient wraps c with a deadline for the whole conversation. It only
// bounds how long a test whose server hangs takes to fail: tests moving
// 32-64 MiB under -race overran 20 s on a 2-core host loaded by other
// work (TestBulkRefTailOverHardLimitReadable, TestIdleConnHoldsNoLarge*).
func newClient(c net.Conn) *client {
	_ = c.SetDeadline(time.Now().Add(60 * time.Second))
	return &client{Conn: c, br: bufio.NewReaderSize(c, 64<<10)}
}

func (c *client) write(t testing.TB, b []byte) {
	t.Helper()
	if _, err := c.Write(b); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// cmd encodes a RESP multibulk command.
func cmd(args ...string) []byte {
	b := fmt.Appendf(nil, "*%d\r\n", len(args))
	for _, a := range args {
		b = fmt.Appendf(b, "$%d\r\n%s\r\n", len(a), a)
	}
	return b
}

// respErr is a RESP error reply; respPush is a RESP3 push.
type (
	respErr  string
	respPush []any
)

// read reads one RESP reply: string, int64, nil, respErr, []any (arrays
// and maps, flattened) or respPush.
func (c *client) read() (any, error) {
	line, err := c.br.ReadString('\n')
	if err != nil {
		return nil, err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return nil, fmt.Errorf("bad line %q", line)
	}
	line = line[:len(line)-2]
	body := line[1:]
	switch line[0] {
	case '+':
		return body, nil
	case '-':
		return respErr(body), nil
	case ':':
		return strconv.ParseInt(body, 10, 64)
	case '_':
		return nil, nil
	case '$':
		n, err := strconv.Atoi(body)
		if err != nil || n < 0 {
			return nil, err
		}
		b := make([]byte, n+2)
		if _, err := io.ReadFull(c.br, b); err != nil {
			return nil, err
		}
		return string(b[:n]), nil
	case '*', '>', '%':
		n, err := strconv.Atoi(body)
		if err != nil {
			return nil, err
		}
		if n < 0 {
			return nil, nil
		}
		if line[0] == '%' {
			n *= 2
		}
		elems := make([]any, n)
		for i := range elems {
			if elems[i], err = c.read(); err != nil {
				return nil, err
			}
		}
		if line[0] == '>' {
			return respPush(elems), nil
		}
		return elems, nil
	}
	return nil, fmt.Errorf("bad reply type %q", line)
}

// expect reads one RESP reply and compares it with want.
func (c *client) expect(t testing.TB, want any) {
	t.Helper()
	got, err := c.read()
	if err != nil {
		t.Fatalf("read: %v (want %v)", err, want)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) || fmt.Sprintf("%T", got) != fmt.Sprintf("%T", want) {
		t.Fatalf("got %#v, want %#v", got, want)
	}
}

// expectEOF checks that the server closes the connection, discarding
// whatever it still sends.
func (c *client) expectEOF(t testing.TB) {
	t.Helper()
	_, err := io.Copy(io.Discard, c.br)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("connection not closed: %v", err)
	}
}

// binReq encodes a binary request; args are []byte or string (BYTES), int
// (INT) or nil (NULL).
func binReq(op binproto.Opcode, id uint32, args ...any) []byte {
	b, mark := binproto.BeginFrame(nil, op, 0, id)
	b = binproto.AppendArgCount(b, len(args))
	for _, a := range args {
		switch a := a.(type) {
		case nil:
			b = binproto.AppendNull(b)
		case int:
			b = binproto.AppendInt(b, int64(a))
		case string:
			b = binproto.AppendString(b, a)
		case []byte:
			b = binproto.AppendBytes(b, a)
		}
	}
	b, _ = binproto.EndFrame(b, mark)
	return b
}

// binOK is the binary OK value; binErr a binary error value.
type (
	binOK  struct{}
	binErr struct {
		Class binproto.Class
		Msg   string
	}
)

// frame is a decoded binary frame with its body as a Go value (string,
// int64, nil, binOK, binErr, []any).
type frame struct {
	binproto.Header
	Value any
}

// readFrame reads one binary frame.
func (c *client) readFrame() (frame, error) {
	var hb [binproto.HeaderSize]byte
	if _, err := io.ReadFull(c.br, hb[:]); err != nil {
		return frame{}, err
	}
	h, err := binproto.ParseHeader(hb[:])
	if err != nil {
		return frame{}, err
	}
	if h.Length > 64<<20 {
		return frame{}, fmt.Errorf("frame of %d bytes", h.Length)
	}
	body := make([]byte, h.Length)
	if _, err := io.ReadFull(c.br, body); err != nil {
		return frame{}, err
	}
	r := binproto.NewReader(body, binproto.Limits{})
	v, err := readValue(&r)
	if err == nil && r.Len() != 0 {
		err = binproto.ErrTrailing
	}
	return frame{Header: h, Value: v}, err
}

func readValue(r *binproto.Reader) (any, error) {
	v, err := r.Next()
	if err != nil {
		return nil, err
	}
	switch v.Kind {
	case binproto.KindNull:
		return nil, nil
	case binproto.KindOK:
		return binOK{}, nil
	case binproto.KindInt:
		return v.Int, nil
	case binproto.KindBytes:
		return string(v.Bytes), nil
	case binproto.KindError:
		return binErr{v.Class, string(v.Bytes)}, nil
	}
	n := v.Int
	if v.Kind == binproto.KindMap {
		n *= 2
	}
	elems := make([]any, n)
	for i := range elems {
		if elems[i], err = readValue(r); err != nil {
			return nil, err
		}
	}
	return elems, nil
}

// expectFrame reads a frame and checks its flags, opcode, id and value.
func (c *client) expectFrame(t testing.TB, flags binproto.Flags, op binproto.Opcode, id uint32, want any) {
	t.Helper()
	f, err := c.readFrame()
	if err != nil {
		t.Fatalf("read frame: %v (want %v)", err, want)
	}
	if f.Flags != flags || f.Op != op || f.ID != id || fmt.Sprintf("%#v", f.Value) != fmt.Sprintf("%#v", want) {
		t.Fatalf("got frame %+v %#v, want flags %d op %v id %d %#v", f.Header, f.Value, flags, op, id, want)
	}
}

// expectReply reads a reply frame to request (op, id).
func (c *client) expectReply(t testing.TB, op binproto.Opcode, id uint32, want any) {
	t.Helper()
	c.expectFrame(t, binproto.FlagReply, op, id, want)
}

// expectDisconnect reads a DISCONNECT push and then the end of the stream.
func (c *client) expectDisconnect(t testing.TB, class binproto.Class, msg string) {
	t.Helper()
	c.expectFrame(t, binproto.FlagPush, binproto.OpDisconnect, 0, binErr{class, msg})
	c.expectEOF(t)
}

// header encodes a raw frame header.
func header(flags binproto.Flags, op binproto.Opcode, id, length uint32) []byte {
	b := []byte{binproto.Magic, byte(flags), 0, 0}
	b = binary.BigEndian.AppendUint16(b[:2], uint16(op))
	b = binary.BigEndian.AppendUint32(b, id)
	return binary.BigEndian.AppendUint32(b, length)
}

// readBigs reads n replies of BIG size from c on a goroutine of its own and
// sends the first failure, or nil once all have come, on the channel.
func readBigs(c *client, n, size int) <-chan error {
	done := make(chan error, 1)
	go func() {
		for i := range n {
			got, err := c.read()
			if s, _ := got.(string); err != nil || len(s) != size {
				done <- fmt.Errorf("reply %d: %d bytes, %v", i+1, len(s), err)
				return
			}
		}
		done <- nil
	}()
	return done
}
