package paxos

import (
	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

// Learning. The leader is the distinguished learner (PMS §2.3): it counts
// MsgAccepted and announces what is chosen with MsgDecide. Every server
// learns from those announcements, from chosen values reported in phase 1,
// and, when it lags or restarts, by asking (MsgLearn) for values (MsgChosen)
// or, for slots compacted away, the snapshot (MsgSnapshot).

// learn records that cmd is chosen at slot s. ballot is the ballot the
// learner knows it by (0 if none), used for the record of an empty slot.
func (n *node) learn(s, ballot uint64, cmd service.Command) {
	if s <= n.base() {
		return
	}
	r := n.ensure(s)
	if r.chosen {
		// PMS §2.1: only a single value is chosen.
		n.assert(n.bugs.HasAny(safetyBugs) || r.cmd.Digest() == cmd.Digest(), "two values chosen for one slot")
		return
	}
	if r.ballot == 0 {
		r.ballot = ballot
	}
	r.cmd, r.chosen = cmd, true
	n.repair(r)
	n.writeRecord(s, r)
	n.observeCommit(s, r)
}

// observeCommit announces that the value of r is known chosen at slot s.
func (n *node) observeCommit(s uint64, r *record) {
	n.env.Observe(sim.Observation{Kind: sim.ObsCommit, Term: r.ballot, Index: s, Digest: r.cmd.Digest()})
}

// advanceCommit moves the commit index over the chosen slots that follow it
// and applies them. Seeing progress resets the proposer's backoff.
func (n *node) advanceCommit() {
	before := n.commit
	for {
		r := n.rec(n.commit + 1)
		if r == nil || !r.chosen {
			break
		}
		n.commit++
	}
	if n.commit > before {
		n.failures = 0
		n.putCommit()
	}
	n.applyChosen()
	if n.role == roleLeader {
		n.skipChosen()
		n.fillWindow()
	}
}

// applyChosen applies the chosen slots not applied yet, in slot order (PMS
// §3: a server executes command i only after commands 1 through i-1), and
// answers the clients waiting for them. No-ops change nothing.
func (n *node) applyChosen() {
	for n.applied < n.commit {
		n.applied++
		r := n.rec(n.applied)
		result, outcome := n.sessions.Apply(r.cmd)
		// The state's digest goes with every snapshot_interval-th slot: the
		// same slots on every server, whenever each takes its snapshots.
		n.env.Observe(sim.Observation{Kind: sim.ObsApply, Term: r.ballot, Index: n.applied, Digest: r.cmd.Digest(),
			Result: service.ResultDigest(result), State: n.sessions.StateEvery(n.applied, n.cfg.SnapshotInterval)})
		if m, ok := configOf(r.cmd); ok {
			n.applyConfig(n.applied, r, m)
		}
		n.observeInForce(n.applied, r)
		if n.role == roleLeader && (outcome == service.Applied || outcome == service.Duplicate) {
			n.replyApplied(r.cmd, result)
		}
	}
	n.maybeSnapshot()
}

// handleDecide learns the slots the leader of m.Ballot announced chosen in
// that ballot. A slot whose accepted proposal is of that ballot holds the
// chosen value; for any other the value is fetched.
func (n *node) handleDecide(from sim.NodeID, m MsgDecide) {
	if n.owner(m.Ballot) != from {
		n.probe(ProbeNotOwner)
		return
	}
	n.seeBallot(m.Ballot)
	if m.Ballot >= n.promise {
		n.follow(m.Ballot)
	}
	missing := false
	for s := max(m.Slot, n.commit+1); s < m.Slot+m.Count; s++ {
		r := n.rec(s)
		switch {
		case r != nil && r.chosen:
		case r != nil && (r.ballot == m.Ballot || n.bugs.Has(decideAnyAccepted) && !r.empty()):
			r.chosen = true // the record holds the value; the commit index will say it is chosen
			n.observeCommit(s, r)
		default:
			missing = true
		}
	}
	n.advanceCommit()
	if missing {
		n.probe(ProbeDecideMissingValue)
		n.requestLearn(from)
	}
}

// handleHeartbeat: a leader is alive. A stale one (below our promise) is
// told so, which deposes it. A server behind the leader's decided prefix
// asks for the rest.
func (n *node) handleHeartbeat(from sim.NodeID, m MsgHeartbeat) {
	if n.owner(m.Ballot) != from {
		n.probe(ProbeNotOwner)
		return
	}
	n.seeBallot(m.Ballot)
	if m.Ballot < n.promise {
		n.probe(ProbeHeartbeatNacked)
		n.send(from, MsgNack{Ballot: m.Ballot, Promised: n.promise})
		return
	}
	n.follow(m.Ballot)
	n.knownCommit = max(n.knownCommit, m.Commit)
	if m.Commit > n.commit {
		n.requestLearn(from)
	}
}

// requestLearn asks to for the chosen values after our commit index, unless
// a request is outstanding (answered, or older than a heartbeat interval).
func (n *node) requestLearn(to sim.NodeID) {
	now := n.env.Now()
	if n.learnPending && now < n.learnSentAt.Add(n.cfg.HeartbeatInterval) {
		return
	}
	n.learnPending, n.learnSentAt = true, now
	n.send(to, MsgLearn{From: n.commit + 1})
}

// nextLearnSource is the server after the one asked last, in ID order,
// skipping this one: a spare that hears no leader asks every server in turn.
func (n *node) nextLearnSource() sim.NodeID {
	next := (n.learnSource + 1) % sim.NodeID(len(n.servers))
	if next == n.id {
		next = (next + 1) % sim.NodeID(len(n.servers))
	}
	n.learnSource = next
	return next
}

// handleLearn serves a learner that catches up: the chosen values from
// m.From on, at most MaxSlotsPerMessage, or the snapshot if m.From was
// compacted away. Any server answers with what it knows chosen.
func (n *node) handleLearn(from sim.NodeID, m MsgLearn) {
	switch {
	case m.From > n.commit:
		n.probe(ProbeLearnNothingToAnswer)
		return // we know no more than the asker
	case m.From <= n.base():
		n.probe(ProbeSnapshotSent)
		n.send(from, MsgSnapshot{Snapshot: n.snap})
	default:
		last := min(n.commit, m.From+uint64(n.cfg.MaxSlotsPerMessage)-1)
		if n.env.Buggify(buggifyOneSlot) {
			last = m.From
		}
		cmds := make([]service.Command, 0, last-m.From+1)
		for s := m.From; s <= last; s++ {
			cmds = append(cmds, n.rec(s).cmd)
		}
		n.send(from, MsgChosen{Slot: m.From, Cmds: cmds})
	}
}

// handleChosen learns the values a catch-up answer carries, and asks for
// more while a leader announced a longer decided prefix, or, for a spare
// seeking what it missed, while the answer was a full chunk.
func (n *node) handleChosen(from sim.NodeID, m MsgChosen) {
	for i, cmd := range m.Cmds {
		n.learn(m.Slot+uint64(i), 0, cmd)
	}
	n.advanceCommit()
	n.learnPending = false
	if n.knownCommit > n.commit || (n.seeking && len(m.Cmds) >= n.cfg.MaxSlotsPerMessage) {
		n.requestLearn(from)
	}
}

// handleSnapshot installs a snapshot that covers slots we do not know
// chosen, and asks for more while a leader announced a longer decided
// prefix, or, for a spare seeking what it missed, for the slots the
// answerer knows chosen past its snapshot.
func (n *node) handleSnapshot(from sim.NodeID, m MsgSnapshot) {
	if m.Snapshot.Index > n.commit {
		n.installSnapshot(m.Snapshot)
	}
	n.learnPending = false
	if n.knownCommit > n.commit || n.seeking {
		n.requestLearn(from)
	}
}

// installSnapshot replaces the state machine with a snapshot received from
// another server (every slot it covers is chosen) and drops the log it
// covers. Records above it stay: they are the acceptor's promises to keep.
func (n *node) installSnapshot(s Snapshot) {
	n.assert(s.Index > n.commit, "installing a snapshot we are past")
	n.probe(ProbeSnapshotInstalled)
	n.writeSnapshot(s) // before restoreSnapshot deletes the slots it covers
	n.restoreSnapshot(s)
	if n.role == roleLeader {
		n.next = max(n.next, s.Index+1)
		n.resendBelow = max(n.resendBelow, s.Index+1)
	}
	n.advanceCommit()
}

// restoreSnapshot loads the state machine and sessions from s, drops the log
// up to s.Index (from memory and disk) and announces the state as having
// applied s.Index, so that observers of progress see where it stands.
func (n *node) restoreSnapshot(s Snapshot) {
	sessions := service.NewSessions(n.newSM())
	if err := sessions.Restore(s.Data); err != nil {
		n.fail("cannot restore a snapshot: " + err.Error())
	}
	n.sessions = sessions
	if n.bugs.Has(snapshotForgetsSessions) {
		sessions.Forget() // planted bug: the clients' last replies are not restored
	}
	n.truncatePrefix(s.Index)
	n.snap = s
	n.restoreConfigs(s.Configs)
	n.commit = max(n.commit, s.Index)
	n.applied = s.Index
	n.env.Observe(sim.Observation{Kind: sim.ObsApply, Index: s.Index, Digest: s.Digest, State: service.StateDigest(s.Data)})
}

// maybeSnapshot compacts the log every SnapshotInterval applied slots: the
// state machine and sessions are saved at the applied index, and the log up
// to it is deleted (a replica that needs those slots gets the snapshot).
func (n *node) maybeSnapshot() {
	if !n.canSnapshot || n.applied-n.base() < uint64(n.cfg.SnapshotInterval) {
		return
	}
	data, err := n.sessions.Snapshot()
	if err != nil {
		n.fail("cannot snapshot: " + err.Error())
	}
	s := Snapshot{Index: n.applied, Digest: n.rec(n.applied).cmd.Digest(), Data: data, Configs: n.configsFor(n.applied)}
	n.writeSnapshot(s) // before the slots it covers are deleted
	n.truncatePrefix(s.Index)
	n.snap = s
	n.restoreConfigs(s.Configs) // drops the configurations no slot after it needs
}

// writeSnapshot writes both copies of s and syncs them (flush), before the
// records s covers are deleted: a disk that lost a deleted record then holds
// the snapshot that replaces it. Without the sync a disk that reorders
// unsynced writes (sim.DiskFaults) could let the deletes through and lose
// the snapshot, and an acceptor come back with neither the snapshot nor the
// value it had accepted for a slot, and a new leader fill that slot with
// another value.
func (n *node) writeSnapshot(s Snapshot) {
	service.PutCopies(n.env.Disk(), encodeSnapshot(s), snapshotKeyA, snapshotKeyB)
	n.dirty = true
	n.flush()
}

// truncatePrefix deletes the records up to index, in memory and on disk; the
// caller has written the snapshot at index (writeSnapshot) and then sets it.
// The log's array is reused: no message holds a record.
func (n *node) truncatePrefix(index uint64) {
	base := n.base()
	if index <= base {
		return
	}
	d := n.env.Disk()
	drop := min(index, n.lastSlot()) - base
	for i := range drop {
		n.repair(&n.log[i]) // compacted: chosen, and in the snapshot
		if key := n.log[i].key; key != "" {
			d.Delete(key)
			n.dirty = true
		}
	}
	kept := copy(n.log, n.log[drop:])
	clear(n.log[kept:])
	n.log = n.log[:kept]
}
