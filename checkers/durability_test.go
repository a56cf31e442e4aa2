package checkers

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/sim"
)

// TestDurabilityJudgesHaltsOnly: a halt on a disk a fault corrupted passes,
// one on any other disk is a violation pinned to its event, and nothing but
// halts counts as judged.
func TestDurabilityJudgesHaltsOnly(t *testing.T) {
	d := NewDurability(func(id sim.NodeID) bool { return id == 2 })
	require.Nil(t, d.Observe(5, 7, sim.Observation{Kind: sim.ObsApply, Node: 1, Index: 3}))
	require.False(t, d.Judged(), "an apply is not a halt")
	require.Nil(t, d.Observe(5, 8, sim.Observation{Kind: sim.ObsHalt, Node: 2, Text: "raft: both copies corrupt"}))
	require.True(t, d.Judged())
	v := d.Observe(9, 12, sim.Observation{Kind: sim.ObsHalt, Node: 1, Text: "raft: log ends below commit"})
	require.NotNil(t, v)
	require.Equal(t, Violation{Checker: NameDurability, Event: 12, At: 9, Node: 1, Message: "n1 halted with its storage " +
		"beyond repair (raft: log ends below commit), though no fault corrupted its disk: a crash loses unsynced " +
		"writes, or keeps some of them with one perhaps torn, which a server must recover from"}, *v)
}

// TestDurabilityJudgesEveryNode: a halt on a sound disk is a violation
// whichever node halts, n0 included (the other cases halt n1 and n2).
func TestDurabilityJudgesEveryNode(t *testing.T) {
	d := NewDurability(func(sim.NodeID) bool { return false })
	for _, id := range []sim.NodeID{0, 1, 2} {
		require.NotNil(t, d.Observe(1, 1, sim.Observation{Kind: sim.ObsHalt, Node: id, Text: "x"}), "n%d", id)
	}
}

// TestDurabilityJudgesLosses: a server that lost state it may have
// acknowledged (sim.ObsImpaired) passes on a disk a fault corrupted and
// fails on any other; its repair is not judged.
func TestDurabilityJudgesLosses(t *testing.T) {
	d := NewDurability(func(id sim.NodeID) bool { return id == 2 })
	require.Nil(t, d.Observe(5, 7, sim.Observation{Kind: sim.ObsRepaired, Node: 1}))
	require.False(t, d.Judged(), "a repair is not a loss")
	require.Nil(t, d.Observe(5, 8, sim.Observation{Kind: sim.ObsImpaired, Node: 2, Text: "raft: lost entries"}))
	require.True(t, d.Judged())
	v := d.Observe(9, 12, sim.Observation{Kind: sim.ObsImpaired, Node: 1, Text: "raft: lost entries"})
	require.NotNil(t, v)
	require.Equal(t, "n1 lost state it may have acknowledged (raft: lost entries), though no fault corrupted its "+
		"disk: a crash loses unsynced writes, or keeps some of them with one perhaps torn, which a server must "+
		"recover from", v.Message)
}
