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
	in.undoLater(i, s.Down, "resume "+id.String(), in.pauseClaims, id, g, in.resume)
}

var pauseKind = targetKind(func(s *Step) *Target { return &s.Pause }, anyServer, actionKind{
	name: "pause", takesDown: true,
	fire: (*Injector).pause,
})

func drawPause(_ *sim.Rand, servers int, hold Duration) Step {
	return Step{Pause: Random(), Down: hold, MaxDown: minority(servers)}
}
