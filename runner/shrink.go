package runner

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/simrun/simrun/checkers"
	"github.com/simrun/simrun/faults"
	"github.com/simrun/simrun/internal/plural"
	"github.com/simrun/simrun/scenarios"
)

// Shrinking: a failing run is reduced, one simplification at a time, to a
// scenario that still fails the same way (same class, same failing check)
// on the same seed: fewer faults, a shorter safety phase, fewer clients,
// keys and operations, lower rates, a calmer network and a smaller cluster.
// The faults are first pinned (faults.Injector.Executed): every random choice
// written out, one step per firing, so dropping one fault does not move the
// others. The result is an ordinary scenario file that replays the failure
// and keeps testing the same situation after the code changes.

// ShrinkOptions tune Shrink.
type ShrinkOptions struct {
	Protocol Protocol
	Seed     uint64
	Options  Options // per-run options; Seed and Trace are set by Shrink
	// MaxRuns bounds the runs Shrink may spend; 0 means DefaultShrinkRuns.
	MaxRuns int
	// Progress, if set, hears about every simplification kept on the first
	// path from the pinned scenario.
	Progress func(step string, size Size)
	// PathDone, if set, hears where each further path ended (path counts
	// from 2) and whether that result is the smallest so far, kept: their
	// steps, much like the first path's, are not told one by one.
	PathDone func(path int, size Size, kept bool)
	// Stop, if set, is asked before every run: true ends shrinking there,
	// with the smallest failure found so far (ShrinkResult.Interrupted), as
	// a spent budget would. It lets a caller stop on Ctrl-C and keep what a
	// long shrink has found.
	Stop func() bool
}

// DefaultShrinkRuns is the run budget of ShrinkOptions that set none.
const DefaultShrinkRuns = 1000

// Size measures a failing scenario and its run.
type Size struct {
	Faults     int           `json:"faults"` // fault steps in the file
	Firings    int           `json:"firings"`
	Nodes      int           `json:"nodes"`
	Clients    int           `json:"clients"`
	Keys       int           `json:"keys"`
	Duration   time.Duration `json:"duration_ns"`
	Operations int           `json:"operations"`
	Events     uint64        `json:"events"`
}

func (s Size) String() string {
	return fmt.Sprintf("%s (%s), %s, %s, %s, %v, %s, %s",
		plural.Of(s.Faults, "fault"), plural.Of(s.Firings, "firing"), plural.Of(s.Nodes, "node"), plural.Of(s.Clients, "client"),
		plural.Of(s.Keys, "key"), s.Duration, plural.Of(s.Operations, "operation"), plural.Of(int(s.Events), "event"))
}

// ShrinkResult is the smallest failing scenario found.
type ShrinkResult struct {
	Scenario      *scenarios.Scenario // pinned to the seed; swarm expanded
	Report        *Report             // its failing run
	Before, After Size
	Runs          int
	// Spent says the runs ran out before shrinking was done: a larger
	// MaxRuns may find a smaller scenario.
	Spent bool
	// Interrupted says ShrinkOptions.Stop ended shrinking: the result is
	// the smallest failure found by then.
	Interrupted bool
	Signature   string // the failure kept: class and failing check
	// AsRun is the scenario as run, pinned to the seed: what File writes
	// when Scenario holds more fault steps than a scenario file may.
	AsRun *scenarios.Scenario
}

// asRunNote heads the file File writes when the shrunk scenario is more
// than a scenario file may hold (scenarios.MaxFileSize): shrinking stopped
// early, with every firing still written out, or the failure needs them.
const asRunNote = "# The shrunk scenario has %d fault steps (%d bytes), more than a scenario\n" +
	"# file holds: this file is the scenario as run, pinned to the failing seed.\n" +
	"# It replays the failure; shrinking with a larger --max-runs may write out\n" +
	"# the few steps that matter.\n"

