package paxos

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/internal/prototest"
	"github.com/simrun/simrun/sim"
)

// Catch-up, compaction and recovery.

// countDelivered counts the delivered messages that match.
func countDelivered[M any](tn *testNet, to sim.NodeID) int {
	c := 0
	for _, e := range tn.Delivered {
		if _, ok := e.Msg.(M); ok && e.To == to {
			c++
		}
	}
	return c
}

// A learner that missed the accepts and decisions asks the leader when a
// heartbeat shows it behind, and gets the values in chunks.
func TestLaggingLearnerFetchesMissedValues(t *testing.T) {
	cfg := testConfig()
	cfg.SnapshotInterval = 0
	tn := leaderWith(t, 3, cfg)
	tn.Drop = func(e envelope) bool { return e.To == 2 }
	addMany(tn, 1, 6)
	require.Zero(t, tn.Node(2).commit)
	tn.Drop = nil
	tn.Fire(0, timerHeartbeat)
	tn.Stabilize()
	assert.Equal(t, uint64(6), tn.Node(2).applied)
	assert.Equal(t, 2, countDelivered[MsgChosen](tn, 2), "6 slots in chunks of 4")
	assert.Equal(t, map[string]string{"a": "6"}, sessionsKV(t, tn.Node(2)))
	tn.RequireSafe(t)
}

// A lost accept is sent again at the heartbeat after the next one (a
// proposal gets a whole interval before it counts as lost).
func TestLeaderRetransmitsUnansweredAccepts(t *testing.T) {
	tn := leaderWith(t, 3, testConfig())
	tn.Drop = func(e envelope) bool { _, ok := e.Msg.(MsgAccept); return ok }
	add(tn, 0, 1)
	tn.Drop = nil
	require.Zero(t, tn.Node(0).commit)
	tn.Fire(0, timerHeartbeat)
	tn.Stabilize()
	require.Zero(t, tn.Node(0).commit, "too recent to resend")
	tn.Fire(0, timerHeartbeat)
	tn.Stabilize()
	for _, n := range nodes(tn) {
		assert.Equal(t, uint64(1), n.applied, "server %v", n.id)
	}
	assert.Len(t, tn.Replies, 1)
}

// A learner that restarts after the others compacted the slots it misses
// receives the snapshot, then the values after it.
func TestFarBehindLearnerReceivesTheSnapshot(t *testing.T) {
	tn := leaderWith(t, 3, testConfig())
	crash(tn, 2)
	addMany(tn, 1, 20)
	leader := tn.Node(0)
	require.Equal(t, uint64(16), leader.base(), "snapshots every 8 applied slots")
	slot16 := leader.snap.Digest

	tn.Start(2)
	tn.Fire(0, timerHeartbeat)
	tn.Stabilize()
	n := tn.Node(2)
	assert.Equal(t, 1, countDelivered[MsgSnapshot](tn, 2))
	assert.Equal(t, uint64(20), n.applied)
	assert.Equal(t, uint64(16), n.base())
	assert.Equal(t, map[string]string{"a": "20"}, sessionsKV(t, n))
	tn.RequireSafe(t)
	applied16 := false
	for _, o := range tn.Obs {
		if o.Node == 2 && o.Kind == sim.ObsApply && o.Index == 16 {
			applied16 = o.Digest == slot16
		}
	}
	assert.True(t, applied16, "installing the snapshot is observed as applying its last slot")

	// A retry of a command applied before the snapshot still runs once:
	// the sessions came with the snapshot.
	campaign(tn, 2)
	tn.Stabilize()
	add(tn, 2, 20)
	assert.Equal(t, "20", lastResult(tn))
}

// Compaction deletes the log prefix from memory and disk, and a restarted
// server recovers from its snapshot and the records after it.
func TestCompactionDeletesTheLogPrefix(t *testing.T) {
	tn := leaderWith(t, 3, testConfig())
	addMany(tn, 1, 20)
	for id, n := range nodes(tn) {
		assert.Equal(t, uint64(16), n.base(), "server %d", id)
		assert.Len(t, n.log, 4)
		keys := tn.Disk(sim.NodeID(id)).Keys(slotKeyPrefix)
		assert.Len(t, keys, 4)
		for _, k := range keys {
			slot, _, ok := parseSlotKey(k)
			require.True(t, ok)
			assert.Greater(t, slot, uint64(16))
		}
	}
	crash(tn, 1)
	tn.Start(1)
	n := tn.Node(1)
	assert.Equal(t, uint64(16), n.base())
	assert.Equal(t, uint64(20), n.applied)
	assert.Equal(t, map[string]string{"a": "20"}, sessionsKV(t, n))
}

