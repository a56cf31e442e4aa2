package raft

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/internal/prototest"
	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

// A read-index read waits for a heartbeat round that a majority of the
// configuration acknowledges (confirmRounds). A membership change that
// makes the acknowledgements already in hand a majority (here: the only
// other voter, down, is removed, leaving the leader alone) is never
// checked against the waiting reads: confirmRounds runs only on a
// heartbeat response or a new read, the leader's heartbeat rounds go to no
// one, and the client's retries of the same read are swallowed as "a retry
// of a read that waits already". The read is never answered.
func TestReadIndexReadAnsweredAfterAChangeShrinksTheQuorum(t *testing.T) {
	cfg := DefaultConfig()
	cfg.ReadMode = ReadIndex
	tn := newNetWith(t, 2, cfg, func() service.StateMachine { return readKV{prototest.NewKV().(*prototest.KV)} })
	tn.StartAll()
	forceLeader(tn, 0)
	tn.Stabilize()
	tn.Request(reader, 0, 1, "set x 1")
	tn.Stabilize()
	tn.Replies = nil
	require.Equal(t, roleLeader, tn.Node(0).role)

	tn.Crash(1)
	tn.Request(reader, 0, 2, "get x")
	tn.Stabilize() // the round's heartbeat to n1 is lost: it is down
	require.Empty(t, tn.Replies, "n0 waits for a majority of n0 n1")

	change(tn, 0, 0, sim.MembersOf(1)) // the operator removes the dead server
	tn.Stabilize()
	require.Equal(t, configuration{voters: sim.MembersOf(0)}, tn.Node(0).conf)
	require.Equal(t, tn.Node(0).lastIndex(), tn.Node(0).commit, "n0 alone committed its removal of n1")

	tn.FireAdvance = 0
	for range 20 { // a second of heartbeats, and the client retrying its read
		tn.Advance(50 * time.Millisecond)
		tn.Fire(0, timerHeartbeat)
		tn.Request(reader, 0, 2, "get x")
		tn.Stabilize()
	}
	assert.NotEmpty(t, tn.Replies, "the read is answered: n0 is a majority of its configuration on its own")
	tn.RequireSafe(t)
}
