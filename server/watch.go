package server

import (
	"hash/maphash"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/ringdb/ringdb/core"
)

// WATCH as in Redis 7.0: a server-wide registry of the watched keys, key →
// the sessions watching it (Redis's db->watched_keys). A command that
// modifies a key touches it (watchRegistry.touch, Redis's
// signalModifiedKey → touchWatchedKey), which marks every session watching
// it dirty; EXEC of a dirty session answers a null array. What changes
// keys outside commands, expiry and eviction, only removes them: WATCH
// notes whether each key exists, and EXEC aborts when one that existed is
// gone (Redis 7.0's isWatchedKeyExpired, and the touch its evictions
// send).
//
// Which command touches what follows the command's effect, as Redis
// decides it, not its flags: SET of the same value, INCRBY 0, EXPIRE to
// the same deadline touch; SET NX on an existing key, DEL of a missing
// one, PERSIST of a key without TTL, a failed command do not. The
// handlers call touch after the keyspace has changed.
//
// Concurrency. Commands run on several event loops at once. A touch and a
// WATCH of the same key meet on the key's registry shard lock, so a
// write either touches after WATCH registered the key (and aborts the
// transaction) or had changed the keyspace before WATCH looked (and is
// ordered before it): no write that completes after WATCH is lost. While
// no session watches anything, a touch is one atomic load of a word that
// only WATCH, UNWATCH and their like write. EXEC checks the dirty flag
// holding the execution gate exclusively (gate.go): every command that
// could touch has finished, and none starts.

// watchRegistry maps watched keys to their watchers, sharded by key hash.
type watchRegistry struct {
	// watching counts the sessions with at least one watched key; while
	// it is 0, touch returns at once. A session counts itself before it
	// registers its first key and uncounts itself after it removed its
	// last, so a touch that reads 0 ran before any registration it could
	// have to see.
	watching atomic.Int64
	_        [56]byte // alone on its cache line: every write reads it
	shards   []watchShard
	mask     uint64
	seed     maphash.Seed
}

// watchShard is one lock's worth of the registry, padded to its own cache
// lines so that two loops touching keys of different shards do not fight
// over one line.
type watchShard struct {
	mu sync.Mutex
	// keys maps a watched key to the sessions watching it, each once.
	// REQUIRES: mu held.
	keys map[string][]*session
	// peak is the most keys held since keys was made: a Go map keeps the
	// room it grew to, so one emptied after a burst is made again.
	// REQUIRES: mu held.
	peak int
	_    [104]byte
}

// shardShrinkPeak is the peak past which an emptied shard's map is made
// again (a few hundred keys: a map of them takes tens of KiB).
const shardShrinkPeak = 512

// newWatchRegistry sizes the registry for GOMAXPROCS: the shard lock is
// taken by every write while anyone watches, from every event loop (one
// per P), so there are several times as many shards as loops for two
// writes to rarely meet on one lock; 16 at least, a few KiB.
func newWatchRegistry() *watchRegistry {
	n := 16
	for n < 4*runtime.GOMAXPROCS(0) {
		n <<= 1
	}
	r := &watchRegistry{shards: make([]watchShard, n), mask: uint64(n - 1), seed: maphash.MakeSeed()}
	for i := range r.shards {
		r.shards[i].keys = make(map[string][]*session)
	}
	return r
}

// shard returns key's shard.
func (r *watchRegistry) shard(key []byte) *watchShard {
	return &r.shards[maphash.Bytes(r.seed, key)&r.mask]
}

// touch marks the sessions watching key dirty: key was modified. It is
// one atomic load while no session watches any key.
func (r *watchRegistry) touch(key []byte) {
	if r.watching.Load() != 0 {
		r.touchSlow(key)
	}
}

// touchSlow is touch once some session watches a key.
func (r *watchRegistry) touchSlow(key []byte) {
	sh := r.shard(key)
	sh.mu.Lock()
	for _, s := range sh.keys[string(key)] {
		s.watchDirty.Store(true)
	}
	sh.mu.Unlock()
}

