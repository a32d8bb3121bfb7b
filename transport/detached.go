package transport

// NewDetachedConn returns a Conn that speaks proto but belongs to no
// transport, for driving a Handler's Open, Serve and Close directly: tests
// and benchmarks of a handler's own cost. Park, Postpone, Push, Close and
// Abort are not available on it (they need a transport) and panic.
func NewDetachedConn(proto Proto) *Conn { return &Conn{proto: proto} }
