package raft

import (
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
