package transport

import "sync/atomic"

// Stats are a transport's counters, summed on demand (for INFO and
// /metrics). Counters only grow; Connected is a gauge.
type Stats struct {
	// BytesIn is the number of bytes read from clients.
	BytesIn uint64
	// BytesOut is the number of bytes written to client sockets; output
	// a connection still buffers is counted once written, and output
	// lost with its connection not at all.
	BytesOut uint64
	// ConnectionsTotal is the number of connections accepted, refused
	// ones included.
	ConnectionsTotal uint64
	// Rejected is the number of connections refused by MaxClients, or
	// closed at once because the process is near its open-file limit.
	Rejected uint64
	// OutputBufferDisconnects is the number of clients disconnected by an
	// output-buffer limit.
	OutputBufferDisconnects uint64
	// Connected is the number of connections open now, refused ones
	// excluded.
	Connected int64
}

// StatsProvider is implemented by every transport in this package. It is a
// separate interface so that other Server implementations need not count.
type StatsProvider interface {
	// Stats returns the counters summed over event loops and connections.
	// Safe from any goroutine; it takes no lock on the request path.
	Stats() Stats
}

// counters is one writer's share of Stats: an event loop's, or a std
// connection's. Each field has a single writer, so the atomic adds never
// contend; the padding keeps two loops' counters off one cache line.
type counters struct {
	bytesIn  atomic.Uint64
	bytesOut atomic.Uint64
	accepted atomic.Uint64 // connections accepted, refused ones included
	rejected atomic.Uint64 // refused by MaxClients
	gone     atomic.Uint64 // accepted connections (not refused) closed
	obufDisc atomic.Uint64 // output-buffer-limit disconnects
	_        [16]byte
}

// addTo adds c to s.
func (c *counters) addTo(s *Stats) {
	s.BytesIn += c.bytesIn.Load()
	s.BytesOut += c.bytesOut.Load()
	s.ConnectionsTotal += c.accepted.Load()
	s.Rejected += c.rejected.Load()
	s.OutputBufferDisconnects += c.obufDisc.Load()
	s.Connected += int64(c.accepted.Load()) - int64(c.rejected.Load()) - int64(c.gone.Load())
}
