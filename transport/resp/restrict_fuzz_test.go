package resp

import (
	"bytes"
	"reflect"
	"testing"
)

// restrictLimits make the restricted bulk limit (UnauthMaxBulk) and array
// limit (UnauthMaxArray) both tighter than the configured ones.
var restrictLimits = Limits{MaxBulk: UnauthMaxBulk + 4096, MaxArray: 64, MaxInline: 256}

// restrictRun decodes chunks as a server does: before each Feed and after
// each command it sets Restrict from the next control bit (ctl, cycled),
// and, when peek is set, it peeks after every Feed and after every command
// whose control byte asks for it. It returns the commands, each with the
// restricted state it was returned under, and the error.
func restrictRun(ctl []byte, peek bool, chunks ...[]byte) ([]string, error) {
	d := NewDecoder(restrictLimits)
	var out []string
	k := 0
	next := func() byte {
		if len(ctl) == 0 {
			return 0
		}
		b := ctl[k%len(ctl)]
		k++
		return b
	}
	var keys [][]byte
	for _, c := range chunks {
		b := next()
		d.Restrict(b&1 != 0)
		buf := bytes.Clone(c)
		d.Feed(buf)
		if peek {
			keys = d.Peek(keys[:0], 1+int(b>>1)%8)
		}
		for {
			argv, err := d.Next()
			if err != nil {
				return out, err
			}
			if argv == nil {
				break
			}
			var s []byte
			if d.unauth {
				s = append(s, 'R')
			} else {
				s = append(s, 'F')
			}
			for _, a := range argv {
				s = append(s, '|')
				s = append(s, a...)
			}
			out = append(out, string(s))
			b := next()
			d.Restrict(b&1 != 0)
			if peek && b&2 != 0 {
				keys = d.Peek(keys[:0], 1+int(b>>2)%8)
			}
		}
		for i := range buf {
			buf[i] = '#'
		}
	}
	return out, nil
}

// FuzzRESPRestrict checks that Peek's cache of parsed commands and the
// pre-authentication limits (Restrict) agree: toggling Restrict between
// commands, as a server does after AUTH or CONFIG SET requirepass, yields
// the same commands and errors with and without peeking, however the input
// is cut.
func FuzzRESPRestrict(f *testing.F) {
	f.Add([]byte("*2\r\n$4\r\nAUTH\r\n$1\r\np\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$20000\r\n"), []byte{1, 0}, []byte{30})
	f.Add([]byte("*1\r\n$4\r\nPING\r\n*12\r\n$1\r\na\r\n"), []byte{0, 1, 3}, []byte{})
	f.Add([]byte("*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n*11\r\n"), []byte{2, 3, 1}, []byte{5, 7})
	f.Fuzz(func(t *testing.T, data, ctl, cuts []byte) {
		parts := chunks(data, cuts)
		plain, perr := restrictRun(ctl, false, parts...)
		peeked, kerr := restrictRun(ctl, true, parts...)
		if !reflect.DeepEqual(plain, peeked) || !sameErr(perr, kerr) {
			t.Fatalf("ctl %v cuts %v\nwithout Peek: %q %v\nwith Peek:    %q %v", ctl, cuts, plain, perr, peeked, kerr)
		}
	})
}
