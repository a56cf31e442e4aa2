package runner_test

// The verdict's rules, each pinned by a run whose protocol breaks one way:
// a panic, a leader never announced, messages without terms. (A history
// check out of time: history_verdict_test.go.)

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/registry"
	"github.com/simrun/simrun/runner"
	"github.com/simrun/simrun/scenarios"
	"github.com/simrun/simrun/sim"
)

// panicsAfter wraps a server: from simulated time at on, server 0 panics in
// its next timer handler, as a protocol bug that crashes the process does.
type panicsAfter struct {
	sim.Node
	at sim.Time
}

func (p panicsAfter) Timer(env sim.Env, kind sim.TimerKind) {
	if env.ID() == 0 && env.Now() >= p.at {
		panic("planted: server 0 gave up")
	}
	p.Node.Timer(env, kind)
}

// TestProtocolPanicIsACrashNotAPass pins the first rule of the verdict: a
// panic in a protocol handler classes the run as a protocol crash, with the
// panic as its reason, even though the checks saw nothing wrong before it
// (the same scenario passes without the panic).
func TestProtocolPanicIsACrashNotAPass(t *testing.T) {
	sc, raft := parsed(t, "panics.yaml", `protocol: raft
nodes: 3
duration: 2s
workload: {clients: 2, keys: 2}
checks: [linearizable, agreement, one-leader-per-term]
`)
	require.Equal(t, runner.Pass, runSeed(t, sc, raft, 1).Class, "raft passes the scenario")

	panicky := wrapServers(raft, func(n sim.Node) sim.Node { return panicsAfter{n, sim.Time(time.Second)} })
	rep := runSeed(t, sc, panicky, 1)
	require.NotNil(t, rep.Crash)
	require.Equal(t, runner.ProtocolCrash, rep.Class, rep.Reason)
	require.Contains(t, rep.Reason, "planted: server 0 gave up")
}

// TestEventBoundIsInconclusive: a run that used up its event bound was cut
// short, so nothing it did not reach was checked: inconclusive, never a
// pass, and the reason names the bound.
func TestEventBoundIsInconclusive(t *testing.T) {
	sc, proto := load(t, "raft-calm.yaml", 2*time.Second)
	sc.MaxEvents = 5000
	rep, err := runner.Run(sc, proto, runner.Options{Seed: 1})
	require.NoError(t, err)
	require.Equal(t, runner.Inconclusive, rep.Class, rep.Reason)
	require.Equal(t, uint64(5000), rep.Events)
	require.Contains(t, rep.Reason, "event bound of 5000 reached at t=")
}

// reobserved wraps a server so that each of its observations goes through
// observe, which may pass it on, drop it or make it twice: a protocol with a
// missing Observe call, or one that announces a fact again.
type reobserved struct {
	sim.Node
	observe func(env sim.Env, o sim.Observation)
}

type reobservedEnv struct {
	sim.Env
	observe func(env sim.Env, o sim.Observation)
}

func (e reobservedEnv) Observe(o sim.Observation) { e.observe(e.Env, o) }

func (r reobserved) env(env sim.Env) sim.Env            { return reobservedEnv{env, r.observe} }
func (r reobserved) Start(env sim.Env)                  { r.Node.Start(r.env(env)) }
func (r reobserved) Timer(env sim.Env, k sim.TimerKind) { r.Node.Timer(r.env(env), k) }
func (r reobserved) Receive(env sim.Env, from sim.NodeID, msg sim.Message) {
	r.Node.Receive(r.env(env), from, msg)
}

// reobserving is proto with its servers' observations through observe.
func reobserving(proto runner.Protocol, observe func(env sim.Env, o sim.Observation)) runner.Protocol {
	return wrapServers(proto, func(n sim.Node) sim.Node { return reobserved{n, observe} })
}

// muted is raft whose servers never announce observations of kind drop.
func muted(t *testing.T, sc *scenarios.Scenario, drop sim.ObsKind) (raft, silent runner.Protocol) {
	t.Helper()
	raft, err := registry.Resolve(sc)
	require.NoError(t, err)
	return raft, reobserving(raft, func(env sim.Env, o sim.Observation) {
		if o.Kind != drop {
			env.Observe(o)
		}
	})
}

// TestOneFaultAimedAtAnUnknownLeaderIsVacuous pins the leader-miss vacuity
// rule from its first miss: a run where a single fault aimed at the leader
// struck a random server, because no server ever announced a leadership,
// is vacuous, not a pass.
func TestOneFaultAimedAtAnUnknownLeaderIsVacuous(t *testing.T) {
	sc, err := scenarios.Parse("no-leaders.yaml", []byte(`protocol: raft
nodes: 3
duration: 2s
workload: {clients: 2, keys: 2}
faults:
  - {at: 500ms, crash: leader, down: 200ms}
checks: [linearizable, agreement]
`))
	require.NoError(t, err)
	raft, silent := muted(t, sc, sim.ObsLeader)
	require.Equal(t, runner.Pass, runSeed(t, sc, raft, 1).Class)
	rep := runSeed(t, sc, silent, 1)
	require.Zero(t, rep.Announced.Leaders)
	require.Equal(t, runner.Vacuous, rep.Class, rep.Reason)
	require.Contains(t, rep.Reason, "1 faults aimed at the leader struck a random server")
}

