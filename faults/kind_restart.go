package faults

import "github.com/simrun/simrun/sim"

// The restart and resume actions: bring back a crashed or paused server.

func (in *Injector) restartStep(i int, t Target) {
	if t.Kind == TargetAllDown {
		for _, id := range in.servers {
			in.restart(id)
		}
		return
	}
	id := sim.NodeID(t.Node)
	if in.w.Up(id) {
		in.skip(i, "%v is already up", id)
		return
	}
	in.restart(id)
}

func (in *Injector) resumeStep(i int, t Target) {
	if t.Kind == TargetAllPaused {
		for _, id := range in.servers {
			in.resume(id)
		}
		return
	}
	id := sim.NodeID(t.Node)
	if !in.w.Paused(id) {
		in.skip(i, "%v is not paused", id)
		return
	}
	in.resume(id)
}

func (in *Injector) restart(id sim.NodeID) {
	if in.w.Up(id) {
		return
	}
	in.w.Restart(id)
	in.counts.Restarts++
}

func (in *Injector) resume(id sim.NodeID) {
	if !in.w.Paused(id) {
		return
	}
	in.w.Resume(id)
	in.counts.Resumes++
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
