package sim

import (
	"strconv"
	"testing"
	"time"

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

// A Digester's message is hashed from its binary form: its text is not
// formatted for the hash at all.
func TestHashReadsADigestersBinaryForm(t *testing.T) {
	hash := func(m Message) uint64 {
		w := newTestWorld(t, Config{Seed: 1, Link: constLink(time.Millisecond)})
		w.AddServer(sendsAtStart(1, m))
		w.AddServer(idle())
		w.RunUntil(ms(5))
		return w.Result().Hash
	}
	assert.Equal(t, hash(digestMsg{n: 1, label: "a"}), hash(digestMsg{n: 1, label: "b"}))
	assert.NotEqual(t, hash(digestMsg{n: 1}), hash(digestMsg{n: 2}))
}

// The binary form is the same bytes on every platform (varints, zig-zag for
// signed values, lengths before strings): the golden trace hashes, which CI
// checks on 386 and arm64, rest on it.
func TestDigestFormIsPinned(t *testing.T) {
	f := DigestForm(nil).Kind("K").Uint(300).Int(-2).Node(None).Bool(true).Bool(false).
		Bytes([]byte("ab")).Text("c")
	assert.Equal(t, []byte{1, 'K', 0xac, 0x02, 3, 1, 1, 0, 2, 'a', 'b', 1, 'c'}, []byte(f))
}
