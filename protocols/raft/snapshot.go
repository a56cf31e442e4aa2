package raft

import (
	"encoding/binary"
	"errors"

	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

// Log compaction (Raft §7; thesis ch. 5).
//
// Every Config.SnapshotInterval applied entries a server saves its state
// machine and client sessions (service.Sessions.Snapshot) at its applied
// index, with that entry's term and command digest and the configuration in
// force there, and drops the entries the snapshot covers from memory and
// disk. The log then starts at the snapshot: position 0, the sentinel, is the
// snapshot's last entry (its term only), and every index goes through the
// helpers of raft.go (entryAt, termAt, entriesFrom). The snapshot's
// configuration is the base of node.configs, as the initial one was.
//
// A leader whose follower needs entries it compacted sends MsgSnapshot (the
// whole snapshot in one message, as the thesis's figure 5.3 does in chunks).
// A follower installs a snapshot past its commit index (thesis §5.1): if its
// log holds the snapshot's last entry (same index and term) it keeps the
// entries after it, otherwise it discards the whole log, which conflicts or
// is too short; either way its state machine is the snapshot's, and it
// answers with the snapshot's index, which is all it knows to match the
// leader's log. A snapshot at or below the commit index is old news: the
// answer is the commit index.
//
// The disk (storage.go) holds the snapshot in two copies, like the hard
// state, and the hard state records its last entry. A compaction writes in
// this order, each step leaving a disk that loads a state the server may be
// in, whether a crash keeps a prefix of the unsynced writes (the last one
// perhaps torn) or any subset of them (a disk that reorders writes,
// sim.DiskFaults):
//
//  1. the chunks of a discarded log past the snapshot (entries that conflict
//     with a committed one, so never committed) are deleted, and synced;
//  2. a kept suffix's first entries, if the chunk holding them starts at or
//     below the snapshot, are written again as a chunk that starts just after
//     it (the loader deletes the duplicate or a torn copy of it), and synced;
//  3. both copies of the snapshot and a sync, then the hard state and a
//     sync;
//  4. the chunks at or below the snapshot are deleted.
//
// A torn step 3 leaves the old snapshot (or none) in one copy and the log it
// needs whole; later, the new snapshot, and the chunks it covers go at the
// next load. On a disk that reorders writes the syncs order the steps: the
// snapshot never reaches it before step 1's deletes (a discarded chunk that
// starts right after the snapshot would load as its continuation), nor step
// 4's deletes before the snapshot that stands for what they delete, nor the
// hard state that records the snapshot before a sound copy of it: a first
// snapshot torn in one copy and lost in the other, under a hard state that
// records it, would load as a snapshot corruption destroyed (both copies
// unreadable, and no earlier one), and the server would drop its whole log
// and take the entries for lost, with no fault to blame (a swarm of
// raft-reordered-mid-step found it once the durability check judged such
// losses).

// snapshot is a server's state machine and client sessions after applying
// every entry up to index (service.Sessions.Snapshot), with that entry's term
// and command digest, so that installing it can be observed as applying
// index, and the configuration in force at index, so that the configuration
// survives compaction. data is never modified once taken. Index 0 is no
// snapshot.
type snapshot struct {
	index, term uint64
	digest      uint64
	conf        configuration
	data        []byte
}

func (s snapshot) position() logPosition { return logPosition{s.index, s.term} }

var snapshotKeys = [2]string{"raft/snap/a", "raft/snap/b"}

func encodeSnapshot(s snapshot) []byte {
	b := make([]byte, 0, 5*binary.MaxVarintLen64+len(s.data)+service.RecordChecksumSize)
	b = binary.AppendUvarint(b, s.index)
	b = binary.AppendUvarint(b, s.term)
	b = binary.AppendUvarint(b, s.digest)
	b = binary.AppendUvarint(b, uint64(s.conf.voters))
	b = binary.AppendUvarint(b, uint64(s.conf.outgoing))
	return service.SealRecord(append(b, s.data...), 0)
}

var errCorruptSnapshot = errors.New("raft: corrupt snapshot record")

func decodeSnapshot(b []byte) (snapshot, error) {
	r := service.ReadRecord(b)
	s := snapshot{index: r.Uvarint(), term: r.Uvarint(), digest: r.Uvarint(),
		conf: configuration{voters: sim.Members(r.Uvarint()), outgoing: sim.Members(r.Uvarint())}}
	s.data = r.Rest()
	if !r.OK() || s.index == 0 {
		return snapshot{}, errCorruptSnapshot
	}
	return s, nil
}

// message returns the MsgSnapshot of term that carries s.
func (s snapshot) message(term uint64) MsgSnapshot {
	return MsgSnapshot{Term: term, Index: s.index, LastTerm: s.term, Digest: s.digest, Conf: s.conf, Data: s.data}
}

// maybeSnapshot compacts the log once SnapshotInterval entries were applied
// since the last snapshot: the state machine is saved at the applied index.
func (n *node) maybeSnapshot() {
	if !n.canSnapshot || n.applied-n.snap.index < uint64(n.cfg.SnapshotInterval) {
		return
	}
	data, err := n.sessions.Snapshot()
	if err != nil {
		n.fail("cannot snapshot: " + err.Error())
	}
	e := n.entryAt(n.applied)
	conf := n.configAt(n.applied)
	if n.bugs.Has(snapshotForgetsConfig) {
		conf = n.initialConfig() // planted bug: the snapshot does not record the configuration
	}
	n.probe(ProbeSnapshotTaken)
	n.compact(snapshot{index: n.applied, term: e.Term, digest: e.Cmd.Digest(), conf: conf, data: data}, true)
}

// sendSnapshot sends the snapshot to a follower whose next entries were
// compacted. It stays probed: every heartbeat resends the snapshot until the
// follower answers (Raft §5.3 retries indefinitely), and its answer moves
// its next index past the snapshot.
func (n *node) sendSnapshot(to sim.NodeID) {
	n.probe(ProbeSnapshotSent)
	pr := &n.prs[to]
	pr.probing, pr.inflight = true, false
	n.send(to, n.snap.message(n.term))
}

// handleSnapshot runs the receiver side of InstallSnapshot (thesis §5.1,
// figure 5.3) for a message of the current term, as a follower.
func (n *node) handleSnapshot(from sim.NodeID, m MsgSnapshot) {
	n.heardFromLeader(from)
	if m.Index <= n.commit && !n.installsStale(m) {
		// Everything it covers is committed here already, and matches the
		// leader's log (Leader Completeness): nothing to install.
		n.probe(ProbeSnapshotOld)
		n.sendAppResp(from, MsgAppResp{Term: n.term, Index: n.commit})
		return
	}
	index := n.installSnapshot(snapshot{index: m.Index, term: m.LastTerm, digest: m.Digest, conf: m.Conf, data: m.Data})
	n.maybeRecovered()
	n.sendAppResp(from, MsgAppResp{Term: n.term, Index: index})
}

// installsStale says whether the planted bug install-stale-snapshot takes
// snapshot m, which the commit index passed, over the state: one past the
// server's own snapshot, which the log can still be compacted to.
func (n *node) installsStale(m MsgSnapshot) bool {
	return n.bugs.Has(installStaleSnapshot) && m.Index > n.snap.index
}

// installSnapshot makes s, a snapshot past the commit index, this server's
// state: the state machine and sessions restored, the log compacted up to it
// (its suffix kept if it holds s's last entry, else discarded), applied and
// commit at its index. It returns the index to acknowledge: s.index.
func (n *node) installSnapshot(s snapshot) uint64 {
	if !n.bugs.Has(installStaleSnapshot) {
		n.assert(s.index > n.commit, "installing a snapshot the commit index passed")
	}
	keep := s.index <= n.lastIndex() && n.termAt(s.index) == s.term
	if keep {
		n.probe(ProbeSnapshotInstalledKept)
	} else {
		n.probe(ProbeSnapshotInstalledDiscarded)
	}
	n.restoreSessions(s.data)
	n.compact(s, keep)
	n.commit, n.applied = s.index, s.index
	if len(n.writeCache) > 0 {
		n.uncacheApplied()
	}
	n.env.Observe(sim.Observation{Kind: sim.ObsApply, Term: s.term, Index: s.index, Digest: s.digest,
		State: service.StateDigest(s.data)})
	return s.index
}

// restoreSessions replaces the state machine and sessions with those of a
// snapshot's data (a fresh state machine for none).
func (n *node) restoreSessions(data []byte) {
	sessions := service.NewSessions(n.newSM())
	if data != nil {
		if err := sessions.Restore(data); err != nil {
			n.fail("cannot restore a snapshot: " + err.Error())
		}
	}
	if n.bugs.Has(snapshotForgetsSessions) {
		sessions.Forget() // planted bug: the state comes back, the sessions do not
	}
	n.sessions = sessions
}

// compact makes s the log's start, in memory and on disk, in the order the
// comment at the top of this file gives: with keep, the entries after s stay
// (s's last entry is in the log, or taken at the applied index); without,
// the log is only the snapshot. The sentinel is written to a copy of its
// segment: MsgApps in flight share the old one.
func (n *node) compact(s snapshot, keep bool) {
	d := n.env.Disk()
	keys := d.Keys(logKeyPrefix)
	if keep {
		n.log.compact(int(s.index-n.snap.index), Entry{Term: s.term})
	} else {
		n.log = newEntryLog(Entry{Term: s.term})
		n.configs = n.configs[:1] // the discarded log's configurations go with it
		for _, key := range keys {
			if first, _ := parseLogKey(key); first > s.index {
				d.Delete(key) // step 1: the discarded suffix
			}
		}
		d.Sync() // before step 3: see the comment at the top of this file
	}
	n.snap = s
	if first := s.index + 1; first <= n.lastIndex() && chunkStart(first) != first {
		last := min(n.lastIndex(), chunkStart(first)+entriesPerChunk-1)
		d.Put(logKey(first), encodeChunk(n.entriesFrom(first, last))) // step 2
		// Before step 3: once a copy of the snapshot is on the disk, the
		// chunk that held these entries starts at or below it and loads as
		// compacted, so the entries must be on the disk apart from it.
		d.Sync()
	}
	service.PutCopies(d, encodeSnapshot(s), snapshotKeys[:]...) // step 3
	// A disk may reorder unsynced writes: the hard state must not record a
	// snapshot ahead of a sound copy of it, nor the deletes overtake it.
	d.Sync()
	n.persistHardState()
	d.Sync()
	for _, key := range keys {
		if first, _ := parseLogKey(key); first <= s.index {
			d.Delete(key) // step 4
		}
	}
	n.loadTailChunk()
	n.logDirty = true
	n.rebaseConfigs()
}

// rebaseConfigs makes the snapshot's configuration the base of the
// configurations, followed by the configuration entries after it.
func (n *node) rebaseConfigs() {
	configs := append(make([]configEntry, 0, len(n.configs)), configEntry{index: n.snap.index, conf: n.snap.conf})
	for _, c := range n.configs {
		if c.index > n.snap.index {
			configs = append(configs, c)
		}
	}
	n.configs = configs
	n.conf = configs[len(configs)-1].conf
}
