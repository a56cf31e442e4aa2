package etcdraft

import (
	"github.com/simrun/simrun/sim"
	"go.etcd.io/raft/v3"
	pb "go.etcd.io/raft/v3/raftpb"
)

// handleReady ends every handler: it takes each pending raft.Ready and
// handles it in the order etcd-raft's documentation gives (package raft,
// "Usage"): 1. write HardState and Entries to stable storage, 2. send the
// Messages, 3. apply the CommittedEntries, 4. Advance. Step 1 includes the
// sync: "no messages be sent until the latest HardState has been persisted
// to disk" (Raft Figure 2: persistent state is "updated on stable storage
// before responding to RPCs").
func (s *server) handleReady() {
	for {
		var rd raft.Ready
		ready := false
		s.pin(func() {
			if ready = s.rn.HasReady(); ready {
				rd = s.rn.Ready()
			}
		})
		if !ready {
			return
		}
		s.noteState(rd)
		if s.bugs.Has(sendBeforePersist) {
			s.send(rd.Messages) // planted bug: the messages leave before the state they vouch for
			s.persist(rd)
		} else {
			s.persist(rd)
			s.send(rd.Messages)
		}
		s.apply(rd.CommittedEntries)
		s.pin(func() { s.rn.Advance(rd) })
	}
}

// noteState follows the term, the role and the leader, and announces a new
// leadership to the checkers.
func (s *server) noteState(rd raft.Ready) {
	if !raft.IsEmptyHardState(rd.HardState) {
		s.term = rd.HardState.Term
	}
	if rd.SoftState == nil {
		return
	}
	was := s.role
	s.role, s.lead = rd.SoftState.RaftState, nodeID(rd.SoftState.Lead)
	switch {
	case s.role == raft.StateLeader && was != raft.StateLeader:
		s.env.Observe(sim.Observation{Kind: sim.ObsLeader, Term: s.term})
	case was == raft.StateLeader && s.role != raft.StateLeader:
		clear(s.pending) // their clients retry with the next leader
	}
}

// persist writes a Ready's entries and HardState to the disk and syncs them
// when etcd-raft says they must be durable (a new term, a vote, entries; a
// commit index alone may be lost), then hands them to the MemoryStorage.
func (s *server) persist(rd raft.Ready) {
	if !raft.IsEmptySnap(rd.Snapshot) {
		panic("etcdraft: a snapshot arrived, but no server ever compacts its log")
	}
	d := s.env.Disk()
	if s.bugs.Has(hardStateFirst) {
		s.persistHardState(d, rd.HardState) // planted bug: the commit index before the entries it covers
		s.writeEntries(d, rd.Entries)
	} else {
		s.writeEntries(d, rd.Entries)
		if coversNewEntries(rd) {
			d.Sync() // see persistHardState
		}
		s.persistHardState(d, rd.HardState)
	}
	if rd.MustSync {
		if s.bugs.Has(syncOnTick) {
			s.unsynced = true // planted bug: the sync waits for the next tick
		} else {
			d.Sync()
		}
	}
	must(s.storage.Append(rd.Entries))
	if !raft.IsEmptyHardState(rd.HardState) {
		must(s.storage.SetHardState(rd.HardState))
	}
}

// writeEntries writes entries (consecutive indexes) to the disk. Writing the
// entry at index i discards every earlier-written entry from i on (etcd-raft,
// "Usage", step 1): they conflict with the leader's log, so none is
// committed. The whole stale suffix is deleted first, from its end, and
// synced, and the new entries follow in index order, so that a crash that
// keeps a prefix of these writes (torn writes), or any subset of them (a
// disk that reorders writes), leaves a prefix of the old log, or the old
// log's kept part followed by new entries up to a gap or a torn one, which
// the loader drops: never a new entry followed by a stale one, a log no
// leader ever had.
func (s *server) writeEntries(d *sim.Disk, entries []pb.Entry) {
	if len(entries) == 0 {
		return
	}
	for i := s.diskLast; i >= entries[0].Index; i-- {
		d.Delete(logKey(i))
	}
	if s.diskLast >= entries[0].Index {
		d.Sync()
	}
	for i := range entries {
		d.Put(logKey(entries[i].Index), encode(&entries[i]))
	}
	s.diskLast = entries[len(entries)-1].Index
}

// persistHardState writes a Ready's HardState, if it has one, after the
// entries it may cover: a commit index on disk must never run ahead of the
// log on disk, whatever prefix of the step's writes a crash keeps. A disk
// that reorders unsynced writes could let it through without them, so when
// it covers entries of the same Ready, persist syncs them first
// (coversNewEntries).
func (s *server) persistHardState(d *sim.Disk, hs pb.HardState) {
	if !raft.IsEmptyHardState(hs) && !s.bugs.Has(noHardState) {
		writeHardState(d, hs, s.bugs) // planted bug no-hardstate skips this
	}
}

// coversNewEntries reports whether rd's HardState commits an entry that rd
// itself writes: the entries must then be durable before the HardState is
// written. A commit index below them covers only entries an earlier Ready
// wrote and synced (entries always need a sync, rd.MustSync).
func coversNewEntries(rd raft.Ready) bool {
	return len(rd.Entries) > 0 && rd.HardState.Commit >= rd.Entries[0].Index
}

// send sends each message to its server, marshalled (see Message).
func (s *server) send(msgs []pb.Message) {
	for i := range msgs {
		s.env.Send(nodeID(msgs[i].To), wire(&msgs[i]))
	}
}
