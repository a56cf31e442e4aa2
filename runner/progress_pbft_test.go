package runner_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/registry"
	"github.com/simrun/simrun/scenarios"
)

// TestProgressAsksPBFTForAQuorum: four of seven PBFT replicas are a
// majority but no quorum (2f+1 = 5): they rightly commit nothing while the
// other three are cut off, and progress does not count them as a cluster
// that should. It did, and reported every seed of this split as stuck.
func TestProgressAsksPBFTForAQuorum(t *testing.T) {
	sc, err := scenarios.Parse("pbft-split.yaml", []byte(`protocol: pbft
nodes: 7
duration: 12s
network: {latency: {min: 1ms, max: 5ms}}
workload: {clients: 4, keys: 8, think_time: 10ms, timeout: 1s, retry_interval: 100ms}
faults:
  - {at: 2s, partition: {groups: [[0, 1, 2], [3, 4, 5, 6]]}, for: 7s}
checks: [linearizable, agreement, one-leader-per-term, liveness, progress]
protocol_options: {request_timeout: 300ms}
`))
	require.NoError(t, err)
	proto, err := registry.Resolve(sc)
	require.NoError(t, err)
	requirePasses(t, sc, proto, 2)
}
