package pbft

import (
	"cmp"
	"slices"

	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

// Checkpoints and garbage collection (§4.3). After executing every K-th
// sequence number a replica snapshots its state (the state machine with the
// client sessions) and multicasts a signed checkpoint message with the
// state's digest. 2f+1 matching checkpoint messages from distinct replicas
// make the checkpoint stable; they are its proof. The low water mark h moves
// to the stable checkpoint, and the log at or below it is discarded.
//
// Catching up. A replica that missed messages or crashed learns from the
// others' periodic MsgStatus how far they got and they send it what it
// lacks: the new-view message of their view, commit certificates for the
// sequence numbers it has not executed, or, for what they have discarded,
// their stable state with its proof (state transfer, §4.3). Everything sent
// is checked against signatures, so a Byzantine replica can only waste the
// receiver's time.

// snapshotState serializes the state after seq, whose request has digest
// last, for a checkpoint.
func (n *node) snapshotState(seq, last uint64) ownCheckpoint {
	data, err := n.sessions.Snapshot()
	if err != nil {
		n.fail("cannot snapshot: " + err.Error())
	}
	return ownCheckpoint{seq: seq, digest: stateDigest(data, last), last: last, data: data, sent: n.env.Now()}
}

// takeCheckpoint keeps own, the state snapshotState took after a request,
// and multicasts its checkpoint message.
func (n *node) takeCheckpoint(own ownCheckpoint) {
	n.own = append(n.own, own)
	seq, d := own.seq, own.digest
	if n.byz != nil {
		d = n.byz.checkpointDigest(d)
	}
	sig := n.sign(checkpointDigest(seq, d))
	n.addCheckpointVote(checkpointVote{seq: seq, digest: d, sig: sig})
	if !n.env.Buggify(buggifySkipCheckpoint) {
		n.broadcast(MsgCheckpoint{Seq: seq, Digest: d, Sig: sig})
	}
	n.checkStable()
}

// handleCheckpoint logs a signed checkpoint message above the low water mark.
// Messages beyond the high water mark are kept too: a quorum of them tells a
// replica that it fell behind and must fetch the state (§4.3).
func (n *node) handleCheckpoint(from sim.NodeID, m MsgCheckpoint) {
	switch {
	case m.Seq <= n.h:
		n.probe(ProbeCheckpointRejectedLow)
		return
	case m.Seq%uint64(n.cfg.CheckpointInterval) != 0:
		n.probe(ProbeCheckpointRejectedInterval)
		return
	case !n.verify(m.Sig, from, checkpointDigest(m.Seq, m.Digest)):
		n.probe(ProbeCheckpointRejectedSig)
		return
	}
	n.addCheckpointVote(checkpointVote{seq: m.Seq, digest: m.Digest, sig: m.Sig})
	n.checkStable()
}

// addCheckpointVote keeps a replica's first checkpoint message per sequence
// number, and at most a window's worth of them per replica (the latest).
func (n *node) addCheckpointVote(v checkpointVote) {
	mine := 0
	oldest := -1
	for i, old := range n.ckptVotes {
		if old.sig.Signer != v.sig.Signer {
			continue
		}
		if old.seq == v.seq {
			return
		}
		mine++
		if oldest < 0 || old.seq < n.ckptVotes[oldest].seq {
			oldest = i
		}
	}
	if mine > n.cfg.LogWindow/n.cfg.CheckpointInterval {
		n.ckptVotes = slices.Delete(n.ckptVotes, oldest, oldest+1)
	}
	n.ckptVotes = append(n.ckptVotes, v)
}

// checkStable finds the highest checkpoint with a quorum of matching
// messages and makes it stable.
func (n *node) checkStable() {
	var best checkpointVote
	for _, v := range n.ckptVotes {
		if v.seq <= max(n.h, best.seq) {
			continue
		}
		count := 0
		for _, w := range n.ckptVotes {
			if w.seq == v.seq && w.digest == v.digest {
				count++
			}
		}
		if count >= n.quorum {
			best = v
		}
	}
	if best.seq == 0 {
		return
	}
	var proof []sim.Signature
	for _, w := range n.ckptVotes {
		if w.seq == best.seq && w.digest == best.digest {
			proof = append(proof, w.sig)
		}
	}
	slices.SortFunc(proof, func(a, b sim.Signature) int { return cmp.Compare(a.Signer, b.Signer) })
	n.probe(ProbeCheckpointStable)
	if n.exec < best.seq {
		n.probe(ProbeCheckpointAhead)
	}
	n.advanceStable(CheckpointCert{Seq: best.seq, Digest: best.digest, Proof: proof[:n.quorum]})
}

// advanceStable makes c the stable checkpoint: the low water mark moves to
// it and the log, checkpoints and messages at or below it are discarded
// (§4.3). If this replica has not executed that far, it keeps the proof and
// waits for the state (exec < h).
func (n *node) advanceStable(c CheckpointCert) {
	if c.Seq > n.stable.Seq {
		n.stable = c
		n.writeStable()
	}
	// A checkpoint learned before this replica executed that far (2f+1
	// replicas are ahead) leaves the log alone until it has: truncating now
	// would leave a gap no commit certificate could fill, since the peers'
	// answers are for sequence numbers inside our window.
	if n.stable.Seq > n.h && n.exec >= n.stable.Seq {
		n.applyStable()
	}
}

// applyStable garbage-collects the log up to the stable checkpoint, which
// this replica has executed: the low water mark moves there (§4.3).
func (n *node) applyStable() {
	c := n.stable
	if i := slices.IndexFunc(n.own, func(o ownCheckpoint) bool { return o.seq == c.Seq }); i >= 0 && n.own[i].digest == c.Digest {
		o := n.own[i]
		n.snap = snapshot{cert: c, last: o.last, data: o.data}
		n.writeSnapshot()
	}
	n.moveLowWaterMark(c.Seq)
}

// moveLowWaterMark discards what lies at or below seq: log entries, own
// checkpoints and checkpoint votes; a primary may then assign the numbers the
// window gained.
func (n *node) moveLowWaterMark(seq uint64) {
	n.truncateLog(seq)
	n.own = slices.DeleteFunc(n.own, func(o ownCheckpoint) bool { return o.seq <= seq })
	n.ckptVotes = slices.DeleteFunc(n.ckptVotes, func(v checkpointVote) bool { return v.seq <= seq })
	n.acceptNewView()
	if n.isPrimary() {
		n.next = max(n.next, n.h+1)
		n.drainQueue()
	}
}

// truncateLog discards the entries up to seq, in memory and on disk, and
// moves the low water mark there.
func (n *node) truncateLog(seq uint64) {
	drop := min(seq, n.lastSeq()) - n.h
	if d := n.env.Disk(); drop > 0 && d.Unsynced() > 0 {
		// What stands for the entries (the stable checkpoint, the snapshot)
		// reaches the disk before they go: a disk that reorders unsynced
		// writes (sim.DiskFaults) could keep the deletes without it.
		d.Sync()
	}
	for i := range drop {
		n.deleteEntry(n.h + 1 + i)
	}
	kept := copy(n.log, n.log[drop:])
	clear(n.log[kept:])
	n.log = n.log[:kept]
	n.h = seq
}

// tickStatus multicasts where this replica stands; then, during a view
// change, it resends its view-change message (messages get lost), and
// otherwise retransmits its messages for requests still in progress.
func (n *node) tickStatus() {
	if n.env.Buggify(buggifySkipStatusRound) {
		return // a stalled replica: the others hear from it an interval later
	}
	n.broadcast(MsgStatus{View: n.view, Changing: n.changing, Exec: n.exec, Stable: n.h})
	if n.byz != nil {
		n.byz.tick(n)
	}
	n.resendCheckpoints()
	if n.changing {
		n.broadcast(n.ownVC)
		return
	}
	n.retransmit()
}

// resendCheckpoints multicasts again this replica's checkpoint messages
// that are still not stable here a whole status interval after they went
// out: messages get lost, and a checkpoint no replica gathers 2f+1 votes
// for never becomes stable, so the window never moves and the primary can
// assign no sequence number past it, in any view (a swarm sweep found views
// changing forever at exec = h + L). Once stable here, a replica behind
// gets the proof with the state (windowStuck).
func (n *node) resendCheckpoints() {
	now := n.env.Now()
	for i := range n.own {
		o := &n.own[i]
		if o.seq <= n.h || now.Sub(o.sent) < n.cfg.StatusInterval {
			continue
		}
		j := slices.IndexFunc(n.ckptVotes, func(v checkpointVote) bool { return v.sig.Signer == n.id && v.seq == o.seq })
		if j < 0 {
			continue // its vote made way for later ones (addCheckpointVote)
		}
		v := n.ckptVotes[j]
		o.sent = now
		n.broadcast(MsgCheckpoint{Seq: v.seq, Digest: v.digest, Sig: v.sig})
	}
}

// retransmit resends this replica's pre-prepares (primary), prepares and
// commits for the requests of the current view that have not committed
// here and that it last sent a whole interval ago, at most MaxCatchUp of
// them per interval.
func (n *node) retransmit() {
	now := n.env.Now()
	sent := 0
	for seq := max(n.exec, n.h) + 1; seq <= n.lastSeq() && sent < n.cfg.MaxCatchUp; seq++ {
		e := n.at(seq)
		if !e.pp.ok || e.pp.view != n.view || e.committed || now.Sub(e.sentAt) < n.cfg.StatusInterval {
			continue
		}
		sent++
		e.sentAt = now
		if n.primary(n.view) == n.id {
			n.sendPrePrepare(MsgPrePrepare{View: e.pp.view, Seq: seq, Digest: e.pp.digest, Cmd: e.pp.cmd, Sig: e.pp.sig})
			continue
		}
		if e.prepareSent {
			n.sendVote(tagPrepare, seq)
		}
		if e := n.at(seq); e.commitSent {
			n.sendVote(tagCommit, seq)
		}
	}
}

// handleStatus sends a replica behind what it lacks: the new-view message of
// our view if it is in an older view or still waits for ours; our stable
// state if it has not executed that far; else commit certificates for what
// it has not executed.
func (n *node) handleStatus(from sim.NodeID, m MsgStatus) {
	if n.byz != nil {
		n.byz.status(n, from, m)
	}
	if !n.changing && n.view > 0 && n.newView.View == n.view && (m.View < n.view || (m.View == n.view && m.Changing)) {
		n.probe(ProbeStatusSentNewView)
		n.send(from, n.newView)
	}
	switch {
	case m.Exec < n.snap.cert.Seq || n.windowStuck(m):
		n.probe(ProbeStatusSentState)
		n.send(from, MsgState{Checkpoint: n.snap.cert, Last: n.snap.last, Data: n.snap.data})
	case m.Exec < n.maxCommit:
		if e := n.at(m.Exec + 1); e == nil || !e.committed {
			return // we lack the next one too: the rest would not help
		}
		if certs := n.commitCerts(m.Exec+1, m.Stable); len(certs) > 0 {
			n.probe(ProbeStatusSentCommitted)
			n.send(from, MsgCommitted{Certs: certs})
		}
	}
}

// windowStuck reports whether the replica whose status is m has executed to
// its high water mark and waits for a stable checkpoint that this replica
// has: it missed the checkpoint votes (cut off when they went out; they are
// sent again only while they are not stable at their sender,
// resendCheckpoints), and no commit certificate past its window can help
// it. The proof of this replica's stable checkpoint moves its window.
func (n *node) windowStuck(m MsgStatus) bool {
	return m.Stable < n.snap.cert.Seq && m.Exec >= m.Stable+n.window()
}

// commitCerts returns the commit certificates this replica holds from
// sequence number from on that fit in the window of a replica with low
// water mark h, at most MaxCatchUp.
func (n *node) commitCerts(from, h uint64) []CommitCert {
	var certs []CommitCert
	for seq := max(from, n.h+1); seq <= min(n.lastSeq(), h+n.window()) && len(certs) < n.cfg.MaxCatchUp; seq++ {
		if e := n.at(seq); e.committed {
			certs = append(certs, e.done)
		}
	}
	return certs
}

// handleCommitted records the requests that the certificates prove committed
// and executes what it can.
func (n *node) handleCommitted(m MsgCommitted) {
	for i := range m.Certs {
		c := &m.Certs[i]
		if c.Seq <= n.exec || !n.inWindow(c.Seq) {
			continue
		}
		if e := n.at(c.Seq); e != nil && e.committed {
			continue
		}
		if !n.validCommitCert(c) {
			n.probe(ProbeCommittedCertRejected)
			continue
		}
		n.probe(ProbeCommittedCertAccepted)
		n.commit(c.Seq, *c)
	}
	n.executeReady()
}

// handleState installs a stable state beyond what this replica executed
// (state transfer, §4.3), if its bytes match the digest that 2f+1 replicas
// signed; one it executed already, but had not seen stable, it takes as its
// stable checkpoint.
func (n *node) handleState(m MsgState) {
	c, state := m.Checkpoint, stateDigest(m.Data, m.Last)
	switch {
	case c.Seq <= n.exec && c.Seq <= n.stable.Seq:
		n.probe(ProbeStateRejectedStale)
		return
	case state != c.Digest && !n.bugs.Has(stateTransferUnchecked):
		n.probe(ProbeStateRejectedDigest)
		return
	case !n.validCheckpointCert(c):
		n.probe(ProbeStateRejectedProof)
		return
	}
	if c.Seq <= n.exec {
		// Executed that far already: only the proof is new, and it makes the
		// checkpoint stable here too (its own state at c.Seq is the same).
		n.probe(ProbeStateStableAdopted)
		n.advanceStable(c)
		return
	}
	sessions := service.NewSessions(n.newSM())
	if err := sessions.Restore(m.Data); err != nil {
		n.probe(ProbeStateRejectedUndecoded)
		return // cannot happen for bytes 2f+1 replicas vouched for, unless more than f lie
	}
	n.probe(ProbeStateInstalled)
	n.sessions = sessions
	if n.bugs.Has(stateTransferForgetsSessions) {
		sessions.Forget() // planted bug: the clients' last replies are not part of the installed state
	}
	n.exec = c.Seq
	n.maxCommit = max(n.maxCommit, c.Seq)
	n.env.Observe(sim.Observation{Kind: sim.ObsApply, Index: c.Seq, Digest: m.Last, State: state})
	n.snap = snapshot{cert: c, last: m.Last, data: m.Data}
	n.writeSnapshot()
	if c.Seq > n.h {
		n.moveLowWaterMark(c.Seq) // the state replaces the log up to its checkpoint
	}
	n.advanceStable(c)
	n.waiting = slices.DeleteFunc(n.waiting, func(w waitingRequest) bool { return w.seq <= n.sessions.LastApplied(w.client) })
	n.armRequestTimer()
	n.executeReady()
}
