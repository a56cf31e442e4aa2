package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/simrun/simrun/checkers"
	"github.com/simrun/simrun/faults"
	"github.com/simrun/simrun/internal/plural"
	"github.com/simrun/simrun/runner"
	"github.com/simrun/simrun/scenarios"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

type runFlags struct {
	swarm      []string
	seed       uint64
	trace      string
	history    string
	out        string
	linTimeout time.Duration
	keep       traceKeep
	profile    profileFlags
	// twice runs the seed a second time and compares the two traces event
	// by event (--check-determinism).
	twice bool
}

// traceKeep is how much trace a failure's artifacts keep: the events around
// the first violation, or all of them (--full-trace).
type traceKeep struct {
	window int
	full   bool
}

func (k *traceKeep) addFlags(cmd *cobra.Command) {
	cmd.Flags().IntVar(&k.window, "trace-window", runner.DefaultTraceWindow,
		"a failure's trace.jsonl keeps this many events before and after the first violation")
	cmd.Flags().BoolVar(&k.full, "full-trace", false, "a failure's trace.jsonl keeps every event of the run")
}

// check refuses a window outside 1..runner.MaxTraceWindow.
func (k traceKeep) check() error {
	if k.window < 1 || k.window > runner.MaxTraceWindow {
		return badInput("--trace-window: from 1 to %d events (--full-trace keeps them all), got %d",
			runner.MaxTraceWindow, k.window)
	}
	return nil
}

func (k traceKeep) options(program string) runner.ArtifactOptions {
	return runner.ArtifactOptions{TraceWindow: k.window, FullTrace: k.full, Program: program}
}

const runLong = `Run one seed of a scenario and judge it.

The summary shows the events processed, simulated and wall time, client
operations (ok, failed, unknown), leader elections, each checker's verdict and
the trace hash. Running the same scenario and seed again prints the same hash.

When the run fails, simrun writes the artifacts (the scenario pinned to its
seed, the trace around the first violation (--trace-window events each side,
or all of it with --full-trace), the client history, report.json, report.html with a
space-time diagram of the messages around the violation and, for a
linearizability failure, Porcupine's visualization) into --out and prints the
command that replays the failure.`

func (a *app) newRunCmd() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run SCENARIO",
		Short: "Run one seed of a scenario file",
		Long:  runLong,
		Example: `  simrun run scenarios/raft-calm.yaml --seed 1
  simrun run scenarios/raft-crash-churn.yaml --seed 42 --trace trace.jsonl --history history.jsonl`,
		Args: oneArg("a scenario file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runOne(cmd.OutOrStdout(), cmd.ErrOrStderr(), args[0], f, cmd.Flags().Changed("seed"))
		},
	}
	cmd.Flags().Uint64Var(&f.seed, "seed", 1, "the seed to run; without it, the scenario's seed if it names one, else this")
	cmd.Flags().StringSliceVar(&f.swarm, "swarm", nil, "draw a fault mix from the seed among these kinds, on top of the scenario's faults: all (all,-corrupt: all but corrupt), or "+strings.Join(faults.SwarmKinds, ", "))
	cmd.Flags().StringVar(&f.trace, "trace", "", "write the full event trace to this file (JSONL)")
	cmd.Flags().StringVar(&f.history, "history", "", "write the client history to this file (JSONL)")
	cmd.Flags().StringVar(&f.out, "out", defaultOut, "directory for a failed run's artifacts")
	addLinTimeout(cmd, &f.linTimeout, "run", "past it the verdict is unknown")
	cmd.Flags().BoolVar(&f.twice, "check-determinism", false,
		"run the seed twice and compare the traces event by event; a difference is shown at its first event and exits 7")
	f.keep.addFlags(cmd)
	f.profile.addFlags(cmd)
	return cmd
}

