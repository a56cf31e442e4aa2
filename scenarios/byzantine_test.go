package scenarios

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestByzantineSection(t *testing.T) {
	head := "protocol: pbft\nnodes: 4\n"
	sc, err := Parse("b.yaml", []byte(head+"byzantine:\n  - {nodes: [0], behaviour: equivocate}\n  - {count: 1, behaviour: silent}\n"))
	require.NoError(t, err)
	require.Equal(t, []Byzantine{{Nodes: []int{0}, Behaviour: "equivocate"}, {Count: 1, Behaviour: "silent"}}, sc.Byzantine)
	assertRoundTrip(t, sc)

	for _, c := range []struct{ body, want string }{
		{"byzantine:\n  - {nodes: [4], behaviour: silent}\n", "b.yaml:4:14: byzantine[0].nodes[0]: node 4 out of range (cluster has 4 nodes)"},
		{"byzantine:\n  - {nodes: [1], count: 1, behaviour: silent}\n", "b.yaml:4:5: byzantine[0]: give nodes or count, not both"},
		{"byzantine:\n  - {behaviour: silent}\n", "b.yaml:4:5: byzantine[0]: give the nodes, or a positive count of random servers"},
		{"byzantine:\n  - {count: 1, behaviour: Bad}\n", "b.yaml:4:27: byzantine[0].behaviour: \"Bad\" is not a behaviour name (lowercase letters, digits and '-')"},
		{"byzantine:\n  - {nodes: [1], behaviour: a}\n  - {nodes: [1], behaviour: b}\n", "b.yaml:5:14: byzantine[1].nodes[0]: node 1 is already Byzantine in byzantine[0]"},
		{"byzantine:\n  - {count: 5, behaviour: a}\n", "b.yaml:4:3: byzantine: 5 Byzantine servers in a cluster of 4"},
	} {
		_, err := Parse("b.yaml", []byte(head+c.body))
		require.EqualError(t, err, c.want)
	}
}

func TestCloneCopiesTheByzantineGroups(t *testing.T) {
	sc, err := Parse("b.yaml", []byte("protocol: pbft\nnodes: 4\nbyzantine:\n  - {count: 1, behaviour: silent}\n"))
	require.NoError(t, err)
	c := sc.Clone()
	c.Byzantine[0].Count = 2
	require.Equal(t, 1, sc.Byzantine[0].Count, "the original is untouched")
}
