package stats

// Snapshot is the server's counters at one instant, filled in by a Source
// at scrape time. Counters only grow; Connected, Keys, KeysExpiring,
// AvgTTLMillis, MemoryUsed and MemoryMax are gauges.
type Snapshot struct {
	// Hits and Misses count key lookups by read commands that found or
	// missed a key (Redis keyspace_hits and keyspace_misses).
	Hits, Misses uint64
	// BytesIn and BytesOut count bytes read from and written to client
	// sockets.
	BytesIn, BytesOut uint64
	// ConnectionsTotal counts accepted connections, refused ones included;
	// Rejected counts those refused by the client limit.
	ConnectionsTotal, Rejected uint64
	// OutputBufferDisconnects counts clients closed by an output-buffer
	// limit.
	OutputBufferDisconnects uint64
	// Connected is the number of client connections open now.
	Connected int64
	// Keys is the number of keys, expired ones not yet reclaimed included.
	Keys int64
	// KeysExpiring is the number of those keys that have a TTL (Redis
	// INFO's expires), and AvgTTLMillis the estimated TTL left on them
	// (INFO's avg_ttl: 0 until the expiry cycle has sampled one).
	KeysExpiring, AvgTTLMillis int64
	// MemoryUsed and MemoryMax are the data's memory use and its bound
	// (0: unbounded).
	MemoryUsed, MemoryMax int64
	// MemoryLent is the part of MemoryUsed taken by large values the
	// keyspace has dropped that replies not yet written still hold.
	MemoryLent int64
	// Evicted and Expired count keys removed by eviction and by expiry.
	Evicted, Expired uint64
	// SlowCommands counts the commands that ran at least the slow log's
	// threshold (slowlog-log-slower-than), whether or not the slow log
	// still holds them.
	SlowCommands uint64
	// CommandPanics counts commands that panicked and were recovered
	// (their connections closed). Any is a bug.
	CommandPanics uint64
	// Commands holds one entry per command that has run at least once.
	Commands []CommandCount
	// Errors holds one entry per (command, class) that has failed at least
	// once.
	Errors []ErrorCount
}

// CommandCount is the number of calls of one command.
type CommandCount struct {
	Name  string // lower-case command name, such as "get"
	Calls uint64
}

// ErrorCount is the number of error replies of one command and class.
type ErrorCount struct {
	Name  string // lower-case command name
	Class string // error class: ERR, WRONGTYPE, OOM, NOAUTH, LIMIT, ...
	Count uint64
}

// Source supplies the counters. Sample is called from the HTTP server's
// goroutines, possibly concurrently, and must be safe for that; it fills
// snap (whose slices it may reuse) and must not block on the request path.
type Source interface {
	Sample(snap *Snapshot)
}

// SourceFunc adapts a function to Source.
type SourceFunc func(snap *Snapshot)

// Sample calls f(snap).
func (f SourceFunc) Sample(snap *Snapshot) { f(snap) }
