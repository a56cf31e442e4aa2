package simtest_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/simrun/simrun/examples/primarybackup"
	"github.com/simrun/simrun/internal/flaky"
	"github.com/simrun/simrun/registry"
	"github.com/simrun/simrun/runner"
	"github.com/simrun/simrun/scenarios"
	"github.com/simrun/simrun/simtest"
)

func shorter(d time.Duration) simtest.Option {
	return simtest.Edit(func(sc *scenarios.Scenario) { sc.Duration = scenarios.Duration(d) })
}

// TestShippedScenariosWithSimtest is how a user's test sweeps a scenario.
func TestShippedScenariosWithSimtest(t *testing.T) {
	for _, name := range []string{"raft-leader-isolation", "paxos-crash-churn"} {
		t.Run(name, func(t *testing.T) {
			reps := simtest.Sweep(t, "../scenarios/"+name+".yaml", simtest.Seeds(3))
			if len(reps) != 3 {
				t.Fatalf("got %d reports", len(reps))
			}
		})
	}
}

// TestFailureMessageHasReplay: a failing seed's message carries both replay
// commands; the planted bug makes the sweep fail, seen through a fake T.
func TestFailureMessageHasReplay(t *testing.T) {
	ft := &fakeT{TB: t}
	reps := simtest.Sweep(ft, "../scenarios/bugs/raft-bug-ack-before-sync.yaml", simtest.Seeds(3), simtest.Parallel(1))
	if len(ft.errors) == 0 {
		t.Fatal("the planted bug was not reported")
	}
	// Both lines as typed at the module root, where the test's package is
	// ./simtest and the scenario scenarios/bugs/...
	want := "replay: go run github.com/simrun/simrun/cmd/simrun run scenarios/bugs/raft-bug-ack-before-sync.yaml --seed 1\n" +
		"  or:     SIMRUN_SEED=1 go test -run '^TestFailureMessageHasReplay$' ./simtest\n  (from the module root)"
	if !contains(ft.errors[0], want) {
		t.Fatalf("message lacks the replay commands:\n%s", ft.errors[0])
	}
	if reps[0].Class != runner.Safety {
		t.Fatalf("class %s", reps[0].Class)
	}
}

func TestEnvironmentReplaysOneSeed(t *testing.T) {
	t.Setenv(simtest.EnvSeed, "7")
	reps := simtest.Sweep(t, "../scenarios/raft-calm.yaml", simtest.Seeds(50), shorter(2*time.Second))
	if len(reps) != 1 || reps[0].Seed != 7 {
		t.Fatalf("want only seed 7, got %d reports", len(reps))
	}
}

// TestRaftSurvivesRandomFaultTimelines is the property test: for any fault
// timeline and workload rapid draws, Raft keeps every safety check and
// converges in the liveness phase. A failure shrinks to a minimal timeline.
func TestRaftSurvivesRandomFaultTimelines(t *testing.T) {
	base, err := scenarios.ParseFile("../scenarios/raft-calm.yaml")
	if err != nil {
		t.Fatal(err)
	}
	base.Duration = scenarios.Duration(4 * time.Second)
	base.Checks = append(base.Checks, scenarios.CheckLiveness)
	base.Liveness = scenarios.Liveness{Within: scenarios.Duration(10 * time.Second), Heal: scenarios.HealAll}
	rapid.Check(t, func(rt *rapid.T) {
		sc := simtest.DrawScenario(rt, base)
		seed := rapid.Uint64Range(1, 1<<32).Draw(rt, "seed")
		rep := simtest.Run(t, sc, seed)
		if rep.Class == runner.Inconclusive {
			// The history check ran out of its budget (a long single-key
			// history): no verdict about Raft either way, so this draw
			// proves nothing.
			rt.Skipf("inconclusive: %s", rep.Reason)
		}
		if rep.Class == runner.Vacuous {
			// The timeline kept a majority down or apart for the whole run
			// (a leader paused every 10ms, halves split for seconds): the
			// checks had nothing to judge, which says nothing about Raft.
			rt.Skipf("vacuous: %s", rep.Reason)
		}
		if rep.Class.Failed() {
			out, _ := sc.WithSeed(seed).Marshal()
			rt.Fatalf("%s: %s\nscenario:\n%s", rep.Class, rep.Reason, out)
		}
	})
}

type fakeT struct {
	testing.TB
	errors []string
}

func (f *fakeT) Errorf(format string, args ...any) {
	f.errors = append(f.errors, sprintf(format, args...))
}

// cancelledT is a test whose context is cancelled after a while, as Ctrl-C
// or a test's deadline would.
type cancelledT struct {
	testing.TB
	ctx context.Context
}

func (c cancelledT) Context() context.Context { return c.ctx }

