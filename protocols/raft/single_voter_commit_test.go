package raft

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/internal/prototest"
	"github.com/simrun/simrun/sim"
)

// unsyncedAtCommit wraps a step's Env and notes, for every commit the
// server announces, how many of its disk writes were not yet synced: what a
// crash cut right after that observation (a torn step,
// sim.World.CrashMidStep) would lose.
type unsyncedAtCommit struct {
	*prototest.Env
	at map[uint64]int // index -> unsynced writes when its commit was announced
}

func (e *unsyncedAtCommit) Observe(o sim.Observation) {
	if o.Kind == sim.ObsCommit {
		e.at[o.Index] = e.Env.Disk().Unsynced()
	}
	e.Env.Observe(o)
}

// A configuration of one voter, reached by removing the others, lets the
// leader count its own log alone. It may count only entries on its disk
// (Raft Figure 2; thesis §10.2.1 lets a leader commit before its own write
// only when a majority of the others have written the entry). Here, in the
// step that takes a client's command, it appends the entry, commits,
// announces and applies it before the sync that makes it durable
// (maybeCommit counts prs[id].match = lastIndex(), written but unsynced); a
// crash cut between the two (a torn step) loses an entry the server
// announced committed and applied, and after the restart it commits a
// different entry, its no-op, at that index: an agreement violation.
func TestSingleVoterCommitsOnlyWhatItSynced(t *testing.T) {
	tn := newMemberNet(t, 3, 3)
	change(tn, 0, 0, sim.MembersOf(2))
	tn.Stabilize()
	heartbeats(tn, 0)
	change(tn, 0, 0, sim.MembersOf(1))
	tn.Stabilize()
	heartbeats(tn, 0)
	require.Equal(t, configuration{voters: sim.MembersOf(0)}, tn.Node(0).conf, "removals left n0 alone")
	singleVoterCommitsOnlyWhatItSynced(t, tn)
}

// The same in a cluster of one server from the start.
func TestOneServerClusterCommitsOnlyWhatItSynced(t *testing.T) {
	tn := newTestNet(t, 1, DefaultConfig())
	tn.StartAll()
	forceLeader(tn, 0)
	tn.Stabilize()
	singleVoterCommitsOnlyWhatItSynced(t, tn)
}

func singleVoterCommitsOnlyWhatItSynced(t *testing.T, tn *testNet) {
	n0 := tn.Node(0)
	require.Equal(t, roleLeader, n0.role)
	require.Equal(t, n0.lastIndex(), n0.commit)

	// 1. Through the real handler: when n0 announces the commit of a
	// client's command, the entry must be on its disk already.
	index := n0.lastIndex() + 1
	probe := &unsyncedAtCommit{at: map[uint64]int{}}
	tn.Within(0, func(n *node, env *prototest.Env) {
		probe.Env = env
		n.Receive(probe, 9, prototest.Request(9, 1, "put k v"))
	})
	require.Contains(t, probe.at, index, "a one-voter leader commits at once")
	assert.Zero(t, probe.at[index], "n0 announced the commit of %d with writes not yet synced", index)

	// 2. The consequence: the same step cut right after the commit's
	// observations, before the reply and the handler's closing sync (run
	// handleRequest's own steps up to there, then crash), loses the entry.
	index = n0.lastIndex() + 1
	tn.Within(0, func(n *node, env *prototest.Env) {
		n.env = env
		n.appendEntry(Entry{Term: n.term, Cmd: prototest.Cmd(9, 2, "put k w")})
		n.broadcastAppend()
		n.maybeCommit()
	})
	require.Equal(t, index, n0.commit)
	tn.Crash(0)
	tn.Restart(0)
	forceLeader(tn, 0)
	tn.Stabilize()
	tn.RequireSafe(t) // fails: index committed twice, with different entries
}
