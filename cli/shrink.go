package cli

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/simrun/simrun/runner"
	"github.com/spf13/cobra"
)

type shrinkFlags struct {
	seed       uint64
	out        string
	maxRuns    int
	linTimeout time.Duration
}

const shrinkLong = `Reduce a failing run to the smallest scenario that still fails the same way
(same failure class, same failing check) on the same seed.

FAILURE is a failure's artifact directory (it holds scenario.yaml, pinned to
its seed) or a scenario file with --seed. simrun first pins the faults as they
happened (every random choice written out, one step per firing), then drops
faults, shortens the safety phase, cuts clients, keys and the cluster, lowers
rates and calms the network, keeping each change that still fails. A second
pass then looks again at the fault firings left (re-pinned, repeating steps
thinned, dropped in pairs), at the client operations (a long think time or
a low rate) and at a safety phase between the half tried and the whole, and
the first pass runs again after every change it keeps, until
nothing changes (a fixpoint) or --max-runs is spent. While runs are left and
the result keeps more than 3 firings or 20 operations, a few other paths from
the pinned scenario are tried and the smallest result is kept. Ctrl-C stops
shrinking after the run in progress and writes the smallest failure found by
then (exit 1); a second Ctrl-C quits at once.

The result is an ordinary scenario file, pinned to the seed, that replays the
failure with simrun run; because its faults are explicit, it keeps testing the
same situation after the code changes, which makes it a regression test.`

func (a *app) newShrinkCmd() *cobra.Command {
	var f shrinkFlags
	cmd := &cobra.Command{
		Use:   "shrink FAILURE",
		Short: "Shrink a failing run to a minimal scenario file",
		Long:  shrinkLong,
		Example: `  simrun shrink simrun-out/raft-bug-ack-before-sync-seed1
  simrun shrink scenarios/bugs/raft-bug-forget-vote.yaml --seed 8 --out forget-vote-min.yaml`,
		Args: oneArg("a failure (an artifacts directory, or a scenario file with --seed)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.shrink(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), args[0], f, cmd.Flags().Changed("seed"))
		},
	}
	cmd.Flags().Uint64Var(&f.seed, "seed", 1, "the failing seed; without it, the scenario's seed if it names one, else this")
	cmd.Flags().StringVar(&f.out, "out", "", "where to write the shrunk scenario (default: <name>-shrunk-seed<N>.yaml in the failure's directory, or for a scenario file in "+defaultOut+")")
	cmd.Flags().IntVar(&f.maxRuns, "max-runs", runner.DefaultShrinkRuns, "how many runs shrinking may spend")
	addLinTimeout(cmd, &f.linTimeout, "run", "past it a run's verdict is unknown")
	return cmd
}