// File returns the scenario file that replays the result: Scenario, or,
// where that is more than a scenario file may hold, AsRun headed by
// asRunNote; shrunk says which.
func (r *ShrinkResult) File() (data []byte, shrunk bool, err error) {
	data, err = r.Scenario.Marshal()
	if err != nil || len(data) <= scenarios.MaxFileSize {
		return data, true, err
	}
	steps, size := len(r.Scenario.Faults), len(data)
	data, err = r.AsRun.Marshal()
	return append(fmt.Appendf(nil, asRunNote, steps, size), data...), false, err
}

// Shrink reduces a failing seed of sc. It returns an error if the seed does
// not fail or the scenario cannot run.
func Shrink(sc *scenarios.Scenario, so ShrinkOptions) (*ShrinkResult, error) {
	if so.MaxRuns <= 0 {
		so.MaxRuns = DefaultShrinkRuns
	}
	s := &shrinker{so: so}
	first, err := s.run(sc)
	if err != nil {
		return nil, err
	}
	if !first.Class.Failed() {
		return nil, fmt.Errorf("seed %d of %s passes: nothing to shrink", so.Seed, sc.Name)
	}
	s.want, s.limit, s.first = signature(first), first.Events, first
	s.best, s.bestRep = Pinned(sc, first), first
	s.best.Seed = nil
	res := &ShrinkResult{Before: sizeOf(sc, first), Signature: s.want, AsRun: AsRun(sc, first).WithSeed(so.Seed)}
	s.pin()
	start, startRep := s.best, s.bestRep
	s.reduce()
	// Greedy shrinking is path dependent: the first change kept decides which
	// ones still fail afterwards. While runs are left and the result is above
	// the target sizes, shrink again from the pinned scenario along another
	// path (firings dropped one at a time in a shuffled order first, the
	// operations cut early) and keep the smallest result. When only a loose
	// pin replayed the failure (pinStrictly), every other path starts from
	// it instead, and its result counts only if it is no larger than the
	// failing run in any measure.
	best, bestRep := s.best, s.bestRep
	for restart := uint64(1); restart < shrinkPaths && !small(bestRep) && !s.outOfRuns(); restart++ {
		s.best, s.bestRep, s.strict, s.restart = start, startRep, false, restart
		if s.loose != nil && restart%2 == 1 {
			s.best, s.bestRep = s.loose, s.looseRep
		}
		s.reduce()
		kept := smaller(s.bestRep, bestRep) && noLarger(sizeOf(s.best, s.bestRep), res.Before)
		if kept {
			best, bestRep = s.best, s.bestRep
		}
		if s.so.PathDone != nil {
			s.so.PathDone(int(restart)+1, sizeOf(s.best, s.bestRep), kept)
		}
	}
	s.best, s.bestRep = best, bestRep
	res.Scenario, res.Report, res.Runs = s.best.WithSeed(so.Seed), s.bestRep, s.runs
	res.Spent, res.Interrupted = s.starved, s.interrupted
	res.After = sizeOf(s.best, s.bestRep)
	return res, nil
}

// reduce simplifies s.best until nothing changes or the runs run out. The
// first pass simplifies by kind until nothing changes; then the second pass
// looks again at the firings left (re-pinned, repeating steps thinned, in
// pairs) and at the operations, and whenever that removes something,
// everything else gets another go: a fixpoint, bounded by MaxRuns.
func (s *shrinker) reduce() {
	if s.restart > 0 {
		s.shuffledDrops()
		if s.restart%2 == 1 {
			s.strict = true // fewerOps only ever lowers the load
			s.fewerOps()
			s.strict = false
		}
	}
	for !s.outOfRuns() {
		if s.pass() {
			continue
		}
		if !s.finePass() {
			break
		}
	}
}

// shrinkPaths bounds the paths Shrink takes from the pinned scenario.
const shrinkPaths = 5

// Target sizes: a result this small ends the search for a smaller one.
const (
	targetFirings    = 3
	targetOperations = 20
)

