package server

import (
	"github.com/ringdb/ringdb/transport"
)

// transportFactories creates a transport by Config.Transport kind.
var transportFactories = map[string]func(transport.Config) (transport.Server, error){
	TransportGnet: func(c transport.Config) (transport.Server, error) { return transport.NewGnet(c), nil },
	TransportStd:  func(c transport.Config) (transport.Server, error) { return transport.NewStd(c), nil },
}

// transportStats reads the transport's counters, or zeros when it does not
// count (transport.StatsProvider is optional for a transport.Server).
func (s *Server) transportStats() transport.Stats {
	if p, ok := s.tr.(transport.StatsProvider); ok {
		return p.Stats()
	}
	return transport.Stats{}
}
