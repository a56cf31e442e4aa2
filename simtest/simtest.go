package simtest

import (
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/simrun/simrun/internal/digestcheck"
	"github.com/simrun/simrun/registry"
	"github.com/simrun/simrun/runner"
	"github.com/simrun/simrun/scenarios"
	"github.com/simrun/simrun/sim"
)

// Environment variables that change a sweep without editing the test.
const (
	EnvSeed  = "SIMRUN_SEED"  // run only this seed (a replay)
	EnvSeeds = "SIMRUN_SEEDS" // run this many seeds instead of the test's count
	EnvFrom  = "SIMRUN_FROM"  // start at this seed instead of the test's first
)

// config is what the options set.
type config struct {
	from, seeds uint64
	parallel    int
	edit        func(*scenarios.Scenario)
	protocols   []runner.Protocol // besides the shipped ones
	replay      string            // the command that replays a seed; "" for the default
	recheck     int               // run every recheck-th seed twice (0: none)
}

// Option changes a sweep.
type Option func(*config)

// Seeds sets how many seeds the sweep runs (default 20).
func Seeds(n uint64) Option { return func(c *config) { c.seeds = n } }

// From sets the first seed (default 1).
func From(seed uint64) Option { return func(c *config) { c.from = seed } }

// Parallel sets how many worlds run at once (default one per CPU).
func Parallel(p int) Option { return func(c *config) { c.parallel = p } }

// Edit changes the scenario after it is read (a shorter duration, another
// option) before any seed runs. A failure then offers only the go test line
// as its replay: the file alone is not the scenario that ran.
func Edit(fn func(*scenarios.Scenario)) Option { return func(c *config) { c.edit = fn } }

// Protocols makes the user's own protocols known to the sweep, besides the
// shipped ones, so that a scenario file can name them. A protocol that is
// incomplete or reuses a name fails the test before any seed runs.
func Protocols(ps ...runner.Protocol) Option {
	return func(c *config) { c.protocols = append(c.protocols, ps...) }
}

// CheckDeterminism runs every nth seed of the sweep, its first included,
// twice and compares the trace hashes: a mismatch fails the seed as
// nondeterministic (runner.Nondeterministic). The default is every 100th,
// so that every sweep runs at least its first seed twice; 0 runs none twice.
func CheckDeterminism(n int) Option { return func(c *config) { c.recheck = n } }

// ReplayWith sets the command a failure message offers to replay a seed, as
// it is typed at the root of the test's module: "go run ./cmd/mysim" for a
// user's own binary (cli.Program). Without it, a sweep of shipped protocols
// offers simrun itself, and one with Protocols offers only the go test line.
func ReplayWith(command string) Option { return func(c *config) { c.replay = command } }

// DefaultReplay replays a seed of a shipped protocol from any package of a
// module that requires simrun.
const DefaultReplay = "go run github.com/simrun/simrun/cmd/simrun"

func newConfig(opts []Option) config {
	c := config{from: 1, seeds: 20, recheck: runner.DefaultRecheckEvery}
	for _, o := range opts {
		o(&c)
	}
	if c.replay == "" && len(c.protocols) == 0 {
		c.replay = DefaultReplay
	}
	return c
}

// resolve finds the scenario's protocol among the shipped ones and those
// given with Protocols.
func (c config) resolve(sc *scenarios.Scenario) (runner.Protocol, error) {
	set, err := registry.New(append(registry.Shipped(), c.protocols...)...)
	if err != nil {
		return runner.Protocol{}, err
	}
	p, err := set.Resolve(sc)
	if err != nil && len(c.protocols) == 0 {
		err = fmt.Errorf("%w; a protocol of your own is known once passed with simtest.Protocols", err)
	}
	return p, err
}

// Sweep runs the scenario file over seeds and fails t once per failing seed,
// with its class, reason and replay commands. It returns the reports, sorted
// by seed.
func Sweep(t testing.TB, path string, opts ...Option) []*runner.Report {
	t.Helper()
	c := newConfig(opts)
	out := sweep(t, path, c)
	for _, rep := range out {
		if rep.Class.Failed() {
			t.Errorf("%s", failureMessage(t, c.binaryReplay(), path, rep))
		}
	}
	return out
}

