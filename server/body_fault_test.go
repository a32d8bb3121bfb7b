package server

import (
	"strings"
	"testing"

	"github.com/ringdb/ringdb/transport/binproto"
)

// TestBodyFaultsCounted: a binary request whose body cannot be read (here
// an unknown value tag) is answered with its error, as before, and now
// counted: the transport used to answer it without the handler, so
// /metrics and INFO errorstats never showed it, and a client sending
// values over the limit was invisible to monitoring.
func TestBodyFaultsCounted(t *testing.T) {
	forEachTransport(t, Config{MetricsAddr: "127.0.0.1:0"}, func(t *testing.T, ts *testServer) {
		b := newBinClient(t, ts)
		b.hello(nil, nil)
		b.id++
		frame, mark := binproto.BeginFrame(nil, binproto.OpSet, 0, b.id)
		frame = binproto.AppendArgCount(frame, 2)
		frame = binproto.AppendString(frame, "k")
		frame = append(frame, 0xEE) // no such value tag
		frame, err := binproto.EndFrame(frame, mark)
		if err != nil {
			t.Fatal(err)
		}
		b.writeRaw(frame)
		got := b.reply(binproto.OpSet, b.id)
		if e, ok := got.(binErr); !ok || e.class != binproto.ClassProto {
			t.Fatalf("SET with a bad body = %#v, want a PROTO error", got)
		}
		if got := b.call(binproto.OpGet, "k"); got != nil {
			t.Fatalf("GET after the fault = %#v, want nil (the connection goes on)", got)
		}
		m := waitMetric(t, ts.MetricsAddr(), `ringdb_command_errors_total{cmd="set",class="PROTO"}`, 1)
		if v := m[`ringdb_commands_total{cmd="set"}`]; v != 0 {
			t.Errorf("set calls %v, want 0: the request never ran", v)
		}
		info := infoBody(t, ts.raw(t).do(t, "INFO", "errorstats"))
		// INFO names errors by Redis's prefix: ERR for PROTO and LIMIT.
		if !strings.Contains(info, "errorstat_ERR:count=1") {
			t.Errorf("INFO errorstats = %q, want errorstat_ERR:count=1", info)
		}
	})
}
