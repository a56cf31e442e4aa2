package etcdraft_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/examples/etcdraft/etcdraft"
	"github.com/simrun/simrun/runner"
	"github.com/simrun/simrun/scenarios"
	"github.com/simrun/simrun/simtest"
)

// shipped are the example's scenarios; each must pass every seed.
var shipped = []string{"etcdraft-crash-churn.yaml", "etcdraft-partition-shapes.yaml", "etcdraft-swarm.yaml", "etcdraft-torn-mid-step.yaml", "etcdraft-reordered-mid-step.yaml", "etcdraft-recovery-crashes.yaml", "etcdraft-isolated-leader.yaml"}

// TestLeaderChecksFollowCheckQuorum: the adapter tells the runner the
// terms its messages carry (sim.Termed, vote requests apart) and, with
// check-quorum, the bound a cut-off leader steps down within, so a scenario
// can list stale-leader and isolated-leader (etcdraft-isolated-leader runs
// both in TestShippedScenariosPass); without check-quorum the library
// promises no step-down, and the runner refuses isolated-leader.
func TestLeaderChecksFollowCheckQuorum(t *testing.T) {
	sc := edited(t, "etcdraft-isolated-leader.yaml", func(s string) string {
		return s + "protocol_options: {check_quorum: false}\n"
	})
	_, err := runner.Run(sc, etcdraft.Protocol(), runner.Options{Seed: 1})
	require.ErrorContains(t, err, "isolated-leader")
	rep := runSeed(t, load(t, "etcdraft-isolated-leader.yaml", 0), 1)
	require.Equal(t, runner.Pass, rep.Class, "not vacuous: both checks judged a leader: %s", rep.Reason)
}

// TestShippedScenariosPass runs a short sweep of every shipped scenario.
// The sweeps of README.md run hundreds of seeds; this is the smoke test.
func TestShippedScenariosPass(t *testing.T) {
	n := seeds(10, 2)
	for _, name := range shipped {
		t.Run(name, func(t *testing.T) {
			sc := load(t, name, 0)
			for seed := uint64(1); seed <= n; seed++ {
				rep := runSeed(t, sc, seed)
				require.Equal(t, runner.Pass, rep.Class, "seed %d: %s", seed, rep.Reason)
				require.Positive(t, rep.Ops.OK, "seed %d: no operation succeeded", seed)
			}
		})
	}
}

// TestSameSeedSameTrace is simrun's determinism contract, which etcd-raft's
// crypto/rand election timeouts would break without pinrand: a seed run
// twice gives the same trace hash, and different seeds give different runs.
func TestSameSeedSameTrace(t *testing.T) {
	n := seeds(20, 4)
	for _, name := range []string{"etcdraft-crash-churn.yaml", "etcdraft-swarm.yaml"} {
		t.Run(name, func(t *testing.T) {
			simtest.RequireSameSeedSameTrace(t, load(t, name, 5*time.Second), etcdraft.Protocol(), n)
		})
	}
}

// TestOtherOptions runs the shipped scenarios with etcd-raft's optional
// mechanisms off and one entry per MsgApp (max_size_per_msg 0, which also
// needs an apply budget of its own: see server.raftConfig).
func TestOtherOptions(t *testing.T) {
	for _, name := range shipped {
		t.Run(name, func(t *testing.T) {
			sc := edited(t, name, func(s string) string {
				// Without check-quorum no step-down is promised: the
				// isolated-leader check cannot be listed.
				s = strings.Replace(s, " isolated-leader,", "", 1)
				const off = "  pre_vote: false\n  check_quorum: false\n  max_size_per_msg: 0\n"
				if strings.Contains(s, "\nprotocol_options:\n") {
					return strings.Replace(s, "\nprotocol_options:\n", "\nprotocol_options:\n"+off, 1)
				}
				return s + "protocol_options:\n" + off
			})
			sc.Duration = scenarios.Duration(8 * time.Second) // one entry per MsgApp and per Ready is slow
			for seed := uint64(1); seed <= seeds(2, 1); seed++ {
				rep := runSeed(t, sc, seed)
				require.Equal(t, runner.Pass, rep.Class, "seed %d: %s", seed, rep.Reason)
			}
		})
	}
}
