package transport

import (
	"errors"
	"math"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ringdb/ringdb/transport/binproto"
)

// Messages of the disconnections the transports decide on.
const (
	shutdownClass = binproto.ClassErr
	shutdownMsg   = "server shutting down"
	idleMsg       = "idle timeout"
	maxClientsMsg = "max number of clients reached"
	queryLimitMsg = "query buffer limit reached"
	outLimitMsg   = "output buffer limit reached"
	badFrameMsg   = "client sent a reply or push frame"
	noReplyMsg    = "no reply"
	bigReplyMsg   = "reply too large"
	// overReplyMsg answers a request whose reply outgrew the output hard
	// limit as it was built (Writer.room): the request ran, its reply is
	// dropped, and the connection stays.
	overReplyMsg = "reply dropped: larger than the output buffer hard limit"
)

// retainArgs is the largest argument scratch kept between binary requests.
const retainArgs = 1024

// connTransport is what a connState needs from the transport behind it.
type connTransport interface {
	// wake arranges for process(nil) to run soon in the connection's
	// processing context, to write what other goroutines queued and to
	// resume a completed parked request.
	// REQUIRES: cs.mu held and the connection not closed.
	wake()
	// abort closes the connection at once, dropping pending output; the
	// transport then finishes it as any closed connection. It must not
	// block. (std over TLS ends the session with close_notify first,
	// which a client that has stopped reading gets notifyWait for.)
	// REQUIRES: cs.mu held.
	abort()
	// sendQueued returns the output the kernel holds for the peer, not
	// yet acknowledged (0 where unknown). Safe from any goroutine.
	sendQueued() int64
	// inputWaiting reports whether the client has sent input that the
	// kernel holds and the transport has not read yet (false where
	// unknown). REQUIRES: the processing context.
	inputWaiting() bool
	// closeRequested learns that a close was requested (Close, Shutdown),
	// so that a write already waiting on a client that does not read is
	// bounded by closeWait too: the wake may not get its turn until that
	// write ends. It must not block. REQUIRES: cs.mu held and the
	// connection not closed.
	closeRequested()
	// idleChanged learns that SetIdleTimeout changed the idle timeout, for
	// a transport whose reads wait under a deadline computed from it. It
	// must not block. REQUIRES: cs.mu held and the connection not closed.
	idleChanged()
	// decoders returns the pool the connection's decoders go back to
	// between batches (putDecoders), or nil to keep them: a gnet loop
	// serves its connections one at a time and shares them; std's
	// goroutines would need locking for little gain.
	decoders() *decPool
}

// connState is the transport-independent state machine of one connection:
// protocol detection, decoding, serving requests, parking, pushes, limits.
//
// Most of it belongs to the connection's processing context: the gnet event
// loop that owns the connection, or whichever std goroutine holds the
// connection's processing lock. Only the fields under mu, and the atomics,
// are touched by other goroutines (Push, Parked.Complete, Close, Shutdown,
// Stats).
//
// The transport feeds each read to process, writes what it returns with one
// write, records its pending output in pendOut, and closes the connection
// once quit is set (at once if abortive, else once the output is written).
type connState struct {
	Conn

	hub *hub
	tr  connTransport
	st  *counters // where this connection's traffic is counted

	// Processing context only. (The flags are kept together: spread
	// between wider fields, their padding took 32 bytes of every
	// connection.)
	detected  bool // the first byte has arrived and chosen the protocol
	opened    bool // Handler.Open succeeded; Handler.Close is due
	reject    bool // over MaxClients: answer the first byte with an error
	parked    bool // a parked request holds back the rest of the input
	held      bool // output backpressure holds back the rest of the input
	yielded   bool // the batch made turnOut of output: the rest of the input waits its turn
	quit      bool // close once out is written; process ignores input
	abortive  bool // with quit: close without waiting for the output
	decLimits bool // the decoder applies RestrictUntil's limits
	// streaming: a value written by reference (Writer.BulkRef) is being
	// written from the memory lent (rs); no request is served, and
	// nothing else written, until it is all out (endStream).
	streaming bool

	openErr error      // Handler.Open refused the connection: the first byte gets it
	redo    *Request   // a postponed request Retry gave back: served before the input
	turnOut int        // the output that ends a turn (yield); 0: turns never end
	rs      *refStream // made by the first reply to write by reference
	// The decoder of the connection's protocol; between batches that
	// leave nothing in it, a gnet connection hands it back to its loop
	// (decPool) and holds nil.
	rdec *respIn
	bdec *binIn
	pf   Prefetcher    // the handler, if it prefetches; nil otherwise
	sc   *replyScratch // the Writer and Request of the request being served
	// The hub's registry list (hub.link). REQUIRES: hub.mu.
	regPrev, regNext *connState

	born     int64 // hub.now() at accept
	lastRead int64 // hub.now() at the last read
	// handed is the output handed to the network (gnet's Write, std's
	// writer); handed minus pendOut has been written. idleWritten is
	// that at the last idle check, which counts a write since as
	// interaction.
	handed      int64
	idleWritten int64
	quitAt      int64 // hub.now() when quit was set
	// drainPend is the least pending output a quitting connection has
	// shown (drainStalled), at drainAt; drainAt is 0 until it is first
	// looked at.
	drainPend, drainAt int64
	softSince          atomic.Int64
	// slack is the size of the batch of replies that put the connection on
	// hold: that batch is let through, so that any value can be read, and
	// the hard limit is raised by it (for pushes too) until the output has
	// drained.
	slack atomic.Int64
	// holdAt is when a connection on hold last showed its client reading
	// (its pending output fell below holdPend); 0 when not on hold. Read by
	// the sweeps of any goroutine.
	holdAt   atomic.Int64
	holdPend atomic.Int64

	// pendOut is the output handed to the network and not yet written, as
	// the transport last saw it.
	pendOut atomic.Int64
	// streamLeft is the output of a value written by reference not yet
	// handed to the network, its tail included: pending output for the
	// output limits (outputOver), read by any goroutine's sweep.
	streamLeft atomic.Int64
	// closeReq is set by Close and Shutdown; serve checks it after every
	// request so that nothing is served after a QUIT.
	closeReq atomic.Bool
	// aborted is set by Abort: serve serves nothing more, as the socket
	// closes without a reply (a command that panicked; the client cannot
	// know which of the requests pipelined behind it ran).
	aborted atomic.Bool

	// inboxLen is len(inbox), for the output limits and PendingOutput,
	// read by any goroutine: pushes wait there while std's writer is
	// blocked on a client that does not read, and are pending output as
	// much as what the writer holds. (resumed sits with the other flags
	// under mu, so that it takes no padding: gnetConn stays within 512
	// bytes with it.)
	inboxLen atomic.Int64

	mu         sync.Mutex
	inbox      []byte         // pushes and completions queued by any goroutine. REQUIRES: mu
	aw         *Writer        // writes into inbox, made on first use. REQUIRES: mu
	retry      *Request       // with resumed: the postponed request to serve again. REQUIRES: mu
	wakeSent   bool           // a wake is pending. REQUIRES: mu
	resumed    bool           // the parked request was completed. REQUIRES: mu
	closing    bool           // no more pushes or completions. REQUIRES: mu
	closed     bool           // finished; the transport is gone. REQUIRES: mu
	overflow   bool           // disconnected by an output limit. REQUIRES: mu
	protoKnown bool           // the first byte has set proto. REQUIRES: mu
	left       bool           // out of the MaxClients count (leaveLocked). REQUIRES: mu
	closeClass binproto.Class // why closeReq was set. REQUIRES: mu
	closeMsg   string         // REQUIRES: mu
}

