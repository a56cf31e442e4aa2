package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

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
	shard      string
	recheck    int
	swarm      []string
}

const sweepLong = `Run many seeds of each scenario, in parallel worlds (one per core by default).

Every result is appended to <out>/<scenario>/results.jsonl as soon as it
finishes; a failing seed also gets its artifacts under
<out>/<scenario>/failures/seed-<N>/. Results do not depend on --parallel: each
world is deterministic on its own.

Ctrl-C stops dispatching seeds, lets running ones finish and keeps every result;
run the same command again to continue without redoing finished seeds (it
continues only results of the same scenario; --resume adds to results of an
edited one anyway).

--shard K/N runs only every Nth seed of the range, starting with the Kth
(0-based, like a Kubernetes Indexed Job's JOB_COMPLETION_INDEX), so N machines
share one sweep; "simrun merge" then combines their results.jsonl files.
--check-determinism reruns a sample of seeds and compares trace hashes; a
mismatch is its own failure class, "nondeterministic".`

func (a *app) newSweepCmd() *cobra.Command {
	var f sweepFlags
	cmd := &cobra.Command{
		Use:   "sweep SCENARIO...",
		Short: "Run many seeds of scenario files and summarize the failures",
		Long:  sweepLong,
		Example: `  simrun sweep scenarios/raft-calm.yaml --seeds 1000
  simrun sweep scenarios/raft-*.yaml --seeds 200 --from 5000 --parallel 2 --out sweep-out
  simrun sweep scenarios/raft-crash-churn.yaml --seeds 2000   # continues the 1000 above
  simrun sweep scenarios/raft-lossy.yaml --seeds 100000 --shard 3/8 --out shard-3`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.sweepAll(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), args, f)
		},
	}
	cmd.Flags().Uint64Var(&f.seeds, "seeds", 100, "how many seeds to run per scenario")
	cmd.Flags().Uint64Var(&f.from, "from", 1, "the first seed")
	cmd.Flags().IntVar(&f.parallel, "parallel", 0, "worlds run at once (default: one per CPU)")
	cmd.Flags().StringVar(&f.out, "out", "simrun-out", "directory for results and failure artifacts")
	cmd.Flags().BoolVar(&f.resume, "resume", false, "add to results.jsonl even if it holds results of an edited scenario (the same scenario continues anyway)")
	cmd.Flags().DurationVar(&f.linTimeout, "lin-timeout", runner.DefaultLinearizabilityTimeout,
		"wall-clock budget of the linearizability checker per seed")
	cmd.Flags().StringSliceVar(&f.swarm, "swarm", nil, "every seed draws its own fault mix among these kinds (all, crash, partition, ...)")
	cmd.Flags().StringVar(&f.shard, "shard", "", "run only shard K/N of the seeds (0 <= K < N), e.g. $JOB_COMPLETION_INDEX/8")
	cmd.Flags().IntVar(&f.recheck, "check-determinism", 0, "run every Nth seed twice and compare trace hashes (alone: every 10th)")
	cmd.Flags().Lookup("check-determinism").NoOptDefVal = "10"
	return cmd
}

func (a *app) sweepAll(ctx context.Context, stdout, stderr io.Writer, paths []string, f sweepFlags) error {
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
		code, err := a.sweepOne(ctx, stdout, stderr, path, f)
		if err != nil {
			return err
		}
		if worst == exitPass {
			worst = code
		}
		if ctx.Err() != nil {
			return &exitError{code: exitInternal, msg: "interrupted; run the same command again to continue"}
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
	case f.recheck < 0:
		return badInput("--check-determinism: must not be negative, got %d", f.recheck)
	}
	_, _, err := parseShard(f.shard)
	return err
}

// parseShard reads "K/N" (0 <= K < N); "" is the whole range, 0/1.
func parseShard(s string) (k, n uint64, err error) {
	if s == "" {
		return 0, 1, nil
	}
	ks, ns, ok := strings.Cut(s, "/")
	k, errK := strconv.ParseUint(ks, 10, 64)
	n, errN := strconv.ParseUint(ns, 10, 64)
	if !ok || errK != nil || errN != nil || n == 0 || k >= n {
		return 0, 0, badInput("--shard: %q is not K/N with 0 <= K < N", s)
	}
	return k, n, nil
}

