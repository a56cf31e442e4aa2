package cli

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/simrun/simrun/runner"
)

// tally accumulates the results of one version of one scenario (one
// scenario hash) for a summary. Everything it prints but the slowest seeds
// (wall time) depends only on the set of results, not on their order or on
// how many machines produced them: two merged shards summarize like one
// sweep.
type tally struct {
	name, hash string
	bySeed     map[uint64]result
	// conflicts lists seeds reported twice with different trace hashes or
	// different definite verdicts: determinism broken (across builds, when
	// merge finds them on different machines).
	conflicts []string
	// others counts results of other versions of the scenario found beside
	// this one's, by scenario hash: kept apart, never mixed in.
	others map[string]int
}

func newTally(name, hash string) *tally {
	return &tally{name: name, hash: hash, bySeed: map[uint64]result{}, others: map[string]int{}}
}

// add records a result, combining it with an earlier one of the same seed.
func (t *tally) add(r result) {
	if prev, ok := t.bySeed[r.Seed]; ok {
		r = t.combine(prev, r)
	}
	t.bySeed[r.Seed] = r
}

// combine decides what two results of one seed of one scenario version
// amount to. Two trace hashes, or two different definite verdicts, break
// determinism. Otherwise a definite verdict wins over an inconclusive one
// (Porcupine ran out of time on one machine and not on another), in
// whichever order the two come, so that merging gives the same summary in
// any order.
func (t *tally) combine(prev, next result) result {
	switch {
	case prev.Hash != next.Hash && prev.Hash != "" && next.Hash != "":
		return t.conflict(next, fmt.Sprintf("seed %d: trace hash %s and %s", next.Seed, prev.Hash, next.Hash))
	case prev.Class == runner.Nondeterministic:
		return prev
	case next.Class == runner.Nondeterministic, prev.Class == runner.Inconclusive:
		return next
	case next.Class == runner.Inconclusive, prev.Class == next.Class:
		return prev
	default:
		return t.conflict(next, fmt.Sprintf("seed %d: trace hash %s judged %s and %s", next.Seed, next.Hash, prev.Class, next.Class))
	}
}

func (t *tally) conflict(r result, why string) result {
	t.conflicts = append(t.conflicts, why)
	r.Class, r.Reason = runner.Nondeterministic, why
	return r
}

// only returns a tally of the seeds keep accepts (a sweep's range and
// shard), so that a summary speaks of the seeds asked for.
func (t *tally) only(keep func(seed uint64) bool) *tally {
	out := newTally(t.name, t.hash)
	maps.Copy(out.others, t.others)
	for seed, r := range t.bySeed {
		if keep(seed) {
			out.bySeed[seed] = r
		}
	}
	return out
}

// count returns how many results match.
func (t *tally) count(match func(*result) bool) int {
	n := 0
	for _, r := range t.bySeed {
		if match(&r) {
			n++
		}
	}
	return n
}

// otherVersions lists the scenario hashes of the other versions, sorted.
func (t *tally) otherVersions() []string {
	return slices.Sorted(maps.Keys(t.others))
}

// reports returns the results sorted by seed.
func (t *tally) reports() []result {
	out := slices.Collect(maps.Values(t.bySeed))
	slices.SortFunc(out, func(a, b result) int { return cmp.Compare(a.Seed, b.Seed) })
	return out
}

func (t *tally) total() int { return len(t.bySeed) }

var classOrder = []runner.Class{runner.Pass, runner.Safety, runner.Liveness, runner.ProtocolCrash,
	runner.Inconclusive, runner.Vacuous, runner.Nondeterministic}

// print writes the summary: the scenario version, counts by class, the
// slowest seeds, where the results are, and the first failing seed with the
// command that replays it, flags included.
func (t *tally) print(w io.Writer, resultsPath, program string) {
	reps := t.reports()
	byClass := map[runner.Class]int{}
	var first *result
	for i := range reps {
		byClass[reps[i].Class]++
		if first == nil && reps[i].Class.Failed() {
			first = &reps[i]
		}
	}
	fmt.Fprintf(w, "sweep       %s: %d seeds (scenario hash %s)\n", t.name, len(reps), t.hash)
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
		if first.File != "" {
			fmt.Fprintf(w, "replay      %s\n", replayCommand(program, first.File, first.Seed, first.replayFlags()))
		}
	}
}

// slowest returns the n results with the longest wall time.
func slowest(reps []result, n int) []result {
	s := slices.Clone(reps)
	slices.SortStableFunc(s, func(a, b result) int { return cmp.Compare(b.WallTime, a.WallTime) })
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
