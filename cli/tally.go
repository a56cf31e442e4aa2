package cli

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/simrun/simrun/internal/plural"
	"github.com/simrun/simrun/report"
	"github.com/simrun/simrun/runner"
)

// tally accumulates the results of one version of one scenario (one
// scenario hash) for a summary. Everything it prints but the slowest seeds
// (wall time) depends only on the set of results, not on their order or on
// how many machines produced them: two merged shards summarize like one
// sweep.
type tally struct {
	name, hash string
	bySeed     map[uint64]entry
	// origin holds the file and flags of the first result added: the replay
	// line of a seed that only passed, until a conflict made it fail.
	origin *result
	// conflicts lists seeds reported twice with different trace hashes or
	// different definite verdicts: determinism broken (across builds, when
	// merge finds them on different machines).
	conflicts []string
	// others counts results of other versions found beside this one's, kept
	// apart, never mixed in: by a description of the version, which another
	// scenario hash or another build (of this scenario) tells apart.
	others map[otherVersion]int
	// lastWriter names the build of this scenario version that wrote the
	// file's last line, when it is not the build reading it (loadPrior):
	// merge counts that build's results.
	lastWriter string
	// probes are the coverage probes the scenario's protocol declares, for
	// the summary's probe line (none: no line); probeNames numbers the
	// probe names results reported, for each entry's set of fired probes.
	probes     []runner.Named
	probeNames *probeTable
	// builds interns the Program.Build of the results added, a few
	// distinct strings among millions of entries, with the platform each
	// ran on.
	builds map[string]builtFor
	// of is how many seeds the sweep's range holds, for a summary of part of
	// it (an interrupted sweep); 0 where unknown (merge).
	of uint64
	// file numbers the results file being read (merge reads several): a
	// seed's result from a later build in the same file supersedes the
	// earlier one (add).
	file int32
	// files counts the results files that hold results of this version,
	// and path names the last (merge): the summary's results line.
	files int
	path  string
	// ranges are the ranges and shards the results were swept in, for
	// merge to find the seeds that have no result (unfinished).
	ranges map[sweptRange]bool
	// superseded counts, for merge, the results left apart because a later
	// build continued their file (readInto).
	superseded map[supersededBy]int
	// replayFile is the scenario file known to hold this version now (the
	// one a sweep reads), for replay lines; "" to name the file each result
	// was swept from.
	replayFile string
}

// supersededBy is a result of build that a later build, by, continued in
// the same results file.
type supersededBy struct{ file, build, by string }

// supersededLines describes the superseded results, by file and builds.
func (t *tally) supersededLines() []string {
	var lines []string
	for _, s := range slices.SortedFunc(maps.Keys(t.superseded), func(a, b supersededBy) int {
		return cmp.Or(strings.Compare(a.file, b.file), strings.Compare(a.build, b.build))
	}) {
		lines = append(lines, fmt.Sprintf("%s also holds %s of build %s, which build %s continued with --resume: left apart, not counted",
			s.file, plural.Of(t.superseded[s], "result"), s.build, s.by))
	}
	return lines
}

// entry is what a tally holds of one seed: inline, the few fields every
// summary reads; the whole result only for a failure, which a summary may
// print. A pass costs tens of bytes, so a tally of millions of seeds fits.
type entry struct {
	seed   uint64
	class  runner.Class
	hash   string
	build  string // interned in tally.builds
	file   int32  // tally.file when it was added
	wall   time.Duration
	sim    time.Duration
	events uint64
	full   *result  // nil for a pass
	fired  []uint64 // the probes that fired, a set of probeTable numbers
	// rechecked: the seed ran twice and its trace hashes were compared,
	// in one sweep (--check-determinism) or as two results combined (two
	// machines, a rerun)
	rechecked bool
}

// retriable reports whether the seed's verdict is a Porcupine timeout.
func (e entry) retriable() bool { return e.full != nil && e.full.retriable() }

