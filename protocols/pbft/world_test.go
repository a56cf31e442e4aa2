package pbft

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/sim"
)

// Runs under sim.World: determinism, and safety with Byzantine replicas.

var calmLink = sim.Link{LatencyMin: time.Millisecond, LatencyMax: 5 * time.Millisecond}

func TestSameSeedSameHash(t *testing.T) {
	lossy := calmLink
	lossy.Drop, lossy.Duplicate = 0.05, 0.02
	byz := []ByzantineReplica{{ID: 1, Behaviour: BehaviourForgeViewChange}, {ID: 4, Behaviour: BehaviourEquivocate}}
	hashes := map[uint64]uint64{}
	for seed := uint64(1); seed <= 4; seed++ {
		var got [2]uint64
		for i := range got {
			c := newWorld(t, seed, 7, DefaultConfig(), lossy, byz...)
			c.w.At(at(500*time.Millisecond), "crash n0", func() { c.w.Crash(0) })
			c.w.At(at(900*time.Millisecond), "restart n0", func() { c.w.Restart(0) })
			require.Equal(t, sim.Reached, c.w.RunUntil(at(2*time.Second)))
			require.Empty(t, c.violation)
			require.Positive(t, c.acked)
			got[i] = c.w.Result().Hash
		}
		require.Equal(t, got[0], got[1], "seed %d: same seed, different trace", seed)
		_, dup := hashes[got[0]]
		require.False(t, dup, "two seeds, one trace")
		hashes[got[0]] = seed
	}
}

func TestCorrectReplicasStaySafeWithFByzantine(t *testing.T) {
	for _, b := range KnownBehaviours() {
		for _, n := range []int{4, 7} {
			t.Run(b.Name+"/n="+strconv.Itoa(n), func(t *testing.T) {
				var byz []ByzantineReplica
				for i := range Faulty(n) {
					byz = append(byz, ByzantineReplica{ID: sim.NodeID(i), Behaviour: b.Name}) // the first primaries
				}
				c := newWorld(t, 1, n, DefaultConfig(), calmLink, byz...)
				require.Equal(t, sim.Reached, c.w.RunUntil(at(3*time.Second)))
				require.Empty(t, c.violation)
				require.Nil(t, c.w.Result().Crash)
				require.Greater(t, c.acked, 20, "the correct replicas make progress")
			})
		}
	}
}

func TestTooManyByzantineBreakSafety(t *testing.T) {
	byz := []ByzantineReplica{{ID: 0, Behaviour: BehaviourEquivocate}, {ID: 1, Behaviour: BehaviourEquivocate}}
	c := newWorld(t, 1, 4, DefaultConfig(), calmLink, byz...)
	require.Equal(t, sim.Stopped, c.w.RunUntil(at(time.Second)))
	require.Equal(t, "two digests at index 1", c.violation, "f+1 colluders: correct replicas disagree")
}

func TestViewChangesUnderCrashesAndLoss(t *testing.T) {
	link := calmLink
	link.Drop = 0.03
	for seed := uint64(1); seed <= 4; seed++ {
		c := newWorld(t, seed, 4, DefaultConfig(), link)
		for i := range 6 {
			id := sim.NodeID(i % 4)
			start := time.Duration(i)*700*time.Millisecond + 300*time.Millisecond
			c.w.At(at(start), "crash", func() { c.w.Crash(id) })
			c.w.At(at(start+400*time.Millisecond), "restart", func() { c.w.Restart(id) })
		}
		require.Equal(t, sim.Reached, c.w.RunUntil(at(5*time.Second)))
		require.Empty(t, c.violation, "seed %d", seed)
		before := c.acked
		require.Equal(t, sim.Reached, c.w.RunUntil(at(8*time.Second)))
		require.Greater(t, c.acked-before, 50, "seed %d: progress once the crashes stop", seed)
	}
}
