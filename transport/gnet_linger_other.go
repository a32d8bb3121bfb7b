//go:build !unix

package transport

import (
	"errors"

	"github.com/panjf2000/gnet/v2"
)

// shutdownWrite is not available here; the connection is closed at once.
func shutdownWrite(gnet.Conn) error { return errors.ErrUnsupported }
