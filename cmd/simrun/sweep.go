package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/simrun/simrun/registry"
	"github.com/simrun/simrun/runner"
	"github.com/simrun/simrun/scenarios"
	"github.com/spf13/cobra"
)

type sweepFlags struct {
	seeds      uint64
	from       uint64
	parallel   int
	out        string
	resume     bool
	linTimeout time.Duration
}

const sweepLong = `Run many seeds of each scenario, in parallel worlds (one per core by default).

Every result is appended to <out>/<scenario>/results.jsonl as soon as it
finishes; a failing seed also gets its artifacts under
<out>/<scenario>/failures/seed-<N>/. Results do not depend on --parallel: each
world is deterministic on its own.

Ctrl-C stops dispatching seeds, lets running ones finish and keeps every result;
run the same command with --resume to continue without redoing finished seeds.`

func newSweepCmd() *cobra.Command {
	var f sweepFlags
	cmd := &cobra.Command{
		Use:   "sweep SCENARIO...",
		Short: "Run many seeds of scenario files and summarize the failures",
		Long:  sweepLong,
		Example: `  simrun sweep scenarios/raft-calm.yaml --seeds 1000
  simrun sweep scenarios/raft-*.yaml --seeds 200 --from 5000 --parallel 2 --out sweep-out
  simrun sweep scenarios/raft-crash-churn.yaml --seeds 1000 --resume`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return sweepAll(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), args, f)
		},
	}
	cmd.Flags().Uint64Var(&f.seeds, "seeds", 100, "how many seeds to run per scenario")
	cmd.Flags().Uint64Var(&f.from, "from", 1, "the first seed")
	cmd.Flags().IntVar(&f.parallel, "parallel", 0, "worlds run at once (default: one per CPU)")
	cmd.Flags().StringVar(&f.out, "out", "simrun-out", "directory for results and failure artifacts")
	cmd.Flags().BoolVar(&f.resume, "resume", false, "continue an interrupted sweep, skipping seeds already in results.jsonl")
	cmd.Flags().DurationVar(&f.linTimeout, "lin-timeout", runner.DefaultLinearizabilityTimeout,
		"wall-clock budget of the linearizability checker per seed")
	return cmd
}

func sweepAll(ctx context.Context, stdout, stderr io.Writer, paths []string, f sweepFlags) error {
	if err := validateSweepFlags(f); err != nil {
		return err
	}
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	worst := exitPass
	for _, path := range paths {
		code, err := sweepOne(ctx, stdout, stderr, path, f)
		if err != nil {
			return err
		}
		if worst == exitPass {
			worst = code
		}
		if ctx.Err() != nil {
			return &exitError{code: exitInternal, msg: "interrupted; run the same command with --resume to continue"}
		}
	}
	if worst != exitPass {
		return &exitError{code: worst}
	}
	return nil
}

func validateSweepFlags(f sweepFlags) error {
	switch {
	case f.seeds == 0:
		return badInput("--seeds: must be at least 1")
	case f.parallel < 0:
		return badInput("--parallel: must not be negative, got %d", f.parallel)
	case f.linTimeout <= 0:
		return badInput("--lin-timeout: must be positive, got %v", f.linTimeout)
	case f.from+f.seeds < f.from:
		return badInput("--from %d with --seeds %d overflows the seed range", f.from, f.seeds)
	}
	return nil
}

// sweepOne sweeps one scenario file and returns the exit code of its first
// failing seed (exitPass if none).
func sweepOne(ctx context.Context, stdout, stderr io.Writer, path string, f sweepFlags) (int, error) {
	sc, err := scenarios.ParseFile(path)
	if err != nil {
		return 0, badInputErr(err)
	}
	proto, err := registry.Resolve(sc)
	if err != nil {
		return 0, badInputErr(err)
	}
	dir := filepath.Join(f.out, safeName(sc.Name))
	resultsPath := filepath.Join(dir, "results.jsonl")
	done, err := loadDone(resultsPath, f.resume)
	if err != nil {
		return 0, err
	}
	results, err := openResults(resultsPath)
	if err != nil {
		return 0, internalErr(err)
	}
	defer results.Close()

	todo := seedsToRun(f.from, f.seeds, done)
	tally := newTally(path, done)
	prog := newProgress(stderr, sc.Name, len(todo))
	so := runner.SweepOptions{
		Load:     func() (*scenarios.Scenario, error) { return scenarios.ParseFile(path) },
		Protocol: proto,
		Seeds:    todo,
		Parallel: f.parallel,
		Options:  runner.Options{LinearizabilityTimeout: f.linTimeout},
		OnFailure: func(sc *scenarios.Scenario, rep *runner.Report) error {
			failDir := filepath.Join(dir, "failures", fmt.Sprintf("seed-%d", rep.Seed))
			_, err := runner.WriteArtifacts(failDir, sc, proto, rep, runner.Options{Seed: rep.Seed, LinearizabilityTimeout: f.linTimeout})
			return err
		},
	}
	var writeErr error
	sweepErr := runner.Sweep(ctx, so, func(r runner.SweepResult) {
		if r.Err != nil && r.Report == nil {
			writeErr = errors.Join(writeErr, fmt.Errorf("seed %d: %w", r.Seed, r.Err))
			return
		}
		if r.Err != nil {
			fmt.Fprintf(stderr, "simrun: seed %d: artifacts: %v\n", r.Seed, r.Err)
		}
		if err := appendResult(results, r.Report); err != nil {
			writeErr = errors.Join(writeErr, err)
		}
		tally.add(r.Report)
		prog.add(r.Report.Class.Failed())
	})
	prog.finish()
	if writeErr != nil {
		return 0, internalErr(writeErr)
	}
	tally.print(stdout, resultsPath)
	if sweepErr != nil {
		fmt.Fprintf(stdout, "interrupted: %d results kept in %s; continue with --resume\n", tally.total, resultsPath)
	}
	return tally.exitCode(), nil
}