// replyScratch is the Writer a connection's handler writes a reply with
// and the Request it is handed. A connection needs them only while it
// serves a request, so the connections of a gnet loop, served one at a
// time, share their loop's (as fields of every connection they took 200
// bytes of it); a std connection has its own.
type replyScratch struct {
	w   Writer
	req Request
}

// refStream is the state of a reply that writes values by reference while
// it is being written (connState.takeStream). It is made on the
// connection's first such reply and kept: most connections never write
// one, and as fields of connState it took 96 bytes of every connection.
type refStream struct {
	// v is the part of the current value the transport has not handed to
	// the network yet (nil once it has all); tail[off:] is the output
	// that follows it, with the reply's later values written by reference
	// (q[next:], their offsets in tail).
	v    []byte
	rl   Releaser
	tail []byte
	off  int
	q    []refSeg
	next int
}

// init prepares cs for a connection just accepted; reject marks one refused
// by MaxClients.
func (cs *connState) init(h *hub, tr connTransport, st *counters, sc *replyScratch, remote, local net.Addr, fd int, reject bool) {
	if sc == nil {
		sc = new(replyScratch)
	}
	cs.hub, cs.tr, cs.st, cs.sc = h, tr, st, sc
	cs.pf, _ = h.h.(Prefetcher)
	cs.id = connIDs.Add(1)
	cs.remote, cs.local, cs.fd = remote, local, fd
	cs.version.Store(2)
	cs.ops = cs
	cs.Conn.w = &cs.sc.w
	cs.sc.w.refOK = true // replies may write values by reference; pushes (aw) not
	cs.reject = reject
	cs.born = h.now()
	cs.lastRead = cs.born
	if !reject {
		cs.open()
	}
}

// open opens the connection with the handler as soon as it is accepted, as
// Redis creates its client, so that a client that has not sent a byte yet
// is listed and can be killed. A refusal is answered when the first byte
// tells in which protocol to say it.
func (cs *connState) open() {
	if err := cs.hub.h.Open(&cs.Conn); err != nil {
		cs.openErr = err
		return
	}
	cs.opened = true
}

// prefetchBatch is how many pipelined requests ahead the keys of are
// prefetched.
const prefetchBatch = 32

// process consumes in (bytes just read, or nil for a wake-up) and returns
// out extended with every reply, push and error it produced, to be written
// with one write. REQUIRES: the processing context.
func (cs *connState) process(out, in []byte) []byte {
	out = cs.processBatch(out, in)
	// However the batch ended (a quit returns early), the Writer and
	// Request, which a gnet loop's connections share, keep no reference
	// to the transport's buffer, which may go back to bufpool, nor to the
	// decoder's, which its arguments point into.
	cs.sc.w.Reset(nil, cs.proto, 0)
	cs.sc.req = Request{}
	cs.putDecoders()
	return out
}

// processBatch is process but for what every batch ends with.
func (cs *connState) processBatch(out, in []byte) []byte {
	base := len(out)
	cs.Conn.batchAt = Monotime()
	if cs.streaming && cs.rs.v == nil {
		out = cs.endStream(out)
	}
	if len(in) > 0 {
		if !cs.reject { // Redis does not count a refused client's traffic
			cs.st.bytesIn.Add(uint64(len(in)))
		}
		if cs.hub.idleTimeout.Load() > 0 {
			cs.lastRead = cs.hub.now()
		}
		if cs.quit {
			return out
		}
		if !cs.detected {
			if out = cs.begin(out, in[0]); cs.quit {
				return out
			}
		}
		cs.syncRestrict()
		cs.feed(in)
		if cs.pf != nil && cs.rdec != nil && !cs.parked && !cs.held && !cs.yielded && !cs.streaming {
			d := cs.rdec
			if d.peeked = d.Peek(d.peeked[:0], prefetchBatch); len(d.peeked) >= 2 {
				cs.pf.Prefetch(&cs.Conn, d.peeked)
			}
			clear(d.peeked) // hold no reference to the read buffer
		}
	}
	// What a value written by reference was followed by (endStream) is
	// output of the batch that made the hold, not yet handed to the
	// network: released before it is written, the hold would take its
	// slack away from it, and the rest of a reply larger than the hard
	// limit disconnected a client that read all along.
	if cs.held && !cs.streaming && cs.pendOut.Load()+int64(len(out)-base) <= cs.resumeAt() {
		cs.release()
	}
	if cs.yielded {
		// The next turn: its requests are served now, so the idle clock
		// restarts as if they had just been read (as release does).
		cs.yielded = false
		cs.lastRead = cs.hub.now()
	}
	for {
		if cs.detected && !cs.parked && !cs.held && !cs.yielded && !cs.streaming && !cs.quit {
			out = cs.serve(out, base)
		}
		if cs.quit {
			return out
		}
		if cs.streaming {
			// What other goroutines queued waits for the end of the
			// value; a close request lets it finish first (disconnect).
			// A wake that brought this call is spent without drain:
			// requestClose sends its own.
			if cs.closeReq.Load() {
				out = cs.disconnect(out, 0, "", false)
			}
			break
		}
		var resumed bool
		if out, resumed = cs.drain(out); !resumed || cs.quit {
			break
		}
	}
	if !cs.quit && cs.overQuery() {
		out = cs.disconnect(out, binproto.ClassLimit, queryLimitMsg, false)
	}
	return out
}