func newTally(name, hash string) *tally {
	return &tally{name: name, hash: hash, bySeed: map[uint64]entry{}, others: map[otherVersion]int{}, probeNames: &probeTable{},
		builds: map[string]builtFor{}, ranges: map[sweptRange]bool{}, superseded: map[supersededBy]int{}}
}

// add records a result, combining it with an earlier one of the same seed.
// Within one results file, a later build's result supersedes an earlier
// build's instead: the file's sweep ran the seed again after the code
// changed (--resume), and counts only the new build's. Across files, two
// builds' results are combined like any two (shards built on different
// machines must agree).
func (t *tally) add(r result) {
	if t.origin == nil {
		t.origin = &result{Report: runner.Report{File: r.File, Protocol: r.Protocol}, SwarmKinds: r.SwarmKinds, LinTimeout: r.LinTimeout}
	}
	if r.Swept != nil {
		t.ranges[*r.Swept] = true
	}
	e := entry{seed: r.Seed, class: r.Class, hash: r.Hash, build: t.intern(r.Build, r.Platform), file: t.file, wall: r.WallTime,
		sim: r.SimTime, events: r.Events, fired: t.probeNames.set(r.Probes), rechecked: r.Rechecked}
	if r.Class.Failed() {
		e.full = &r
	}
	if prev, ok := t.bySeed[r.Seed]; ok && (prev.file != e.file || prev.build == e.build) {
		// Two trace hashes of the seed were compared, whatever they say.
		compared := prev.hash != "" && r.Hash != ""
		e = t.combine(prev, e)
		e.rechecked = prev.rechecked || r.Rechecked || compared
	}
	t.bySeed[r.Seed] = e
}

// combine decides what two results of one seed of one scenario version
// amount to. Two trace hashes, or two different definite verdicts, break
// determinism. Otherwise a definite verdict wins over an inconclusive one
// (Porcupine ran out of time on one machine and not on another), in
// whichever order the two come, so that merging gives the same summary in
// any order.
func (t *tally) combine(prev, next entry) entry {
	switch {
	case prev.hash != next.hash && prev.hash != "" && next.hash != "" && prev.build != next.build:
		return t.conflict(next, fmt.Sprintf("seed %d: trace hash %s (build %s) and %s (build %s): the builds run it differently",
			next.seed, prev.hash, t.buildName(prev.build), next.hash, t.buildName(next.build)))
	case prev.hash != next.hash && prev.hash != "" && next.hash != "":
		return t.conflict(next, fmt.Sprintf("seed %d: trace hash %s and %s", next.seed, prev.hash, next.hash))
	case prev.class == runner.Nondeterministic:
		return prev
	case next.class == runner.Nondeterministic, prev.class == runner.Inconclusive:
		return next
	case prev.class == next.class && withoutArtifacts(prev) && !withoutArtifacts(next):
		return next // a later sweep wrote the artifacts the budget left out
	case next.class == runner.Inconclusive, prev.class == next.class:
		return prev
	default:
		return t.conflict(next, fmt.Sprintf("seed %d: trace hash %s judged %s and %s", next.seed, next.hash, prev.class, next.class))
	}
}

// withoutArtifacts reports whether a failing seed's result says the sweep
// wrote no artifacts for it (--max-artifacts).
func withoutArtifacts(e entry) bool { return e.full != nil && e.full.NoArtifacts }

// builtFor is a build and the platform (GOOS/GOARCH) it ran on, where its
// results say.
type builtFor struct{ build, platform string }

// intern returns the tally's copy of build, noting the platform it ran on.
func (t *tally) intern(build, platform string) string {
	b, ok := t.builds[build]
	if !ok {
		b.build = build
	}
	if b.platform == "" {
		b.platform = platform
		t.builds[build] = b
	}
	return b.build
}