func small(rep *Report) bool {
	return len(rep.executed) <= targetFirings && operations(rep) <= targetOperations
}

// smaller orders results by firings, then operations, then events.
func smaller(a, b *Report) bool {
	if fa, fb := len(a.executed), len(b.executed); fa != fb {
		return fa < fb
	}
	if oa, ob := operations(a), operations(b); oa != ob {
		return oa < ob
	}
	return a.Events < b.Events
}

// noLarger reports whether a is no larger than b in any measure.
func noLarger(a, b Size) bool {
	return a.Firings <= b.Firings && a.Nodes <= b.Nodes && a.Clients <= b.Clients && a.Keys <= b.Keys &&
		a.Duration <= b.Duration && a.Operations <= b.Operations && a.Events <= b.Events
}

// shuffledDrops tries dropping each fault step once, in an order drawn from
// the restart number (a fixed xorshift: shrinking stays deterministic).
func (s *shrinker) shuffledDrops() {
	order := make([]int, len(s.best.Faults))
	for i := range order {
		order[i] = i
	}
	x := s.restart*0x9e3779b97f4a7c15 + 1
	for i := len(order) - 1; i > 0; i-- {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		j := int(x % uint64(i+1))
		order[i], order[j] = order[j], order[i]
	}
	dropped := make([]bool, len(order))
	for _, i := range order {
		if s.outOfRuns() {
			return
		}
		// the index of step i among those not dropped yet
		at := i
		for k := range i {
			if dropped[k] {
				at--
			}
		}
		if s.try(fmt.Sprintf("drop fault %d", at), func(c *scenarios.Scenario) bool {
			c.Faults = slices.Delete(c.Faults, at, at+1)
			return true
		}) {
			dropped[i] = true
		}
	}
}

// signature is what must stay the same while shrinking: the failure class
// and, for a safety failure, the first failing check.
func signature(rep *Report) string {
	for _, c := range rep.Checks {
		if c.Verdict == checkers.Fail.String() {
			return string(rep.Class) + "/" + c.Name
		}
	}
	return string(rep.Class)
}

func sizeOf(sc *scenarios.Scenario, rep *Report) Size {
	return Size{Faults: len(sc.Faults), Firings: len(rep.executed), Nodes: sc.Nodes, Clients: sc.Workload.Clients,
		Keys: sc.Workload.Keys, Duration: time.Duration(sc.Duration), Operations: operations(rep), Events: rep.Events}
}

// operations counts the client operations of a run, whatever their outcome.
func operations(rep *Report) int { return rep.Ops.OK + rep.Ops.Failed + rep.Ops.Unknown }

type shrinker struct {
	so      ShrinkOptions
	want    string
	best    *scenarios.Scenario
	bestRep *Report
	runs    int
	limit   uint64  // the original run's events: no candidate may exceed them
	first   *Report // the original run: no candidate may grow past its firings and operations
	// strict, from the second pass on, also refuses a candidate whose run
	// has more firings or operations than the best: the second pass only
	// ever makes the result smaller than the first pass left it.
	strict bool
	// starved says the budget stopped something from being tried;
	// interrupted, that ShrinkOptions.Stop did.
	starved, interrupted bool
	// restart numbers the current path (0: the plain one); see Shrink.
	restart uint64
	// loose is a pinned timeline that fails the same way but with more
	// firings or operations than the run it pins; see pinStrictly.
	loose    *scenarios.Scenario
	looseRep *Report
}

func (s *shrinker) run(sc *scenarios.Scenario) (*Report, error) {
	s.runs++
	opts := s.so.Options
	opts.Seed, opts.Trace = s.so.Seed, nil
	return Run(sc, s.so.Protocol, opts)
}

