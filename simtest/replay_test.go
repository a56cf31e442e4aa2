package simtest_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/simrun/simrun/internal/flaky"
	"github.com/simrun/simrun/registry"
	"github.com/simrun/simrun/runner"
	"github.com/simrun/simrun/simtest"
)

// TestOwnProtocolFailureOffersOnlyTheGoTestReplay: a failing seed of a
// protocol passed with simtest.Protocols is replayed by the go test line
// alone: simrun's own binary does not know the protocol, so a "go run
// .../cmd/simrun run" line would only fail with an unknown protocol.
func TestOwnProtocolFailureOffersOnlyTheGoTestReplay(t *testing.T) {
	errors := sweepBroken(t)
	if len(errors) != 1 {
		t.Fatalf("want the crash reported once, got %q", errors)
	}
	msg := errors[0]
	if contains(msg, simtest.DefaultReplay) || contains(msg, " run ") || contains(msg, "--seed") ||
		!contains(msg, "  replay: SIMRUN_SEED=1 go test -run '^TestOwnProtocolFailureOffersOnlyTheGoTestReplay$'") {
		t.Fatalf("want only the go test replay:\n%s", msg)
	}
}

// TestUnknownProtocolWithOwnProtocolsHasNoProtocolsHint: once the test
// passes protocols of its own with simtest.Protocols, a scenario naming a
// protocol none of them is (a typo) is refused without the hint to pass it
// with simtest.Protocols, which the test already does and which would send
// the user the wrong way.
func TestUnknownProtocolWithOwnProtocolsHasNoProtocolsHint(t *testing.T) {
	raft, _ := registry.Lookup("raft")
	mine := filepath.Join(t.TempDir(), "mine.yaml")
	if err := os.WriteFile(mine, []byte("name: mine\nprotocol: mien\nnodes: 3\nduration: 1s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	msg := sweepFatal(t, mine, simtest.Seeds(1), simtest.Protocols(flaky.Protocol("mine", raft)))
	if !contains(msg, `unknown protocol "mien"`) || contains(msg, "simtest.Protocols") {
		t.Fatalf("want the protocol refused without the simtest.Protocols hint, got %q", msg)
	}
}

// TestReplayedSeedIsCheckedForDeterminism: SIMRUN_SEED replays one seed of
// a sweep, and that seed is run twice like the first seed of any sweep, so a
// protocol that depends on the state of the process fails the replay as
// nondeterministic instead of passing it, whatever the test's first seed.
func TestReplayedSeedIsCheckedForDeterminism(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flaky.yaml")
	if err := os.WriteFile(path, []byte("protocol: flaky\nnodes: 3\nduration: 1s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	raft, _ := registry.Lookup("raft")
	t.Setenv(simtest.EnvSeed, "7")
	ft := &fakeT{TB: t}
	reps := simtest.Sweep(ft, path, simtest.Seeds(20), simtest.Protocols(flaky.Protocol("flaky", raft)))
	if len(reps) != 1 || reps[0].Seed != 7 || reps[0].Class != runner.Nondeterministic || len(ft.errors) != 1 {
		t.Fatalf("want seed 7 alone, nondeterministic, got %v %q", reps, ft.errors)
	}
}
