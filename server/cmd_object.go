package server

import (
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/ringdb/ringdb/core"
)

// OBJECT and MEMORY: what Redis tools ask about keys and memory
// (redis-cli --memkeys sends MEMORY USAGE for every key).

var objectSubs = nameSubcommands("object", map[string]*subcommand{
	"encoding": {arity: 3, flags: flagRead, firstKey: 2, lastKey: 2, step: 1, run: objectEncoding},
	"refcount": {arity: 3, flags: flagRead, firstKey: 2, lastKey: 2, step: 1, run: objectRefcount},
	"freq":     {arity: 3, flags: flagRead, firstKey: 2, lastKey: 2, step: 1, run: objectFreq},
	"idletime": {arity: 3, flags: flagRead, firstKey: 2, lastKey: 2, step: 1, run: objectIdleTime},
	"help":     {arity: 2, run: objectHelp},
})

func cmdObject(c *cmdCtx) { dispatchSub(c, objectSubs) }

// Redis's limits for string encodings and shared integers.
const (
	embstrMax     = 44    // OBJ_ENCODING_EMBSTR_SIZE_LIMIT
	sharedInts    = 10000 // OBJ_SHARED_INTEGERS
	sharedRefcnt  = 2147483647
	msgLFUNotSet  = "An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."
	msgLFUIsSet   = "An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."
	msgNoIdleTime = "ringdb does not track access times, so OBJECT IDLETIME is not available: its eviction (S3-FIFO) keeps a 0-3 access frequency per key, which OBJECT FREQ reports under an LFU maxmemory-policy"
)

// objectLookup finds OBJECT's key, counting a hit or a miss as Redis
// does, and answers null itself when the key does not exist.
func objectLookup(c *cmdCtx) (core.KeyInfo, bool) {
	info, ok := c.srv.ks.Inspect(c.argv[2], true)
	if !ok {
		c.w.Null()
	}
	return info, ok
}

// stringEncoding is the encoding Redis gives a string value when a SET,
// MSET, INCR or an APPEND that creates the key stores it: "int" for a
// decimal int64 (string2ll's rules), "embstr" up to 44 bytes, "raw"
// beyond. ringdb has one representation whatever wrote the value, so the
// encoding is read from the value alone: where Redis remembers how a value
// was made ("raw" for a short value that APPEND or SETRANGE changed,
// "embstr" for INCRBYFLOAT's "3"), ringdb answers what SET of the same
// value would give.
func stringEncoding(info core.KeyInfo) string {
	switch {
	case info.IsInt:
		return "int"
	case info.ValueLen <= embstrMax:
		return "embstr"
	}
	return "raw"
}

// sharedInt reports whether Redis would hold the value as one of its
// shared integers, 0 to 9999, whose reference count reads 2147483647:
// unless a memory bound is set with an LRU or LFU policy (whose per-key
// access data a shared object cannot carry). Redis decides when the value
// is written; ringdb, with nothing shared, decides with the settings of
// the moment.
func (s *Server) sharedInt(info core.KeyInfo) bool {
	if !info.IsInt || info.Int < 0 || info.Int >= sharedInts {
		return false
	}
	return s.maxMemory.Load() == 0 || !s.lruOrLFU()
}

// lruOrLFU reports whether maxmemory-policy names an LRU or LFU policy.
func (s *Server) lruOrLFU() bool {
	name := *s.policyName.Load()
	return strings.HasSuffix(name, "-lru") || strings.HasSuffix(name, "-lfu")
}

// lfu reports whether maxmemory-policy names an LFU policy.
func (s *Server) lfu() bool { return strings.HasSuffix(*s.policyName.Load(), "-lfu") }

// objectEncoding is OBJECT ENCODING key (see stringEncoding).
func objectEncoding(c *cmdCtx) {
	if info, ok := objectLookup(c); ok {
		c.w.BulkString(stringEncoding(info))
	}
}

