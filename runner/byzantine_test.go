package runner

import (
	"testing"

	"github.com/simrun/simrun/scenarios"
	"github.com/simrun/simrun/sim"
	"github.com/stretchr/testify/require"
)

func TestChooseByzantine(t *testing.T) {
	sc, err := scenarios.Parse("b.yaml", []byte(`protocol: pbft
nodes: 7
byzantine:
  - {nodes: [5], behaviour: equivocate}
  - {count: 2, behaviour: silent}
`))
	require.NoError(t, err)
	seen := map[sim.NodeID]bool{}
	for seed := uint64(1); seed <= 30; seed++ {
		byz, err := chooseByzantine(sc, seed)
		require.NoError(t, err)
		require.Len(t, byz, 3)
		again, _ := chooseByzantine(sc, seed)
		require.Equal(t, byz, again, "chosen from the seed alone")
		require.Contains(t, byz, ByzantineServer{ID: 5, Behaviour: "equivocate"})
		for i, b := range byz {
			if i > 0 {
				require.Less(t, byz[i-1].ID, b.ID, "sorted, distinct")
			}
			if b.Behaviour == "silent" {
				seen[b.ID] = true
			}
		}
	}
	require.Greater(t, len(seen), 2, "random choices vary with the seed")
	require.NotContains(t, seen, sim.NodeID(5))
}
