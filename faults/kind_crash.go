package faults

import (
	"github.com/simrun/simrun/sim"
)

// The crash fault: crash a server (a node, random, the leader), every server
// at once, or every server in turn; between steps, or inside one (mid_step).
// Down restarts it later, and recovery_crash crashes it again inside that
// restart's start-up; max_down caps how many are down at once.

func (in *Injector) crash(i int, s Step) {
	switch s.Crash.Kind {
	case TargetAll:
		in.crashAll(i, s)
		return
	case TargetRolling:
		in.rollingRestart(i, s, 0)
		return
	}
	if !in.admit(i, s) {
		return
	}
	id := in.nodeTarget(i, s.Crash)
	if id == sim.None {
		return
	}
	if !in.w.Up(id) {
		in.skip(i, "%v is already down", id)
		return
	}
	if s.MidStep {
		in.crashMidStep(i, s, id)
		return
	}
	pinned := len(in.executed) // record appends this firing there, right after fire
	g := in.crashServer(id)
	in.staysDown(id, s.Down)
	in.undoLater(i, s.Down, "restart "+id.String(), in.crashClaims, id, g, in.restartAfter(i, s, pinned))
}

// staysDown notes a server crashed with no restart to come (down not
// positive): it counts against a configuration's majority as a damaged disk
// does.
func (in *Injector) staysDown(id sim.NodeID, down Duration) {
	if down <= 0 {
		in.forGood = in.forGood.With(id)
	}
}

// CrashedForGood lists the servers that steps crash by number with no
// down, in ID order: faulty by design, like Byzantine ones, so that a
// swarm's storage faults keep to what is left of the fault budget
// (SwarmCluster.Faulty). A restart step later in the timeline is not looked
// for: the count errs towards fewer storage faults.
func CrashedForGood(steps []Step) []int {
	return numbered(steps, func(s Step) Target {
		if s.Down > 0 {
			return Target{}
		}
		return s.Crash
	})
}

// restartAfter is how a crash of step s, recorded at executed[pinned],
// ends: a restart, or with recovery_crash a restart cut by a crash inside
// its start-up, whose cut the record pins, and a plain restart after down.
func (in *Injector) restartAfter(i int, s Step, pinned int) func(sim.NodeID) {
	if !s.RecoveryCrash {
		return in.restart
	}
	return func(id sim.NodeID) {
		if in.w.Up(id) {
			return
		}
		in.restart(id)
		in.w.CrashMidStep(id, s.RecoveryKeep, func(kept int) {
			if pinned < len(in.executed) {
				in.executed[pinned].RecoveryKeep = kept
			}
			g := in.crashed(id)
			in.undoLater(i, s.Down, "restart "+id.String()+" after its recovery crashed", in.crashClaims, id, g, in.restart)
		})
	}
}

// crashMidStep arms a torn step on id; the crash, its count and its restart
// timer happen when the step is torn. Until then the server counts as down
// for max_down (downCount), and an armed server that is crashed otherwise is
// disarmed. A server that makes no effects (one that halted) is never torn
// and keeps counting as down, as a halted server is down to its peers.
func (in *Injector) crashMidStep(i int, s Step, id sim.NodeID) {
	in.firing.scheduled = true // pinned even though nothing changed yet
	pinned := len(in.executed) // record appends this firing there, right after fire
	in.w.CrashMidStep(id, s.Keep, func(kept int) {
		if pinned < len(in.executed) {
			in.executed[pinned].Keep = kept // the cut, for a pinned replay and shrinking
		}
		g := in.crashed(id)
		in.staysDown(id, s.Down)
		in.undoLater(i, s.Down, "restart "+id.String(), in.crashClaims, id, g, in.restartAfter(i, s, pinned))
	})
}

// crashServer crashes a server that is up and claims it; the claim is what a
// later restart of this crash must still hold.
func (in *Injector) crashServer(id sim.NodeID) uint32 {
	in.w.Crash(id)
	return in.crashed(id)
}

// crashed counts and claims a crash of id that just happened.
func (in *Injector) crashed(id sim.NodeID) uint32 {
	in.counts.Crashes++
	if in.diskFaults.values[id].TornWrites {
		in.torn = in.torn.With(id)
	}
	if id == in.leader {
		in.leader = sim.None // its term stays the highest: a stale leader is no leader
	}
	return in.crashClaims.claim(int(id))
}

