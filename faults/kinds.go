package faults

import (
	"slices"
	"time"

	"github.com/simrun/simrun/sim"
)

// Fault kinds. Each action a Step can take is one descriptor, kept in the
// file named for it (kind_crash.go, kind_partition.go, ...): its scenario
// key, validation, description, injection and pinning. Adding a kind takes
// a new file with its descriptor, the Step field that is its scenario key,
// and a line in actionKinds below (and, for the swarm, a line in
// swarmKinds). Nothing else dispatches on an action's name.

// actionKind describes one action of a Step.
type actionKind struct {
	// name is the action's scenario key ("crash"), as the Step field's tag.
	name string
	// has reports whether the step sets this action.
	has func(s *Step) bool
	// text is the action's value in words ("leader", "isolate-leader").
	text func(s *Step) string
	// takesDown: down and max_down qualify it (crash, pause). takesFor: for
	// undoes it after a while.
	takesDown, takesFor bool
	// validate reports an impossible value of the action as a *FieldError.
	validate func(s *Step, servers int) error
	// fire runs the action of step i now.
	fire func(in *Injector, i int, s Step)
	// targets lists the action's target fields in the order fire resolves
	// them, for pinning random targets; nil for none.
	targets func(s *Step) []*Target
	// clone deep-copies the action's value in a copied step; nil when the
	// value has nothing shared (a Target, a string).
	clone func(s *Step)
	// pin writes out what the firing drew for the action's shape (halves,
	// ring order, swizzle orders); nil for none.
	pin func(f *firing, s *Step)
}

// actionKinds lists every action in the order of Step's fields; that order
// names the first of several actions set on an invalid step.
var actionKinds = []actionKind{
	partitionKind, cutKind, clogKind, linkKind, healKind, crashKind, pauseKind,
	restartKind, resumeKind, clockKind, diskKind, corruptKind, swizzleKind,
}

// kindNamed returns the descriptor of the action called name.
func kindNamed(name string) (actionKind, bool) {
	i := slices.IndexFunc(actionKinds, func(k actionKind) bool { return k.name == name })
	if i < 0 {
		return actionKind{}, false
	}
	return actionKinds[i], true
}

// kindNames lists every action's name, for error messages.
func kindNames() []string {
	names := make([]string, len(actionKinds))
	for i, k := range actionKinds {
		names[i] = k.name
	}
	return names
}

var partitionKind = actionKind{
	name: "partition", takesFor: true,
	has:      func(s *Step) bool { return s.Partition != nil },
	text:     func(s *Step) string { return s.Partition.String() },
	validate: func(s *Step, servers int) error { return s.Partition.validate(servers) },
	fire:     (*Injector).partition,
	targets:  func(s *Step) []*Target { return []*Target{&s.Partition.Isolate} },
	clone: func(s *Step) {
		p := *s.Partition
		if s.Partition.Groups != nil {
			p.Groups = make([][]int, len(s.Partition.Groups))
			for i, g := range s.Partition.Groups {
				p.Groups[i] = slices.Clone(g)
			}
		}
		if s.Partition.Ring != nil {
			p.Ring = &Ring{Random: s.Partition.Ring.Random, Order: slices.Clone(s.Partition.Ring.Order)}
		}
		s.Partition = &p
	},
	pin: func(f *firing, s *Step) {
		p := s.Partition
		switch {
		case (p.Halves || p.Bridge) && f.groups != nil:
			p.Halves, p.Bridge, p.Groups = false, false, f.groups
		case p.Ring != nil && p.Ring.Random && f.ring != nil:
			p.Ring = &Ring{Order: f.ring}
		}
	},
}

var cutKind = actionKind{
	name: "cut", takesFor: true,
	has:      func(s *Step) bool { return s.Cut != nil },
	text:     func(s *Step) string { return s.Cut.String() },
	validate: func(s *Step, servers int) error { return s.Cut.validate(servers) },
	fire:     (*Injector).cut,
	targets:  func(s *Step) []*Target { return []*Target{&s.Cut.From, &s.Cut.To} },
	clone:    func(s *Step) { c := *s.Cut; s.Cut = &c },
}

var clogKind = actionKind{
	name: "clog", takesFor: true,
	has:      func(s *Step) bool { return s.Clog != nil },
	text:     func(s *Step) string { return s.Clog.String() },
	validate: func(s *Step, servers int) error { return s.Clog.validate(servers) },
	fire:     (*Injector).clog,
	targets:  func(s *Step) []*Target { return []*Target{&s.Clog.Node, &s.Clog.From, &s.Clog.To} },
	clone:    func(s *Step) { c := *s.Clog; s.Clog = &c },
}

