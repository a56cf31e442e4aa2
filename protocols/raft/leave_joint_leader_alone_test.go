package raft

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/sim"
)

// A joint change to a configuration of the leader alone (two servers
// removed at once: C_old,new = n0 joint n0 n1 n2). When C_old,new commits,
// configCommitted appends C_new = n0 (leaveJoint) but does not count it:
// C_new needs only n0, which holds it, yet nothing calls maybeCommit again
// until a follower acknowledges something or a client writes. With the
// removed servers gone (they were removed because they are down) and no
// client traffic, C_new stays uncommitted: the change never completes, and
// every later change is refused (changing()).
func TestLeaderAloneInCNewCommitsIt(t *testing.T) {
	tn := newMemberNet(t, 3, 3)
	change(tn, 0, 0, sim.MembersOf(1, 2))
	// Deliver until n0 has committed C_old,new and appended C_new, then the
	// removed servers go down.
	for range 100 {
		if tn.Node(0).conf == (configuration{voters: sim.MembersOf(0)}) {
			break
		}
		require.True(t, tn.Step(), "ran out of messages before n0 left the joint configuration")
	}
	require.Equal(t, configuration{voters: sim.MembersOf(0)}, tn.Node(0).conf, "n0 appended C_new")
	tn.Crash(1)
	tn.Crash(2)
	tn.Take(nil) // what was in flight is lost with them
	tn.FireAdvance = 0
	for range 20 {
		tn.Advance(50 * time.Millisecond)
		tn.Fire(0, timerHeartbeat)
		tn.Stabilize()
	}
	n0 := tn.Node(0)
	assert.Equal(t, n0.lastIndex(), n0.commit, "C_new = n0 is stored on a majority of C_new (n0): committed")
	assert.Contains(t, configsObserved(tn, 0), "n0", "and announced")
}
