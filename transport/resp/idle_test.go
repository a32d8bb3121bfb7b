package resp

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestIdle: a decoder is idle only when it holds nothing a connection
// would lose by lending it to another: not with input left, a command
// half read, or a protocol error.
func TestIdle(t *testing.T) {
	d := NewDecoder(Limits{})
	require.True(t, d.Idle(), "new")

	d.Feed([]byte("*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n"))
	require.False(t, d.Idle(), "input not parsed yet")
	argv, err := d.Next()
	require.NoError(t, err)
	require.Len(t, argv, 1)
	require.False(t, d.Idle(), "a second command unread")
	_, err = d.Next()
	require.NoError(t, err)
	require.True(t, d.Idle(), "all served")

	d.Feed([]byte("*2\r\n$3\r\nGET\r\n$1"))
	argv, err = d.Next()
	require.NoError(t, err)
	require.Nil(t, argv)
	require.False(t, d.Idle(), "half a command")
	d.Feed([]byte("\r\nk\r\n"))
	argv, err = d.Next()
	require.NoError(t, err)
	require.Equal(t, [][]byte{[]byte("GET"), []byte("k")}, argv)
	argv, err = d.Next()
	require.NoError(t, err)
	require.Nil(t, argv)
	require.True(t, d.Idle(), "the split command served")

	d.Feed([]byte("*x\r\n"))
	_, err = d.Next()
	require.Error(t, err)
	require.False(t, d.Idle(), "a sticky error")
	d.Reset()
	require.True(t, d.Idle(), "reset")
}