var linkKind = actionKind{
	name: "link", takesFor: true,
	has:      func(s *Step) bool { return s.Link != nil },
	text:     func(s *Step) string { return s.Link.String() },
	validate: func(s *Step, servers int) error { return s.Link.validate(servers) },
	fire:     (*Injector).link,
	targets:  func(s *Step) []*Target { return []*Target{&s.Link.From, &s.Link.To} },
	clone: func(s *Step) {
		l := *s.Link
		l.Latency, l.Tail, l.Drop, l.Duplicate = clonePtr(l.Latency), clonePtr(l.Tail), clonePtr(l.Drop), clonePtr(l.Duplicate)
		s.Link = &l
	},
}

var healKind = actionKind{
	name: "heal",
	has:  func(s *Step) bool { return s.Heal != "" },
	text: func(s *Step) string { return s.Heal },
	fire: func(in *Injector, _ int, s Step) { in.heal(s.Heal) },
	validate: func(s *Step, _ int) error {
		if s.Heal != HealEverything && s.Heal != HealNetwork {
			return fieldErr("heal", "unknown heal scope %q (want all or network)", s.Heal)
		}
		return nil
	},
}

var crashKind = actionKind{
	name: "crash", takesDown: true,
	has:     func(s *Step) bool { return !s.Crash.IsZero() },
	text:    func(s *Step) string { return s.Crash.String() },
	fire:    (*Injector).crash,
	targets: func(s *Step) []*Target { return []*Target{&s.Crash} },
	validate: func(s *Step, servers int) error {
		switch {
		case s.Crash.Kind == TargetAll && s.MaxDown != 0:
			return fieldErr("max_down", "crash all takes every server down at once: max_down cannot hold it back (leave it out, or crash random)")
		case s.Crash.Kind == TargetRolling && s.Down == 0:
			return fieldErr("down", "a rolling restart needs down: how long each server stays down before the next one crashes")
		case s.MidStep && (s.Crash.Kind == TargetAll || s.Crash.Kind == TargetRolling):
			return fieldErr("mid_step", "a mid-step crash strikes one server: crash a node, random or leader")
		}
		return validateTarget("crash", s.Crash, servers, crashables...)
	},
}

var pauseKind = actionKind{
	name: "pause", takesDown: true,
	has:      func(s *Step) bool { return !s.Pause.IsZero() },
	text:     func(s *Step) string { return s.Pause.String() },
	validate: func(s *Step, servers int) error { return validateTarget("pause", s.Pause, servers, anyServer...) },
	fire:     (*Injector).pause,
	targets:  func(s *Step) []*Target { return []*Target{&s.Pause} },
}

var restartKind = actionKind{
	name: "restart",
	has:  func(s *Step) bool { return !s.Restart.IsZero() },
	text: func(s *Step) string { return s.Restart.String() },
	validate: func(s *Step, servers int) error {
		return validateTarget("restart", s.Restart, servers, restartables...)
	},
	fire: func(in *Injector, i int, s Step) { in.restartStep(i, s.Restart) },
}

var resumeKind = actionKind{
	name:     "resume",
	has:      func(s *Step) bool { return !s.Resume.IsZero() },
	text:     func(s *Step) string { return s.Resume.String() },
	validate: func(s *Step, servers int) error { return validateTarget("resume", s.Resume, servers, resumables...) },
	fire:     func(in *Injector, i int, s Step) { in.resumeStep(i, s.Resume) },
}

var clockKind = actionKind{
	name: "clock", takesFor: true,
	has:  func(s *Step) bool { return s.Clock != nil },
	text: func(s *Step) string { return s.Clock.String() },
	validate: func(s *Step, servers int) error {
		if s.For != 0 && s.Clock.Rate == 0 {
			return fieldErr("for", "a clock skew is a jump: it cannot be undone, only a rate can")
		}
		return s.Clock.validate(servers)
	},
	fire:    (*Injector).clock,
	targets: func(s *Step) []*Target { return []*Target{&s.Clock.Node} },
	clone:   func(s *Step) { c := *s.Clock; s.Clock = &c },
}

var diskKind = actionKind{
	name: "disk", takesFor: true,
	has:      func(s *Step) bool { return s.Disk != nil },
	text:     func(s *Step) string { return s.Disk.String() },
	validate: func(s *Step, servers int) error { return s.Disk.validate(servers) },
	fire:     (*Injector).disk,
	targets:  func(s *Step) []*Target { return []*Target{&s.Disk.Node} },
	clone:    func(s *Step) { d := *s.Disk; d.SyncLatency = clonePtr(d.SyncLatency); s.Disk = &d },
}