// objectRefcount is OBJECT REFCOUNT key: 1, or Redis's count for a shared
// integer (see sharedInt).
func objectRefcount(c *cmdCtx) {
	if info, ok := objectLookup(c); ok {
		if c.srv.sharedInt(info) {
			c.w.Int(sharedRefcnt)
		} else {
			c.w.Int(1)
		}
	}
}

// objectFreq is OBJECT FREQ key. Under an LFU maxmemory-policy (ringdb
// evicts with S3-FIFO whatever the name) it answers the key's access
// frequency, 0 to 3, which reads raise and eviction's CLOCK lowers: a
// coarser scale than Redis's logarithmic 0-255 counter, but the same
// order, hot keys highest. Under any other policy it answers Redis's
// error.
func objectFreq(c *cmdCtx) {
	info, ok := objectLookup(c)
	switch {
	case !ok:
	case !c.srv.lfu():
		c.errReply(msgLFUNotSet)
	default:
		c.w.Int(int64(info.Freq))
	}
}

// objectIdleTime is OBJECT IDLETIME key. ringdb keeps no access time per
// key, so it answers an error rather than a made-up number (a script that
// deletes keys idle for long must not act on one): Redis's under an LFU
// policy, ringdb's own otherwise.
func objectIdleTime(c *cmdCtx) {
	if _, ok := objectLookup(c); !ok {
		return
	}
	if c.srv.lfu() {
		c.errReply(msgLFUIsSet)
		return
	}
	c.errReply(msgNoIdleTime)
}

func objectHelp(c *cmdCtx) {
	writeHelp(c, []string{
		"OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"ENCODING <key>",
		"    Return the kind of internal representation used in order to store the value",
		"    associated with a <key>.",
		"FREQ <key>",
		"    Return the access frequency index of the <key>. The returned integer is",
		"    proportional to the logarithm of the recent access frequency of the key.",
		"IDLETIME <key>",
		"    Return the idle time of the <key>, that is the approximated number of",
		"    seconds elapsed since the last access to the key.",
		"REFCOUNT <key>",
		"    Return the number of references of the value associated with the specified",
		"    <key>.",
		"HELP",
		"    Prints this help.",
	})
}

// writeHelp writes a HELP reply: one status line per element, as Redis's
// addReplyHelp.
func writeHelp(c *cmdCtx, lines []string) {
	c.w.Array(len(lines))
	for _, l := range lines {
		c.w.Simple(l)
	}
}

var memorySubs = nameSubcommands("memory", map[string]*subcommand{
	"usage":        {arity: -3, flags: flagRead, firstKey: 2, lastKey: 2, step: 1, run: memoryUsage},
	"stats":        {arity: 2, run: memoryStats},
	"doctor":       {arity: 2, run: memoryDoctor},
	"purge":        {arity: 2, run: memoryPurge},
	"malloc-stats": {arity: 2, run: memoryMallocStats},
	"help":         {arity: 2, run: memoryHelp},
})

func cmdMemory(c *cmdCtx) { dispatchSub(c, memorySubs) }

// memoryUsage is MEMORY USAGE key [SAMPLES count]: the bytes the key
// takes (core.KeyInfo.Bytes: its record and its share of the index), or
// null. SAMPLES is checked as Redis checks it and otherwise unused: a
// string has nothing nested to sample. Like Redis's it counts no hit or
// miss.
func memoryUsage(c *cmdCtx) {
	argv := c.argv
	for j := 3; j < len(argv); j++ {
		if !eqFold(argv[j], "samples") || j+1 >= len(argv) {
			c.syntaxErr()
			return
		}
		n, ok := parseInt(argv[j+1])
		if !ok {
			c.notInteger()
			return
		}
		if n < 0 {
			c.syntaxErr()
			return
		}
		j++
	}
	info, ok := c.srv.ks.Inspect(argv[2], false)
	if !ok {
		c.w.Null()
		return
	}
	c.w.Int(info.Bytes)
}

