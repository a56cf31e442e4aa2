package runner

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/sim"
)

// TestConfigViewAsksTheOldMajorityUntilAMemberKnows: a configuration that
// only a server outside it announced (the leader that removed itself, say)
// may be unknown to its own members, so health still needs a majority of the
// configuration before it; once a member announces it, its own majority
// is enough.
func TestConfigViewAsksTheOldMajorityUntilAMemberKnows(t *testing.T) {
	c := configView{voters: sim.MembersOf(0, 1, 2)}
	c.observe(sim.Observation{Kind: sim.ObsConfig, Node: 0, Index: 7, Digest: uint64(sim.MembersOf(1))})
	require.Equal(t, []sim.NodeID{0, 1, 2}, c.healthMembers(nil))
	require.False(t, c.hasMajority([]sim.NodeID{1}, 3), "n1 alone may not know it is the configuration")
	require.True(t, c.hasMajority([]sim.NodeID{0, 1}, 3))
	c.observe(sim.Observation{Kind: sim.ObsConfig, Node: 1, Index: 7, Digest: uint64(sim.MembersOf(1))})
	require.True(t, c.hasMajority([]sim.NodeID{1}, 3), "n1 announced it")
	require.Equal(t, []sim.NodeID{1}, c.healthMembers(nil))
	require.Equal(t, 1, c.changes)
}