// buildName is how summaries name a build: with its platform where known,
// since a seed run differently on two platforms is the platforms' doing
// more often than the code's.
func (t *tally) buildName(build string) string {
	if p := t.builds[build].platform; p != "" {
		return report.BuildName(build) + " on " + p
	}
	return report.BuildName(build)
}

// platforms lists the platforms the results ran on, sorted.
func (t *tally) platforms() []string {
	var ps []string
	for _, b := range t.builds {
		if b.platform != "" {
			ps = append(ps, b.platform)
		}
	}
	slices.Sort(ps)
	return slices.Compact(ps)
}

func (t *tally) conflict(e entry, why string) entry {
	t.conflicts = append(t.conflicts, why)
	r := t.resultOf(e)
	r.Class, r.Reason = runner.Nondeterministic, why
	e.class, e.full = runner.Nondeterministic, &r
	return e
}

// resultOf is the whole result of a seed: a pass's is rebuilt from its
// entry, with the file and flags of the tally's first result.
func (t *tally) resultOf(e entry) result {
	if e.full != nil {
		return *e.full
	}
	r := result{Report: runner.Report{Scenario: t.name, ScenarioHash: t.hash, Seed: e.seed, Class: e.class,
		Hash: e.hash, WallTime: e.wall, Events: e.events}}
	if t.origin != nil {
		r.File, r.SwarmKinds, r.LinTimeout = t.origin.File, t.origin.SwarmKinds, t.origin.LinTimeout
	}
	return r
}

// only returns a tally of the seeds keep accepts (a sweep's range and
// shard), so that a summary speaks of the seeds asked for.
func (t *tally) only(keep func(seed uint64) bool) *tally {
	out := newTally(t.name, t.hash)
	out.origin, out.probes, out.probeNames = t.origin, t.probes, t.probeNames
	maps.Copy(out.others, t.others)
	for seed, e := range t.bySeed {
		if keep(seed) {
			out.bySeed[seed] = e
		}
	}
	return out
}

// count returns how many seeds match.
func (t *tally) count(match func(entry) bool) int {
	n := 0
	for _, e := range t.bySeed {
		if match(e) {
			n++
		}
	}
	return n
}

// otherVersion is a version of results a sweep keeps apart: what tells it
// from the sweep's own, for the summary.
type otherVersion struct {
	desc  string // "hash 1a2b..., swept with --swarm all" or "hash 1a2b..., run by build 3c4d..."
	build bool   // the same scenario, another build
}

// otherVersions lists the other versions, sorted by description.
func (t *tally) otherVersions() []otherVersion {
	return slices.SortedFunc(maps.Keys(t.others), func(a, b otherVersion) int { return strings.Compare(a.desc, b.desc) })
}

func (t *tally) total() int { return len(t.bySeed) }

// firstFailure is the first failing seed of the gravest class (byGravity),
// or nil.
func (t *tally) firstFailure() *entry {
	var first *entry
	for _, e := range t.bySeed {
		if !e.class.Failed() {
			continue
		}
		if first == nil || graver(e.class, first.class) || e.class == first.class && e.seed < first.seed {
			first = &e
		}
	}
	return first
}

var classOrder = []runner.Class{runner.Pass, runner.Safety, runner.Liveness, runner.ProtocolCrash,
	runner.Inconclusive, runner.Vacuous, runner.Nondeterministic}