func (a *app) shrink(ctx context.Context, stdout, stderr io.Writer, failure string, f shrinkFlags, seedSet bool) error {
	path := failure
	if info, err := os.Stat(failure); err == nil && info.IsDir() {
		path = filepath.Join(failure, runner.ScenarioFile)
		if _, err := os.Stat(path); err != nil {
			return notAFailure(failure)
		}
	}
	sc, proto, err := a.resolveScenario(path, nil)
	if err != nil {
		return err
	}
	defer collectLessForManyRuns(1)() // the shrinker runs one world at a time
	f.seed = seedOf(sc, f.seed, seedSet)
	if f.maxRuns <= 0 {
		return badInput("--max-runs: must be positive, got %d", f.maxRuns)
	}
	if f.linTimeout <= 0 {
		return badInput("--lin-timeout: must be positive, got %v", f.linTimeout)
	}
	if err := checkShrinkOut(f.out); err != nil {
		return err
	}
	out := f.out
	if out == "" {
		out = defaultShrunkPath(failure, path, sc.Name, f.seed)
	}
	if sameFile(path, out) {
		return badInput("--out %s: the scenario being shrunk; name another file, so that it is kept", out)
	}
	if f.out == "" { // made before the runs, which its failure would waste
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return badInput("%v (where shrink writes without --out; name a file with --out)", err)
		}
	}
	ctx, release := stopOnInterrupt(ctx, stderr, "the run in progress finishes and the smallest failure found so far "+
		"is written; a second interrupt quits at once (nothing is written)")
	defer release()
	so := runner.ShrinkOptions{Protocol: proto, Seed: f.seed, MaxRuns: f.maxRuns,
		Options: runner.Options{LinearizabilityTimeout: f.linTimeout},
		Stop:    func() bool { return ctx.Err() != nil },
		Progress: func(step string, size runner.Size) {
			fmt.Fprintf(stdout, "kept        %s\n", step)
		},
		PathDone: func(path int, size runner.Size, kept bool) {
			verdict := "no smaller"
			if kept {
				verdict = "smaller: kept"
			}
			fmt.Fprintf(stdout, "path %-6d %s: %s\n", path, size, verdict)
		}}
	res, err := runner.Shrink(sc, so)
	if err != nil {
		return buildErr(err)
	}
	res.Scenario.Name = safeName(sc.Name) + "-shrunk"
	res.Scenario.Description = fmt.Sprintf("%s, seed %d, shrunk by %s shrink: %s", sc.Name, f.seed, a.name, res.Signature)
	data, shrunk, err := res.File()
	if err != nil {
		return internalErr(err)
	}
	if err := os.WriteFile(out, data, 0o644); err != nil {
		return badInput("--out: %v", err)
	}
	fmt.Fprintf(stdout, "failure     %s (%s)\n", res.Signature, firstLine(res.Report.Reason))
	if c := res.Report.Class; c == runner.Vacuous || c == runner.Inconclusive {
		fmt.Fprintf(stdout, "note        a %s run is no failure: the smaller scenario is only one that is %s too (nothing to judge, or no verdict reached)\n", c, c)
	}
	fmt.Fprintf(stdout, "before      %s\n", res.Before)
	fmt.Fprintf(stdout, "after       %s\n", res.After)
	if res.Interrupted {
		fmt.Fprintf(stdout, "runs        %d: interrupted; this is the smallest failure found by then\n", res.Runs)
	} else if res.Spent {
		fmt.Fprintf(stdout, "runs        %d: --max-runs ran out before shrinking was done; a larger one may find a smaller scenario\n", res.Runs)
	} else {
		fmt.Fprintf(stdout, "runs        %d\n", res.Runs)
	}
	if shrunk {
		fmt.Fprintf(stdout, "written     %s\n", out)
	} else {
		fmt.Fprintf(stdout, "written     %s: the scenario as run, pinned to the seed; the %d fault steps shrinking got to are more than a scenario file holds\n",
			out, res.After.Faults)
	}
	fmt.Fprintf(stdout, "replay      %s run %s\n", a.command, shellQuote(out))
	if res.Interrupted {
		return &exitError{code: exitInternal, msg: "interrupted; the shrunk scenario so far is written"}
	}
	return nil
}

// checkShrinkOut refuses, before any run, an --out that cannot be written:
// a directory, or a path whose directory is missing or is a file.
func checkShrinkOut(out string) error {
	if out == "" {
		return nil
	}
	if info, err := os.Stat(out); err == nil && info.IsDir() {
		return badInput("--out %s: a directory; name the file to write (%s)", out, filepath.Join(out, "shrunk.yaml"))
	}
	dir := filepath.Dir(out)
	info, err := os.Stat(dir)
	switch {
	case err != nil:
		return badInput("--out %s: its directory %s does not exist", out, dir)
	case !info.IsDir():
		return badInput("--out %s: %s is a file, not a directory", out, dir)
	}
	return nil
}

// notAFailure is the error for a directory shrink cannot take: one with no
// scenario.yaml, such as run's --out (a directory per failing run) or a
// sweep's (failures/seed-N below each scenario), whose failures are below it.
func notAFailure(dir string) error {
	var failures []string
	for _, below := range []string{"*", "failures/*", "*/failures/*"} {
		// Matched inside dir, so that dir's own name is never read as a pattern.
		found, _ := fs.Glob(os.DirFS(dir), below+"/"+runner.ScenarioFile)
		for _, f := range found {
			failures = append(failures, filepath.Join(dir, filepath.FromSlash(path.Dir(f))))
		}
	}
	if len(failures) == 0 {
		return badInput("%s: no %s here: shrink takes a failure's directory (written by run or sweep) or a scenario file with --seed", dir, runner.ScenarioFile)
	}
	shown := failures[:min(3, len(failures))]
	return badInput("%s is not a failure's directory: shrink one of the %d below it, such as %s", dir, len(failures), strings.Join(shown, ", "))
}

// defaultShrunkPath is where shrink writes when --out is not given: in the
// failure's artifacts directory, beside the scenario.yaml it shrank; for a
// scenario file, in run's default --out, not beside the file, where a
// later "sweep scenarios/*.yaml" would take it for one of the scenarios.
func defaultShrunkPath(failure, scenario, name string, seed uint64) string {
	file := fmt.Sprintf("%s-shrunk-seed%d.yaml", safeName(name), seed)
	if scenario != failure { // failure is a directory
		return filepath.Join(filepath.Dir(scenario), file)
	}
	return filepath.Join(defaultOut, file)
}
