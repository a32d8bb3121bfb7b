package server

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"time"

	"github.com/ringdb/ringdb/core"
	"github.com/ringdb/ringdb/transport"
)

// infoSections are INFO's sections in output order (Redis's order).
var infoSections = []string{"server", "clients", "memory", "persistence", "stats", "replication", "cpu", "commandstats", "errorstats", "cluster", "keyspace"}

// infoNotDefault are the sections INFO leaves out unless asked for by
// name, "all" or "everything": Redis 7.0's default set lacks
// commandstats (and latencystats, which ringdb does not have).
var infoNotDefault = map[string]bool{"commandstats": true}

// infoText renders INFO for the requested sections: none or "default"
// give Redis's default sections, "all" and "everything" every section;
// names add up, unknown ones are ignored, as in Redis.
func (s *Server) infoText(req []string) []byte {
	want := map[string]bool{}
	all, def := false, len(req) == 0
	for _, r := range req {
		switch r {
		case "all", "everything":
			all = true
		case "default":
			def = true
		default:
			want[r] = true
		}
	}
	var b []byte
	var cs *cmdStats // read once, for the sections that show it
	n := 0
	for _, sec := range infoSections {
		if !all && !want[sec] && !(def && !infoNotDefault[sec]) {
			continue
		}
		if n > 0 {
			b = append(b, "\r\n"...)
		}
		n++
		if cs == nil && (sec == "stats" || sec == "commandstats" || sec == "errorstats") {
			cs = s.cmdStatsSinceReset()
		}
		b = s.appendInfoSection(b, sec, cs)
	}
	return b
}

// field appends "name:value\r\n".
func field(b []byte, name, value string) []byte {
	b = append(b, name...)
	b = append(b, ':')
	b = append(b, value...)
	return append(b, "\r\n"...)
}

func fieldInt(b []byte, name string, v int64) []byte {
	return field(b, name, strconv.FormatInt(v, 10))
}

func fieldUint(b []byte, name string, v uint64) []byte {
	return field(b, name, strconv.FormatUint(v, 10))
}