// try runs a candidate and keeps it if it fails the same way. Every edit
// makes the scenario simpler (fewer faults, nodes, clients, ...), so any
// failing candidate is progress, but its run may not grow past the original
// run's events: the result is smaller in every measure.
func (s *shrinker) try(step string, edit func(c *scenarios.Scenario) bool) bool {
	return s.tryIf(step, edit, func(*scenarios.Scenario, *Report) bool { return true })
}

// outOfRuns reports whether the run budget is spent or the caller stopped
// shrinking, and remembers that something was left untried for it
// (ShrinkResult.Spent, ShrinkResult.Interrupted).
func (s *shrinker) outOfRuns() bool {
	switch {
	case s.starved || s.interrupted:
	case s.so.Stop != nil && s.so.Stop():
		s.interrupted = true
	case s.runs >= s.so.MaxRuns:
		s.starved = true
	}
	return s.starved || s.interrupted
}

// goesBeyond reports whether a candidate's faults go past what the protocol
// tolerates (Report.Beyond) where the failing run's did not: a failure
// there may be the faults' doing, not the bug's (one server corrupting its
// only disk fails any protocol), so the shrinker would trade the bug for
// another failure that only looks the same.
func (s *shrinker) goesBeyond(rep *Report) bool {
	return len(rep.Beyond) > 0 && len(s.first.Beyond) == 0
}

// tryIf is try for an edit that does not simplify the scenario by itself (a
// fault moved in time, the timeline pinned anew): it keeps the candidate
// only if accept also holds for it and its run.
func (s *shrinker) tryIf(step string, edit func(c *scenarios.Scenario) bool, accept func(*scenarios.Scenario, *Report) bool) bool {
	if s.outOfRuns() {
		return false
	}
	c := s.best.Clone()
	if !edit(c) || c.Validate() != nil {
		return false
	}
	rep, err := s.run(c)
	if err != nil || signature(rep) != s.want || rep.Events > s.limit || s.grows(rep) || s.goesBeyond(rep) || !accept(c, rep) {
		return false
	}
	if s.strict && (len(rep.executed) > len(s.bestRep.executed) || operations(rep) > operations(s.bestRep)) {
		return false
	}
	s.best, s.bestRep = c, rep
	if s.so.Progress != nil && s.restart == 0 {
		s.so.Progress(step, sizeOf(c, rep))
	}
	return true
}

// grows reports whether rep has more firings or operations than both the
// original run and the best so far (which has more only on a path that
// starts from a loose pin): an edit that simplifies the scenario may still
// make its run busier (fewer keys, less contention, more operations), and
// the result must stay no larger than the failing run.
func (s *shrinker) grows(rep *Report) bool {
	return len(rep.executed) > max(len(s.first.executed), len(s.bestRep.executed)) ||
		operations(rep) > max(operations(s.first), operations(s.bestRep))
}

// pin replaces the timeline by the pinned firings, if that still fails, or
// else by the alternatives pinStrictly tries.
func (s *shrinker) pin() {
	executed := s.bestRep.executed
	if !s.try("pin the faults as they happened", func(c *scenarios.Scenario) bool {
		c.Faults = slices.Clone(executed)
		return true
	}) {
		s.pinStrictly()
	}
}

// pass tries every kind of simplification once and reports progress.
func (s *shrinker) pass() bool {
	progress := false
	for _, step := range []func() bool{s.cutDuration, s.dropFaults, s.calmNetwork, s.fewerClients,
		s.fewerKeys, s.lowerRate, s.fewerNodes, s.fewerChecks} {
		if step() {
			progress = true
		}
	}
	return progress
}

// finePass is the second look at the faults, once the first pass is stuck:
// re-pin the timeline (steps that no longer strike go), pin leader targets
// to the servers they struck, make crashes plainer (no mid-step cut, no
// recovery crash), merge two crashes of one server, then drop
// pairs of the firings left (a crash and its restart, a partition and its
// heal are often needed only together; each firing alone was just tried by
// dropFaults, in the pass that made no progress), move a fault earlier if
// the failure then comes sooner (shrink_moves.go), and last look for a
// safety phase above the half the first pass tried (cutLate). It stops at
// the first change kept, so that the first pass shrinks the rest around it.
func (s *shrinker) finePass() bool {
	s.strict = true
	return s.repin() || s.pinLeaders() || s.thinRepeats() || s.fewerOps() || s.fewerNodes() ||
		s.plainerCrashes() || s.mergeCrashes() || s.dropFiringPairs() || s.earlier() || s.cutLate()
}

