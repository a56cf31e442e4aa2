package runner_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/protocols/paxos"
	"github.com/simrun/simrun/protocols/raft"
)

// The shipped membership scenarios of the protocols that change their
// membership: small sweeps that pass with the changes taken, and the
// membership paths of the protocol ran (its probes fired).

// TestRaftMembershipScenarios: the shipped Raft membership scenarios pass a
// small sweep with their changes committed (the report names the final
// configuration and counts the committed ones), and the membership paths of
// the protocol ran: learners, joint configurations, a removed leader
// stepping down.
func TestRaftMembershipScenarios(t *testing.T) {
	files := []string{"raft-membership-rolling.yaml", "raft-membership-grow.yaml", "raft-membership-partition.yaml",
		"raft-membership-snapshots.yaml"}
	probes := map[string]uint64{}
	for _, rep := range probeSweep(t, files, seedCount(3, 1)) {
		require.NotEmpty(t, rep.Members, "%s seed %d", rep.Scenario, rep.Seed)
		require.GreaterOrEqual(t, rep.Configurations, 2, "%s seed %d: few changes committed", rep.Scenario, rep.Seed)
		for p, n := range rep.Probes {
			probes[p] += n
		}
	}
	for _, p := range []string{raft.ProbeChangeStarted, raft.ProbeChangeProposed, raft.ProbeJointLeft, raft.ProbeRemovedLeaderStepsDown,
		raft.ProbeSnapshotSent, raft.ProbeSnapshotRestored} {
		require.Positive(t, probes[p], "%s never fired", p)
	}
}

// TestPaxosMembershipScenarios: the shipped Paxos membership scenarios pass
// a small sweep, every change the leader took ends in configurations the
// servers announce (sim.ObsConfig), and the configuration paths of the
// protocol ran (its probes fired).
func TestPaxosMembershipScenarios(t *testing.T) {
	for _, file := range []string{"paxos-membership.yaml", "paxos-membership-swarm.yaml", "paxos-replace-all.yaml"} {
		t.Run(file, func(t *testing.T) {
			changed := 0
			for _, rep := range probeSweep(t, []string{file}, seedCount(4, 2)) {
				if rep.Probes[paxos.ProbeChangeRequested] == 0 {
					continue
				}
				changed++
				require.Positive(t, rep.Announced.Configs, "seed %d: changes taken, none announced", rep.Seed)
				require.Positive(t, rep.Probes[paxos.ProbeConfigChosen], "seed %d", rep.Seed)
			}
			require.Positive(t, changed, "no seed changed the membership")
		})
	}
	rep := probeSweep(t, []string{"paxos-membership.yaml"}, 1)[0]
	for _, p := range []string{paxos.ProbeNoopPadded, paxos.ProbeNewConfigPhase1, paxos.ProbeRemovedSteppedDown, paxos.ProbeHandOver} {
		require.Positive(t, rep.Probes[p], "%s never fired", p)
	}
	require.GreaterOrEqual(t, rep.Announced.Configs, 2*9, "each change announced at its slot and where it takes effect")
}

// TestProgressBoundCoversBackoff: a Paxos server whose phase 1 was preempted
// backs off (up to 8 x 600ms by default); a majority that waits it out and
// elects is not stalled. The pinned run failed progress at 3s before the
// bound took the protocol's backoff into account.
func TestProgressBoundCoversBackoff(t *testing.T) {
	runPinned(t, "paxos-backoff-progress.yaml")
}

// TestProgressLeavesHaltedServersOut: a server that halted on storage beyond
// repair is up as far as the kernel knows, but is no part of a majority
// that can make progress. The pinned run, found by a swarm sweep of
// raft-crash-churn (seed 900598), failed progress while only two of five
// servers could act.
func TestProgressLeavesHaltedServersOut(t *testing.T) {
	rep := runPinned(t, "raft-halted-not-a-majority.yaml")
	require.Contains(t, rep.Faults, "corruptions=3")
}
