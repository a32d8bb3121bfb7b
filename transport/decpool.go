package transport

import (
	"github.com/ringdb/ringdb/transport/binproto"
	"github.com/ringdb/ringdb/transport/resp"
)

// respIn is a connection's RESP decoder with the scratch that goes with it.
type respIn struct {
	resp.Decoder
	peeked [][]byte // keys of the batch just read, for the Prefetcher
}

// binIn is a connection's binary-protocol decoder with the scratch that
// goes with it.
type binIn struct {
	binproto.Decoder
	args []binproto.Value // the arguments of the frame being served
}

// maxPooledDecoders bounds each protocol's free decoders in a pool: about
// as many as a loop's connections are ever in the middle of a command at
// once. Past it, a decoder handed back is left to the collector.
const maxPooledDecoders = 64

// decPool keeps the decoders of a gnet loop's connections while they have
// no input: a connection needs one only from a read to the end of the
// requests it completes, and an idle connection held about 450 bytes in
// its RESP decoder and scratch, nearly a quarter of what Redis spends on a
// whole idle client. The connection takes one on its next read (with the
// limits it is under: Restrict) and hands it back when a batch leaves
// nothing half-read and nothing pointing into it (connState.putDecoders).
// Only the loop's goroutine uses it.
type decPool struct {
	resp freeList[respIn]
	bin  freeList[binIn]
}

// freeList is a stack of free decoders of one protocol, at most
// maxPooledDecoders.
type freeList[T any] struct{ free []*T }

// pop returns the decoder pushed last, nil when there is none (or no
// pool: l nil).
func (l *freeList[T]) pop() *T {
	if l == nil || len(l.free) == 0 {
		return nil
	}
	n := len(l.free) - 1
	d := l.free[n]
	l.free[n] = nil
	l.free = l.free[:n]
	return d
}

// push keeps d, unless the list is full.
func (l *freeList[T]) push(d *T) {
	if len(l.free) < maxPooledDecoders {
		l.free = append(l.free, d)
	}
}

// getRESP returns a RESP decoder with no input (a new one if p is nil or
// empty), under the full limits lim or, when restricted, the
// pre-authentication ones.
func (p *decPool) getRESP(lim resp.Limits, restricted bool) *respIn {
	var d *respIn
	if p != nil {
		d = p.resp.pop()
	}
	if d == nil {
		d = &respIn{Decoder: *resp.NewDecoder(lim)}
	}
	d.Restrict(restricted)
	return d
}

// putRESP takes back d, which holds no input.
func (p *decPool) putRESP(d *respIn) {
	d.Reset()
	clear(d.peeked)
	p.resp.push(d)
}

// getBin is getRESP for the binary protocol.
func (p *decPool) getBin(lim binproto.Limits, restricted bool) *binIn {
	var d *binIn
	if p != nil {
		d = p.bin.pop()
	}
	if d == nil {
		d = &binIn{Decoder: *binproto.NewDecoder(lim)}
	}
	d.Restrict(restricted)
	return d
}

// putBin is putRESP for the binary protocol.
func (p *decPool) putBin(d *binIn) {
	d.Reset()
	clear(d.args)
	p.bin.push(d)
}