// TestHugeSeedCountFromEnvironment: SIMRUN_SEEDS of any size starts at
// once, allocating nothing per seed, and stops with the test's context,
// returning the seeds that ran, in order.
func TestHugeSeedCountFromEnvironment(t *testing.T) {
	t.Setenv(simtest.EnvSeeds, "99999999999")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	reps := simtest.Sweep(cancelledT{TB: t, ctx: ctx}, "../scenarios/raft-calm.yaml", shorter(time.Second), simtest.Parallel(1))
	if took := time.Since(start); took > 20*time.Second {
		t.Fatalf("the sweep took %v to stop", took)
	}
	if len(reps) == 0 {
		t.Fatal("no seed ran before the cancel")
	}
	for i, rep := range reps {
		if rep.Seed != uint64(i+1) {
			t.Fatalf("report %d is seed %d", i, rep.Seed)
		}
	}
}

// TestZeroSeedsIsRefused: a sweep of no seed would pass without running
// anything, whether a test asks for it or SIMRUN_SEEDS=0 does.
func TestZeroSeedsIsRefused(t *testing.T) {
	for _, env := range []string{"", "0"} {
		t.Setenv(simtest.EnvSeeds, env)
		ft := &fatalT{TB: t}
		done := make(chan struct{})
		go func() { // fatalT's Fatalf ends this goroutine, as testing.T's does
			defer close(done)
			simtest.Sweep(ft, "../scenarios/raft-calm.yaml", simtest.Seeds(0), simtest.Parallel(1))
		}()
		<-done
		if !contains(ft.fatal, "0 seeds: a sweep of none passes without running anything") {
			t.Fatalf("SIMRUN_SEEDS=%q: want 0 seeds refused, got %q", env, ft.fatal)
		}
	}
}

// TestEditedScenarioOffersOnlyTheGoTestReplay: after an Edit, a replay line
// naming the file would run the unedited scenario: only the go test line,
// which applies the Edit, is offered.
func TestEditedScenarioOffersOnlyTheGoTestReplay(t *testing.T) {
	ft := &fakeT{TB: t}
	simtest.Sweep(ft, "../scenarios/bugs/raft-bug-ack-before-sync.yaml", simtest.Seeds(1), simtest.Parallel(1),
		simtest.Edit(func(*scenarios.Scenario) {})) // even an Edit that changes nothing
	if len(ft.errors) == 0 {
		t.Fatal("the planted bug was not reported")
	}
	if contains(ft.errors[0], " run ../scenarios/") || !contains(ft.errors[0], "replay: SIMRUN_SEED=1 go test -run") {
		t.Fatalf("want only the go test replay:\n%s", ft.errors[0])
	}
}

// TestRequireCaught: a planted bug's scenario passes RequireCaught; the
// correct protocol on a calm scenario fails it, with the classes seen.
func TestRequireCaught(t *testing.T) {
	reps := simtest.RequireCaught(t, "../scenarios/bugs/raft-bug-ack-before-sync.yaml", simtest.Seeds(2), simtest.Parallel(1))
	if len(reps) != 2 || reps[0].Class != runner.Safety {
		t.Fatalf("want 2 reports, the first safety; got %d", len(reps))
	}
	ft := &fakeT{TB: t}
	simtest.RequireCaught(ft, "../scenarios/raft-calm.yaml", simtest.Seeds(2), shorter(2*time.Second))
	if len(ft.errors) != 1 || !contains(ft.errors[0], "no seed of 2 failed on the protocol (pass 2)") {
		t.Fatalf("want one error naming the classes, got %q", ft.errors)
	}
	// A bug that only the liveness phase sees is caught too.
	reps = simtest.RequireCaught(t, "../scenarios/bugs/raft-bug-no-append-retry.yaml", simtest.Seeds(1), simtest.Parallel(1))
	if reps[0].Class != runner.Liveness {
		t.Fatalf("want a liveness failure, got %s", reps[0].Class)
	}
}

// TestReplayNamesTheTopLevelTest: a failure in a subtest is replayed by
// running its top-level test: -run with a slash would need every level.
func TestReplayNamesTheTopLevelTest(t *testing.T) {
	t.Run("sub", func(t *testing.T) {
		ft := &fakeT{TB: t}
		simtest.Sweep(ft, "../scenarios/bugs/raft-bug-ack-before-sync.yaml", simtest.Seeds(1), simtest.Parallel(1))
		if len(ft.errors) == 0 {
			t.Fatal("the planted bug was not reported")
		}
		if !contains(ft.errors[0], "SIMRUN_SEED=1 go test -run '^TestReplayNamesTheTopLevelTest$'") {
			t.Fatalf("want the top-level test in the replay:\n%s", ft.errors[0])
		}
	})
}

