package transport

import (
	"encoding/binary"
	"strconv"

	"github.com/ringdb/ringdb/internal/bufpool"
	"github.com/ringdb/ringdb/transport/binproto"
	"github.com/ringdb/ringdb/transport/resp"
)

// Writer encodes one reply (or push) in the protocol of its connection:
// RESP2, RESP3 or the binary protocol. Methods append to an output buffer
// owned by the transport and never block or fail; a handler writes exactly
// one value per request (an aggregate counts as one, with its elements).
//
// For the binary protocol the transport opens the reply frame before Serve
// and closes it after, so a handler writes only the value.
type Writer struct {
	buf     []byte
	proto   Proto
	version resp.Version
	errs    uint32         // errors written since Reset
	errCls  binproto.Class // class of the last error written
	errPfx  string         // its ErrorPrefix prefix; "" for Error's (the class's)

	// The values written by reference (BulkRef), in order: each follows
	// buf[:at] in the output, and what was written after it up to the
	// next one follows it. refLen is the sum of their lengths. refOK is
	// set by the transport for the Writer of its requests' replies.
	refs   []refSeg
	refLen int
	refOK  bool

	// limit, set by the transport for its requests' replies, is the most
	// output a reply may build in memory (the output hard limit; 0: no
	// limit); start is where the reply began in buf. A reply that
	// outgrows it is dropped as it is built (over), and the transport
	// answers the request with an error instead.
	limit int64
	start int
	over  bool
	// held counts the bytes of values written by reference that the
	// keyspace no longer holds (HoldDetached), which the reply alone
	// keeps in memory: counted against limit as built output is.
	held int64
}

// refSeg is a value written by reference: the value, what releases it,
// and its offset in the output written around it.
type refSeg struct {
	v  []byte
	rl Releaser
	at int
}

// Releaser lets go of memory lent to a Writer (BulkRef) once the output
// that holds it has been written or dropped.
type Releaser interface {
	Release()
}

// refMin is the smallest value BulkRef writes by reference; a smaller one
// is copied into the output, and written with the replies around it in
// one write (a value written by reference ends its connection's batch).
const refMin = 128 << 10

// NewWriter returns a Writer appending to buf. Transports use it; handlers
// receive theirs from Serve. version is 2 or 3 (ignored for ProtoBinary).
func NewWriter(buf []byte, p Proto, version int) *Writer {
	w := &Writer{}
	w.Reset(buf, p, version)
	return w
}

// Reset makes w append to buf in protocol p. A value written by
// reference and not taken by the transport is released.
func (w *Writer) Reset(buf []byte, p Proto, version int) {
	w.dropRef()
	w.buf, w.proto, w.version = buf, p, resp.RESP2
	w.errs = 0
	w.start, w.over, w.held = len(buf), false, 0
	if version == 3 {
		w.version = resp.RESP3
	}
}

// setVersion switches the RESP dialect of the output that follows.
func (w *Writer) setVersion(version int) {
	w.version = resp.RESP2
	if version == 3 {
		w.version = resp.RESP3
	}
}

// room makes space for a value of n bytes and its header. Output growing
// past 64 KiB (a large value, or a batch of 40 KB ones) moves into a
// buffer from the pool shared with the decoders
// (internal/bufpool), which the transport gives back after the write;
// growing it on the Go heap, batch after batch, made GET of 300 KB values
// churn the heap. The buffer left behind goes to the pool too when it is
// larger than any the transports keep between batches (retainOut), so it
// can only be one that grew within this batch, which nothing else holds.
//
// A reply that has built more than limit in memory and adds another value
// is dropped from buf (over), and so is what is still written to it, at
// each value: it holds at most the limit and one value, and one value of
// any size can still be read (the hard limit is for clients that do not
// read). MGET naming a 100 KB value (copied: under refMin) a million
// times would otherwise have built 100 GB.
func (w *Writer) room(n int) {
	const big = 64 << 10
	if w.pastLimit() {
		w.drop()
	}
	if cap(w.buf)-len(w.buf) >= n+32 || len(w.buf)+n <= big {
		return
	}
	old := w.buf
	// At least twice retainOut, so that every pooled buffer is one the
	// transports never keep, and each goes back to the pool: here when
	// it is outgrown, or after the write.
	nb := bufpool.Get(max(len(old)+n+32, 2*cap(old), 2*retainOut))
	w.buf = append(nb, old...)
	if cap(old) > retainOut {
		bufpool.Put(old)
	}
}

