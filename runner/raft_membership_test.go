package runner_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/protocols/raft"
	"github.com/simrun/simrun/runner"
)

// TestRaftMembershipScenarios: the shipped Raft membership scenarios pass a
// small sweep with their changes committed (the report names the final
// configuration and counts the committed ones), and the membership paths of
// the protocol ran: learners, joint configurations, a removed leader
// stepping down.
func TestRaftMembershipScenarios(t *testing.T) {
	probes := map[string]uint64{}
	for _, file := range []string{"raft-membership-rolling.yaml", "raft-membership-grow.yaml", "raft-membership-partition.yaml"} {
		t.Run(file, func(t *testing.T) {
			sc, proto := load(t, file, 0)
			for seed := uint64(1); seed <= seedCount(3, 1); seed++ {
				rep := runSeed(t, sc, proto, seed)
				require.Equal(t, runner.Pass, rep.Class, "seed %d: %s", seed, rep.Reason)
				require.NotEmpty(t, rep.Members, "seed %d", seed)
				require.GreaterOrEqual(t, rep.Configurations, 2, "seed %d: few changes committed", seed)
				for p, n := range rep.Probes {
					probes[p] += n
				}
			}
		})
	}
	for _, p := range []string{raft.ProbeChangeStarted, raft.ProbeChangeProposed, raft.ProbeJointLeft, raft.ProbeRemovedLeaderStepsDown} {
		require.Positive(t, probes[p], "%s never fired", p)
	}
}