// TestSameTraceForTwoSeedsIsReported: RequireSameSeedSameTrace fails when
// two seeds give one trace, which means the seed reaches nothing: a single
// primary with no clients draws no randomness at all.
func TestSameTraceForTwoSeedsIsReported(t *testing.T) {
	sc, err := scenarios.Parse("still.yaml", []byte("name: still\nprotocol: primary-backup\nnodes: 1\nduration: 1s\nworkload: {clients: 0}\nchecks: []\n"))
	if err != nil {
		t.Fatal(err)
	}
	ft := &fatalT{TB: t}
	done := make(chan struct{})
	go func() { // fatalT's Fatalf ends this goroutine, as testing.T's does
		defer close(done)
		simtest.RequireSameSeedSameTrace(ft, sc, primarybackup.Protocol(), 2)
	}()
	<-done
	if !contains(ft.fatal, "seeds 1 and 2 gave the same trace hash") {
		t.Fatalf("want the two seeds reported, got %q", ft.fatal)
	}
}

// TestFailureMessageKeepsTheReasonsFirstLine: a reason of several lines (a
// Build's panic with its stack) is cut to its first in the message.
func TestFailureMessageKeepsTheReasonsFirstLine(t *testing.T) {
	errors := sweepBroken(t)
	if len(errors) != 1 || !contains(errors[0], "seed 1: crash: protocol broken: Build panicked: broken: no servers\n") ||
		contains(errors[0], "goroutine") {
		t.Fatalf("want the reason's first line only, got %q", errors)
	}
}

// TestSweepChecksDeterminism: a sweep runs its first seed twice unless told
// otherwise, so a protocol that depends on the state of the process fails
// its first sweep as nondeterministic; CheckDeterminism(0) runs none twice.
func TestSweepChecksDeterminism(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flaky.yaml")
	if err := os.WriteFile(path, []byte("protocol: flaky\nnodes: 3\nduration: 1s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	raft, _ := registry.Lookup("raft")
	proto := simtest.Protocols(flaky.Protocol("flaky", raft))
	ft := &fakeT{TB: t}
	reps := simtest.Sweep(ft, path, simtest.Seeds(3), proto)
	if len(reps) != 3 || reps[0].Class != runner.Nondeterministic || reps[1].Class.Failed() || len(ft.errors) != 1 {
		t.Fatalf("want seed 1 alone nondeterministic, got %v %q", reps, ft.errors)
	}
	ft = &fakeT{TB: t}
	reps = simtest.Sweep(ft, path, simtest.Seeds(3), proto, simtest.CheckDeterminism(0))
	if len(reps) != 3 || reps[0].Class.Failed() || len(ft.errors) != 0 {
		t.Fatalf("want no seed run twice, got %v %q", reps[0].Class, ft.errors)
	}
}

// sweepBroken sweeps one seed of a protocol of the test's own whose Build
// panics, and returns the errors it reported.
func sweepBroken(t *testing.T) []string {
	path, broken := brokenProtocol(t)
	ft := &fakeT{TB: t}
	simtest.Sweep(ft, path, simtest.Seeds(1), broken)
	return ft.errors
}

// brokenProtocol writes a scenario of a protocol of the test's own whose
// Build panics, and returns its path and the option that makes it known.
func brokenProtocol(t *testing.T) (string, simtest.Option) {
	broken := runner.Protocol{Name: "broken", Build: func(runner.Cluster) (runner.Servers, error) {
		panic("broken: no servers")
	}}
	path := filepath.Join(t.TempDir(), "broken.yaml")
	if err := os.WriteFile(path, []byte("protocol: broken\nnodes: 3\nduration: 1s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, simtest.Protocols(broken)
}

// TestNondeterministicSeedReplaysTwice: the replay line of a seed found
// nondeterministic runs it twice (--check-determinism); run once, it would
// pass, and the message would send its reader nowhere.
func TestNondeterministicSeedReplaysTwice(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flaky.yaml")
	if err := os.WriteFile(path, []byte("protocol: flaky\nnodes: 3\nduration: 1s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	raft, _ := registry.Lookup("raft")
	ft := &fakeT{TB: t}
	simtest.Sweep(ft, path, simtest.Seeds(1), simtest.Protocols(flaky.Protocol("flaky", raft)), simtest.ReplayWith("go run ./cmd/mysim"))
	if len(ft.errors) != 1 || !contains(ft.errors[0], " --seed 1 --check-determinism\n") {
		t.Fatalf("want the replay line to run the seed twice, got %q", ft.errors)
	}
}

// TestRequireCaughtIsNotABuildThatPanics: a planted bug whose Build panics
// on every seed runs no world and catches nothing, though each seed's
// report is a protocol crash.
func TestRequireCaughtIsNotABuildThatPanics(t *testing.T) {
	path, broken := brokenProtocol(t)
	ft := &fakeT{TB: t}
	simtest.RequireCaught(ft, path, simtest.Seeds(2), broken)
	if !slices.ContainsFunc(ft.errors, func(e string) bool { return contains(e, "no seed of 2 failed on the protocol") }) {
		t.Fatalf("want the sweep not caught, got %q", ft.errors)
	}
}
