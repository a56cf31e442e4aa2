package cli

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"iter"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/simrun/simrun/faults"
	"github.com/simrun/simrun/internal/plural"
	"github.com/simrun/simrun/report"
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
	shardGiven bool // --shard was given, if only as "" (an unset variable: --shard "$SHARD")
	recheck    int
	recheckSet bool // --check-determinism given: a sample that ran no seed is worth a line
	swarm      []string
	keep       traceKeep
	profile    profileFlags
	// maxArtifacts bounds the failing seeds of a scenario that get
	// artifacts (0: every one).
	maxArtifacts int
}

const sweepLong = `Run many seeds of each scenario, in parallel worlds (one per core by default).

Every result is appended to <out>/<scenario>/results.jsonl as soon as it
finishes; a failing seed also gets its artifacts under
<out>/<scenario>/failures/seed-<N>/, up to --max-artifacts failing seeds per
scenario (the others keep their result and replay line). Results do not
depend on --parallel: each world is deterministic on its own.

Each result line is fsynced as it is written, so a machine crash loses at most
the last one. Ctrl-C stops dispatching seeds, lets running ones finish and
keeps every result (a second Ctrl-C quits at once, losing only the running
seeds); run the same command again to continue without redoing finished
seeds. Seeds are generated as they are dispatched, so --seeds of any
size starts at once. A sweep locks <out>/<scenario>/ while it runs: a second
sweep on the same directory fails at once (exit 2).

Running the same command again continues only results of the same scenario
version (the scenario_hash of each line); --resume adds this version's
results beside an edited one's, which then count for nothing here. It also
retries every seed whose result is inconclusive because Porcupine's
--lin-timeout ran out, given a larger --lin-timeout (the budget is counted in
search steps, so the same one stops the search at the same step); the summary
says how many were retried. A line of
results.jsonl that is not a complete result is an error naming file:line:
delete that line (or the file) and run the command again.

--shard K/N runs only every Nth seed of the range, starting with the Kth
(0-based, like a Kubernetes Indexed Job's JOB_COMPLETION_INDEX), so N machines
share one sweep; "simrun merge" then combines their results.jsonl files.
--check-determinism reruns a sample of seeds (every Nth of the shard's,
counted from its first, so that each shard rechecks some on its own machine
and a resumed sweep the same ones) and compares trace hashes; a mismatch is
its own failure class, "nondeterministic". Without the flag a sweep reruns
every 100th seed, its first included: a protocol plugged in that lets map
order or the clock into its messages is caught by its first sweep.`

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
			f.recheckSet = cmd.Flags().Changed("check-determinism")
			f.shardGiven = cmd.Flags().Changed("shard")
			return a.sweepAll(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), args, f)
		},
	}
	cmd.Flags().Uint64Var(&f.seeds, "seeds", 100, "how many seeds to run per scenario")
	cmd.Flags().Uint64Var(&f.from, "from", 1, "the first seed")
	cmd.Flags().IntVar(&f.parallel, "parallel", 0, "worlds run at once, at most 1024 (0, the default: one per CPU)")
	cmd.Flags().StringVar(&f.out, "out", defaultOut, "directory for results and failure artifacts")
	cmd.Flags().BoolVar(&f.resume, "resume", false, "add to results.jsonl even if it holds results of an edited scenario or of another build, kept apart (the same scenario and build continue anyway)")
	addLinTimeout(cmd, &f.linTimeout, "seed", "seeds that ran out of it run again when the command is run again with a larger one")
	cmd.Flags().StringSliceVar(&f.swarm, "swarm", nil, "every seed draws its own fault mix among these kinds: all (all,-corrupt: all but corrupt), or "+strings.Join(faults.SwarmKinds, ", "))
	cmd.Flags().StringVar(&f.shard, "shard", "", "run only shard K/N of the seeds (0 <= K < N), e.g. $JOB_COMPLETION_INDEX/8")
	cmd.Flags().IntVar(&f.recheck, "check-determinism", runner.DefaultRecheckEvery, "run every Nth seed twice and compare trace hashes (alone: every 10th; 0: none); the count goes after an equals sign")
	cmd.Flags().Lookup("check-determinism").NoOptDefVal = "10"
	cmd.Flags().IntVar(&f.maxArtifacts, "max-artifacts", DefaultMaxArtifacts,
		"write artifacts for at most this many failing seeds of each scenario (0: all); the others keep their result and replay line")
	f.keep.addFlags(cmd)
	f.profile.addFlags(cmd)
	return cmd
}

