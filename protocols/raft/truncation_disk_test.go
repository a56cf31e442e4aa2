package raft

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/internal/prototest"
)

// A truncation deletes every chunk after the one it cuts, down to a last
// chunk that holds a single entry: once the log grows back to fill the cut
// chunk, a chunk left behind would be loaded as the log's continuation, and
// a restarted server would hold an entry it deleted, of an older term, past
// newer ones (and vote by it).
func TestTruncationDeletesEveryLaterChunk(t *testing.T) {
	for _, length := range []int{2*entriesPerChunk + 1, 2*entriesPerChunk + 2, 3 * entriesPerChunk} {
		tn := newTestNet(t, 3, DefaultConfig())
		log := make([]uint64, length)
		for i := range log {
			log[i] = 2
		}
		writeState(tn, 0, 3, 1, entries(log...))
		tn.Start(0)
		tn.Within(0, func(n *node, env *prototest.Env) {
			n.env = env
			n.truncateFrom(entriesPerChunk + 4) // inside the second chunk
			for n.lastIndex() < 2*entriesPerChunk {
				n.appendEntry(Entry{Term: 3, Cmd: prototest.Cmd(98, n.lastIndex(), "set y 1")})
			}
			n.finish()
		})
		tn.Restart(0)
		n := tn.Node(0)
		require.Equal(t, uint64(2*entriesPerChunk), n.lastIndex(), "log of %d cut at %d and refilled: entries after it came back", length, entriesPerChunk+4)
		require.Equal(t, uint64(3), n.lastTerm())
	}
}
