package cli

import (
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/simrun/simrun/report"
	"github.com/spf13/cobra"
)

const reportLong = `Write an HTML report (report.html) into DIR, one self-contained file that
opens offline in any browser.

DIR is either a failed run's artifacts directory (it holds report.json and
trace.jsonl, as "simrun run" and "simrun sweep" leave them), or a sweep's
--out directory (or one scenario's directory in it, holding results.jsonl,
or that results.jsonl itself),
or a directory holding the shards of one sweep (the --out of each shard
below it): the shards of a scenario version are shown as one, as merge
counts them, and every results line is checked as sweep and merge check it.

For a run, the page shows a space-time diagram of the messages around the
first violation (a lane per node, deliveries, drops and duplicates, crashes,
pauses, cut and clogged links, the violating event ringed; a time window and
filters by node and message kind), each server's role and term over the run,
the client operations on a timeline (with a link to Porcupine's view for a
linearizability failure) and latency percentiles per operation kind.

For a sweep, it shows each failure class with its rate and 95% confidence
intervals (Wilson, Clopper-Pearson), seeds per second, the slowest seeds, the
distributions of events, simulated and wall time across seeds, and a link to
each failure's own page (written first where missing).

Failing runs get their report.html with their other artifacts already; this
command is for sweeps and for artifacts written before reports existed.`

func (a *app) newReportCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "report DIR",
		Short: "Write an HTML report of a failed run's artifacts or of a sweep",
		Long:  reportLong,
		Example: `  simrun report simrun-out/raft-bug-ack-before-sync-seed1
  simrun report sweep-out`,
		Args: oneArg("a directory (a sweep's --out, or a run's artifacts) or a results.jsonl"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return writeReport(cmd.OutOrStdout(), args[0], a.command)
		},
	}
}

// writeReport tells a run's artifacts (report.json beside trace.jsonl) from
// a sweep directory and writes the matching page.
func writeReport(stdout io.Writer, dir, program string) error {
	info, err := os.Stat(dir)
	switch {
	case err != nil:
		return pathErr(dir, err)
	case !info.IsDir() && filepath.Base(dir) == report.ResultsFile:
		dir = filepath.Dir(dir) // a sweep's results file, as merge takes it: its scenario's directory
	case !info.IsDir():
		return badInput("%s: not a directory (report takes a failure's directory, a sweep's --out, or a results.jsonl)", dir)
	}
	var path string
	if isRunDir(dir) {
		path, err = report.WriteRun(dir)
	} else {
		path, err = writeSweepPage(stdout, dir, program)
	}
	if err != nil {
		return orBadInput(err)
	}
	fmt.Fprintf(stdout, "report      %s\n", path)
	return nil
}

// writeSweepPage writes the page of the sweep in dir, and says which
// scenario versions have seeds without a result, as the page does.
func writeSweepPage(stdout io.Writer, dir, program string) (string, error) {
	scs, err := sweepScenarios(dir, program)
	if err != nil {
		return "", err
	}
	for _, sc := range scs {
		if sc.Unfinished != "" {
			fmt.Fprintf(stdout, "unfinished  %s (scenario hash %s): %s\n", sc.Name, sc.Hash, sc.Unfinished)
		}
	}
	path, err := report.WriteSweep(dir, scs)
	for _, sc := range scs {
		for _, seed := range slices.Sorted(maps.Keys(sc.Unreadable)) {
			fmt.Fprintf(stdout, "unreadable  %s seed %d: %s (the page leaves its report out; the sweep command that wrote them writes them again)\n",
				sc.Name, seed, sc.Unreadable[seed])
		}
	}
	return path, err
}

// sweepScenarios reads a sweep directory's results files as merge reads
// them, with the same checks of every line and the same counting (the
// latest build of each file, shards combined, conflicts nondeterministic),
// so that the page shows what merge summarizes, version by version.
func sweepScenarios(dir, program string) ([]*report.Scenario, error) {
	files, err := report.FindResults(dir)
	if err == nil && len(files) == 0 {
		err = report.NoResults(dir)
	}
	if err != nil {
		if have, lack, half := halfARun(dir); half {
			return nil, badInput("%s: not a run's artifacts: it has %s but no %s", dir, have, lack)
		}
		return nil, badInput("%v; nor a run's artifacts (report.json and trace.jsonl)", err)
	}
	tallies, err := readTallies(files)
	if err != nil {
		return nil, err
	}
	var scs []*report.Scenario
	for _, name := range scenarioNames(tallies) {
		for _, hash := range versionsOf(tallies, name) {
			scs = append(scs, tallies[scenarioVersion{name, hash}].page(dir, files, program))
		}
	}
	return scs, nil
}

// runFiles are the files a run's artifacts directory must hold for a page.
var runFiles = [2]string{"report.json", "trace.jsonl"}

func isRunDir(dir string) bool { return exists(dir, runFiles[0]) && exists(dir, runFiles[1]) }

// halfARun reports a directory that holds one of runFiles but not the
// other: a run's artifacts that lost a file, which deserve the file's name.
func halfARun(dir string) (have, lack string, half bool) {
	a, b := exists(dir, runFiles[0]), exists(dir, runFiles[1])
	switch {
	case a && !b:
		return runFiles[0], runFiles[1], true
	case b && !a:
		return runFiles[1], runFiles[0], true
	}
	return "", "", false
}

func exists(dir, name string) bool {
	_, err := os.Stat(filepath.Join(dir, name))
	return err == nil
}
