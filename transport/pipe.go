package transport

import (
	"context"
	"net"
	"sync"
)

// Pipe is an in-memory transport for tests: Dial returns the client end of
// a net.Pipe whose server end is served exactly as the std transport serves
// a socket (TLS included, when Config.TLS is set). Config.Addr is ignored.
type Pipe struct {
	*netServer
	ln *pipeListener
}

// NewPipe returns a Pipe server; call Serve before Dial.
func NewPipe(cfg Config) *Pipe {
	ln := &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
	s := newNetServer(cfg, func(string) (net.Listener, error) { return ln, nil })
	return &Pipe{netServer: s, ln: ln}
}

// Dial connects a new client. It blocks until Serve accepts the
// connection, and returns ErrServerClosed after Shutdown. The returned
// net.Conn is synchronous, as net.Pipe's are: a write completes only when
// the server has read it.
func (p *Pipe) Dial() (net.Conn, error) {
	client, server := net.Pipe()
	select {
	case p.ln.conns <- server:
		return client, nil
	case <-p.ln.done:
		_ = client.Close()
		_ = server.Close()
		return nil, ErrServerClosed
	}
}

// Shutdown implements Server. It closes the listener itself too, which
// netServer does only once Serve has set it: after a Shutdown before Serve,
// Dial would otherwise block for good instead of failing. Not before
// netServer's Shutdown, whose closing flag tells a running Serve's Accept
// error from a failure.
func (p *Pipe) Shutdown(ctx context.Context) error {
	err := p.netServer.Shutdown(ctx)
	_ = p.ln.Close()
	return err
}

// pipeListener is the net.Listener behind a Pipe.
type pipeListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

// Accept implements net.Listener.
func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close implements net.Listener.
func (l *pipeListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

// Addr implements net.Listener.
func (l *pipeListener) Addr() net.Addr { return pipeAddr{} }

// pipeAddr is the address of a Pipe.
type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "ringdb-pipe" }
