// Package binproto is the codec of ringdb's binary protocol, version 1, as
// specified in docs/PROTOCOL.md: frame and value encoders, an incremental
// frame decoder, and parsers for request arguments and reply values. It does
// no I/O and knows nothing about what an opcode means.
//
// A frame is a 12-byte header (magic 0xB1, flags, opcode, request id, body
// length) followed by its body:
//
//	dst, mark := binproto.BeginFrame(dst, binproto.OpGet, 0, id)
//	dst = binproto.AppendArgCount(dst, 1)
//	dst = binproto.AppendBytes(dst, key)
//	dst, err := binproto.EndFrame(dst, mark)
//
// A Decoder turns a byte stream into frames. Like resp.Decoder, it hands out
// sub-slices of the fed buffer while a frame lies whole inside it, copies a
// frame only when it is split across reads, checks the declared length
// against Limits before committing memory, and does not allocate in steady
// state. ParseArgs splits a request body into its arguments; a Reader walks
// a reply or push body value by value.
package binproto
