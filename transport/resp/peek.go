package resp

// Peek looks ahead, without consuming anything, at the complete multibulk
// commands buffered from the decoder's position on (the next command Next
// will return first) and appends, for each one with at least two arguments,
// its second argument (for most commands, the key) to dst. It stops after
// max commands, at the first incomplete, inline, empty or malformed one
// (Next reports the error, Peek does not), and does nothing while a command
// is split across reads. The slices point into the fed input and are valid
// as long as Next's results would be. It allocates nothing beyond dst once
// the decoder has seen a batch as large.
//
// A server uses it to fetch the keys of a pipelined batch into cache before
// executing the batch, so that their memory misses overlap. The commands it
// parsed are kept, and Next hands them out without parsing them again.
func (d *Decoder) Peek(dst [][]byte, max int) [][]byte {
	d.forgetPeeked()
	if d.err != nil || d.split || d.state != stStart {
		return dst
	}
	in := d.in
	i := d.pos
	for n := 0; n < max && i < len(in) && in[i] == '*'; n++ {
		argc, j, ok := peekNumber(in, i+1)
		if !ok || argc < 1 || argc > d.lim.MaxArray {
			break
		}
		args := len(d.pkArgs)
		var a int64
		for ; a < argc; a++ {
			if j >= len(in) || in[j] != '$' {
				break
			}
			size, k, ok := peekNumber(in, j+1)
			if !ok || size > d.lim.MaxBulk || int64(len(in)-k) < size+2 {
				break
			}
			end := k + int(size)
			if in[end] != '\r' || in[end+1] != '\n' {
				break
			}
			d.pkArgs = append(d.pkArgs, k, end)
			j = end + 2
		}
		if a < argc { // incomplete or malformed: Next's to parse
			d.pkArgs = d.pkArgs[:args]
			break
		}
		d.pk = append(d.pk, peeked{start: i, end: j, args: args, argc: int(argc)})
		if argc >= 2 {
			k := d.pkArgs[args+2]
			dst = append(dst, in[k:d.pkArgs[args+3]:d.pkArgs[args+3]])
		}
		i = j
	}
	return dst
}

// peekNumber parses a non-negative decimal followed by CRLF at in[i:],
// returning it and the index after the CRLF. ok is false when the line is
// incomplete, empty, too long or not a plain number: a sign or a leading
// zero is left to Next, which rejects both.
func peekNumber(in []byte, i int) (v int64, next int, ok bool) {
	start := i
	for ; i < len(in) && in[i] >= '0' && in[i] <= '9'; i++ {
		if i-start >= 18 || i > start && v == 0 {
			return 0, 0, false
		}
		v = v*10 + int64(in[i]-'0')
	}
	if i == start || i+1 >= len(in) || in[i] != '\r' || in[i+1] != '\n' {
		return 0, 0, false
	}
	return v, i + 2, true
}
