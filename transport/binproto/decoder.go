package binproto

import "github.com/ringdb/ringdb/internal/bufpool"

// retainScratch is the largest split-frame scratch kept between frames; a
// bigger one is released once the frame that needed it has been handed out.
const retainScratch = 64 << 10

// Decoder is an incremental frame decoder: a two-state machine (header,
// body) over the bytes fed to it. The zero value is not usable; call
// NewDecoder.
//
// Ownership: Feed lends the decoder a buffer. The decoder reads it only
// during calls to Next and keeps no reference to it once Next has returned a
// nil frame (all of it consumed) or after Stash. A frame split across
// buffers is copied into scratch owned by the decoder: a partial header into
// a fixed 12-byte array, a partial body into a buffer that grows only as
// body bytes arrive, never ahead of them.
//
// A Decoder is not safe for concurrent use; a connection owns one.
type Decoder struct {
	lim    Limits
	unauth bool // Restrict(true) is in force

	in    []byte // input being parsed: the fed buffer, or back
	pos   int    // next unparsed byte of in
	owned bool   // in is back
	back  []byte // decoder-owned unparsed input (see Stash)

	hdr  [HeaderSize]byte // partial header
	nhdr int              // bytes in hdr

	inBody bool   // the header is parsed and the body is being copied into pend
	need   int    // body bytes still missing
	pend   []byte // the split body so far

	frame  Frame
	shrink bool  // release oversized scratch at the next call
	err    error // sticky frame-level error
}

// NewDecoder returns a decoder enforcing lim.MaxFrame on every frame's
// declared length; zero fields of lim take their defaults. (MaxValue and
// MaxArray apply to ParseArgs and Reader.)
func NewDecoder(lim Limits) *Decoder {
	return &Decoder{lim: lim.withDefaults()}
}

// Limits returns the limits in force, defaults filled in.
func (d *Decoder) Limits() Limits { return d.lim }

// Restrict limits frame bodies to UnauthMaxFrame bytes (on), for a client
// that has not authenticated to a server that requires it, or lifts that
// limit (off). A longer frame is ErrUnauthFrameTooLarge. It applies from the
// next header the decoder reads.
func (d *Decoder) Restrict(on bool) { d.unauth = on }

// Feed hands the decoder the next bytes read from the connection. buf must
// stay valid and unmodified until Next returns a nil frame or an error, or
// until Stash is called.
//
// If input from an earlier Feed has not been fully consumed yet, that input
// is first moved into decoder-owned memory and buf is appended to it.
func (d *Decoder) Feed(buf []byte) {
	d.release()
	if d.pos < len(d.in) {
		rest := d.in[d.pos:]
		if d.owned {
			d.back = d.back[:copy(d.back, rest)]
		} else {
			d.back = growBack(d.back[:0], rest)
		}
		d.back = growBack(d.back, buf)
		d.in, d.pos, d.owned = d.back, 0, true
		return
	}
	d.in, d.pos, d.owned = buf, 0, false
}

// Stash copies the unparsed rest of the fed buffer into decoder-owned
// memory, so the caller may reuse that buffer before draining Next. The
// frame last returned by Next stays valid.
func (d *Decoder) Stash() {
	if d.owned || d.pos >= len(d.in) {
		return
	}
	d.back = growBack(d.back[:0], d.in[d.pos:])
	d.in, d.pos, d.owned = d.back, 0, true
}

// Buffered returns the number of input bytes the decoder holds that have not
// been returned as frames: unparsed input, stashed input and the part of a
// split frame copied so far.
func (d *Decoder) Buffered() int {
	n := len(d.in) - d.pos + d.nhdr
	if d.inBody {
		n += HeaderSize + len(d.pend)
	}
	return n
}

// Idle reports whether the decoder holds nothing: no input, no part of a
// frame and no error. A connection may then lend it to another (Reset
// first): the frame Next returned last points into it no more once the
// caller is done with it.
func (d *Decoder) Idle() bool {
	return d.err == nil && d.nhdr == 0 && !d.inBody && d.pos >= len(d.in)
}

// Reset discards all input, any partial frame and a sticky error, keeping
// the scratch buffers for reuse.
func (d *Decoder) Reset() {
	d.in, d.pos, d.owned = nil, 0, false
	d.nhdr, d.inBody, d.need, d.err = 0, false, 0, nil
	d.pend, d.back = d.pend[:0], d.back[:0]
	d.shrink = true
	d.release()
}