// begin handles the first byte: it picks the protocol, and refuses the
// connection if MaxClients or Handler.Open did.
func (cs *connState) begin(out []byte, first byte) []byte {
	cs.detected = true
	proto := ProtoRESP
	if first == binproto.Magic {
		proto = ProtoBinary
	}
	// Under mu: Push, from any goroutine, writes in proto once it is known.
	cs.mu.Lock()
	cs.proto, cs.protoKnown = proto, true
	cs.mu.Unlock()
	if cs.reject {
		return cs.disconnect(out, binproto.ClassLimit, maxClientsMsg, true)
	}
	if err := cs.openErr; err != nil {
		class, msg := binproto.ClassErr, err.Error()
		var be *binproto.Error
		if errors.As(err, &be) {
			class, msg = be.Class, be.Msg
		}
		return cs.disconnect(out, class, msg, true)
	}
	return out
}

// syncRestrict gives the decoder the limits Conn.RestrictUntil asks for
// the next request.
func (cs *connState) syncRestrict() {
	on := cs.lifted != nil && !cs.lifted.Lifted()
	if on == cs.decLimits {
		return
	}
	cs.decLimits = on
	if cs.rdec != nil {
		cs.rdec.Restrict(on)
	}
	if cs.bdec != nil {
		cs.bdec.Restrict(on)
	}
}

// feed hands in to the decoder; while a request is parked the input is
// only stashed.
func (cs *connState) feed(in []byte) {
	p := cs.tr.decoders()
	if cs.proto == ProtoBinary {
		if cs.bdec == nil {
			cs.bdec = p.getBin(cs.hub.binLim, cs.decLimits)
		}
		cs.bdec.Feed(in)
	} else {
		if cs.rdec == nil {
			cs.rdec = p.getRESP(cs.hub.respLim, cs.decLimits)
		}
		cs.rdec.Feed(in)
	}
	if cs.parked || cs.held || cs.yielded || cs.streaming {
		cs.stash()
	}
}

// stash moves the unparsed input into decoder-owned memory, so that the
// transport may reuse its read buffer while a request is parked.
func (cs *connState) stash() {
	switch {
	case cs.bdec != nil:
		cs.bdec.Stash()
	case cs.rdec != nil:
		cs.rdec.Stash()
	}
}

// putDecoders hands the decoder back to the loop's pool (decPool) once a
// batch leaves nothing in it: no input, no half-read request, no request
// waiting (parked, held, a turn or a stream) or to serve again (redo)
// whose arguments point into its memory. REQUIRES: the processing context.
func (cs *connState) putDecoders() {
	p := cs.tr.decoders()
	if p == nil || cs.parked || cs.held || cs.yielded || cs.streaming || cs.quit || cs.redo != nil {
		return
	}
	if d := cs.rdec; d != nil && d.Idle() {
		cs.rdec = nil
		p.putRESP(d)
	}
	if d := cs.bdec; d != nil && d.Idle() {
		cs.bdec = nil
		p.putBin(d)
	}
}

// buffered returns the input held and not yet served.
func (cs *connState) buffered() int {
	switch {
	case cs.bdec != nil:
		return cs.bdec.Buffered()
	case cs.rdec != nil:
		return cs.rdec.Buffered()
	}
	return 0
}

// serve serves every complete request in the fed input until it runs out,
// a request parks, the connection closes, the output of this batch
// (out[base:]) plus the pending output passes the hard limit, or the
// batch's output reaches turnOut with the input left within the
// query-buffer limit (overQuery).
func (cs *connState) serve(out []byte, base int) []byte {
	hard := cs.hub.outHard.Load()
	room := hard - cs.pendOut.Load() + int64(base) // out may grow to room
	for {
		if cs.closeReq.Load() || cs.aborted.Load() {
			// Closed by another goroutine since the last request
			// (CLIENT KILL, Shutdown): drain turns it into quit. A
			// connection whose turn ended is woken so with requests left.
			return out
		}
		switch {
		case cs.redo != nil:
			r := cs.redo
			cs.redo = nil
			if cs.proto == ProtoBinary {
				out = cs.serveBinary(out, r.Op, r.ID, r.Args)
			} else {
				out = cs.serveRESP(out, r.Argv)
			}
		case cs.proto == ProtoBinary:
			if cs.bdec == nil {
				return out // nothing read since the last batch
			}
			f, err := cs.bdec.Next()
			if err != nil {
				return cs.disconnect(out, classOf(err), msgOf(err), true)
			}
			if f == nil {
				return out
			}
			out = cs.serveFrame(out, f)
		default:
			if cs.rdec == nil {
				return out
			}
			argv, err := cs.rdec.Next()
			if err != nil {
				return cs.disconnect(out, binproto.ClassErr, err.Error(), true)
			}
			if argv == nil {
				return out
			}
			out = cs.serveRESP(out, argv)
		}
		cs.syncRestrict() // AUTH or CONFIG SET requirepass may have lifted it
		switch {
		case cs.quit:
			return out
		case cs.parked:
			cs.stash()
			return out
		case cs.closeReq.Load(), cs.aborted.Load():
			// Aborted (a command that panicked): nothing more is served,
			// though the transport closes the socket after this batch.
			return out
		case cs.streaming:
			if hard > 0 && int64(len(out))+cs.streamLeft.Load() > room {
				return cs.hold(out, base)
			}
			cs.stash()
			return out
		case hard > 0 && int64(len(out)) > room:
			return cs.hold(out, base)
		case cs.turnOut > 0 && len(out)-base >= cs.turnOut && !cs.overQuery():
			return cs.yield(out)
		}
	}
}

