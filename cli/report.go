package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/simrun/simrun/report"
	"github.com/spf13/cobra"
)

const reportLong = `Write an HTML report (report.html) into DIR, one self-contained file that
opens offline in any browser.

DIR is either a failed run's artifacts directory (it holds report.json and
trace.jsonl, as "simrun run" and "simrun sweep" leave them), or a sweep's
--out directory (or one scenario's directory in it, holding results.jsonl),
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
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return writeReport(cmd.OutOrStdout(), args[0])
		},
	}
}

// writeReport tells a run's artifacts (report.json beside trace.jsonl) from
// a sweep directory and writes the matching page.
func writeReport(stdout io.Writer, dir string) error {
	info, err := os.Stat(dir)
	if err != nil || !info.IsDir() {
		return badInput("%s: not a directory", dir)
	}
	write := report.WriteSweep
	if isRunDir(dir) {
		write = report.WriteRun
	} else if err := checkResultFiles(dir); err != nil {
		return err
	}
	path, err := write(dir)
	if err != nil {
		return badInputErr(err)
	}
	fmt.Fprintf(stdout, "report      %s\n", path)
	return nil
}

// checkResultFiles reads a sweep directory's results files as sweep and
// merge read them, so that a line they refuse is refused here too, with
// the same error, before the page counts it.
func checkResultFiles(dir string) error {
	files, err := report.FindResults(dir)
	if err == nil && len(files) == 0 {
		err = report.NoResults(dir)
	}
	if err != nil {
		return badInput("%v; nor a run's artifacts (report.json and trace.jsonl)", err)
	}
	for _, f := range files {
		if err := readEach(f, func(int, result) {}); err != nil {
			return err
		}
	}
	return nil
}

func isRunDir(dir string) bool {
	for _, name := range []string{"report.json", "trace.jsonl"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			return false
		}
	}
	return true
}
