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
// one that no command could read back. Its note counts the steps the swarm
// drew, not the scenario's own faults.
func TestPinnedFileTooLargeKeepsTheSwarm(t *testing.T) {
	sc, err := scenarios.Parse("long.yaml", []byte("protocol: raft\nnodes: 5\nduration: 2h\nswarm: [pause]\n"+
		"faults:\n  - {at: 1ms, partition: isolate-random, for: 50ms}\n"))
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
	require.Len(t, back.Faults, 1, "the scenario's own fault")

	rep.swarmSteps = rep.swarmSteps[:10]
	data, err = pinnedFile(sc, rep)
	require.NoError(t, err)
	back, err = scenarios.Parse("pinned.yaml", data)
	require.NoError(t, err)
	require.Empty(t, back.Swarm)
	require.Len(t, back.Faults, 11)
}

// TestPinnedKeepsTheStepsThatFired: a pinned swarm scenario writes out the
// one-shot steps due at or before the run's end, the one due exactly then
// included, and no later one; a scenario without a swarm gets no note.
func TestPinnedKeepsTheStepsThatFired(t *testing.T) {
	sc, err := scenarios.Parse("swarm.yaml", []byte("protocol: raft\nnodes: 5\nduration: 10s\nswarm: [pause]\n"))
	require.NoError(t, err)
	rep := &Report{Seed: 3, SimTime: 2 * time.Second}
	for _, at := range []time.Duration{time.Second, 2 * time.Second, 3 * time.Second} {
		rep.swarmSteps = append(rep.swarmSteps, faults.Step{At: scenarios.Duration(at), Pause: faults.Random(),
			Down: scenarios.Duration(100 * time.Millisecond)})
	}
	p := Pinned(sc, rep)
	require.Empty(t, p.Swarm)
	require.Len(t, p.Faults, 2)
	require.Equal(t, scenarios.Duration(2*time.Second), p.Faults[1].At, "due exactly at the end: fired")

	plain, err := scenarios.Parse("plain.yaml", []byte("protocol: raft\nnodes: 5\nduration: 10s\n"))
	require.NoError(t, err)
	data, err := pinnedFile(plain, &Report{Seed: 3, SimTime: 2 * time.Second})
	require.NoError(t, err)
	require.False(t, strings.HasPrefix(string(data), "#"), "no swarm, no note: %.200s", data)
}
