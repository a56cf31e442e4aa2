package runner

import (
	"fmt"
	"slices"
	"time"

	"github.com/simrun/simrun/faults"
	"github.com/simrun/simrun/scenarios"
)

// Moves of the second pass that keep the interleaving where they can: each
// removal moves every later message and timer, so a fault the bug does not
// need in principle is often needed by this seed's interleaving. These moves
// change the timeline in ways that disturb it less: the same servers struck,
// one crash instead of two of the same server, a fault moved earlier.

// pinLeaders replaces the timeline by the best run's firings with every
// leader target pinned to the server it struck: after that, dropping a fault
// that moved the leadership no longer moves where the later leader faults
// strike. Kept only if the failure stays.
func (s *shrinker) pinLeaders() bool {
	if !slices.ContainsFunc(s.best.Faults, faults.Step.TargetsLeader) {
		return false
	}
	onServers := s.bestRep.onServers
	return s.try("pin leader targets to the servers they struck", func(c *scenarios.Scenario) bool {
		c.Faults = slices.Clone(onServers)
		return true
	})
}

// pinStrictly is for a pinned timeline that does not replay the failure.
// Two things make it diverge: a leader target that found no leader drew its
// server from the faults stream, which the pinned random targets no longer
// advance; and a firing of a repeating step was scheduled during the run, so
// it came after the other events of its instant (a restart due then), while
// the pinned step, scheduled before the run, comes before them, and may find
// max_down reached where the firing did not. So it tries the leader targets
// pinned to the servers they struck, then that without max_down (every
// pinned firing was admitted when it struck). A pin that fails the same way
// but with more firings or operations than the run it pins is not kept; the
// first one is remembered as the start of another path (see Shrink).
func (s *shrinker) pinStrictly() bool {
	onServers := s.bestRep.onServers
	noMaxDown := slices.Clone(onServers)
	for i := range noMaxDown {
		noMaxDown[i].MaxDown = 0
	}
	for _, p := range []struct {
		what  string
		steps []faults.Step
	}{{"pin the faults to the servers they struck", onServers},
		{"pin the faults to the servers they struck, without max_down", noMaxDown}} {
		if s.tryIf(p.what, func(c *scenarios.Scenario) bool {
			c.Faults = slices.Clone(p.steps)
			return true
		}, s.noLargerOrLoose) {
			return true
		}
	}
	return false
}

// noLargerOrLoose accepts a candidate whose run has no more firings and
// operations than the best's; it remembers the first other one as s.loose.
func (s *shrinker) noLargerOrLoose(c *scenarios.Scenario, rep *Report) bool {
	if len(rep.executed) <= len(s.bestRep.executed) && operations(rep) <= operations(s.bestRep) {
		return true
	}
	if s.loose == nil {
		s.loose, s.looseRep = c, rep
	}
	return false
}

// mergeCrashes turns two one-shot crashes of the same server, the second
// after the first's restart, into one crash that stays down until the second
// one's restart: one firing fewer, and the server is down when the second
// crash had it down.
func (s *shrinker) mergeCrashes() bool {
	fs := s.best.Faults
	for i, a := range fs {
		if !plainCrash(a) || a.Down <= 0 {
			continue
		}
		for j := i + 1; j < len(fs); j++ {
			b := fs[j]
			if !plainCrash(b) || b.Crash != a.Crash {
				continue
			}
			if b.At < a.At+a.Down {
				break // the second crash struck while the first still held it down
			}
			down := faults.Duration(0) // down until the end of the safety phase
			if b.Down > 0 {
				down = b.At + b.Down - a.At
			}
			if s.try(fmt.Sprintf("merge the crashes of %v at %v and %v", a.Crash, time.Duration(a.At), time.Duration(b.At)),
				func(c *scenarios.Scenario) bool {
					c.Faults[i].Down = down
					c.Faults = slices.Delete(c.Faults, j, j+1)
					return true
				}) {
				return true
			}
			break // only the next crash of the same server
		}
	}
	return false
}

// plainerCrashes takes from one crash step its recovery crash, or else its
// mid-step cut, if the failure stays: a shrunk file then keeps only the cuts
// the failure needs, and a plain crash can merge with another.
func (s *shrinker) plainerCrashes() bool {
	for i, st := range s.best.Faults {
		if st.Action() != "crash" {
			continue
		}
		var edits []stepEdit
		if st.RecoveryCrash {
			edits = append(edits, stepEdit{fmt.Sprintf("fault %d without its recovery crash", i),
				func(p *faults.Step) { p.RecoveryCrash, p.RecoveryKeep = false, 0 }})
		}
		if st.MidStep {
			edits = append(edits, stepEdit{fmt.Sprintf("fault %d between steps", i),
				func(p *faults.Step) { p.MidStep, p.Keep = false, 0 }})
		}
		for _, e := range edits {
			if s.try(e.what, func(c *scenarios.Scenario) bool { e.set(&c.Faults[i]); return true }) {
				return true
			}
		}
	}
	return false
}

// plainCrash: a one-shot crash of one named server, between steps, whose
// restart is a plain one.
func plainCrash(st faults.Step) bool {
	return st.Action() == "crash" && st.Crash.Kind == faults.TargetNode && !st.MidStep && !st.RecoveryCrash && !st.Repeats()
}

// earlier moves one-shot faults earlier, from the last one back, to a few
// times between the step before it and its own time. It keeps a move only if
// the failure comes soon enough sooner that the safety phase, and the
// operations in it, can be cut (failsSooner).
func (s *shrinker) earlier() bool {
	fs := s.best.Faults
	for i := len(fs) - 1; i >= 0; i-- {
		if fs[i].Repeats() {
			continue
		}
		lo := faults.Duration(0)
		if i > 0 && !fs[i-1].Repeats() {
			lo = fs[i-1].At
		}
		at := fs[i].At
		for _, k := range []faults.Duration{1, 2, 3} { // a quarter, a half, three quarters of the way
			t := faults.Duration(time.Duration(lo + (at-lo)*k/4).Truncate(time.Millisecond))
			if t <= lo || t >= at {
				continue
			}
			if s.tryIf(fmt.Sprintf("fault %d at %v", i, time.Duration(t)), func(c *scenarios.Scenario) bool {
				c.Faults[i].At = t
				return true
			}, s.failsSooner) {
				return true
			}
		}
	}
	return false
}

// failsSooner accepts a run that fails in fewer events and early enough that
// cutDuration can end the safety phase at least 100ms sooner; smaller gains
// would spend the run budget on moves that cut nothing.
func (s *shrinker) failsSooner(_ *scenarios.Scenario, rep *Report) bool {
	return rep.Events < s.bestRep.Events && rep.Class != Liveness &&
		(rep.SimTime+100*time.Millisecond).Truncate(100*time.Millisecond) < time.Duration(s.best.Duration)
}
