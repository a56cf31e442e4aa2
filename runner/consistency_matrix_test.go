package runner_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/checkers"
	"github.com/simrun/simrun/checkers/names"
	"github.com/simrun/simrun/registry"
	"github.com/simrun/simrun/scenarios"
)

// matrixSeeds bounds the seeds of each row of the consistency matrix.
const matrixSeeds = 20

// matrixChecks are the kv consistency checks, strongest first.
var matrixChecks = []string{names.Linearizable, names.Sequential, names.ReadYourWrites, names.MonotonicReads,
	names.MonotonicWrites, names.WritesFollowReads}

// consistencyMatrix is the README's matrix: for each planted
// weaker-consistency option of Raft, run on its scenario (and the same
// scenario with no option), which checks it violates within matrixSeeds
// seeds (true) and which it passes on every one of them (false).
var consistencyMatrix = []struct {
	scenario string // under scenarios/bugs
	option   string // "" is the correct protocol
	// calm drops the scenario's faults: clients then stay on the server
	// that first answered them (a follower's reads, then the leader once a
	// write redirects them there).
	calm  bool
	fails map[string]bool
}{
	{"raft-bug-stale-follower-reads.yaml", "", false, map[string]bool{}},
	{"raft-bug-stale-follower-reads.yaml", "stale-follower-reads", true, map[string]bool{names.Linearizable: true}},
	{"raft-bug-stale-follower-reads.yaml", "stale-follower-reads", false, map[string]bool{names.Linearizable: true,
		names.Sequential: true, names.ReadYourWrites: true, names.MonotonicReads: true}},
	{"raft-bug-leader-local-reads.yaml", "", false, map[string]bool{}},
	{"raft-bug-leader-local-reads.yaml", "leader-local-reads", false, map[string]bool{names.Linearizable: true}},
	{"raft-bug-follower-write-cache.yaml", "", false, map[string]bool{}},
	{"raft-bug-follower-write-cache.yaml", "follower-write-cache", false, map[string]bool{names.Linearizable: true,
		names.Sequential: true, names.ReadYourWrites: true, names.MonotonicReads: true, names.MonotonicWrites: true,
		names.WritesFollowReads: true}},
	// read_mode: lease in both rows: none is the correct lease.
	{"raft-bug-lease-no-drift-margin.yaml", "", false, map[string]bool{}},
	{"raft-bug-lease-no-drift-margin.yaml", "lease-no-drift-margin", false, map[string]bool{names.Linearizable: true}},
}

// TestConsistencyMatrix runs each row's scenario with its option over seeds
// 1..matrixSeeds and checks the matrix: a violation where it says so (on
// some seed), a pass on every seed elsewhere (never a failure; an unknown
// verdict fails the test too), and that the README shows the same table.
func TestConsistencyMatrix(t *testing.T) {
	t.Parallel() // one of the long runner tests: they overlap on a second core
	var table []string
	for _, row := range consistencyMatrix {
		data, err := os.ReadFile(filepath.Join("..", "scenarios", "bugs", row.scenario))
		require.NoError(t, err)
		text := regexp.MustCompile(`(?m)^  bugs: \[.*\]$`).ReplaceAll(data, []byte("  bugs: ["+row.option+"]"))
		name := "`" + row.option + "`"
		if row.option == "" {
			name = "none"
		}
		if row.calm {
			text = regexp.MustCompile(`(?m)^faults:\n(  - .*\n)+`).ReplaceAll(text, nil)
			name += ", no faults"
		}
		sc, err := scenarios.Parse("matrix.yaml", text)
		require.NoError(t, err)
		proto, err := registry.Resolve(sc)
		require.NoError(t, err)
		failed := map[string]int{}
		for seed := uint64(1); seed <= matrixSeeds; seed++ {
			rep := runSeed(t, sc, proto, seed)
			for _, c := range rep.Checks {
				switch c.Verdict {
				case checkers.Fail.String():
					failed[c.Name]++
				case checkers.Unknown.String():
					t.Errorf("option %q seed %d: %s unknown: %s", row.option, seed, c.Name, c.Detail)
				}
			}
		}
		cells := []string{"`" + strings.TrimSuffix(row.scenario, ".yaml") + "`", name}
		for _, check := range matrixChecks {
			n := failed[check]
			if n > 0 {
				cells = append(cells, fmt.Sprintf("violation (%d/%d)", n, matrixSeeds))
			} else {
				cells = append(cells, fmt.Sprintf("pass (0/%d)", matrixSeeds))
			}
			if row.fails[check] {
				require.Positive(t, n, "option %q: %s never failed in %d seeds", name, check, matrixSeeds)
			} else {
				require.Zero(t, n, "option %q: %s failed", name, check)
			}
		}
		table = append(table, "| "+strings.Join(cells, " | ")+" |")
	}
	t.Logf("\n%s", strings.Join(table, "\n"))
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	require.NoError(t, err)
	for _, line := range table {
		require.True(t, strings.Contains(string(readme), line+"\n"), "the README's matrix lacks the row\n%s", line)
	}
}
