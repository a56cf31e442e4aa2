package paxos

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/internal/prototest"
	"github.com/simrun/simrun/sim"
)

// TestCutStartUpKeepsALostPromiseOnRecord with torn writes: a crash keeps a
// prefix of the start-up's unsynced writes, so the rejoin marker must come
// before the deletes of the corrupt copies in the one batch the load syncs.
// Without torn writes a cut start-up loses that whole batch, and the order
// of the marker and the deletes goes unchecked.
func TestTornCutStartUpKeepsALostPromiseOnRecord(t *testing.T) {
	f, err := New(testConfig(), prototest.NewKV)
	require.NoError(t, err)
	cut := 0
	for seed := uint64(1); seed <= 4; seed++ {
		for keep := 1; ; keep++ {
			pw := prototest.NewWorld(t, prototest.WorldConfig{Seed: seed, Servers: 3, Factory: f,
				Link: sim.Link{LatencyMin: time.Millisecond, LatencyMax: 2 * time.Millisecond}})
			w := pw.W
			pw.Run(t, time.Second) // a leader, and a promise on every disk
			w.Crash(2)
			prototest.FlipBit(t, w.Disk(2), promiseKeyA)
			prototest.FlipBit(t, w.Disk(2), promiseKeyB)
			require.NoError(t, w.SetDiskFaults(2, sim.DiskFaults{TornWrites: true}))
			w.Restart(2)
			var kept int
			w.CrashMidStep(2, keep, func(k int) { kept = k })
			pw.Run(t, 1100*time.Millisecond)
			if kept < keep {
				break
			}
			cut++
			w.Restart(2)
			pw.Run(t, 1101*time.Millisecond)
			n, ok := w.Node(2).(*node)
			require.True(t, ok)
			require.True(t, n.rejoining, "seed %d, start-up cut after %d effects: the next start does not know the promise was lost", seed, keep)
		}
	}
	require.Greater(t, cut, 3, "start-ups cut")
}
