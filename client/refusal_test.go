package client

import (
	"context"
	"errors"
	"testing"

	"github.com/ringdb/ringdb/server"
)

// TestRefusedAtHelloIsConnLost: a server that refuses the connection with a
// DISCONNECT push before answering HELLO (here: max clients) is a failure
// to connect, which doc.go and ErrConnLost promise to report as
// ErrConnLost; the push's class (LIMIT) still matches too.
func TestRefusedAtHelloIsConnLost(t *testing.T) {
	s := startServer(t, server.Config{MaxClients: 1})
	newClient(t, s.Addr(), WithPoolSize(1)) // takes the only slot
	c, err := New(context.Background(), s.Addr(), WithPoolSize(1))
	if err == nil {
		c.Close()
		t.Fatal("New succeeded past max clients")
	}
	if !errors.Is(err, ErrConnLost) || !errors.Is(err, ErrLimit) {
		t.Fatalf("New past max clients = %v; want an error matching ErrConnLost and ErrLimit", err)
	}
}