// serveRESP serves one RESP request, appending its reply to out (nothing
// if it parked).
func (cs *connState) serveRESP(out []byte, argv [][]byte) []byte {
	mark := len(out)
	cs.sc.req = Request{Argv: argv}
	cs.sc.w.Reset(out, ProtoRESP, cs.RESPVersion())
	cs.sc.w.limit = cs.hub.outHard.Load()
	cs.hub.h.Serve(&cs.Conn, &cs.sc.req, &cs.sc.w)
	cs.sc.w.limit = 0
	if out = cs.sc.w.Bytes(); cs.parked || cs.aborted.Load() {
		// Aborted (the command panicked): nothing of its reply goes
		// out, its values lent included, which the transport would
		// otherwise stream while the abort takes effect.
		cs.sc.w.dropRef()
		return out[:mark]
	}
	if cs.sc.w.Dropped() {
		cs.sc.w.Reset(out[:mark], ProtoRESP, cs.RESPVersion())
		cs.sc.w.Error(binproto.ClassLimit, overReplyMsg)
		return cs.sc.w.Bytes()
	}
	return cs.takeStream(out)
}

// serveFrame serves one binary frame, framing the handler's reply.
func (cs *connState) serveFrame(out []byte, f *binproto.Frame) []byte {
	if !f.IsRequest() {
		return cs.disconnect(out, binproto.ClassProto, badFrameMsg, true)
	}
	d := cs.bdec
	args, err := binproto.ParseArgs(d.args, f.Body, cs.hub.binLim)
	d.args = args
	if err != nil {
		// A body fault concerns this frame only; the connection stays.
		// The handler answers it, so that it counts it (metrics, INFO).
		args = nil
	}
	out = cs.serveBinaryFault(out, f.Op, f.ID, args, err)
	clear(d.args) // they point into the frame, which may be a large body
	if cap(d.args) > retainArgs {
		d.args = nil
	}
	return out
}

// serveBinary serves one binary request, appending its framed reply to out
// (nothing if it parked).
func (cs *connState) serveBinary(out []byte, op binproto.Opcode, id uint32, args []binproto.Value) []byte {
	return cs.serveBinaryFault(out, op, id, args, nil)
}

// serveBinaryFault is serveBinary for a request whose body may have a
// fault (Request.Fault).
func (cs *connState) serveBinaryFault(out []byte, op binproto.Opcode, id uint32, args []binproto.Value, fault error) []byte {
	out, mark := binproto.BeginFrame(out, op, binproto.FlagReply, id)
	cs.sc.req = Request{Op: op, ID: id, Args: args, Fault: fault}
	cs.sc.w.Reset(out, ProtoBinary, 0)
	cs.sc.w.limit = cs.hub.outHard.Load()
	cs.hub.h.Serve(&cs.Conn, &cs.sc.req, &cs.sc.w)
	cs.sc.w.limit = 0
	out = cs.sc.w.Bytes()
	if cs.parked || cs.aborted.Load() {
		cs.sc.w.dropRef() // as serveRESP
		return out[:mark]
	}
	if cs.sc.w.Dropped() {
		cs.sc.w.dropRef()
		return binproto.AppendErrorReply(out[:mark], op, id, binproto.ClassLimit, overReplyMsg)
	}
	if ref := cs.sc.w.Len() - len(out); ref > 0 {
		// The body goes on with a value written by reference.
		if framed, err := binproto.EndFrameWith(out, mark, ref); err == nil {
			return cs.takeStream(framed)
		}
		cs.sc.w.dropRef()
		return binproto.AppendErrorReply(out[:mark], op, id, binproto.ClassLimit, bigReplyMsg)
	}
	return endFrame(out, mark, op, id)
}

// takeStream starts writing the values the request's reply wrote by
// reference, if it did: out, the output so far, is cut where the first
// goes, and what the reply wrote after it is kept for endStream, with the
// later values.
func (cs *connState) takeStream(out []byte) []byte {
	if len(cs.sc.w.refs) == 0 {
		return out
	}
	if cs.rs == nil {
		cs.rs = new(refStream)
	}
	rs := cs.rs
	rs.q = cs.sc.w.takeRefs(rs.q[:0])
	first := rs.q[0]
	at := first.at
	rs.tail = append(rs.tail[:0], out[at:]...)
	left := len(rs.tail)
	for i := range rs.q {
		rs.q[i].at -= at
		left += len(rs.q[i].v)
	}
	rs.q[0] = refSeg{}
	rs.next = 1
	rs.v, rs.rl, rs.off = first.v, first.rl, 0
	cs.streaming = true
	cs.streamLeft.Store(int64(left))
	return out[:at]
}

// streamChunk returns the next part of the value being written by
// reference, at most n bytes, for the transport to hand to the network;
// nil when it has all been. The transport calls streamSent once the part
// has been written (or copied by the network layer), before anything can
// release the value. REQUIRES: the processing context, or, in std's
// writer, procMu; and streaming.
func (cs *connState) streamChunk(n int) []byte {
	return cs.rs.v[:min(n, len(cs.rs.v))]
}

