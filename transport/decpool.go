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
	resp []*respIn
	bin  []*binIn
}

// getRESP returns a RESP decoder with no input (a new one if p is nil or
// empty), under the full limits lim or, when restricted, the
// pre-authentication ones.
func (p *decPool) getRESP(lim resp.Limits, restricted bool) *respIn {
	var d *respIn
	if n := p.respFree(); n > 0 {
		d = p.resp[n-1]
		p.resp[n-1] = nil
		p.resp = p.resp[:n-1]
	} else {
		d = &respIn{Decoder: *resp.NewDecoder(lim)}
	}
	d.Restrict(restricted)
	return d
}

// putRESP takes back d, which holds no input.
func (p *decPool) putRESP(d *respIn) {
	d.Reset()
	clear(d.peeked)
	if len(p.resp) < maxPooledDecoders {
		p.resp = append(p.resp, d)
	}
}

// getBin is getRESP for the binary protocol.
func (p *decPool) getBin(lim binproto.Limits, restricted bool) *binIn {
	var d *binIn
	if n := p.binFree(); n > 0 {
		d = p.bin[n-1]
		p.bin[n-1] = nil
		p.bin = p.bin[:n-1]
	} else {
		d = &binIn{Decoder: *binproto.NewDecoder(lim)}
	}
	d.Restrict(restricted)
	return d
}

// putBin is putRESP for the binary protocol.
func (p *decPool) putBin(d *binIn) {
	d.Reset()
	clear(d.args)
	if len(p.bin) < maxPooledDecoders {
		p.bin = append(p.bin, d)
	}
}

// respFree returns how many RESP decoders p holds; a nil p holds none.
func (p *decPool) respFree() int {
	if p == nil {
		return 0
	}
	return len(p.resp)
}

// binFree is respFree for the binary protocol.
func (p *decPool) binFree() int {
	if p == nil {
		return 0
	}
	return len(p.bin)
}
