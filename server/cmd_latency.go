package server

import "strings"

// LATENCY answers as Redis 7.0 does with its latency monitor off
// (latency-monitor-threshold 0, the default) and per-command latency
// tracking off (latency-tracking no): no events, no histograms. Monitoring
// tools (redis_exporter sends LATENCY LATEST on every scrape) then get
// well-formed empty replies, not an error counted in errorstat_ERR on each
// scrape. ringdb's command latencies are on /metrics
// (ringdb_command_duration_seconds) and in the slow log.
var latencySubs = nameSubcommands("latency", map[string]*subcommand{
	"latest":    {arity: 2, flags: flagAdmin, run: func(c *cmdCtx) { c.w.Array(0) }},
	"history":   {arity: 3, flags: flagAdmin, run: func(c *cmdCtx) { c.w.Array(0) }},
	"reset":     {arity: -2, flags: flagAdmin, run: func(c *cmdCtx) { c.w.Int(0) }},
	"histogram": {arity: -2, flags: flagAdmin, run: func(c *cmdCtx) { c.w.Map(0) }},
	"graph":     {arity: 3, flags: flagAdmin, run: latencyGraph},
	"doctor":    {arity: 2, flags: flagAdmin, run: latencyDoctor},
	"help":      {arity: 2, run: latencyHelp},
})

func cmdLatency(c *cmdCtx) { dispatchSub(c, latencySubs) }

// latencyGraph is LATENCY GRAPH event: no event has samples.
func latencyGraph(c *cmdCtx) {
	c.errReply("No samples available for event '" + clip(string(c.argv[2]), len(c.argv[2])) + "'")
}

// latencyDoctor is Redis's LATENCY DOCTOR text for a disabled monitor.
func latencyDoctor(c *cmdCtx) {
	c.w.Verbatim("txt", []byte(`I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use "CONFIG SET latency-monitor-threshold <milliseconds>." in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.`+"\n"))
}

func latencyHelp(c *cmdCtx) {
	lines := strings.Split(`LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:
DOCTOR
    Return a human readable latency analysis report.
GRAPH <event>
    Return an ASCII latency graph for the <event> class.
HISTORY <event>
    Return time-latency samples for the <event> class.
LATEST
    Return the latest latency samples for all events.
RESET [<event> ...]
    Reset latency data of one or more <event> classes.
    (default: reset all data for all event classes)
HISTOGRAM [COMMAND ...]
    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.
    If no commands are specified then all histograms are replied.
HELP
    Prints this help.`, "\n")
	c.w.Array(len(lines))
	for _, l := range lines {
		c.w.Simple(l)
	}
}