// print writes the summary: the scenario version, counts by class, the
// slowest seeds, where the results are, and the first failing seed with the
// command that replays it, flags included.
func (t *tally) print(w io.Writer, resultsPath, program string) {
	byClass := map[runner.Class]int{}
	for _, e := range t.bySeed {
		byClass[e.class]++
	}
	seeds := plural.Of(len(t.bySeed), "seed")
	if t.of > uint64(len(t.bySeed)) {
		seeds = fmt.Sprintf("%d of %d seeds", len(t.bySeed), t.of)
	}
	fmt.Fprintf(w, "sweep       %s: %s (scenario hash %s)\n", t.name, seeds, t.hash)
	for _, c := range classOrder {
		if n := byClass[c]; n > 0 || c == runner.Pass {
			fmt.Fprintf(w, "  %-16s %d\n", c, n)
		}
	}
	for _, e := range t.slowest(3) {
		fmt.Fprintf(w, "slow        seed %d  %v wall  %d events\n", e.seed, e.wall.Round(time.Millisecond), e.events)
	}
	if line := t.probeLine(); line != "" {
		fmt.Fprintf(w, "probes      %s\n", wrapList(line, summaryWidth, "            "))
	}
	fmt.Fprintf(w, "results     %s\n", resultsPath)
	if e := t.firstFailure(); e != nil {
		first := t.resultOf(*e)
		if t.replayFile != "" {
			first.File = t.replayFile
		}
		fmt.Fprintf(w, "first fail  seed %d  %s: %s\n", first.Seed, first.Class, firstLine(first.Reason))
		if first.File != "" {
			fmt.Fprintf(w, "replay      %s\n", replayCommand(program, first.File, first.Seed, first.replayFlags()))
		}
	}
	if n := t.count(func(e entry) bool { return e.full != nil && len(e.full.Beyond) > 0 }); n > 0 {
		seeds := plural.Of(n, "failing seed")
		fmt.Fprintf(w, "beyond      %s ran the scenario's faults beyond what the protocol assumes (clocks further apart "+
			"than its drift bound, a clock jump, more faulty servers than it tolerates; each report's beyond line says "+
			"where): their failures may be the faults' doing, not the protocol's\n", seeds)
	}
}

// slowest returns the n seeds with the longest wall time (the lower seed
// first among equals), in one pass: a tally may hold millions.
func (t *tally) slowest(n int) []entry {
	slower := func(a, b entry) int {
		return cmp.Or(cmp.Compare(b.wall, a.wall), cmp.Compare(a.seed, b.seed))
	}
	top := make([]entry, 0, n+1)
	for _, e := range t.bySeed {
		i, _ := slices.BinarySearchFunc(top, e, slower)
		if i < n {
			top = slices.Insert(top, i, e)[:min(len(top)+1, n)]
		}
	}
	return top
}

// exitCode is the exit code of the gravest failing class, or exitPass.
func (t *tally) exitCode() int {
	if e := t.firstFailure(); e != nil {
		return exitCodeFor(e.class)
	}
	return exitPass
}

// probeLine reads "41/45 fired; never: a, b, c": how many of the declared
// coverage probes fired in some seed, and, in declaration order, the ones
// none did (runner.ColdProbes): checks the sweep never exercised.
func (t *tally) probeLine() string {
	var union []uint64
	for _, e := range t.bySeed {
		for i, w := range e.fired {
			for len(union) <= i {
				union = append(union, 0)
			}
			union[i] |= w
		}
	}
	fired := map[string]uint64{}
	for i, name := range t.probeNames.names {
		if i/64 < len(union) && union[i/64]&(1<<(i%64)) != 0 {
			fired[name] = 1
		}
	}
	undeclared := undeclaredProbes(t.probes, fired)
	if len(t.probes) == 0 && len(undeclared) == 0 {
		return ""
	}
	cold := runner.ColdProbes(runner.Protocol{Probes: t.probes}, []*runner.Report{{Probes: fired}})
	line := fmt.Sprintf("%d/%d fired", len(t.probes)-len(cold), len(t.probes))
	if len(cold) > 0 {
		line += "; never: " + strings.Join(cold, ", ")
	}
	if len(undeclared) > 0 {
		line += "; fired but not declared (a typo?): " + strings.Join(undeclared, ", ")
	}
	return line
}

