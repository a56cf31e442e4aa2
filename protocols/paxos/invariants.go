package paxos

import (
	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

// assert panics with a clear message when an invariant fails: the kernel
// reports the panic as a protocol crash, with the seed to replay it.
func (n *node) assert(ok bool, what string) {
	if !ok {
		n.fail(what)
	}
}

func (n *node) fail(what string) {
	state := sim.TraceLine(nil).Word("role="+n.role.String()).Uint("ballot", n.ballot).Uint("promise", n.promise).
		Uint("base", n.base()).Uint("commit", n.commit).Uint("applied", n.applied).Uint("last", n.lastSlot())
	panic(service.InvariantViolation("paxos", n.id, what, state))
}

// checkInvariants runs after every handler; every check is O(1).
func (n *node) checkInvariants() {
	n.assert(n.base() <= n.applied && n.applied <= n.commit && n.commit <= n.lastSlot(),
		"base <= applied <= commit <= last slot")
	n.assert(n.env.Disk().Unsynced() == n.lazyWrites, "unsynced writes at the end of a handler")
	n.assert(len(n.decided) == 0, "chosen slots left unannounced")
	if r := n.rec(n.commit + 1); r != nil {
		n.assert(!r.chosen, "a chosen slot right after the commit index")
	}
	switch n.role {
	case roleLeader:
		n.assert(n.lead == n.id && n.owner(n.ballot) == n.id, "a leader leads its own ballot")
		n.assert(n.promise == n.ballot, "a leader's acceptor promised its ballot and no higher")
		n.assert(n.next > n.commit && !n.isChosen(n.next), "the next free slot is free")
	case roleProposer:
		n.assert(n.lead == sim.None && n.owner(n.ballot) == n.id, "a proposer knows no leader and owns its ballot")
		n.assert(n.promise == n.ballot, "a proposer's acceptor promised its ballot and no higher")
	}
}