// repin replaces the steps by the firings of the best run, if that changes
// them: fewer steps, or a repeating step (pinning failed at first, but may
// not fail on the smaller scenario).
func (s *shrinker) repin() bool {
	executed := s.bestRep.executed
	if len(executed) >= len(s.best.Faults) && !slices.ContainsFunc(s.best.Faults, faults.Step.Repeats) {
		return false
	}
	return s.try("re-pin the faults that still strike", func(c *scenarios.Scenario) bool {
		c.Faults = slices.Clone(executed)
		return true
	})
}

// stepEdit is one change to one fault step.
type stepEdit struct {
	what string
	set  func(*faults.Step)
}

// thinRepeats makes a repeating step (left when pinning failed) fire less:
// every other period, or only in the later or the earlier half of its window.
func (s *shrinker) thinRepeats() bool {
	for i, st := range s.best.Faults {
		if !st.Repeats() {
			continue
		}
		from, to, every := st.From, st.To, st.Every
		half := from + (to-from)/2
		edits := []stepEdit{{fmt.Sprintf("fault %d every %v", i, time.Duration(2*every)), func(p *faults.Step) { p.Every = 2 * every }}}
		if half-from >= every { // the window is longer than two periods
			edits = append(edits,
				stepEdit{fmt.Sprintf("fault %d from %v", i, time.Duration(half)), func(p *faults.Step) { p.From = half }},
				stepEdit{fmt.Sprintf("fault %d to %v", i, time.Duration(half)), func(p *faults.Step) { p.To = half }})
		}
		for _, e := range edits {
			if s.try(e.what, func(c *scenarios.Scenario) bool { e.set(&c.Faults[i]); return true }) {
				return true
			}
		}
	}
	return false
}

// maxPairFaults bounds the steps whose pairs dropFiringPairs tries: past it
// the pairs would use up the run budget.
const maxPairFaults = 40

// dropFiringPairs removes two fault steps at once, nearest pairs first (a
// fault and the step that undoes it are usually close in the timeline).
func (s *shrinker) dropFiringPairs() bool {
	n := len(s.best.Faults)
	if n < 2 || n > maxPairFaults {
		return false
	}
	for gap := 1; gap < n; gap++ {
		for i := 0; i+gap < n; i++ {
			j := i + gap
			if s.try(fmt.Sprintf("drop faults %d and %d", i, j), func(c *scenarios.Scenario) bool {
				c.Faults = slices.Delete(c.Faults, j, j+1)
				c.Faults = slices.Delete(c.Faults, i, i+1)
				return true
			}) {
				return true
			}
		}
	}
	return false
}

// cutDuration ends the safety phase soon after the failure, or halves it.
func (s *shrinker) cutDuration() bool {
	cur := time.Duration(s.best.Duration)
	var targets []time.Duration
	if s.bestRep.Class != Liveness && s.bestRep.SimTime < cur {
		targets = append(targets, (s.bestRep.SimTime + 100*time.Millisecond).Truncate(100*time.Millisecond))
	}
	for d := cur / 2; d >= 100*time.Millisecond; d /= 2 {
		targets = append(targets, d.Truncate(time.Millisecond))
	}
	for _, d := range targets {
		if d >= cur {
			continue
		}
		if s.tryDuration(d) {
			return true
		}
	}
	return false
}

