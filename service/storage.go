package service

import (
	"encoding/binary"
	"slices"
	"strconv"
	"strings"

	"github.com/simrun/simrun/sim"
)

// Helpers for the protocols' disk records: keys that sort by index, and a
// reader that decodes a sealed record field by field (see record.go for the
// checksum).

// IndexKeyDigits is how many decimal digits IndexKey pads an index to:
// enough for any uint64.
const IndexKeyDigits = 20

// IndexKey returns the disk key of index i under prefix: prefix, then i
// zero-padded to IndexKeyDigits digits, so that the disk's sorted key order
// is the index order (a log's, a sequence's).
func IndexKey(prefix string, i uint64) string {
	var buf [64]byte
	return string(appendIndexKey(buf[:0], prefix, i))
}

func appendIndexKey(b []byte, prefix string, i uint64) []byte {
	b = append(b, prefix...)
	var digits [IndexKeyDigits]byte
	d := strconv.AppendUint(digits[:0], i, 10)
	for range IndexKeyDigits - len(d) {
		b = append(b, '0')
	}
	return append(b, d...)
}

// IndexKeyRun hands out IndexKey's keys under Prefix for a run of indexes
// Step apart, start, start+Step, start+2*Step..., many to an allocation:
// the keys are slices of one string, made for the next keysPerRun indexes
// of a run at once. A log kept as one disk record per block of entries asks
// for its blocks' keys in that order, one for every block it starts. A
// key holds its string, and so the other keys of its run, in memory.
type IndexKeyRun struct {
	Prefix string
	Step   uint64 // at least 1
	keys   string // the run's keys, back to back
	first  uint64 // the index of its first key
}

const keysPerRun = 32

// Key returns IndexKey(r.Prefix, i). An index outside the current run starts
// a new one at i.
func (r *IndexKeyRun) Key(i uint64) string {
	width := uint64(len(r.Prefix) + IndexKeyDigits)
	if i >= r.first && (i-r.first)%r.Step == 0 {
		if k := (i - r.first) / r.Step; (k+1)*width <= uint64(len(r.keys)) {
			return r.keys[k*width : (k+1)*width]
		}
	}
	var keys strings.Builder // its String is its buffer: one allocation
	keys.Grow(int(keysPerRun * width))
	var buf [64]byte
	for k := uint64(0); k < keysPerRun && i+k*r.Step >= i; k++ { // no index past the largest
		keys.Write(appendIndexKey(buf[:0], r.Prefix, i+k*r.Step))
	}
	r.keys, r.first = keys.String(), i
	return r.keys[:width]
}

// ParseIndexKey returns the index of a key that IndexKey made under prefix;
// ok is false for any other key.
func ParseIndexKey(prefix, key string) (i uint64, ok bool) {
	if len(key) != len(prefix)+IndexKeyDigits || !strings.HasPrefix(key, prefix) {
		return 0, false
	}
	i, err := strconv.ParseUint(key[len(prefix):], 10, 64)
	return i, err == nil
}

// PutCopies writes record under each of keys: a record kept in several
// copies (a hard state, a snapshot, a promise) so that a torn or corrupted
// one leaves another. The copies that hold no sound record (absent, or
// failing OpenRecord) are written first, then, after a sync if there were
// any, the sound ones, in keys' order: a crash keeps a prefix of the
// unsynced writes or any subset of them (sim.DiskFaults), one perhaps torn,
// so a torn write then leaves a sound copy, old or new. Writing over the
// only sound copy first, or with no sync between, could leave none: a
// server that repaired its hard state from its one sound copy, cut by a
// crash, halted for good. The copies share record, which the caller encoded for this
// write and never changes again (sim.Disk.PutShared): a snapshot, the whole
// state machine, is not copied once per key.
func PutCopies(d *sim.Disk, record []byte, keys ...string) {
	PutCopiesOf(d, record, func(v []byte) bool { _, ok := OpenRecord(v); return ok }, keys...)
}

// PutCopiesOf is PutCopies for records sealed another way: sound reports
// whether a stored value is a whole record whose checksum matches.
func PutCopiesOf(d *sim.Disk, record []byte, sound func(value []byte) bool, keys ...string) {
	var wasBuf [4]bool
	was := wasBuf[:0] // each copy's soundness before any write
	for _, k := range keys {
		ok := false
		d.Inspect(k, func(v []byte) { ok = sound(v) })
		was = append(was, ok)
	}
	for _, sound := range [...]bool{false, true} {
		for i, k := range keys {
			if was[i] == sound {
				d.PutShared(k, record)
			}
		}
		if !sound && slices.Contains(was, false) && slices.Contains(was, true) {
			d.Sync() // the sound copies are overwritten only once a new one is durable
		}
	}
}