// pastLimit reports whether the reply holds more than the limit: the
// output built in memory and the values only it keeps (held).
func (w *Writer) pastLimit() bool {
	return w.limit > 0 && int64(len(w.buf)-w.start)+w.held > w.limit
}

// drop drops the reply (over): what it built, and the values it wrote
// by reference, released.
func (w *Writer) drop() {
	if !w.over {
		// The error the transport answers with, counted as the
		// handler's (INFO errorstats, failed calls).
		w.errs++
		w.errCls, w.errPfx = binproto.ClassLimit, ""
	}
	w.Truncate(w.start)
	w.held = 0
	w.over = true
}

// Bytes returns the encoded output. After BulkRef wrote a value by
// reference, the value is not in it (the transport writes it from the
// memory lent): Len counts it.
func (w *Writer) Bytes() []byte { return w.buf }

// Len returns the length of the output written, a value written by
// reference included.
func (w *Writer) Len() int { return len(w.buf) + w.refLen }

// BulkRef writes b as a bulk string (BYTES in the binary protocol) as Bulk
// does, but may write it by reference: b is then not copied into the
// output but written to the network from where it lies, and rl.Release is
// called once it has been, or once the output is dropped (the connection
// closed); b must not change until then. Otherwise b is copied and
// rl.Release called before BulkRef returns. A large value read from the
// keyspace (core.Keyspace.GetRef) is written so without a copy in the
// server's memory: a GET of a 100 MB value by ten clients at once would
// otherwise hold a gigabyte of copies until they have read it.
//
// Only values of 128 KiB or more, in the reply to a request, are written
// by reference; a reply may hold any number of them (MGET, EXEC), one
// value named many times costing its memory once. rl may be nil for a
// value that needs no release.
func (w *Writer) BulkRef(b []byte, rl Releaser) {
	if w.over {
		if rl != nil {
			rl.Release() // the reply is dropped: nothing to write it in
		}
		return
	}
	if !w.refOK || len(b) < refMin {
		w.Bulk(b)
		if rl != nil {
			rl.Release()
		}
		return
	}
	if w.proto == ProtoBinary {
		w.buf = append(w.buf, byte(binproto.KindBytes))
		w.buf = binary.BigEndian.AppendUint32(w.buf, uint32(len(b)))
	} else {
		w.buf = resp.AppendBulkHeader(w.buf, len(b))
	}
	w.refs = append(w.refs, refSeg{v: b, rl: rl, at: len(w.buf)})
	w.refLen += len(b)
	if w.proto != ProtoBinary {
		w.buf = append(w.buf, "\r\n"...)
	}
}

// HoldDetached tells w that n bytes of a value it wrote by reference
// are no longer the keyspace's (the key was overwritten or deleted since,
// or the value was lent as it was removed: GETDEL, SET ... GET): only the
// reply keeps them, so they count against the output hard limit as
// output built in memory does, and a reply that holds more than the limit
// and adds another value is dropped. Otherwise EXEC of GET and SETRANGE of
// one 1 MiB key, a few bytes each, kept a copy of it per pair (2 GB for
// 2000 pairs) outside maxmemory and every output limit. A reply of more
// than one value that then holds more than the limit is dropped at once;
// one value of any size still goes through.
func (w *Writer) HoldDetached(n int) {
	if len(w.refs) == 0 || w.over {
		return
	}
	if w.held += int64(n); len(w.refs) > 1 && w.pastLimit() {
		w.drop()
	}
}

// takeRefs hands the values written by reference, if any, to the caller,
// which becomes responsible for releasing them. It appends them to dst,
// in order, each with its offset in Bytes.
func (w *Writer) takeRefs(dst []refSeg) []refSeg {
	dst = append(dst, w.refs...)
	w.forgetRefs(0)
	return dst
}

// forgetRefs drops the values written by reference from the i-th on,
// without releasing them.
func (w *Writer) forgetRefs(i int) {
	for _, r := range w.refs[i:] {
		w.refLen -= len(r.v)
	}
	clear(w.refs[i:])
	w.refs = w.refs[:i]
	if i == 0 && cap(w.refs) > maxKeptRefs {
		w.refs = nil
	}
}

// maxKeptRefs is the most values written by reference whose room a
// Writer keeps from one reply to the next.
const maxKeptRefs = 64

