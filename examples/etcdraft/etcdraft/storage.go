package etcdraft

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
	pb "go.etcd.io/raft/v3/raftpb"
)

// Disk layout. etcd-raft keeps its log in a raft.Storage that the
// application must fill from its own durable copy on restart ("recover the
// in-memory storage from persistent snapshot, state and entries", the
// package documentation); this is that copy:
//
//	etcdraft/snap                the bootstrap snapshot's metadata (index 1,
//	                             term 1, the ConfState naming every server)
//	etcdraft/hard/a, .../hard/b  the HardState (term, vote, commit), in two
//	                             copies written a then b
//	etcdraft/log/<20 digits>     one raftpb.Entry per key, by index
//
// Each value is a record (record.go) holding the marshalled protobuf. Two
// copies of the HardState mean that a torn write of one leaves the other
// whole, and that a flipped bit in one is repaired from the other. Zero-padded
// indexes make the disk's sorted key order the log order.
const (
	keyPrefix    = "etcdraft/"
	snapKey      = "etcdraft/snap"
	logKeyPrefix = "etcdraft/log/"
)

var hardStateKeys = [2]string{"etcdraft/hard/a", "etcdraft/hard/b"}

// logKey returns the disk key of the entry at index.
func logKey(index uint64) string {
	const digits = 20 // enough for any uint64
	s := strconv.FormatUint(index, 10)
	b := make([]byte, 0, len(logKeyPrefix)+digits)
	b = append(b, logKeyPrefix...)
	for range digits - len(s) {
		b = append(b, '0')
	}
	return string(append(b, s...))
}

// parseLogKey returns the index of a log key.
func parseLogKey(key string) (uint64, bool) {
	if len(key) != len(logKeyPrefix)+20 || key[:len(logKeyPrefix)] != logKeyPrefix {
		return 0, false
	}
	index, err := strconv.ParseUint(key[len(logKeyPrefix):], 10, 64)
	return index, err == nil
}

// marshaler is the gogo-protobuf half every raftpb type implements.
type marshaler interface{ Marshal() ([]byte, error) }

// encode marshals v into a record. raftpb's types cannot fail to marshal.
func encode(v marshaler) []byte {
	b, err := v.Marshal()
	if err != nil {
		panic(fmt.Sprintf("etcdraft: marshal %T: %v", v, err))
	}
	return sealRecord(b)
}

// bootstrapSnapshot is the state every server starts from: index 1, term 1,
// every server a voter. etcd-raft recommends it over raft.Bootstrap ("set up
// a Storage that has a first index > 1 and which stores the desired
// ConfState"); it leaves no configuration entries in the log to apply.
func bootstrapSnapshot(servers []sim.NodeID) pb.SnapshotMetadata {
	meta := pb.SnapshotMetadata{Index: 1, Term: 1}
	for _, id := range servers {
		meta.ConfState.Voters = append(meta.ConfState.Voters, raftID(id))
	}
	return meta
}

// durableState is what a server finds on its disk when it starts.
type durableState struct {
	fresh   bool // an empty disk: the first boot
	snap    pb.SnapshotMetadata
	hard    pb.HardState
	entries []pb.Entry // from snap.Index+1 on, without gaps
	// fault, if set, says a synced record is corrupt: the server must stay
	// down (see record.go).
	fault string
}

// lastIndex is the index of the last durable entry.
func (st *durableState) lastIndex() uint64 { return st.snap.Index + uint64(len(st.entries)) }

// loadState reads the disk, drops what only unsynced writes left behind
// (a torn last record, entries after a gap), repairs a bad HardState copy
// from the good one, and syncs any change before returning. A log that ends
// below the HardState's commit index lost synced entries: a fault.
func loadState(d *sim.Disk, bugs bugSet) durableState {
	st := durableState{}
	keys := d.Keys(keyPrefix)
	if len(keys) == 0 {
		st.fresh = true
		return st
	}
	if !loadSnapshot(d, &st, len(keys)) {
		return st
	}
	changed := loadHardState(d, &st, bugs)
	if st.fault != "" {
		return st
	}
	if loadEntries(d, &st, logKeys(keys), bugs) {
		changed = true
	}
	if st.fault == "" && st.lastIndex() < st.hard.Commit && !bugs.Has(corruptAsTorn) {
		// The HardState is written after the entries it covers, so a sound
		// one never commits past the whole log: what is missing was synced.
		st.fault = fmt.Sprintf("the log ends at entry %d, below the commit index %d: committed entries are lost",
			st.lastIndex(), st.hard.Commit)
	}
	if st.fault != "" {
		return st
	}
	if changed {
		d.Sync()
	}
	return st
}

// logKeys returns the log's keys among the sorted keys of the disk.
func logKeys(keys []string) []string {
	from, to := len(keys), len(keys)
	for i, k := range keys {
		if strings.HasPrefix(k, logKeyPrefix) {
			from = min(from, i)
			to = i + 1
		}
	}
	return keys[from:to]
}

