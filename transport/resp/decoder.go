package resp

import (
	"bytes"
	"math"

	"github.com/ringdb/ringdb/internal/bufpool"
)

// Scratch buffers that grew past these sizes for one unusually large command
// are released once that command has been handed out, so an idle connection
// does not keep them.
const (
	retainScratch = 64 << 10 // bytes of pend and back
	retainArgs    = 1024     // elements of argv
)

// state is the decoder's position inside the grammar of one command.
type state uint8

const (
	stStart   state = iota // before the first byte of a command
	stInline               // inside an inline command line, looking for LF
	stCount                // after '*': digits of the element count
	stCountLF              // after the count's CR
	stDollar               // expecting the '$' of the next element
	stLen                  // digits of a bulk length
	stLenLF                // after the bulk length's CR
	stData                 // inside bulk data
	stDataCR               // expecting the CR after bulk data
	stDataLF               // expecting the LF after bulk data
)

// Decoder is an incremental RESP request decoder: an explicit state machine
// over the bytes fed to it. The zero value is not usable; call NewDecoder.
//
// Ownership: Feed lends the decoder a buffer. The decoder reads it only
// during calls to Next, and keeps no reference to it once Next has returned
// a nil argv (all of it consumed) or after Stash. A command that is split
// across buffers is copied into scratch owned by the decoder.
//
// A Decoder is not safe for concurrent use; a connection owns one.
type Decoder struct {
	lim    Limits // in force: full, or tightened by Restrict
	full   Limits // as configured
	unauth bool   // Restrict(true) is in force

	in    []byte // input being parsed: the fed buffer, or back
	pos   int    // next unparsed byte of in
	owned bool   // in is back

	back []byte // decoder-owned unparsed input (see Stash)

	state state
	start int    // index in in of the current command's first byte, when !split
	split bool   // the current command began in an earlier input; its bytes so far are in pend
	pend  []byte // the split command's bytes so far
	base  int    // command offset of in[0]: -start, or len(pend) when split

	num  int64 // number being parsed (count or bulk length); a negative count is negative
	ndig int   // digits of num seen
	neg  bool  // num had a leading '-'
	left int64 // elements still expected
	bulk int64 // bulk data bytes still expected
	ilen int   // bytes of the current inline line seen so far

	offs []int    // start/end pairs of the arguments, relative to the command's first byte
	argv [][]byte // returned argv; the backing array is reused
	inl  []byte   // unescaped inline arguments

	// Commands Peek parsed whole, handed out by Next without parsing them
	// again: pk[pkNext:] are still to come, their argument bounds (start/end
	// pairs, indexes into in) in pkArgs. Anything that moves or replaces in
	// empties it.
	pk     []peeked
	pkArgs []int
	pkNext int

	shrink bool  // release oversized scratch at the next call
	err    error // sticky protocol error
}

// peeked is a command Peek parsed: it spans in[start:end] and its argc
// arguments' bounds are pkArgs[args : args+2*argc].
type peeked struct {
	start, end, args, argc int
}

// NewDecoder returns a decoder enforcing lim; zero fields of lim take their
// defaults.
func NewDecoder(lim Limits) *Decoder {
	lim = lim.withDefaults()
	return &Decoder{lim: lim, full: lim}
}

// Limits returns the limits in force, defaults filled in.
func (d *Decoder) Limits() Limits { return d.lim }

// Restrict tightens the limits to UnauthMaxArray elements and UnauthMaxBulk
// bytes per bulk string (on), as Redis does for a client that has not
// authenticated to a server that requires it, or restores the configured
// ones (off). A count or length over a restricted limit but within the
// configured one is ErrUnauthMultibulkLength or ErrUnauthBulkLength. It
// applies from the next length the decoder reads.
func (d *Decoder) Restrict(on bool) {
	if on == d.unauth {
		return
	}
	d.unauth, d.lim = on, d.full
	if on {
		d.lim.MaxArray = min(d.lim.MaxArray, UnauthMaxArray)
		d.lim.MaxBulk = min(d.lim.MaxBulk, UnauthMaxBulk)
	}
	d.forgetPeeked() // parsed under the other limits
}

