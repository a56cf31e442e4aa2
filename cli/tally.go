package cli

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/simrun/simrun/runner"
)

// tally accumulates the results of one scenario for a summary. Everything it
// prints but the slowest seeds (wall time) depends only on the set of
// results, not on their order or on how many machines produced them: two
// merged shards summarize like one sweep.
type tally struct {
	bySeed map[uint64]runner.Report
	// conflicts lists seeds reported twice with different trace hashes (by
	// merge, from different machines): determinism broken across builds.
	conflicts []string
}

func newTally(done map[uint64]runner.Report) *tally {
	t := &tally{bySeed: map[uint64]runner.Report{}}
	for _, rep := range done {
		t.add(&rep)
	}
	return t
}

// add records a result; a seed seen before with another trace hash is a
// determinism conflict, reported as such.
func (t *tally) add(rep *runner.Report) {
	if prev, ok := t.bySeed[rep.Seed]; ok && prev.Hash != rep.Hash && prev.Hash != "" && rep.Hash != "" {
		t.conflicts = append(t.conflicts, fmt.Sprintf("seed %d: trace hash %s and %s", rep.Seed, prev.Hash, rep.Hash))
		r := *rep
		r.Class, r.Reason = runner.Nondeterministic, t.conflicts[len(t.conflicts)-1]
		t.bySeed[rep.Seed] = r
		return
	}
	t.bySeed[rep.Seed] = *rep
}

// reports returns the results sorted by seed.
func (t *tally) reports() []runner.Report {
	out := make([]runner.Report, 0, len(t.bySeed))
	for _, r := range t.bySeed {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b runner.Report) int { return cmp.Compare(a.Seed, b.Seed) })
	return out
}

func (t *tally) total() int { return len(t.bySeed) }

var classOrder = []runner.Class{runner.Pass, runner.Safety, runner.Liveness, runner.ProtocolCrash,
	runner.Inconclusive, runner.Vacuous, runner.Nondeterministic}

// print writes the summary: counts by class, the slowest seeds, where the
// results are, and the first failing seed with its replay command.
func (t *tally) print(w io.Writer, resultsPath, program, replayFlags string) {
	reps := t.reports()
	byClass := map[runner.Class]int{}
	var first *runner.Report
	for i := range reps {
		byClass[reps[i].Class]++
		if first == nil && reps[i].Class.Failed() {
			first = &reps[i]
		}
	}
	name, file := "", ""
	if len(reps) > 0 {
		name, file = reps[0].Scenario, reps[0].File
	}
	fmt.Fprintf(w, "sweep       %s: %d seeds\n", name, len(reps))
	for _, c := range classOrder {
		if n := byClass[c]; n > 0 || c == runner.Pass {
			fmt.Fprintf(w, "  %-16s %d\n", c, n)
		}
	}
	for _, rep := range slowest(reps, 3) {
		fmt.Fprintf(w, "slow        seed %d  %v wall  %d events\n", rep.Seed, rep.WallTime.Round(time.Millisecond), rep.Events)
	}
	fmt.Fprintf(w, "results     %s\n", resultsPath)
	if first != nil {
		fmt.Fprintf(w, "first fail  seed %d  %s: %s\n", first.Seed, first.Class, firstLine(first.Reason))
		if file != "" {
			fmt.Fprintf(w, "replay      %s\n", replayCommand(program, file, first.Seed, replayFlags))
		}
	}
}

// slowest returns the n results with the longest wall time.
func slowest(reps []runner.Report, n int) []runner.Report {
	s := slices.Clone(reps)
	slices.SortStableFunc(s, func(a, b runner.Report) int { return cmp.Compare(b.WallTime, a.WallTime) })
	return s[:min(n, len(s))]
}

// exitCode is the exit code of the first failing seed, or exitPass.
func (t *tally) exitCode() int {
	for _, rep := range t.reports() {
		if rep.Class.Failed() {
			return exitCodeFor(rep.Class)
		}
	}
	return exitPass
}
