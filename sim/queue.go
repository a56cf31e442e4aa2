package sim

import (
	"math/bits"
	"slices"
)

// eventKind says what a queued event does when it is popped.
type eventKind uint8

const (
	evDeliver eventKind = iota + 1 // a message reaches its target
	evTimer                        // a node's timer fires
	evControl                      // a scheduled control action (fault, check, stop)
	evStart                        // a node starts (initially or after a restart)
	evWake                         // a node's slow sync ends: release what it held
	evOperate                      // an operator request, handled at once (World.Operate)
)

// event is a pending event's payload, held in the queue's slab while its key
// is in the heap: no pointer to it ever escapes, and nothing is allocated per
// event beyond the message the sender already built.
type event struct {
	at   Time
	msg  Message
	node NodeID // target node
	from NodeID // sender, for deliveries
	inc  uint32 // target's incarnation when scheduled (timers, starts) or held (a backlog's deliveries)
	gen  uint32 // timer generation, or control action index
	sum  uint32 // the message's digest (tracer.digest), for deliveries
	sent Time   // when the message was sent, for deliveries (MessageEvent.SentAt)
	kind eventKind
	tk   TimerKind
	// released: the head of its node's backlog, handed back to the queue;
	// while it is in flight no other backlog event of the node is.
	released bool
}

// queueKey orders the heap: by time, then by ord, whose high 32 bits are a
// sequence number stamped at push (ties on at pop in scheduling order) and
// whose low 32 bits are the slab slot of the event's payload. Sixteen bytes
// and no pointer: the heap moves keys, not whole events, and the garbage
// collector does not scan it.
type queueKey struct {
	at  Time
	ord uint64
}

func (k queueKey) before(o queueKey) bool {
	return k.at < o.at || (k.at == o.at && k.ord < o.ord)
}

// beforeBit is before as 1 or 0, without a branch: the borrow of the 128-bit
// subtraction (at, ord) - (o.at, o.ord). Times are never negative, so their
// bits compare as unsigned. The heap's sift-down picks the earlier child at
// every level by this bit; as a branch it was mispredicted half the time.
func (k queueKey) beforeBit(o queueKey) uint64 {
	_, borrow := bits.Sub64(k.ord, o.ord, 0)
	_, borrow = bits.Sub64(uint64(k.at), uint64(o.at), borrow)
	return borrow
}

// maxSeq is the last sequence number stamped before the pending keys are
// renumbered (a variable so that tests can make it small).
var maxSeq uint64 = 1<<32 - 1

// eventQueue is a binary min-heap of keys ordered by (at, seq), the events
// themselves in a slab whose free slots are reused. container/heap is not
// used: its interface boxes every element in an any.
type eventQueue struct {
	keys []queueKey
	slab []event
	free []uint32 // slab slots not in use
	seq  uint64   // the last sequence number stamped
}

func (q *eventQueue) Len() int { return len(q.keys) }

// push schedules e, stamping its sequence number.
func (q *eventQueue) push(e event) {
	var slot uint32
	if n := len(q.free); n > 0 {
		slot = q.free[n-1]
		q.free = q.free[:n-1]
		q.slab[slot] = e
	} else {
		slot = uint32(len(q.slab))
		q.slab = append(q.slab, e)
	}
	if q.seq >= maxSeq {
		q.renumber() // after a renumbering seq is the pending count, which may already be past a test's small maxSeq
	}
	q.seq++
	q.keys = append(q.keys, queueKey{at: e.at, ord: q.seq<<32 | uint64(slot)})
	q.up(len(q.keys) - 1)
}

// renumber stamps the pending keys 1, 2, ... in their order, so that the
// 32-bit sequence numbers never wrap: the order of every pending pair, and
// of each against every later push, stays what it was. A sorted array is a
// heap. It runs once per 4 billion pushes.
func (q *eventQueue) renumber() {
	slices.SortFunc(q.keys, func(a, b queueKey) int {
		if a.before(b) {
			return -1
		}
		return 1
	})
	for i := range q.keys {
		q.keys[i].ord = uint64(i+1)<<32 | q.keys[i].ord&(1<<32-1)
	}
	q.seq = uint64(len(q.keys))
}

// pop removes the earliest event from the heap and returns its slab slot,
// which stays the event's until release: the kernel dispatches the event in
// place, not a copy of it. The queue must not be empty.
//
// It is Floyd's bottom-up deletion: the hole left at the root walks down to a
// leaf along the earlier child (one comparison per level, not two, and no
// branch: see beforeBit), then the last key fills it and sifts up, which is
// short since it came from the bottom. The sift-down was half of the
// kernel's time per event. A 4-ary heap with the same branch-free pick was
// no faster.
func (q *eventQueue) pop() uint32 {
	keys := q.keys
	top := keys[0]
	last := len(keys) - 1
	hole := 0
	for {
		child := 2*hole + 1
		if child >= last {
			break
		}
		if child+1 < last {
			child += int(keys[child+1].beforeBit(keys[child]))
		}
		keys[hole] = keys[child]
		hole = child
	}
	keys[hole] = keys[last]
	q.keys = keys[:last]
	if hole < last {
		q.up(hole)
	}
	return uint32(top.ord)
}

// release frees a popped event's slot for reuse. An event dispatched in
// place may push others, growing the slab into a new array: the event read
// on from the old one, and its slot is cleared here in the new.
func (q *eventQueue) release(slot uint32) {
	q.slab[slot] = event{} // drop the message reference for the GC
	q.free = append(q.free, slot)
}

// peekTime returns the time of the earliest event.
func (q *eventQueue) peekTime() Time { return q.keys[0].at }

// up moves the key at i towards the root until its parent is earlier,
// shifting parents down into the hole rather than swapping.
func (q *eventQueue) up(i int) {
	keys := q.keys
	k := keys[i]
	for i > 0 {
		parent := (i - 1) / 2
		if !k.before(keys[parent]) {
			break
		}
		keys[i] = keys[parent]
		i = parent
	}
	keys[i] = k
}
