package server

import (
	"math"
	"sort"
	"strconv"
)

// INFO commandstats and errorstats, from the per-command counters
// (metrics.go), in Redis 7.0's formats:
//
//	cmdstat_get:calls=3,usec=1,usec_per_call=0.33,rejected_calls=0,failed_calls=0
//	errorstat_WRONGTYPE:count=1
//
// calls, rejected_calls, failed_calls and the error counts are exact.
// usec is an estimate: the server times one request in stats.SampleEvery
// per connection, not every one (a clock read would cost each command
// about 25 ns), so usec is calls times the mean time of the sampled calls
// of that command or subcommand.

// cmdStats are the counters INFO commandstats and errorstats show.
type cmdStats struct {
	// By stat slot (commandTable.slot).
	calls, rejected, failed []uint64
	// timedN calls of the slot were sampled, taking timedNs in all; allN
	// and allNs are the same since the start, which usec falls back on
	// when no call has been sampled since CONFIG RESETSTAT.
	timedN, timedNs, allN, allNs []uint64

	errs     map[string]uint64 // error replies by prefix
	errTotal uint64            // every error reply: total_error_replies
}

// cmdStatsNow reads the counters since the start. Without the metrics
// endpoint they are not kept, and all are 0.
func (s *Server) cmdStatsNow() *cmdStats {
	n := s.cmds.slots()
	c := &cmdStats{
		rejected: make([]uint64, n), failed: make([]uint64, n),
		timedN: make([]uint64, n), timedNs: make([]uint64, n),
		errs: make(map[string]uint64),
	}
	cs := s.cmdCountsNow()
	c.calls = cs.calls
	for k, v := range cs.errs {
		c.errs[k.prefix] += v
		c.errTotal += v
		if k.slot < 0 {
			continue
		}
		switch k.how {
		case notRefused:
			c.failed[k.slot] += v
		case refusedCmd:
			c.rejected[k.slot] += v
		}
	}
	for i := range s.timed {
		c.timedN[i], c.timedNs[i] = s.timed[i].n.Load(), s.timed[i].ns.Load()
	}
	c.allN, c.allNs = c.timedN, c.timedNs
	return c
}

// since returns the counts from base to c; allN and allNs stay c's.
func (c *cmdStats) since(base *cmdStats) *cmdStats {
	sub := func(now, then []uint64) []uint64 {
		d := make([]uint64, len(now))
		for i := range now {
			d[i] = now[i] - min(now[i], then[i])
		}
		return d
	}
	d := &cmdStats{
		calls: sub(c.calls, base.calls), rejected: sub(c.rejected, base.rejected), failed: sub(c.failed, base.failed),
		timedN: sub(c.timedN, base.timedN), timedNs: sub(c.timedNs, base.timedNs),
		allN: c.allN, allNs: c.allNs,
		errs:     make(map[string]uint64),
		errTotal: c.errTotal - min(c.errTotal, base.errTotal),
	}
	for p, v := range c.errs {
		if v > base.errs[p] {
			d.errs[p] = v - base.errs[p]
		}
	}
	return d
}

// cmdStatsSinceReset reads the counters since the last CONFIG RESETSTAT
// (or the start).
func (s *Server) cmdStatsSinceReset() *cmdStats {
	c := s.cmdStatsNow()
	if base := s.statBase.Load(); base != nil {
		c = c.since(base.cmds)
	}
	return c
}

// usec estimates the microseconds slot i's calls took: calls times the
// mean of the sampled ones.
func (c *cmdStats) usec(i int) uint64 {
	n, ns := c.timedN[i], c.timedNs[i]
	if n == 0 {
		n, ns = c.allN[i], c.allNs[i]
	}
	if n == 0 || c.calls[i] == 0 {
		return 0
	}
	return uint64(math.Round(float64(c.calls[i]) * float64(ns) / float64(n) / 1e3))
}

// appendCommandStats appends a cmdstat_ line for each command and
// subcommand called, refused or failed since the last reset, sorted by
// name (Redis walks its hash table: tools look lines up by name).
func (s *Server) appendCommandStats(b []byte, c *cmdStats) []byte {
	var slots []int
	for i := range c.calls {
		if c.calls[i] != 0 || c.rejected[i] != 0 || c.failed[i] != 0 {
			slots = append(slots, i)
		}
	}
	sort.Slice(slots, func(x, y int) bool { return s.cmds.slotName(slots[x]) < s.cmds.slotName(slots[y]) })
	for _, i := range slots {
		calls, usec := c.calls[i], c.usec(i)
		b = append(b, "cmdstat_"...)
		b = append(b, s.cmds.slotName(i)...)
		b = append(b, ":calls="...)
		b = strconv.AppendUint(b, calls, 10)
		b = append(b, ",usec="...)
		b = strconv.AppendUint(b, usec, 10)
		b = append(b, ",usec_per_call="...)
		b = appendUsecPerCall(b, usec, calls)
		b = append(b, ",rejected_calls="...)
		b = strconv.AppendUint(b, c.rejected[i], 10)
		b = append(b, ",failed_calls="...)
		b = strconv.AppendUint(b, c.failed[i], 10)
		b = append(b, "\r\n"...)
	}
	return b
}

// appendUsecPerCall appends usec/calls as Redis 7.0 prints it: divided
// in single precision ((float)microseconds/calls), printed with %.2f; 0
// without calls.
func appendUsecPerCall(b []byte, usec, calls uint64) []byte {
	var v float32
	if calls != 0 {
		v = float32(usec) / float32(calls)
	}
	return strconv.AppendFloat(b, float64(v), 'f', 2, 64)
}

// appendErrorStats appends an errorstat_ line per error prefix replied
// since the last reset, in byte order as Redis's radix tree lists them.
func appendErrorStats(b []byte, c *cmdStats) []byte {
	prefixes := make([]string, 0, len(c.errs))
	for p := range c.errs {
		prefixes = append(prefixes, p)
	}
	sort.Strings(prefixes)
	for _, p := range prefixes {
		b = append(b, "errorstat_"...)
		b = append(b, p...)
		b = append(b, ":count="...)
		b = strconv.AppendUint(b, c.errs[p], 10)
		b = append(b, "\r\n"...)
	}
	return b
}