func (a *app) runOne(stdout, stderr io.Writer, path string, f runFlags, seedSet bool) (err error) {
	sc, proto, err := a.resolveScenario(path, f.swarm)
	if err != nil {
		return err
	}
	f.seed = seedOf(sc, f.seed, seedSet)
	if f.linTimeout <= 0 {
		return badInput("--lin-timeout: must be positive, got %v", f.linTimeout)
	}
	if err := f.keep.check(); err != nil {
		return err
	}
	if err := distinctFiles([]namedFile{{"the scenario", path}, {"--trace", f.trace}, {"--history", f.history},
		{"--cpuprofile", f.profile.cpu}, {"--memprofile", f.profile.mem}}); err != nil {
		return err
	}
	stopProfiles, err := f.profile.start()
	if err != nil {
		return err
	}
	defer stopProfiles(&err)
	opts := runner.Options{Seed: f.seed, LinearizabilityTimeout: f.linTimeout}
	// Both files are created before the run, so that a path that cannot be
	// written is reported at once, as bad input, not after the run's time.
	traceFile, err := createOptional("--trace", f.trace)
	if err != nil {
		return err
	}
	if traceFile != nil {
		defer traceFile.Close()
		opts.Trace = traceFile
	}
	historyFile, err := createOptional("--history", f.history)
	if err != nil {
		return err
	}
	prog := newRunProgress(stderr, time.Duration(sc.Duration), isTerminal(stderr), runProgressAfter)
	if prog != nil {
		opts.Progress = prog.update
	}
	var first *traceCopy
	if f.twice {
		if first, err = newTraceCopy(opts.Trace); err != nil {
			return err
		}
		defer first.remove()
		opts.Trace = first
	}
	rep, err := runner.Run(sc, proto, opts)
	prog.finish()
	// A file the run could not write to the end (a full disk) does not
	// hide its verdict: a warning says so, and a failure keeps its code.
	var lost error
	var traceErr *runner.TraceError
	if errors.As(err, &traceErr) && rep != nil {
		lost, err = a.warnLost(stderr, "--trace", traceErr.Err), nil
	}
	if err != nil {
		closeQuietly(historyFile)
		return buildErr(err)
	}
	if err := writeHistory(historyFile, rep); err != nil {
		lost = a.warnLost(stderr, "--history", err)
	}
	// The second run comes before the summary, whose verdict it may change
	// to nondeterministic.
	var twice bytes.Buffer
	var twiceErr error
	if f.twice {
		twiceErr = runAgainAndCompare(&twice, sc, proto, f, first, rep)
	}
	printSummary(stdout, runner.AsRun(sc, rep), rep) // the cluster an options swarm drew
	_, _ = stdout.Write(twice.Bytes())
	if twiceErr != nil {
		return twiceErr
	}
	if !rep.Class.Failed() {
		return lost
	}
	return a.reportFailure(stdout, stderr, path, sc, proto, rep, f)
}

// runProgressAfter is how long a run goes before it shows a progress line:
// a short run ends before anyone would read one.
const runProgressAfter = 2 * time.Second

// runProgress shows a long run's advance on stderr, a terminal only:
// simulated time out of the scenario's duration (the safety phase) and
// events so far. The bar is cleared when the run ends, so nothing of it stays
// in what a person reads or copies, and a file or pipe never sees it.
type runProgress struct {
	w     io.Writer
	total time.Duration
	start time.Time
	after time.Duration
	bar   *progressbar.ProgressBar
}

// newRunProgress returns nil (no progress, and the run goes in one step)
// unless w is a terminal.
func newRunProgress(w io.Writer, total time.Duration, terminal bool, after time.Duration) *runProgress {
	if !terminal || total <= 0 {
		return nil
	}
	return &runProgress{w: w, total: total, start: time.Now(), after: after}
}