// appendInfoSection appends section sec; cs holds the command and error
// counters for the stats, commandstats and errorstats sections.
func (s *Server) appendInfoSection(b []byte, sec string, cs *cmdStats) []byte {
	now := time.Now()
	st := s.ks.Stats()
	ts := s.transportStats()
	switch sec {
	case "server":
		b = append(b, "# Server\r\n"...)
		b = field(b, "redis_version", redisCompatVersion)
		b = field(b, "ringdb_version", Version)
		b = field(b, "redis_mode", "standalone")
		b = field(b, "os", runtime.GOOS)
		b = fieldInt(b, "arch_bits", strconv.IntSize)
		b = field(b, "go_version", runtime.Version())
		b = fieldInt(b, "gomaxprocs", int64(runtime.GOMAXPROCS(0)))
		b = field(b, "transport", s.cfg.Transport)
		b = fieldInt(b, "process_id", int64(os.Getpid()))
		b = field(b, "run_id", s.runID)
		b = field(b, "tcp_port", s.configValue("port"))
		b = fieldInt(b, "server_time_usec", now.UnixMicro())
		up := int64(now.Sub(s.started) / time.Second)
		b = fieldInt(b, "uptime_in_seconds", up)
		b = fieldInt(b, "uptime_in_days", up/86400)
		b = fieldInt(b, "hz", 10)
		b = field(b, "executable", "")
		b = field(b, "config_file", "")
	case "clients":
		b = append(b, "# Clients\r\n"...)
		// The transport counts a connection from its accept, the session
		// table from Handler.Open: the larger of the two never misses one.
		b = fieldInt(b, "connected_clients", s.connectedClients())
		b = fieldInt(b, "maxclients", s.maxClients.Load())
		b = fieldInt(b, "client_recent_max_output_buffer", s.maxPendingOutput())
		b = fieldInt(b, "blocked_clients", s.parkedCount())
		b = fieldInt(b, "tracking_clients", 0)
	case "memory":
		b = append(b, "# Memory\r\n"...)
		b = fieldInt(b, "used_memory", st.UsedBytes)
		b = field(b, "used_memory_human", formatMemory(st.UsedBytes))
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		// What Redis's exporters and dashboards read besides used_memory:
		// the process's resident memory, the peak (sampled every second
		// and at each read), the memory of the empty keyspace, and the
		// index (overhead) against the records (dataset).
		rss := processRSS(int64(ms.Sys))
		m := s.memStatsOf(st)
		b = fieldInt(b, "used_memory_rss", rss)
		b = field(b, "used_memory_rss_human", formatMemory(rss))
		b = fieldInt(b, "used_memory_peak", m.peak)
		b = field(b, "used_memory_peak_human", formatMemory(m.peak))
		if m.peak > 0 {
			b = field(b, "used_memory_peak_perc", strconv.FormatFloat(percent(m.total, m.peak), 'f', 2, 64)+"%")
		}
		b = fieldInt(b, "used_memory_overhead", m.overhead+m.lent)
		b = fieldInt(b, "used_memory_startup", m.startup)
		b = fieldInt(b, "used_memory_dataset", m.dataset)
		if m.total > 0 {
			b = field(b, "mem_fragmentation_ratio", strconv.FormatFloat(float64(rss)/float64(m.total), 'f', 2, 64))
		}
		// Large values the keyspace dropped (overwritten, deleted,
		// evicted) that unread replies still hold: in used_memory, and
		// against maxmemory, until written.
		b = fieldInt(b, "used_memory_lent", st.LentBytes)
		b = fieldUint(b, "used_memory_go_heap", ms.HeapAlloc)
		b = fieldUint(b, "used_memory_go_sys", ms.Sys)
		b = fieldInt(b, "maxmemory", s.maxMemory.Load())
		b = field(b, "maxmemory_human", formatMemory(s.maxMemory.Load()))
		b = field(b, "maxmemory_policy", *s.policyName.Load())
		b = field(b, "ringdb_eviction", s.policy().String())
		b = field(b, "mem_allocator", "ringdb-arena")
	case "stats":
		b = append(b, "# Stats\r\n"...)
		d := s.infoStatsNow(&st, &ts)
		if base := s.statBase.Load(); base != nil {
			d = d.since(&base.stats)
		}
		b = fieldUint(b, "total_connections_received", d.conns)
		var r rateSample // Redis's order: ops after the commands, kbps after the bytes
		if p := s.rates.Load(); p != nil {
			r = *p
		}
		b = fieldUint(b, "total_commands_processed", d.cmds)
		b = fieldInt(b, "instantaneous_ops_per_sec", int64(r.opsPerSec))
		b = fieldUint(b, "total_net_input_bytes", d.in)
		b = fieldUint(b, "total_net_output_bytes", d.out)
		b = field(b, "instantaneous_input_kbps", strconv.FormatFloat(r.inKbps, 'f', 2, 64))
		b = field(b, "instantaneous_output_kbps", strconv.FormatFloat(r.outKbps, 'f', 2, 64))
		b = fieldUint(b, "rejected_connections", d.rejected)
		b = fieldUint(b, "client_output_buffer_disconnects", d.outDisc)
		b = fieldUint(b, "expired_keys", d.expired)
		b = fieldUint(b, "evicted_keys", d.evicted)
		b = fieldUint(b, "keyspace_hits", d.hits)
		b = fieldUint(b, "keyspace_misses", d.misses)
		if s.met != nil {
			// Counted with the per-command counters only (metrics.go).
			b = fieldUint(b, "total_error_replies", cs.errTotal)
		}
		b = fieldUint(b, "total_sets", d.sets)
		b = fieldUint(b, "total_deletes", d.deletes)
	case "persistence":
		// Nothing is persisted yet; tools and clients read loading (wait
		// while a dataset loads) and the in-progress flags.
		b = append(b, "# Persistence\r\n"...)
		b = fieldInt(b, "loading", 0)
		b = fieldInt(b, "async_loading", 0)
		b = fieldInt(b, "rdb_bgsave_in_progress", 0)
		b = fieldInt(b, "rdb_last_save_time", s.started.Unix()) // as LASTSAVE
		b = fieldInt(b, "aof_enabled", 0)
		b = fieldInt(b, "aof_rewrite_in_progress", 0)
	case "replication":
		// Clients, exporters and failover tools read role here; this
		// server has no replicas attached.
		b = append(b, "# Replication\r\n"...)
		b = field(b, "role", "master")
		b = fieldInt(b, "connected_slaves", 0)
		b = field(b, "master_failover_state", "no-failover")
		b = field(b, "master_replid", s.runID)
		b = field(b, "master_replid2", "0000000000000000000000000000000000000000")
		b = fieldInt(b, "master_repl_offset", 0)
		b = fieldInt(b, "second_repl_offset", -1)
		b = fieldInt(b, "repl_backlog_active", 0)
		b = fieldInt(b, "repl_backlog_size", 0)
		b = fieldInt(b, "repl_backlog_first_byte_offset", 0)
		b = fieldInt(b, "repl_backlog_histlen", 0)
	case "cpu":
		b = append(b, "# CPU\r\n"...)
		sys, user := processCPU()
		b = field(b, "used_cpu_sys", formatSeconds(sys))
		b = field(b, "used_cpu_user", formatSeconds(user))
		b = field(b, "used_cpu_sys_children", "0.000000")
		b = field(b, "used_cpu_user_children", "0.000000")
	case "commandstats":
		b = append(b, "# Commandstats\r\n"...)
		b = s.appendCommandStats(b, cs)
	case "errorstats":
		b = append(b, "# Errorstats\r\n"...)
		b = appendErrorStats(b, cs)
	case "cluster":
		// Cluster-aware clients check this before asking CLUSTER anything.
		b = append(b, "# Cluster\r\n"...)
		b = fieldInt(b, "cluster_enabled", 0)
	case "keyspace":
		b = append(b, "# Keyspace\r\n"...)
		if n := s.ks.Len(); n > 0 {
			expires, avgTTL := s.ks.ExpiryStats()
			b = append(b, "db0:keys="...)
			b = strconv.AppendInt(b, int64(n), 10)
			b = append(b, ",expires="...)
			b = strconv.AppendInt(b, expires, 10)
			b = append(b, ",avg_ttl="...)
			b = strconv.AppendInt(b, avgTTL, 10)
			b = append(b, "\r\n"...)
		}
	}
	return b
}

