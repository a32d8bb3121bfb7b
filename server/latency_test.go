package server

import (
	"strings"
	"testing"
)

// TestLatencyAsRedisWithMonitorOff: LATENCY answers as redis-server 7.0.15
// with latency-monitor-threshold 0 and latency-tracking no (replies
// recorded from it), so that a monitoring tool polling it gets empty
// replies, not errors.
func TestLatencyAsRedisWithMonitorOff(t *testing.T) {
	c := newDirectClient(t, newDirectServer(t, Config{}))
	c.expect(t, okR, "SET", "k", "v")
	c.expect(t, arrR(), "LATENCY", "LATEST")
	c.expect(t, arrR(), "latency", "history", "command")
	c.expect(t, intR(0), "LATENCY", "RESET")
	c.expect(t, intR(0), "LATENCY", "RESET", "command", "fork")
	c.expect(t, arrR(), "LATENCY", "HISTOGRAM")
	c.expect(t, arrR(), "LATENCY", "HISTOGRAM", "get", "set")
	c.expect(t, errR("ERR No samples available for event 'command'"), "LATENCY", "GRAPH", "command")
	c.expect(t, errR("ERR unknown subcommand 'foo'. Try LATENCY HELP."), "LATENCY", "foo")
	c.expect(t, errR("ERR wrong number of arguments for 'latency|history' command"), "LATENCY", "HISTORY")
	c.expect(t, errR("ERR wrong number of arguments for 'latency|latest' command"), "LATENCY", "LATEST", "x")
	doctor := c.do(t, "LATENCY", "DOCTOR")
	if !strings.Contains(doctor, "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance.") {
		t.Errorf("LATENCY DOCTOR = %q", doctor)
	}
	help := c.do(t, "LATENCY", "HELP")
	if !strings.HasPrefix(help, "*17\r\n+LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n") {
		t.Errorf("LATENCY HELP = %q", help)
	}
	// RESP3: HISTOGRAM is an empty map.
	c.do(t, "HELLO", "3")
	c.expect(t, "%0\r\n", "LATENCY", "HISTOGRAM")
}
