package paxos

import (
	"encoding/binary"
	"errors"
	"strconv"
	"strings"

	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

// Disk layout. PMS §2.3: "an acceptor must remember this information even if
// it fails and then restarts", that is the highest ballot it promised and the
// proposals it accepted; both are synced before any reply that depends on
// them leaves (see flush).
//
//	paxos/promise/a, paxos/promise/b  uvarint ballot: the highest ballot promised (two copies)
//	paxos/commit                      uvarint slot: every slot up to it is chosen (synced lazily)
//	paxos/snapshot/a, .../b           uvarint index, uvarint digest, uvarint count and count
//	                                  (uvarint slot, uvarint members) configurations, then the
//	                                  snapshot bytes (two copies)
//	paxos/slot/<slot, 20 digits>/<version, 10 digits>
//	                                  a frame (service.BeginFrame), then byte flags (1: chosen,
//	                                  2: lost), uvarint ballot and the command
//	paxos/rejoin                      present while the server rebuilds lost state (see rejoin.go)
//
// Every value ends with a CRC-32C of the rest, so that a record corrupted on
// the disk (sim.World.CorruptDisk) is noticed, never used: see rejoin.go for
// what a server does when it lost acceptor state. The promise and the
// snapshot (which stands for the accepted proposals it compacted) are written
// twice, so that one corrupted copy costs nothing.
//
// A slot record is the acceptor's accepted proposal (ballot and value). What
// the server learned is on disk too, though safety does not need it: it saves
// a restarted server fetching what it knew. The commonest way to learn a slot
// (the leader counting acceptances of its proposal, a learner told that the
// proposal it accepted was chosen) leaves the record's value as it is, so
// learning costs one small write of the commit index, synced with whatever
// the server syncs next, rather than one rewrite and sync per slot; a value
// learned from elsewhere (catch-up, phase 1) is written into the record with
// the chosen flag. A record never changes once its slot is chosen. Records at
// or below the snapshot index are deleted when the snapshot is written.
// Zero-padded slot numbers make the disk's sorted key order the slot order.
//
// A slot's record is never overwritten in place: each write is a new version
// under its own key, and the version it supersedes is deleted once the new
// one is synced. A crash that tears a write cuts the new version only, which
// its frame shows was cut (never synced, so never acknowledged): the loader
// drops it and keeps the version before, the acceptor's state as it last
// answered. An overwrite in place, torn, would leave a record that reads
// like a corrupted one, and the acceptor would have to treat the slot as
// lost though it acknowledged nothing of the torn write.

const (
	promiseKeyA   = "paxos/promise/a"
	promiseKeyB   = "paxos/promise/b"
	commitKey     = "paxos/commit"
	snapshotKeyA  = "paxos/snapshot/a"
	snapshotKeyB  = "paxos/snapshot/b"
	rejoinKey     = "paxos/rejoin"
	slotKeyPrefix = "paxos/slot/"
	flagChosen    = 1
	flagLost      = 2
)

// versionDigits is how many decimal digits a slot key pads a record's
// version to: enough for any uint32.
const versionDigits = 10

// slotKeyLen is the length of every slot key.
const slotKeyLen = len(slotKeyPrefix) + service.IndexKeyDigits + 1 + versionDigits

// slotKey returns the disk key of version v of slot's record.
func slotKey(slot uint64, v uint32) string {
	var buf [slotKeyLen]byte
	b := appendPadded(append(buf[:0], slotKeyPrefix...), slot, service.IndexKeyDigits)
	return string(appendPadded(append(b, '/'), uint64(v), versionDigits))
}

// appendPadded appends v in decimal, zero-padded to digits.
func appendPadded(b []byte, v uint64, digits int) []byte {
	var d [20]byte
	s := strconv.AppendUint(d[:0], v, 10)
	for range digits - len(s) {
		b = append(b, '0')
	}
	return append(b, s...)
}

// parseSlotKey returns the slot and version of a slot key.
func parseSlotKey(key string) (slot uint64, v uint32, ok bool) {
	rest, found := strings.CutPrefix(key, slotKeyPrefix)
	if !found || len(key) != slotKeyLen || rest[service.IndexKeyDigits] != '/' {
		return 0, 0, false
	}
	slot, errSlot := strconv.ParseUint(rest[:service.IndexKeyDigits], 10, 64)
	version, errVersion := strconv.ParseUint(rest[service.IndexKeyDigits+1:], 10, 32)
	return slot, uint32(version), errSlot == nil && errVersion == nil && slot > 0
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
	// key is the disk key of the record's latest version once it has been
	// written, kept so that compaction deletes it without formatting it
	// again; version is that version's number.
	key     string
	version uint32
	// lost marks a record found corrupt on the disk: the acceptor may have
	// accepted something here and cannot say what (see rejoin.go). It is
	// repaired by the next proposal accepted here or the value learned.
	lost bool
}

// empty reports whether the server knows nothing of the slot.
func (r *record) empty() bool { return r.ballot == 0 && !r.chosen }

// appendRecord appends r's encoding to b: a frame holding the sealed record.
func appendRecord(b []byte, r *record) []byte {
	b, start := service.BeginFrame(b)
	from := len(b)
	var flags byte
	if r.chosen {
		flags |= flagChosen
	}
	if r.lost {
		flags |= flagLost
	}
	b = append(b, flags)
	b = binary.AppendUvarint(b, r.ballot)
	b = service.SealRecord(r.cmd.AppendBinary(b), from)
	service.EndFrame(b, start)
	return b
}

func encodeRecord(r *record) []byte { return appendRecord(nil, r) }

var (
	errCorruptRecord = errors.New("paxos: corrupt slot record on disk")
	errTornRecord    = errors.New("paxos: slot record cut short by a crash")
)

// decodeRecord decodes a slot record's value: errTornRecord if a crash cut
// it (see the layout above), errCorruptRecord if it was damaged.
func decodeRecord(b []byte) (record, error) {
	sealed, rest, status := service.NextFrame(b)
	switch {
	case status == service.FrameTorn:
		return record{}, errTornRecord
	case status == service.FrameCorrupt || len(rest) > 0:
		return record{}, errCorruptRecord
	}
	d := service.ReadRecord(sealed)
	flags := d.Byte()
	r := record{ballot: d.Uvarint(), cmd: d.Command(), chosen: flags&flagChosen != 0, lost: flags&flagLost != 0}
	switch {
	case !d.End() || (flags != 0 && flags != flagChosen && flags != flagLost):
		return record{}, errCorruptRecord
	case r.empty() != r.lost:
		return record{}, errCorruptRecord // only a lost record is empty
	}
	return r, nil
}

// appendUvarint appends v's sealed encoding to b.
func appendUvarint(b []byte, v uint64) []byte {
	from := len(b)
	return service.SealRecord(binary.AppendUvarint(b, v), from)
}

func encodeUvarint(v uint64) []byte { return appendUvarint(nil, v) }

var errCorruptUvarint = errors.New("paxos: corrupt promise or commit index on disk")

func decodeUvarint(b []byte) (uint64, error) {
	r := service.ReadRecord(b)
	if v := r.Uvarint(); r.End() {
		return v, nil
	}
	return 0, errCorruptUvarint
}

func encodeSnapshot(s Snapshot) []byte {
	b := binary.AppendUvarint(make([]byte, 0, (3+2*len(s.Configs))*binary.MaxVarintLen64+len(s.Data)+service.RecordChecksumSize), s.Index)
	b = binary.AppendUvarint(b, s.Digest)
	b = binary.AppendUvarint(b, uint64(len(s.Configs)))
	for _, c := range s.Configs {
		b = binary.AppendUvarint(binary.AppendUvarint(b, c.Slot), uint64(c.Members))
	}
	return service.SealRecord(append(b, s.Data...), 0)
}

var errCorruptSnapshot = errors.New("paxos: corrupt snapshot on disk")

func decodeSnapshot(b []byte) (Snapshot, error) {
	r := service.ReadRecord(b)
	s := Snapshot{Index: r.Uvarint(), Digest: r.Uvarint()}
	configs := r.Uvarint()
	for i := uint64(0); i < configs && r.OK(); i++ {
		s.Configs = append(s.Configs, ConfigChange{Slot: r.Uvarint(), Members: sim.Members(r.Uvarint())})
	}
	s.Data = r.Rest()
	if !r.OK() || s.Index == 0 || uint64(len(s.Configs)) != configs {
		return Snapshot{}, errCorruptSnapshot
	}
	return s, nil
}

// durableState is what a server finds on its disk when it starts.
type durableState struct {
	promise  uint64
	commit   uint64 // every slot up to it is chosen (records or snapshot)
	snapshot Snapshot
	records  []slotRecord // ascending slots, all above the snapshot
	// lost says that the promise (both copies) or the snapshot (which stood
	// for the proposals it compacted) was lost, or that an earlier rejoin did
	// not finish: the server must rejoin (rejoin.go). A lost slot record is a
	// record with the lost flag instead.
	lost bool
	// torn says that a crash had cut a slot record's newest version, which
	// the load dropped.
	torn bool
}

type slotRecord struct {
	slot uint64
	rec  record
}

// loadState reads the promise, the commit index, the snapshot and the slot
// records. Every write but the commit index and the deletes of superseded
// slot versions is synced before the handler that made it returns, so a
// crash between handlers tears nothing else but the newest version of a slot
// record, which loadSlot drops; one inside a handler may also tear a copy of
// the promise or the snapshot, which judgeCopies tells from a corrupted one.
// A value whose checksum fails is otherwise taken as corrupted on the disk.
// A corrupt slot record is superseded by a lost record (so that a restart
// remembers the loss); one corrupt copy of the promise or snapshot is written
// again from the other; both corrupt are deleted, after the rejoin marker
// that records the loss, and the state reports the loss. A corrupt commit
// index is forgotten. Records at or below the snapshot are what a crash left
// of a compaction, which writes the snapshot before it deletes them
// (writeSnapshot): they are deleted.
func loadState(d *sim.Disk) durableState {
	var st durableState
	var bad []string // the copies that do not decode, deleted once a loss is on record
	promise, repairPromise := loadPromise(d, &st.lost, &bad)
	st.promise = promise
	if v, ok := loadValue(d, commitKey, decodeUvarint); ok {
		st.commit = v
	}
	snapshot, repairSnapshot := loadSnapshot(d, &st.lost, &bad)
	st.snapshot = snapshot
	_, rejoining := d.Get(rejoinKey)
	if st.lost && !rejoining {
		// The marker is synced before the corrupt copies go: a crash that
		// cut this start after their deletes reached the disk would
		// otherwise leave no sign of the loss, and the acceptor would answer
		// with a promise it forgot. A disk that reorders unsynced writes
		// (sim.DiskFaults) could let the deletes through without the marker.
		d.Put(rejoinKey, encodeUvarint(st.promise))
		d.Sync()
	}
	st.lost = st.lost || rejoining // whatever its bytes: a rejoin was under way
	deleteKeys(d, bad)
	if repairPromise {
		service.PutCopies(d, encodeUvarint(st.promise), promiseKeyA, promiseKeyB)
	}
	if repairSnapshot {
		service.PutCopies(d, encodeSnapshot(st.snapshot), snapshotKeyA, snapshotKeyB)
	}
	st.loadSlots(d)
	if d.Unsynced() > 0 {
		d.Sync()
	}
	return st
}

// loadSlots reads the slot records, each slot's versions together (the
// disk's key order keeps them side by side, oldest first).
func (st *durableState) loadSlots(d *sim.Disk) {
	keys := d.Keys(slotKeyPrefix)
	for len(keys) > 0 {
		slot, _, _ := parseSlotKey(keys[0])
		versions := len(keys)
		for i, k := range keys {
			if s, _, ok := parseSlotKey(k); !ok || s != slot {
				versions = i
				break
			}
		}
		if slot == 0 || slot <= st.snapshot.Index {
			deleteKeys(d, keys[:max(versions, 1)])
		} else {
			r, ok, torn := loadSlot(d, keys[:versions])
			st.torn = st.torn || torn
			if ok {
				// The commit index on the disk covers only records synced
				// before it was written (putCommit): their values were chosen.
				r.chosen = r.chosen || (slot <= st.commit && !r.lost)
				st.records = append(st.records, slotRecord{slot: slot, rec: r})
			}
		}
		keys = keys[max(versions, 1):]
	}
}

// loadSlot reads the versions of one slot's record, oldest first, and keeps
// the newest one a crash did not cut: a torn version was never synced and is
// dropped; a corrupt one makes the slot lost, recorded as a newer version (a
// crash that tears that write leaves the corrupt one, lost again). The other
// versions are deleted. ok is false if every version was torn: the acceptor
// never synced anything for the slot. torn says a torn version was dropped.
func loadSlot(d *sim.Disk, keys []string) (r record, ok, torn bool) {
	newest := len(keys) - 1
	for ; newest >= 0; newest-- {
		b, _ := d.Get(keys[newest])
		var err error
		if r, err = decodeRecord(b); !errors.Is(err, errTornRecord) {
			ok = err == nil
			break
		}
		d.Delete(keys[newest])
		torn = true
	}
	if newest < 0 {
		return record{}, false, torn
	}
	slot, version, _ := parseSlotKey(keys[newest])
	r.key, r.version = keys[newest], version
	if !ok {
		r = record{lost: true, version: version + 1}
		r.key = slotKey(slot, r.version)
		d.Put(r.key, encodeRecord(&r))
		d.Sync() // the loss is on record before the versions go, whatever order a disk keeps unsynced writes in
		newest++ // the corrupt version goes too
	}
	deleteKeys(d, keys[:newest])
	return r, true, torn
}

func deleteKeys(d *sim.Disk, keys []string) {
	for _, k := range keys {
		d.Delete(k)
	}
}

// loadValue decodes key's value, deleting it if it does not decode.
func loadValue[T any](d *sim.Disk, key string, decode func([]byte) (T, error)) (v T, ok bool) {
	b, present := d.Get(key)
	if !present {
		return v, false
	}
	v, err := decode(b)
	if err != nil {
		d.Delete(key)
		var zero T
		return zero, false
	}
	return v, true
}

// loadSnapshot reads the two copies of the snapshot: the later readable one
// wins. repair says that only one copy is sound.
func loadSnapshot(d *sim.Disk, lost *bool, bad *[]string) (s Snapshot, repair bool) {
	copies := service.ReadCopies(d, []string{snapshotKeyA, snapshotKeyB}, decodeSnapshot)
	for _, c := range copies.Sound {
		if c.Index > s.Index {
			s = c
		}
	}
	return s, judgeCopies(copies, lost, bad)
}

// loadPromise reads the two copies of the promise: the higher readable one
// wins (both are written together). repair says that only one copy is sound.
func loadPromise(d *sim.Disk, lost *bool, bad *[]string) (promise uint64, repair bool) {
	copies := service.ReadCopies(d, []string{promiseKeyA, promiseKeyB}, decodeUvarint)
	for _, p := range copies.Sound {
		promise = max(promise, p)
	}
	return promise, judgeCopies(copies, lost, bad)
}

// judgeCopies says what the copies of a value written twice mean. A copy
// found unsound is written again at once from the other (repair: the
// caller does it) instead of deleted, so once a pair was synced both copies
// are on disk (service.Copies.TornFirstWrite), and:
//   - one sound copy is all it takes: repair is set;
//   - two unreadable copies were corrupted: the value is lost, and their
//     keys go to bad;
//   - one unreadable copy alone is the pair's very first write, torn before
//     its sync: its key goes to bad as if that write had never been made.
//     Taking it for a loss would send the server to rejoin after an ordinary
//     crash, and a cluster whose servers all did so would never elect a
//     leader again.
func judgeCopies[T any](copies service.Copies[T], lost *bool, bad *[]string) (repair bool) {
	if copies.Lost() {
		*lost = true
	}
	if copies.Lost() || copies.TornFirstWrite() {
		*bad = append(*bad, copies.Unsound...)
	}
	return copies.Partial()
}
