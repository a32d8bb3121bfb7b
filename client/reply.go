package client

import (
	"context"
	"fmt"
	"math"

	"github.com/ringdb/ringdb/transport/binproto"
)

// command is one encoded request and the decoder of its reply.
type command[T any] struct {
	frame      []byte
	idempotent bool
	parse      func(body []byte) (T, error)
}

// run executes cmd on c.
func run[T any](ctx context.Context, c *Client, cmd command[T]) (T, error) {
	body, err := c.do(ctx, cmd.frame, cmd.idempotent)
	if err != nil {
		var zero T
		return zero, err
	}
	return cmd.parse(body)
}

// replyLimits parse a reply body, which is already in memory: the reader
// still checks every length and count against the bytes left, so nothing
// is allocated beyond the body's size. The server's HELLO limits bound what
// it accepts, not what it answers (an MGET reply can hold more elements or
// bytes than any request may).
var replyLimits = binproto.Limits{MaxFrame: math.MaxUint32, MaxValue: math.MaxUint32, MaxArray: math.MaxUint32}

// first reads the single top-level value of a reply body, turning an ERROR
// value into a *ServerError.
func first(body []byte) (binproto.Value, *binproto.Reader, error) {
	r := binproto.NewReader(body, replyLimits)
	v, err := r.Next()
	if err != nil {
		return v, nil, protoErr(err)
	}
	if v.Kind == binproto.KindError {
		return v, nil, serverError(v)
	}
	return v, &r, nil
}

func unexpected(v binproto.Value, want string) error {
	return protoErr(fmt.Errorf("reply is %v, want %s", v.Kind, want))
}

// optBytes is a BYTES-or-NULL reply.
type optBytes struct {
	val   []byte
	found bool
}

func parseOptBytes(body []byte) (optBytes, error) {
	v, _, err := first(body)
	if err != nil {
		return optBytes{}, err
	}
	switch v.Kind {
	case binproto.KindNull:
		return optBytes{}, nil
	case binproto.KindBytes:
		return optBytes{v.Bytes, true}, nil
	}
	return optBytes{}, unexpected(v, "BYTES or NULL")
}

func parseOK(body []byte) (struct{}, error) {
	v, _, err := first(body)
	if err != nil {
		return struct{}{}, err
	}
	if v.Kind != binproto.KindOK {
		return struct{}{}, unexpected(v, "OK")
	}
	return struct{}{}, nil
}

// parseOKNull reads OK (true) or NULL (false).
func parseOKNull(body []byte) (bool, error) {
	v, _, err := first(body)
	if err != nil {
		return false, err
	}
	switch v.Kind {
	case binproto.KindOK:
		return true, nil
	case binproto.KindNull:
		return false, nil
	}
	return false, unexpected(v, "OK or NULL")
}

func parseInt(body []byte) (int64, error) {
	v, _, err := first(body)
	if err != nil {
		return 0, err
	}
	if v.Kind != binproto.KindInt {
		return 0, unexpected(v, "INT")
	}
	return v.Int, nil
}

func parseBool(body []byte) (bool, error) {
	n, err := parseInt(body)
	return n == 1, err
}

func parseMGet(body []byte) ([][]byte, error) {
	v, r, err := first(body)
	if err != nil {
		return nil, err
	}
	if v.Kind != binproto.KindArray {
		return nil, unexpected(v, "ARRAY")
	}
	out := make([][]byte, v.Int)
	for i := range out {
		e, err := r.Next()
		if err != nil {
			return nil, protoErr(err)
		}
		switch e.Kind {
		case binproto.KindBytes:
			out[i] = e.Bytes
		case binproto.KindNull:
		default:
			return nil, unexpected(e, "BYTES or NULL")
		}
	}
	return out, nil
}

func parseStats(body []byte) (map[string]int64, error) {
	v, r, err := first(body)
	if err != nil {
		return nil, err
	}
	if v.Kind != binproto.KindMap {
		return nil, unexpected(v, "MAP")
	}
	out := make(map[string]int64, v.Int)
	for i := int64(0); i < v.Int; i++ {
		k, err := r.Next()
		if err != nil {
			return nil, protoErr(err)
		}
		val, err := r.Skip()
		if err != nil {
			return nil, protoErr(err)
		}
		if k.Kind == binproto.KindBytes && val.Kind == binproto.KindInt {
			out[string(k.Bytes)] = val.Int
		}
	}
	return out, nil
}

// scanPage is one SCAN reply.
type scanPage struct {
	next uint64
	keys []string
}

func parseScan(body []byte) (scanPage, error) {
	v, r, err := first(body)
	if err != nil {
		return scanPage{}, err
	}
	if v.Kind != binproto.KindArray || v.Int != 2 {
		return scanPage{}, unexpected(v, "ARRAY of 2")
	}
	cur, err := r.Next()
	if err != nil {
		return scanPage{}, protoErr(err)
	}
	arr, err := r.Next()
	if err != nil {
		return scanPage{}, protoErr(err)
	}
	if cur.Kind != binproto.KindInt || arr.Kind != binproto.KindArray {
		return scanPage{}, protoErr(fmt.Errorf("malformed SCAN reply"))
	}
	p := scanPage{next: uint64(cur.Int), keys: make([]string, 0, arr.Int)}
	for i := int64(0); i < arr.Int; i++ {
		k, err := r.Next()
		if err != nil {
			return scanPage{}, protoErr(err)
		}
		if k.Kind != binproto.KindBytes {
			return scanPage{}, unexpected(k, "BYTES")
		}
		p.keys = append(p.keys, string(k.Bytes))
	}
	return p, nil
}

func parsePing(body []byte) (string, error) {
	v, _, err := first(body)
	if err != nil {
		return "", err
	}
	switch v.Kind {
	case binproto.KindOK:
		return "PONG", nil
	case binproto.KindBytes:
		return string(v.Bytes), nil
	}
	return "", unexpected(v, "OK or BYTES")
}