// chunkLeft reports whether the value being written by reference has a
// part streamChunk has not returned yet. REQUIRES: as streamChunk.
func (cs *connState) chunkLeft() bool { return cs.streaming && cs.rs.v != nil }

// streamSent records that the first k bytes of streamChunk's part have
// been handed to the network. REQUIRES: as streamChunk.
func (cs *connState) streamSent(k int) {
	rs := cs.rs
	rs.v = rs.v[k:]
	if len(rs.v) == 0 {
		rs.v = nil // the next process appends the tail
	}
	cs.handed += int64(k)
	cs.streamLeft.Add(-int64(k))
}

// endStream goes on once the value being written by reference has all
// been handed to the network: it releases the value and appends what
// followed it, up to the reply's next value written by reference, which
// it starts writing, or to its end.
func (cs *connState) endStream(out []byte) []byte {
	rs := cs.rs
	if rs.rl != nil {
		rs.rl.Release()
		rs.rl = nil
	}
	if rs.next == len(rs.q) {
		out = append(out, rs.tail[rs.off:]...)
		cs.dropStream()
		return out
	}
	next := rs.q[rs.next]
	rs.q[rs.next] = refSeg{}
	rs.next++
	out = append(out, rs.tail[rs.off:next.at]...)
	cs.streamLeft.Add(-int64(next.at - rs.off))
	rs.off = next.at
	rs.v, rs.rl = next.v, next.rl
	return out
}

// dropStream releases the values being written by reference, written or
// not (the connection has closed).
func (cs *connState) dropStream() {
	rs := cs.rs
	if rs.rl != nil {
		rs.rl.Release()
	}
	for _, r := range rs.q[rs.next:] {
		if r.rl != nil {
			r.rl.Release()
		}
	}
	clear(rs.q)
	rs.q = rs.q[:0]
	if cap(rs.q) > maxKeptRefs {
		rs.q = nil
	}
	rs.v, rs.rl, rs.off, rs.next = nil, nil, 0, 0
	rs.tail = rs.tail[:0]
	if cap(rs.tail) > retainArgs {
		rs.tail = nil
	}
	cs.streaming = false
	cs.streamLeft.Store(0)
}

// endFrame closes the reply frame begun at mark, replacing a missing or
// unframeable body with an error, so that the stream stays well framed.
func endFrame(out []byte, mark int, op binproto.Opcode, id uint32) []byte {
	if len(out) == mark+binproto.HeaderSize {
		out = binproto.AppendError(out, binproto.ClassErr, noReplyMsg)
	}
	out, err := binproto.EndFrame(out, mark)
	if err != nil {
		out = binproto.AppendErrorReply(out, op, id, binproto.ClassLimit, bigReplyMsg)
	}
	return out
}

// classOf and msgOf split a codec error into its wire class and message.
func classOf(err error) binproto.Class {
	var be *binproto.Error
	if errors.As(err, &be) {
		return be.Class
	}
	return binproto.ClassProto
}

func msgOf(err error) string {
	var be *binproto.Error
	if errors.As(err, &be) {
		return be.Msg
	}
	return err.Error()
}

// drain appends what other goroutines queued and applies their requests:
// it reports whether a parked request was completed (so that the held
// input can be served), and turns a close request into quit.
func (cs *connState) drain(out []byte) ([]byte, bool) {
	cs.mu.Lock()
	out = cs.takeInboxLocked(out)
	resumed, overflow, retry := cs.resumed, cs.overflow, cs.retry
	cs.resumed, cs.wakeSent, cs.retry = false, false, nil
	class, msg := cs.closeClass, cs.closeMsg
	cs.mu.Unlock()
	if resumed {
		// The reply goes out now: the idle clock restarts from it, as
		// Redis's does, not from the read of a request blocked for long.
		cs.parked = false
		cs.redo = retry // a postponed request is served again first
		cs.lastRead = cs.hub.now()
	}
	switch {
	case overflow:
		cs.setQuit(true)
	case cs.closeReq.Load():
		out = cs.disconnect(out, class, msg, false)
	}
	return out, resumed
}

// takeInboxLocked moves the inbox to out. REQUIRES: cs.mu held.
func (cs *connState) takeInboxLocked(out []byte) []byte {
	out = append(out, cs.inbox...)
	if cap(cs.inbox) > retainOut {
		cs.inbox = nil
	} else {
		cs.inbox = cs.inbox[:0]
	}
	cs.inboxLen.Store(0)
	return out
}

// disconnect ends the connection: what other goroutines queued is written
// first, then, if msg is set, the reason (a DISCONNECT push on the binary
// protocol; on RESP only if toRESP, since Redis closes silently for
// timeouts and limits). Nothing is written after it.
func (cs *connState) disconnect(out []byte, class binproto.Class, msg string, toRESP bool) []byte {
	if cs.streaming {
		// A reply is half written: nothing may come between its value and
		// its end, so the reason is not told. The transport writes the
		// rest (within closeWait) and then closes.
		cs.mu.Lock()
		cs.closing = true
		cs.mu.Unlock()
		cs.setQuit(false)
		return out
	}
	cs.mu.Lock()
	out = cs.takeInboxLocked(out)
	cs.closing = true
	cs.mu.Unlock()
	if msg != "" && cs.detected {
		switch {
		case cs.proto == ProtoBinary:
			out = binproto.AppendDisconnect(out, class, msg)
		case toRESP:
			cs.sc.w.Reset(out, ProtoRESP, cs.RESPVersion())
			cs.sc.w.Error(class, msg)
			out = cs.sc.w.Bytes()
		}
	}
	cs.setQuit(false)
	return out
}

// hold stops serving once the replies of this batch (out[base:]) have
// taken the pending output past the hard limit: the batch is still
// written, the rest of the input waits, and the transport calls process
// again once the client has read enough (resumeAt). So a client that
// reads is not cut off by the size of its own pipeline, and one that stops
// reading is disconnected after holdWait (holdStalled), the server holding
// at most the hard limit plus that batch for it. REQUIRES: the processing
// context.
func (cs *connState) hold(out []byte, base int) []byte {
	cs.held = true
	cs.slack.Store(int64(len(out)-base) + cs.streamLeft.Load())
	cs.holdPend.Store(math.MaxInt64)
	cs.holdAt.Store(max(cs.hub.now(), 1))
	cs.stash()
	return out
}