// dropRefs releases the values written by reference from the i-th on,
// which nothing took.
func (w *Writer) dropRefs(i int) {
	for _, r := range w.refs[i:] {
		if r.rl != nil {
			r.rl.Release()
		}
	}
	w.forgetRefs(i)
}

// dropRef releases every value written by reference that nothing took.
func (w *Writer) dropRef() { w.dropRefs(0) }

// Fault writes the error reply to a request whose body could not be read
// (Request.Fault): the fault's class and message.
func (w *Writer) Fault(err error) { w.Error(classOf(err), msgOf(err)) }

// Truncate drops the output written after its first n bytes, n being a
// len(Bytes()) taken earlier in the same Handler.Serve: a RESP reply the
// client asked not to get (CLIENT REPLY OFF or SKIP). The binary protocol
// needs a reply to every request; the transport answers an empty one with
// an error.
func (w *Writer) Truncate(n int) {
	if n >= 0 && n <= len(w.buf) {
		if n <= w.start {
			w.over = false // the reply is not wanted: nothing to say about its size
			w.held = 0     // nor about the values it held: released below
		}
		w.buf = w.buf[:n]
		i := len(w.refs)
		for i > 0 && n < w.refs[i-1].at {
			i--
		}
		w.dropRefs(i)
	}
}

// Dropped reports whether the reply being written has outgrown the output
// hard limit and is being dropped (the request is answered with an error
// instead): a handler writing a long reply may stop there.
func (w *Writer) Dropped() bool { return w.over }

// InsertArray inserts the header of an array of n elements at mark, a
// len(Bytes()) taken earlier in the same Handler.Serve, before the
// elements written since: for a reply whose length is known only once its
// elements are (KEYS), which would otherwise be gathered first. It does
// nothing once the reply is dropped (Dropped).
func (w *Writer) InsertArray(mark, n int) {
	if w.over || mark < w.start || mark > len(w.buf) {
		return
	}
	end := len(w.buf)
	w.Array(n)
	h := len(w.buf) - end
	var tmp [32]byte // "*" and at most 20 digits and CRLF; 5 bytes in binary
	hdr := tmp[:copy(tmp[:], w.buf[end:])]
	copy(w.buf[mark+h:], w.buf[mark:end])
	copy(w.buf[mark:], hdr)
	for i := range w.refs {
		if w.refs[i].at >= mark {
			w.refs[i].at += h
		}
	}
}

// Proto returns the protocol being written.
func (w *Writer) Proto() Proto { return w.proto }

// RESP3 reports whether w writes RESP3.
func (w *Writer) RESP3() bool { return w.proto == ProtoRESP && w.version == resp.RESP3 }

// OK writes a success status (+OK, or the binary OK value).
func (w *Writer) OK() {
	if w.proto == ProtoBinary {
		w.buf = binproto.AppendOK(w.buf)
		return
	}
	w.buf = resp.AppendOK(w.buf)
}

// Simple writes a status string (+PONG); binary writes it as BYTES.
func (w *Writer) Simple(s string) {
	if w.proto == ProtoBinary {
		w.buf = binproto.AppendString(w.buf, s)
		return
	}
	w.buf = resp.AppendSimple(w.buf, s)
}

// Error writes an error of class c. msg excludes the class: RESP writes
// "-<CLASS> msg" with Redis's prefix for the class (ERR for LIMIT and
// PROTO, which Redis does not have); binary writes the class byte and msg.
func (w *Writer) Error(c binproto.Class, msg string) {
	w.errs++
	w.errCls, w.errPfx = c, ""
	if w.proto == ProtoBinary {
		w.buf = binproto.AppendError(w.buf, c, msg)
		return
	}
	w.buf = resp.AppendError(w.buf, respPrefix(c)+" "+msg)
}

// ErrorPrefix writes an error of class c whose RESP form carries prefix
// instead of the class's usual one (Redis's WRONGPASS, NOPROTO, BUSYKEY...).
// The binary protocol has no prefixes: it writes the class and msg.
func (w *Writer) ErrorPrefix(c binproto.Class, prefix, msg string) {
	w.errs++
	w.errCls, w.errPfx = c, prefix
	if w.proto == ProtoBinary {
		w.buf = binproto.AppendError(w.buf, c, msg)
		return
	}
	w.buf = resp.AppendError(w.buf, prefix+" "+msg)
}

func respPrefix(c binproto.Class) string {
	switch c {
	case binproto.ClassWrongType:
		return "WRONGTYPE"
	case binproto.ClassOOM:
		return "OOM"
	case binproto.ClassReadOnly:
		return "READONLY"
	case binproto.ClassNoAuth:
		return "NOAUTH"
	}
	return "ERR"
}

