package service

import (
	"encoding/binary"
	"errors"
	"maps"
	"slices"

	"github.com/simrun/simrun/sim"
)

// Snapshotter is an optional interface of a StateMachine whose whole state can
// be captured and restored. It lets a protocol compact its log: the applied
// prefix is replaced by a snapshot, and a replica too far behind receives the
// snapshot instead of the commands it missed.
//
// Contract: Snapshot is deterministic (equal states give equal bytes: encode
// maps in sorted key order) and does not change the state; the caller owns the
// returned slice. Restore replaces the whole state with the one a Snapshot
// encoded; on error the state is unspecified and the caller must not use it.
// Restore must not keep b.
type Snapshotter interface {
	Snapshot() []byte
	Restore(b []byte) error
}

// ErrNoSnapshot reports a state machine that does not implement Snapshotter.
var ErrNoSnapshot = errors.New("service: the state machine cannot snapshot")

// ErrCorruptSnapshot reports snapshot bytes that do not decode.
var ErrCorruptSnapshot = errors.New("service: corrupt snapshot")

// CanSnapshot reports whether the wrapped state machine implements
// Snapshotter, that is whether Snapshot and Restore work.
func (s *Sessions) CanSnapshot() bool {
	_, ok := s.sm.(Snapshotter)
	return ok
}

// Snapshot encodes the client sessions (sorted by client, so the bytes do not
// depend on map order) followed by the state machine's snapshot. Restoring it
// gives a Sessions that answers retries exactly as this one would.
func (s *Sessions) Snapshot() ([]byte, error) {
	snap, ok := s.sm.(Snapshotter)
	if !ok {
		return nil, ErrNoSnapshot
	}
	clients := slices.Sorted(maps.Keys(s.last))
	b := binary.AppendUvarint(nil, uint64(len(clients)))
	for _, c := range clients {
		sess := s.last[c]
		b = binary.AppendVarint(b, int64(c))
		b = binary.AppendUvarint(b, sess.seq)
		b = binary.AppendUvarint(b, uint64(len(sess.result)))
		b = append(b, sess.result...)
	}
	return append(b, snap.Snapshot()...), nil
}

// Restore replaces the sessions and the state machine's state with those of
// a Snapshot. On error the Sessions must not be used.
func (s *Sessions) Restore(b []byte) error {
	snap, ok := s.sm.(Snapshotter)
	if !ok {
		return ErrNoSnapshot
	}
	count, n := binary.Uvarint(b)
	if n <= 0 || count > uint64(len(b)) {
		return ErrCorruptSnapshot
	}
	b = b[n:]
	last := make(map[sim.NodeID]session, count)
	for range count {
		client, n := binary.Varint(b)
		if n <= 0 {
			return ErrCorruptSnapshot
		}
		b = b[n:]
		seq, n := binary.Uvarint(b)
		if n <= 0 {
			return ErrCorruptSnapshot
		}
		b = b[n:]
		size, n := binary.Uvarint(b)
		if n <= 0 || uint64(len(b)-n) < size {
			return ErrCorruptSnapshot
		}
		b = b[n:]
		last[sim.NodeID(client)] = session{seq: seq, result: slices.Clone(b[:size])}
		b = b[size:]
	}
	if err := snap.Restore(b); err != nil {
		return err
	}
	s.last = last
	return nil
}
