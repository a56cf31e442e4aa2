package sim

import (
	"slices"
	"strings"
)

// Disk is a node's durable key-value store with an explicit sync, modelling a
// file system with a page cache: reads see every write at once, but only synced
// writes survive a crash. A protocol that acknowledges before it syncs loses
// acknowledged data on the next crash, and the checkers see it.
//
// Values are copied in and out, so callers may reuse their buffers.
type Disk struct {
	durable map[string][]byte // what survives a crash
	view    map[string][]byte // what reads see: durable plus unsynced writes
	pending []diskWrite       // unsynced writes, oldest first
	writes  uint64
	syncs   uint64
}

type diskWrite struct {
	key    string
	value  []byte
	delete bool
}

// NewDisk returns an empty disk.
func NewDisk() *Disk {
	return &Disk{durable: map[string][]byte{}, view: map[string][]byte{}}
}

// Get returns a copy of the value stored under key.
func (d *Disk) Get(key string) ([]byte, bool) {
	v, ok := d.view[key]
	if !ok {
		return nil, false
	}
	return slices.Clone(v), true
}

// Put stores value under key. It is lost by a crash unless Sync runs first.
func (d *Disk) Put(key string, value []byte) {
	v := slices.Clone(value)
	if v == nil {
		v = []byte{}
	}
	d.view[key] = v
	d.pending = append(d.pending, diskWrite{key: key, value: v})
	d.writes++
}

// Delete removes key. The removal is lost by a crash unless Sync runs first.
func (d *Disk) Delete(key string) {
	delete(d.view, key)
	d.pending = append(d.pending, diskWrite{key: key, delete: true})
	d.writes++
}

// Sync makes every write so far durable.
func (d *Disk) Sync() {
	for _, w := range d.pending {
		if w.delete {
			delete(d.durable, w.key)
		} else {
			d.durable[w.key] = w.value
		}
	}
	d.pending = d.pending[:0]
	d.syncs++
}

// Keys returns the keys that start with prefix, sorted, so that callers never
// depend on map iteration order.
func (d *Disk) Keys(prefix string) []string {
	var keys []string
	for k := range d.view {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// Unsynced returns how many writes a crash would lose now.
func (d *Disk) Unsynced() int { return len(d.pending) }

// Stats returns how many writes and syncs the disk has seen.
func (d *Disk) Stats() (writes, syncs uint64) { return d.writes, d.syncs }

// crash drops every unsynced write: the view falls back to the durable state.
func (d *Disk) crash() {
	d.view = make(map[string][]byte, len(d.durable))
	for k, v := range d.durable {
		d.view[k] = v
	}
	d.pending = d.pending[:0]
}
