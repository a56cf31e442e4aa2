package raft

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/sim"
)

func TestElectsOneLeaderAndReplicates(t *testing.T) {
	c := newCluster(t, defaultOpts(1))
	require.Equal(t, sim.Reached, c.w.RunUntil(at(5*time.Second)))
	require.Empty(t, c.safety.violation)
	l := c.leader()
	require.NotNil(t, l)
	for _, id := range c.servers {
		n := c.raftNode(id)
		require.Equal(t, l.term, n.term, "server %v", id)
		require.Equal(t, l.id, n.lead, "server %v", id)
	}
	t.Logf("acked=%d maxCommit=%d elections=%d events=%d", c.acked(), c.safety.maxCommit, c.safety.elections, c.w.Events())
	require.Greater(t, c.acked(), 100)
}

// mixedFaults is the nemesis of the correctness tests: crashes (up to two of
// five servers at once, so a majority may be down too when they overlap) and
// partitions, including isolating the leader.
var mixedFaults = nemesis{
	start: time.Second, end: 20 * time.Second, gapMin: 100 * time.Millisecond, gapMax: time.Second,
	crash: true, crashMax: 2, downMin: 10 * time.Millisecond, downMax: 2 * time.Second,
	partition: true, isolateLeader: true, healMin: 100 * time.Millisecond, healMax: 2 * time.Second,
}

func TestSafetyAndProgressUnderFaults(t *testing.T) {
	for seed := uint64(1); seed <= 12; seed++ {
		t.Run("seed="+strconv.FormatUint(seed, 10), func(t *testing.T) {
			o := defaultOpts(seed)
			o.link.Drop, o.link.Duplicate = 0.01, 0.01
			c := newCluster(t, o)
			mixedFaults.install(c)
			out := c.w.RunUntil(at(mixedFaults.end))
			require.Empty(t, c.safety.violation)
			require.Nil(t, c.w.Result().Crash)
			require.Equal(t, sim.Reached, out)
			before := c.acked()
			// Liveness: with every fault healed, client commands commit again.
			require.Equal(t, sim.Reached, c.w.RunUntil(at(mixedFaults.end+5*time.Second)))
			require.Empty(t, c.safety.violation)
			t.Logf("acked %d during faults, %d after; elections=%d maxCommit=%d events=%d",
				before, c.acked()-before, c.safety.elections, c.safety.maxCommit, c.w.Events())
			require.Greater(t, c.acked()-before, 20, "clients make progress once faults heal")
		})
	}
}
