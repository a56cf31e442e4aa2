package paxos

import (
	"math"

	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

// handlePrepare is the acceptor's phase 1b (PMS §2.2): "if an acceptor
// receives a prepare request with number n greater than that of any prepare
// request to which it has already responded, then it responds to the request
// with a promise not to accept any more proposals numbered less than n and
// with the highest-numbered proposal (if any) that it has accepted", here for
// every slot from m.From on (PMS §3). A repeated prepare of the promised
// ballot (a retry) gets the same promise again.
func (n *node) handlePrepare(from sim.NodeID, m MsgPrepare) {
	if !n.mayAnswer(from, m.Ballot) {
		return
	}
	if m.Ballot < n.promise || (m.Rejoin && m.Ballot == n.promise) {
		n.probe(ProbePrepareNacked)
		n.send(from, MsgNack{Ballot: m.Ballot, Promised: n.promise})
		return
	}
	n.raisePromise(m.Ballot)
	if n.role == roleFollower {
		// A live proposer: hold our own phase 1 off for a timeout, so that
		// it gets the chance to finish (as granting a vote does in Raft).
		n.lead, n.heardAt = from, n.env.Now()
	}
	n.probe(ProbePromised)
	n.send(from, n.promiseFor(m))
}

// mayAnswer reports whether the acceptor answers a prepare or accept of
// ballot from: only the ballot's owner may send one, and a rejoining acceptor
// can neither promise nor accept (rejoin.go), though a higher ballot still
// ends its own phase 1.
func (n *node) mayAnswer(from sim.NodeID, ballot uint64) bool {
	if n.owner(ballot) != from {
		n.probe(ProbeNotOwner)
		return false
	}
	n.seeBallot(ballot)
	if n.rejoining {
		n.probe(ProbeRejoiningIgnored)
		return false
	}
	return true
}

// raisePromise promises b if it is higher than the current promise and
// writes it down; flush syncs it before the reply leaves (PMS §2.3).
func (n *node) raisePromise(b uint64) {
	if b <= n.promise {
		return
	}
	n.promise = b
	if n.bugs.Has(forgetPromise) {
		return // planted bug: the promise lives only in memory
	}
	service.PutCopies(n.env.Disk(), encodeUvarint(b), promiseKeyA, promiseKeyB)
	n.dirty = true
}

// promiseFor builds the promise answering m: every accepted proposal (and
// every learned value) from m.From on, and the snapshot if the log was
// compacted past m.From.
func (n *node) promiseFor(m MsgPrepare) MsgPromise {
	p := MsgPromise{Ballot: m.Ballot}
	if m.From <= n.base() {
		p.Snapshot = n.snap
	}
	for s := max(m.From, n.base()+1); s <= n.lastSlot(); s++ {
		switch r := n.rec(s); {
		case r.lost:
			n.probe(ProbePromiseReportsLostLog)
			p.Lost = append(p.Lost, s)
		case !r.empty():
			p.Entries = append(p.Entries, PromiseEntry{Slot: s, Ballot: r.ballot, Decided: r.chosen, Cmd: r.cmd})
		}
	}
	return p
}

// handleAccept is the acceptor's phase 2b (PMS §2.2): "if an acceptor
// receives an accept request for a proposal numbered n, it accepts the
// proposal unless it has already responded to a prepare request having a
// number greater than n". Accepting n also promises n: the acceptor will not
// go back to a lower ballot. The acceptance is synced before MsgAccepted
// leaves.
func (n *node) handleAccept(from sim.NodeID, m MsgAccept) {
	if !n.mayAnswer(from, m.Ballot) {
		return
	}
	if m.Ballot < n.promise && !n.bugs.Has(acceptLowerBallot) {
		n.probe(ProbeAcceptNacked)
		n.send(from, MsgNack{Ballot: m.Ballot, Promised: n.promise})
		return
	}
	if m.Ballot >= n.promise {
		n.raisePromise(m.Ballot)
		n.follow(m.Ballot)
	}
	n.probe(ProbeAccepted)
	for i, cmd := range m.Cmds {
		n.acceptSlot(m.Slot+uint64(i), m.Ballot, cmd)
	}
	n.send(from, MsgAccepted{SlotRun{Ballot: m.Ballot, Slot: m.Slot, Count: uint64(len(m.Cmds))}})
}

// acceptSlot records the proposal (b, cmd) for slot s.
func (n *node) acceptSlot(s, b uint64, cmd service.Command) {
	if s <= n.base() {
		return // compacted, so chosen; by P2 (PMS §2.2) cmd is the chosen value
	}
	r := n.ensure(s)
	switch {
	case r.chosen:
		// Nothing to record: the promise reports the chosen value. PMS
		// §2.2, P2b: every proposal numbered above the one chosen has its
		// value. A lower-numbered one (a deposed leader retransmitting) may
		// differ, and acknowledging it is harmless: the majority that
		// promised the choosing ballot refuses it, so it is never chosen.
		n.probe(ProbeAcceptChosenSlot)
		return
	case r.ballot == b:
		// A retransmission: a leader proposes one value per slot per ballot.
		n.probe(ProbeAcceptRetransmit)
		n.assert(n.bugs.HasAny(safetyBugs) || r.cmd.Digest() == cmd.Digest(), "two values proposed in one ballot for one slot")
		return
	}
	n.assert(b > r.ballot || n.bugs.HasAny(safetyBugs), "an accepted ballot went down")
	r.ballot, r.cmd = b, cmd
	n.repair(r) // a new acceptance supersedes a lost one: b is not below it
	n.writeRecord(s, r)
}

// writeRecord writes slot s's record to the disk as a new version; flush
// syncs it, then deletes the version it supersedes (see storage.go). The
// encoding goes through a scratch buffer: the disk copies what it keeps.
func (n *node) writeRecord(s uint64, r *record) {
	if r.key != "" {
		n.superseded = append(n.superseded, r.key)
	}
	// Versions must grow for the loader to keep the newest; a slot is
	// written a handful of times, far from 2^32 (the run's event bound is
	// smaller).
	n.assert(r.version < math.MaxUint32, "a slot record's version would wrap")
	r.version++
	r.key = slotKey(s, r.version)
	n.scratch = appendRecord(n.scratch[:0], r)
	n.env.Disk().Put(r.key, n.scratch)
	n.dirty = true
}

// putCommit writes the commit index without asking for a sync: no reply
// depends on it, so it rides along with the next sync the protocol needs.
// A crash before that loses (or tears) it, and the restarted server learns
// again what it forgot. Syncing it at once would add a sync per decision to
// every learner, which a slow disk pays for in latency. While records wait
// for a sync, the write waits for it too (flush): the loader takes a record
// at or below the commit index for the chosen value, and a disk that
// reorders unsynced writes (sim.DiskFaults) could let the index through
// without the record that holds that value.
func (n *node) putCommit() {
	if n.dirty {
		n.commitAfterSync = true
		return
	}
	n.scratch = appendUvarint(n.scratch[:0], n.commit)
	n.env.Disk().Put(commitKey, n.scratch)
	n.lazyWrites++
}

// handleNack: an acceptor promised a higher ballot than ours; abandon the
// attempt (PMS §2.2) and back off before trying again.
func (n *node) handleNack(m MsgNack) {
	if n.role != roleFollower && m.Ballot == n.ballot {
		n.seeBallot(m.Promised)
		return
	}
	n.probe(ProbeStaleNackIgnored)
}
