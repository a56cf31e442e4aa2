package sim

import (
	"maps"
	"slices"
	"strings"
)

// Disk is a node's durable key-value store with an explicit sync, modelling a
// file system with a page cache: reads see every write at once, but only synced
// writes survive a crash. A protocol that acknowledges before it syncs loses
// acknowledged data on the next crash, and the checkers see it.
//
// Values are copied in and out, so callers may reuse their buffers
// (PutShared, for a caller that never will, skips the copy).
type Disk struct {
	durable map[string][]byte // what survives a crash
	view    map[string][]byte // what reads see: durable plus unsynced writes
	pending []diskWrite       // unsynced writes, oldest first
	writes  uint64
	syncs   uint64
	// tap, if set, hears every write, delete and sync just before it happens: the
	// kernel sets it while a torn step is armed, to place the disk's effects
	// among the handler's other effects (tear.go).
	tap func(diskEffect)
}

// diskEffect is one disk effect of a handler, for a torn step to replay or cut.
type diskEffect struct {
	write diskWrite
	sync  bool
}

type diskWrite struct {
	key    string
	value  []byte
	delete bool
	kept   int // PutOver: the leading bytes a torn write cannot cut
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

// Inspect calls fn with the value stored under key, without copying it, and
// reports whether there is one. fn must neither change nor keep the bytes:
// it is for a check (a checksum) of a value too large to copy for it.
func (d *Disk) Inspect(key string, fn func(value []byte)) bool {
	v, ok := d.view[key]
	if ok {
		fn(v)
	}
	return ok
}

// Put stores a copy of value under key. It is lost by a crash unless Sync
// runs first.
func (d *Disk) Put(key string, value []byte) {
	v := slices.Clone(value)
	if v == nil {
		v = []byte{}
	}
	d.PutShared(key, v)
}

// PutShared is Put without the copy: the disk keeps value itself, so the
// caller must never change the bytes value holds again. Appending to value
// is fine, since it leaves those bytes as they are: a record rewritten at
// every step as it grows (a log's last chunk) is written without copying
// all of it each time. The disk never changes a value in place either
// (corruption replaces it).
func (d *Disk) PutShared(key string, value []byte) { d.write(key, value, 0) }

func (d *Disk) write(key string, value []byte, kept int) {
	w := diskWrite{key: key, value: value, kept: kept}
	if w.value == nil {
		w.value = []byte{}
	}
	if d.tap != nil {
		d.tap(diskEffect{write: w})
	}
	d.view[key] = w.value
	d.pending = append(d.pending, w)
	d.writes++
}

// PutOver is PutShared for a value whose first kept bytes are those of the
// key's current value (what reads see now), left as they are: an append
// keeps them all, a truncation all it leaves (kept is then len(value)). A
// crash that tears the write cuts it at kept or after, as a torn append to
// a file damages only what it added and a truncation is never torn; a
// PutShared may be torn anywhere, as an overwrite in place may. The caller
// vouches for the bytes; the disk checks that there are that many.
func (d *Disk) PutOver(key string, value []byte, kept int) {
	if kept < 0 || kept > len(value) || kept > len(d.view[key]) {
		panic("sim: PutOver keeps more bytes than the value or the current one has")
	}
	d.write(key, value, kept)
}

// Delete removes key. The removal is lost by a crash unless Sync runs first.
func (d *Disk) Delete(key string) {
	if d.tap != nil {
		d.tap(diskEffect{write: diskWrite{key: key, delete: true}})
	}
	delete(d.view, key)
	d.pending = append(d.pending, diskWrite{key: key, delete: true})
	d.writes++
}

// Sync makes every write so far durable.
func (d *Disk) Sync() {
	if d.tap != nil {
		d.tap(diskEffect{sync: true})
	}
	for _, w := range d.pending {
		d.persist(w)
	}
	d.pending = d.pending[:0]
	d.syncs++
}

// Keys returns the keys that start with prefix, sorted, so that callers never
// depend on map iteration order.
func (d *Disk) Keys(prefix string) []string {
	var keys []string
	//simrun:allow the matching keys are sorted below, before anyone sees them
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

// syncCount is the number of syncs so far; zero for a node without a disk.
func (d *Disk) syncCount() uint64 {
	if d == nil {
		return 0
	}
	return d.syncs
}

// crash loses the unsynced writes, all of them unless f says otherwise,
// drawing from rng (nil when f keeps none): with ReorderedWrites each reaches
// the disk or not, on its own; with TornWrites alone a prefix reaches it in
// order. With TornWrites one write that reached the disk is torn: the last
// of the prefix, or any one of those a reordering let through. It returns
// how many writes were lost or torn.
func (d *Disk) crash(f DiskFaults, rng *Rand) int {
	lost := len(d.pending)
	if rng != nil && len(d.pending) > 0 {
		reached := d.reachedWrites(f.ReorderedWrites, rng)
		lost -= len(reached)
		if f.TornWrites && len(reached) > 0 {
			torn := len(reached) - 1
			if f.ReorderedWrites {
				torn = rng.IntN(len(reached))
			}
			d.pending[reached[torn]].tear(rng)
			lost++
		}
		for _, i := range reached {
			d.persist(d.pending[i])
		}
	}
	d.resetView()
	return lost
}

// reachedWrites draws which unsynced writes a crash lets reach the disk, as
// positions in d.pending, oldest first: each one on its own when reordered,
// else a prefix.
func (d *Disk) reachedWrites(reordered bool, rng *Rand) []int {
	var reached []int
	if !reordered {
		for i := range rng.IntN(len(d.pending) + 1) {
			reached = append(reached, i)
		}
		return reached
	}
	for i := range d.pending {
		if rng.Chance(0.5) {
			reached = append(reached, i)
		}
	}
	return reached
}

// tear cuts the write short, as a crash in the middle of it does: anywhere
// after the bytes it keeps; a delete, or a write that adds nothing to what
// it keeps, is whole or not at all.
func (w *diskWrite) tear(rng *Rand) {
	if !w.delete && len(w.value) > w.kept {
		w.value = w.value[:w.kept+rng.IntN(len(w.value)-w.kept)]
	}
}

func (d *Disk) persist(w diskWrite) {
	if w.delete {
		delete(d.durable, w.key)
	} else {
		d.durable[w.key] = w.value
	}
}

// corrupt flips one bit of one durable, non-empty record chosen with rng and
// returns its key. Reads see the bad bytes too: the page cache is no refuge.
func (d *Disk) corrupt(rng *Rand) (string, bool) {
	var keys []string
	for _, k := range slices.Sorted(maps.Keys(d.durable)) {
		if len(d.durable[k]) > 0 {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return "", false
	}
	key := keys[rng.IntN(len(keys))]
	bad := slices.Clone(d.durable[key])
	bit := rng.IntN(len(bad) * 8)
	bad[bit/8] ^= 1 << (bit % 8)
	d.durable[key] = bad
	if _, ok := d.view[key]; ok && !d.pendingOn(key) {
		d.view[key] = bad
	}
	return key, true
}

// pendingOn reports whether an unsynced write to key is pending.
func (d *Disk) pendingOn(key string) bool {
	for _, w := range d.pending {
		if w.key == key {
			return true
		}
	}
	return false
}

// clone copies the disk's whole state (not its tap): what a torn step
// restores before it replays the effects that happened before the cut.
func (d *Disk) clone() *Disk {
	// Values are never mutated in place, only replaced: the maps' copies may
	// share them.
	return &Disk{durable: maps.Clone(d.durable), view: maps.Clone(d.view),
		pending: slices.Clone(d.pending), writes: d.writes, syncs: d.syncs}
}

// restore puts the state of an earlier clone back in place: the node may
// hold a pointer to its Disk, so the Disk itself must not be replaced.
func (d *Disk) restore(from *Disk) {
	d.durable, d.view, d.pending, d.writes, d.syncs = from.durable, from.view, from.pending, from.writes, from.syncs
}

// replay applies op again, as the handler did.
func (d *Disk) replay(op diskEffect) {
	switch {
	case op.sync:
		d.Sync()
	case op.write.delete:
		d.Delete(op.write.key)
	default:
		d.write(op.write.key, op.write.value, op.write.kept)
	}
}

// resetView makes reads see exactly the durable state and forgets pending writes.
func (d *Disk) resetView() {
	d.view = maps.Clone(d.durable)
	d.pending = d.pending[:0]
}