// memStats is what MEMORY STATS and MEMORY DOCTOR report, from the
// keyspace's Stats: ringdb's memory is what the bound counts (arena
// pages, index, large values), used_memory in INFO.
type memStats struct {
	peak, total, startup, overhead, keys, dataset int64
	// lent is the part of total taken by values the keyspace dropped
	// that replies not yet written hold (core.Stats.LentBytes): client
	// memory, not data.
	lent int64
}

func (s *Server) memStats() memStats { return s.memStatsOf(s.ks.Stats()) }

// memStatsOf is memStats from Stats the caller has read already.
func (s *Server) memStatsOf(st core.Stats) memStats {
	m := memStats{
		peak:     s.notePeak(st.UsedBytes),
		total:    st.UsedBytes,
		startup:  s.startupMem,
		overhead: st.IndexBytes,
		keys:     st.Keys,
		lent:     st.LentBytes,
	}
	m.dataset = max(m.total-m.overhead-m.lent, 0)
	return m
}

// notePeak raises the recorded peak of used memory to used if it is
// higher and returns the peak.
func (s *Server) notePeak(used int64) int64 {
	for {
		p := s.peakMem.Load()
		if used <= p || s.peakMem.CompareAndSwap(p, used) {
			return max(p, used)
		}
	}
}

// memoryStats is MEMORY STATS: Redis's map, with the fields that mean
// something here. total.allocated is used_memory; peak.allocated the
// highest value of it seen (sampled every second and at each MEMORY
// STATS); startup.allocated what an empty keyspace took at start;
// clients.normal the values the keyspace dropped that replies not yet
// written hold (INFO's used_memory_lent), which the bound counts;
// overhead.total those and the index tables (db.0's
// overhead.hashtable.main; TTLs live in the records, so
// hashtable.expires is 0, and hashtable.slot-to-keys too, as in a Redis
// that is not a cluster node; as Redis 7.0, db.0 is left out while it has
// no keys); dataset.bytes the rest: records, large values and the free
// space in their pages. ringdb keeps no replication backlog,
// AOF or scripts, and the rest of its connection buffers is outside the
// bound, so those fields are 0. Redis's allocator and fragmentation
// fields describe jemalloc and are left out.
func memoryStats(c *cmdCtx) {
	m := c.srv.memStats()
	w := c.w
	// As Redis 7.0, a database without keys has no db.<n> entry.
	if m.keys > 0 {
		w.Map(17)
	} else {
		w.Map(16)
	}
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"peak.allocated", m.peak},
		{"total.allocated", m.total},
		{"startup.allocated", m.startup},
		{"replication.backlog", 0},
		{"clients.slaves", 0},
		{"clients.normal", m.lent},
		{"cluster.links", 0},
		{"aof.buffer", 0},
		{"lua.caches", 0},
		{"functions.caches", 0},
	} {
		w.BulkString(f.name)
		w.Int(f.v)
	}
	if m.keys > 0 {
		w.BulkString("db.0")
		w.Map(3)
		w.BulkString("overhead.hashtable.main")
		w.Int(m.overhead)
		w.BulkString("overhead.hashtable.expires")
		w.Int(0)
		// Redis 7.0's cluster slot-to-keys map: none here, as in a
		// Redis that is not a cluster node.
		w.BulkString("overhead.hashtable.slot-to-keys")
		w.Int(0)
	}
	w.BulkString("overhead.total")
	w.Int(m.overhead + m.lent)
	w.BulkString("keys.count")
	w.Int(m.keys)
	// As Redis computes them: per key and as a share of what the server
	// holds beyond its startup memory.
	net := int64(1)
	if m.total > m.startup {
		net = m.total - m.startup
	}
	var perKey int64
	if m.keys > 0 {
		perKey = net / m.keys
	}
	w.BulkString("keys.bytes-per-key")
	w.Int(perKey)
	w.BulkString("dataset.bytes")
	w.Int(m.dataset)
	w.BulkString("dataset.percentage")
	w.Double(percent(m.dataset, net))
	w.BulkString("peak.percentage")
	w.Double(percent(m.total, m.peak))
}

// percent is part*100/whole as a float32, as Redis computes it.
func percent(part, whole int64) float64 {
	return float64(float32(part) * 100 / float32(whole))
}

