package impls

import (
	"unsafe"

	"github.com/maypok86/otter/v2"
)

// Otter adapts an unbounded *otter.Cache[string, []byte].
//
// otter keeps Go values, so a []byte-keyed caller pays for a key string and a
// value copy on every Set (otter retains both; the caller may reuse its
// buffers). Reads do not retain the key and look it up through a zero-copy
// string view.
type Otter struct{ c *otter.Cache[string, []byte] }

// NewOtter returns an empty cache with no size bound.
func NewOtter() (Otter, error) {
	c, err := otter.New(&otter.Options[string, []byte]{})
	if err != nil {
		return Otter{}, err
	}
	return Otter{c: c}, nil
}

// Get implements Store.
func (o Otter) Get(dst, key []byte) ([]byte, bool) {
	v, ok := o.c.GetIfPresent(unsafe.String(unsafe.SliceData(key), len(key)))
	if !ok {
		return dst, false
	}
	return append(dst, v...), true
}

// Set implements Store.
func (o Otter) Set(key, value []byte) error {
	o.c.Set(string(key), append(make([]byte, 0, len(value)), value...))
	return nil
}

// Close implements Store.
func (o Otter) Close() {
	o.c.InvalidateAll()
	o.c.StopAllGoroutines()
}
