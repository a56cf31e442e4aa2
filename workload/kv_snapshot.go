package workload

import (
	"encoding/binary"
	"errors"
	"maps"
	"slices"

	"github.com/simrun/simrun/service"
)

// The KV implements service.Snapshotter, so that protocols can compact their
// logs. The encoding is the key count, then each key and value (length
// prefixed) in sorted key order: equal states give equal bytes.
var _ service.Snapshotter = (*kv)(nil)

var errCorruptKVSnapshot = errors.New("workload: corrupt KV snapshot")

// Snapshot implements service.Snapshotter.
func (s *kv) Snapshot() []byte {
	keys := slices.Sorted(maps.Keys(s.index))
	b := binary.AppendUvarint(nil, uint64(len(keys)))
	for _, k := range keys {
		b = appendField(b, k)
		b = appendField(b, s.vals[s.index[k]])
	}
	return b
}

// Restore implements service.Snapshotter.
func (s *kv) Restore(b []byte) error {
	count, n := binary.Uvarint(b)
	if n <= 0 || count > uint64(len(b)) {
		return errCorruptKVSnapshot
	}
	b = b[n:]
	fresh := kv{index: make(map[string]int, count)}
	for range count {
		var k, v []byte
		var ok bool
		if k, b, ok = readField(b); !ok {
			return errCorruptKVSnapshot
		}
		if v, b, ok = readField(b); !ok {
			return errCorruptKVSnapshot
		}
		fresh.set(k, v) // copies both: b is the caller's
	}
	if len(b) != 0 {
		return errCorruptKVSnapshot
	}
	*s = fresh
	return nil
}

// appendField appends s, length first.
func appendField[S string | []byte](b []byte, s S) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// readField reads a field appendField wrote, without copying it, and returns
// the rest.
func readField(b []byte) (field, rest []byte, ok bool) {
	size, n := binary.Uvarint(b)
	if n <= 0 || uint64(len(b)-n) < size {
		return nil, nil, false
	}
	b = b[n:]
	return b[:size], b[size:], true
}