// Next returns the next complete frame from the fed input.
//
// It returns nil and a nil error when the input holds no further complete
// frame; by then all of it has been consumed, a partial frame has been
// copied, and the caller's buffer is free.
//
// The returned *Frame and the Body it points to are valid until the next
// call to Next, Feed or Reset; Body may point into the fed buffer and has its
// capacity clipped.
//
// The header is validated with ParseHeader and its Length against
// Limits.MaxFrame before a single body byte is copied; a first byte other
// than Magic is reported as soon as it arrives. Errors are *Error
// values (ErrBadMagic, ErrBadFlags, ErrBadID, ErrBadOpcode,
// ErrFrameTooLarge). They are sticky: framing is lost, so every later call
// returns the same error until Reset. The body is not inspected; use
// ParseArgs or Reader.
func (d *Decoder) Next() (*Frame, error) {
	if d.err != nil {
		return nil, d.err
	}
	d.release()
	in := d.in
	for d.pos < len(in) {
		if d.inBody {
			n := min(d.need, len(in)-d.pos)
			if len(d.pend)+d.need > retainScratch {
				// A large split body grows in buffers shared by all
				// connections, as the RESP decoder's commands do; past
				// bufpool.Max in one sized for the whole body, its
				// memory committed as the body arrives (GrowTo).
				d.pend = bufpool.GrowTo(d.pend, in[d.pos:d.pos+n], 2*retainScratch, len(d.pend)+d.need)
			} else {
				d.pend = append(d.pend, in[d.pos:d.pos+n]...)
			}
			d.pos += n
			if d.need -= n; d.need > 0 {
				break
			}
			d.inBody = false
			d.shrink = d.shrink || cap(d.pend) > retainScratch
			d.frame.Body = d.pend[:len(d.pend):len(d.pend)]
			return &d.frame, nil
		}

		// Header: parse it in place when whole, else gather it in hdr.
		var hb []byte
		if d.nhdr == 0 && len(in)-d.pos >= HeaderSize {
			hb = in[d.pos : d.pos+HeaderSize]
			d.pos += HeaderSize
		} else {
			n := copy(d.hdr[d.nhdr:], in[d.pos:])
			d.nhdr += n
			d.pos += n
			if d.hdr[0] != Magic {
				// Report a stray protocol at once, not after 12 bytes.
				return d.fail(ErrBadMagic)
			}
			if d.nhdr < HeaderSize {
				break
			}
			d.nhdr = 0
			hb = d.hdr[:]
		}
		h, err := ParseHeader(hb)
		switch {
		case err != nil:
		case int64(h.Length) > d.lim.MaxFrame:
			err = ErrFrameTooLarge
		case d.unauth && h.Length > UnauthMaxFrame:
			err = ErrUnauthFrameTooLarge
		}
		if err != nil {
			return d.fail(err)
		}
		d.frame.Header = h
		if n := int(h.Length); len(in)-d.pos >= n {
			// The body is whole in the input: hand out a sub-slice.
			d.frame.Body = in[d.pos : d.pos+n : d.pos+n]
			d.pos += n
			return &d.frame, nil
		}
		d.inBody, d.need, d.pend = true, int(h.Length), d.pend[:0]
	}

	// All input consumed; a partial frame is in hdr or pend.
	if d.owned {
		d.back = d.back[:0]
		d.shrink = d.shrink || cap(d.back) > retainScratch
	}
	d.in, d.pos, d.owned = nil, 0, false
	return nil, nil
}

// fail records a sticky frame-level error and drops the input.
func (d *Decoder) fail(err error) (*Frame, error) {
	d.err = err
	d.in, d.pos, d.owned = nil, 0, false
	return nil, err
}

// release frees scratch that grew past its retention size, once no returned
// frame and no partial frame can point into it any more.
func (d *Decoder) release() {
	if !d.shrink || d.inBody {
		return
	}
	d.shrink = false
	// The frame handed out last points into pend or back, whichever it
	// was read from: kept, it would keep the buffer dropped below (the
	// 128 MiB a 100 MB SET gathered in, or the stash it waited in) from
	// the collector for as long as the connection stays idle.
	d.frame.Body = nil
	if cap(d.pend) > retainScratch {
		bufpool.Put(d.pend)
		d.pend = nil
	}
	if !d.owned && cap(d.back) > retainScratch {
		bufpool.Put(d.back)
		d.back = nil
	}
}

// growBack appends extra to b, the decoder's stash of unparsed input. Past
// retainScratch it grows in buffers from bufpool, past bufpool.Max in
// reserved ones (bufpool.GrowTo), which release gives back: a client
// parked or held back may pipeline up to the query-buffer limit, and a
// stash grown on the Go heap stayed in the server's RSS long after the
// client had gone.
func growBack(b, extra []byte) []byte {
	if len(b)+len(extra) <= retainScratch {
		return append(b, extra...)
	}
	return bufpool.GrowTo(b, extra, 2*retainScratch, 0)
}
