package runner_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/protocols/paxos"
	"github.com/simrun/simrun/runner"
)

// TestPaxosMembershipScenarios: the shipped Paxos membership scenarios pass
// a small sweep, every change the leader took ends in configurations the
// servers announce (sim.ObsConfig), and the configuration paths of the
// protocol ran (its probes fired).
func TestPaxosMembershipScenarios(t *testing.T) {
	for _, file := range []string{"paxos-membership.yaml", "paxos-membership-swarm.yaml"} {
		t.Run(file, func(t *testing.T) {
			sc, proto := load(t, file, 0)
			changed := 0
			for seed := uint64(1); seed <= seedCount(4, 2); seed++ {
				rep := runSeed(t, sc, proto, seed)
				require.Equal(t, runner.Pass, rep.Class, "seed %d: %s", seed, rep.Reason)
				if rep.Probes[paxos.ProbeChangeRequested] > 0 {
					changed++
					require.Positive(t, rep.Announced.Configs, "seed %d: changes taken, none announced", seed)
					require.Positive(t, rep.Probes[paxos.ProbeConfigChosen], "seed %d", seed)
				}
			}
			require.Positive(t, changed, "no seed changed the membership")
		})
	}
	sc, proto := load(t, "paxos-membership.yaml", 0)
	rep := runSeed(t, sc, proto, 1)
	for _, p := range []string{paxos.ProbeNoopPadded, paxos.ProbeNewConfigPhase1, paxos.ProbeRemovedSteppedDown, paxos.ProbeHandOver} {
		require.Positive(t, rep.Probes[p], "%s never fired", p)
	}
	require.GreaterOrEqual(t, rep.Announced.Configs, 2*9, "each change announced at its slot and where it takes effect")
}