// RequireCaught runs the scenario file over seeds, as Sweep does, and fails
// t unless some seed fails with a verdict on the protocol (safety,
// liveness or a protocol crash; not vacuous, inconclusive or
// nondeterministic): for a planted bug, or a scenario written to catch a
// known one, in CI. It returns the reports, sorted by seed, to check more
// (which check failed, how often).
func RequireCaught(t testing.TB, path string, opts ...Option) []*runner.Report {
	t.Helper()
	out := sweep(t, path, newConfig(opts))
	caught := 0
	var classes []runner.Class // in order of first appearance
	counts := map[runner.Class]int{}
	for _, rep := range out {
		if counts[rep.Class] == 0 {
			classes = append(classes, rep.Class)
		}
		counts[rep.Class]++
		switch {
		case rep.Class == runner.Safety, rep.Class == runner.Liveness:
			caught++
		case rep.Class == runner.ProtocolCrash && rep.Hash != "":
			// A crash of the protocol's handlers. One without a trace is a
			// Build that panicked (or a panic outside the protocol): no
			// world ran, so nothing was caught.
			caught++
		}
	}
	if caught == 0 {
		var seen []string
		for _, c := range classes {
			seen = append(seen, fmt.Sprintf("%s %d", c, counts[c]))
		}
		t.Errorf("simtest: %s: no seed of %d failed on the protocol (%s)", path, len(out), strings.Join(seen, ", "))
	}
	return out
}

// sweep runs the seeds and returns their reports, sorted by seed; a seed
// that could not run fails t.
func sweep(t testing.TB, path string, c config) []*runner.Report {
	t.Helper()
	if c.recheck < 0 {
		t.Fatalf("simtest: CheckDeterminism(%d): must not be negative (0 runs no seed twice)", c.recheck)
	}
	seeds, first, err := seedsFromEnv(c)
	if err != nil {
		t.Fatalf("simtest: %v", err)
	}
	load := func() (*scenarios.Scenario, error) { return loadScenario(path, c.edit) }
	sc, err := load()
	if errors.Is(err, fs.ErrNotExist) {
		dir, _ := os.Getwd()
		t.Fatalf("simtest: %v: a scenario's path is relative to the test's package directory, %s, where go test runs it", err, dir)
	}
	if err != nil {
		t.Fatalf("simtest: %v", err)
	}
	proto, err := c.resolve(sc)
	if err != nil {
		t.Fatalf("simtest: %v", err)
	}
	// Protocol options the protocol refuses are the scenario's mistake, not
	// a seed's: said once, as the CLI's sweep says it. A Build that panics
	// is left to the seeds, whose reports say it with a replay line.
	if err := runner.Check(sc, proto); err != nil {
		if _, broken := runner.AsBuildError(err); !broken {
			t.Fatalf("simtest: %v", err)
		}
	}
	reports := map[uint64]*runner.Report{}
	failed := map[uint64]error{}
	so := runner.SweepOptions{Load: load, Protocol: proto, Seeds: seeds, Parallel: c.parallel,
		RecheckEvery: c.recheck, RecheckFrom: first}
	_ = runner.Sweep(t.Context(), so, func(r runner.SweepResult) {
		if r.Err != nil {
			failed[r.Seed] = r.Err
			return
		}
		reports[r.Seed] = r.Report
	})
	// Reported here, in seed order, so that the test's line is the one named.
	for _, s := range slices.Sorted(maps.Keys(failed)) {
		t.Errorf("simtest: seed %d: %v", s, failed[s])
	}
	out := make([]*runner.Report, 0, len(reports))
	for _, s := range slices.Sorted(maps.Keys(reports)) {
		out = append(out, reports[s])
	}
	return out
}

// binaryReplay is the command that replays a seed from the scenario file,
// or "" if none can: an Edit changed the scenario, so a replay line naming
// only the file would run something else.
func (c config) binaryReplay() string {
	if c.edit != nil {
		return ""
	}
	return c.replay
}

// FailureMessage describes a failing seed of a shipped protocol with the
// commands that replay it.
func FailureMessage(t testing.TB, path string, rep *runner.Report) string {
	return failureMessage(t, DefaultReplay, path, rep)
}

// failureMessage describes a failing seed: the command line that replays it,
// if the binary that can is known, and always the go test line, both as
// typed at the root of the test's module (fromModuleRoot).
func failureMessage(t testing.TB, replay, path string, rep *runner.Report) string {
	scenario, pkg := fromModuleRoot(path)
	msg := fmt.Sprintf("seed %d: %s: %s\n", rep.Seed, rep.Class, firstLine(rep.Reason))
	if replay != "" {
		twice := "" // a nondeterministic seed shows only when it runs twice
		if rep.Class == runner.Nondeterministic {
			twice = " --check-determinism"
		}
		msg += fmt.Sprintf("  replay: %s run %s --seed %d%s\n  or:     ", replay, scenario, rep.Seed, twice)
	} else {
		msg += "  replay: "
	}
	msg += fmt.Sprintf("%s=%d go test -run '^%s$'", EnvSeed, rep.Seed, strings.SplitN(t.Name(), "/", 2)[0])
	if pkg == "" {
		return msg + "\n  (from the test's package directory)"
	}
	return msg + " " + pkg + "\n  (from the module root)"
}

