package impls

import "github.com/coocood/freecache"

// Freecache adapts a *freecache.Cache of FreecacheBytes.
type Freecache struct{ c *freecache.Cache }

// NewFreecache returns an empty cache.
func NewFreecache() Freecache { return Freecache{c: freecache.NewCache(FreecacheBytes)} }

// Get implements Store. GetWithBuf copies the value into the spare capacity
// of dst when it fits and allocates otherwise.
func (f Freecache) Get(dst, key []byte) ([]byte, bool) {
	spare := dst[len(dst):cap(dst)]
	v, err := f.c.GetWithBuf(key, spare)
	if err != nil {
		return dst, false
	}
	if len(v) <= len(spare) {
		return dst[:len(dst)+len(v)], true
	}
	return append(dst, v...), true
}

// Set implements Store; 0 means no expiry.
func (f Freecache) Set(key, value []byte) error { return f.c.Set(key, value, 0) }

// Close implements Store.
func (f Freecache) Close() { f.c.Clear() }
