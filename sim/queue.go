package sim

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

// event is a value in the queue: no pointer to it ever escapes, and nothing is
// allocated per event beyond the message the sender already built.
type event struct {
	at   Time
	seq  uint64 // assigned at scheduling: ties on at pop in scheduling order
	msg  Message
	node NodeID // target node
	from NodeID // sender, for deliveries
	inc  uint32 // target's incarnation when scheduled (timers, starts)
	gen  uint32 // timer generation, or control action index
	sum  uint32 // the message's digest (tracer.digest), for deliveries
	kind eventKind
	tk   TimerKind
	// released: the head of its node's backlog, handed back to the queue;
	// while it is in flight no other backlog event of the node is.
	released bool
}

func (e *event) before(o *event) bool {
	if e.at != o.at {
		return e.at < o.at
	}
	return e.seq < o.seq
}

// eventQueue is a binary min-heap of event values ordered by (at, seq).
// container/heap is not used: its interface boxes every element in an any.
type eventQueue struct {
	items []event
	seq   uint64
}

func (q *eventQueue) Len() int { return len(q.items) }

// push schedules e, stamping its sequence number.
func (q *eventQueue) push(e event) {
	q.seq++
	e.seq = q.seq
	q.items = append(q.items, e)
	q.up(len(q.items) - 1)
}

// pop removes and returns the earliest event. The queue must not be empty.
//
// It is Floyd's bottom-up deletion: the hole left at the root walks down to a
// leaf along the earlier child (one comparison per level, not two), then the
// last event fills it and sifts up, which is short since it came from the
// bottom. The sift-down was half of the kernel's time per event.
func (q *eventQueue) pop() event {
	items := q.items
	top := items[0]
	last := len(items) - 1
	hole := 0
	for {
		child := 2*hole + 1
		if child >= last {
			break
		}
		if r := child + 1; r < last && items[r].before(&items[child]) {
			child = r
		}
		items[hole] = items[child]
		hole = child
	}
	items[hole] = items[last]
	items[last] = event{} // drop the message reference for the GC
	q.items = items[:last]
	if hole < last {
		q.up(hole)
	}
	return top
}

// peekTime returns the time of the earliest event.
func (q *eventQueue) peekTime() Time { return q.items[0].at }

// up moves the event at i towards the root until its parent is earlier,
// shifting parents down into the hole rather than swapping.
func (q *eventQueue) up(i int) {
	items := q.items
	e := items[i]
	for i > 0 {
		parent := (i - 1) / 2
		if !e.before(&items[parent]) {
			break
		}
		items[i] = items[parent]
		i = parent
	}
	items[i] = e
}