// overQuery reports whether the input held and not yet served is past
// QueryBufferLimit, which disconnects the connection at the end of the
// batch. serve does not end a turn so: the input a turn holds back is the
// transport's doing, not the client's, and is served first until it is
// within the limit (a client that pipelines faster than turns serve it,
// reading its replies all along, is not cut off; one that stops reading is
// held at the hard output limit, and charged as before).
func (cs *connState) overQuery() bool {
	q := cs.hub.cfg.QueryBufferLimit
	return q > 0 && int64(cs.buffered()) > q
}

// yield ends the connection's turn once its batch has made turnOut of
// output: the rest of its input waits while the transport serves its
// other connections, and is served at the next call of process, which the
// transport makes soon (gnet: a wake, queued behind the events already
// polled). It does not hold the connection back: the output limits work
// as without it. REQUIRES: the processing context.
func (cs *connState) yield(out []byte) []byte {
	cs.yielded = true
	cs.stash()
	return out
}

// release ends a hold. The requests held are served now, so the idle clock
// restarts as if they had just been read. REQUIRES: the processing context.
func (cs *connState) release() {
	cs.held = false
	cs.lastRead = cs.hub.now()
	cs.slack.Store(0)
	cs.holdAt.Store(0)
}

// holdStalled reports whether a connection on hold has read none of its
// output for holdWait, given its pending output pend at time now: a client
// that stops reading at the hard limit is disconnected then, as one that
// went past it would be. Reading is seen in the kernel's send queue too, so
// that a slow, steady reader shows progress while the transport's own
// buffer waits for room in a full socket.
func (cs *connState) holdStalled(pend, now int64) bool {
	at := cs.holdAt.Load()
	if at == 0 {
		return false
	}
	// std's sweeper runs this beside the processing context, whose release
	// may end the hold meanwhile: holdAt is only swapped, never stored, so
	// that a hold ended is not put back (the connection, no longer held,
	// would be taken for a stalled one holdWait later).
	if pend += cs.tr.sendQueued(); pend < cs.holdPend.Load() {
		if cs.holdAt.CompareAndSwap(at, max(now, 1)) {
			cs.holdPend.Store(pend)
		}
		return false
	}
	// Output added since the last look raises the mark, holdAt staying:
	// reading counts from the most pending since the client last read.
	// So the batch that put the connection on hold counts even when the
	// sweeper looked before it was enqueued, as does a push or a parked
	// request's reply, and a client that reads some of it shows progress.
	for h := cs.holdPend.Load(); pend > h && cs.holdAt.Load() == at; h = cs.holdPend.Load() {
		if cs.holdPend.CompareAndSwap(h, pend) {
			break
		}
	}
	return time.Duration(now-at) > cs.hub.waits.hold && cs.holdAt.Load() == at
}

// resumeAt is the pending output at or under which a held connection is
// served again: half the hard limit.
func (cs *connState) resumeAt() int64 { return cs.hub.outHard.Load() / 2 }

// overflowed drops the batch that took the connection over its hard
// output limit and disconnects it at once. A DISCONNECT push tells the
// client that the requests it has no reply for were not executed (§8), so
// it is left out when the output dropped holds the reply of a parked
// request already completed: the client then sees the connection end, and
// does not re-send a request that ran.
func (cs *connState) overflowed(out []byte, base int) []byte {
	out = out[:base]
	if dropsReply := cs.markOverflow(); cs.proto == ProtoBinary && !dropsReply && !cs.streaming {
		out = binproto.AppendDisconnect(out, binproto.ClassLimit, outLimitMsg)
	}
	cs.setQuit(true)
	return out
}

// markOverflow records a disconnection by an output limit, and reports
// whether the inbox it drops holds the reply of a completed parked
// request.
func (cs *connState) markOverflow() (dropsReply bool) {
	cs.mu.Lock()
	cs.overflow, cs.closing = true, true
	dropsReply = cs.resumed
	cs.mu.Unlock()
	return dropsReply
}

// drainStalled records the pending output pend, a value written by
// reference included, of a quitting connection at time now, and reports
// whether it is to be closed without waiting for the rest: its output has
// not moved for closeWait (a client that stopped reading), or it has
// stayed over the soft output limit for OutputSoftSeconds since it quit.
// A client that goes on reading gets all the replies of what was executed
// before the close (QUIT), however slowly, as from Redis. REQUIRES: the
// processing context (gnet's loop; std's writer in lingerClose).
func (cs *connState) drainStalled(pend, now int64) bool {
	if cs.drainAt == 0 || pend < cs.drainPend {
		cs.drainPend, cs.drainAt = pend, max(now, 1)
	}
	if time.Duration(now-cs.drainAt) > cs.hub.waits.close {
		return true
	}
	soft := cs.hub.outSoft.Load()
	return soft > 0 && pend > soft && time.Duration(now-cs.quitAt) >= max(cs.hub.outSoftFor(), cs.hub.waits.close)
}

func (cs *connState) setQuit(abortive bool) {
	if !cs.quit {
		cs.quit, cs.quitAt = true, cs.hub.now()
	}
	cs.abortive = cs.abortive || abortive
}

// overOutput is outputOver at the present time, with a fast path for
// pending output under both limits.
func (cs *connState) overOutput(pend int64) bool {
	hard, soft := cs.hub.outHard.Load(), cs.hub.outSoft.Load()
	pend += cs.streamLeft.Load() + cs.inboxLen.Load()
	if (soft <= 0 || pend <= soft) && (hard <= 0 || pend <= hard+cs.slack.Load()) {
		if cs.softSince.Load() != 0 {
			cs.softSince.Store(0)
		}
		return false
	}
	return cs.totalOver(pend, cs.hub.now())
}

