package raft

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/internal/prototest"
)

// A crash that keeps any prefix of a compaction's writes (torn writes: the
// last one kept is cut short) leaves a disk that still holds every entry the
// server had synced, in the snapshot or in the log after it. A compaction
// that deleted the chunks its snapshot covers before the snapshot reached
// the disk lost the whole log to such a crash, acknowledged entries
// included, with nothing on disk to say so: the loader saw a gap at the
// log's start and dropped the rest.
func TestTornCompactionKeepsEveryEntry(t *testing.T) {
	tn := newTestNet(t, 3, DefaultConfig())
	tn.TearWrites(0)
	log := make([]uint64, 40)
	for i := range log {
		log[i] = 2
	}
	for round := range 60 {
		d := tn.Disk(0)
		for _, k := range d.Keys("raft/") {
			d.Delete(k)
		}
		d.Sync()
		writeState(tn, 0, 2, 1, entries(log...))
		tn.Start(0)
		index := uint64(17 + round%20) // the snapshot ends inside the second or third chunk
		tn.Within(0, func(n *node, env *prototest.Env) {
			n.env = env
			data, err := n.sessions.Snapshot()
			require.NoError(t, err)
			e := n.entryAt(index)
			n.compact(snapshot{index: index, term: e.Term, digest: e.Cmd.Digest(), conf: n.conf, data: data}, true)
		})
		require.Positive(t, tn.Disk(0).Unsynced(), "the compaction is not synced")
		tn.Restart(0)
		n := tn.Node(0)
		require.False(t, n.down, "round %d", round)
		require.Equal(t, uint64(len(log)), n.lastIndex(), "round %d: snapshot at %d, log after it: entries lost", round, n.snap.index)
		tn.Crash(0)
	}
}
