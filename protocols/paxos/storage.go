package paxos

import (
	"encoding/binary"
	"errors"
	"strconv"

	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

// Disk layout. PMS §2.3: "an acceptor must remember this information even if
// it fails and then restarts", that is the highest ballot it promised and the
// proposals it accepted; both are synced before any reply that depends on
// them leaves (see flush).
//
//	paxos/promise                 uvarint ballot: the highest ballot promised
//	paxos/commit                  uvarint slot: every slot up to it is chosen (synced lazily)
//	paxos/snapshot                uvarint index, uvarint digest, then the snapshot bytes
//	paxos/slot/<slot, 20 digits>  byte flags (1: chosen), uvarint ballot, then the command
//
// A slot record is the acceptor's accepted proposal (ballot and value). What
// the server learned is on disk too, though safety does not need it: it saves
// a restarted server fetching what it knew. The commonest way to learn a slot
// (the leader counting acceptances of its proposal, a learner told that the
// proposal it accepted was chosen) leaves the record's value as it is, so
// learning costs one small write of the commit index, synced with whatever
// the server syncs next, rather than one rewrite and sync per slot; a value learned from elsewhere (catch-up, phase 1)
// is written into the record with the chosen flag. A record never changes
// once its slot is chosen. Records at or below the snapshot index are
// deleted when the snapshot is written. Zero-padded slot numbers make the
// disk's sorted key order the slot order.

const (
	promiseKey     = "paxos/promise"
	commitKey      = "paxos/commit"
	snapshotKey    = "paxos/snapshot"
	slotKeyPrefix  = "paxos/slot/"
	slotDigits     = 20 // enough for any uint64
	flagChosen     = 1
	slotKeyLength  = len(slotKeyPrefix) + slotDigits
	maxRecordFlags = flagChosen
)

// slotKey returns the disk key of slot's record.
func slotKey(slot uint64) string {
	var buf [slotKeyLength]byte
	copy(buf[:], slotKeyPrefix)
	for i := len(slotKeyPrefix); i < len(buf); i++ {
		buf[i] = '0'
	}
	var digits [slotDigits]byte
	d := strconv.AppendUint(digits[:0], slot, 10)
	copy(buf[len(buf)-len(d):], d)
	return string(buf[:])
}

// parseSlotKey returns the slot of a slot key.
func parseSlotKey(key string) (uint64, bool) {
	if len(key) != slotKeyLength || key[:len(slotKeyPrefix)] != slotKeyPrefix {
		return 0, false
	}
	slot, err := strconv.ParseUint(key[len(slotKeyPrefix):], 10, 64)
	return slot, err == nil && slot > 0
}

// record is one slot as a server knows it: the proposal its acceptor accepted
// there (ballot 0: none), or the chosen value once learned.
type record struct {
	ballot uint64
	cmd    service.Command
	chosen bool
	// acks is the leader's count of phase 2b for its own proposal here: bit i
	// is set when server i accepted it. Volatile.
	acks uint64
	// key is the record's disk key once it has been written, kept so that
	// compaction deletes it without formatting it again.
	key string
}

// empty reports whether the server knows nothing of the slot.
func (r *record) empty() bool { return r.ballot == 0 && !r.chosen }

// appendRecord appends r's encoding to b.
func appendRecord(b []byte, r *record) []byte {
	var flags byte
	if r.chosen {
		flags = flagChosen
	}
	b = append(b, flags)
	b = binary.AppendUvarint(b, r.ballot)
	return r.cmd.AppendBinary(b)
}

func encodeRecord(r *record) []byte { return appendRecord(nil, r) }

var errCorruptRecord = errors.New("paxos: corrupt slot record on disk")

func decodeRecord(b []byte) (record, error) {
	if len(b) < 1 || b[0] > maxRecordFlags {
		return record{}, errCorruptRecord
	}
	r := record{chosen: b[0]&flagChosen != 0}
	ballot, n := binary.Uvarint(b[1:])
	if n <= 0 {
		return record{}, errCorruptRecord
	}
	cmd, rest, err := service.ReadCommand(b[1+n:])
	if err != nil || len(rest) != 0 {
		return record{}, errCorruptRecord
	}
	r.ballot, r.cmd = ballot, cmd
	if r.empty() {
		return record{}, errCorruptRecord // an empty record is never written
	}
	return r, nil
}

func encodeUvarint(v uint64) []byte { return binary.AppendUvarint(nil, v) }

var errCorruptUvarint = errors.New("paxos: corrupt promise or commit index on disk")

func decodeUvarint(b []byte) (uint64, error) {
	v, n := binary.Uvarint(b)
	if n <= 0 || n != len(b) {
		return 0, errCorruptUvarint
	}
	return v, nil
}

func encodeSnapshot(s Snapshot) []byte {
	b := binary.AppendUvarint(make([]byte, 0, 2*binary.MaxVarintLen64+len(s.Data)), s.Index)
	b = binary.AppendUvarint(b, s.Digest)
	return append(b, s.Data...)
}

var errCorruptSnapshot = errors.New("paxos: corrupt snapshot on disk")

func decodeSnapshot(b []byte) (Snapshot, error) {
	index, n := binary.Uvarint(b)
	if n <= 0 || index == 0 {
		return Snapshot{}, errCorruptSnapshot
	}
	digest, m := binary.Uvarint(b[n:])
	if m <= 0 {
		return Snapshot{}, errCorruptSnapshot
	}
	return Snapshot{Index: index, Digest: digest, Data: b[n+m:]}, nil
}

// loadUvarint reads a uvarint key, 0 if absent.
func loadUvarint(d *sim.Disk, key string) uint64 {
	b, ok := d.Get(key)
	if !ok {
		return 0
	}
	v, err := decodeUvarint(b)
	if err != nil {
		panic(err.Error())
	}
	return v
}

// loadCommit reads the commit index. It is written without a sync of its
// own (see putCommit), so a crash may tear it: a torn one is forgotten, and
// the server learns again what it covered.
func loadCommit(d *sim.Disk) uint64 {
	b, ok := d.Get(commitKey)
	if !ok {
		return 0
	}
	v, err := decodeUvarint(b)
	if err != nil {
		d.Delete(commitKey)
		return 0
	}
	return v
}

// durableState is what a server finds on its disk when it starts.
type durableState struct {
	promise  uint64
	commit   uint64 // every slot up to it is chosen (records or snapshot)
	snapshot Snapshot
	records  []slotRecord // ascending slots, all above the snapshot
}

type slotRecord struct {
	slot uint64
	rec  record
}

// loadState reads the promise, the snapshot and the slot records. Every write
// is synced before the handler that made it returns, so the disk never holds a
// torn record: a record that does not decode is a broken disk invariant, and
// the server panics (a protocol crash with its seed) rather than guess.
// Records at or below the snapshot (left by no correct run) are deleted.
func loadState(d *sim.Disk) durableState {
	var st durableState
	st.promise = loadUvarint(d, promiseKey)
	st.commit = loadCommit(d)
	if b, ok := d.Get(snapshotKey); ok {
		s, err := decodeSnapshot(b)
		if err != nil {
			panic(err.Error())
		}
		st.snapshot = s
	}
	stale := false
	for _, key := range d.Keys(slotKeyPrefix) {
		slot, ok := parseSlotKey(key)
		if !ok {
			panic("paxos: unexpected key on disk: " + key)
		}
		if slot <= st.snapshot.Index {
			d.Delete(key)
			stale = true
			continue
		}
		b, _ := d.Get(key)
		r, err := decodeRecord(b)
		if err != nil {
			panic(err.Error() + " at " + key)
		}
		r.chosen = r.chosen || slot <= st.commit
		r.key = key
		st.records = append(st.records, slotRecord{slot: slot, rec: r})
	}
	if stale || d.Unsynced() > 0 {
		d.Sync()
	}
	return st
}
