package registry_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/registry"
	"github.com/simrun/simrun/runner"
	"github.com/simrun/simrun/scenarios"
	"github.com/simrun/simrun/workload"
)

// TestUnknownBehaviourInALaterGroupNamesThatGroup: with a known behaviour in
// the first Byzantine group and an unknown one in the second, the error
// points at the second group's line and key (byzantine[1].behaviour), so the
// user is sent to the entry that is wrong, not the first one.
func TestUnknownBehaviourInALaterGroupNamesThatGroup(t *testing.T) {
	text := "protocol: pbft\nnodes: 7\nbyzantine:\n  - {nodes: [0], behaviour: silent}\n  - {nodes: [1], behaviour: lies}\n"
	sc, err := scenarios.Parse("b.yaml", []byte(text))
	require.NoError(t, err)
	p, _ := registry.Lookup("pbft")
	_, err = p.Build(runner.Cluster{Scenario: sc, NewStateMachine: workload.NewKV,
		Byzantine: []runner.ByzantineServer{{ID: 0, Behaviour: "silent"}, {ID: 1, Behaviour: "lies"}}})
	require.ErrorContains(t, err, "b.yaml:5:29: byzantine[1].behaviour: ")
	require.ErrorContains(t, err, `unknown Byzantine behaviour "lies"`)
}
