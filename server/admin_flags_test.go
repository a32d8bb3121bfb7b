package server

import (
	"slices"
	"testing"
)

// TestAdminFlagsPerSubcommand: Redis 7.0 flags admin the subcommands of
// CLIENT, CONFIG, LATENCY and SLOWLOG that are (CLIENT KILL, LIST,
// NO-EVICT, UNPAUSE; every CONFIG, LATENCY and SLOWLOG one but HELP),
// never the containers themselves. COMMAND INFO shows it, and MONITOR
// hides exactly the admin ones (checked against redis-server 7.0.15 with
// COMMAND INFO and MONITOR).
func TestAdminFlagsPerSubcommand(t *testing.T) {
	c := newDirectClient(t, newDirectServer(t, Config{}))
	flagsOf := func(name string) []any {
		t.Helper()
		v, err := parseValue(c.do(t, "COMMAND", "INFO", name))
		if err != nil {
			t.Fatal(err)
		}
		info, ok := v.([]any)[0].([]any)
		if !ok {
			t.Fatalf("COMMAND INFO %s: %v", name, v)
		}
		return info[2].([]any)
	}
	admin := []string{
		"client|kill", "client|list", "client|no-evict", "client|unpause",
		"config|get", "config|set", "config|resetstat", "config|rewrite",
		"latency|latest", "latency|history", "latency|reset", "latency|histogram", "latency|graph", "latency|doctor",
		"slowlog|get", "slowlog|len", "slowlog|reset",
		"shutdown",
	}
	for _, name := range admin {
		if f := flagsOf(name); !slices.Contains(f, any("admin")) {
			t.Errorf("%s: flags %v, want admin", name, f)
		}
	}
	notAdmin := []string{
		"client", "config", "latency", "slowlog",
		"client|id", "client|setname", "client|info", "client|getname",
		"config|help", "latency|help", "slowlog|help",
	}
	for _, name := range notAdmin {
		if f := flagsOf(name); slices.Contains(f, any("admin")) {
			t.Errorf("%s: flags %v, want no admin", name, f)
		}
	}
}
