package slotlist

import (
	"testing"

	"github.com/stretchr/testify/require"
)

type item struct {
	name string
	slot int32
}

func (it *item) SlotIndex() *int32 { return &it.slot }

// TestAddRemove: the list holds exactly the items added and not removed,
// whichever end or middle they leave from, each knowing its index; an
// item removed twice, or never added, changes nothing.
func TestAddRemove(t *testing.T) {
	var l List[*item]
	its := make([]*item, 6)
	for i := range its {
		its[i] = &item{name: string(rune('a' + i))}
		l.Add(its[i])
	}
	check := func(want ...*item) {
		t.Helper()
		require.ElementsMatch(t, want, l.Items())
		require.Equal(t, len(want), l.Len())
		for i, it := range l.Items() {
			require.Equal(t, int32(i), it.slot)
			require.Same(t, it, l.At(i))
		}
		require.Nil(t, l.At(l.Len()))
	}
	require.True(t, l.Remove(its[2]))  // middle
	require.True(t, l.Remove(its[5]))  // last
	require.True(t, l.Remove(its[0]))  // first
	require.False(t, l.Remove(its[0])) // again
	require.False(t, l.Remove(&item{slot: 1}))
	check(its[1], its[3], its[4])
	for _, it := range []*item{its[0], its[2], its[5]} {
		require.Equal(t, int32(-1), it.slot)
	}
	l.Add(its[0])
	check(its[1], its[3], its[4], its[0])
	for _, it := range []*item{its[3], its[1], its[4], its[0]} {
		require.True(t, l.Remove(it))
	}
	check()
}

// TestWalkFromTheEndRemoving: a walk from the end that removes some of
// the items it visits visits every item once.
func TestWalkFromTheEndRemoving(t *testing.T) {
	var l List[*item]
	for i := range 100 {
		l.Add(&item{name: string(rune(i))})
	}
	seen := map[*item]int{}
	for i := l.Len() - 1; i >= 0; i-- {
		it := l.At(i)
		if it == nil {
			continue
		}
		seen[it]++
		if i%3 == 0 {
			l.Remove(it)
		}
	}
	require.Len(t, seen, 100)
	for _, n := range seen {
		require.Equal(t, 1, n)
	}
	require.Equal(t, 66, l.Len())
}

// TestShrinksAfterBurst: once a burst of items has gone, the list lets
// go of the storage it grew to.
func TestShrinksAfterBurst(t *testing.T) {
	var l List[*item]
	its := make([]*item, 5000)
	for i := range its {
		its[i] = &item{}
		l.Add(its[i])
	}
	for _, it := range its[:4900] {
		l.Remove(it)
	}
	require.Equal(t, 100, l.Len())
	require.LessOrEqual(t, cap(l.items), 1024)
}