// update is runner.Options.Progress.
func (p *runProgress) update(now time.Duration, events uint64) {
	if p.bar == nil {
		if time.Since(p.start) < p.after {
			return
		}
		p.bar = progressbar.NewOptions64(p.total.Milliseconds(),
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
	p.bar.Describe(fmt.Sprintf("simulated %v of %v, %d events", now.Round(time.Second), p.total, events))
	_ = p.bar.Set64(now.Milliseconds())
}

func (p *runProgress) finish() {
	if p != nil && p.bar != nil {
		_ = p.bar.Finish()
	}
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// reportFailure writes the artifacts and prints the replay command. Artifacts
// that cannot be written do not hide the verdict: a warning says so, and the
// exit code is still the class's.
func (a *app) reportFailure(stdout, stderr io.Writer, path string, sc *scenarios.Scenario, proto runner.Protocol, rep *runner.Report, f runFlags) error {
	dir := filepath.Join(f.out, fmt.Sprintf("%s-seed%d", safeName(sc.Name), rep.Seed))
	opts := runner.Options{Seed: rep.Seed, LinearizabilityTimeout: f.linTimeout}
	keep := f.keep.options(a.command)
	keep.KeepScenario = sameFile(path, filepath.Join(dir, runner.ScenarioFile))
	files, err := runner.WriteArtifactsWith(dir, sc, proto, rep, opts, keep)
	if err != nil {
		fmt.Fprintf(stderr, "%s: warning: --out: artifacts not written: %v\n", a.name, err)
	} else {
		fmt.Fprintf(stdout, "artifacts   %s\n", dir)
		for _, file := range files {
			fmt.Fprintf(stdout, "            %s\n", filepath.Base(file))
		}
	}
	fmt.Fprintf(stdout, "replay      %s\n", replayCommand(a.command, path, rep.Seed, f.replayFlags()))
	if err == nil {
		fmt.Fprintf(stdout, "            %s run %s%s\n", a.command, shellQuote(filepath.Join(dir, runner.ScenarioFile)), linTimeoutFlag(f.linTimeout))
	}
	return &exitError{code: exitCodeFor(rep.Class)}
}

// replayCommand is the one line that reproduces a run on the binary named
// name: the scenario file, the seed and every flag that changes the verdict.
func replayCommand(name, path string, seed uint64, flags string) string {
	return name + " run " + shellQuote(path) + " --seed " + strconv.FormatUint(seed, 10) + flags
}

// replayFlags are the run flags that change a run's verdict, as they must
// appear in its replay line: the swarm kinds and a non-default
// linearizability budget. The pinned scenario in the artifacts carries the
// swarm's draws itself, so only the budget goes with it.
func (f runFlags) replayFlags() string {
	return swarmFlag(f.swarm) + linTimeoutFlag(f.linTimeout)
}

func swarmFlag(kinds []string) string {
	if len(kinds) == 0 {
		return ""
	}
	return " --swarm " + shellQuote(strings.Join(kinds, ","))
}

// addLinTimeout adds the --lin-timeout flag to cmd: per says what one
// budget is for ("seed"), then what the command does when it runs out.
func addLinTimeout(cmd *cobra.Command, p *time.Duration, per, then string) {
	cmd.Flags().DurationVar(p, "lin-timeout", runner.DefaultLinearizabilityTimeout,
		fmt.Sprintf("budget of the linearizability checker per %s, counted in search steps (%d a second) so that it runs out alike on every machine; %s",
			per, checkers.SearchStepRate, then))
}

func linTimeoutFlag(d time.Duration) string {
	if d == 0 || d == runner.DefaultLinearizabilityTimeout {
		return ""
	}
	return " --lin-timeout " + d.String()
}

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '/' || r == '.' || r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func safeName(s string) string {
	if s == "" {
		return "scenario"
	}
	return strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return r
		}
		return '_'
	}, s)
}

// createOptional creates the file a flag names, if it names one; a path
// that cannot be created is bad input naming the flag.
func createOptional(flag, path string) (*os.File, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, badInput("%s: %v", flag, err)
	}
	return f, nil
}

func closeQuietly(f *os.File) {
	if f != nil {
		f.Close()
	}
}

func writeHistory(f *os.File, rep *runner.Report) error {
	if f == nil {
		return nil
	}
	if err := rep.History.WriteJSON(f); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", f.Name(), err)
	}
	return f.Close()
}

// printSummary prints the run's report, one fact per line.
func printSummary(w io.Writer, sc *scenarios.Scenario, rep *runner.Report) {
	speed := ""
	if rep.WallTime > 0 && rep.SimTime > 0 {
		ratio := rep.SimTime.Seconds() / rep.WallTime.Seconds()
		// Wall time is for a person reading; it reaches no trace or result.
		speed = fmt.Sprintf(" (%.0fx real time)", ratio)
		if ratio < 10 {
			speed = fmt.Sprintf(" (%.2gx real time)", ratio)
		}
	}
	fmt.Fprintf(w, "scenario    %s (%s, %s)  seed %d\n", sc.Name, sc.Protocol, plural.Of(sc.Nodes, "node"), rep.Seed)
	fmt.Fprintf(w, "events      %d  simulated %v  wall %v%s\n", rep.Events, rep.SimTime, rep.WallTime.Round(time.Millisecond), speed)
	fmt.Fprintf(w, "operations  ok %d  failed %d  unknown %d\n", rep.Ops.OK, rep.Ops.Failed, rep.Ops.Unknown)
	fmt.Fprintf(w, "leaders     %s\n", describeLeaders(rep))
	if rep.Members != "" {
		fmt.Fprintf(w, "members     %s at the end, after %d configurations committed\n", rep.Members, rep.Configurations)
	}
	fmt.Fprintf(w, "messages    sent %d  delivered %d  dropped %d  duplicated %d\n",
		rep.Messages.Sent, rep.Messages.Delivered, rep.Messages.Dropped, rep.Messages.Duplicated)
	if rep.Faults != "" {
		fmt.Fprintf(w, "faults      %s\n", rep.Faults)
	}
	for _, m := range rep.SwarmOptions {
		fmt.Fprintf(w, "options     %s\n", m)
	}
	for _, m := range rep.Swarm {
		fmt.Fprintf(w, "swarm       %s\n", m)
	}
	if len(rep.Buggify) > 0 {
		fmt.Fprintf(w, "buggify     %s\n", strings.Join(rep.Buggify, " "))
	}
	if len(rep.Byzantine) > 0 {
		fmt.Fprintf(w, "byzantine   %s\n", strings.Join(rep.Byzantine, " "))
	}
	for _, b := range rep.Beyond {
		fmt.Fprintf(w, "beyond      %s\n", b)
	}
	for _, c := range rep.Checks {
		line := fmt.Sprintf("check       %-20s %s", c.Name, c.Verdict)
		if c.Detail != "" && c.Verdict != "pass" {
			line += "  " + c.Detail
		}
		fmt.Fprintln(w, line)
	}
	if rep.ConvergedAfter > 0 {
		fmt.Fprintf(w, "liveness    converged %v after healing\n", rep.ConvergedAfter)
	}
	fmt.Fprintf(w, "trace hash  %s\n", rep.Hash)
	if rep.Crash != nil {
		fmt.Fprintf(w, "crash stack\n%s\n", indent(rep.Crash.Stack))
		if len(rep.Crash.Recent) > 0 {
			fmt.Fprintf(w, "last events before the crash\n%s\n", indent(strings.Join(rep.Crash.Recent, "\n")))
		}
	}
	verdict := strings.ToUpper(string(rep.Class))
	if rep.Reason != "" {
		verdict += ": " + rep.Reason
	}
	fmt.Fprintf(w, "verdict     %s\n", verdict)
}