// loadSnapshot reads the bootstrap snapshot record. It reports whether
// loading may go on: a torn record on an otherwise empty disk (of keys
// records) is a first boot that crashed before its sync.
func loadSnapshot(d *sim.Disk, st *durableState, keys int) bool {
	b, ok := d.Get(snapKey)
	if !ok {
		st.fault = "the snapshot record is missing from a disk that holds other records"
		return false
	}
	payload, state := openRecord(b)
	switch {
	case state == recordTorn && keys == 1:
		d.Delete(snapKey)
		st.fresh = true
		return false
	case state != recordOK:
		st.fault = "the snapshot record is corrupt"
		return false
	}
	if err := st.snap.Unmarshal(payload); err != nil {
		st.fault = "the snapshot record does not decode: " + err.Error()
		return false
	}
	return true
}

// loadHardState picks the newer sound copy of the HardState and reports
// whether the copies must be rewritten (one is missing, torn, corrupt or
// stale). No copy at all is a server that never wrote one: it holds the
// bootstrap term and has voted for no one. Two corrupt copies are a fault:
// the vote is unknown, and any vote could be a second one in its term.
func loadHardState(d *sim.Disk, st *durableState, bugs bugSet) (rewrite bool) {
	var found []pb.HardState
	corrupt := 0
	for _, k := range hardStateKeys {
		b, ok := d.Get(k)
		if !ok {
			continue
		}
		payload, state := openRecord(b)
		var hs pb.HardState
		if state == recordCorrupt || (state == recordOK && hs.Unmarshal(payload) != nil) {
			corrupt++
			continue
		}
		if state == recordOK {
			found = append(found, hs)
		}
	}
	switch {
	case len(found) == 0 && corrupt > 0:
		st.fault = "every copy of the HardState is corrupt: term and vote are lost"
		return false
	case len(found) == 0:
		st.hard = pb.HardState{Term: st.snap.Term, Commit: st.snap.Index}
		return false
	}
	st.hard = found[0]
	if len(found) == 2 && newerHardState(found[1], found[0]) {
		st.hard = found[1]
	}
	if len(found) < 2 || found[0] != found[1] {
		writeHardState(d, st.hard, bugs)
		return true
	}
	return false
}

// newerHardState reports whether a is later than b: a later term, a vote
// cast in the same term, or a higher commit.
func newerHardState(a, b pb.HardState) bool {
	if a.Term != b.Term {
		return a.Term > b.Term
	}
	if (a.Vote == 0) != (b.Vote == 0) {
		return a.Vote != 0
	}
	return a.Commit > b.Commit
}

// writeHardState writes both copies, a first unless only a is sound (with
// the planted bug one-hardstate-copy, copy a only).
func writeHardState(d *sim.Disk, hs pb.HardState, bugs bugSet) {
	rec := encode(&hs)
	keys := hardStateKeys[:]
	if bugs.Has(oneHardStateCopy) {
		keys = keys[:1]
	}
	// A copy that holds no sound record goes first (service.PutCopiesOf): a
	// start-up that repaired the other copy from the only sound one,
	// overwriting it first and cut by a crash, could leave none, and the
	// server started over at term 1, its vote forgotten.
	service.PutCopiesOf(d, rec, soundRecord, keys...)
}

// soundRecord reports whether a stored value is a whole record whose
// checksum matches.
func soundRecord(v []byte) bool {
	_, state := openRecord(v)
	return state == recordOK
}

// loadEntries reads the log from the snapshot on, up to the first gap or
// torn record, and deletes whatever follows: only unsynced writes end a log
// that way (entries are written in index order and synced before anything
// depends on them; see server.persist). It reports whether it deleted
// anything.
func loadEntries(d *sim.Disk, st *durableState, keys []string, bugs bugSet) (deleted bool) {
	for i, key := range keys {
		index, ok := parseLogKey(key)
		if !ok || index != st.lastIndex()+1 {
			deleteKeys(d, keys[i:])
			return true
		}
		b, _ := d.Get(key)
		payload, state := openRecord(b)
		if state == recordTorn || state != recordOK && bugs.Has(corruptAsTorn) {
			// A torn record was never synced, nor were the entries written
			// after it: a disk that reorders writes may have let some of
			// them through (writeEntries). A whole record whose header was
			// damaged so that it looks torn (a bit flipped in both copies
			// of the length) reads as corrupt (record.go, wholeRecord).
			deleteKeys(d, keys[i:])
			return true
		}
		var e pb.Entry
		if state != recordOK || e.Unmarshal(payload) != nil || e.Index != index {
			st.fault = fmt.Sprintf("log entry %d is corrupt", index)
			return false
		}
		st.entries = append(st.entries, e)
	}
	return false
}

func deleteKeys(d *sim.Disk, keys []string) {
	for _, k := range keys {
		d.Delete(k)
	}
}