// configValue returns a CONFIG GET value by name.
func (s *Server) configValue(name string) string {
	if p := findConfigParam(name); p != nil {
		return p.get(s)
	}
	return ""
}

// formatSeconds prints d as Redis prints CPU time: seconds with six
// decimals.
func formatSeconds(d time.Duration) string {
	us := d.Microseconds()
	return fmt.Sprintf("%d.%06d", us/1e6, us%1e6)
}

// infoStats are the counters of INFO's stats section: the ones CONFIG
// RESETSTAT resets there, as Redis does. /metrics and the binary
// protocol's STATS keep counting from the start, as monitoring counters
// must not go back.
type infoStats struct {
	conns, cmds, in, out, rejected, outDisc       uint64
	expired, evicted, hits, misses, sets, deletes uint64
}

// infoStatsNow reads the counters from st and ts, and the server's own.
func (s *Server) infoStatsNow(st *core.Stats, ts *transport.Stats) infoStats {
	return infoStats{
		// Redis leaves connections refused by maxclients out of this one
		// (they are rejected_connections); ringdb_connections_total keeps
		// them. The sessions opened, not the transport's accepted less
		// refused: a refused connection is counted accepted, then refused,
		// and a difference read in between went back by one next time.
		conns:    s.connsTotal.Load(),
		cmds:     s.commandCount(),
		in:       ts.BytesIn,
		out:      ts.BytesOut,
		rejected: ts.Rejected,
		outDisc:  ts.OutputBufferDisconnects,
		expired:  st.Expired,
		evicted:  st.Evicted,
		hits:     st.Hits,
		misses:   st.Misses,
		sets:     st.Sets,
		deletes:  st.Deletes,
	}
}

// rateSample is one sample of the counters behind INFO's instantaneous_*
// fields, with the rates since the sample before it.
type rateSample struct {
	at              time.Time
	cmds, in, out   uint64
	opsPerSec       float64
	inKbps, outKbps float64
}

// sampleRates samples the command and network counters (the tick does,
// once a second) and sets INFO's instantaneous_ops_per_sec,
// instantaneous_input_kbps and instantaneous_output_kbps to the rates
// since the previous sample. Redis averages 16 samples taken every
// 100 ms, so its rates follow a change within 1.6 s; these within 1 s.
func (s *Server) sampleRates(now time.Time) {
	ts := s.transportStats()
	cur := &rateSample{at: now, cmds: s.commandCount(), in: ts.BytesIn, out: ts.BytesOut}
	if prev := s.rates.Load(); prev != nil {
		if dt := now.Sub(prev.at).Seconds(); dt > 0 {
			sub := func(a, b uint64) float64 { return float64(a - min(a, b)) }
			cur.opsPerSec = sub(cur.cmds, prev.cmds) / dt
			cur.inKbps = sub(cur.in, prev.in) / dt / 1024
			cur.outKbps = sub(cur.out, prev.out) / dt / 1024
		}
	}
	s.rates.Store(cur)
}

// since returns the counts from base to d (never below 0).
func (d infoStats) since(base *infoStats) infoStats {
	sub := func(a, b uint64) uint64 { return a - min(a, b) }
	return infoStats{
		conns: sub(d.conns, base.conns), cmds: sub(d.cmds, base.cmds),
		in: sub(d.in, base.in), out: sub(d.out, base.out),
		rejected: sub(d.rejected, base.rejected), outDisc: sub(d.outDisc, base.outDisc),
		expired: sub(d.expired, base.expired), evicted: sub(d.evicted, base.evicted),
		hits: sub(d.hits, base.hits), misses: sub(d.misses, base.misses),
		sets: sub(d.sets, base.sets), deletes: sub(d.deletes, base.deletes),
	}
}

// statBaseline is what CONFIG RESETSTAT found: INFO shows the counts
// since.
type statBaseline struct {
	stats infoStats
	cmds  *cmdStats
}

// resetStats is CONFIG RESETSTAT: INFO's stats, commandstats and
// errorstats counters start again from 0, as Redis's do. The counters
// themselves are not touched: /metrics and the binary STATS go on from
// where they were.
func (s *Server) resetStats() {
	st, ts := s.ks.Stats(), s.transportStats()
	base := &statBaseline{stats: s.infoStatsNow(&st, &ts), cmds: s.cmdStatsNow()}
	s.statBase.Store(base)
}
