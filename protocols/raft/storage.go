package raft

import (
	"encoding/binary"
	"errors"

	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

// Disk layout (Raft Figure 2, "persistent state on all servers"):
//
//	raft/hard/a, raft/hard/b     the hard state, twice: uvarint currentTerm,
//	                             varint votedFor (-1: none), uvarint lost.index,
//	                             uvarint lost.term
//	raft/log/<index, 20 digits>  a chunk: the entries from that index on, up to
//	                             entriesPerChunk of them, each a record
//	                             (uvarint length, then uvarint term, the command
//	                             as service.Command.AppendBinary, and a checksum)
//
// Every record ends with a CRC-32C of the rest, so a corrupted record is
// noticed, never used. Chunks (rather than one key per entry) keep the disk's
// key count small, which makes appends cheap, while an append still rewrites
// at most entriesPerChunk small records; zero-padded indexes make the disk's
// sorted key order the log order. Only the tail chunk is ever rewritten, and
// always synced before the handler ends, so no crash can tear a synced
// entry. The hard state is written in two copies so that a corrupted one is
// repaired from the other. The commit index and the state
// machine are volatile: a restarted server learns the commit index again from
// the leader (or, as leader, by counting) and rebuilds the state machine by
// re-applying the committed prefix.

const logKeyPrefix = "raft/log/"

var hardStateKeys = [2]string{"raft/hard/a", "raft/hard/b"}

// entriesPerChunk is how many log entries share one disk record.
const entriesPerChunk = 16

// chunkStart returns the first index of the chunk holding index (>= 1).
func chunkStart(index uint64) uint64 { return (index-1)/entriesPerChunk*entriesPerChunk + 1 }

// logKey returns the disk key of the entry at index.
func logKey(index uint64) string { return service.IndexKey(logKeyPrefix, index) }

// parseLogKey returns the index of a log key.
func parseLogKey(key string) (uint64, bool) { return service.ParseIndexKey(logKeyPrefix, key) }

// hardState is currentTerm and votedFor (Raft Figure 2), plus lost: if not
// zero, the last entry of a log that disk corruption cut short (see
// node.lost).
type hardState struct {
	term uint64
	vote sim.NodeID
	lost logPosition
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
	return service.SealRecord(b, 0)
}

var errCorruptHardState = errors.New("raft: corrupt hard state record")

func decodeHardState(b []byte) (hardState, error) {
	r := service.ReadRecord(b)
	h := hardState{term: r.Uvarint(), vote: sim.NodeID(r.Varint()), lost: logPosition{r.Uvarint(), r.Uvarint()}}
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

// appendChunkRecord appends e to an encoded chunk: its length, then its
// record.
func appendChunkRecord(chunk []byte, e Entry, scratch []byte) (newChunk, newScratch []byte) {
	scratch = appendEncodedEntry(scratch[:0], e)
	chunk = binary.AppendUvarint(chunk, uint64(len(scratch)))
	return append(chunk, scratch...), scratch
}

// encodeChunk encodes entries as one chunk.
func encodeChunk(entries []Entry) []byte {
	var chunk, scratch []byte
	for _, e := range entries {
		chunk, scratch = appendChunkRecord(chunk, e, scratch)
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

// decodeChunk appends the entries of a chunk to log, up to the first bad
// record (an error then) or the end.
func decodeChunk(b []byte, log []Entry) ([]Entry, error) {
	for count := 0; len(b) > 0; count++ {
		size, n := binary.Uvarint(b)
		if n <= 0 || size > uint64(len(b)-n) || count == entriesPerChunk {
			return log, errCorruptEntry
		}
		e, err := decodeEntry(b[n : n+int(size)])
		if err != nil {
			return log, err
		}
		log = append(log, e)
		b = b[n+int(size):]
	}
	return log, nil
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
	log  []Entry // log[0] is the sentinel entry at index 0 (term 0)
	// fault, if set, says the disk cannot be trusted at all (both copies of
	// the hard state are corrupt): the server must stay down.
	fault string
}

// loadState reads the hard state and the log, repairing what it can, and
// syncs any repair before returning:
//
//   - A corrupt copy of the hard state is rewritten from the other. If both
//     are corrupt the term and vote are unknown, and any vote could be a
//     second vote in some term: fault is set.
//   - The log is the run of chunks from index 1 up to the first missing one
//     (or the first chunk short of entries); the chunks after such a gap are
//     deleted. A gap comes only from writes a crash lost before they were
//     synced, which were never acknowledged (or, under ack-before-sync,
//     should not have been).
//   - A corrupt record ends the log too, but its entry may have been
//     acknowledged: the entries from it on are deleted and lost records the
//     last entry the disk held (an upper bound where unreadable: the end of
//     its chunk, in the current term), so that the server votes as if it
//     still had them and does not campaign until its log is as up-to-date
//     again (node.lost).
func loadState(d *sim.Disk) durableState {
	st := durableState{hard: hardState{vote: sim.None}, log: []Entry{{}}}
	repairHard, changed := loadHardState(d, &st), false
	if st.fault != "" {
		return st
	}
	keys := d.Keys(logKeyPrefix)
	for i, key := range keys {
		first, ok := parseLogKey(key)
		if !ok || first != uint64(len(st.log)) {
			deleteKeys(d, keys[i:]) // a gap: the rest was being truncated or never synced
			changed = true
			break
		}
		b, _ := d.Get(key)
		var err error
		if st.log, err = decodeChunk(b, st.log); err != nil {
			if lost := lostPosition(d, keys[len(keys)-1], st.hard.term); !st.hard.lost.atLeast(lost) {
				st.hard.lost = lost
			}
			deleteKeys(d, keys[i+1:])
			rewriteChunk(d, first, st.log)
			repairHard, changed = true, true
			break
		}
		if uint64(len(st.log)) != first+entriesPerChunk && i+1 < len(keys) {
			deleteKeys(d, keys[i+1:]) // a short chunk, then a gap
			changed = true
			break
		}
	}
	if repairHard {
		b := encodeHardState(st.hard)
		for _, k := range hardStateKeys {
			d.Put(k, b)
		}
		changed = true
	}
	if changed {
		d.Sync()
	}
	return st
}

// loadHardState reads the two copies of the hard state into st. It reports
// whether they must be rewritten (one is corrupt or missing).
func loadHardState(d *sim.Disk, st *durableState) (repair bool) {
	present, valid := 0, 0
	for _, k := range hardStateKeys {
		b, ok := d.Get(k)
		if !ok {
			continue
		}
		present++
		h, err := decodeHardState(b)
		if err != nil {
			continue
		}
		// Both copies are written together; if both are sound they agree.
		if valid == 0 || h.term > st.hard.term {
			st.hard = h
		}
		valid++
	}
	switch {
	case present == 0:
		return false // a fresh server
	case valid == 0:
		st.fault = "both copies of the hard state are corrupt: term and vote are lost, so this server stays down"
		return false
	}
	return valid < len(hardStateKeys)
}

// lostPosition returns the position of the last entry of a corrupted log,
// whose last chunk is stored under lastKey: exact if that chunk is sound,
// else the chunk's last possible index in term, the current term, which no
// entry's term exceeds.
func lostPosition(d *sim.Disk, lastKey string, term uint64) logPosition {
	first, _ := parseLogKey(lastKey)
	b, _ := d.Get(lastKey)
	entries, err := decodeChunk(b, nil)
	if err != nil || len(entries) == 0 {
		return logPosition{first + entriesPerChunk - 1, term}
	}
	return logPosition{first + uint64(len(entries)) - 1, entries[len(entries)-1].Term}
}

// rewriteChunk rewrites the chunk from first with the entries of log from
// there on (deleting it if there are none).
func rewriteChunk(d *sim.Disk, first uint64, log []Entry) {
	if first >= uint64(len(log)) {
		d.Delete(logKey(first))
		return
	}
	d.Put(logKey(first), encodeChunk(log[first:]))
}

func deleteKeys(d *sim.Disk, keys []string) {
	for _, k := range keys {
		d.Delete(k)
	}
}