// Errors returns the number of errors written through Error and
// ErrorPrefix since the last Reset, and the class of the last one. The
// server compares it before and after a command to count failed commands.
func (w *Writer) Errors() (n uint32, last binproto.Class) { return w.errs, w.errCls }

// LastErrorPrefix returns the first word of the last error written over
// RESP ("ERR", "WRONGTYPE", "WRONGPASS", ...), or of the RESP form of the
// last binary error: what Redis's INFO errorstats counts it under. It is
// meaningful only once Errors has counted one.
func (w *Writer) LastErrorPrefix() string {
	if w.errPfx != "" {
		return w.errPfx
	}
	return respPrefix(w.errCls)
}

// Int writes an integer.
func (w *Writer) Int(n int64) {
	if w.proto == ProtoBinary {
		w.buf = binproto.AppendInt(w.buf, n)
		return
	}
	w.buf = resp.AppendInt(w.buf, n)
}

// Bulk writes a binary-safe string.
func (w *Writer) Bulk(b []byte) {
	w.room(len(b))
	if w.proto == ProtoBinary {
		w.buf = binproto.AppendBytes(w.buf, b)
		return
	}
	w.buf = resp.AppendBulk(w.buf, b)
}

// BulkString writes s as a bulk string.
func (w *Writer) BulkString(s string) {
	w.room(len(s))
	if w.proto == ProtoBinary {
		w.buf = binproto.AppendString(w.buf, s)
		return
	}
	w.buf = resp.AppendBulkString(w.buf, s)
}

// Null writes a null (RESP2 $-1, RESP3 _, binary NULL).
func (w *Writer) Null() {
	if w.proto == ProtoBinary {
		w.buf = binproto.AppendNull(w.buf)
		return
	}
	w.buf = resp.AppendNull(w.buf, w.version)
}

// NullArray writes a null array (RESP2 *-1, RESP3 _, binary NULL).
func (w *Writer) NullArray() {
	if w.proto == ProtoBinary {
		w.buf = binproto.AppendNull(w.buf)
		return
	}
	w.buf = resp.AppendNullArray(w.buf, w.version)
}

// Array writes the header of an array of n values; the n values follow.
func (w *Writer) Array(n int) {
	if w.proto == ProtoBinary {
		w.buf = binproto.AppendArrayHeader(w.buf, n)
		return
	}
	w.buf = resp.AppendArrayHeader(w.buf, n)
}

// Map writes the header of a map of n pairs (a flat array of 2n in RESP2);
// the 2n keys and values follow.
func (w *Writer) Map(n int) {
	if w.proto == ProtoBinary {
		w.buf = binproto.AppendMapHeader(w.buf, n)
		return
	}
	w.buf = resp.AppendMapHeader(w.buf, w.version, n)
}

// Set writes the header of a set of n values (RESP3 ~n, RESP2 *n, binary
// array), for the replies Redis sends as sets, such as command flags.
func (w *Writer) Set(n int) {
	if w.proto == ProtoBinary {
		w.buf = binproto.AppendArrayHeader(w.buf, n)
		return
	}
	w.buf = resp.AppendSetHeader(w.buf, w.version, n)
}

// Push writes the header of an out-of-band push of n values (RESP3 >n,
// RESP2 *n). Binary pushes are framed by Conn.Push; there it writes an
// array header.
func (w *Writer) Push(n int) {
	if w.proto == ProtoBinary {
		w.buf = binproto.AppendArrayHeader(w.buf, n)
		return
	}
	w.buf = resp.AppendPush(w.buf, w.version, n)
}

// Double writes a float (RESP3 double, RESP2 bulk string, binary BYTES
// with its decimal text).
func (w *Writer) Double(f float64) {
	if w.proto == ProtoBinary {
		w.buf = binproto.AppendString(w.buf, strconv.FormatFloat(f, 'g', 17, 64))
		return
	}
	w.buf = resp.AppendDouble(w.buf, w.version, f)
}

// Verbatim writes a verbatim string (RESP3 "=", otherwise a bulk string).
func (w *Writer) Verbatim(format string, b []byte) {
	if w.proto == ProtoBinary {
		w.buf = binproto.AppendBytes(w.buf, b)
		return
	}
	w.buf = resp.AppendVerbatim(w.buf, w.version, format, b)
}