// fromModuleRoot returns the scenario's path and the test's package as typed
// at the root of the module the test runs in, where "go test ./..." runs
// and where a user's binary is "go run ./cmd/mysim", so that the replay
// lines work there whichever package holds the test (go test runs it in
// that package's directory). Outside a module the path stays as the test
// gave it and pkg is empty: the lines are for the package directory.
func fromModuleRoot(path string) (scenario, pkg string) {
	dir, err := os.Getwd()
	if err != nil {
		return path, ""
	}
	root := dir
	for !fileExists(filepath.Join(root, "go.mod")) {
		parent := filepath.Dir(root)
		if parent == root {
			return path, ""
		}
		root = parent
	}
	abs := path
	if !filepath.IsAbs(path) {
		abs = filepath.Join(dir, path)
	}
	scenario, err = filepath.Rel(root, abs)
	if err != nil {
		return path, ""
	}
	pkg, err = filepath.Rel(root, dir)
	if err != nil {
		return path, ""
	}
	if pkg == "." {
		return filepath.ToSlash(scenario), "."
	}
	return filepath.ToSlash(scenario), "./" + filepath.ToSlash(pkg)
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// loadScenario reads and edits a scenario; an edit must leave it valid.
func loadScenario(path string, edit func(*scenarios.Scenario)) (*scenarios.Scenario, error) {
	sc, err := scenarios.ParseFile(path)
	if err != nil {
		return nil, err
	}
	if edit != nil {
		edit(sc)
		if err := sc.Validate(); err != nil {
			return nil, fmt.Errorf("after Edit: %w", err)
		}
	}
	return sc, nil
}

// seedsFromEnv gives the seeds to run: the test's range, unless the
// environment asks for one seed or another range. The range is lazy, so
// SIMRUN_SEEDS of any size starts at once.
func seedsFromEnv(c config) (seeds iter.Seq[uint64], first uint64, err error) {
	if v := os.Getenv(EnvSeed); v != "" {
		seed, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return nil, 0, fmt.Errorf("%s=%q is not a seed", EnvSeed, v)
		}
		return runner.SeedRange(seed, 1, 0, 1, nil), seed, nil
	}
	for _, e := range []struct {
		name string
		into *uint64
	}{{EnvSeeds, &c.seeds}, {EnvFrom, &c.from}} {
		if v := os.Getenv(e.name); v != "" {
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return nil, 0, fmt.Errorf("%s=%q is not a number", e.name, v)
			}
			*e.into = n
		}
	}
	switch {
	case c.seeds == 0:
		return nil, 0, fmt.Errorf("0 seeds: a sweep of none passes without running anything (Seeds or %s: at least 1)", EnvSeeds)
	case c.from+c.seeds < c.from: // a range ends before 2^64, so that its end is a number
		return nil, 0, fmt.Errorf("a range of %d from seed %d: a sweep's last seed is %d at the most (%s replays any one seed)",
			c.seeds, c.from, uint64(math.MaxUint64-1), EnvSeed)
	}
	return runner.SeedRange(c.from, c.seeds, 0, 1, nil), c.from, nil
}

// Run runs one seed of a scenario built or changed in code and returns its
// report; it fails t only if the run cannot be built.
// Options other than Protocols are ignored.
func Run(t testing.TB, sc *scenarios.Scenario, seed uint64, opts ...Option) *runner.Report {
	t.Helper()
	proto, err := newConfig(opts).resolve(sc)
	if err != nil {
		t.Fatalf("simtest: %v", err)
	}
	rep, err := runner.Run(sc, proto, runner.Options{Seed: seed})
	if err != nil {
		t.Fatalf("simtest: seed %d: %v", seed, err)
	}
	return rep
}

// RequireDigestsTellApart fails t if two of msgs that are sim.Digesters have
// different canonical lines (AppendTrace) but the same binary form
// (AppendDigest): the trace hash reads only the binary form, so a field it
// leaves out is one the determinism check cannot see. Give it variants of a
// message that each differ from the first in one field.
func RequireDigestsTellApart(t testing.TB, msgs ...sim.Message) {
	t.Helper()
	if err := digestcheck.Collision(msgs...); err != nil {
		t.Fatal(err)
	}
}