// A crash in the middle of a compaction, on a disk that tears writes, keeps
// every accepted value: in the snapshot or in its slot's record, whatever
// prefix of the compaction's writes reached the disk. (Written the other
// way round, deletes before the snapshot, a crash could keep the deletes
// alone: an acceptor that forgot a value it had accepted, which a new
// leader then filled with another; a swarm sweep found that.)
func TestCompactionTornByACrashKeepsEveryValue(t *testing.T) {
	cfg := testConfig()
	cfg.SnapshotInterval = 0 // compactions only where the test makes them
	tn := leaderWith(t, 3, cfg)
	tn.TearWrites(1)
	for round := range 40 {
		addMany(tn, uint64(1+6*round), 6)
		n := tn.Node(1)
		first, last := n.base()+1, n.applied
		require.Greater(t, last, first+2, "round %d: server 1 applied the new slots", round)
		crashMidWrite(t, tn, first, last, func(n *node) {
			n.cfg.SnapshotInterval, n.canSnapshot = 1, true
			n.maybeSnapshot()
		})
		tn.Fire(0, timerHeartbeat)
		tn.Stabilize()
	}
}

// The same for a snapshot installed from the leader over slots this server
// accepted but never learned chosen: whatever prefix of the install's
// writes a crash keeps, each accepted value is in the snapshot or in its
// record.
func TestInstallTornByACrashKeepsEveryValue(t *testing.T) {
	cfg := testConfig()
	cfg.SnapshotInterval = 0
	tn := leaderWith(t, 3, cfg)
	tn.Do(0, func(n *node) { n.cfg.SnapshotInterval, n.canSnapshot = 1, true }) // the leader compacts at every slot
	tn.TearWrites(1)
	for round := range 40 {
		tn.Drop = func(e envelope) bool { _, accept := e.Msg.(MsgAccept); return e.To == 1 && !accept }
		addMany(tn, uint64(1+6*round), 6)
		tn.Drop = nil
		n, leader := tn.Node(1), tn.Node(0)
		first, last := n.commit+1, n.lastSlot()
		require.Greater(t, last, first+2, "round %d: server 1 accepted slots it did not learn chosen", round)
		require.Equal(t, last, leader.snap.Index, "round %d: the leader's snapshot covers them", round)
		crashMidWrite(t, tn, first, last, func(n *node) { n.installSnapshot(leader.snap) })
		tn.Fire(0, timerHeartbeat)
		tn.Stabilize()
	}
}

// crashMidWrite runs step in server 1, crashes it before its writes are
// synced (its disk tears them: a prefix reaches it), restarts it, and
// requires each value it had accepted for slots first to last to be in its
// snapshot or in its slot's record.
func crashMidWrite(t *testing.T, tn *testNet, first, last uint64, step func(n *node)) {
	t.Helper()
	digests := map[uint64]uint64{}
	for s := first; s <= last; s++ {
		digests[s] = tn.Node(1).rec(s).cmd.Digest()
	}
	tn.Within(1, func(n *node, env *prototest.Env) {
		n.env = env
		step(n)
	})
	require.Positive(t, tn.Disk(1).Unsynced(), "the step's writes are not synced yet")
	tn.Restart(1)
	n := tn.Node(1)
	for s := first; s <= last; s++ {
		if s <= n.base() {
			continue // in the snapshot
		}
		r := n.rec(s)
		require.NotNil(t, r, "slot %d is in neither the snapshot (at %d) nor the log", s, n.base())
		require.Equal(t, digests[s], r.cmd.Digest(), "slot %d's accepted value", s)
	}
}

// A state machine that cannot snapshot keeps its whole log.
func TestNoCompactionWithoutASnapshotter(t *testing.T) {
	tn := newTestNetWith(t, 3, testConfig(), prototest.NewPlainKV)
	tn.StartAll()
	campaign(tn, 0)
	tn.Stabilize()
	addMany(tn, 1, 20)
	assert.Zero(t, tn.Node(0).base())
	assert.Len(t, tn.Disk(0).Keys(slotKeyPrefix), 20)
}

// Crashing every server loses nothing: each recovers its promise, accepted
// and learned slots and snapshot, re-applies, and the service goes on.
func TestRecoveryAfterCrashingEveryServer(t *testing.T) {
	tn := leaderWith(t, 3, testConfig())
	addMany(tn, 1, 12)
	type state struct {
		promise, base, commit uint64
		log                   []record
	}
	saved := map[sim.NodeID]state{}
	for _, n := range nodes(tn) {
		saved[n.id] = state{n.promise, n.base(), n.commit, n.log}
	}
	for id := range nodes(tn) {
		crash(tn, sim.NodeID(id))
	}
	tn.Obs = nil
	tn.StartAll()
	for _, n := range nodes(tn) {
		want := saved[n.id]
		for i := range want.log {
			want.log[i].acks = 0 // volatile
		}
		assert.Equal(t, want, state{n.promise, n.base(), n.commit, n.log}, "server %v", n.id)
		assert.Equal(t, n.commit, n.applied)
		assert.Equal(t, map[string]string{"a": "12"}, sessionsKV(t, n))
	}
	commits := 0
	for _, o := range tn.Obs {
		if o.Kind == sim.ObsCommit {
			commits++
		}
	}
	assert.Equal(t, 3*4, commits, "the chosen slots after the snapshot are announced again")

	campaign(tn, 1)
	tn.Stabilize()
	add(tn, 1, 13)
	assert.Equal(t, "13", lastResult(tn))
	tn.RequireSafe(t)
}
