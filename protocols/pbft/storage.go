package pbft

import (
	"encoding/binary"
	"errors"

	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

// Disk layout. What a replica must not forget across a crash, because
// messages it sent depend on it, is synced before those messages leave
// (flush runs before every send):
//
//	pbft/view                     the view and whether a view change to it is under way:
//	                              after a view-change message, no message of an older view
//	pbft/stable                   the stable checkpoint's proof: the low water mark
//	pbft/snapshot                 the latest stable state held: proof, last digest, bytes
//	pbft/entry/<seq, 20 digits>   the accepted pre-prepare (no other one in its view after
//	                              a prepare), the prepared certificate (carried by view
//	                              changes after a commit), the commit certificate
//
// Every record ends with a CRC-32C checksum (service.SealRecord). A record that fails it
// (disk corruption) is deleted at start and the replica goes on without it,
// as if it had never written it: forgetting is what a corrupted replica can
// do, and the other replicas' certificates and state transfer make up for
// it unless more than f replicas are faulty.

const (
	viewKey        = "pbft/view"
	stableKey      = "pbft/stable"
	snapshotKey    = "pbft/snapshot"
	newViewKey     = "pbft/new-view"
	entryKeyPrefix = "pbft/entry/"
)

// Entry record flags.
const (
	flagPrePrepare = 1 << iota
	flagCert
	flagCommitted
	maxEntryFlags = flagPrePrepare | flagCert | flagCommitted
)

// entryKey returns the disk key of seq's entry; zero padding makes the
// disk's sorted key order the sequence order.
func entryKey(seq uint64) string { return service.IndexKey(entryKeyPrefix, seq) }

func parseEntryKey(key string) (uint64, bool) {
	seq, ok := service.ParseIndexKey(entryKeyPrefix, key)
	return seq, ok && seq > 0
}

// Writers: each marks the disk dirty; flush syncs before the next send and
// at the end of the handler.

func (n *node) put(key string, b []byte) {
	n.env.Disk().Put(key, sealRecord(b))
	n.dirty = true
}

func (n *node) writeView() {
	b := binary.AppendUvarint(nil, n.view)
	if n.changing {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	n.put(viewKey, b)
}

// writeNewView keeps the new-view message of the current view: a replica
// that restarts in its view must still be able to hand it to a replica left
// behind in an older one (handleStatus), or that replica never catches up.
func (n *node) writeNewView() { n.put(newViewKey, encodeNewView(n.newView)) }

// writeEntry encodes e in a buffer reused from write to write: the disk
// copies what it is given.
func (n *node) writeEntry(seq uint64, e *entry) {
	n.rec = sealRecord(appendEntry(n.rec[:0], e))
	n.env.Disk().Put(entryKey(seq), n.rec)
	n.dirty = true
}

func (n *node) deleteEntry(seq uint64) {
	n.env.Disk().Delete(entryKey(seq))
	n.dirty = true
}

func (n *node) writeStable() { n.put(stableKey, putCheckpointCert(nil, n.stable)) }

func (n *node) writeSnapshot() {
	b := putCheckpointCert(make([]byte, 0, 64+len(n.snap.data)), n.snap.cert)
	b = binary.AppendUvarint(b, n.snap.last)
	n.put(snapshotKey, append(b, n.snap.data...))
}

// Records.

var errCorrupt = errors.New("pbft: corrupt record on disk")

// sealRecord appends the checksum (service.SealRecord).
func sealRecord(b []byte) []byte { return service.SealRecord(b, 0) }

// openRecord checks and strips the checksum.
func openRecord(b []byte) ([]byte, error) {
	body, ok := service.OpenRecord(b)
	if !ok {
		return nil, errCorrupt
	}
	return body, nil
}

func putSig(b []byte, s sim.Signature) []byte {
	b = binary.AppendVarint(b, int64(s.Signer))
	return binary.AppendUvarint(b, s.Digest)
}

func putSigList(b []byte, sigs []sim.Signature) []byte {
	b = binary.AppendUvarint(b, uint64(len(sigs)))
	for _, s := range sigs {
		b = putSig(b, s)
	}
	return b
}

func putCheckpointCert(b []byte, c CheckpointCert) []byte {
	b = binary.AppendUvarint(b, c.Seq)
	b = binary.AppendUvarint(b, c.Digest)
	return putSigList(b, c.Proof)
}

func putPrePrepare(b []byte, pp MsgPrePrepare) []byte {
	b = binary.AppendUvarint(b, pp.View)
	b = binary.AppendUvarint(b, pp.Seq)
	b = binary.AppendUvarint(b, pp.Digest)
	b = pp.Cmd.AppendBinary(b)
	return putSig(b, pp.Sig)
}

func putViewChange(b []byte, vc MsgViewChange) []byte {
	b = binary.AppendUvarint(b, vc.View)
	b = binary.AppendVarint(b, int64(vc.Replica))
	b = putCheckpointCert(b, vc.Stable)
	b = binary.AppendUvarint(b, uint64(len(vc.Prepared)))
	for _, c := range vc.Prepared {
		b = binary.AppendUvarint(b, c.View)
		b = binary.AppendUvarint(b, c.Seq)
		b = c.Cmd.AppendBinary(b)
		b = putSig(b, c.PrePrepare)
		b = putSigList(b, c.Prepares)
	}
	return putSig(b, vc.Sig)
}

func encodeNewView(nv MsgNewView) []byte {
	b := binary.AppendUvarint(make([]byte, 0, 256), nv.View)
	b = binary.AppendUvarint(b, uint64(len(nv.ViewChanges)))
	for _, vc := range nv.ViewChanges {
		b = putViewChange(b, vc)
	}
	b = binary.AppendUvarint(b, uint64(len(nv.PrePrepares)))
	for _, pp := range nv.PrePrepares {
		b = putPrePrepare(b, pp)
	}
	return b
}

func encodeEntry(e *entry) []byte { return appendEntry(make([]byte, 0, 128), e) }

// appendEntry appends e's record to b.
func appendEntry(b []byte, e *entry) []byte {
	var flags byte
	if e.pp.ok {
		flags |= flagPrePrepare
	}
	if e.certOK {
		flags |= flagCert
	}
	if e.committed {
		flags |= flagCommitted
	}
	b = append(b, flags)
	if e.pp.ok {
		b = binary.AppendUvarint(b, e.pp.view)
		b = e.pp.cmd.AppendBinary(b)
		b = putSig(b, e.pp.sig)
	}
	if e.certOK {
		b = binary.AppendUvarint(b, e.cert.View)
		b = e.cert.Cmd.AppendBinary(b)
		b = putSig(b, e.cert.PrePrepare)
		b = putSigList(b, e.cert.Prepares)
	}
	if e.committed {
		b = binary.AppendUvarint(b, e.done.View)
		b = e.done.Cmd.AppendBinary(b)
		b = putSigList(b, e.done.Commits)
	}
	return b
}

// reader decodes a record; the first failure sticks.
type reader struct {
	b   []byte
	err error
}

func (r *reader) uvarint() uint64          { return readField(r, (*service.RecordReader).Uvarint) }
func (r *reader) varint() int64            { return readField(r, (*service.RecordReader).Varint) }
func (r *reader) byte() byte               { return readField(r, (*service.RecordReader).Byte) }
func (r *reader) command() service.Command { return readField(r, (*service.RecordReader).Command) }

// readField reads one field of what is left with a service.RecordReader,
// unless a read failed before.
func readField[T any](r *reader, read func(*service.RecordReader) T) T {
	if r.err != nil {
		var zero T
		return zero
	}
	rr := service.PayloadReader(r.b)
	v := read(&rr)
	if rr.OK() {
		r.b = rr.Rest()
	} else {
		r.err = errCorrupt
	}
	return v
}

func (r *reader) sig() sim.Signature {
	signer := r.varint()
	return sim.Signature{Signer: sim.NodeID(signer), Digest: r.uvarint()}
}

func (r *reader) sigList() []sim.Signature {
	count := r.count()
	if r.err != nil {
		return nil
	}
	sigs := make([]sim.Signature, count)
	for i := range sigs {
		sigs[i] = r.sig()
	}
	return sigs
}

func (r *reader) checkpointCert() CheckpointCert {
	seq := r.uvarint()
	digest := r.uvarint()
	return CheckpointCert{Seq: seq, Digest: digest, Proof: r.sigList()}
}

// count reads a list length, bounded by what is left of the record (each
// element takes at least one byte), so a corrupt length cannot allocate.
func (r *reader) count() int {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.err = errCorrupt
		return 0
	}
	return int(n)
}

func (r *reader) prePrepare() MsgPrePrepare {
	return MsgPrePrepare{View: r.uvarint(), Seq: r.uvarint(), Digest: r.uvarint(), Cmd: r.command(), Sig: r.sig()}
}

func (r *reader) viewChange() MsgViewChange {
	vc := MsgViewChange{View: r.uvarint(), Replica: sim.NodeID(r.varint()), Stable: r.checkpointCert()}
	for range r.count() {
		vc.Prepared = append(vc.Prepared, PreparedCert{View: r.uvarint(), Seq: r.uvarint(), Cmd: r.command(),
			PrePrepare: r.sig(), Prepares: r.sigList()})
	}
	vc.Sig = r.sig()
	return vc
}

func (r *reader) newView() MsgNewView {
	nv := MsgNewView{View: r.uvarint()}
	for range r.count() {
		nv.ViewChanges = append(nv.ViewChanges, r.viewChange())
	}
	for range r.count() {
		nv.PrePrepares = append(nv.PrePrepares, r.prePrepare())
	}
	return nv
}

// end fails unless the record was read exactly.
func (r *reader) end() error {
	if r.err == nil && len(r.b) != 0 {
		r.err = errCorrupt
	}
	return r.err
}

func decodeEntry(seq uint64, b []byte) (entry, error) {
	r := reader{b: b}
	var e entry
	flags := r.byte()
	if flags == 0 || flags > maxEntryFlags {
		return entry{}, errCorrupt
	}
	if flags&flagPrePrepare != 0 {
		e.pp.ok = true
		e.pp.view = r.uvarint()
		e.pp.cmd = r.command()
		e.pp.digest = e.pp.cmd.Digest()
		e.pp.sig = r.sig()
	}
	if flags&flagCert != 0 {
		e.certOK = true
		e.cert = PreparedCert{View: r.uvarint(), Seq: seq, Cmd: r.command(), PrePrepare: r.sig(), Prepares: r.sigList()}
	}
	if flags&flagCommitted != 0 {
		e.committed = true
		e.done = CommitCert{View: r.uvarint(), Seq: seq, Cmd: r.command(), Commits: r.sigList()}
	}
	return e, r.end()
}

// durableState is what a replica finds on its disk when it starts.
type durableState struct {
	fresh    bool // nothing at all: the replica's first start
	view     uint64
	changing bool
	stable   CheckpointCert
	snap     snapshot
	newView  MsgNewView // of the view on disk, if kept (View 0: none)
	entries  []seqEntry // ascending, above the stable checkpoint
}

type seqEntry struct {
	seq uint64
	e   entry
}

// loadState reads the disk. A record that does not check out is deleted and
// forgotten (see the layout comment); entries at or below the stable
// checkpoint, left by a crash between its write and their deletion, go too.
func loadState(d *sim.Disk) durableState {
	st := durableState{fresh: len(d.Keys("pbft/")) == 0}
	changed := false
	read := func(key string) (reader, bool) {
		raw, ok := d.Get(key)
		if !ok {
			return reader{}, false
		}
		body, err := openRecord(raw)
		if err != nil {
			d.Delete(key)
			changed = true
			return reader{}, false
		}
		return reader{b: body}, true
	}
	if r, ok := read(viewKey); ok {
		view := r.uvarint()
		changing := r.byte()
		if r.end() == nil && changing <= 1 {
			st.view, st.changing = view, changing == 1
		}
	}
	if r, ok := read(stableKey); ok {
		if c := r.checkpointCert(); r.end() == nil {
			st.stable = c
		}
	}
	if r, ok := read(snapshotKey); ok {
		c := r.checkpointCert()
		last := r.uvarint()
		if r.err == nil && c.Seq > 0 {
			st.snap = snapshot{cert: c, last: last, data: r.b}
		}
	}
	if r, ok := read(newViewKey); ok {
		if nv := r.newView(); r.end() == nil {
			st.newView = nv
		}
	}
	st.stable = maxCheckpoint(st.stable, st.snap.cert)
	for _, key := range d.Keys(entryKeyPrefix) {
		seq, ok := parseEntryKey(key)
		if !ok || seq <= st.lowWaterMark() {
			d.Delete(key)
			changed = true
			continue
		}
		r, ok := read(key)
		if !ok {
			continue
		}
		e, err := decodeEntry(seq, r.b)
		if err != nil {
			d.Delete(key)
			changed = true
			continue
		}
		// A view is never below one the replica accepted a pre-prepare in,
		// even if the view record was lost.
		st.view = max(st.view, e.pp.view)
		st.entries = append(st.entries, seqEntry{seq: seq, e: e})
	}
	if changed {
		d.Sync()
	}
	return st
}

func maxCheckpoint(a, b CheckpointCert) CheckpointCert {
	if b.Seq > a.Seq {
		return b
	}
	return a
}

// lowWaterMark is where the log starts after a restart: the stable
// checkpoint, unless it was learned before this replica executed that far
// (see advanceStable), in which case the entries above the state it holds
// are still needed.
func (st *durableState) lowWaterMark() uint64 {
	if st.snap.cert.Seq < st.stable.Seq {
		return st.snap.cert.Seq
	}
	return st.stable.Seq
}

// recover installs what the disk held, re-executes the committed requests
// above the stable state (announcing their commits again, as paxos does) and
// re-counts this replica's own votes of its current view. It reports whether
// the disk was empty.
func (n *node) recover(st durableState) bool {
	n.view, n.changing = st.view, st.changing
	if st.newView.View == n.view && !n.changing {
		n.newView = st.newView // validated when it was accepted
	}
	if !st.fresh && !st.changing {
		// Announced before the restart, if ever: once per view. A replica
		// that was still changing to this view never led it, and must
		// announce it when its new-view completes (a restart mid-change
		// once silenced the announcement for good: a sweep's vacuous runs).
		n.leaderOf = n.view + 1
	}
	if st.snap.cert.Seq > 0 {
		n.installSnapshot(st.snap)
	}
	n.stable, n.h = st.stable, st.lowWaterMark()
	for _, se := range st.entries {
		if !n.inWindow(se.seq) {
			n.deleteEntry(se.seq)
			continue
		}
		e := n.ensure(se.seq)
		*e = se.e
		n.recountOwnVotes(se.seq, e)
		if e.committed {
			n.maxCommit = max(n.maxCommit, se.seq)
			n.env.Observe(sim.Observation{Kind: sim.ObsCommit, Term: e.done.View, Index: se.seq, Digest: e.done.Cmd.Digest()})
		}
	}
	n.next = n.firstFree()
	if n.primary(n.view) == n.id {
		n.assignNewView()
		next := n.next
		n.assignLogged() // not below what the new-view or this primary assigned
		if n.bugs.Has(restartReusesSequenceNumbers) {
			n.next = next // planted bug: the numbers it logged are assigned again
		}
	}
	n.recovering = true
	n.executeReady()
	n.recovering = false
	return st.fresh
}

// installSnapshot restores the state machine and sessions from a snapshot
// this replica held, and announces the state as applied up to its sequence
// number.
func (n *node) installSnapshot(s snapshot) {
	sessions := service.NewSessions(n.newSM())
	if err := sessions.Restore(s.data); err != nil {
		n.fail("cannot restore the snapshot on disk: " + err.Error())
	}
	n.sessions = sessions
	n.snap = s
	n.exec = s.cert.Seq
	n.maxCommit = s.cert.Seq
	n.env.Observe(sim.Observation{Kind: sim.ObsApply, Index: s.cert.Seq, Digest: s.last})
}

// recountOwnVotes restores this replica's own prepare and commit of its
// current view, which were sent (or about to be) before the crash: they
// count towards its certificates, and are retransmitted like any other.
func (n *node) recountOwnVotes(seq uint64, e *entry) {
	if !e.pp.ok || e.pp.view != n.view {
		return
	}
	e.sentAt = n.env.Now()
	if n.primary(e.pp.view) != n.id {
		sig := n.sign(prepareDigest(e.pp.view, seq, e.pp.digest))
		storeVote(&e.prepares, vote{view: e.pp.view, digest: e.pp.digest, sig: sig})
		e.prepareSent = true
	}
	if e.certOK && e.cert.View == e.pp.view {
		d := e.cert.Cmd.Digest()
		storeVote(&e.commits, vote{view: e.cert.View, digest: d, sig: n.sign(commitDigest(e.cert.View, seq, d))})
		e.commitSent = true
	}
}
