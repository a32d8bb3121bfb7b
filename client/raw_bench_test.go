package client

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"testing"

	"github.com/ringdb/ringdb/server"
	"github.com/ringdb/ringdb/transport/binproto"
)

// BenchmarkRawBinaryGetSerial is the floor for BenchmarkGetSerial: one
// goroutine writing a GET frame and reading its reply on a bare socket.
func BenchmarkRawBinaryGetSerial(b *testing.B) {
	s := startServer(b, server.Config{})
	c := newClient(b, s.Addr())
	c.Set(context.Background(), "k", []byte("value"), 0)
	nc, err := net.Dial("tcp", s.Addr())
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	cn := &conn{nc: nc}
	if err := cn.hello(context.Background(), &c.o); err != nil {
		b.Fatal(err)
	}
	frame := keyCmd(binproto.OpGet, "k").finish()
	var hdr [12]byte
	body := make([]byte, 64)
	id := uint32(1)
	for b.Loop() {
		id++
		binary.BigEndian.PutUint32(frame[4:], id)
		if _, err := nc.Write(frame); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(nc, hdr[:]); err != nil {
			b.Fatal(err)
		}
		n := binary.BigEndian.Uint32(hdr[8:])
		if _, err := io.ReadFull(nc, body[:n]); err != nil {
			b.Fatal(err)
		}
	}
}
