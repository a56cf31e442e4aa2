package simtest_test

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/simrun/simrun/scenarios"
	"github.com/simrun/simrun/simtest"
)

// fatalT records a Fatalf and stops its goroutine, as testing.T does.
type fatalT struct {
	testing.TB
	fatal string
}

func (f *fatalT) Fatalf(format string, args ...any) {
	f.fatal = sprintf(format, args...)
	runtime.Goexit()
}

// sweepFatal runs simtest.Sweep with a fatalT and returns its fatal message.
func sweepFatal(t *testing.T, path string, opts ...simtest.Option) string {
	ft := &fatalT{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		simtest.Sweep(ft, path, opts...)
	}()
	<-done
	return ft.fatal
}

// TestBadSweepInputsFailTheTest: an Edit that leaves the scenario invalid,
// or a seed range past the largest seed, fails the test before any seed runs.
func TestBadSweepInputsFailTheTest(t *testing.T) {
	msg := sweepFatal(t, "../scenarios/raft-calm.yaml", simtest.Seeds(1),
		simtest.Edit(func(sc *scenarios.Scenario) { sc.Nodes = 0 }))
	if !contains(msg, "simtest: after Edit: ") || !contains(msg, "nodes: 0 is not in [1, 1000]") {
		t.Fatalf("want the edit refused, got %q", msg)
	}
	t.Setenv(simtest.EnvFrom, "18446744073709551615")
	t.Setenv(simtest.EnvSeeds, "2")
	msg = sweepFatal(t, "../scenarios/raft-calm.yaml")
	if msg != "simtest: a range of 2 from seed 18446744073709551615: a sweep's last seed is 18446744073709551614 at the most (SIMRUN_SEED replays any one seed)" {
		t.Fatalf("want the range refused, got %q", msg)
	}
}

// TestProtocolOptionsRefusedFailOnce: options the protocol refuses fail the
// test once, before any seed runs, not once per seed.
func TestProtocolOptionsRefusedFailOnce(t *testing.T) {
	msg := sweepFatal(t, "../scenarios/raft-calm.yaml", simtest.Seeds(20),
		simtest.Edit(func(sc *scenarios.Scenario) { sc.ProtocolOptions = map[string]any{"heartbeat_interva": "20ms"} }))
	if !contains(msg, "heartbeat_interva") || contains(msg, "seed ") {
		t.Fatalf("want the option refused once, got %q", msg)
	}
}

// TestMistakesOfAFirstSweepSayTheFix: a scenario path written as from the
// module root names the directory it is read from, and a protocol of the
// user's own that was not passed names the option that passes it.
func TestMistakesOfAFirstSweepSayTheFix(t *testing.T) {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	msg := sweepFatal(t, "scenarios/raft-calm.yaml", simtest.Seeds(1))
	want := "a scenario's path is relative to the test's package directory, " + dir + ", where go test runs it"
	if !contains(msg, "scenarios/raft-calm.yaml") || !contains(msg, want) {
		t.Fatalf("want the directory named, got %q", msg)
	}
	mine := filepath.Join(t.TempDir(), "mine.yaml")
	if err := os.WriteFile(mine, []byte("name: mine\nprotocol: mine\nnodes: 3\nduration: 1s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	msg = sweepFatal(t, mine, simtest.Seeds(1))
	if !contains(msg, `unknown protocol "mine"`) || !contains(msg, "passed with simtest.Protocols") {
		t.Fatalf("want simtest.Protocols named, got %q", msg)
	}
}

// TestNegativeCheckDeterminismIsRefused: CheckDeterminism(-1) would run no
// seed twice without a word, as the command line refuses
// --check-determinism=-1.
func TestNegativeCheckDeterminismIsRefused(t *testing.T) {
	msg := sweepFatal(t, "../scenarios/raft-calm.yaml", simtest.Seeds(1), simtest.CheckDeterminism(-1))
	if msg != "simtest: CheckDeterminism(-1): must not be negative (0 runs no seed twice)" {
		t.Fatalf("want the count refused, got %q", msg)
	}
}