// cutLate looks for a shorter safety phase above the half that cutDuration
// tried, between it and the whole: a history check judges the run only at
// its end, so a violation in the last part of the phase survives halving,
// and the first pass keeps all of it. Each call tries midpoints upwards
// until one still fails, and keeps it; the next first pass shrinks around
// it, and the next call starts again from the half of the shorter phase,
// so the search ends, over several rounds, within minPhaseStep. It comes
// last, once every other move failed, so that a failure halving can shrink
// takes the same path as without it.
func (s *shrinker) cutLate() bool {
	cur := time.Duration(s.best.Duration)
	for lo := cur / 2; cur-lo > minPhaseStep && !s.outOfRuns(); {
		mid := ((lo + cur) / 2).Truncate(time.Millisecond)
		if s.tryDuration(mid) {
			return true
		}
		lo = mid
	}
	return false
}

// minPhaseStep is the resolution of cutLate: a finer one costs runs and
// saves only a few events.
const minPhaseStep = 100 * time.Millisecond

// tryDuration tries a safety phase of d.
func (s *shrinker) tryDuration(d time.Duration) bool {
	return s.try(fmt.Sprintf("safety phase %v", d), func(c *scenarios.Scenario) bool { return setDuration(c, d) })
}

// setDuration shortens the safety phase and drops the steps that would start
// after it.
func setDuration(c *scenarios.Scenario, d time.Duration) bool {
	c.Duration = scenarios.Duration(d)
	c.Faults = slices.DeleteFunc(c.Faults, func(st faults.Step) bool {
		start := st.At
		if st.Repeats() {
			start = st.From
		}
		return time.Duration(start) >= d
	})
	return true
}

// dropFaults removes fault steps: halves, quarters, ... then one at a time
// (delta debugging).
func (s *shrinker) dropFaults() bool {
	progress := false
	for chunk := max(1, len(s.best.Faults)/2); chunk >= 1; chunk /= 2 {
		for start := 0; start < len(s.best.Faults); {
			end := min(start+chunk, len(s.best.Faults))
			if s.try(fmt.Sprintf("drop faults[%d:%d]", start, end), func(c *scenarios.Scenario) bool {
				c.Faults = slices.Delete(c.Faults, start, end)
				return true
			}) {
				progress = true
				continue // the same start now holds the next steps
			}
			start = end
		}
	}
	return progress
}

// calmNetwork removes loss, duplication and the long tail, then narrows latency.
func (s *shrinker) calmNetwork() bool {
	progress := false
	n := s.best.Network
	if n.Drop > 0 || n.Duplicate > 0 || !n.Tail.IsZero() {
		progress = s.try("calm network", func(c *scenarios.Scenario) bool {
			c.Network.Drop, c.Network.Duplicate, c.Network.Tail = 0, 0, scenarios.Tail{}
			return true
		})
	}
	if l := s.best.Network.Latency; !l.Uniform() || l.Max > l.Min {
		progress = s.try("constant latency", func(c *scenarios.Scenario) bool {
			typical := c.Network.Latency.Typical()
			c.Network.Latency = scenarios.Latency{Min: typical, Max: typical}
			return true
		}) || progress
	}
	return progress
}

func (s *shrinker) fewerClients() bool {
	return s.shrinkInt("clients", s.best.Workload.Clients, 1, func(c *scenarios.Scenario, v int) { c.Workload.Clients = v })
}

func (s *shrinker) fewerKeys() bool {
	return s.shrinkInt("keys", s.best.Workload.Keys, 1, func(c *scenarios.Scenario, v int) { c.Workload.Keys = v })
}

// fewerNodes shrinks the cluster; the protocol rejects sizes it cannot run.
// On the plain path's first pass, fault steps naming a node outside the new
// cluster fail validation; in the second pass and on the other paths, they
// go with it (pinned steps name nodes, and would otherwise keep the cluster
// at full size).
func (s *shrinker) fewerNodes() bool {
	return s.shrinkInt("nodes", s.best.Nodes, 1, func(c *scenarios.Scenario, v int) {
		c.Nodes = v
		if s.strict || s.restart > 0 {
			c.Faults = slices.DeleteFunc(c.Faults, func(st faults.Step) bool { return st.Validate(v) != nil })
		}
	})
}