// sweepOne sweeps one scenario file and returns the exit code of its first
// failing seed (exitPass if none).
func (a *app) sweepOne(ctx context.Context, stdout, stderr io.Writer, path string, f sweepFlags) (int, error) {
	sc, proto, err := a.resolveScenario(path, f.swarm)
	if err != nil {
		return 0, err
	}
	dir := filepath.Join(f.out, safeName(sc.Name))
	resultsPath := filepath.Join(dir, "results.jsonl")
	fingerprint, err := scenarioFingerprint(sc)
	if err != nil {
		return 0, internalErr(err)
	}
	done, err := loadDone(resultsPath, fingerprint, f.resume)
	if err != nil {
		return 0, err
	}
	results, err := openResults(resultsPath)
	if err != nil {
		return 0, internalErr(err)
	}
	defer results.Close()

	k, n, _ := parseShard(f.shard)
	todo := seedsToRun(f.from, f.seeds, k, n, done)
	tally := newTally(inRange(done, f.from, f.seeds, k, n))
	prog := newProgress(stderr, sc.Name, len(todo))
	so := runner.SweepOptions{
		Load:         func() (*scenarios.Scenario, error) { return loadScenario(path, f.swarm) },
		Protocol:     proto,
		Seeds:        todo,
		Parallel:     f.parallel,
		Options:      runner.Options{LinearizabilityTimeout: f.linTimeout},
		RecheckEvery: f.recheck,
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
			fmt.Fprintf(stderr, "%s: seed %d: artifacts: %v\n", a.name, r.Seed, r.Err)
		}
		r.Report.File, r.Report.ScenarioHash = path, fingerprint
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
	tally.print(stdout, resultsPath, a.name, swarmFlag(f.swarm)+linTimeoutFlag(f.linTimeout))
	if sweepErr != nil {
		fmt.Fprintf(stdout, "interrupted: %d results kept in %s; run the same command again to continue\n", tally.total(), resultsPath)
	}
	return tally.exitCode(), nil
}

// seedsToRun lists the seeds of shard k of n in from..from+count-1 (every
// nth, starting with the kth, so that slow seeds spread over the shards),
// without those already done.
func seedsToRun(from, count, k, n uint64, done map[uint64]runner.Report) []uint64 {
	var seeds []uint64
	for i := k; i < count; i += n {
		if _, ok := done[from+i]; !ok {
			seeds = append(seeds, from+i)
		}
	}
	return seeds
}

// scenarioFingerprint identifies the scenario a sweep runs (its canonical
// form, after --swarm), so that a sweep continues only results of the same
// scenario.
func scenarioFingerprint(sc *scenarios.Scenario) (string, error) {
	data, err := sc.Marshal()
	if err != nil {
		return "", err
	}
	h := fnv.New64a()
	h.Write(data)
	return fmt.Sprintf("%016x", h.Sum64()), nil
}

// inRange keeps the results of the seeds this sweep covers (its range and
// shard), so that the summary speaks of the seeds asked for.
func inRange(done map[uint64]runner.Report, from, count, k, n uint64) map[uint64]runner.Report {
	out := map[uint64]runner.Report{}
	for seed, rep := range done {
		if seed >= from && seed-from < count && (seed-from)%n == k {
			out[seed] = rep
		}
	}
	return out
}

// loadDone reads the results of an earlier sweep of the same scenario, so
// that running the same command again continues it instead of redoing or
// overwriting finished seeds. Results of a different scenario (the file was
// edited since) are an error unless --resume insists. A last line cut short
// by an interruption is dropped from the file.
func loadDone(path, fingerprint string, resume bool) (map[uint64]runner.Report, error) {
	done := map[uint64]runner.Report{}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return done, nil
	}
	if err != nil {
		return nil, internalErr(err)
	}
	complete := data[:bytes.LastIndexByte(data, '\n')+1]
	sc := bufio.NewScanner(bytes.NewReader(complete))
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for line := 1; sc.Scan(); line++ {
		var rep runner.Report
		if err := json.Unmarshal(sc.Bytes(), &rep); err != nil {
			return nil, badInput("%s:%d: not a sweep result: %v", path, line, err)
		}
		if rep.ScenarioHash != fingerprint && !resume {
			return nil, badInput("%s:%d: a result of another version of this scenario: choose another --out, or pass --resume to add to it anyway", path, line)
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
// interruption loses at most a partial last line (dropped when the sweep continues).
func appendResult(f *os.File, rep *runner.Report) error {
	line, err := json.Marshal(rep)
	if err != nil {
		return err
	}
	_, err = f.Write(append(line, '\n'))
	return err
}

func firstLine(s string) string {
	if i := bytes.IndexByte([]byte(s), '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