// describeLeaders counts the run's leaderships, and the announcements when
// a leader announced itself more than once (after a restart, say).
func describeLeaders(rep *runner.Report) string {
	if rep.Announced.Leaders == rep.LeaderChanges {
		return fmt.Sprintf("%d announced", rep.LeaderChanges)
	}
	return fmt.Sprintf("%d announced (in %d announcements)", rep.LeaderChanges, rep.Announced.Leaders)
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ")
}

// resolveScenario reads a scenario file, applies --swarm and finds its
// protocol; every error is bad input.
func (a *app) resolveScenario(path string, swarm []string) (*scenarios.Scenario, runner.Protocol, error) {
	sc, err := loadScenario(path, swarm)
	if err != nil {
		return nil, runner.Protocol{}, badInputErr(err)
	}
	proto, err := a.protocols.Resolve(sc)
	if err != nil {
		return nil, runner.Protocol{}, badInputErr(err)
	}
	return sc, proto, nil
}

// seedOf is the seed to run: the flag if given, else the scenario's, else
// the flag's default.
func seedOf(sc *scenarios.Scenario, flag uint64, flagSet bool) uint64 {
	if !flagSet && sc.Seed != nil {
		return *sc.Seed
	}
	return flag
}

// loadScenario reads a scenario file and applies the --swarm override.
func loadScenario(path string, swarm []string) (*scenarios.Scenario, error) {
	sc, err := scenarios.ParseFile(path)
	if err != nil || len(swarm) == 0 {
		return sc, err
	}
	if err := faults.ValidateSwarmKinds(swarm); err != nil {
		var fe *faults.FieldError
		if errors.As(err, &fe) {
			return nil, fmt.Errorf("--swarm: %s", fe.Msg)
		}
		return nil, fmt.Errorf("--swarm: %w", err)
	}
	sc.Swarm = swarm
	return sc, nil
}

// namedFile is a file a command reads or writes, with the flag that names it.
type namedFile struct{ flag, path string }

// distinctFiles refuses two of files (the empty ones aside) that are one
// file: an output written over the scenario it runs, or two outputs written
// into one file.
func distinctFiles(files []namedFile) error {
	for i, a := range files {
		for _, b := range files[:i] {
			if a.path != "" && b.path != "" && sameFile(a.path, b.path) {
				return badInput("%s %s: the same file as %s", a.flag, a.path, b.flag)
			}
		}
	}
	return nil
}

// sameFile reports whether two paths name one file: the same path once
// cleaned, or one existing file reached two ways.
func sameFile(a, b string) bool {
	absA, errA := filepath.Abs(a)
	absB, errB := filepath.Abs(b)
	if errA == nil && errB == nil && absA == absB {
		return true
	}
	infoA, errA := os.Stat(a)
	infoB, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(infoA, infoB)
}

// defaultOut is where run and sweep write, and shrink writes what it shrank
// from a scenario file, without --out.
const defaultOut = "simrun-out"

// warnLost says on stderr that file flag was not written to the end, and
// returns the bad-input error a run that passed exits with.
func (a *app) warnLost(stderr io.Writer, flag string, err error) error {
	fmt.Fprintf(stderr, "%s: warning: %s: not written: %v\n", a.name, flag, err)
	return badInput("%s: %v", flag, err)
}