// undeclaredProbes lists, sorted, the probes that fired but that the
// protocol does not declare: a misspelt name counts apart from the probe it
// meant, which then reads as never fired.
func undeclaredProbes(declared []runner.Named, fired map[string]uint64) []string {
	var out []string
	for _, name := range slices.Sorted(maps.Keys(fired)) {
		if !slices.ContainsFunc(declared, func(p runner.Named) bool { return p.Name == name }) {
			out = append(out, name)
		}
	}
	return out
}

// summaryWidth is where a long summary line of a list wraps.
const summaryWidth = 100

// wrapList breaks line after the ", " separators of its list so that no
// line passes width columns, counting a label's 12 (the width of indent, with
// which each continuation starts). A single item longer than that stays
// whole.
func wrapList(line string, width int, indent string) string {
	var lines []string
	current := ""
	for _, item := range strings.SplitAfter(line, ", ") {
		if current != "" && len(indent)+len(current)+len(strings.TrimSuffix(item, " ")) > width {
			lines = append(lines, strings.TrimSuffix(current, " "))
			current = ""
		}
		current += item
	}
	return strings.Join(append(lines, current), "\n"+indent)
}

// probeTable numbers probe names, so that an entry keeps the probes that
// fired as a few bits.
type probeTable struct {
	names []string
	index map[string]int
}

// set returns the set of the probes that fired, as bits of their numbers.
func (p *probeTable) set(probes map[string]uint64) []uint64 {
	var bits []uint64
	for name := range probes {
		i, ok := p.index[name]
		if !ok {
			if p.index == nil {
				p.index = map[string]int{}
			}
			i = len(p.names)
			p.names, p.index[name] = append(p.names, name), i
		}
		for len(bits) <= i/64 {
			bits = append(bits, 0)
		}
		bits[i/64] |= 1 << (i % 64)
	}
	return bits
}

// page is the tally as the sweep page shows it: every seed's result in seed
// order, each failure linked to the page of its artifacts (below root,
// beside the results file, of files, it came from) or, without one, given
// its replay line, which names the program as it was run.
func (t *tally) page(root string, files []string, program string) *report.Scenario {
	sc := &report.Scenario{Name: t.name, Hash: t.hash, Reports: map[uint64]string{},
		LeftApart: strings.Join(t.supersededLines(), "; "), Unfinished: t.unfinished()}
	if t.origin != nil {
		sc.SweptWith = strings.TrimPrefix(swarmFlag(t.origin.SwarmKinds), " ")
	}
	for _, seed := range slices.Sorted(maps.Keys(t.bySeed)) {
		e := t.bySeed[seed]
		r := t.pageResult(e)
		if e.class.Failed() {
			if page, ok := report.FailurePage(root, filepath.Dir(files[e.file]), seed, e.hash); ok {
				sc.Reports[seed] = page
			} else if full := t.resultOf(e); full.File != "" {
				r.Replay = replayCommand(program, full.File, seed, full.replayFlags())
			}
		}
		sc.Results = append(sc.Results, r)
	}
	var builds []string
	for _, b := range slices.Sorted(maps.Keys(t.builds)) {
		if b != "" {
			builds = append(builds, t.buildName(b))
		}
	}
	sc.Build = strings.Join(builds, ", ")
	return sc
}

// pageResult is what the sweep page shows of a seed's entry. A seed whose
// results conflicted shows the conflict, not the checks of one of them.
func (t *tally) pageResult(e entry) report.Result {
	r := t.resultOf(e)
	out := report.Result{Scenario: t.name, Seed: e.seed, ScenarioHash: t.hash, Build: e.build, Hash: e.hash,
		Class: string(e.class), Reason: r.Reason, Events: e.events, SimTime: int64(e.sim), WallTime: int64(e.wall),
		Beyond: r.Beyond, Rechecked: e.rechecked || e.class == runner.Nondeterministic}
	if e.class != runner.Nondeterministic {
		for _, c := range r.Checks {
			out.Checks = append(out.Checks, report.Check{Name: c.Name, Verdict: c.Verdict})
		}
	}
	return out
}