// seedsToRun lists from..from+n-1 without the seeds already done.
func seedsToRun(from, n uint64, done map[uint64]runner.Report) []uint64 {
	seeds := make([]uint64, 0, n)
	for s := from; s < from+n; s++ {
		if _, ok := done[s]; !ok {
			seeds = append(seeds, s)
		}
	}
	return seeds
}

// loadDone reads the results of an earlier sweep. Without --resume an existing
// results file is an error, so that nothing is overwritten by accident. A
// last line cut short by an interruption is dropped from the file.
func loadDone(path string, resume bool) (map[uint64]runner.Report, error) {
	done := map[uint64]runner.Report{}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return done, nil
	}
	if err != nil {
		return nil, internalErr(err)
	}
	if !resume && len(data) > 0 {
		return nil, badInput("%s already holds results: pass --resume to continue that sweep, or choose another --out", path)
	}
	complete := data[:bytes.LastIndexByte(data, '\n')+1]
	sc := bufio.NewScanner(bytes.NewReader(complete))
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for line := 1; sc.Scan(); line++ {
		var rep runner.Report
		if err := json.Unmarshal(sc.Bytes(), &rep); err != nil {
			return nil, badInput("%s:%d: not a sweep result: %v", path, line, err)
		}
		done[rep.Seed] = rep
	}
	if len(complete) < len(data) {
		if err := os.Truncate(path, int64(len(complete))); err != nil {
			return nil, internalErr(err)
		}
	}
	return done, nil
}

func openResults(path string) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	return os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
}

// appendResult writes one result as one line with one write, so an
// interruption loses at most a partial last line (dropped on --resume).
func appendResult(f *os.File, rep *runner.Report) error {
	line, err := json.Marshal(rep)
	if err != nil {
		return err
	}
	_, err = f.Write(append(line, '\n'))
	return err
}

// tally accumulates a sweep's results for the summary.
type tally struct {
	path    string
	total   int
	byClass map[runner.Class]int
	failing []runner.Report // sorted by seed when printed
	slowest []runner.Report
}

func newTally(path string, done map[uint64]runner.Report) *tally {
	t := &tally{path: path, byClass: map[runner.Class]int{}}
	seeds := make([]uint64, 0, len(done))
	for s := range done {
		seeds = append(seeds, s)
	}
	slices.Sort(seeds)
	for _, s := range seeds {
		rep := done[s]
		t.add(&rep)
	}
	return t
}

func (t *tally) add(rep *runner.Report) {
	t.total++
	t.byClass[rep.Class]++
	if rep.Class.Failed() {
		t.failing = append(t.failing, *rep)
	}
	t.slowest = append(t.slowest, *rep)
	slices.SortFunc(t.slowest, func(a, b runner.Report) int {
		if c := cmp.Compare(b.WallTime, a.WallTime); c != 0 {
			return c
		}
		return cmp.Compare(a.Seed, b.Seed)
	})
	if len(t.slowest) > 3 {
		t.slowest = t.slowest[:3]
	}
}

var classOrder = []runner.Class{runner.Pass, runner.Safety, runner.Liveness, runner.ProtocolCrash, runner.Inconclusive}

func (t *tally) print(w io.Writer, resultsPath string) {
	fmt.Fprintf(w, "sweep       %s: %d seeds\n", t.path, t.total)
	for _, c := range classOrder {
		if n := t.byClass[c]; n > 0 || c == runner.Pass {
			fmt.Fprintf(w, "  %-13s %d\n", c, n)
		}
	}
	for _, rep := range t.slowest {
		fmt.Fprintf(w, "slow        seed %d  %v wall  %d events\n", rep.Seed, rep.WallTime.Round(time.Millisecond), rep.Events)
	}
	fmt.Fprintf(w, "results     %s\n", resultsPath)
	if first := t.firstFailure(); first != nil {
		fmt.Fprintf(w, "first fail  seed %d  %s: %s\n", first.Seed, first.Class, firstLine(first.Reason))
		fmt.Fprintf(w, "replay      %s\n", replayCommand(t.path, first.Seed))
	}
}

func (t *tally) firstFailure() *runner.Report {
	if len(t.failing) == 0 {
		return nil
	}
	first := &t.failing[0]
	for i := range t.failing {
		if t.failing[i].Seed < first.Seed {
			first = &t.failing[i]
		}
	}
	return first
}

func (t *tally) exitCode() int {
	if first := t.firstFailure(); first != nil {
		return exitCodeFor(first.Class)
	}
	return exitPass
}

func firstLine(s string) string {
	if i := bytes.IndexByte([]byte(s), '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
