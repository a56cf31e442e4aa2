package etcdraft_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/runner"
)

// lostLogPanic is how etcd-raft itself reports a follower whose log lost
// entries it had acknowledged: the leader's commit index, which counted the
// acknowledgement, lands past the end of the follower's log.
const lostLogPanic = "Was the raft log corrupted, truncated, or lost?"

// caught is one way a run may expose a planted bug: a failure class and a
// text its reason contains.
type caught struct {
	class  runner.Class
	reason string
}

// plantedBugs are the example's bug scenarios, with the seed bound a sweep
// gets to expose each and the failures that count as catching it. Measured
// with `etcdsim sweep scenarios/bugs/<file> --seeds 100` (see README.md):
// each comment gives the seeds caught out of 100 and the first one.
var plantedBugs = []struct {
	file     string
	maxSeeds uint64
	by       []caught
}{
	// 100/100, from seed 1, all by agreement: a restarted server votes a
	// second time in a term (sim.Voter), before a second leader follows.
	{"etcdraft-bug-no-hardstate.yaml", 5, []caught{{runner.Safety, "agreement"}, {runner.Safety, "one-leader-per-term"}}},
	// 100/100, from seed 1, all by agreement.
	{"etcdraft-bug-sync-on-tick.yaml", 5, []caught{{runner.Safety, "agreement"}, {runner.Safety, "history is not linearizable"}}},
	// 100/100, from seed 1, all by etcd-raft's own check, which strikes
	// before simrun's checkers see a second leader (a vote that left, then
	// was lost) or a lost commit; those are accepted too.
	{"etcdraft-bug-send-before-persist.yaml", 10, []caught{{runner.ProtocolCrash, lostLogPanic},
		{runner.Safety, "one-leader-per-term"}, {runner.Safety, "agreement"}, {runner.Safety, "history is not linearizable"}}},
	// 47/100, from seed 1, all by one-leader-per-term.
	{"etcdraft-bug-one-hardstate-copy.yaml", 10, []caught{{runner.Safety, "one-leader-per-term"}}},
	// 97/100, from seed 1, all by linearizable.
	{"etcdraft-bug-local-reads.yaml", 5, []caught{{runner.Safety, "history is not linearizable"}}},
	// 100/100, from seed 1, all by liveness: the clients wait for good.
	{"etcdraft-bug-no-duplicate-reply.yaml", 3, []caught{{runner.Liveness, "still waiting for their final operation"}}},
	// 91/100, from seed 1, all by durability (a restarted server halts on a
	// log that ends below the commit index it recovered, on a disk no fault
	// corrupted); agreement catches it where a stale entry is applied as
	// committed instead (2 of 100 seeds in an earlier measure).
	{"etcdraft-bug-hardstate-before-entries.yaml", 5, []caught{{runner.Safety, "durability"}, {runner.Safety, "agreement"}}},
	// 98/100, from seed 2, all by etcd-raft's own check: the commit index
	// it recovered is past the log the bug cut short.
	{"etcdraft-bug-corrupt-as-torn.yaml", 5, []caught{{runner.ProtocolCrash, "is out of range"}, {runner.Safety, "agreement"}}},
}

// TestPlantedBugsAreCaught: a bounded sweep of each bug scenario must fail
// in one of the expected ways, and the failing seed replays to the same
// trace. The test fails if simrun (or etcd-raft's own checks) goes blind to
// an integrator bug.
func TestPlantedBugsAreCaught(t *testing.T) {
	for _, b := range plantedBugs {
		t.Run(b.file, func(t *testing.T) {
			sc := load(t, filepath.Join("bugs", b.file), 0)
			var failing *runner.Report
			for seed := uint64(1); seed <= b.maxSeeds && failing == nil; seed++ {
				if rep := runSeed(t, sc, seed); rep.Class.Failed() {
					failing = rep
				}
			}
			require.NotNil(t, failing, "no failure in %d seeds: the bug went unnoticed", b.maxSeeds)
			require.True(t, caughtBy(failing, b.by), "seed %d failed another way: %s: %s", failing.Seed, failing.Class, failing.Reason)
			replay := runSeed(t, sc, failing.Seed)
			require.Equal(t, failing.Hash, replay.Hash, "the failing seed must replay")
			require.Equal(t, failing.Reason, replay.Reason)
			t.Logf("seed %d: %s: %s", failing.Seed, failing.Class, failing.Reason)
		})
	}
}

func caughtBy(rep *runner.Report, by []caught) bool {
	for _, c := range by {
		if rep.Class == c.class && strings.Contains(rep.Reason, c.reason) {
			return true
		}
	}
	return false
}

// TestBugScenariosPassWithoutTheBug: the same faults over the same seeds
// against the correct adapter pass, so the failures above are the bugs', not
// the scenarios'.
func TestBugScenariosPassWithoutTheBug(t *testing.T) {
	for _, b := range plantedBugs {
		t.Run(b.file, func(t *testing.T) {
			sc := withoutBugs(t, filepath.Join("bugs", b.file))
			for seed := uint64(1); seed <= min(b.maxSeeds, seeds(b.maxSeeds, 3)); seed++ {
				rep := runSeed(t, sc, seed)
				require.Equal(t, runner.Pass, rep.Class, "seed %d: %s", seed, rep.Reason)
			}
		})
	}
}

// TestSendBeforePersistNeedsMidStepCrashes: without mid_step, the crashes
// of the send-before-persist scenario strike between steps, where the bug's
// sends and its sync have both happened, and every seed passes. It is the
// torn-step crash that exposes it.
func TestSendBeforePersistNeedsMidStepCrashes(t *testing.T) {
	sc := edited(t, filepath.Join("bugs", "etcdraft-bug-send-before-persist.yaml"), func(s string) string {
		return strings.ReplaceAll(s, " mid_step: true,", "")
	})
	for i, st := range sc.Faults {
		require.False(t, st.MidStep, "step %d still crashes mid-step", i)
	}
	for seed := uint64(1); seed <= seeds(10, 3); seed++ {
		rep := runSeed(t, sc, seed)
		require.Equal(t, runner.Pass, rep.Class, "seed %d: %s", seed, rep.Reason)
	}
}