// touchExisting marks dirty the sessions watching a key that exists in
// ks: FLUSHALL and FLUSHDB call it before they empty the keyspace (Redis
// 7.0's touchAllWatchedKeysInDb aborts the watchers of the keys the flush
// removed, not of missing ones). A key a concurrent write creates after
// it looked is touched by that write; one WATCH notes as existing after
// it looked is gone at EXEC.
func (r *watchRegistry) touchExisting(ks *core.Keyspace) {
	if r.watching.Load() == 0 {
		return
	}
	for i := range r.shards {
		sh := &r.shards[i]
		sh.mu.Lock()
		for k, ss := range sh.keys {
			if exists, _ := ks.Meta([]byte(k)); exists {
				for _, s := range ss {
					s.watchDirty.Store(true)
				}
			}
		}
		sh.mu.Unlock()
	}
}

// add registers s as a watcher of key; s must not watch it already. key
// is copied.
func (r *watchRegistry) add(s *session, key []byte) {
	sh := r.shard(key)
	sh.mu.Lock()
	sh.keys[string(key)] = append(sh.keys[string(key)], s)
	sh.peak = max(sh.peak, len(sh.keys))
	sh.mu.Unlock()
}

// remove unregisters s as a watcher of key.
func (r *watchRegistry) remove(s *session, key []byte) {
	sh := r.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	ss, ok := sh.keys[string(key)]
	if !ok {
		return
	}
	for i, w := range ss {
		if w == s {
			last := len(ss) - 1
			ss[i] = ss[last]
			ss[last] = nil
			ss = ss[:last]
			break
		}
	}
	switch {
	case len(ss) > 0:
		sh.keys[string(key)] = ss
	case len(sh.keys) == 1 && sh.peak > shardShrinkPeak:
		sh.keys, sh.peak = make(map[string][]*session), 0 // key was the last
	default:
		delete(sh.keys, string(key))
	}
}

// keys returns the number of watched keys and of (key, session) entries
// in the registry (tests).
func (r *watchRegistry) keys() (keys, entries int) {
	for i := range r.shards {
		sh := &r.shards[i]
		sh.mu.Lock()
		keys += len(sh.keys)
		for _, ss := range sh.keys {
			entries += len(ss)
		}
		sh.mu.Unlock()
	}
	return keys, entries
}

// touch marks the watchers of key dirty (watchRegistry.touch).
func (c *cmdCtx) touch(key []byte) {
	c.srv.watch.touch(key)
	if c.inExec && len(c.execLent) > 0 {
		if n, ok := c.execLent[string(key)]; ok {
			delete(c.execLent, string(key))
			c.w.HoldDetached(n)
		}
	}
}

// touchPairs touches the keys of MSET's key/value pairs.
func (c *cmdCtx) touchPairs(pairs [][]byte) {
	for i := 0; i < len(pairs); i += 2 {
		c.touch(pairs[i])
	}
}

// lent notes that the reply lent a large value of key, n bytes long (the
// whole value, even when a span of it was lent: the loan keeps all of
// it), for EXEC (cmdCtx.execLent). Outside EXEC no command both lends a
// value and then writes its key.
func (c *cmdCtx) lent(key []byte, n int) {
	if !c.inExec {
		return
	}
	if c.execLent == nil {
		c.execLent = make(map[string]int)
	}
	c.execLent[string(key)] = n // the same version lent again holds it once
}

// lentDetached notes that the reply lent n bytes of a value the keyspace
// no longer holds (GETDEL, SET ... GET), in EXEC, where the reply may
// gather any number of them.
func (c *cmdCtx) lentDetached(n int) {
	if c.inExec {
		c.w.HoldDetached(n)
	}
}

// execDone forgets the values EXEC's reply lent.
func (c *cmdCtx) execDone() {
	if len(c.execLent) > 1024 {
		c.execLent = nil
	}
	clear(c.execLent)
}
