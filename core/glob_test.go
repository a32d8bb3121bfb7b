package core

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// globCases were each checked against Redis 7.0.15 (SET the subject, then
// KEYS pattern), except "*" against "", which KEYS special-cases; there
// PUBLISH "" reaching no PSUBSCRIBE * subscriber and KEYS ** confirm it.
var globCases = []struct {
	name    string
	pattern string
	s       string
	want    bool
}{
	{"empty pattern empty subject", "", "", true},
	{"empty pattern", "", "a", false},
	{"star vs empty subject (Redis quirk)", "*", "", false},
	{"double star vs empty subject", "**", "", false},
	{"star", "*", "anything", true},
	{"star binary", "*", "\x00\xff", true},
	{"literal", "hello", "hello", true},
	{"literal case-sensitive", "hello", "Hello", false},
	{"literal prefix only", "hell", "hello", false},
	{"literal longer", "hello!", "hello", false},
	{"prefix star", "user:*", "user:42", true},
	{"prefix star empty rest", "user:*", "user:", true},
	{"prefix star miss", "user:*", "usr:42", false},
	{"suffix star", "*:42", "user:42", true},
	{"middle star", "u*2", "user:42", true},
	{"middle star miss", "u*3", "user:42", false},
	{"stars collapse", "a***b", "ab", true},
	{"star needs backtrack", "*ab", "aab", true},
	{"star backtrack twice", "a*b*c", "abxbyc", true},
	{"star backtrack miss", "a*b*c", "abxbyd", false},
	{"trailing stars after last byte", "abc**", "abc", true},
	{"question", "h?llo", "hallo", true},
	{"question needs one byte", "h?llo", "hllo", false},
	{"question matches nul", "?", "\x00", true},
	{"question only one", "?", "ab", false},
	{"class", "h[ae]llo", "hello", true},
	{"class miss", "h[ae]llo", "hillo", false},
	{"negated class", "h[^e]llo", "hallo", true},
	{"negated class miss", "h[^e]llo", "hello", false},
	{"range", "[a-c]", "b", true},
	{"range miss", "[a-c]", "d", false},
	{"reversed range", "[c-a]", "b", true},
	{"negated range", "[^a-c]", "d", true},
	{"range and literal", "[a-cx]", "x", true},
	{"escaped star", "a\\*b", "a*b", true},
	{"escaped star not wildcard", "a\\*b", "axb", false},
	{"escaped question", "\\?", "?", true},
	{"escaped question not wildcard", "\\?", "a", false},
	{"escaped bracket", "\\[a]", "[a]", true},
	{"escaped ordinary byte", "\\a", "a", true},
	{"trailing backslash is literal", "a\\", "a\\", true},
	{"escape in class", "[\\]]", "]", true},
	{"escape in class dash", "[a\\-z]", "-", true},
	{"escape in class dash not range", "[a\\-z]", "m", false},
	{"backslash last in class", "[\\", "\\", true},
	{"empty class matches nothing", "[]", "]", false},
	{"empty class then literal", "[]a", "a", false},
	{"negated empty class any byte", "[^]", "x", true},
	{"negated empty class then literal", "[^]a", "xa", true},
	{"unterminated class", "[abc", "b", true},
	{"unterminated class miss", "[abc", "d", false},
	{"lone open bracket", "[", "[", false},
	{"lone negated bracket", "[^", "z", true},
	{"dash first is literal", "[-a]", "-", true},
	{"dash last is range to bracket", "[a-]b]", "^", true},
	{"dash last range excludes backslash", "[a-]b]", "\\", false},
	{"dash last swallows bracket", "[a-]", "a", true},
	{"caret not first is literal", "[a^]", "^", true},
	{"close bracket alone literal", "]", "]", true},
	{"star inside class literal", "[*]", "*", true},
	{"star inside class not wildcard", "[*]", "a", false},
	{"nul byte literal", "a\x00b", "a\x00b", true},
	{"nul byte mismatch", "a\x00b", "a\x01b", false},
	{"high byte literal", "\xff", "\xff", true},
	{"high byte range unsigned-looking", "[\x80-\xff]", "\x90", true},
	{"signed range excludes ascii", "[\x80-\xff]", "a", false},
	{"signed range a-0xff matches 0xff", "[a-\xff]", "\xff", true},
	{"signed range a-0xff matches 0", "[a-\xff]", "0", true},
	{"signed range a-0xff excludes b", "[a-\xff]", "b", false},
	{"signed range a-0xff excludes 0x80", "[a-\xff]", "\x80", false},
	{"pathological stars miss", "a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false},
	{"pathological stars hit", "a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab", true},
	{"question then star", "?*", "a", true},
	{"star then question", "*?", "", false},
	{"star question needs byte", "*?", "ab", true},
	{"class then star", "[ab]*", "bzz", true},
}

func TestGlobTable(t *testing.T) {
	for _, tc := range globCases {
		t.Run(tc.name, func(t *testing.T) {
			got := matchGlob([]byte(tc.pattern), []byte(tc.s))
			assert.Equal(t, tc.want, got, "matchGlob(%q, %q)", tc.pattern, tc.s)
			if len(tc.s) <= 2*globFuzzMax { // the reference is exponential
				assert.Equal(t, tc.want, globReference([]byte(tc.pattern), []byte(tc.s)),
					"reference(%q, %q)", tc.pattern, tc.s)
			}
		})
	}
}

// TestGlobPathological checks that patterns which make naive backtracking
// exponential (and made Redis add a nesting limit) finish quickly, and that
// more than Redis's 1000 nested stars still match.
func TestGlobPathological(t *testing.T) {
	long := bytes.Repeat([]byte("a"), 100_000)
	cases := []struct {
		name    string
		pattern []byte
		s       []byte
		want    bool
	}{
		{"a*a*a*a*a*a*a*b miss", []byte("a*a*a*a*a*a*a*b"), long, false},
		{"a*a*a*a*a*a*a*b hit", []byte("a*a*a*a*a*a*a*b"), append(bytes.Clone(long), 'b'), true},
		{"many stars miss", []byte(strings.Repeat("*a", 200) + "b"), long[:5000], false},
		{"2000 nested stars hit", []byte(strings.Repeat("a*", 2000)), long[:4000], true},
		{"class stars miss", []byte(strings.Repeat("*[a-c]", 50) + "[^a]"), long[:20000], false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			assert.Equal(t, tc.want, matchGlob(tc.pattern, tc.s))
			// Generous even under -race on a slow machine; exponential
			// behaviour would take years.
			assert.Less(t, time.Since(start), 5*time.Second)
		})
	}
}

