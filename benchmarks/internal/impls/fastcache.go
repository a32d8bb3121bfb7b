package impls

import "github.com/VictoriaMetrics/fastcache"

// Fastcache adapts a *fastcache.Cache of FastcacheMaxBytes.
type Fastcache struct{ c *fastcache.Cache }

// NewFastcache returns an empty cache.
func NewFastcache() Fastcache { return Fastcache{c: fastcache.New(FastcacheMaxBytes)} }

// Get implements Store.
func (f Fastcache) Get(dst, key []byte) ([]byte, bool) { return f.c.HasGet(dst, key) }

// Set implements Store. fastcache drops entries it cannot hold (over 64 KiB)
// without an error; the data set never has such entries.
func (f Fastcache) Set(key, value []byte) error {
	f.c.Set(key, value)
	return nil
}

// Close implements Store. Reset hands the chunks back to fastcache's own free
// list; fastcache never returns that memory to the operating system.
func (f Fastcache) Close() { f.c.Reset() }