// stopOnInterrupt returns a context that the first interrupt (Ctrl-C,
// SIGTERM) cancels, after saying, in what, what happens then; and the
// function that releases the signals. A second interrupt ends the process
// at once (one run of a long scenario may take minutes), as the signal's
// default action would: restoring that default is not enough, since a
// program started in the background of a script starts with SIGINT
// ignored, and would ignore the second one too.
func stopOnInterrupt(ctx context.Context, stderr io.Writer, what string) (context.Context, func()) {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := context.WithCancel(ctx)
	interrupts := make(chan os.Signal, 2)
	released := make(chan struct{})
	signal.Notify(interrupts, os.Interrupt, syscall.SIGTERM)
	go awaitInterrupt(ctx, stop, interrupts, released, stderr, what, quitAtOnce)
	return ctx, func() {
		signal.Stop(interrupts)
		close(released)
		stop()
	}
}

// awaitInterrupt cancels ctx (stop) at the first interrupt, unless ctx ends
// first, and then calls quit at a second one, unless the watch is released
// first.
func awaitInterrupt(ctx context.Context, stop context.CancelFunc, interrupts chan os.Signal, released <-chan struct{},
	stderr io.Writer, what string, quit func(os.Signal)) {
	select {
	case <-interrupts:
		fmt.Fprintln(stderr, "stopping: "+what)
		stop()
	case <-ctx.Done():
		return
	}
	select {
	case sig := <-interrupts:
		quit(sig)
	case <-released:
	}
}

// quitAtOnce ends the process as the signal would have: with 128 plus its
// number, the status a shell reports for a process a signal killed.
func quitAtOnce(sig os.Signal) {
	if s, ok := sig.(syscall.Signal); ok {
		os.Exit(128 + int(s))
	}
	os.Exit(exitInternal)
}

func (a *app) sweepAll(ctx context.Context, stdout, stderr io.Writer, paths []string, f sweepFlags) (err error) {
	if err := validateSweepFlags(f); err != nil {
		return err
	}
	defer collectLessForManyRuns(worldsAtOnce(f))()
	stopProfiles, err := f.profile.start()
	if err != nil {
		return err
	}
	defer stopProfiles(&err)
	// Every result written by then is kept (each line is fsynced); the
	// running seeds' are lost, and run again when the sweep continues.
	ctx, release := stopOnInterrupt(ctx, stderr, "the running seeds finish and are kept; a second interrupt quits at once "+
		"(theirs are then lost, and run again when the sweep continues)")
	defer release()
	toSweep, err := a.checkScenarios(paths, f)
	if err != nil {
		return err
	}
	worst := exitPass
	for _, sw := range toSweep {
		code, err := a.sweepOne(ctx, stdout, stderr, sw, f)
		if err != nil {
			// A failure found in an earlier scenario is the finding: its
			// code wins over a later scenario's error.
			var ex *exitError
			if worst != exitPass && errors.As(err, &ex) {
				return &exitError{code: graverCode(worst, ex.code), msg: ex.msg}
			}
			return err
		}
		worst = graverCode(worst, code)
		if ctx.Err() != nil {
			// A failure found is the finding, interrupted or not (a shard
			// stopped by SIGTERM must not hide it); else the sweep is short.
			return &exitError{code: cmp.Or(worst, exitInternal), msg: "interrupted; run the same command again to continue"}
		}
	}
	fmt.Fprintf(stdout, "page        %s report %s draws the page of every result under it, earlier sweeps' included (rates, timings, a page per failure)\n", a.command, shellQuote(f.out))
	if worst != exitPass {
		return &exitError{code: worst}
	}
	return nil
}

// sweptScenario is a scenario file read and resolved for a sweep.
type sweptScenario struct {
	path        string
	sc          *scenarios.Scenario
	proto       runner.Protocol
	fingerprint string
}