var corruptKind = actionKind{
	name:     "corrupt",
	has:      func(s *Step) bool { return !s.Corrupt.IsZero() },
	text:     func(s *Step) string { return s.Corrupt.String() },
	validate: func(s *Step, servers int) error { return validateTarget("corrupt", s.Corrupt, servers, anyServer...) },
	fire:     (*Injector).corrupt,
	targets:  func(s *Step) []*Target { return []*Target{&s.Corrupt} },
}

var swizzleKind = actionKind{
	name: "swizzle", takesFor: true,
	has:      func(s *Step) bool { return s.Swizzle != nil },
	text:     func(s *Step) string { return s.Swizzle.String() },
	validate: func(s *Step, servers int) error { return s.Swizzle.validate(servers, s.For) },
	fire:     (*Injector).swizzle,
	clone: func(s *Step) {
		z := *s.Swizzle
		z.Clog, z.Unclog = slices.Clone(z.Clog), slices.Clone(z.Unclog)
		s.Swizzle = &z
	},
	pin: func(f *firing, s *Step) {
		if f.swizzle != nil {
			s.Swizzle = f.swizzle
		}
	},
}

// clonePtr copies the value p points to, so that a clone shares nothing.
func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	c := *p
	return &c
}

// Swarm draws, one per swarm kind (swarm.go lists them in draw order).

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

func drawPause(_ *sim.Rand, servers int, hold Duration) Step {
	return Step{Pause: Random(), Down: hold, MaxDown: minority(servers)}
}

func drawHalves(_ *sim.Rand, _ int, hold Duration) Step {
	return Step{Partition: &Partition{Halves: true}, For: hold}
}

func drawIsolateLeader(_ *sim.Rand, _ int, hold Duration) Step {
	return Step{Partition: &Partition{Isolate: Leader()}, For: hold}
}

// drawBridge falls back to halves below three servers (a bridge needs two
// sides and the bridge).
func drawBridge(rng *sim.Rand, servers int, hold Duration) Step {
	if servers < 3 {
		return drawHalves(rng, servers, hold)
	}
	return Step{Partition: &Partition{Bridge: true}, For: hold}
}

// drawRing falls back to halves below four servers (a ring of three is a
// full mesh of majorities).
func drawRing(rng *sim.Rand, servers int, hold Duration) Step {
	if servers < 4 {
		return drawHalves(rng, servers, hold)
	}
	return Step{Partition: &Partition{Ring: &Ring{Random: true}}, For: hold}
}

func drawClog(_ *sim.Rand, _ int, hold Duration) Step {
	return Step{Clog: &Clog{Node: Random()}, For: hold}
}

func drawSlowLink(rng *sim.Rand, _ int, hold Duration) Step {
	lo := Duration(rng.DurationBetween(20*time.Millisecond, 200*time.Millisecond))
	return Step{Link: &LinkChange{From: Random(), To: Random(), Latency: &Range{Min: lo, Max: 2 * lo}}, For: hold}
}

func drawClockRate(rng *sim.Rand, _ int, hold Duration) Step {
	rates := []float64{0.5, 0.8, 1.25, 2}
	return Step{Clock: &Clock{Node: Random(), Rate: rates[rng.IntN(len(rates))]}, For: hold}
}

func drawSkew(rng *sim.Rand, _ int, _ Duration) Step {
	skew := Duration(rng.DurationBetween(-2*time.Second, 2*time.Second))
	if skew == 0 {
		skew = Duration(time.Second)
	}
	return Step{Clock: &Clock{Node: Random(), Skew: skew}}
}

func drawDisk(rng *sim.Rand, _ int, hold Duration) Step {
	if rng.Chance(0.5) {
		return Step{Disk: &Disk{Node: Random(), TornWrites: true}, For: hold}
	}
	lo := Duration(rng.DurationBetween(time.Millisecond, 20*time.Millisecond))
	return Step{Disk: &Disk{Node: Random(), SyncLatency: &Range{Min: lo, Max: 3 * lo}}, For: hold}
}

// drawCorrupt strikes a random server; the swarm narrows it to its victims.
func drawCorrupt(*sim.Rand, int, Duration) Step { return Step{Corrupt: Random()} }

func drawSwizzle(rng *sim.Rand, servers int, hold Duration) Step {
	every := Duration(rng.DurationBetween(20*time.Millisecond, 200*time.Millisecond).Round(time.Millisecond))
	z := &Swizzle{Every: every}
	return Step{Swizzle: z, For: Duration(z.count(servers)-1)*every + hold}
}

func drawLossyLink(rng *sim.Rand, _ int, hold Duration) Step {
	// A whole number of per mille, by integer draw and one exact division:
	// 0.05 + 0.45*rng.Float64() may be fused into one multiply-add on arm64
	// and amd64 v3 and round differently.
	drop := float64(50+rng.IntN(451)) / 1000
	return Step{Link: &LinkChange{Drop: &drop}, For: hold}
}
