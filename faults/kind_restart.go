package faults

import "github.com/simrun/simrun/sim"

// The restart and resume actions: bring back a crashed or paused server.

// bringBack runs back on every server when t is everyone (all-down,
// all-paused), else on t's server, skipping the step when that server is not
// down this way (isDown).
func (in *Injector) bringBack(i int, t Target, everyone TargetKind, isDown func(sim.NodeID) bool, notDown string, back func(sim.NodeID)) {
	if t.Kind == everyone {
		for _, id := range in.servers {
			back(id)
		}
		return
	}
	id := sim.NodeID(t.Node)
	if !isDown(id) {
		in.skip(i, "%v %s", id, notDown)
		return
	}
	back(id)
}

func (in *Injector) restart(id sim.NodeID) {
	if in.w.Up(id) {
		return
	}
	in.w.Restart(id)
	in.counts.Restarts++
	in.forGood = in.forGood.Without(id)
}

func (in *Injector) resume(id sim.NodeID) {
	if !in.w.Paused(id) {
		return
	}
	in.w.Resume(id)
	in.counts.Resumes++
}

var restartKind = targetKind(func(s *Step) *Target { return &s.Restart }, restartables, actionKind{
	name: "restart",
	fire: func(in *Injector, i int, s Step) {
		in.bringBack(i, s.Restart, TargetAllDown, func(id sim.NodeID) bool { return !in.w.Up(id) }, "is already up", in.restart)
	},
})

var resumeKind = targetKind(func(s *Step) *Target { return &s.Resume }, resumables, actionKind{
	name: "resume",
	fire: func(in *Injector, i int, s Step) {
		in.bringBack(i, s.Resume, TargetAllPaused, in.w.Paused, "is not paused", in.resume)
	},
})