// outputOver reports whether pending output pend, plus what is left of a
// value written by reference and what other goroutines queued (inbox),
// breaks the hard limit, or has stayed above the soft limit for
// OutputSoftSeconds at time now.
func (cs *connState) outputOver(pend, now int64) bool {
	return cs.totalOver(pend+cs.streamLeft.Load()+cs.inboxLen.Load(), now)
}

// totalOver is outputOver given all the pending output.
func (cs *connState) totalOver(pend, now int64) bool {
	hard, soft := cs.hub.outHard.Load(), cs.hub.outSoft.Load()
	if hard > 0 && pend > hard+cs.slack.Load() || cs.holdStalled(pend, now) {
		return true
	}
	if soft <= 0 || pend <= soft {
		cs.softSince.Store(0)
		return false
	}
	since := cs.softSince.Load()
	if since == 0 {
		cs.softSince.Store(max(now, 1))
		return false
	}
	return time.Duration(now-since) >= cs.hub.outSoftFor()
}

// refused reports whether the connection is to be refused on its first
// byte (by MaxClients or by Handler.Open); such a connection that stays
// silent is closed after rejectWait. REQUIRES: the processing context.
func (cs *connState) refused() bool { return cs.reject || cs.openErr != nil }

// refuseWait is how long a refused connection may stay silent: rejectWait,
// or IdleTimeout when that is shorter.
func (cs *connState) refuseWait() time.Duration {
	if t := cs.hub.idleTimeoutNow(); t > 0 && t < cs.hub.waits.reject {
		return t
	}
	return cs.hub.waits.reject
}

// idle reports whether the connection has been idle past IdleTimeout at
// time now: nothing read from it, nor written to it, for that long. A
// parked (blocked) client is never idle, as in Redis; nor is one
// on hold, which has requests waiting for it to read its output and sends
// nothing meanwhile (holdStalled catches one that stops reading), nor one
// the handler exempted (Conn.SetIdleExempt: a MONITOR client), nor one
// whose input waits in the kernel for the transport to read it.
func (cs *connState) idle(now int64) bool {
	t := cs.hub.idleTimeoutNow()
	if w := cs.handed - cs.pendOut.Load(); w != cs.idleWritten {
		// Output went out since the last look: the client is reading, as
		// Redis counts a write to a client as interaction (a slow reader
		// of a long reply is not idle).
		cs.idleWritten = w
		cs.lastRead = max(cs.lastRead, now)
	}
	// lastRead is kept only while a timeout is on: one set later counts
	// from when it was set.
	last := max(cs.lastRead, cs.hub.idleFrom.Load())
	if t <= 0 || cs.parked || cs.held || cs.quit || cs.idleExempt.Load() || time.Duration(now-last) <= t {
		return false
	}
	if cs.tr.inputWaiting() {
		// A request waits in the socket, unread: the server was late to
		// it (a loaded host, a long command before it on the loop), not
		// the client. Redis reads its clients before its cron looks at
		// them; a sweep here may run first.
		cs.lastRead = now
		return false
	}
	return true
}

// finish runs once the connection has closed: it stops pushes and
// completions, closes the session with the handler and counts the close.
// REQUIRES: the processing context; called exactly once.
func (cs *connState) finish() {
	cs.mu.Lock()
	cs.closed, cs.closing = true, true
	overflow := cs.overflow
	cs.inbox = nil
	cs.inboxLen.Store(0)
	cs.leaveLocked()
	cs.mu.Unlock()
	// Counted gone before the handler forgets the session: a reader of
	// both counts (INFO connected_clients) then never sees the connection
	// gone from the handler but still open in the transport.
	if !cs.reject {
		cs.st.gone.Add(1)
	}
	// So is an output-limit disconnect: a reader that sees the session
	// gone (a MONITOR client off the list) then sees it counted too.
	if overflow {
		cs.st.obufDisc.Add(1)
	}
	if cs.opened {
		cs.opened = false
		cs.hub.h.Close(&cs.Conn)
	}
	if cs.held {
		cs.release()
	}
	if cs.streaming {
		cs.dropStream()
	}
	// A partial command's scratch goes back now: a big one (a large SET
	// cut off) is reserved memory the collector would never return.
	if cs.rdec != nil {
		cs.rdec.Reset()
	}
	if cs.bdec != nil {
		cs.bdec.Reset()
	}
}

// leaveLocked gives up the connection's MaxClients place, once: as it
// finishes, or as soon as it is aborted where the transport takes a moment
// to finish it (std over TLS waits up to notifyWait for close_notify), so
// that a killed client's place is free as the kill returns, as Redis frees
// a killed client at once. REQUIRES: cs.mu held.
func (cs *connState) leaveLocked() {
	if !cs.reject && !cs.left {
		cs.left = true
		cs.hub.active.Add(-1)
	}
}

// kick makes sure a wake is on its way. REQUIRES: cs.mu held.
func (cs *connState) kick() {
	if !cs.wakeSent && !cs.closed {
		cs.wakeSent = true
		cs.tr.wake()
	}
}

// requestClose asks for the connection to be closed after its in-flight
// replies, with an optional reason for binary clients. Any goroutine.
func (cs *connState) requestClose(class binproto.Class, msg string) {
	cs.mu.Lock()
	if !cs.closeReq.Load() {
		cs.closeClass, cs.closeMsg = class, msg
		cs.closeReq.Store(true)
		if !cs.closed {
			cs.tr.closeRequested()
		}
		// The wake kick counts as pending may have been spent already
		// by a process that left the inbox (a push) for the end of a
		// value written by reference, without drain: the close must
		// reach process, or a client that does not read the value would
		// keep its connection (gnet then looks at the socket, not at the
		// connection).
		cs.wakeSent = false
	}
	cs.kick()
	cs.mu.Unlock()
}