// checkScenarios reads every scenario file before any seed runs, so that a
// mistake in the last file is found at once, not after hours of sweeping
// the others. It returns the scenarios to sweep: a file whose scenario is
// the same (name and content) as one before it adds nothing and is left
// out; two different scenarios of one name are refused, since their results
// would share one directory of --out.
func (a *app) checkScenarios(paths []string, f sweepFlags) ([]sweptScenario, error) {
	byDir := map[string]sweptScenario{}
	var keep []sweptScenario
	for _, path := range paths {
		sc, proto, err := a.resolveScenario(path, f.swarm)
		if err != nil && f.recheckSet && isCount(path) && missing(path) {
			// "--check-determinism 5": a flag whose value is optional takes
			// it only after an equals sign, so the count became a file.
			return nil, badInput("%s: no such scenario file; --check-determinism takes its count after an equals sign: --check-determinism=%s", path, path)
		}
		if err != nil {
			return nil, err
		}
		if err := runner.Check(sc, proto); err != nil {
			return nil, buildErr(err) // one error, not one per seed
		}
		fingerprint, err := scenarioFingerprint(sc)
		if err != nil {
			return nil, internalErr(err)
		}
		sw := sweptScenario{path: path, sc: sc, proto: proto, fingerprint: fingerprint}
		dir := safeName(sc.Name)
		first, ok := byDir[dir]
		switch {
		case !ok:
			byDir[dir] = sw
			keep = append(keep, sw)
		case first.fingerprint != fingerprint:
			return nil, badInput("%v", sc.Errorf("name", "%q names %s too: their results would share %s; give one another name",
				sc.Name, first.path, filepath.Join(f.out, dir)))
		}
	}
	return keep, nil
}

// maxParallel bounds --parallel: every world holds its own scenario and
// state, so a typo of a few more digits would only exhaust memory.
const maxParallel = 1024

