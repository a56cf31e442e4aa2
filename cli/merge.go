package cli

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/simrun/simrun/internal/plural"
	"github.com/simrun/simrun/report"
	"github.com/simrun/simrun/runner"
)

const mergeLong = `Combine the results.jsonl files of several sweeps (the shards of one sweep
run on many machines, say) into one summary per scenario, as if one sweep had
run every seed.

Each argument is a results.jsonl file or a directory searched for them.
Results are kept apart by scenario version (the scenario_hash of each line):
versions of one scenario are summarized one by one, never mixed. Within one
version, a seed found twice with different trace hashes means two machines
ran the same seed differently: it is reported as nondeterministic, and a
determinism line counts the seeds found twice and those that differ (sweep
the same seeds on two platforms and merge them to check that a seed means
the same run on both). A definite
verdict wins over an inconclusive one (Porcupine ran out of time on one
machine only). Each replay line carries the flags its seed was judged with
(--swarm, a non-default --lin-timeout). Arguments that hold no result at all
are an error, not a summary of nothing, and so is a directory with no
results.jsonl below it (an empty results file, a shard stopped before its
first seed, is merged: the other shards' ranges count its seeds unfinished).

Each result stores the range its sweep was asked for (--from, --seeds,
--shard): seeds of those ranges with no result (a shard that never ran, was
cut short, or swept a shorter range) are counted on an "unfinished" line,
and a merge that found no failure then exits 1, as an interrupted sweep does.`

func (a *app) newMergeCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "merge RESULTS...",
		Short: "Summarize the results of several sweeps or shards together",
		Long:  mergeLong,
		Example: `  simrun merge shard-0 shard-1 shard-2 shard-3
  simrun merge results/*/raft-lossy/results.jsonl`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.merge(cmd.OutOrStdout(), args)
		},
	}
}

func (a *app) merge(stdout io.Writer, args []string) error {
	files, err := resultFiles(args)
	if err != nil {
		return err
	}
	tallies, err := readTallies(files)
	if err != nil {
		return err
	}
	if len(tallies) == 0 {
		// A summary of nothing must not pass: a mistyped argument would look
		// like a clean sweep.
		return badInput("no sweep results in %s: nothing to merge", strings.Join(files, ", "))
	}
	worst, unfinished := exitPass, 0
	for _, name := range scenarioNames(tallies) {
		hashes := versionsOf(tallies, name)
		if len(hashes) > 1 {
			fmt.Fprintf(stdout, "scenario %s: %d versions (hash %s): summarized apart\n", name, len(hashes), strings.Join(hashes, ", "))
		}
		for _, hash := range hashes {
			t := tallies[scenarioVersion{name, hash}]
			t.probes = a.declaredProbes(t)
			t.print(stdout, t.resultsLine(), a.command)
			if line := t.determinismLine(); line != "" {
				fmt.Fprintf(stdout, "determinism %s\n", line)
			}
			for _, line := range t.supersededLines() {
				fmt.Fprintf(stdout, "other       %s\n", line)
			}
			if line := t.unfinished(); line != "" {
				fmt.Fprintf(stdout, "unfinished  %s\n", line)
				unfinished++
			}
			worst = graverCode(worst, t.exitCode())
		}
	}
	switch {
	case worst != exitPass:
		return &exitError{code: worst}
	case unfinished > 0:
		// Like an interrupted sweep: what ran passed, but not all of it ran.
		return &exitError{code: exitInternal, msg: fmt.Sprintf("seeds without a result in %s: run their missing shards (the same sweep command continues a cut-short one), then merge again", plural.Of(unfinished, "scenario version"))}
	}
	return nil
}

// resultsLine says where merge read a version's results: the file, or how
// many files (the shards of a sweep, say).
func (t *tally) resultsLine() string {
	if t.files == 1 {
		return t.path
	}
	return plural.Of(t.files, "file")
}

// determinismLine says how many seeds merge found run twice (two machines,
// two shards of one range, --check-determinism) and whether their trace
// hashes agreed: what a merge of runs on several platforms is for. "" where
// no seed ran twice.
func (t *tally) determinismLine() string {
	n := t.count(func(e entry) bool { return e.rechecked })
	if n == 0 {
		return ""
	}
	line := plural.Of(n, "seed") + " run twice and their trace hashes compared"
	if ps := t.platforms(); len(ps) > 1 {
		line += " (results from " + strings.Join(ps, ", ") + ")"
	}
	differ := t.count(func(e entry) bool { return e.rechecked && e.class == runner.Nondeterministic })
	if differ == 0 {
		return line + ": each agrees"
	}
	return fmt.Sprintf("%s: %d ran differently", line, differ)
}

