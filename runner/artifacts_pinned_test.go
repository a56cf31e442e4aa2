package runner

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/faults"
	"github.com/simrun/simrun/scenarios"
)

// TestPinnedFileTooLargeKeepsTheSwarm: a swarm run that fired more steps
// than a scenario file may hold written out (it failed late in a long run)
// gets a file that keeps the swarm and its seed, and says why, instead of
// one that no command could read back.
func TestPinnedFileTooLargeKeepsTheSwarm(t *testing.T) {
	sc, err := scenarios.Parse("long.yaml", []byte("protocol: raft\nnodes: 5\nduration: 2h\nswarm: [pause]\n"))
	require.NoError(t, err)
	rep := &Report{Seed: 9, SimTime: 2 * time.Hour}
	for i := range 20_000 {
		rep.swarmSteps = append(rep.swarmSteps, faults.Step{At: scenarios.Duration(time.Duration(i+1) * 300 * time.Millisecond),
			Pause: faults.Random(), Down: scenarios.Duration(100 * time.Millisecond)})
	}
	data, err := pinnedFile(sc, rep)
	require.NoError(t, err)
	require.LessOrEqual(t, len(data), scenarios.MaxFileSize)
	require.True(t, strings.HasPrefix(string(data), fmt.Sprintf("# The swarm drew more faults for this seed than a scenario file holds written\n"+
		"# out (%d steps, ", len(rep.swarmSteps))), "%.300s", data)
	back, err := scenarios.Parse("pinned.yaml", data)
	require.NoError(t, err)
	require.Equal(t, []string{"pause"}, back.Swarm)
	require.Equal(t, uint64(9), *back.Seed)
	require.Empty(t, back.Faults)

	rep.swarmSteps = rep.swarmSteps[:10]
	data, err = pinnedFile(sc, rep)
	require.NoError(t, err)
	back, err = scenarios.Parse("pinned.yaml", data)
	require.NoError(t, err)
	require.Empty(t, back.Swarm)
	require.Len(t, back.Faults, 10)
}
