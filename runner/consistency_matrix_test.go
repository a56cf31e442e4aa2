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
var matrixChecks = []string{names.Linearizable, names.Sequential, names.ReadYourWrites, names.MonotonicReads}

// consistencyMatrix is the README's matrix: for each option of the raft
// scenario (the planted weaker-consistency option, and none), which checks
// it violates within matrixSeeds seeds (true) and which it passes on every
// one of them (false).
var consistencyMatrix = []struct {
	option string // "" is the correct protocol
	// calm drops the scenario's faults: clients then stay on the server
	// that first answered them (a follower's reads, then the leader once a
	// write redirects them there).
	calm  bool
	fails map[string]bool
}{
	{"", false, map[string]bool{}},
	{"stale-follower-reads", true, map[string]bool{names.Linearizable: true}},
	{"stale-follower-reads", false, map[string]bool{names.Linearizable: true, names.Sequential: true, names.ReadYourWrites: true, names.MonotonicReads: true}},
}

// TestConsistencyMatrix runs scenarios/bugs/raft-bug-stale-follower-reads.yaml
// with each option over seeds 1..matrixSeeds and checks the matrix: a
// violation where it says so (on some seed), a pass on every seed
// elsewhere (never a failure; an unknown verdict fails the test too), and
// that the README shows the same table.
func TestConsistencyMatrix(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "scenarios", "bugs", "raft-bug-stale-follower-reads.yaml"))
	require.NoError(t, err)
	var table []string
	for _, row := range consistencyMatrix {
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
		cells := []string{name}
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
		require.Contains(t, string(readme), line+"\n", "the README's matrix")
	}
}
