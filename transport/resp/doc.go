// Package resp is ringdb's RESP2/RESP3 wire codec: append-style reply
// encoders and an incremental request decoder. It does no I/O and knows
// nothing about what a command means.
//
// # Encoding
//
// Every encoder appends one RESP value to dst and returns the extended
// slice, in the style of strconv.AppendInt:
//
//	out = resp.AppendArrayHeader(out, 2)
//	out = resp.AppendBulk(out, key)
//	out = resp.AppendNull(out, resp.RESP3)
//
// Encoders whose wire form differs between RESP2 and RESP3 take a Version.
// No encoder allocates except to grow dst.
//
// # Decoding
//
// A Decoder turns a byte stream into commands (argv). A connection feeds
// each read with Feed and then calls Next until it returns a nil argv:
//
//	dec.Feed(buf[:n])
//	for {
//		argv, err := dec.Next()
//		if err != nil {
//			// reply "-ERR " + err.Error(), then close the connection
//		}
//		if argv == nil {
//			break // need more input; buf may be reused now
//		}
//		handle(argv)
//	}
//
// Both multibulk (*N\r\n$len\r\n...) and inline commands are accepted. While
// a command lies whole inside the fed buffer its arguments are sub-slices of
// that buffer; only a command split across reads is copied, into scratch
// owned by the decoder. Every declared length is checked against Limits
// before anything is allocated for it. In steady state Next does not
// allocate.
package resp
