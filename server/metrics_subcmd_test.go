package server

import (
	"testing"

	"github.com/ringdb/ringdb/stats"
)

// TestMetricsCountRefusalsAsRedis: on /metrics, a subcommand counts under
// its command; a request refused before it runs (an unknown subcommand, a
// subcommand's arity, a command refused inside MULTI) counts no call, as
// Redis counts none, but its error does count; an unknown command counts
// nowhere.
func TestMetricsCountRefusalsAsRedis(t *testing.T) {
	s := newDirectServer(t, Config{MetricsAddr: "127.0.0.1:0"})
	c := newDirectClient(t, s)
	for _, args := range [][]string{
		{"CONFIG", "GET", "maxmemory"}, {"CONFIG", "NOPE"}, {"CONFIG", "GET"},
		{"CLIENT", "SETNAME", "x"}, {"NOSUCH"},
		{"MULTI"}, {"SHUTDOWN"}, {"DISCARD"},
	} {
		c.do(t, args...)
	}
	calls, errs := sampledCounts(s)
	want := map[string]uint64{"config": 1, "client": 1, "multi": 1, "discard": 1}
	if len(calls) != len(want) {
		t.Errorf("ringdb_commands_total: %v, want %v", calls, want)
	}
	for name, n := range want {
		if calls[name] != n {
			t.Errorf("ringdb_commands_total{cmd=%q} = %d, want %d (all: %v)", name, calls[name], n, calls)
		}
	}
	if errs["config/ERR"] != 2 || errs["shutdown/ERR"] != 1 || len(errs) != 2 {
		t.Errorf("ringdb_command_errors_total: %v, want config/ERR 2, shutdown/ERR 1", errs)
	}
}

// sampledCounts returns what s's /metrics counters hold: calls by command,
// and errors by "command/class".
func sampledCounts(s *Server) (calls, errs map[string]uint64) {
	var snap stats.Snapshot
	s.Sample(&snap)
	calls, errs = map[string]uint64{}, map[string]uint64{}
	for _, cc := range snap.Commands {
		calls[cc.Name] = cc.Calls
	}
	for _, e := range snap.Errors {
		errs[e.Name+"/"+e.Class] += e.Count
	}
	return calls, errs
}
