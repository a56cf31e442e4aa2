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
		b = appendString(b, k)
		b = appendString(b, string(s.vals[s.index[k]]))
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
		var k, v string
		var ok bool
		if k, b, ok = readString(b); !ok {
			return errCorruptKVSnapshot
		}
		if v, b, ok = readString(b); !ok {
			return errCorruptKVSnapshot
		}
		fresh.set([]byte(k), []byte(v))
	}
	if len(b) != 0 {
		return errCorruptKVSnapshot
	}
	*s = fresh
	return nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func readString(b []byte) (string, []byte, bool) {
	size, n := binary.Uvarint(b)
	if n <= 0 || uint64(len(b)-n) < size {
		return "", nil, false
	}
	b = b[n:]
	return string(b[:size]), b[size:], true
}
