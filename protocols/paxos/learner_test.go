package paxos

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/sim"
)

// Catch-up, compaction and recovery.

// leaderWith builds a started cluster of n servers whose server 0 leads.
func leaderWith(t *testing.T, n int, cfg Config) *testNet {
	tn := newTestNet(t, n, cfg)
	tn.startAll()
	tn.campaign(0)
	tn.deliver()
	require.Equal(t, roleLeader, tn.nodes[0].role)
	return tn
}

// addMany has client 10 add to counter a count times through server 0.
func addMany(tn *testNet, from uint64, count int) {
	for i := range uint64(count) {
		tn.request(10, 0, from+i, "add a")
		tn.deliver()
	}
}

// countDelivered counts the delivered messages that match.
func countDelivered[M any](tn *testNet, to sim.NodeID) int {
	c := 0
	for _, e := range tn.delivered {
		if _, ok := e.msg.(M); ok && e.to == to {
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
	tn.drop = func(e envelope) bool { return e.to == 2 }
	addMany(tn, 1, 6)
	require.Zero(t, tn.nodes[2].commit)
	tn.drop = nil
	tn.fire(0, timerHeartbeat)
	tn.deliver()
	assert.Equal(t, uint64(6), tn.nodes[2].applied)
	assert.Equal(t, 2, countDelivered[MsgChosen](tn, 2), "6 slots in chunks of 4")
	assert.Equal(t, map[string]int{"a": 6}, tn.nodes[2].sessionsCounter(t).m)
	assert.False(t, tn.agreementViolated())
}

// A lost accept is sent again at the heartbeat after the next one (a
// proposal gets a whole interval before it counts as lost).
func TestLeaderRetransmitsUnansweredAccepts(t *testing.T) {
	tn := leaderWith(t, 3, testConfig())
	tn.drop = func(e envelope) bool { _, ok := e.msg.(MsgAccept); return ok }
	tn.request(10, 0, 1, "add a")
	tn.deliver()
	tn.drop = nil
	require.Zero(t, tn.nodes[0].commit)
	tn.fire(0, timerHeartbeat)
	tn.deliver()
	require.Zero(t, tn.nodes[0].commit, "too recent to resend")
	tn.fire(0, timerHeartbeat)
	tn.deliver()
	for _, n := range tn.nodes {
		assert.Equal(t, uint64(1), n.applied, "server %v", n.id)
	}
	assert.Len(t, tn.replies, 1)
}

// A learner that restarts after the others compacted the slots it misses
// receives the snapshot, then the values after it.
func TestFarBehindLearnerReceivesTheSnapshot(t *testing.T) {
	tn := leaderWith(t, 3, testConfig())
	tn.crash(2)
	addMany(tn, 1, 20)
	leader := tn.nodes[0]
	require.Equal(t, uint64(16), leader.base(), "snapshots every 8 applied slots")
	slot16 := leader.snap.Digest

	tn.start(2)
	tn.fire(0, timerHeartbeat)
	tn.deliver()
	n := tn.nodes[2]
	assert.Equal(t, 1, countDelivered[MsgSnapshot](tn, 2))
	assert.Equal(t, uint64(20), n.applied)
	assert.Equal(t, uint64(16), n.base())
	assert.Equal(t, map[string]int{"a": 20}, n.sessionsCounter(t).m)
	assert.False(t, tn.agreementViolated())
	applied16 := false
	for _, o := range tn.obs {
		if o.Node == 2 && o.Kind == sim.ObsApply && o.Index == 16 {
			applied16 = o.Digest == slot16
		}
	}
	assert.True(t, applied16, "installing the snapshot is observed as applying its last slot")

	// A retry of a command applied before the snapshot still runs once:
	// the sessions came with the snapshot.
	tn.campaign(2)
	tn.deliver()
	tn.request(10, 2, 20, "add a")
	tn.deliver()
	assert.Equal(t, "20", string(tn.replies[len(tn.replies)-1].Result))
}

// Compaction deletes the log prefix from memory and disk, and a restarted
// server recovers from its snapshot and the records after it.
func TestCompactionDeletesTheLogPrefix(t *testing.T) {
	tn := leaderWith(t, 3, testConfig())
	addMany(tn, 1, 20)
	for id, n := range tn.nodes {
		assert.Equal(t, uint64(16), n.base(), "server %d", id)
		assert.Len(t, n.log, 4)
		keys := tn.envs[id].disk.Keys(slotKeyPrefix)
		assert.Len(t, keys, 4)
		for _, k := range keys {
			slot, ok := parseSlotKey(k)
			require.True(t, ok)
			assert.Greater(t, slot, uint64(16))
		}
	}
	tn.crash(1)
	tn.start(1)
	n := tn.nodes[1]
	assert.Equal(t, uint64(16), n.base())
	assert.Equal(t, uint64(20), n.applied)
	assert.Equal(t, map[string]int{"a": 20}, n.sessionsCounter(t).m)
}

// A state machine that cannot snapshot keeps its whole log.
func TestNoCompactionWithoutASnapshotter(t *testing.T) {
	f, err := New(testConfig(), newPlain)
	require.NoError(t, err)
	tn := newTestNet(t, 3, testConfig())
	tn.factory = f
	tn.startAll()
	tn.campaign(0)
	tn.deliver()
	addMany(tn, 1, 20)
	assert.Zero(t, tn.nodes[0].base())
	assert.Len(t, tn.envs[0].disk.Keys(slotKeyPrefix), 20)
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
	for _, n := range tn.nodes {
		saved[n.id] = state{n.promise, n.base(), n.commit, n.log}
	}
	for id := range tn.nodes {
		tn.crash(sim.NodeID(id))
	}
	tn.obs = nil
	tn.startAll()
	for _, n := range tn.nodes {
		want := saved[n.id]
		for i := range want.log {
			want.log[i].acks = 0 // volatile
		}
		assert.Equal(t, want, state{n.promise, n.base(), n.commit, n.log}, "server %v", n.id)
		assert.Equal(t, n.commit, n.applied)
		assert.Equal(t, map[string]int{"a": 12}, n.sessionsCounter(t).m)
	}
	commits := 0
	for _, o := range tn.obs {
		if o.Kind == sim.ObsCommit {
			commits++
		}
	}
	assert.Equal(t, 3*4, commits, "the chosen slots after the snapshot are announced again")

	tn.campaign(1)
	tn.deliver()
	tn.request(10, 1, 13, "add a")
	tn.deliver()
	assert.Equal(t, "13", string(tn.replies[len(tn.replies)-1].Result))
	assert.False(t, tn.agreementViolated())
}