func validateSweepFlags(f sweepFlags) error {
	if err := f.keep.check(); err != nil {
		return err
	}
	switch {
	case f.seeds == 0:
		return badInput("--seeds: must be at least 1")
	case f.parallel < 0:
		return badInput("--parallel: must not be negative, got %d", f.parallel)
	case f.parallel > maxParallel:
		return badInput("--parallel: at most %d worlds at once (each is single-threaded: one per core is what helps), got %d",
			maxParallel, f.parallel)
	case f.linTimeout <= 0:
		return badInput("--lin-timeout: must be positive, got %v", f.linTimeout)
	case f.out == "":
		return badInput("--out: empty: name the directory for results and failure artifacts")
	case f.from+f.seeds < f.from: // a range ends before 2^64, so that its end is a number
		return badInput("--from %d with --seeds %d: a sweep's last seed is %d at the most (simrun run --seed runs any one seed)",
			f.from, f.seeds, uint64(math.MaxUint64-1))
	case f.recheck < 0:
		return badInput("--check-determinism: must not be negative, got %d", f.recheck)
	case f.maxArtifacts < 0:
		return badInput("--max-artifacts: must not be negative (0 writes them all), got %d", f.maxArtifacts)
	case f.shardGiven && f.shard == "":
		return badInput("--shard: empty: give K/N, such as 0/4 (leave the flag out to run every seed)")
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

// sweepOne sweeps one scenario file and returns the exit code of its
// gravest failing class (exitPass if none).
func (a *app) sweepOne(ctx context.Context, stdout, stderr io.Writer, sw sweptScenario, f sweepFlags) (int, error) {
	path, sc, proto, fingerprint := sw.path, sw.sc, sw.proto, sw.fingerprint
	dir := filepath.Join(f.out, safeName(sc.Name))
	lock, err := lockResults(dir)
	if err != nil {
		return 0, err
	}
	defer lock.unlock()
	resultsPath := filepath.Join(dir, report.ResultsFile)
	v := resultsVersion{hash: fingerprint, build: a.build()}
	earlier, err := loadPrior(resultsPath, sc.Name, v, f.resume)
	if err != nil {
		return 0, err
	}
	results, err := openResults(resultsPath)
	if err != nil {
		return 0, badInput("--out: %v", err)
	}
	defer results.Close()

	s := newSweepRun(f, earlier, path, v, dir, newArtifactBudget(dir, f.maxArtifacts))
	s.prog = newProgress(stderr, sc.Name, s.todo, s.before, s.beforeFailed)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	so := runner.SweepOptions{
		// The scenario read, checked and fingerprinted before the first
		// seed: the file may have changed since.
		Load:          func() (*scenarios.Scenario, error) { return sc.Clone(), nil },
		Protocol:      proto,
		Seeds:         s.seeds,
		Parallel:      worldsAtOnce(f),
		Options:       runner.Options{LinearizabilityTimeout: f.linTimeout},
		RecheckEvery:  f.recheck,
		RecheckFrom:   f.from,
		RecheckShards: s.swept.Of,
		OnFailure: func(sc *scenarios.Scenario, rep *runner.Report) error {
			if !s.budget.take(rep.Seed) {
				return nil
			}
			_, err := runner.WriteArtifactsWith(failureDir(dir, rep.Seed), sc, proto, rep,
				runner.Options{Seed: rep.Seed, LinearizabilityTimeout: f.linTimeout}, f.keep.options(a.command))
			if err != nil {
				s.budget.giveBack()
			}
			return err
		},
	}
	sweepErr := runner.Sweep(ctx, so, func(r runner.SweepResult) {
		if err := s.record(r, results, stderr, a.name); err != nil {
			cancel() // results that cannot be kept are not worth running
		}
	})
	s.prog.finish()
	if s.loadErr != nil {
		return 0, internalErr(s.loadErr)
	}
	s.tally.probes = proto.Probes
	s.tally.print(stdout, resultsPath, a.command)
	if s.writeErr != nil {
		return 0, s.writeFailure(resultsPath)
	}
	s.printNotes(stdout, earlier, resultsPath, a.command)
	if sweepErr != nil {
		fmt.Fprintf(stdout, "interrupted: %s kept in %s; run the same command again to continue\n", plural.Of(s.tally.total(), "result"), resultsPath)
	}
	return s.tally.exitCode(), nil
}

// failureDir is where a failing seed's artifacts go.
func failureDir(dir string, seed uint64) string {
	return filepath.Join(dir, "failures", fmt.Sprintf("seed-%d", seed))
}

// lockResults creates a scenario's results directory and locks it for this
// sweep. Either failing is bad input naming --out: the directory cannot be
// written, or another sweep is using it.
func lockResults(dir string) (*dirLock, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, badInput("--out: cannot create %s: %v", dir, err)
	}
	lock, err := lockDir(dir)
	var locked *lockedError
	switch {
	case errors.As(err, &locked):
		return nil, badInput("%s", locked.Error())
	case err != nil:
		return nil, badInput("--out: %v", err)
	}
	return lock, nil
}

// sweepRun is one sweep of one scenario: the seeds it still has to run and
// what it has seen so far.
type sweepRun struct {
	f       sweepFlags
	swept   sweptRange // f's range and shard, stored with each result
	path    string
	version resultsVersion
	dir     string // the scenario's results directory
	seeds   iter.Seq[uint64]
	todo    int64
	before  int64 // seeds of the range an earlier sweep finished
	// beforeFailed is how many of those failed: the progress counts them.
	beforeFailed int64
	tally        *tally
	retriable    map[uint64]bool // seeds whose stored result a Porcupine budget may decide otherwise now
	retried      int
	resolved     int             // retried seeds that reached a verdict this time
	rewrite      map[uint64]bool // failing seeds whose artifacts an earlier sweep did not write
	rewritten    int
	rechecked    int // seeds run twice by --check-determinism in this sweep
	recorded     int // results this sweep appended
	// recheckedBefore counts the seeds an earlier sweep finished, and this
	// one does not run again, that were run twice then.
	recheckedBefore int
	prog            *progress
	budget          *artifactBudget
	skipped         int   // failing seeds left without artifacts by --max-artifacts
	loadErr         error // a run could not be built
	writeErr        error // results.jsonl could not be written
	lost            int   // results not recorded after writeErr
	leftWithout     int   // failing seeds an earlier sweep left without artifacts, and this one too
	// lostFailures names the failing seeds among the lost results, and
	// lostCode is the gravest exit code among them: a verdict found must
	// not hide behind the write error.
	lostFailures []string
	lostCode     int
}

// newSweepRun plans the sweep: the seeds of the range and shard, without
// those an earlier sweep of this scenario version finished. A stored
// inconclusive result from Porcupine's time budget is not finished: it runs
// again, with this sweep's --lin-timeout. Nor is a failing seed an earlier
// sweep left without artifacts (--max-artifacts) while the budget now has
// room: the lowest of them run again to write theirs.
func newSweepRun(f sweepFlags, earlier *tally, path string, v resultsVersion, dir string, budget *artifactBudget) *sweepRun {
	k, n, _ := parseShard(f.shard)
	inSweep := func(seed uint64) bool {
		return seed >= f.from && seed-f.from < f.seeds && (seed-f.from)%n == k
	}
	s := &sweepRun{f: f, path: path, version: v, dir: dir, tally: earlier.only(inSweep), retriable: map[uint64]bool{},
		rewrite: map[uint64]bool{}, swept: sweptRange{From: f.from, Seeds: f.seeds, Shard: k, Of: n}, budget: budget}
	// The file swept now holds this version: replay lines name it, not the
	// file an earlier sweep of the version read, which may have changed.
	s.tally.replayFile = path
	done := map[uint64]bool{} // a snapshot: the dispatcher reads it while results arrive
	var without []uint64      // failing seeds without artifacts: left out by the budget, or lost
	for seed, e := range s.tally.bySeed {
		switch {
		case e.full != nil && e.full.retryWith(f.linTimeout):
			s.retriable[seed] = true
		case lacksArtifacts(dir, e), e.full != nil && e.full.NoArtifacts:
			// Runs again, for the same result and its artifacts, where
			// the budget has room: without room, a seed whose artifacts
			// were deleted would run again at every resume, and the
			// sweep would never be done.
			without = append(without, seed)
		default:
			done[seed] = true
			if e.rechecked {
				s.recheckedBefore++
			}
		}
	}
	slices.Sort(without)
	for i, seed := range without {
		if budget.room(i + 1) {
			s.rewrite[seed] = true
		} else {
			done[seed] = true
			s.leftWithout++
		}
	}
	s.seeds = runner.SeedRange(f.from, f.seeds, k, n, func(seed uint64) bool { return done[seed] })
	s.todo = int64(min(runner.ShardSize(f.seeds, k, n)-uint64(len(done)), math.MaxInt64)) // the progress counts in int64
	s.before = int64(len(done))
	for seed := range done {
		if s.tally.bySeed[seed].class.Failed() {
			s.beforeFailed++
		}
	}
	s.tally.of = runner.ShardSize(f.seeds, k, n)
	return s
}

// lacksArtifacts reports whether a failing seed that gets artifacts has
// none of its own: writing them failed (a full disk, a file in the way)
// after its result was kept, or another version of the scenario swept into
// the same directory (--resume) wrote its failure of the seed over them. A
// nondeterministic seed, and one that ended without a trace (a panic
// outside the protocol's handlers), get none.
func lacksArtifacts(dir string, e entry) bool {
	if !e.class.Failed() || e.class == runner.Nondeterministic || e.hash == "" || e.full != nil && e.full.NoArtifacts {
		return false
	}
	_, err := os.Stat(filepath.Join(failureDir(dir, e.seed), report.File))
	_, ours := report.FailurePage(dir, dir, e.seed, e.hash)
	return err != nil || !ours
}

// record keeps one seed's outcome: appended to results.jsonl (and fsynced)
// before it counts, so the summary never speaks of a result the file lacks.
func (s *sweepRun) record(r runner.SweepResult, results *os.File, stderr io.Writer, program string) error {
	if r.Err != nil && r.Report == nil {
		if s.loadErr == nil { // one error, not one per seed
			s.loadErr = fmt.Errorf("seed %d: %w", r.Seed, r.Err)
		}
		return r.Err // stop dispatching: every other seed would fail alike
	}
	if r.Err != nil {
		fmt.Fprintf(stderr, "%s: warning: seed %d: artifacts not written: %v\n", program, r.Seed, r.Err)
	}
	if s.writeErr != nil {
		s.lose(r.Report)
		return s.writeErr
	}
	res := result{Report: *r.Report, SwarmKinds: s.f.swarm, LinTimeout: s.f.linTimeout, Swept: &s.swept}
	res.File, res.ScenarioHash, res.Build, res.Platform = s.path, s.version.hash, s.version.build, platform()
	res.NoArtifacts = res.Class.Failed() && s.budget.skippedArtifacts(res.Seed)
	if err := appendResult(results, &res); err != nil {
		s.writeErr = err
		s.lose(r.Report)
		return err
	}
	if s.rewrite[res.Seed] && r.Err == nil && !res.NoArtifacts {
		s.rewritten++
	}
	if res.NoArtifacts {
		s.skipped++
	}
	if res.Rechecked {
		s.rechecked++
	}
	if s.retriable[res.Seed] {
		s.retried++
		if !res.retriable() {
			s.resolved++
		}
		if !res.Class.Failed() { // the inconclusive run's artifacts no longer describe this seed
			_ = os.RemoveAll(failureDir(s.dir, res.Seed))
		}
	}
	s.tally.add(res)
	s.recorded++
	s.prog.add(res.Class.Failed())
	return nil
}

// lose counts a result that could not be recorded, and keeps its verdict
// if it failed.
func (s *sweepRun) lose(rep *runner.Report) {
	s.lost++
	if rep.Class.Failed() {
		s.lostFailures = append(s.lostFailures, fmt.Sprintf("seed %d %s", rep.Seed, rep.Class))
		s.lostCode = graverCode(s.lostCode, exitCodeFor(rep.Class))
	}
}

// writeFailure is the error of a sweep whose results file could not be
// written: bad input naming --out, unless a seed failed, whose code wins.
func (s *sweepRun) writeFailure(resultsPath string) error {
	msg := fmt.Sprintf("--out: writing %s: %v (%s of this sweep not recorded", resultsPath, s.writeErr, plural.Of(s.lost, "result"))
	if len(s.lostFailures) > 0 {
		msg += "; failing among them: " + strings.Join(s.lostFailures, ", ")
	}
	code := graverCode(s.tally.exitCode(), s.lostCode)
	if code == exitPass {
		code = exitBadInput
	}
	return &exitError{code: code, msg: msg + ")"}
}

// printNotes adds to the summary what a user must know to read it: retried
// seeds, seeds still waiting for a verdict, results of other versions.
func (s *sweepRun) printNotes(w io.Writer, earlier *tally, resultsPath, program string) {
	if s.retried > 0 {
		fmt.Fprintf(w, "retried     %s retried with --lin-timeout %v: %d reached a verdict\n",
			plural.Of(s.retried, "inconclusive seed"), s.f.linTimeout, s.resolved)
	}
	switch {
	case s.rechecked+s.recheckedBefore > 0:
		before := ""
		if s.recheckedBefore > 0 {
			before = fmt.Sprintf(" (%d by an earlier sweep)", s.recheckedBefore)
		}
		fmt.Fprintf(w, "determinism %s run twice%s and their trace hashes compared (a mismatch is a nondeterministic seed)\n",
			plural.Of(s.rechecked+s.recheckedBefore, "seed"), before)
	case s.f.recheck > 0 && s.f.recheckSet:
		fmt.Fprintf(w, "determinism no seed run twice: --check-determinism checks only the seeds a sweep runs, and this one ran none of its sample (one seed in %d of the shard's; finished seeds are not run again: sweep them into another --out to check them)\n", s.f.recheck)
	}
	if none := s.skipped + s.leftWithout; none > 0 {
		fmt.Fprintf(w, "artifacts   written for %s (--max-artifacts %d); %d more %s none: their results and replay lines are in results.jsonl (the same command with a larger --max-artifacts, or 0 for all, writes theirs)\n",
			plural.Of(s.budget.writtenCount(), "failing seed"), s.f.maxArtifacts, none, hasOrHave(uint64(none)))
	}
	if s.rewritten > 0 {
		fmt.Fprintf(w, "rewritten   %s run again to write the artifacts an earlier sweep did not\n", plural.Of(s.rewritten, "failing seed"))
	}
	if n := s.tally.count(entry.retriable); n > 0 {
		fmt.Fprintf(w, "timed out   %s inconclusive (Porcupine's --lin-timeout ran out): run the same command again with a larger --lin-timeout to retry them\n", plural.Of(n, "seed"))
	}
	if s.recorded == 0 && earlier.lastWriter != "" {
		// merge counts a file's latest build: the one that wrote last.
		fmt.Fprintf(w, "note        build %s wrote the last results of %s (--resume): %s merge and report count its results, not this build's, until this build writes one (remove its lines, or finish its sweep with it)\n",
			earlier.lastWriter, resultsPath, program)
	}
	for _, other := range earlier.otherVersions() {
		what, hint := "another version of this scenario", fmt.Sprintf(" (%s merge summarizes each version)", program)
		if other.build {
			what, hint = "another build", ""
		}
		fmt.Fprintf(w, "other       %s also holds %s of %s (%s), left apart: not counted or continued here%s\n",
			resultsPath, plural.Of(earlier.others[other], "result"), what, other.desc, hint)
	}
}

// scenarioFingerprint identifies the scenario a sweep runs (its canonical
// form, after --swarm), so that a sweep continues only results of the same
// scenario.
func scenarioFingerprint(sc *scenarios.Scenario) (string, error) {
	// The order of swarm kinds changes no draw (each kind has its place in
	// faults.SwarmKinds), so it does not make another version either.
	sc = sc.Clone()
	slices.Sort(sc.Swarm)
	data, err := sc.Marshal()
	if err != nil {
		return "", err
	}
	h := fnv.New64a()
	h.Write(data)
	return fmt.Sprintf("%016x", h.Sum64()), nil
}

// sweptWith names the --swarm a result was swept with, which is part of
// its version: the flag changes every seed's faults.
func sweptWith(kinds []string) string {
	if len(kinds) == 0 {
		return ""
	}
	return ", swept with" + swarmFlag(kinds)
}

// resultsVersion is what a sweep's results must share to be continued: the
// scenario (its fingerprint, --swarm included) and the build that ran it.
type resultsVersion struct{ hash, build string }

// differs describes how r's version differs from v, for messages, or "".
func (v resultsVersion) differs(r *result) string {
	switch {
	case r.ScenarioHash != v.hash:
		return fmt.Sprintf("scenario hash %s%s", r.ScenarioHash, sweptWith(r.SwarmKinds))
	case r.Build != v.build:
		return fmt.Sprintf("scenario hash %s, run by build %s", r.ScenarioHash, report.BuildName(r.Build))
	}
	return ""
}

// loadPrior reads the results of earlier sweeps of this version, so that
// running the same command again continues instead of redoing or
// overwriting finished seeds. Results of another version (the file was
// edited, or the code rebuilt, since) are an error unless --resume insists;
// then they stay in the file but count for nothing here. A last line cut
// short by an interruption is dropped from the file.
func loadPrior(path, name string, v resultsVersion, resume bool) (*tally, error) {
	t := newTally(name, v.hash)
	complete, err := readResults(path, func(line int, r result) error {
		other := v.differs(&r)
		t.lastWriter = ""
		switch {
		case other == "":
			t.add(r)
		case r.Scenario != name: // not a version of this one: --resume cannot keep it
			return badInput("%s:%d: a result of another scenario (%q, %s; this is %q): choose another --out",
				path, line, r.Scenario, other, name)
		case !resume && r.ScenarioHash == v.hash:
			return badInput("%s:%d: a result of another build (%s; now build %s): the code may run its seeds differently; run them again with another --out, or pass --resume to add this build's results beside it",
				path, line, other, v.build)
		case !resume:
			return badInput("%s:%d: a result of another version of this scenario (%s, now %s): choose another --out, or pass --resume to add this version's results beside it",
				path, line, other, v.hash)
		default:
			t.others[otherVersion{desc: other, build: r.ScenarioHash == v.hash}]++
			if r.ScenarioHash == v.hash {
				t.lastWriter = report.BuildName(r.Build)
			}
		}
		return nil
	})
	if errors.Is(err, os.ErrNotExist) {
		return t, nil
	}
	if err != nil {
		var ex *exitError
		if errors.As(err, &ex) {
			return nil, err
		}
		return nil, badInput("--out: %v", err)
	}
	if info, err := os.Stat(path); err == nil && info.Size() > complete {
		if err := os.Truncate(path, complete); err != nil {
			return nil, badInput("--out: %v", err)
		}
	}
	return t, nil
}

func firstLine(s string) string {
	if i := bytes.IndexByte([]byte(s), '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// worldsAtOnce is how many worlds the sweep runs at a time, which sizes the
// collector's memory limit: --parallel (0: one per CPU), but no more than
// the seeds of a scenario, since scenarios are swept one after another.
func worldsAtOnce(f sweepFlags) int {
	w := f.parallel
	if w <= 0 {
		w = runtime.GOMAXPROCS(0)
	}
	if f.seeds > 0 && f.seeds < uint64(w) {
		w = int(f.seeds)
	}
	return w
}

// missing reports whether no file stands at path.
func missing(path string) bool {
	_, err := os.Stat(path)
	return errors.Is(err, fs.ErrNotExist)
}

// isCount reports whether s is written as a whole number.
func isCount(s string) bool {
	_, err := strconv.ParseUint(s, 10, 64)
	return err == nil
}
