package raft

import (
	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

// handleAppend runs the receiver side of AppendEntries (Raft §5.3, Figure 2)
// for a message of the current term, as a follower.
func (n *node) handleAppend(from sim.NodeID, m MsgApp) {
	n.heardFromLeader(from)
	if reject, ok := n.checkPrev(m); !ok {
		n.sendAppResp(from, reject)
		return
	}
	n.mergeEntries(m.PrevIndex, m.Entries)
	n.maybeRecovered()
	// Entries at or below the snapshot are committed, so they match the
	// leader's (Leader Completeness): known to match too.
	lastNew := max(m.PrevIndex+uint64(len(m.Entries)), n.snap.index)
	// Raft Figure 2: commitIndex = min(leaderCommit, index of last new
	// entry). Only entries up to lastNew are known to match the leader's log;
	// anything after may be a stale suffix.
	if c := min(m.Commit, lastNew); c > n.commit {
		n.commitTo(c)
	}
	if len(n.writeCache) > 0 {
		n.resendCached()
	}
	if len(m.Entries) == 0 && !n.cfg.CheckQuorum {
		// A heartbeat (the leader only sends empty MsgApps at a follower's
		// known match index) that passed the check tells the leader nothing
		// it does not know, so it goes unanswered: half the messages of an
		// idle cluster. A rejection, or a stale term, is still answered;
		// and every heartbeat with check_quorum, whose leader must hear
		// that its followers are there.
		return
	}
	n.sendAppResp(from, MsgAppResp{Term: n.term, Index: lastNew})
}

// heardFromLeader notes a message of the current term's leader: the
// follower follows it, postpones its election, and (lease mode, and the
// guard against removed servers) refuses votes for a while.
func (n *node) heardFromLeader(from sim.NodeID) {
	n.lead = from
	n.electionStart = n.env.Now()
	n.heardLeader = n.electionStart
}

// maybeRecovered clears lost once the log from the leader is as up-to-date
// as the log that corruption cut short: it then holds every entry committed
// with this server's help (see node.lost).
func (n *node) maybeRecovered() {
	if n.lost == (logPosition{}) || n.recovering() {
		return
	}
	n.probe(ProbeRecoveredLostEntries)
	// The entries that brought the log back must reach the disk before the
	// hard state that clears lost: a disk that reorders unsynced writes
	// could keep the second without the first, and the server would come
	// back short of entries it may have acknowledged, with nothing on disk
	// to say so.
	n.env.Disk().Sync()
	n.lost = logPosition{}
	n.persistHardState()
	n.env.Observe(sim.Observation{Kind: sim.ObsRepaired, Text: "raft: the log is as up-to-date as before the disk lost entries"})
}

// checkPrev applies the consistency check of Raft §5.3: the entry at PrevIndex
// must exist and have PrevTerm. On failure it returns the rejection, with the
// conflict hint that lets the leader skip a whole term per round trip.
func (n *node) checkPrev(m MsgApp) (MsgAppResp, bool) {
	reject := MsgAppResp{Term: n.term, Index: m.PrevIndex, Reject: true}
	if m.PrevIndex < n.snap.index {
		// Compacted here, so committed, and every committed entry is in
		// the leader's log (§5.4): it matches.
		n.probe(ProbeAppendBelowSnapshot)
		return MsgAppResp{}, true
	}
	if m.PrevIndex > n.lastIndex() {
		n.probe(ProbeAppendRejectedMissing)
		reject.ConflictIndex = n.lastIndex() + 1
		return reject, false
	}
	t := n.termAt(m.PrevIndex)
	if t == m.PrevTerm {
		return MsgAppResp{}, true
	}
	// Raft §5.4 (Log Matching, Leader Completeness): committed entries match
	// every later leader's log, so a conflict lies above the commit index.
	n.assert(m.PrevIndex > n.commit || n.bugs.HasAny(safetyBugs), "leader's log conflicts with a committed entry")
	n.probe(ProbeAppendRejectedMismatch)
	reject.ConflictTerm = t
	reject.ConflictIndex = n.firstIndexOfTerm(t, m.PrevIndex)
	return reject, false
}

// firstIndexOfTerm returns the first index of the run of entries of term t
// that ends at index at, as far back as the log goes.
func (n *node) firstIndexOfTerm(t, at uint64) uint64 {
	i := at
	for i > n.snap.index+1 && n.termAt(i-1) == t {
		i--
	}
	return i
}

// mergeEntries appends entries after prev, skipping those already present and
// truncating our log at the first conflict (Raft §5.3: "if an existing entry
// conflicts with a new one, delete the existing entry and all that follow").
// A matching entry is never deleted, so a stale or duplicated MsgApp cannot
// shorten the log; entries at or below the snapshot are committed and match.
func (n *node) mergeEntries(prev uint64, entries []Entry) {
	for i, e := range entries {
		index := prev + 1 + uint64(i)
		if index <= n.snap.index {
			continue
		}
		if index <= n.lastIndex() {
			if n.termAt(index) == e.Term {
				continue
			}
			n.probe(ProbeAppendTruncated)
			n.truncateFrom(index)
		}
		for _, e := range entries[i:] {
			n.appendEntry(e)
		}
		return
	}
}

// appendEntry appends e to the log and writes it to the disk (synced by flush
// before the next send).
func (n *node) appendEntry(e Entry) {
	n.assert(e.Term >= n.lastTerm() && e.Term <= n.term, "log terms must not decrease nor pass the current term")
	n.log.append(e)
	index := n.lastIndex()
	if isConfigCommand(e.Cmd) {
		n.configAppended(index, e.Cmd)
	}
	first := chunkFirst(index, n.snap.index)
	if first == index {
		n.tailChunk = n.newChunkBuffer()
	}
	kept := len(n.tailChunk)
	n.tailChunk = appendChunkRecord(n.tailChunk, e)
	// The disk keeps the chunk as it is now: this server only ever appends
	// to tailChunk and starts each chunk in a new array, so the bytes the
	// disk holds never change. The write is an append to the record (a crash
	// may tear the new entry, never the synced ones before it).
	n.env.Disk().PutOver(n.logKeys.Key(first), n.tailChunk, kept)
	n.logDirty = true
}

// truncateFrom deletes the entries from index on. The segment cut gets a
// fresh array: MsgApps in flight share the old one, and appending in place
// would change them. The chunks after the one cut are deleted and synced
// before that chunk is rewritten: a disk that reorders unsynced writes
// (sim.DiskFaults) could otherwise keep the new entries and the old ones
// after them, a log no leader had, whose terms need not even fall.
func (n *node) truncateFrom(index uint64) {
	n.assert(index > n.snap.index && index <= n.lastIndex(), "truncate outside the log")
	if index <= n.commit {
		// Raft §5.4: committed entries are never overwritten. Only a planted
		// bug gets here; forget the lost commits and rebuild the state
		// machine so that local invariants still hold and the checkers see
		// this server commit the new entries.
		n.assert(n.bugs.HasAny(safetyBugs), "truncating a committed entry")
		n.forgetCommitsFrom(index)
	}
	d := n.env.Disk()
	if later := chunkStart(index) + entriesPerChunk; later <= n.lastIndex() {
		for first := later; first <= n.lastIndex(); first += entriesPerChunk {
			d.Delete(logKey(first))
		}
		d.Sync()
	}
	n.log.truncate(int(index - n.snap.index))
	n.configTruncated(index)
	first := chunkFirst(index, n.snap.index)
	rewriteChunk(d, first, n.entriesFrom(first, n.lastIndex()))
	n.loadTailChunk()
	n.logDirty = true
}

// newChunkBuffer returns an empty buffer for the next tail chunk, in room
// of its own (the disk shares the last chunk's bytes: see appendEntry), as
// much as the last chunk held, so that a chunk rarely outgrows it. Small
// chunks' rooms are carved from shared allocations.
func (n *node) newChunkBuffer() []byte { return n.chunkBufs.Buffer(max(len(n.tailChunk), 256)) }

// loadTailChunk sets tailChunk to the encoding of the last chunk of the log.
func (n *node) loadTailChunk() {
	n.tailChunk = n.newChunkBuffer()
	if last := n.lastIndex(); last > n.snap.index {
		for _, e := range n.entriesFrom(chunkFirst(last, n.snap.index), last) {
			n.tailChunk = appendChunkRecord(n.tailChunk, e)
		}
	}
}

// forgetCommitsFrom lowers the commit index below index and re-applies the
// surviving committed prefix to the snapshot's state machine (index is past
// the snapshot: mergeEntries never truncates below it). Planted bugs only.
func (n *node) forgetCommitsFrom(index uint64) {
	n.commit = index - 1
	if n.applied <= n.commit {
		return
	}
	n.restoreSessions(n.snap.data)
	n.applied = n.snap.index
	n.applyCommitted()
}

// broadcastAppend sends the new entries to every follower that can take them.
func (n *node) broadcastAppend() {
	for id := range n.peers().All() {
		if n.prs[id].next <= n.lastIndex() {
			n.sendAppend(id)
		}
	}
}

// sendAppend sends to a follower up to MaxEntriesPerAppend entries from its
// next index. A replicated follower's next index advances at once
// (pipelining); a probed one's stays until it answers.
func (n *node) sendAppend(to sim.NodeID) {
	pr := &n.prs[to]
	prev := pr.next - 1
	n.assert(prev <= n.lastIndex(), "next index past the leader's log")
	if prev < n.snap.index {
		n.sendSnapshot(to) // the entries it needs are compacted (§7)
		return
	}
	last := min(n.lastIndex(), prev+uint64(n.cfg.MaxEntriesPerAppend))
	if last > prev+1 && n.env.Buggify(buggifyOneEntry) {
		last = prev + 1 // catch up one entry per round trip
	}
	// An empty MsgApp that passes goes unanswered (handleAppend), so a probe
	// must carry entries or it would wait forever.
	n.assert(!pr.probing || last > prev, "a probe without entries")
	n.sendApp(to, MsgApp{
		Term: n.term, PrevIndex: prev, PrevTerm: n.termAt(prev), Commit: n.commit,
		Entries: n.entriesFrom(prev+1, last), // capped: the receiver cannot append into our array
	})
	if last == prev {
		return
	}
	pr.appended = true
	if !pr.probing {
		pr.next = last + 1
		if !pr.inflight {
			pr.inflight, pr.inflightSince = true, n.env.Now()
		}
	}
}

// heartbeat is the leader's periodic AppendEntries to one follower: a probe
// while probing; a resend from match+1 if a replicated follower acknowledged
// nothing for a few intervals while entries were in flight (a MsgApp was
// probably lost);
// nothing if entries went out during the interval (the follower heard from
// the leader, which is all Raft §5.2 asks); otherwise an empty MsgApp at the
// known match, which the follower always accepts (so a heartbeat is never
// rejected spuriously for entries still in flight) and which carries the
// commit index; or nothing while the match lies below the snapshot (the
// term there is gone), until entries catch the follower up.
func (n *node) heartbeat(to sim.NodeID) {
	if n.bugs.Has(checkQuorumOnSend) {
		n.heardFrom(to) // planted bug: a heartbeat sent, not an answer, counts
	}
	pr := &n.prs[to]
	now := n.env.Now()
	pr.inflightSince = min(pr.inflightSince, now) // the local clock may be stepped back
	stalled := now.Sub(pr.inflightSince) >= resendAfterHeartbeats*n.cfg.HeartbeatInterval
	if !pr.probing && pr.inflight && stalled && !n.bugs.Has(noAppendRetry) {
		n.probe(ProbeResendStalled)
		pr.probing, pr.next, pr.inflight = true, pr.match+1, false
	}
	appended := pr.appended
	pr.appended = false
	switch {
	case pr.probing || pr.next <= n.lastIndex():
		n.sendAppend(to)
	case !appended && pr.match >= n.snap.index:
		n.sendApp(to, MsgApp{Term: n.term, PrevIndex: pr.match, PrevTerm: n.termAt(pr.match), Commit: n.commit})
	case !appended:
		// Its match index was compacted here while the entries past it were
		// in flight: no heartbeat can name a matching entry it surely has.
		// Their acknowledgements move the match index on; if they never
		// come, the stall rule above probes it, with the snapshot.
		n.probe(ProbeHeartbeatBelowSnapshot)
	}
}

// handleAppResp runs the leader side of AppendEntries (Raft §5.3).
func (n *node) handleAppResp(from sim.NodeID, m MsgAppResp) {
	pr := &n.prs[from]
	if m.Reject {
		n.handleReject(from, pr, m)
		return
	}
	n.assert(m.Index <= n.lastIndex() || n.bugs.HasAny(safetyBugs), "follower acknowledged entries the leader does not have")
	m.Index = min(m.Index, n.lastIndex())
	pr.probing = false
	pr.next = max(pr.next, m.Index+1)
	if m.Index > pr.match {
		pr.match = m.Index
		pr.inflight, pr.inflightSince = pr.match+1 < pr.next, n.env.Now()
		n.maybeCommit()
	}
	if pr.next <= n.lastIndex() {
		n.sendAppend(from) // the next chunk of a catch-up
	}
	if from == n.transfer.to {
		n.sendTimeoutNowIfCaughtUp()
	}
	if n.change.learners.Has(from) {
		n.maybeProposeChange()
	}
}

// handleReject moves a follower's next index back after a failed consistency
// check, using the conflict hint (Raft §5.3): past the leader's last entry of
// the conflicting term if it has that term, else to the first index the
// follower holds of it (or just past the follower's log).
func (n *node) handleReject(from sim.NodeID, pr *progress, m MsgAppResp) {
	if n.bugs.Has(noAppendRetry) {
		return // planted liveness bug: no retry, the follower stays behind
	}
	if m.ConflictIndex == 0 {
		// The answer to a MsgApp of an older term, which only carried the
		// follower's term; this server has since reached that term (as a
		// leader again) and the answer says nothing about the log.
		n.probe(ProbeRejectOfOldTerm)
		return
	}
	if m.Index <= pr.match && m.ConflictTerm == 0 && m.ConflictIndex <= pr.match && !n.bugs.Has(matchNeverLowered) {
		// The follower's log ends before the index it acknowledged: its disk
		// lost entries (corruption, see node.lost), or this is a late
		// duplicate of an old rejection. Either way, probing again from
		// where it says its log ends is safe; lowering match only delays
		// commits.
		n.probe(ProbeMatchLowered)
		pr.match = m.ConflictIndex - 1
	} else if m.Index <= pr.match || (pr.probing && m.Index != pr.next-1) {
		n.probe(ProbeStaleRejectIgnored)
		return // stale: answers a MsgApp older than what we know now
	}
	next := m.ConflictIndex
	if m.ConflictTerm != 0 {
		if last, ok := n.lastIndexOfTerm(m.ConflictTerm, m.Index); ok {
			next = last + 1
		}
	}
	// Never below what is known to match; always below the rejected index,
	// so that every rejection makes progress.
	next = min(max(next, pr.match+1), m.Index)
	pr.next, pr.probing, pr.inflight = next, true, false
	n.sendAppend(from)
}

// lastIndexOfTerm returns the last index at or below at holding term t.
func (n *node) lastIndexOfTerm(t, at uint64) (uint64, bool) {
	for i := min(at, n.lastIndex()); i > 0 && i >= n.snap.index; i-- {
		switch lt := n.termAt(i); {
		case lt == t:
			return i, true
		case lt < t:
			return 0, false
		}
	}
	return 0, false
}

// maybeCommit advances the leader's commit index to the highest index stored
// on a majority, if that entry is of the current term.
func (n *node) maybeCommit() {
	// The leader counts its own log only as far as it is on its disk (Raft
	// Figure 2): with no other voter to wait for (a configuration of one),
	// it would otherwise commit, announce and apply an entry that a crash
	// before the handler's closing sync loses.
	n.flush()
	n.prs[n.id].match = n.lastIndex()
	index := n.conf.agreed(func(id sim.NodeID) uint64 { return n.prs[id].match }, n.scratch)
	if index <= n.commit {
		return
	}
	// Raft §5.4.2: only entries of the leader's current term are committed by
	// counting replicas; earlier ones are committed indirectly, by the Log
	// Matching Property. An old-term entry on a majority may still be
	// overwritten by a leader whose log ends in a later term (Figure 8).
	if n.termAt(index) != n.term && !n.bugs.Has(commitOldTerm) {
		n.probe(ProbeOldTermNotCounted)
		return
	}
	n.commitTo(index)
}

// commitTo advances the commit index, announcing each newly committed entry,
// and applies the entries (Raft §5.3: "once committed, the leader applies the
// entry to its state machine").
func (n *node) commitTo(index uint64) {
	n.assert(index > n.commit && index <= n.lastIndex(), "commit index must grow within the log")
	n.assert(n.applied == n.commit, "entries committed but not applied")
	for n.commit < index {
		n.commit++
		e := n.entryAt(n.commit)
		digest := e.Cmd.Digest()
		n.env.Observe(sim.Observation{Kind: sim.ObsCommit, Term: e.Term, Index: n.commit, Digest: digest})
		n.applyNext(digest)
		if isConfigCommand(e.Cmd) {
			n.configCommitted(n.commit, e)
		}
	}
	n.maybeSnapshot()
}

// applyCommitted applies the committed entries not applied yet, in log order.
func (n *node) applyCommitted() {
	for n.applied < n.commit {
		n.applyNext(n.entryAt(n.applied + 1).Cmd.Digest())
	}
}

// applyNext applies the entry after applied, whose command has digest, and
// answers the client waiting for it.
func (n *node) applyNext(digest uint64) {
	n.applied++
	e := n.entryAt(n.applied)
	if isConfigCommand(e.Cmd) {
		// In force since it was appended; the state machine never sees it.
		n.env.Observe(sim.Observation{Kind: sim.ObsApply, Term: e.Term, Index: n.applied, Digest: digest,
			State: n.sessions.StateEvery(n.applied, n.cfg.SnapshotInterval)})
		return
	}
	result, outcome := n.sessions.Apply(e.Cmd)
	if len(n.writeCache) > 0 {
		n.uncacheApplied()
	}
	// The state's digest goes with every snapshot_interval-th index: the
	// same indexes on every server, whenever each takes its snapshots.
	n.env.Observe(sim.Observation{Kind: sim.ObsApply, Term: e.Term, Index: n.applied, Digest: digest,
		Result: service.ResultDigest(result), State: n.sessions.StateEvery(n.applied, n.cfg.SnapshotInterval)})
	if n.role == roleLeader && (outcome == service.Applied || outcome == service.Duplicate) {
		n.replyApplied(e.Cmd, result)
	}
	if n.role == roleLeader && len(n.splits) > 0 && outcome == service.Applied {
		n.continueSplit(e.Cmd, result)
	}
}
