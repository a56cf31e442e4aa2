package runner_test

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/simrun/simrun/registry"
	"github.com/simrun/simrun/runner"
	"github.com/simrun/simrun/scenarios"
)

// Golden trace hashes pin what a seed means. testdata/golden-hashes.txt holds
// the trace hash of every shipped scenario (scenarios/*.yaml and
// scenarios/bugs/*.yaml) for a few seeds, as written and, for a scenario
// without a swarm key, with --swarm all. TestGoldenHashes reruns them all and
// fails on any difference, so it catches two things: a platform that runs a
// seed differently (CI runs it on amd64, amd64 v3, 386 and arm64, where float
// fusion, math library assembly and the width of int differ), and a change
// that moves what a seed means without saying so.
//
// A change to what a seed means is an explicit, reviewed update. When a
// change is meant to alter runs (a new draw, a new swarm kind, a kernel
// change that the trace shows), rewrite the table on one machine and commit
// it with the change, so that the diff shows which runs moved:
//
//	go test ./runner -run TestGoldenHashes -update
//
// -short checks a subset (one seed, every scenario under --swarm all, the
// swarm scenarios as written), for slow targets such as an emulated arm64.
var update = flag.Bool("update", false, "rewrite testdata/golden-hashes.txt from this build's runs")

const goldenFile = "testdata/golden-hashes.txt"

// goldenSeeds are the seeds the table holds; -short runs the first only.
var goldenSeeds = []uint64{1, 2, 3}

// swarmAsWritten marks a row run as the scenario file says; "all" is a row
// run with --swarm all.
const swarmAsWritten = "-"

// goldenCase is one row of the table without its hash.
type goldenCase struct {
	file  string // relative to the repository, e.g. scenarios/raft-calm.yaml
	seed  uint64
	swarm string // swarmAsWritten or "all"
}

func (c goldenCase) String() string { return fmt.Sprintf("%s %d %s", c.file, c.seed, c.swarm) }

func TestGoldenHashes(t *testing.T) {
	t.Parallel() // one of the long runner tests: they overlap on a second core
	if *update && testing.Short() {
		t.Fatal("-update rewrites the whole table: run it without -short")
	}
	cases := goldenCases(t)
	if testing.Short() {
		cases = slices.DeleteFunc(cases, func(c goldenCase) bool {
			return c.seed != goldenSeeds[0] || (c.swarm == swarmAsWritten && !hasSwarm(t, c.file))
		})
	}
	got := runGolden(t, cases)
	if *update {
		writeGolden(t, cases, got)
		return
	}
	want := readGolden(t)
	var moved []string
	for _, c := range cases {
		switch w, ok := want[c]; {
		case !ok:
			moved = append(moved, fmt.Sprintf("%v: not in the table (hash %s)", c, got[c]))
		case w != got[c]:
			moved = append(moved, fmt.Sprintf("%v: hash %s, golden %s", c, got[c], w))
		}
	}
	if !testing.Short() {
		for c := range want {
			if !slices.Contains(cases, c) {
				moved = append(moved, fmt.Sprintf("%v: in the table but not shipped", c))
			}
		}
	}
	if len(moved) > 0 {
		slices.Sort(moved)
		t.Fatalf("%d of %d golden runs differ (%s/%s):\n%s\n\nIf this build runs a seed differently on this platform, that is a determinism bug. "+
			"If the change is meant to change what seeds mean, update the table, go test ./runner -run TestGoldenHashes -update, "+
			"and commit %s with it for review.",
			len(moved), len(cases), runtime.GOOS, runtime.GOARCH, strings.Join(moved, "\n"), goldenFile)
	}
	t.Logf("%d golden runs match on %s/%s", len(cases), runtime.GOOS, runtime.GOARCH)
}

// goldenCases lists the rows for the shipped scenarios, sorted.
func goldenCases(t *testing.T) []goldenCase {
	t.Helper()
	var files []string
	for _, pattern := range []string{"*.yaml", "bugs/*.yaml"} {
		matches, err := filepath.Glob(filepath.Join("..", "scenarios", pattern))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, matches...)
	}
	if len(files) == 0 {
		t.Fatal("no shipped scenario found")
	}
	var cases []goldenCase
	for _, f := range files {
		rel := filepath.ToSlash(strings.TrimPrefix(f, ".."+string(filepath.Separator)))
		for _, seed := range goldenSeeds {
			cases = append(cases, goldenCase{rel, seed, swarmAsWritten})
			if !hasSwarm(t, rel) {
				cases = append(cases, goldenCase{rel, seed, "all"})
			}
		}
	}
	slices.SortFunc(cases, func(a, b goldenCase) int { return strings.Compare(a.String(), b.String()) })
	return cases
}

func hasSwarm(t *testing.T, file string) bool { return len(parseGolden(t, file).Swarm) > 0 }

func parseGolden(t *testing.T, file string) *scenarios.Scenario {
	t.Helper()
	sc, err := scenarios.ParseFile(filepath.Join("..", filepath.FromSlash(file)))
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// runGolden runs the cases, one world per core, and returns their trace
// hashes. The history check is left out: it never changes the trace.
func runGolden(t *testing.T, cases []goldenCase) map[goldenCase]string {
	t.Helper()
	var mu sync.Mutex
	got := map[goldenCase]string{}
	work := make(chan goldenCase)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for c := range work {
				hash, err := goldenRun(c)
				mu.Lock()
				if err != nil {
					t.Errorf("%v: %v", c, err)
				}
				got[c] = hash
				mu.Unlock()
			}
		})
	}
	for _, c := range cases {
		work <- c
	}
	close(work)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return got
}

func goldenRun(c goldenCase) (string, error) {
	sc, err := scenarios.ParseFile(filepath.Join("..", filepath.FromSlash(c.file)))
	if err != nil {
		return "", err
	}
	if c.swarm != swarmAsWritten {
		sc.Swarm = []string{c.swarm}
	}
	proto, err := registry.Resolve(sc)
	if err != nil {
		return "", err
	}
	rep, err := runner.Run(sc, proto, runner.Options{Seed: c.seed, SkipHistoryCheck: true})
	if err != nil {
		return "", err
	}
	return rep.Hash, nil
}

const goldenHeader = `# Golden trace hashes: scenario file, seed, swarm ("-" as written, "all" for
# --swarm all), trace hash. Checked by TestGoldenHashes on every CI target.
# A change to what a seed means is an explicit, reviewed update:
#   go test ./runner -run TestGoldenHashes -update
`

func readGolden(t *testing.T) map[goldenCase]string {
	t.Helper()
	f, err := os.Open(goldenFile)
	if err != nil {
		t.Fatalf("%v (create it with -update)", err)
	}
	defer f.Close()
	want := map[goldenCase]string{}
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		fields := strings.Fields(text)
		seed, err := strconv.ParseUint(fields[min(1, len(fields)-1)], 10, 64)
		if len(fields) != 4 || err != nil {
			t.Fatalf("%s:%d: want: file seed swarm hash", goldenFile, line)
		}
		want[goldenCase{fields[0], seed, fields[2]}] = fields[3]
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return want
}

func writeGolden(t *testing.T, cases []goldenCase, got map[goldenCase]string) {
	t.Helper()
	var b strings.Builder
	b.WriteString(goldenHeader)
	for _, c := range cases {
		fmt.Fprintf(&b, "%v %s\n", c, got[c])
	}
	if err := os.WriteFile(goldenFile, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %d golden hashes to %s", len(cases), goldenFile)
}