// close implements connOps.
func (cs *connState) close(*Conn) { cs.requestClose(0, "") }

// abort implements connOps: the transport closes the socket now, as
// Shutdown's last resort does.
func (cs *connState) pendingOutput() int64 {
	return cs.pendOut.Load() + cs.streamLeft.Load() + cs.inboxLen.Load()
}

func (cs *connState) abort(*Conn) {
	cs.aborted.Store(true)
	cs.mu.Lock()
	if !cs.closed {
		cs.closing = true
		cs.tr.abort()
	}
	cs.mu.Unlock()
}

// park implements connOps. REQUIRES: the processing context (Serve).
func (cs *connState) park(*Conn) *Parked {
	cs.parked = true
	pr := &parkedReq{cs: cs, op: cs.sc.req.Op, id: cs.sc.req.ID}
	return &Parked{complete: pr.complete}
}

// postpone implements connOps. REQUIRES: the processing context (Serve).
func (cs *connState) postpone(*Conn) *Postponed {
	cs.parked = true
	pr := &parkedReq{cs: cs, op: cs.sc.req.Op, id: cs.sc.req.ID, req: ownedRequest(&cs.sc.req)}
	return &Postponed{retry: pr.retry}
}

// ownedRequest returns a copy of r that shares no memory with the read
// buffer, which the decoder reuses once more input arrives: the bytes of
// every argument in one allocation, the slice of them in another.
func ownedRequest(r *Request) *Request {
	n := 0
	for _, a := range r.Argv {
		n += len(a)
	}
	for _, v := range r.Args {
		n += len(v.Bytes)
	}
	buf := make([]byte, 0, n)
	own := func(b []byte) []byte {
		m := len(buf)
		buf = append(buf, b...)
		return buf[m:len(buf):len(buf)]
	}
	c := &Request{Op: r.Op, ID: r.ID}
	if r.Argv != nil {
		c.Argv = make([][]byte, len(r.Argv))
		for i, a := range r.Argv {
			c.Argv[i] = own(a)
		}
	}
	if r.Args != nil {
		c.Args = make([]binproto.Value, len(r.Args))
		for i, v := range r.Args {
			c.Args[i] = v
			if v.Bytes != nil {
				c.Args[i].Bytes = own(v.Bytes)
			}
		}
	}
	return c
}

// parkedReq is the request behind a Parked or Postponed handle.
type parkedReq struct {
	cs   *connState
	op   binproto.Opcode
	id   uint32
	req  *Request // Postpone's copy of the request; nil for Park
	done atomic.Bool
}

// retry resumes the connection, which serves the postponed request again.
func (p *parkedReq) retry() {
	p.resume(func(cs *connState) { cs.retry = p.req })
}

// complete queues the parked request's reply and resumes the connection.
func (p *parkedReq) complete(fn func(w *Writer)) {
	p.resume(func(cs *connState) {
		cs.inbox, _ = cs.appendAsyncLocked(cs.inbox, fn, binproto.FlagReply, p.op, p.id)
		cs.inboxLen.Store(int64(len(cs.inbox)))
	})
}

// resume ends the park once: unless the connection is closing, it runs
// set under cs.mu and wakes the connection's processing. Later calls, and
// calls after close, do nothing.
func (p *parkedReq) resume(set func(cs *connState)) {
	if p.done.Swap(true) {
		return
	}
	cs := p.cs
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.closing {
		return
	}
	set(cs)
	cs.resumed = true
	cs.kick()
}

// push implements connOps.
func (cs *connState) push(_ *Conn, op binproto.Opcode, fn func(w *Writer)) error {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.closing {
		return ErrConnClosed
	}
	if !cs.protoKnown {
		return ErrNotReady
	}
	mark := len(cs.inbox)
	buf, err := cs.appendAsyncLocked(cs.inbox, fn, binproto.FlagPush, op, 0)
	if err != nil {
		cs.inbox = buf[:mark]
		return err
	}
	// What is left of a value written by reference is pending output too.
	// The pushes queued behind a reply being written by reference wait
	// for its end, and the slack that lets the reply through is not
	// theirs: with many values lent in one reply (MGET of a 50 MB key
	// named 1000 times: 50 GB of slack), a client reading it slowly but
	// steadily could have gigabytes of pushes queued meanwhile.
	if hard := cs.hub.outHard.Load(); hard > 0 && (int64(len(buf))+cs.pendOut.Load()+cs.streamLeft.Load() > hard+cs.slack.Load() || int64(len(buf)) > hard) {
		cs.inbox = buf[:mark]
		cs.overflow, cs.closing = true, true
		cs.tr.abort()
		return ErrOutputLimit
	}
	cs.inbox = buf
	cs.inboxLen.Store(int64(len(buf)))
	cs.kick()
	return nil
}

// appendAsyncLocked appends the message fn writes to buf, framed for the
// binary protocol as a reply (FlagReply, op, id) or a push (FlagPush, op).
// REQUIRES: cs.mu held.
func (cs *connState) appendAsyncLocked(buf []byte, fn func(w *Writer), flags binproto.Flags, op binproto.Opcode, id uint32) ([]byte, error) {
	mark := len(buf)
	if cs.proto == ProtoBinary {
		buf, _ = binproto.BeginFrame(buf, op, flags, id)
	}
	if cs.aw == nil {
		// Most connections never get a push or a completion: a Writer
		// in every connState cost each idle connection 128 bytes.
		cs.aw = new(Writer)
	}
	cs.aw.Reset(buf, cs.proto, cs.RESPVersion())
	fn(cs.aw)
	buf = cs.aw.Bytes()
	cs.aw.Reset(nil, cs.proto, 0)
	if cs.proto != ProtoBinary {
		return buf, nil
	}
	if flags&binproto.FlagPush == 0 {
		return endFrame(buf, mark, op, id), nil
	}
	if len(buf) == mark+binproto.HeaderSize {
		return buf[:mark], errEmptyPush
	}
	return binproto.EndFrame(buf, mark)
}