// scenarioVersion is one version of one scenario: results of different versions
// judge different scenarios and are never mixed, even for the same seed.
type scenarioVersion struct{ name, hash string }

func scenarioNames(tallies map[scenarioVersion]*tally) []string {
	var names []string
	for v := range tallies {
		names = append(names, v.name)
	}
	slices.Sort(names)
	return slices.Compact(names)
}

func versionsOf(tallies map[scenarioVersion]*tally, name string) []string {
	var hashes []string
	for v := range tallies {
		if v.name == name {
			hashes = append(hashes, v.hash)
		}
	}
	slices.Sort(hashes)
	return hashes
}

// resultFiles expands the arguments into results.jsonl files, sorted.
func resultFiles(args []string) ([]string, error) {
	var files []string
	for _, arg := range args {
		info, err := os.Stat(arg)
		if err != nil {
			return nil, pathErr(arg, err)
		}
		if !info.IsDir() {
			files = append(files, arg)
			continue
		}
		found, err := report.FindResults(arg) // as report finds them
		if err != nil {
			return nil, internalErr(err)
		}
		if len(found) == 0 { // a mistyped directory among shards' must not go unseen
			return nil, badInput("no results.jsonl under %s", arg)
		}
		files = append(files, found...)
	}
	slices.Sort(files)
	files = slices.Compact(files)
	// One file named two ways (relative and absolute, a symlink, "./")
	// is read once: read twice, its seeds would pass for seeds run twice.
	var unique []string
	for _, f := range files {
		if !slices.ContainsFunc(unique, func(u string) bool { return sameFile(u, f) }) {
			unique = append(unique, f)
		}
	}
	return unique, nil
}

// readTallies reads the results files into one tally per scenario version.
func readTallies(files []string) (map[scenarioVersion]*tally, error) {
	tallies := map[scenarioVersion]*tally{}
	for i, f := range files {
		if err := readInto(f, int32(i), tallies); err != nil {
			return nil, err
		}
	}
	return tallies, nil
}

// readInto adds the results of one file, the file-th, to the tallies of
// their scenario versions: of each version, those of the file's latest
// build (its last line's), as the sweep that wrote the file counts them; a
// sweep continued with --resume after a rebuild leaves the earlier build's
// beside them, which are counted apart (tally.superseded). A line that is
// not a complete result is bad input naming the file and line; a last line
// cut short (an interrupted sweep) is skipped.
func readInto(path string, file int32, tallies map[scenarioVersion]*tally) error {
	latest := map[scenarioVersion]string{}
	last := 0 // the second pass reads no further: a sweep may append meanwhile
	err := readEach(path, func(line int, r result) {
		latest[scenarioVersion{r.Scenario, r.ScenarioHash}], last = r.Build, line
	})
	if err != nil {
		return err
	}
	return readEach(path, func(line int, r result) {
		if line > last {
			return
		}
		v := scenarioVersion{r.Scenario, r.ScenarioHash}
		t, ok := tallies[v]
		if !ok {
			t = newTally(v.name, v.hash)
			tallies[v] = t
		}
		if r.Build != latest[v] {
			t.superseded[supersededBy{file: path, build: report.BuildName(r.Build), by: report.BuildName(latest[v])}]++
			return
		}
		if t.files == 0 || t.file != file {
			t.files++
		}
		t.file, t.path = file, path
		t.add(r)
	})
}

// readEach calls fn with every complete result of the file and its line.
func readEach(path string, fn func(line int, r result)) error {
	_, err := readResults(path, func(line int, r result) error {
		fn(line, r)
		return nil
	})
	return orBadInput(err)
}

// declaredProbes returns the probes the protocol of t's results declares,
// if this program knows it.
func (a *app) declaredProbes(t *tally) []runner.Named {
	if t.origin == nil {
		return nil
	}
	p, _ := a.protocols.Lookup(t.origin.Protocol)
	return p.Probes
}
