// Package slotlist keeps a set of elements in a slice, each element
// holding its own index: adding and removing take constant time, and a
// walk is a walk over a slice. A map used as a set costs some 30 bytes per
// element, and as much again in the tables it outgrows; here it is the
// slice's 8 bytes and the element's 4-byte index.
package slotlist

// Item is an element of a List: SlotIndex returns where the element keeps
// its index (-1, or anything out of range, while it is in no List).
type Item interface {
	comparable
	SlotIndex() *int32
}

// List is a set of Items. The zero List is empty and ready to use. It is
// not safe for concurrent use.
type List[T Item] struct {
	items []T
}

// Add adds x, which must be in no List.
func (l *List[T]) Add(x T) {
	*x.SlotIndex() = int32(len(l.items))
	l.items = append(l.items, x)
}

// Remove takes x out of l, the last item taking its place, and reports
// whether it was in l. A walk over Items that may remove the item it
// visits goes from the end: the item moved into the hole has been
// visited already.
func (l *List[T]) Remove(x T) bool {
	p := x.SlotIndex()
	i, last := int(*p), len(l.items)-1
	if i < 0 || i > last || l.items[i] != x {
		return false
	}
	l.items[i] = l.items[last]
	*l.items[i].SlotIndex() = int32(i)
	var zero T
	l.items[last] = zero
	l.items = l.items[:last]
	*p = -1
	if cap(l.items) > 1024 && len(l.items) < cap(l.items)/4 {
		l.items = append([]T(nil), l.items...) // a burst has gone: free the rest
	}
	return true
}

// Len returns the number of items.
func (l *List[T]) Len() int { return len(l.items) }

// At returns the item at index i, the zero T past the last (items removed
// during a walk shrink the list).
func (l *List[T]) At(i int) T {
	if i >= len(l.items) {
		var zero T
		return zero
	}
	return l.items[i]
}

// Items returns the items, in no particular order; the slice is l's own,
// valid until the next Add or Remove.
func (l *List[T]) Items() []T { return l.items }
