package faults

import "github.com/simrun/simrun/sim"

// The pause fault: stop a server without losing its memory, as a long GC
// pause or a stopped VM does.

func (in *Injector) pause(i int, s Step) {
	if !in.admit(i, s) {
		return
	}
	id := in.nodeTarget(i, s.Pause)
	if id == sim.None {
		return
	}
	if !in.running(id) {
		in.skip(i, "%v is already down or paused", id)
		return
	}
	in.w.Pause(id)
	in.counts.Pauses++
	g := in.pauseClaims.claim(int(id))
	if s.Down > 0 {
		in.later(i, s.Down, "resume "+id.String(), func() {
			if in.pauseClaims.holds(int(id), g) {
				in.resume(id)
			}
		})
	}
}

var pauseKind = actionKind{
	name: "pause", takesDown: true,
	has:      func(s *Step) bool { return !s.Pause.IsZero() },
	text:     func(s *Step) string { return s.Pause.String() },
	validate: func(s *Step, servers int) error { return validateTarget("pause", s.Pause, servers, anyServer...) },
	fire:     (*Injector).pause,
	targets:  func(s *Step) []*Target { return []*Target{&s.Pause} },
}

func drawPause(_ *sim.Rand, servers int, hold Duration) Step {
	return Step{Pause: Random(), Down: hold, MaxDown: minority(servers)}
}
