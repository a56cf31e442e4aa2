package faults

import "github.com/simrun/simrun/sim"

// The transfer action: the operator asks the leader to hand its leadership
// to another server (Raft thesis §3.10), as before taking the leader down
// for maintenance. The request reaches the protocol through the world's
// control API (sim.World.Operate); the runner refuses the step for a
// protocol that does not declare it transfers its leadership, and a server
// that does not implement sim.Operable skips it.

func (in *Injector) transfer(i int, s Step) {
	leader := in.Leader()
	switch {
	case leader == sim.None:
		in.skip(i, "no leader known")
		return
	case s.Transfer.Kind == TargetRandom && len(in.runningServers(leader)) == 0:
		in.skip(i, "no other server is running")
		return
	}
	to := in.resolve(i, s.Transfer, leader)
	switch {
	case to == leader:
		in.skip(i, "%v leads already", to)
	case !in.w.Operate(leader, sim.TransferLeadership{To: to}):
		in.skip(i, "leader %v cannot take the request now", leader)
	default:
		in.counts.Transfers++
	}
}

var transferKind = targetKind(func(s *Step) *Target { return &s.Transfer }, transferTargets, actionKind{
	name: "transfer",
	fire: (*Injector).transfer,
})

// transferTargets: a node, or a server drawn among the running ones other
// than the leader.
var transferTargets = []TargetKind{TargetNode, TargetRandom}
