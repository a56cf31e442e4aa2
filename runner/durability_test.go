package runner_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/checkers"
	"github.com/simrun/simrun/runner"
	"github.com/simrun/simrun/sim"
)

// announcesOnRestart is a raft server that, once restarted, announces an
// observation (a halt: its storage beyond repair; or a loss of state it
// may have acknowledged) and goes on working: the announcement alone is
// what is judged.
type announcesOnRestart struct {
	sim.Node
	o sim.Observation
}

func (a announcesOnRestart) Start(env sim.Env) {
	if env.Now() > 0 {
		env.Observe(a.o)
	}
	a.Node.Start(env)
}

// announcingServer1 is raft whose server n1 announces o whenever it
// restarts.
func announcingServer1(proto runner.Protocol, o sim.Observation) runner.Protocol {
	build := proto.Build
	proto.Build = func(c runner.Cluster) (runner.Servers, error) {
		s, err := build(c)
		factory := s.Factory
		s.Factory = func(id sim.NodeID) sim.Node {
			if id == 1 {
				return announcesOnRestart{factory(id), o}
			}
			return factory(id)
		}
		return s, err
	}
	return proto
}

// haltingServer1 is raft whose server n1 halts whenever it restarts.
func haltingServer1(proto runner.Protocol) runner.Protocol {
	return announcingServer1(proto, sim.Observation{Kind: sim.ObsHalt, Text: "test: halts on every restart"})
}

// crashOnce is a scenario that crashes n1 for 200ms at 1s: its restart is
// what announcesOnRestart waits for.
const crashOnce = `protocol: raft
nodes: 3
duration: 2s
workload: {clients: 2, keys: 2}
checks: [agreement]
faults:
  - {at: 1s, crash: 1, down: 200ms}
`

// TestAHaltOnASoundDiskFailsTheRun: a server that halts after a crash
// though no fault corrupted its disk fails the run on durability, whatever
// checks the scenario lists; once a fault corrupted that disk first, the
// same halt is the server refusing storage it cannot trust, and passes; a
// corruption the injector skipped excuses nothing.
func TestAHaltOnASoundDiskFailsTheRun(t *testing.T) {
	sc, proto := parsed(t, "halts.yaml", crashOnce)
	rep := runSeed(t, sc, haltingServer1(proto), 1)
	require.Equal(t, runner.Safety, rep.Class, rep.Reason)
	require.Contains(t, rep.Reason, "durability violated at event ")
	require.Contains(t, rep.Reason, "n1 halted with its storage beyond repair (test: halts on every restart), though no fault corrupted its disk")

	sc, proto = parsed(t, "halts-corrupt.yaml", crashOnce+"  - {at: 900ms, corrupt: 1}\n")
	rep = runSeed(t, sc, haltingServer1(proto), 1)
	require.Equal(t, runner.Pass, rep.Class, rep.Reason)
	require.Contains(t, rep.Checks, runner.CheckResult{Name: checkers.NameDurability, Verdict: "pass"})

	// A corruption the injector skips (at 0s no record exists yet) damages
	// nothing, and excuses nothing.
	sc, proto = parsed(t, "halts-skipped.yaml", crashOnce+"  - {at: 0s, corrupt: 1}\n")
	rep = runSeed(t, sc, haltingServer1(proto), 1)
	require.Equal(t, runner.Safety, rep.Class, rep.Reason)
	require.Contains(t, rep.Reason, "durability violated")

	sc, proto = parsed(t, "no-halts.yaml", crashOnce)
	rep = runSeed(t, sc, proto, 1)
	require.Equal(t, runner.Pass, rep.Class, rep.Reason)
	for _, c := range rep.Checks {
		require.NotEqual(t, checkers.NameDurability, c.Name, "no halt, nothing judged, nothing listed")
	}
}

// TestALossOnASoundDiskFailsTheRun: a server that announces it lost state
// it may have acknowledged (sim.ObsImpaired) after a crash, though no
// fault corrupted its disk, fails the run on durability as a halt does
// (the check reads such announcements: a Raft compaction whose hard state
// overtook its snapshot on a reordering disk was found so); after a
// corruption of that disk the same announcement passes.
func TestALossOnASoundDiskFailsTheRun(t *testing.T) {
	loss := sim.Observation{Kind: sim.ObsImpaired, Text: "test: lost entries on every restart"}
	sc, proto := parsed(t, "loses.yaml", crashOnce)
	rep := runSeed(t, sc, announcingServer1(proto, loss), 1)
	require.Equal(t, runner.Safety, rep.Class, rep.Reason)
	require.Contains(t, rep.Reason, "n1 lost state it may have acknowledged (test: lost entries on every restart), though no fault corrupted its disk")

	sc, proto = parsed(t, "loses-corrupt.yaml", crashOnce+"  - {at: 900ms, corrupt: 1}\n")
	rep = runSeed(t, sc, announcingServer1(proto, loss), 1)
	require.Equal(t, runner.Pass, rep.Class, rep.Reason)
	require.Contains(t, rep.Checks, runner.CheckResult{Name: checkers.NameDurability, Verdict: "pass"})
}