// shrinkInt tries the smallest value first, then halving, then one less.
func (s *shrinker) shrinkInt(what string, cur, lowest int, set func(*scenarios.Scenario, int)) bool {
	candidates := []int{lowest}
	for v := cur / 2; v > lowest; v /= 2 {
		candidates = append(candidates, v)
	}
	candidates = append(candidates, cur-1)
	for _, v := range candidates {
		if v >= cur || v < lowest {
			continue
		}
		if s.try(fmt.Sprintf("%s %d", what, v), func(c *scenarios.Scenario) bool { set(c, v); return true }) {
			return true
		}
	}
	return false
}

// opsTarget is the operation count fewerOps aims for first.
const opsTarget = 20

// fewerOps cuts the client operations in one jump rather than by halving:
// in closed loop a think time long enough that each client makes a handful
// of calls over the run, in open loop a rate of a handful of arrivals, with
// a backlog of one. The smallest load is tried first. Not for a liveness
// failure: with too little load, "no operation completed" is a failure of
// the workload, not of the protocol, and it looks the same.
func (s *shrinker) fewerOps() bool {
	w, d := s.best.Workload, time.Duration(s.best.Duration)
	if d <= 0 || operations(s.bestRep) <= 1 || s.bestRep.Class == Liveness {
		return false
	}
	if w.Rate > 0 {
		progress := false
		if w.Backlog != 1 {
			progress = s.try("backlog 1", func(c *scenarios.Scenario) bool { c.Workload.Backlog = 1; return true })
		}
		for _, n := range []float64{1, 5, opsTarget} {
			r := scenarios.Rate(n / d.Seconds())
			if r >= s.best.Workload.Rate {
				continue
			}
			if s.try(fmt.Sprintf("rate %v/s", float64(r)), func(c *scenarios.Scenario) bool {
				c.Workload.Rate = r
				return true
			}) {
				return true
			}
		}
		return progress
	}
	clients := max(1, w.Clients)
	for _, per := range []int{1, 2, max(1, opsTarget/clients)} {
		think := (d / time.Duration(per)).Truncate(time.Millisecond)
		if think <= time.Duration(w.ThinkTime) {
			continue
		}
		if s.try(fmt.Sprintf("think time %v", think), func(c *scenarios.Scenario) bool {
			c.Workload.ThinkTime = scenarios.Duration(think)
			return true
		}) {
			return true
		}
	}
	return false
}

// lowerRate halves an open-loop rate, or lengthens a closed-loop think time.
func (s *shrinker) lowerRate() bool {
	w := s.best.Workload
	if w.Rate > 0 {
		return s.try(fmt.Sprintf("rate %v/s", float64(w.Rate)/2), func(c *scenarios.Scenario) bool {
			c.Workload.Rate /= 2
			return true
		})
	}
	think := max(2*time.Duration(w.ThinkTime), 10*time.Millisecond)
	if think > time.Second {
		return false
	}
	return s.try(fmt.Sprintf("think time %v", think), func(c *scenarios.Scenario) bool {
		c.Workload.ThinkTime = scenarios.Duration(think)
		return true
	})
}

// fewerChecks keeps only the failing check (and what it needs), so that a
// regression test built from the result says what it is about.
func (s *shrinker) fewerChecks() bool {
	failing := strings.TrimPrefix(s.want, string(s.bestRep.Class)+"/")
	if len(s.best.Checks) <= 1 || !slices.Contains(s.best.Checks, failing) {
		return false
	}
	return s.try("only check "+failing, func(c *scenarios.Scenario) bool {
		c.Checks = []string{failing}
		if failing != scenarios.CheckLiveness {
			c.Liveness = scenarios.Liveness{}
		}
		return true
	})
}
