package sim

// eventKind says what a queued event does when it is popped.
type eventKind uint8

const (
	evDeliver eventKind = iota + 1 // a message reaches its target
	evTimer                        // a node's timer fires
	evControl                      // a scheduled control action (fault, check, stop)
	evStart                        // a node starts (initially or after a restart)
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
	kind eventKind
	tk   TimerKind
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
func (q *eventQueue) pop() event {
	top := q.items[0]
	last := len(q.items) - 1
	q.items[0] = q.items[last]
	q.items[last] = event{} // drop the message reference for the GC
	q.items = q.items[:last]
	if last > 0 {
		q.down(0)
	}
	return top
}

// peekTime returns the time of the earliest event.
func (q *eventQueue) peekTime() Time { return q.items[0].at }

func (q *eventQueue) up(i int) {
	items := q.items
	for i > 0 {
		parent := (i - 1) / 2
		if !items[i].before(&items[parent]) {
			break
		}
		items[i], items[parent] = items[parent], items[i]
		i = parent
	}
}

func (q *eventQueue) down(i int) {
	items := q.items
	n := len(items)
	for {
		least := i
		l, r := 2*i+1, 2*i+2
		if l < n && items[l].before(&items[least]) {
			least = l
		}
		if r < n && items[r].before(&items[least]) {
			least = r
		}
		if least == i {
			return
		}
		items[i], items[least] = items[least], items[i]
		i = least
	}
}
