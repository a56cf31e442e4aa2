package paxos

import (
	"strconv"

	"github.com/simrun/simrun/sim"
)

// flush syncs the disk if anything was written. PMS §2.3: an acceptor
// remembers its promise and its accepted proposals across failures, so they
// reach stable storage before any reply that reveals them. Every send goes
// through send, which flushes first: no promise or acceptance leaves ahead of
// the state it depends on.
func (n *node) flush() {
	if n.dirty {
		n.env.Disk().Sync()
		n.dirty, n.lazyWrites = false, 0
	}
}

func (n *node) send(to sim.NodeID, m sim.Message) {
	n.flush()
	n.env.Send(to, m)
}

// assert panics with a clear message when an invariant fails: the kernel
// reports the panic as a protocol crash, with the seed to replay it.
func (n *node) assert(ok bool, what string) {
	if !ok {
		n.fail(what)
	}
}

func (n *node) fail(what string) {
	b := append([]byte("paxos: invariant violated at "), n.id.String()...)
	b = append(b, ": "...)
	b = append(b, what...)
	b = append(b, " (role="...)
	if n.role != 0 {
		b = append(b, n.role.String()...)
	}
	b = append(b, " ballot="...)
	b = strconv.AppendUint(b, n.ballot, 10)
	b = append(b, " promise="...)
	b = strconv.AppendUint(b, n.promise, 10)
	b = append(b, " base="...)
	b = strconv.AppendUint(b, n.base(), 10)
	b = append(b, " commit="...)
	b = strconv.AppendUint(b, n.commit, 10)
	b = append(b, " applied="...)
	b = strconv.AppendUint(b, n.applied, 10)
	b = append(b, " last="...)
	b = strconv.AppendUint(b, n.lastSlot(), 10)
	b = append(b, ')')
	panic(string(b))
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