// crashAll crashes every server that is up at once and, with down, restarts
// each of them after it (unless a later crash claimed it meanwhile).
func (in *Injector) crashAll(i int, s Step) {
	var ids []sim.NodeID
	var gens []uint32
	for _, id := range in.servers {
		if in.w.Up(id) {
			ids, gens = append(ids, id), append(gens, in.crashServer(id))
		}
	}
	if len(ids) == 0 {
		in.skip(i, "every server is already down")
		return
	}
	for _, id := range ids {
		in.staysDown(id, s.Down)
	}
	if s.Down > 0 {
		in.later(i, s.Down, "restart all", func() {
			restarted := 0
			for k, id := range ids {
				if in.crashClaims.holds(int(id), gens[k]) {
					in.restart(id)
					restarted++
				}
			}
			if restarted == 0 {
				in.note(i, "did nothing: later faults own the restart of every server")
			}
		})
	}
}

// rollingRestart crashes server k for down, then restarts it and goes on
// with server k+1, in ID order: one server down at a time, as an operator
// upgrading a cluster does. A server already down, or one that max_down
// holds back, is skipped, and its turn passes idle.
func (in *Injector) rollingRestart(i int, s Step, k int) {
	in.firing.scheduled = true
	id := in.servers[k]
	crashed, g := false, uint32(0)
	switch {
	case !in.admit(i, s):
	case !in.w.Up(id):
		in.skip(i, "%v is already down", id)
	default:
		crashed, g = true, in.crashServer(id)
	}
	what := "restart " + id.String()
	if k+1 < len(in.servers) {
		what += ", crash " + in.servers[k+1].String()
	}
	in.later(i, s.Down, what, func() {
		switch {
		case crashed && in.crashClaims.holds(int(id), g):
			in.restart(id)
		case crashed:
			in.note(i, "did nothing for %v: a later fault on it owns its restart", id)
		}
		if k+1 < len(in.servers) {
			in.rollingRestart(i, s, k+1)
		}
	})
}

var crashKind = targetKind(func(s *Step) *Target { return &s.Crash }, crashables, actionKind{
	name: "crash", takesDown: true,
	fire: (*Injector).crash,
	validate: func(s *Step, _ int) error {
		switch {
		case s.Crash.Kind == TargetAll && s.MaxDown != 0:
			return fieldErr("max_down", "crash all takes every server down at once: max_down cannot hold it back (leave it out, or crash random)")
		case s.Crash.Kind == TargetRolling && s.Down == 0:
			return fieldErr("down", "a rolling restart needs down: how long each server stays down before the next one crashes")
		case s.MidStep && (s.Crash.Kind == TargetAll || s.Crash.Kind == TargetRolling):
			return fieldErr("mid_step", "a mid-step crash strikes one server: crash a node, random or leader")
		case s.RecoveryCrash && (s.Crash.Kind == TargetAll || s.Crash.Kind == TargetRolling):
			return fieldErr("recovery_crash", "a recovery crash strikes one server: crash a node, random or leader")
		case s.RecoveryCrash && s.Down == 0:
			return fieldErr("recovery_crash", "a recovery crash strikes the restart that ends down: give down")
		}
		return nil
	},
})

func drawCrash(_ *sim.Rand, servers int, hold Duration) Step {
	return Step{Crash: Random(), Down: hold, MaxDown: minority(servers)}
}

func drawCrashLeader(_ *sim.Rand, servers int, hold Duration) Step {
	return Step{Crash: Leader(), Down: hold, MaxDown: minority(servers)}
}

func drawCrashAll(_ *sim.Rand, _ int, hold Duration) Step {
	return Step{Crash: All(), Down: hold}
}

func drawRollingRestart(_ *sim.Rand, servers int, hold Duration) Step {
	return Step{Crash: Rolling(), Down: hold, MaxDown: minority(servers)}
}

func drawCrashMidStep(_ *sim.Rand, servers int, hold Duration) Step {
	return Step{Crash: Random(), MidStep: true, Down: hold, MaxDown: minority(servers)}
}

func drawCrashRecovery(_ *sim.Rand, servers int, hold Duration) Step {
	return Step{Crash: Random(), RecoveryCrash: true, Down: hold, MaxDown: minority(servers)}
}
