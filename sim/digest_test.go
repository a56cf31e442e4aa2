package sim

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
)

// digestMsg shows n and label in its text but gives only n in its binary
// form, so a test can tell which of the two the hash read.
type digestMsg struct {
	n     uint64
	label string
}

func (m digestMsg) AppendTrace(b []byte) []byte {
	return strconv.AppendUint(append(append(b, "digest "...), m.label...), m.n, 10)
}

func (m digestMsg) AppendDigest(b []byte) []byte { return DigestForm(b).Kind("digest").Uint(m.n) }

// The binary form is the same bytes on every platform (varints, zig-zag for
// signed values, lengths before strings): the golden trace hashes, which CI
// checks on 386 and arm64, rest on it.
func TestDigestFormIsPinned(t *testing.T) {
	f := DigestForm(nil).Kind("K").Uint(300).Int(-2).Node(None).Bool(true).Bool(false).
		Bytes([]byte("ab")).Text("c")
	assert.Equal(t, []byte{1, 'K', 0xac, 0x02, 3, 1, 1, 0, 2, 'a', 'b', 1, 'c'}, []byte(f))
}
