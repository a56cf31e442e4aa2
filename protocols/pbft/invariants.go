package pbft

import "github.com/simrun/simrun/sim"

// assert panics with a clear message when a local invariant fails: the
// kernel reports the panic as a protocol crash, with the seed to replay it.
// Only properties of this replica's own state are asserted: what depends on
// the other replicas being honest is left to the checkers, so that a run
// with more than f Byzantine replicas ends in a safety violation, not a
// crash.
func (n *node) assert(ok bool, what string) {
	if !ok {
		n.fail(what)
	}
}

func (n *node) fail(what string) {
	panic("pbft: invariant violated: " + what + " (" + n.String() + ")")
}

// checkInvariants runs after every handler of a correct replica; every check
// is O(1).
func (n *node) checkInvariants() {
	if n.byz != nil || n.servers == nil {
		return
	}
	n.assert(n.env.Disk().Unsynced() == 0, "unsynced writes at the end of a handler")
	n.assert(len(n.log) <= n.cfg.LogWindow, "the log outgrew the window")
	n.assert(n.snap.cert.Seq <= n.h && n.snap.cert.Seq <= n.exec, "the stable state held is past the low water mark or execution")
	n.assert(n.exec <= n.maxCommit, "executed a request not known committed")
	if n.exec >= n.h {
		if e := n.at(n.exec + 1); e != nil {
			n.assert(!e.committed, "a committed request left unexecuted")
		}
	}
	if n.isPrimary() {
		n.assert(n.next > n.h, "the primary's next sequence number is below the window")
	}
	if n.changing {
		n.assert(n.ownVC.View == n.view, "changing view without a view-change message")
	}
}

// String describes the replica for failure messages: "n2 view=3 changing
// h=32 exec=40 last=45".
func (n *node) String() string {
	return string(sim.TraceLine(n.id.String()).Uint("view", n.view).If(n.changing, "changing", "").
		Uint("h", n.h).Uint("exec", n.exec).Uint("last", n.lastSeq()))
}

var _ sim.Node = (*node)(nil)
