package binproto

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestIdle: a decoder is idle only when it holds nothing a connection
// would lose by lending it to another: not with input left, a frame half
// read (header or body), or a framing error.
func TestIdle(t *testing.T) {
	d := NewDecoder(Limits{})
	require.True(t, d.Idle(), "new")

	f1, _ := BeginFrame(nil, OpPing, 0, 1)
	f1, err := EndFrame(f1, 0)
	require.NoError(t, err)
	two := append(append([]byte(nil), f1...), f1...)
	d.Feed(two)
	require.False(t, d.Idle(), "input not parsed yet")
	f, err := d.Next()
	require.NoError(t, err)
	require.NotNil(t, f)
	require.False(t, d.Idle(), "a second frame unread")
	_, err = d.Next()
	require.NoError(t, err)
	require.True(t, d.Idle(), "all served")

	body, mark := BeginFrame(nil, OpPing, 0, 2)
	body = AppendArgCount(body, 1)
	body = AppendString(body, "hello")
	body, err = EndFrame(body, mark)
	require.NoError(t, err)
	for _, cut := range []int{3, HeaderSize + 2} { // in the header, in the body
		d.Feed(body[:cut])
		f, err = d.Next()
		require.NoError(t, err)
		require.Nil(t, f)
		require.False(t, d.Idle(), "cut at %d", cut)
		d.Feed(body[cut:])
		f, err = d.Next()
		require.NoError(t, err)
		require.NotNil(t, f)
		require.Equal(t, uint32(2), f.ID)
		f, err = d.Next()
		require.NoError(t, err)
		require.Nil(t, f)
		require.True(t, d.Idle(), "the split frame served")
	}

	d.Feed([]byte{0x00, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15})
	_, err = d.Next()
	require.Error(t, err)
	require.False(t, d.Idle(), "a sticky error")
	d.Reset()
	require.True(t, d.Idle(), "reset")
}