// Feed hands the decoder the next bytes read from the connection. buf must
// stay valid and unmodified until Next returns a nil argv or an error, or
// until Stash is called; after that the decoder holds no reference to it.
//
// If input from an earlier Feed has not been fully consumed yet (the caller
// stopped calling Next early), that input is first moved into decoder-owned
// memory and buf is appended to it.
func (d *Decoder) Feed(buf []byte) {
	d.release()
	d.forgetPeeked()
	if d.pos < len(d.in) {
		// Unparsed input remains; the state is stStart because Next only
		// stops early at a command boundary.
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
// memory, so the caller may reuse that buffer before draining Next, for
// example while a blocking command keeps the rest of a pipeline waiting.
// The argv last returned by Next stays valid.
func (d *Decoder) Stash() {
	if d.owned || d.pos >= len(d.in) {
		return
	}
	d.forgetPeeked()
	d.back = growBack(d.back[:0], d.in[d.pos:])
	d.in, d.pos, d.owned = d.back, 0, true
}

// Buffered returns the number of input bytes the decoder holds that have not
// been returned as commands: unparsed input, stashed input and the part of a
// split command copied so far. A connection can compare it with its
// query-buffer limit.
func (d *Decoder) Buffered() int {
	n := len(d.in) - d.pos
	if d.split {
		n += len(d.pend)
	}
	return n
}

// Idle reports whether the decoder holds nothing: no input, no part of a
// command and no error. A connection may then lend it to another (Reset
// first): what Next returned last points into it no more once the caller
// is done with it.
func (d *Decoder) Idle() bool {
	return d.err == nil && d.state == stStart && !d.split && d.pos >= len(d.in)
}

// Reset discards all input, any partial command and a sticky error, keeping
// the scratch buffers for reuse.
func (d *Decoder) Reset() {
	d.in, d.pos, d.owned = nil, 0, false
	d.state, d.split, d.err = stStart, false, nil
	d.pend, d.back, d.offs = d.pend[:0], d.back[:0], d.offs[:0]
	d.shrink = true
	d.forgetPeeked()
	d.release()
}

// Next returns the next complete command from the fed input.
//
// It returns a nil argv and a nil error when the input holds no further
// complete command; by then all of it has been consumed, a partial command
// has been copied, and the caller's buffer is free. Empty commands (*0,
// *-1, blank inline lines) are skipped, as Redis does, so a non-nil argv
// always has at least one element.
//
// The argv slice and the bytes its elements point into are valid until the
// next call to Next, Feed or Reset; they may point into the fed buffer. The
// elements have their capacity clipped, so appending to one never writes
// over another.
//
// A malformed or over-limit command yields a *ProtocolError (matching
// ErrProtocol). The error is sticky: every later call returns it until
// Reset.
func (d *Decoder) Next() ([][]byte, error) {
	if d.err != nil {
		return nil, d.err
	}
	d.release()
	if d.pkNext < len(d.pk) {
		if p := d.pk[d.pkNext]; p.start == d.pos && d.state == stStart && !d.split {
			d.pkNext++
			return d.handOutPeeked(p), nil
		}
		d.forgetPeeked() // not reached: the invariants above always hold
	}
	in := d.in
	i := d.pos
	for i < len(in) {
		c := in[i]
		switch d.state {
		case stStart:
			d.start, d.base, d.offs = i, -i, d.offs[:0]
			if c == '*' {
				d.state, d.num, d.ndig, d.neg = stCount, 0, 0, false
				i++
			} else {
				d.state, d.ilen = stInline, 0
			}

		case stInline:
			j := bytes.IndexByte(in[i:], '\n')
			if j < 0 {
				d.ilen += len(in) - i
				i = len(in)
				if d.ilen > d.lim.MaxInline {
					return d.fail(ErrInlineTooBig)
				}
				continue
			}
			if d.ilen+j > d.lim.MaxInline {
				return d.fail(ErrInlineTooBig)
			}
			i += j + 1
			argv, err := d.finishInline(i)
			if err != nil {
				return d.fail(err)
			}
			if len(argv) > 0 {
				return argv, nil
			}

		case stCount:
			switch {
			case c >= '0' && c <= '9':
				if (d.ndig > 0 && d.num == 0) || (d.neg && d.ndig == 0 && c == '0') {
					return d.fail(ErrInvalidMultibulkLength) // leading zero, or -0
				}
				// A negative count is accumulated negatively, so that every
				// one that fits an int64 (down to its minimum, 19 digits)
				// skips the command as Redis's string2ll lets it, and one
				// that does not is invalid.
				digit := int64(c - '0')
				if d.neg {
					if d.num < (math.MinInt64+digit)/10 {
						return d.fail(ErrInvalidMultibulkLength)
					}
					d.num = d.num*10 - digit
				} else if d.num = d.num*10 + digit; d.num > d.full.MaxArray {
					return d.fail(ErrInvalidMultibulkLength)
				}
				d.ndig++
			case c == '-' && d.ndig == 0 && !d.neg:
				d.neg = true
			case c == '\r' && d.ndig > 0:
				d.state = stCountLF
			default:
				return d.fail(ErrInvalidMultibulkLength)
			}
			i++

		case stCountLF:
			// Only a restricted limit is left. Redis checks it before
			// the byte after the CR, as stLen does for a bulk length.
			if d.num > d.lim.MaxArray {
				return d.fail(ErrUnauthMultibulkLength)
			}
			if c != '\n' {
				return d.fail(ErrInvalidMultibulkLength)
			}
			i++
			if d.neg || d.num == 0 {
				d.skipCommand()
				continue
			}
			d.left, d.state = d.num, stDollar

		case stDollar:
			if c != '$' {
				return d.fail(expectedDollar(c))
			}
			d.state, d.num, d.ndig = stLen, 0, 0
			i++

		case stLen:
			// Digits in a tight loop; the common case never leaves it
			// until the CR.
			for ; c >= '0' && c <= '9'; c = in[i] {
				if d.ndig > 0 && d.num == 0 {
					return d.fail(ErrInvalidBulkLength) // leading zero
				}
				d.num = d.num*10 + int64(c-'0')
				d.ndig++
				if d.num > d.full.MaxBulk {
					return d.fail(ErrInvalidBulkLength)
				}
				if i++; i == len(in) {
					break
				}
			}
			if i == len(in) {
				break
			}
			if c != '\r' || d.ndig == 0 {
				return d.fail(ErrInvalidBulkLength)
			}
			if d.num > d.lim.MaxBulk { // only a restricted limit is left
				return d.fail(ErrUnauthBulkLength)
			}
			d.state = stLenLF
			i++

		case stLenLF:
			if c != '\n' {
				return d.fail(ErrInvalidBulkLength)
			}
			i++
			s := i + d.base
			d.offs = append(d.offs, s, s+int(d.num))
			d.bulk = d.num
			// Fast path: data and CRLF whole in the input.
			if n := int(d.bulk); len(in)-i >= n+2 {
				if in[i+n] != '\r' || in[i+n+1] != '\n' {
					return d.fail(ErrInvalidBulkLength)
				}
				i += n + 2
				if d.left--; d.left > 0 {
					d.state = stDollar
					continue
				}
				return d.finishMultibulk(i), nil
			}
			d.state = stData
			if d.bulk == 0 {
				d.state = stDataCR
			}

		case stData:
			n := len(in) - i
			if int64(n) >= d.bulk {
				n = int(d.bulk)
				d.state = stDataCR
			}
			i += n
			d.bulk -= int64(n)

		case stDataCR:
			if c != '\r' {
				return d.fail(ErrInvalidBulkLength)
			}
			d.state = stDataLF
			i++

		case stDataLF:
			if c != '\n' {
				return d.fail(ErrInvalidBulkLength)
			}
			i++
			if d.left--; d.left > 0 {
				d.state = stDollar
				continue
			}
			return d.finishMultibulk(i), nil
		}
	}

	// All input consumed. Keep a partial command in pend; the caller's
	// buffer is released.
	if d.state != stStart {
		if d.split {
			d.appendPend(in)
		} else {
			d.pend = d.pend[:0]
			d.appendPend(in[d.start:])
			d.split = true
		}
		d.base = len(d.pend)
	}
	if d.owned {
		d.back = d.back[:0]
		d.shrink = d.shrink || cap(d.back) > retainScratch
	}
	d.in, d.pos, d.owned = nil, 0, false
	return nil, nil
}

// command returns the bytes of the current command, which ends at in[end],
// and marks the input consumed up to end.
func (d *Decoder) command(end int) []byte {
	d.pos, d.state = end, stStart
	if !d.split {
		return d.in[d.start:end]
	}
	d.appendPend(d.in[:end])
	d.split = false
	d.shrink = d.shrink || cap(d.pend) > retainScratch
	return d.pend
}

// finishMultibulk builds argv for the multibulk command ending at in[end].
func (d *Decoder) finishMultibulk(end int) [][]byte {
	cmd := d.command(end)
	argv := d.argv[:0]
	for k := 0; k+1 < len(d.offs); k += 2 {
		a, b := d.offs[k], d.offs[k+1]
		argv = append(argv, cmd[a:b:b])
	}
	d.argv = argv
	d.shrink = d.shrink || cap(argv) > retainArgs
	return argv
}

// finishInline splits the inline command line ending at in[end] (just after
// its LF) into argv.
func (d *Decoder) finishInline(end int) ([][]byte, error) {
	line := d.command(end)
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return d.splitArgs(line)
}

// skipCommand drops an empty multibulk command.
func (d *Decoder) skipCommand() {
	d.state = stStart
	if d.split {
		d.split = false
		d.pend = d.pend[:0]
	}
}

// handOutPeeked returns the argv of p, a command Peek parsed whole, and
// consumes it, as finishMultibulk does for one Next parsed.
func (d *Decoder) handOutPeeked(p peeked) [][]byte {
	argv := d.argv[:0]
	for k := p.args; k < p.args+2*p.argc; k += 2 {
		a, b := d.pkArgs[k], d.pkArgs[k+1]
		argv = append(argv, d.in[a:b:b])
	}
	d.pos = p.end
	d.argv = argv
	d.shrink = d.shrink || cap(argv) > retainArgs ||
		d.pkNext == len(d.pk) && cap(d.pkArgs) > 2*retainArgs
	return argv
}

// forgetPeeked drops what Peek parsed; its indexes are into the current in.
func (d *Decoder) forgetPeeked() {
	d.pk, d.pkArgs, d.pkNext = d.pk[:0], d.pkArgs[:0], 0
}

// fail records a sticky protocol error and drops the input.
func (d *Decoder) fail(err error) ([][]byte, error) {
	d.err = err
	d.forgetPeeked()
	d.in, d.pos, d.owned = nil, 0, false
	return nil, err
}

// appendPend appends b to pend. Past retainScratch, pend grows in buffers
// shared by all connections (bufpool): a command of hundreds of KiB (a large
// SET) otherwise took fresh heap memory, and page faults on it, every time.
// A bulk still expecting over retainScratch bytes goes to the pool at once,
// skipping the small buffers a growing append would allocate on the way.
// The size asked for is twice what is held, not what the bulk claims;
// but once a command holds more than bufpool.Max, it moves to a buffer
// sized for the whole of what its bulk declared (bufpool.GrowTo: reserved,
// committed only as the bytes arrive), not doubling on: doubling held
// three times a 100 MiB value at its peak.
func (d *Decoder) appendPend(b []byte) {
	n := len(d.pend) + len(b)
	if n <= retainScratch && !(d.state == stData && d.bulk > retainScratch) {
		d.pend = append(d.pend, b...)
		return
	}
	d.pend = bufpool.GrowTo(d.pend, b, 2*retainScratch, n+d.declared())
}

// declared returns the bytes the current command's bulk still declares,
// its CRLF included; its length has been checked against MaxBulk.
func (d *Decoder) declared() int {
	switch d.state {
	case stData:
		return int(d.bulk) + 2
	case stDataCR:
		return 2
	case stDataLF:
		return 1
	}
	return 0
}

// release frees scratch that grew past its retention size, once no returned
// argv and no partial command can point into it any more.
func (d *Decoder) release() {
	if !d.shrink || d.state != stStart || d.split {
		return
	}
	d.shrink = false
	// The argv handed out last points into pend or back, whichever it was
	// parsed from: kept in argv's storage, it would keep the buffer
	// dropped below (the 128 MiB a 100 MB SET gathered in, or the stash
	// it waited in) from the collector for as long as the connection
	// stays idle.
	clear(d.argv[:cap(d.argv)])
	if cap(d.pend) > retainScratch {
		bufpool.Put(d.pend)
		d.pend = nil
	}
	if cap(d.argv) > retainArgs {
		d.argv, d.offs = nil, nil
	}
	if d.pkNext >= len(d.pk) && cap(d.pkArgs) > 2*retainArgs {
		d.pk, d.pkArgs, d.pkNext = nil, nil, 0
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
