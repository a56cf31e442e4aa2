package runner

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/sim"
)

// TestLeadershipsAreServerAndTerm: leader_changes counts pairs of a server
// and a term: the same announced again counts once, and two servers
// leading one term (which one-leader-per-term reports) count twice.
func TestLeadershipsAreServerAndTerm(t *testing.T) {
	w, err := sim.NewWorld(sim.Config{Seed: 1})
	require.NoError(t, err)
	for range 3 {
		w.AddServer(func(sim.NodeID) sim.Node { return nil })
	}
	r := &run{world: w}
	for _, o := range []sim.Observation{
		{Kind: sim.ObsLeader, Node: 0, Term: 1},
		{Kind: sim.ObsLeader, Node: 0, Term: 1}, // again, after a restart
		{Kind: sim.ObsLeader, Node: 1, Term: 1}, // a second leader of term 1
		{Kind: sim.ObsLeader, Node: 1, Term: 2},
	} {
		r.count(o)
	}
	require.Equal(t, 4, r.seen.Leaders)
	require.Len(t, r.leaders, 3)
}
