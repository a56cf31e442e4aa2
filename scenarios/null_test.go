package scenarios

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A key with no value is a key left out: it takes its default.
func TestKeyWithoutValueIsDefault(t *testing.T) {
	sc, err := Parse("n.yaml", []byte(base+"drain:\nseed:\nnetwork:\n  latency:\nworkload:\n  timeout:\n  mix:\nchecks:\n"))
	require.NoError(t, err)
	assert.Equal(t, DefaultDrain, sc.Drain)
	assert.Nil(t, sc.Seed)
	assert.Equal(t, Latency{Min: DefaultLatencyMin, Max: DefaultLatencyMax}, sc.Network.Latency)
	assert.Equal(t, DefaultTimeout, sc.Workload.Timeout)
	assert.Equal(t, DefaultMix, sc.Workload.Mix)
	assert.Equal(t, DefaultChecks(ModelKV), sc.Checks)

	_, err = Parse("n.yaml", []byte("protocol: raft\nnodes:\n"))
	assert.EqualError(t, err, "n.yaml:2:1: nodes: missing: give the number of servers")
	_, err = Parse("n.yaml", []byte(base+"faults:\n  - {at: 1s, crash: 1, down: }\n"))
	assert.NoError(t, err, "down with no value: the node stays down")
	_, err = Parse("n.yaml", []byte(base+"faults:\n  - {at: , crash: 1}\n"))
	assert.EqualError(t, err, "n.yaml:5:5: faults[0]: no time: give at, or from/to/every")
}
