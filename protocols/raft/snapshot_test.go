package raft

import (
	"fmt"
	"os"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/internal/prototest"
	"github.com/simrun/simrun/runner"
	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

// snapConfig snapshots every 10 applied entries.
func snapConfig() Config {
	cfg := DefaultConfig()
	cfg.SnapshotInterval = 10
	return cfg
}

// newSnapNet returns three started servers with snapConfig, led by server 0
// (term 1, its no-op replicated).
func newSnapNet(t *testing.T) *testNet { return newLeaderNetWith(t, snapConfig()) }

// writes has client 3 set key k to 1..count through the leader, delivering
// everything (and two heartbeat rounds, which carry the commit index).
func writes(tn *testNet, leader sim.NodeID, from, count uint64) {
	for i := from; i < from+count; i++ {
		tn.Request(3, leader, i, fmt.Sprintf("set k %d", i))
		tn.Stabilize()
	}
	heartbeats(tn, leader)
}

// kvState is server id's state machine, read through a snapshot.
func kvState(t *testing.T, tn *testNet, id sim.NodeID) map[string]string {
	st, err := prototest.SessionsState(tn.Node(id).sessions)
	require.NoError(t, err)
	return st
}

// requireCompacted checks n's log starts at its snapshot, in memory and on
// disk: no chunk at or below it, the snapshot's copies and the hard state
// recording it.
func requireCompacted(t *testing.T, tn *testNet, id sim.NodeID) {
	t.Helper()
	n, d := tn.Node(id), tn.Disk(id)
	require.Positive(t, n.snap.index, "server %v took a snapshot", id)
	assert.Equal(t, n.snap.term, n.log.at(0).Term)
	assert.Equal(t, n.lastIndex()-n.snap.index+1, uint64(n.log.len()))
	for _, key := range d.Keys(logKeyPrefix) {
		first, _ := parseLogKey(key)
		assert.Greater(t, first, n.snap.index, "server %v: chunk %s is compacted", id, key)
	}
	for _, k := range snapshotKeys {
		b, ok := d.Get(k)
		require.True(t, ok, k)
		s, err := decodeSnapshot(b)
		require.NoError(t, err)
		assert.Equal(t, n.snap.position(), s.position())
	}
	st := loadState(d)
	assert.Equal(t, n.snap.position(), st.hard.snap)
	assert.Equal(t, terms(n.log.all()), terms(st.log.all()), "the disk loads the same log")
	assert.Equal(t, n.snap.position(), st.snap.position())
}

// Every SnapshotInterval applied entries each server snapshots at its applied
// index and compacts its log, in memory and on disk; the configuration in
// force there goes with the snapshot.
func TestSnapshotTakenAtInterval(t *testing.T) {
	tn := newSnapNet(t)
	writes(tn, 0, 1, 24) // 25 entries with the no-op
	for id := range sim.NodeID(3) {
		n := tn.Node(id)
		require.Equal(t, uint64(25), n.applied, "server %v", id)
		assert.Equal(t, uint64(20), n.snap.index, "server %v: snapshots at 10 and 20", id)
		assert.Equal(t, uint64(1), n.snap.term)
		assert.Equal(t, n.initialConfig(), n.snap.conf)
		assert.Len(t, n.configs, 1)
		assert.Equal(t, uint64(20), n.configs[0].index, "the snapshot's configuration is the base")
		requireCompacted(t, tn, id)
		assert.Equal(t, map[string]string{"k": "24"}, kvState(t, tn, id))
	}
	tn.RequireSafe(t)
}

// With interval 0, or a state machine that cannot snapshot, the log is kept.
func TestNoSnapshotWithoutIntervalOrSnapshotter(t *testing.T) {
	for name, build := range map[string]func() *testNet{
		"interval 0": func() *testNet {
			cfg := DefaultConfig()
			cfg.SnapshotInterval = 0
			return newTestNet(t, 3, cfg)
		},
		"no snapshotter": func() *testNet {
			return newNetWith(t, 3, snapConfig(), prototest.NewPlainKV)
		},
	} {
		t.Run(name, func(t *testing.T) {
			tn := build()
			tn.StartAll()
			forceLeader(tn, 0)
			tn.Stabilize()
			writes(tn, 0, 1, 24)
			assert.Zero(t, tn.Node(0).snap.index)
			assert.Equal(t, 26, tn.Node(0).log.len())
		})
	}
}

// A restarted server restores its snapshot, reads the log after it, and
// announces the snapshot's index as applied; it then catches up as usual.
func TestRestartFromSnapshotAndLog(t *testing.T) {
	tn := newSnapNet(t)
	writes(tn, 0, 1, 24)
	before := tn.Node(1)
	wantLog, wantSnap := terms(before.log.all()), before.snap.position()
	tn.Restart(1)
	n := tn.Node(1)
	assert.Equal(t, wantSnap, n.snap.position())
	assert.Equal(t, wantLog, terms(n.log.all()))
	assert.Equal(t, uint64(20), n.applied, "the snapshot is applied; the entries after it wait for the commit index")
	assert.Equal(t, uint64(20), n.commit)
	applies := tn.Observed(1, sim.ObsApply)
	assert.Equal(t, uint64(20), applies[len(applies)-1].Index)
	assert.Equal(t, map[string]string{"k": "19"}, kvState(t, tn, 1))
	writes(tn, 0, 25, 1)
	assert.Equal(t, uint64(26), n.applied)
	assert.Equal(t, map[string]string{"k": "25"}, kvState(t, tn, 1))
	tn.RequireSafe(t)
}

// A follower that missed entries the leader compacted is caught up with the
// snapshot (InstallSnapshot), then with the entries after it.
func TestLaggingFollowerInstallsSnapshot(t *testing.T) {
	tn := newSnapNet(t)
	tn.Drop = func(e prototest.Envelope) bool { return e.To == 2 || e.From == 2 }
	writes(tn, 0, 1, 24)
	require.Equal(t, uint64(20), tn.Node(0).snap.index)
	require.Equal(t, uint64(1), tn.Node(2).lastIndex())
	tn.Drop = nil
	heartbeats(tn, 0)
	heartbeats(tn, 0)
	f := tn.Node(2)
	assert.Equal(t, uint64(20), f.snap.index, "installed the leader's snapshot")
	assert.Equal(t, uint64(25), f.applied, "and applied the entries after it")
	assert.Equal(t, map[string]string{"k": "24"}, kvState(t, tn, 2))
	assert.Equal(t, uint64(25), tn.Node(0).prs[2].match)
	requireCompacted(t, tn, 2)
	var sent int
	for _, e := range tn.Delivered {
		if _, ok := e.Msg.(MsgSnapshot); ok && e.To == 2 {
			sent++
		}
	}
	assert.Equal(t, 1, sent)
	tn.RequireSafe(t)
}

// A pre-candidate (pre_vote) that hears a snapshot from the leader of its
// term follows it and installs it, as a candidate does: a server that fell
// behind the leader's compaction gets nothing else, the others refuse its
// pre-votes while the leader lives, and it stayed behind for good (a swarm
// sweep found a follower at 131 of 497 at the end of the liveness phase).
func TestPreCandidateInstallsTheLeadersSnapshot(t *testing.T) {
	cfg := snapConfig()
	cfg.PreVote = true
	tn := newLeaderNetWith(t, cfg)
	tn.Drop = func(e prototest.Envelope) bool { return e.To == 2 || e.From == 2 }
	writes(tn, 0, 1, 24)
	tn.Fire(2, timerElection)
	tn.Stabilize()
	require.Equal(t, rolePreCandidate, tn.Node(2).role)
	require.Equal(t, uint64(20), tn.Node(0).snap.index)
	tn.Drop = nil
	heartbeats(tn, 0)
	heartbeats(tn, 0)
	f := tn.Node(2)
	assert.Equal(t, roleFollower, f.role, "it follows the leader")
	assert.Equal(t, uint64(20), f.snap.index, "installed the leader's snapshot")
	assert.Equal(t, uint64(25), f.applied, "and applied the entries after it")
	tn.RequireSafe(t)
}

// installFixture gives follower 1 a log of terms 1,1,1,1,2,2 and returns the
// snapshot message of a leader of term 3 at index 4 with last term lastTerm.
func installFixture(t *testing.T, lastTerm uint64) (*testNet, MsgSnapshot) {
	tn := newTestNet(t, 3, snapConfig())
	writeState(tn, 1, 2, sim.None, entries(1, 1, 1, 1, 2, 2))
	tn.Start(1)
	data, err := tn.Node(1).sessions.Snapshot() // the empty state is as good as any here
	require.NoError(t, err)
	return tn, MsgSnapshot{Term: 3, Index: 4, LastTerm: lastTerm, Digest: 7,
		Conf: configuration{voters: sim.FirstMembers(3)}, Data: data}
}

// Thesis §5.1: a follower whose log holds the snapshot's last entry keeps
// the entries after it; one whose entry there conflicts discards its log.
// Either way it acknowledges the snapshot's index only.
func TestInstallSnapshotKeepsOrDiscardsSuffix(t *testing.T) {
	t.Run("holds the last entry: suffix kept", func(t *testing.T) {
		tn, m := installFixture(t, 1)
		receive(tn, 0, 1, m)
		n := tn.Node(1)
		assert.Equal(t, MsgAppResp{Term: 3, Index: 4}, takeLast(tn, 1, 0))
		assert.Equal(t, []uint64{2, 2}, terms(n.log.all()))
		assert.Equal(t, uint64(6), n.lastIndex())
		assert.Equal(t, uint64(4), n.applied)
		assert.Equal(t, uint64(4), n.commit)
		requireCompacted(t, tn, 1)
	})
	t.Run("conflicting last entry: log discarded", func(t *testing.T) {
		tn, m := installFixture(t, 3)
		receive(tn, 0, 1, m)
		n := tn.Node(1)
		assert.Equal(t, MsgAppResp{Term: 3, Index: 4}, takeLast(tn, 1, 0))
		assert.Empty(t, terms(n.log.all()))
		assert.Equal(t, uint64(4), n.lastIndex())
		assert.Equal(t, uint64(3), n.lastTerm())
		assert.Empty(t, tn.Disk(1).Keys(logKeyPrefix), "the discarded chunks are deleted")
		requireCompacted(t, tn, 1)
	})
	t.Run("not past the commit index: ignored", func(t *testing.T) {
		tn, m := installFixture(t, 1)
		receive(tn, 0, 1, MsgApp{Term: 3, PrevIndex: 6, PrevTerm: 2, Commit: 5})
		tn.Take(nil)
		receive(tn, 0, 1, m)
		assert.Equal(t, MsgAppResp{Term: 3, Index: 5}, takeLast(tn, 1, 0))
		assert.Zero(t, tn.Node(1).snap.index)
	})
}

// A corrupted copy of the snapshot is repaired from the other. Both copies
// corrupted lose the log's start: the server drops its whole log, records
// the snapshot's last entry (kept in the hard state) as lost, votes as if
// it still had it, does not campaign, and recovers from the leader's
// snapshot.
func TestCorruptSnapshotRecord(t *testing.T) {
	t.Run("one copy", func(t *testing.T) {
		tn := newSnapNet(t)
		writes(tn, 0, 1, 24)
		d := tn.Disk(1)
		prototest.FlipBit(t, d, snapshotKeys[0])
		st := loadState(d)
		assert.Equal(t, uint64(20), st.snap.index)
		assert.Zero(t, d.Unsynced(), "repairs are synced")
		for _, k := range snapshotKeys {
			b, _ := d.Get(k)
			_, err := decodeSnapshot(b)
			assert.NoError(t, err, k)
		}
	})
	t.Run("both copies", func(t *testing.T) {
		tn := newSnapNet(t)
		writes(tn, 0, 1, 24)
		tn.Crash(1)
		for _, k := range snapshotKeys {
			prototest.FlipBit(t, tn.Disk(1), k)
		}
		tn.Start(1)
		n := tn.Node(1)
		assert.Zero(t, n.snap.index)
		assert.Zero(t, n.lastIndex(), "the log after a lost snapshot is dropped")
		assert.Equal(t, logPosition{25, 1}, n.lost, "the last entry the disk held")
		assert.True(t, n.recovering())
		assert.Empty(t, tn.Disk(1).Keys(logKeyPrefix))
		// §5.4.1 against the lost log.
		receive(tn, 2, 1, MsgVote{Term: 2, LastIndex: 24, LastTerm: 1})
		assert.Equal(t, MsgVoteResp{Term: 2}, takeLast(tn, 1, 2))
		// The leader of term 1 hears of term 2 and steps down; elected
		// again, it brings the server back with its snapshot.
		tn.Fire(0, timerHeartbeat)
		tn.Stabilize()
		require.Equal(t, roleFollower, tn.Node(0).role)
		forceLeader(tn, 0)
		tn.Stabilize()
		heartbeats(tn, 0)
		assert.False(t, n.recovering())
		assert.Equal(t, tn.Node(0).lastIndex(), n.applied)
		assert.Equal(t, kvState(t, tn, 0), kvState(t, tn, 1))
		tn.RequireSafe(t)
	})
	t.Run("first snapshot torn: the log is whole", func(t *testing.T) {
		tn := newTestNet(t, 3, snapConfig())
		writeState(tn, 1, 2, sim.None, entries(1, 1, 1))
		d := tn.Disk(1)
		d.Put(snapshotKeys[0], []byte{1, 2})
		d.Sync()
		st := loadState(d)
		assert.Equal(t, []uint64{1, 1, 1}, terms(st.log.all()))
		assert.Equal(t, logPosition{}, st.hard.lost)
		_, ok := d.Get(snapshotKeys[0])
		assert.False(t, ok, "the torn copy is deleted")
	})
}

func TestSnapshotRecordRoundTrip(t *testing.T) {
	s := snapshot{index: 40, term: 3, digest: 0xfeed, conf: configuration{voters: 0b111, outgoing: 0b1011}, data: []byte("state")}
	got, err := decodeSnapshot(encodeSnapshot(s))
	require.NoError(t, err)
	assert.Equal(t, s, got)
	h := hardState{term: 5, vote: 2, snap: logPosition{40, 3}}
	gotH, err := decodeHardState(encodeHardState(h))
	require.NoError(t, err)
	assert.Equal(t, h, gotH)
	assert.Regexp(t, `^MsgSnapshot term=4 index=40 last-term=3 digest=feed voters=n0,n1,n2 outgoing=n0,n1,n3 bytes=5 data=[0-9a-f]+$`,
		string(s.message(4).AppendTrace(nil)))
}

// The shipped scenario raft-snapshots passes its first seeds, and between
// them every path of compaction runs: snapshots taken, sent, installed with
// the log kept and discarded, restored at a restart, ignored when old,
// appends below a snapshot. (A heartbeat skipped below the snapshot fires
// in about one seed of 200: TestHeartbeatBelowSnapshot runs it.)
func TestShippedSnapshotScenarioCoversCompaction(t *testing.T) {
	text, err := os.ReadFile("../../scenarios/raft-snapshots.yaml")
	require.NoError(t, err)
	var reports []*runner.Report
	for _, seed := range prototest.Seeds(8, 3) {
		rep := prototest.RunScenario(t, kit.Protocol(prototest.NewInstances[*node]()), string(text), seed, runner.Options{})
		prototest.RequirePass(t, rep)
		reports = append(reports, rep)
	}
	fired := runner.FiredProbes(reports)
	for _, p := range []string{ProbeSnapshotTaken, ProbeSnapshotRestored, ProbeSnapshotSent, ProbeSnapshotInstalledKept,
		ProbeSnapshotInstalledDiscarded, ProbeSnapshotOld, ProbeAppendBelowSnapshot} {
		assert.Positive(t, fired[p], p)
	}
}

// A leader that compacted past a follower's match index while entries to it
// were in flight sends no heartbeat that names a compacted entry: it waits
// for their acknowledgements (or, stalled, probes with the snapshot).
func TestHeartbeatBelowSnapshot(t *testing.T) {
	tn := newSnapNet(t)
	tn.Drop = func(e prototest.Envelope) bool { return e.From == 2 } // its acknowledgements are lost
	for i := uint64(1); i <= 24; i++ {
		tn.Request(3, 0, i, fmt.Sprintf("set k %d", i))
		tn.Stabilize()
	}
	l := tn.Node(0)
	require.Equal(t, uint64(20), l.snap.index)
	pr := l.prs[2]
	require.Less(t, pr.match, l.snap.index)
	require.Greater(t, pr.next, l.snap.index, "entries in flight past the snapshot")
	for range 2 { // the first only clears the appended flag
		tn.Do(0, func(n *node) { n.heartbeat(2) })
	}
	for _, e := range tn.Take(nil) {
		assert.NotEqual(t, sim.NodeID(2), e.To, "nothing to the follower: %v", e)
	}
	tn.Drop = nil
	heartbeats(tn, 0) // the clock moves on: stalled, probed, caught up with the snapshot
	assert.Equal(t, l.lastIndex(), tn.Node(2).applied)
}

// A crash that keeps any prefix of a compaction's writes (torn writes: the
// last one kept is cut short), or any subset of them (a disk that reorders
// writes), leaves a disk that still holds every entry the server had
// synced, in the snapshot or in the log after it. A compaction that deleted
// the chunks its snapshot covers before the snapshot reached the disk lost
// the whole log to such a crash, acknowledged entries included, with
// nothing on disk to say so: the loader saw a gap at the log's start and
// dropped the rest. On a reordering disk only a sync orders the deletes
// after the snapshot.
func TestTornCompactionKeepsEveryEntry(t *testing.T) {
	for _, tt := range []struct {
		name   string
		faults sim.DiskFaults
	}{
		{"torn", sim.DiskFaults{TornWrites: true}},
		{"torn and reordered", sim.DiskFaults{TornWrites: true, ReorderedWrites: true}},
		{"reordered", sim.DiskFaults{ReorderedWrites: true}},
	} {
		t.Run(tt.name, func(t *testing.T) { cutCompactions(t, tt.faults) })
	}
}

func cutCompactions(t *testing.T, faults sim.DiskFaults) {
	tn := newTestNet(t, 3, DefaultConfig())
	tn.SetDiskFaults(0, faults)
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

// TestLogInvariants: a server whose log holds, after its snapshot, an entry
// of an older term than the snapshot's last (a conflicting suffix kept at
// an install), or whose configuration in force names an entry that is no
// configuration (one truncated away, still in force), stops with an
// invariant violation rather than voting or counting with that state.
func TestLogInvariants(t *testing.T) {
	violation := func(n *node) (what string) {
		defer func() { what = fmt.Sprint(recover()) }()
		n.checkInvariants()
		return ""
	}
	tn := newSnapNet(t)
	writes(tn, 0, 1, 24) // snapshots at 20, entries 21 to 25 of term 1
	n := tn.Node(1)
	require.Equal(t, "<nil>", violation(n))

	n.entryAt(21).Term = 0
	assert.Contains(t, violation(n), "an entry after the snapshot of an older term")
	n.entryAt(21).Term = 1

	n.configs = append(n.configs, configEntry{index: 23, conf: n.conf})
	assert.Contains(t, violation(n), "the configuration in force is no configuration entry of the log")
}

// A snapshot records the configuration in force at its own index, not the
// latest one in the log: a configuration entry appended past the applied
// index may yet be truncated, and a server restarted from the snapshot
// would count votes by a configuration that never took effect.
func TestSnapshotRecordsTheConfigurationAtItsIndex(t *testing.T) {
	tn := newSnapNet(t)
	writes(tn, 0, 1, 18) // snapshots at 10; entries 11 to 19 applied
	tn.Within(1, func(n *node, env *prototest.Env) {
		n.env = env
		before := n.conf
		n.appendEntry(Entry{Term: n.term, Cmd: configCommand(configuration{voters: before.voters.Without(2)})})
		n.cfg.SnapshotInterval = 9
		n.maybeSnapshot()
		require.Equal(t, uint64(19), n.snap.index)
		assert.Equal(t, before, n.snap.conf, "the configuration at 19, not the entry at 20")
		assert.NotEqual(t, before, n.conf)
	})
}

// A server's first compaction cut after each of its effects, on a disk
// that reorders writes, leaves a disk that loads every entry and claims no
// loss. Writing the hard state that records the snapshot in the same sync
// as the snapshot's two copies let a crash keep the record and tear one
// copy and lose the other: the load took the snapshot for corrupted, with
// no earlier one to fall back on, and dropped the whole log as lost.
func TestCutFirstCompactionLosesNothing(t *testing.T) {
	log := entries(slices.Repeat([]uint64{3}, 41)...) // 1-40, of term 3
	compact := func(n *node) {
		data, err := n.sessions.Snapshot()
		require.NoError(t, err)
		e := n.entryAt(20)
		n.compact(snapshot{index: 20, term: e.Term, digest: e.Cmd.Digest(), conf: n.conf, data: data}, true)
	}
	cuts := cutEveryEffect(t, 20, compact, func(d *sim.Disk) {
		putLog(d, log)
		service.PutCopies(d, encodeHardState(hardState{term: 3, vote: sim.None}), hardStateKeys[:]...)
	}, func(d *sim.Disk, seed uint64, keep int) {
		st := loadState(d)
		require.Equal(t, logPosition{}, st.hard.lost, "seed %d, cut after %d effects: a loss claimed", seed, keep)
		require.Equal(t, uint64(40), st.snap.index+uint64(st.log.len()-1), "seed %d, cut after %d effects: entries lost", seed, keep)
	})
	require.Greater(t, cuts, 100, "compactions cut")
}
