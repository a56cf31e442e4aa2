package raft

import (
	"encoding/binary"
	"errors"

	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

// Disk layout (Raft Figure 2, "persistent state on all servers"; the
// snapshot of §7):
//
//	raft/hard/a, raft/hard/b     the hard state, twice: uvarint currentTerm,
//	                             varint votedFor (-1: none), uvarint lost.index,
//	                             uvarint lost.term, and once a snapshot was
//	                             taken uvarint snapshot index, uvarint its term
//	raft/snap/a, raft/snap/b     the snapshot, twice (snapshot.go): its last
//	                             index, term and command digest, the
//	                             configuration in force there, the state
//	                             machine and client sessions
//	raft/log/<index, 20 digits>  a chunk: the entries from that index on, up to
//	                             the end of its block of entriesPerChunk
//	                             indexes, each a frame (service.BeginFrame:
//	                             the record's length and its checksum) and a
//	                             record (uvarint term, the command as
//	                             service.Command.AppendBinary, and a checksum)
//
// Every record ends with a CRC-32C of the rest, so a corrupted record is
// noticed, never used; its frame's checksummed length tells a record that a
// crash cut short, never synced, from a corrupted one. Chunks (rather than
// one key per entry) keep the disk's key count small, which makes appends
// cheap, while an append still rewrites at most entriesPerChunk small
// records; zero-padded indexes make the disk's sorted key order the log
// order. A chunk's key is the first index of its block, or the first index
// after the snapshot if that is later (chunkFirst): the chunk that holds the
// first entries after a snapshot starts there. In steady state only the tail
// chunk is rewritten (compaction and the repair at load rewrite the first
// chunk after a snapshot too, in an order that leaves the disk loadable), and
// always synced before the handler ends, so no crash can tear a synced entry.
// The hard state and the snapshot are written in two copies so that a
// corrupted one is repaired from the other. The commit index is volatile, and
// so is the state machine past the snapshot: a restarted server restores the
// snapshot, learns the commit index again from the leader (or, as leader, by
// counting) and re-applies the committed entries after the snapshot.

const logKeyPrefix = "raft/log/"

var hardStateKeys = [2]string{"raft/hard/a", "raft/hard/b"}

// entriesPerChunk is how many log entries share one disk record.
const entriesPerChunk = 16

// chunkStart returns the first index of the chunk holding index (>= 1).
func chunkStart(index uint64) uint64 { return (index-1)/entriesPerChunk*entriesPerChunk + 1 }

// chunkFirst returns the key index of the chunk holding index (> base) in a
// log whose snapshot ends at base: the first index of its block, or base+1.
func chunkFirst(index, base uint64) uint64 { return max(chunkStart(index), base+1) }

// logKey returns the disk key of the chunk starting at index.
func logKey(index uint64) string { return service.IndexKey(logKeyPrefix, index) }

// parseLogKey returns the index of a log key.
func parseLogKey(key string) (uint64, bool) { return service.ParseIndexKey(logKeyPrefix, key) }

// hardState is currentTerm and votedFor (Raft Figure 2), plus lost: if not
// zero, the last entry of a log that disk corruption cut short (see
// node.lost); and snap, the last entry of the latest snapshot, which bounds
// what was lost if both copies of the snapshot are corrupted.
type hardState struct {
	term uint64
	vote sim.NodeID
	lost logPosition
	snap logPosition
}

// logPosition is a log's last entry, by index and term: what the up-to-date
// check of Raft §5.4.1 compares.
type logPosition struct{ index, term uint64 }

// atLeast reports whether a log ending at p is at least as up-to-date as one
// ending at q (Raft §5.4.1: the later last term wins; with equal last terms,
// the longer log).
func (p logPosition) atLeast(q logPosition) bool {
	return p.term > q.term || (p.term == q.term && p.index >= q.index)
}

func encodeHardState(h hardState) []byte {
	b := binary.AppendUvarint(make([]byte, 0, 32), h.term)
	b = binary.AppendVarint(b, int64(h.vote))
	b = binary.AppendUvarint(b, h.lost.index)
	b = binary.AppendUvarint(b, h.lost.term)
	if h.snap.index > 0 { // absent before the first snapshot
		b = binary.AppendUvarint(b, h.snap.index)
		b = binary.AppendUvarint(b, h.snap.term)
	}
	return service.SealRecord(b, 0)
}

var errCorruptHardState = errors.New("raft: corrupt hard state record")

func decodeHardState(b []byte) (hardState, error) {
	r := service.ReadRecord(b)
	h := hardState{term: r.Uvarint(), vote: sim.NodeID(r.Varint()), lost: logPosition{r.Uvarint(), r.Uvarint()}}
	if r.OK() && len(r.Rest()) > 0 {
		h.snap = logPosition{r.Uvarint(), r.Uvarint()}
	}
	if !r.End() {
		return hardState{}, errCorruptHardState
	}
	return h, nil
}

func encodeEntry(e Entry) []byte { return appendEncodedEntry(nil, e) }

func appendEncodedEntry(b []byte, e Entry) []byte {
	from := len(b)
	b = binary.AppendUvarint(b, e.Term)
	return service.SealRecord(e.Cmd.AppendBinary(b), from)
}

// appendChunkRecord appends e to an encoded chunk, as a frame (see
// service.BeginFrame): a crash that tears the append leaves a frame cut
// short, which the loader tells from a corrupted one.
func appendChunkRecord(chunk []byte, e Entry) []byte {
	chunk, start := service.BeginFrame(chunk)
	chunk = appendEncodedEntry(chunk, e)
	service.EndFrame(chunk, start)
	return chunk
}

// encodeChunk encodes entries as one chunk.
func encodeChunk(entries []Entry) []byte {
	var chunk []byte
	for _, e := range entries {
		chunk = appendChunkRecord(chunk, e)
	}
	return chunk
}

var errCorruptEntry = errors.New("raft: corrupt log entry record")

func decodeEntry(b []byte) (Entry, error) {
	r := service.ReadRecord(b)
	e := Entry{Term: r.Uvarint(), Cmd: r.Command()}
	if !r.End() {
		return Entry{}, errCorruptEntry
	}
	return e, nil
}

// errTornEntry says that a chunk ends inside an entry's frame: the tail of
// an append that a crash cut before it was synced.
var errTornEntry = errors.New("raft: torn log entry at the end of a chunk")

// decodeChunk hands add the entries of a chunk in order, up to the end, a
// torn entry (errTornEntry) or a bad one (errCorruptEntry).
func decodeChunk(b []byte, add func(Entry)) error {
	for count := 0; len(b) > 0; count++ {
		record, rest, status := service.NextFrame(b)
		switch {
		case status == service.FrameTorn:
			return errTornEntry
		case status == service.FrameCorrupt || count == entriesPerChunk:
			return errCorruptEntry
		}
		e, err := decodeEntry(record)
		if err != nil {
			return err
		}
		add(e)
		b = rest
	}
	return nil
}

// putLog writes log[1:] to an empty disk, in chunks (for tests and tools).
func putLog(d *sim.Disk, log []Entry) {
	for first := uint64(1); first < uint64(len(log)); first += entriesPerChunk {
		last := min(first+entriesPerChunk, uint64(len(log)))
		d.Put(logKey(first), encodeChunk(log[first:last]))
	}
}

// durableState is what a server finds on its disk when it starts.
type durableState struct {
	hard hardState
	snap snapshot // index 0: none
	log  entryLog // position 0 is the sentinel entry at snap.index (term snap.term)
	// fault, if set, says the disk cannot be trusted at all (both copies of
	// the hard state are corrupt): the server must stay down.
	fault string
	// torn says that the log ended in an entry a crash cut short, which the
	// load dropped.
	torn bool
}

// loadState reads the hard state, the snapshot and the log after it,
// repairing what it can, and syncs any repair before returning:
//
//   - A corrupt copy of the hard state or of the snapshot is rewritten from
//     the other. If both copies of the hard state are corrupt the term and
//     vote are unknown, and any vote could be a second vote in some term:
//     fault is set. One copy torn and the other missing is the first hard
//     state cut by a crash before its sync: the server starts fresh.
//   - Chunks at or below the snapshot's index, and chunks inside the range
//     already read, are what a crash left of a compaction (snapshot.go
//     orders its writes so that they are): they are deleted.
//   - The log is the run of chunks from the snapshot's index on up to the
//     first missing one (or the first chunk short of entries); the chunks
//     after such a gap are deleted. A gap comes only from writes a crash
//     lost before they were synced, which were never acknowledged (or, under
//     ack-before-sync, should not have been). A disk that reorders writes
//     (sim.DiskFaults) leaves gaps too, but never stale entries after new
//     ones: a truncation syncs its deletes before it writes (truncateFrom).
//   - A last entry, or a snapshot, of a term above the hard state's was
//     written in a step whose hard state, with that term, a reordering disk
//     lost: nothing of that step was synced (a sync would have kept the hard
//     state too), so no vote of that term left this server, and it takes
//     the term with no vote, as if that write had reached the disk.
//   - A chunk that ends inside an entry's frame is the tail of an append a
//     crash tore before it was synced: the whole entries before the cut are
//     kept, the rest of the log is dropped, as after a gap, and torn is set.
//   - A corrupt record ends the log too, but its entry may have been
//     acknowledged: the entries from it on are deleted and lost records the
//     last entry the disk held (an upper bound where unreadable: the end of
//     its chunk, in the current term), so that the server votes as if it
//     still had them and does not campaign until its log is as up-to-date
//     again (node.lost). Both copies of the snapshot corrupt are the same
//     loss at the log's start: the whole log is dropped, and lost is at
//     least the snapshot's last entry (kept in the hard state). Either way
//     the hard state with lost is synced before anything is deleted
//     (recordLoss).
func loadState(d *sim.Disk) durableState {
	st := durableState{hard: hardState{vote: sim.None}, log: newEntryLog(Entry{})}
	repairHard := loadHardState(d, &st)
	if st.fault != "" {
		return st
	}
	keys := d.Keys(logKeyPrefix)
	snap, repairSnap, snapLost := loadSnapshot(d, st.hard.snap, keys)
	if snapLost {
		st.loseLog(d, keys)
		deleteKeys(d, snapshotKeys[:])
		return st.finishLoad(d, true)
	}
	if repairSnap {
		service.PutCopies(d, encodeSnapshot(snap), snapshotKeys[:]...)
	}
	st.snap, st.log.at(0).Term = snap, snap.term
	if pos := snap.position(); st.hard.snap.index < pos.index {
		st.hard.snap, repairHard = pos, true // the hard state was written after the snapshot
	}
	logRepaired := st.loadLog(d, keys)
	if last := st.log.at(st.log.len() - 1).Term; last > st.hard.term {
		st.hard.term, st.hard.vote, repairHard = last, sim.None, true
	}
	return st.finishLoad(d, repairHard || repairSnap || logRepaired)
}

// loadLog reads the log's chunks, keys in index order, onto st.log from
// the snapshot's index on, and deletes or cuts what loadState's rules drop.
// It reports whether it changed the disk.
func (st *durableState) loadLog(d *sim.Disk, keys []string) (changed bool) {
	for i, key := range keys {
		first, ok := parseLogKey(key)
		next := st.snap.index + uint64(st.log.len())
		if ok && first < next {
			d.Delete(key) // compacted, or a duplicate a compaction left (see loadState)
			changed = true
			continue
		}
		if !ok || first != next {
			deleteKeys(d, keys[i:]) // a gap: the rest was being truncated or never synced
			return true
		}
		b, _ := d.Get(key)
		err := decodeChunk(b, st.log.append)
		switch {
		case errors.Is(err, errTornEntry):
			st.torn = true // never synced, so never acknowledged: dropped
			st.cutLog(d, first, keys[i+1:])
			return true
		case err != nil:
			if lost := lostPosition(d, keys[len(keys)-1], st.hard.term); !st.hard.lost.atLeast(lost) {
				st.hard.lost = lost
			}
			st.recordLoss(d)
			st.cutLog(d, first, keys[i+1:])
			return true
		case st.snap.index+uint64(st.log.len()) != chunkStart(first)+entriesPerChunk && i+1 < len(keys):
			deleteKeys(d, keys[i+1:]) // a short chunk, then a gap
			return true
		}
	}
	return changed
}

// cutLog ends the log on disk inside the chunk from first, at the entries
// loaded: the chunks after it (later) are deleted and it is rewritten with
// the entries of it that were read whole.
func (st *durableState) cutLog(d *sim.Disk, first uint64, later []string) {
	deleteKeys(d, later)
	rewriteChunk(d, first, st.log.slice(int(first-st.snap.index), st.log.len()))
}

// loseLog drops the whole log after both copies of the snapshot were found
// corrupt: lost becomes at least the snapshot's last entry and the log's.
func (st *durableState) loseLog(d *sim.Disk, keys []string) {
	lost := st.hard.snap
	if len(keys) > 0 {
		if p := lostPosition(d, keys[len(keys)-1], st.hard.term); p.atLeast(lost) {
			lost = p
		}
	}
	if !st.hard.lost.atLeast(lost) {
		st.hard.lost = lost
	}
	st.hard.snap = logPosition{}
	st.recordLoss(d)
	deleteKeys(d, keys)
}

// recordLoss writes both copies of the hard state, with the loss in lost,
// and syncs them: before the load deletes or cuts a corrupt record, the
// only evidence of the loss. A crash that cut the load after such a delete
// but before the hard state reached the disk left a server that had lost
// acknowledged entries with nothing on its disk to say so: it voted for a
// candidate without them, and a committed entry was overwritten.
func (st *durableState) recordLoss(d *sim.Disk) {
	service.PutCopies(d, encodeHardState(st.hard), hardStateKeys[:]...)
	d.Sync()
}

// finishLoad rewrites both copies of the hard state and syncs, if repair.
func (st *durableState) finishLoad(d *sim.Disk, repair bool) durableState {
	if repair {
		service.PutCopies(d, encodeHardState(st.hard), hardStateKeys[:]...)
		d.Sync()
	}
	return *st
}

// loadSnapshot reads the two copies of the snapshot: the later readable one
// wins (a crash may have left the new one in one copy and the old one in the
// other), and repair says the copies must be rewritten. With copies on disk
// and none readable, the snapshot is lost, unless it was the first one and a
// crash tore its writing: then no snapshot is recorded in the hard state and
// the log on disk still starts at index 1.
func loadSnapshot(d *sim.Disk, recorded logPosition, logKeys []string) (s snapshot, repair, lost bool) {
	copies := service.ReadCopies(d, snapshotKeys[:], decodeSnapshot)
	for i, c := range copies.Sound {
		if i == 0 || c.index > s.index {
			s = c
		}
	}
	switch {
	case copies.Present() == 0:
		return snapshot{}, false, false
	case len(copies.Sound) == 0:
		firstAtOne := len(logKeys) == 0 || logKeys[0] == logKey(1)
		if recorded.index == 0 && firstAtOne {
			deleteKeys(d, snapshotKeys[:]) // the first snapshot, torn: the log is whole
			return snapshot{}, false, false
		}
		return snapshot{}, false, true
	}
	// Two sound copies may differ (a crash between their writes): rewrite.
	same := 0
	for _, c := range copies.Sound {
		if c.index == s.index {
			same++
		}
	}
	return s, same < len(snapshotKeys), false
}

// loadHardState reads the two copies of the hard state into st. It reports
// whether they must be rewritten (one is corrupt or missing).
func loadHardState(d *sim.Disk, st *durableState) (repair bool) {
	copies := service.ReadCopies(d, hardStateKeys[:], decodeHardState)
	for i, h := range copies.Sound {
		// Both copies are written together; if both are sound they agree.
		if i == 0 || h.term > st.hard.term {
			st.hard = h
		}
	}
	switch {
	case copies.TornFirstWrite():
		// Both copies are never deleted, so this is the first hard state,
		// torn before its sync: the server starts fresh, as it was before.
		deleteKeys(d, hardStateKeys[:])
		d.Sync()
	case copies.Lost():
		st.fault = "both copies of the hard state are corrupt: term and vote are lost, so this server stays down"
	}
	return copies.Partial()
}

// lostPosition returns the position of the last entry of a corrupted log,
// whose last chunk is stored under lastKey: exact if that chunk holds a
// whole entry and is sound or only torn at its end, past every entry that
// was synced; else the chunk's last possible index in term, the current term, which no
// entry's term exceeds.
func lostPosition(d *sim.Disk, lastKey string, term uint64) logPosition {
	first, _ := parseLogKey(lastKey)
	b, _ := d.Get(lastKey)
	var count uint64
	var last Entry
	err := decodeChunk(b, func(e Entry) { count, last = count+1, e })
	if (err != nil && !errors.Is(err, errTornEntry)) || count == 0 {
		return logPosition{first + entriesPerChunk - 1, term}
	}
	return logPosition{first + count - 1, last.Term}
}

// rewriteChunk cuts the chunk from first down to entries, the log from
// there on, which it holds already (deleting it if there are none). The
// write is a truncation: a crash never tears the entries it keeps, which
// may be synced and acknowledged.
func rewriteChunk(d *sim.Disk, first uint64, entries []Entry) {
	if len(entries) == 0 {
		d.Delete(logKey(first))
		return
	}
	chunk := encodeChunk(entries)
	d.PutOver(logKey(first), chunk, len(chunk))
}

func deleteKeys(d *sim.Disk, keys []string) {
	for _, k := range keys {
		d.Delete(k)
	}
}