// TestStaleLeaderWithoutTermedMessagesIsVacuous pins what the stale-leader
// check needs to judge anything: leader messages that carry their term
// (sim.Termed). A protocol whose messages carry none (the primary-backup
// example) passes its scenario, and is vacuous once the scenario lists
// stale-leader, naming the check.
func TestStaleLeaderWithoutTermedMessagesIsVacuous(t *testing.T) {
	sc, proto := exampleScenario(t, "crash-churn.yaml")
	require.Equal(t, runner.Pass, runSeed(t, sc, proto, 1).Class)
	sc.Checks = append(sc.Checks, "stale-leader")
	rep := runSeed(t, sc, proto, 1)
	require.Equal(t, runner.Vacuous, rep.Class, rep.Reason)
	require.Contains(t, rep.Reason, "stale-leader judged nothing")
}

// TestLeaderChangesCountLeaderships: a leadership announced again counts
// once in leader_changes (the count of announcements stays in announced),
// so a run whose leader never changed does not read as churn.
func TestLeaderChangesCountLeaderships(t *testing.T) {
	sc, raft := parsed(t, "leaders.yaml", `protocol: raft
nodes: 3
duration: 3s
workload: {clients: 2, keys: 2}
faults:
  - {at: 1s, crash: leader, down: 200ms}
checks: [linearizable, agreement, one-leader-per-term]
`)
	once := runSeed(t, sc, raft, 1)
	require.Equal(t, runner.Pass, once.Class, once.Reason)
	require.GreaterOrEqual(t, once.LeaderChanges, 2, "the crash forced an election")
	require.Equal(t, once.Announced.Leaders, once.LeaderChanges)

	twice := runSeed(t, sc, reobserving(raft, func(env sim.Env, o sim.Observation) {
		env.Observe(o)
		if o.Kind == sim.ObsLeader {
			env.Observe(o) // a leadership announced again
		}
	}), 1)
	require.Equal(t, runner.Pass, twice.Class, twice.Reason)
	require.Equal(t, once.LeaderChanges, twice.LeaderChanges)
	require.Equal(t, 2*once.Announced.Leaders, twice.Announced.Leaders)
}

// TestVacuousLivenessSaysNoConvergence: a liveness phase that judged
// nothing (a protocol that announces nothing: the primary-backup example
// told to be silent) reports no convergence time beside its vacuous
// verdict; the same protocol announcing converges.
func TestVacuousLivenessSaysNoConvergence(t *testing.T) {
	sc, proto := exampleScenario(t, "crash-churn.yaml")
	rep := runSeed(t, sc, proto, 1)
	require.Equal(t, runner.Pass, rep.Class, rep.Reason)
	require.Positive(t, rep.ConvergedAfter)
	sc, proto = exampleScenario(t, "silent.yaml")
	rep = runSeed(t, sc, proto, 1)
	require.Equal(t, runner.Vacuous, rep.Class, rep.Reason)
	require.Zero(t, rep.ConvergedAfter)
}

// TestCommitsWithoutDigestsAreVacuous: a protocol that announces its commits
// with digest 0 (a forgotten field) gives agreement nothing to compare: the
// run is vacuous, naming it, not a pass.
func TestCommitsWithoutDigestsAreVacuous(t *testing.T) {
	sc, raft := parsed(t, "no-digests.yaml", `protocol: raft
nodes: 3
duration: 2s
workload: {clients: 2, keys: 2}
checks: [linearizable, agreement]
`)
	require.Equal(t, runner.Pass, runSeed(t, sc, raft, 1).Class)
	rep := runSeed(t, sc, reobserving(raft, func(env sim.Env, o sim.Observation) {
		if o.Kind == sim.ObsCommit || o.Kind == sim.ObsApply {
			o.Digest, o.Result = 0, 0
		}
		env.Observe(o)
	}), 1)
	require.Equal(t, runner.Vacuous, rep.Class, rep.Reason)
	require.Contains(t, rep.Reason, "agreement judged nothing: all ")
	require.Contains(t, rep.Reason, "commits were announced with digest 0")

	// Applies that still carry their results give agreement something to
	// compare: not vacuous.
	rep = runSeed(t, sc, reobserving(raft, func(env sim.Env, o sim.Observation) {
		if o.Kind == sim.ObsCommit || o.Kind == sim.ObsApply {
			o.Digest = 0
		}
		env.Observe(o)
	}), 1)
	require.Equal(t, runner.Pass, rep.Class, rep.Reason)
}