// Copies is what ReadCopies found of a record kept under several keys.
type Copies[T any] struct {
	Sound   []T      // the copies that decode, in the keys' order
	Unsound []string // the keys that hold a value that does not decode
	Keys    int      // how many keys the record is kept under
}

// ReadCopies decodes the copies of a record that PutCopies keeps under keys.
func ReadCopies[T any](d *sim.Disk, keys []string, decode func([]byte) (T, error)) Copies[T] {
	c := Copies[T]{Keys: len(keys)}
	for _, k := range keys {
		b, ok := d.Get(k)
		if !ok {
			continue
		}
		if v, err := decode(b); err == nil {
			c.Sound = append(c.Sound, v)
		} else {
			c.Unsound = append(c.Unsound, k)
		}
	}
	return c
}

// Present is how many copies are on the disk at all.
func (c Copies[T]) Present() int { return len(c.Sound) + len(c.Unsound) }

// Partial reports that some copies are sound and some not (corrupted, torn,
// or never written): the record stands, and its copies must be written
// again from a sound one.
func (c Copies[T]) Partial() bool { return len(c.Sound) > 0 && len(c.Sound) < c.Keys }

// TornFirstWrite reports that no copy is sound and some were never written.
// PutCopies writes every copy before the caller syncs, and a crash tears at
// most the last write it keeps, so that is the record's very first write,
// cut before its sync: nothing was acknowledged on it, and the record is as
// if that write had never been made. This holds for a caller that never
// deletes one copy while keeping another (it writes an unsound copy again
// from a sound one instead, Partial), since a lone copy could otherwise be
// a synced record whose twin is gone.
func (c Copies[T]) TornFirstWrite() bool {
	return len(c.Sound) == 0 && len(c.Unsound) > 0 && len(c.Unsound) < c.Keys
}

// Lost reports that every copy is on the disk and none is sound: a crash
// cannot do that (it tears one copy at most), so faults corrupted them, and
// what the record held is gone.
func (c Copies[T]) Lost() bool { return c.Keys > 0 && len(c.Unsound) == c.Keys }

// RecordReader decodes the payload of a sealed record field by field. The
// first failure sticks: later reads return zero values and OK reports false,
// so a decoder reads every field and checks once at the end.
type RecordReader struct {
	b  []byte
	ok bool
}

// ReadRecord checks a record sealed from offset 0 (SealRecord) and returns
// a reader of its payload; the reader has failed already if the checksum
// does not match.
func ReadRecord(b []byte) RecordReader {
	payload, ok := OpenRecord(b)
	return RecordReader{b: payload, ok: ok}
}

// PayloadReader returns a reader of a payload whose checksum was checked
// already (or of what is left of one).
func PayloadReader(payload []byte) RecordReader { return RecordReader{b: payload, ok: true} }

// OK reports whether every read so far succeeded.
func (r *RecordReader) OK() bool { return r.ok }

// End reports whether every read succeeded and the payload was read exactly.
func (r *RecordReader) End() bool { return r.ok && len(r.b) == 0 }

// Rest returns the unread payload, sharing its bytes.
func (r *RecordReader) Rest() []byte { return r.b }

// Uvarint reads an unsigned varint.
func (r *RecordReader) Uvarint() uint64 { return readField(r, binary.Uvarint) }

// Varint reads a signed varint.
func (r *RecordReader) Varint() int64 { return readField(r, binary.Varint) }

// Byte reads one byte.
func (r *RecordReader) Byte() byte {
	return readField(r, func(b []byte) (byte, int) {
		if len(b) == 0 {
			return 0, 0
		}
		return b[0], 1
	})
}

// Command reads a command written by Command.AppendBinary.
func (r *RecordReader) Command() Command {
	return readField(r, func(b []byte) (Command, int) {
		cmd, rest, err := ReadCommand(b)
		if err != nil {
			return Command{}, 0
		}
		return cmd, len(b) - len(rest)
	})
}

// readField reads one field with decode, which returns the value and how
// many bytes it took (0 or less: a bad encoding), unless a read failed
// before.
func readField[T any](r *RecordReader, decode func([]byte) (T, int)) T {
	var zero T
	if !r.ok {
		return zero
	}
	v, k := decode(r.b)
	if k <= 0 {
		r.ok = false
		return zero
	}
	r.b = r.b[k:]
	return v
}
