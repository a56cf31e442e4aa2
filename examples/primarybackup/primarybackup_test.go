package primarybackup_test

import (
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/simrun/simrun/examples/primarybackup"
	"github.com/simrun/simrun/runner"
	"github.com/simrun/simrun/scenarios"
	"github.com/simrun/simrun/simtest"
)

// The tests a protocol of one's own starts with (docs/PROTOCOLS.md): a sweep
// of its scenario file, a property test over fault timelines rapid draws,
// and the determinism contract. Paths are relative to this package's
// directory, where go test runs.

// replay is how a failure message replays a seed, typed at the module root.
const replay = "go run ./examples/primarybackup/cmd/pbsim"

// TestCrashChurn sweeps the shipped scenario: any failing seed fails the
// test with its class, reason and the command that replays it.
func TestCrashChurn(t *testing.T) {
	seeds := uint64(16)
	if testing.Short() {
		seeds = 2
	}
	simtest.Sweep(t, "scenarios/crash-churn.yaml", simtest.Seeds(seeds),
		simtest.Protocols(primarybackup.Protocol()), simtest.ReplayWith(replay))
}

// TestSurvivesRandomFaultTimelines is the property test: whatever crashes,
// pauses, partitions, clogs, clock drift and lossy links rapid draws (a
// minority of servers down at once), every safety check holds and the
// cluster converges once the faults heal. A failure shrinks to a minimal
// timeline and prints it as a scenario file.
func TestSurvivesRandomFaultTimelines(t *testing.T) {
	if testing.Short() {
		t.Skip("a property test of 100 runs")
	}
	base, err := scenarios.ParseFile("scenarios/crash-churn.yaml")
	if err != nil {
		t.Fatal(err)
	}
	base.Duration = scenarios.Duration(3 * time.Second)
	rapid.Check(t, func(rt *rapid.T) {
		sc := simtest.DrawScenario(rt, base)
		seed := rapid.Uint64Range(1, 1<<32).Draw(rt, "seed")
		rep := simtest.Run(t, sc, seed, simtest.Protocols(primarybackup.Protocol()))
		if rep.Class == runner.Inconclusive {
			rt.Skipf("inconclusive (no verdict either way): %s", rep.Reason)
		}
		if rep.Class.Failed() {
			out, _ := sc.WithSeed(seed).Marshal()
			rt.Fatalf("%s: %s\nscenario:\n%s", rep.Class, rep.Reason, out)
		}
	})
}

// TestSameSeedSameTrace checks the determinism contract: each seed run
// twice gives one trace, and different seeds give different traces.
func TestSameSeedSameTrace(t *testing.T) {
	sc, err := scenarios.ParseFile("scenarios/crash-churn.yaml")
	if err != nil {
		t.Fatal(err)
	}
	simtest.RequireSameSeedSameTrace(t, sc, primarybackup.Protocol(), 3)
}