// doctorNearBound is the percentage of a noeviction bound from which
// MEMORY DOCTOR warns of OOM errors to come. Each shard keeps a page in
// reserve (at most 1/16 of its share), so writes start failing a little
// above it.
const doctorNearBound = 85

// doctorEmptyBelow is the memory under which MEMORY DOCTOR, as Redis's,
// has nothing to say.
const doctorEmptyBelow = 5 << 20

// memoryDoctor is MEMORY DOCTOR: Redis's texts for an instance too small
// to judge and for one without issues, and one check of ringdb's own:
// memory near a noeviction bound (doctorNearBound), where writes are
// about to fail with OOM.
func memoryDoctor(c *cmdCtx) {
	m := c.srv.memStats()
	var b strings.Builder
	switch bound := c.srv.maxMemory.Load(); {
	case m.total < doctorEmptyBelow:
		b.WriteString("Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n")
	case bound > 0 && c.srv.policy() == core.NoEviction && m.total*100 >= bound*doctorNearBound:
		b.WriteString("Sam, I detected a few issues in this Redis instance memory implants:\n\n")
		b.WriteString(" * Memory bound: used_memory is " + strconv.FormatInt(m.total*100/bound, 10) + "% of maxmemory and maxmemory-policy is noeviction: writes that need memory fail with OOM once it is reached. Delete keys, give keys a TTL, raise maxmemory, or choose an evicting policy (allkeys-lru).\n\n")
		b.WriteString("I'm here to keep you safe, Sam. I want to help you.\n")
	default:
		b.WriteString("Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n")
	}
	c.w.Verbatim("txt", []byte(b.String()))
}

// memoryPurge is MEMORY PURGE: as Redis asks jemalloc to give dirty pages
// back, it has the Go runtime return the memory it no longer uses to the
// kernel (a garbage collection; the data itself is outside the Go heap).
func memoryPurge(c *cmdCtx) {
	debug.FreeOSMemory()
	c.w.OK()
}

// memoryMallocStats is MEMORY MALLOC-STATS: ringdb's memory and the Go
// runtime's, in place of jemalloc's report.
func memoryMallocStats(c *cmdCtx) {
	st := c.srv.ks.Stats()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	var b []byte
	line := func(name string, v uint64) {
		b = append(b, name...)
		b = append(b, ": "...)
		b = strconv.AppendUint(b, v, 10)
		b = append(b, '\n')
	}
	b = append(b, "___ Begin ringdb memory statistics ___\n"...)
	b = append(b, "Keyspace (arena pages, index and large values; what maxmemory bounds):\n"...)
	line("  used", uint64(st.UsedBytes))
	line("  index", uint64(st.IndexBytes))
	line("  lent", uint64(st.LentBytes))
	line("  maxmemory", uint64(c.srv.maxMemory.Load()))
	b = append(b, "Go runtime (connections, buffers and everything else):\n"...)
	line("  heap_alloc", ms.HeapAlloc)
	line("  heap_inuse", ms.HeapInuse)
	line("  heap_idle", ms.HeapIdle)
	line("  heap_released", ms.HeapReleased)
	line("  stack_inuse", ms.StackInuse)
	line("  sys", ms.Sys)
	line("  num_gc", uint64(ms.NumGC))
	b = append(b, "___ End ringdb memory statistics ___\n"...)
	c.w.Verbatim("txt", b)
}

func memoryHelp(c *cmdCtx) {
	writeHelp(c, []string{
		"MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"DOCTOR",
		"    Return memory problems reports.",
		"MALLOC-STATS",
		"    Return internal statistics report from the memory allocator.",
		"PURGE",
		"    Attempt to purge dirty pages for reclamation by the allocator.",
		"STATS",
		"    Return information about the memory usage of the server.",
		"USAGE <key> [SAMPLES <count>]",
		"    Return memory in bytes used by <key> and its value. Nested values are",
		"    sampled up to <count> times (default: 5, 0 means sample all).",
		"HELP",
		"    Prints this help.",
	})
}
