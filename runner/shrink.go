package runner

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/simrun/simrun/checkers"
	"github.com/simrun/simrun/faults"
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
	// Progress, if set, hears about every simplification kept.
	Progress func(step string, size Size)
}

// DefaultShrinkRuns is the run budget of ShrinkOptions that set none.
const DefaultShrinkRuns = 400

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
	return fmt.Sprintf("%d faults (%d firings), %d nodes, %d clients, %d keys, %v, %d operations, %d events",
		s.Faults, s.Firings, s.Nodes, s.Clients, s.Keys, s.Duration, s.Operations, s.Events)
}

// ShrinkResult is the smallest failing scenario found.
type ShrinkResult struct {
	Scenario      *scenarios.Scenario // pinned to the seed; swarm expanded
	Report        *Report             // its failing run
	Before, After Size
	Runs          int
	Signature     string // the failure kept: class and failing check
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
	s.want, s.limit = signature(first), first.Events
	s.best, s.bestRep = Pinned(sc, first), first
	s.best.Seed = nil
	res := &ShrinkResult{Before: sizeOf(sc, first), Signature: s.want}
	s.pin()
	for s.runs < so.MaxRuns && s.pass() {
	}
	res.Scenario, res.Report, res.Runs = s.best.WithSeed(so.Seed), s.bestRep, s.runs
	res.After = sizeOf(s.best, s.bestRep)
	return res, nil
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
	ok, failed, unknown := rep.Ops.OK, rep.Ops.Failed, rep.Ops.Unknown
	return Size{Faults: len(sc.Faults), Firings: len(rep.executed), Nodes: sc.Nodes, Clients: sc.Workload.Clients,
		Keys: sc.Workload.Keys, Duration: time.Duration(sc.Duration), Operations: ok + failed + unknown, Events: rep.Events}
}

type shrinker struct {
	so      ShrinkOptions
	want    string
	best    *scenarios.Scenario
	bestRep *Report
	runs    int
	limit   uint64 // the original run's events: no candidate may exceed them
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
	if s.runs >= s.so.MaxRuns {
		return false
	}
	c := s.best.Clone()
	if !edit(c) || c.Validate() != nil {
		return false
	}
	rep, err := s.run(c)
	if err != nil || signature(rep) != s.want || rep.Events > s.limit {
		return false
	}
	s.best, s.bestRep = c, rep
	if s.so.Progress != nil {
		s.so.Progress(step, sizeOf(c, rep))
	}
	return true
}

// pin replaces the timeline by the pinned firings, if that still fails.
func (s *shrinker) pin() {
	executed := s.bestRep.executed
	s.try("pin the faults as they happened", func(c *scenarios.Scenario) bool {
		c.Faults = slices.Clone(executed)
		return true
	})
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
		if s.try(fmt.Sprintf("safety phase %v", d), func(c *scenarios.Scenario) bool { return setDuration(c, d) }) {
			return true
		}
	}
	return false
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
	if s.best.Network.Latency.Max > s.best.Network.Latency.Min {
		progress = s.try("constant latency", func(c *scenarios.Scenario) bool {
			c.Network.Latency.Max = c.Network.Latency.Min
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

// fewerNodes shrinks the cluster; the protocol rejects sizes it cannot run,
// and fault steps naming a node outside the new cluster fail validation.
func (s *shrinker) fewerNodes() bool {
	return s.shrinkInt("nodes", s.best.Nodes, 1, func(c *scenarios.Scenario, v int) { c.Nodes = v })
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
