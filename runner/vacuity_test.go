package runner_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/examples/primarybackup"
	"github.com/simrun/simrun/registry"
	"github.com/simrun/simrun/runner"
	"github.com/simrun/simrun/scenarios"
	"github.com/simrun/simrun/sim"
)

// exampleScenario loads a scenario of the primary-backup example protocol.
func exampleScenario(t *testing.T, name string) (*scenarios.Scenario, runner.Protocol) {
	t.Helper()
	sc, err := scenarios.ParseFile(filepath.Join("..", "examples", "primarybackup", "scenarios", name))
	require.NoError(t, err)
	set, err := registry.New(append(registry.Shipped(), primarybackup.Protocol())...)
	require.NoError(t, err)
	proto, err := set.Resolve(sc)
	require.NoError(t, err)
	return sc, proto
}

// TestSilentProtocolIsVacuousNotAPass: the same protocol and faults pass
// when it announces leaders, commits and applies, and are vacuous when it
// announces nothing, naming each check that had nothing to judge.
func TestSilentProtocolIsVacuousNotAPass(t *testing.T) {
	sc, proto := exampleScenario(t, "crash-churn.yaml")
	rep := runSeed(t, sc, proto, 1)
	require.Equal(t, runner.Pass, rep.Class, rep.Reason)
	require.Positive(t, rep.Announced.Commits)

	sc, proto = exampleScenario(t, "silent.yaml")
	rep = runSeed(t, sc, proto, 1)
	require.Equal(t, runner.Vacuous, rep.Class)
	require.True(t, rep.Class.Failed(), "vacuous is never a pass")
	for _, check := range []string{"agreement", "one-leader-per-term", "liveness"} {
		require.Contains(t, rep.Reason, check+" judged nothing")
	}
	for _, c := range rep.Checks {
		if c.Name != "linearizable" {
			require.Equal(t, "vacuous", c.Verdict, c.Name)
		}
	}
}

// TestNoSuccessfulOperationIsVacuous: a run whose clients never got an
// answer (every server down for the whole run) cannot pass either.
func TestNoSuccessfulOperationIsVacuous(t *testing.T) {
	sc, proto := parsed(t, "dark.yaml", `protocol: raft
nodes: 3
duration: 2s
drain: 100ms
workload: {clients: 2, keys: 2, timeout: 300ms}
faults:
  - {at: 0s, crash: all}
checks: [linearizable]
`)
	rep := runSeed(t, sc, proto, 1)
	require.Equal(t, runner.Vacuous, rep.Class, rep.Reason)
	require.True(t, strings.HasPrefix(rep.Reason, "no client operation succeeded"), rep.Reason)
}

// TestNoChecksIsVacuous: a scenario that asks for no check (checks: [])
// judged nothing, whatever its clients did: it is never a pass.
func TestNoChecksIsVacuous(t *testing.T) {
	sc, proto := parsed(t, "unjudged.yaml", `protocol: raft
nodes: 3
duration: 1s
workload: {clients: 2, keys: 2}
checks: []
`)
	rep := runSeed(t, sc, proto, 1)
	require.Equal(t, runner.Vacuous, rep.Class, rep.Reason)
	require.Positive(t, rep.Ops.OK)
	require.Equal(t, "no check judged the run (checks: [] asks for none)", rep.Reason)
}

// TestOnlyByzantineAnnouncementsAreVacuous: what Byzantine servers say they
// committed is judged by no check, so a cluster of nothing but Byzantine
// replicas, whose clients still got answers, is vacuous, never a pass; with
// one correct replica left, its commits count.
func TestOnlyByzantineAnnouncementsAreVacuous(t *testing.T) {
	sc, proto := parsed(t, "all-byzantine.yaml", `protocol: pbft
nodes: 4
duration: 2s
byzantine: [{count: 4, behaviour: equivocate}]
`)
	rep := runSeed(t, sc, proto, 1)
	require.Equal(t, runner.Vacuous, rep.Class, rep.Reason)
	require.Positive(t, rep.Ops.OK, "the clients got answers: only the servers' announcements are void")
	require.Contains(t, rep.Reason, "agreement judged nothing: no correct server announced a commit")
	require.Zero(t, rep.Announced.Commits)

	sc, proto = parsed(t, "three-byzantine.yaml", `protocol: pbft
nodes: 4
duration: 2s
byzantine: [{count: 3, behaviour: equivocate}]
`)
	rep = runSeed(t, sc, proto, 1)
	require.NotEqual(t, runner.Vacuous, rep.Class, rep.Reason)
	require.Positive(t, rep.Announced.Commits)
}

// TestShippedScenariosAreNotVacuous: every shipped protocol announces what
// its scenarios' checks need.
func TestShippedScenariosAreNotVacuous(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "scenarios", "*.yaml"))
	require.NoError(t, err)
	for _, f := range files {
		sc, proto := load(t, filepath.Base(f), 0)
		rep := runSeed(t, sc, proto, 1)
		require.NotEqual(t, runner.Vacuous, rep.Class, "%s: %s", f, rep.Reason)
	}
}

// deafOperator takes operator requests and does nothing with them.
type deafOperator struct{ sim.Node }

func (deafOperator) Operate(sim.Env, sim.Message) {}

// TestMembershipChangesNobodyAnnouncedAreVacuous: a protocol that takes the
// member fault's requests but never announces a configuration cannot pass.
func TestMembershipChangesNobodyAnnouncedAreVacuous(t *testing.T) {
	sc, raft := parsed(t, "deaf.yaml", `protocol: raft
nodes: 4
members: 3
duration: 3s
workload: {clients: 2, keys: 2}
faults:
  - {at: 1s, member: {add: [n3]}}
checks: [agreement, one-leader-per-term]
`)
	require.Equal(t, runner.Pass, runSeed(t, sc, raft, 1).Class, "raft announces the change")

	deaf := wrapServers(raft, func(n sim.Node) sim.Node { return deafOperator{n} })
	rep := runSeed(t, sc, deaf, 1)
	require.Equal(t, runner.Vacuous, rep.Class)
	require.Contains(t, rep.Reason, "the leader took 1 membership changes, but no server announced a configuration")
}