func TestGlobAllocs(t *testing.T) {
	pattern := []byte("user:[a-z]*:?\\**[^0-9]x")
	subject := []byte("user:abc:1*zz-x")
	require.True(t, matchGlob(pattern, subject))
	allocs := testing.AllocsPerRun(100, func() {
		matchGlob(pattern, subject)
		matchGlob([]byte("a*a*a*b"), []byte("aaaaaaaaaaaaaaaaaaaaaaaa"))
	})
	assert.Zero(t, allocs)
}

// FuzzGlob compares matchGlob with globReference, a line-by-line port of
// Redis's recursive stringmatchlen, on inputs small enough for its
// exponential worst case.
func FuzzGlob(f *testing.F) {
	for _, tc := range globCases {
		if len(tc.pattern) <= globFuzzMax && len(tc.s) <= globFuzzMax {
			f.Add([]byte(tc.pattern), []byte(tc.s))
		}
	}
	f.Fuzz(func(t *testing.T, pattern, s []byte) {
		if len(pattern) > globFuzzMax || len(s) > globFuzzMax {
			return
		}
		want := globReference(pattern, s)
		if got := matchGlob(pattern, s); got != want {
			t.Fatalf("matchGlob(%q, %q) = %v, Redis stringmatchlen says %v", pattern, s, got, want)
		}
	})
}

const globFuzzMax = 16

// globReference is Redis 7's stringmatchlen (util.c, nocase = 0) ported
// statement by statement, minus the nesting limit and the skipLongerMatches
// shortcut, which do not change the answer for small inputs. Like the C
// code, it reads the NUL that terminates a Redis string when it looks one
// byte past the pattern, and it compares range bounds as signed chars.
func globReference(pattern, s []byte) bool {
	at := func(b []byte, i int) byte {
		if i < len(b) {
			return b[i]
		}
		return 0
	}
	p := 0
	for p < len(pattern) && len(s) > 0 {
		switch pattern[p] {
		case '*':
			for p < len(pattern) && at(pattern, p+1) == '*' {
				p++
			}
			if len(pattern)-p == 1 {
				return true
			}
			for len(s) > 0 {
				if globReference(pattern[p+1:], s) {
					return true
				}
				s = s[1:]
			}
			return false
		case '?':
			s = s[1:]
		case '[':
			p++
			not := at(pattern, p) == '^'
			if not {
				p++
			}
			match := false
			for {
				if at(pattern, p) == '\\' && len(pattern)-p >= 2 {
					p++
					if pattern[p] == s[0] {
						match = true
					}
				} else if at(pattern, p) == ']' {
					break
				} else if len(pattern)-p == 0 {
					p--
					break
				} else if len(pattern)-p >= 3 && pattern[p+1] == '-' {
					start, end, c := int(int8(pattern[p])), int(int8(pattern[p+2])), int(int8(s[0]))
					if start > end {
						start, end = end, start
					}
					p += 2
					if c >= start && c <= end {
						match = true
					}
				} else if pattern[p] == s[0] {
					match = true
				}
				p++
			}
			if not {
				match = !match
			}
			if !match {
				return false
			}
			s = s[1:]
		case '\\':
			if len(pattern)-p >= 2 {
				p++
			}
			fallthrough
		default:
			if pattern[p] != s[0] {
				return false
			}
			s = s[1:]
		}
		p++
		if len(s) == 0 {
			for at(pattern, p) == '*' {
				p++
			}
			break
		}
	}
	return p == len(pattern) && len(s) == 0
}

func BenchmarkGlob(b *testing.B) {
	pattern := []byte("session:*:user:[0-9]*")
	subject := []byte("session:0123456789abcdef:user:42")
	b.ReportAllocs()
	b.SetBytes(int64(len(subject)))
	for b.Loop() {
		matchGlob(pattern, subject)
	}
}
