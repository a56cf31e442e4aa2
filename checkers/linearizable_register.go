package checkers

import (
	"cmp"
	"math"
	"slices"
	"strings"

	"github.com/simrun/simrun/workload"
)

// A part whose every write has its own value (the workload writes
// "c<client>.<seq>") is decided without a search (after Gibbons and
// Korach, "Testing shared memories", 1997), in time n log n plus the
// length of the lists read, where Porcupine's search may visit a state per
// subset of the writes in flight: open-loop clients under faults leave
// dozens in flight, and the search ran out of its budget on 90 operations.
//
// Every state the key passes through then has one writer: a put's value, a
// cas's, or an append's list, which ends with the append's value. The
// operations that wrote or read one state (a get, or a failed cas), a
// cluster, stand together in any linearization: the write first, then its
// reads, nothing between them (a state never comes back once left). An
// append's cluster follows, at once, the cluster of the state it extended,
// which every read of a list names (in "a,b,c" c extended "a,b"), and a
// cas's follows the state it expected. So clusters join into chains, each
// begun by the part's start, a put, or an append nobody read (its list was
// neither read nor extended, so only a put or the part's end can follow
// it), and each chain stands together in any linearization too. The part
// is linearizable if and only if every state read was written (or is the
// part's start), no read returned before its state's write was called, no
// failed cas read the state it expected, no write followed two states nor
// a state two writes, every write is on a chain (compare-and-sets that
// expect each other's values are on none), each chain's order is
// consistent with real time, and the chains can be put in a sequence
// consistent with real time. Chain A must come before chain B if an
// operation of A returned before an operation of B was called: if A's
// earliest return is before B's latest call. Such a sequence exists if and
// only if that relation has no cycle, which a topological sort finds: a
// chain may go next when no other chain left must come before it, when its
// latest call is no later than the earliest return of every other chain
// left. A failed operation (an answer that is no result) fails the part at
// once. A value written twice, or a write with unknown outcome that
// nothing observed, leaves the part to Porcupine.

// cluster is a state's write and reads, or a chain of them: the earliest
// return and the latest call among them.
type cluster struct {
	firstReturn, lastCall int64
	byCall, byReturn      int // its positions in the two orders ordered sorts clusters in
}

// state is the cluster of one state the key passed through, and its links.
type state struct {
	cluster
	writeCall  int64  // when its write was called (math.MinInt64 for the part's start)
	appended   bool   // written by an append, which extended prev
	prev, next *state // the state its append or cas followed at once, and the write that followed it
}

// uniqueWrites is a part's states by the value that names their writer.
type uniqueWrites struct {
	start   *state
	initial keyState
	written map[string]*state // a write's value, for its state
	order   []*state          // the start, then the writes in call order
}

// decideUniqueWrites decides part p of key j without a search if its writes
// are puts, appends and compare-and-sets of values of their own (decided),
// and whether it is linearizable.
func (k *keyedHistory) decideUniqueWrites(j int, p part) (legal, decided bool) {
	w := newUniqueWrites(p.start)
	var reads []timedRead
	var swaps []workload.Operation
	for _, kept := range k.ops[j][p.from:p.to] {
		op := k.h.At(int(kept.index))
		call, ret := k.callOf(kept), k.returnOf(kept)
		switch {
		case op.Status == workload.StatusFailed:
			return false, true // an answer that is no result: no linearization has it
		case ret == math.MaxInt64:
			return false, false // an outcome no one observed (it may never have taken effect): Porcupine's
		case op.Kind == workload.OpGet, op.Kind == workload.OpCAS && op.Status == workload.StatusOK && !op.CASOK:
			reads = append(reads, timedRead{op, call, ret}) // a failed cas reads the state
		case op.Kind != workload.OpPut && op.Kind != workload.OpAppend && op.Kind != workload.OpCAS:
			return false, false
		case !w.add(op.Value, op.Kind == workload.OpAppend, call, ret):
			return false, false // two writes of one value, or one that names no state
		case op.Kind == workload.OpCAS:
			swaps = append(swaps, op) // it took effect: one with unknown outcome is here only if its value was read
		}
	}
	if !w.distinctFromStart() {
		return false, false
	}
	for _, r := range reads {
		if !w.answer(r) {
			return false, true
		}
	}
	for _, op := range swaps {
		if !w.swap(op) {
			return false, true
		}
	}
	chains, ok := w.chains()
	return ok && ordered(chains), true
}

func newUniqueWrites(initial keyState) *uniqueWrites {
	start := &state{cluster: cluster{firstReturn: math.MinInt64, lastCall: math.MinInt64}, writeCall: math.MinInt64}
	return &uniqueWrites{start: start, initial: initial, written: map[string]*state{}, order: []*state{start}}
}

// add records a put, append or cas of value; false if the value was written
// before or cannot name one state (it holds the append separator).
func (w *uniqueWrites) add(value string, appended bool, call, ret int64) bool {
	if w.written[value] != nil || strings.Contains(value, workload.AppendSeparator) {
		return false
	}
	s := &state{cluster: cluster{firstReturn: ret, lastCall: call}, writeCall: call, appended: appended}
	w.written[value] = s
	w.order = append(w.order, s)
	return true
}

// distinctFromStart reports whether no value of the start state was written
// again in the part: each value names one state only if it was written
// once.
func (w *uniqueWrites) distinctFromStart() bool {
	ok := true
	if w.initial.found {
		eachValue(w.initial.value, func(v string) { ok = ok && w.written[v] == nil })
	}
	return ok
}

// timedRead is a read with its call and return as positions in the order
// of events (workload.RealTime).
type timedRead struct {
	op        workload.Operation
	call, ret int64
}

// answer puts a read (a get, or a failed cas) in the cluster of the state
// it answered; false if no linearization has that answer: a state nobody
// wrote, one read before its write was called, or a failed cas that read
// the state it expected.
func (w *uniqueWrites) answer(r timedRead) bool {
	if r.op.Kind == workload.OpCAS && r.op.Found && r.op.Output == r.op.Expect {
		return false
	}
	s := w.read(keyState{value: r.op.Output, found: r.op.Found})
	if s == nil || r.ret < s.writeCall {
		return false
	}
	s.firstReturn, s.lastCall = min(s.firstReturn, r.ret), max(s.lastCall, r.call)
	return true
}

// swap links a cas that took effect to the state it expected, which it
// followed at once; false if no write made that state, or another write
// followed it.
func (w *uniqueWrites) swap(op workload.Operation) bool {
	before := w.read(keyState{value: op.Expect, found: true})
	if before == nil || before.next != nil {
		return false
	}
	s := w.written[op.Value]
	s.prev, before.next = before, s
	return true
}

// read returns the state a read answered, linking each append of a list it
// saw to the state it extended; nil if no write of the part, or its start,
// can have made that state.
func (w *uniqueWrites) read(answer keyState) *state {
	if answer == w.initial {
		return w.start
	}
	if !answer.found {
		return nil // only the start may be absent: nothing deletes a key
	}
	at, rest := w.root(answer.value)
	for rest != "" && at != nil {
		var v string
		v, rest, _ = strings.Cut(rest, workload.AppendSeparator)
		at = w.extend(at, w.written[v])
	}
	return at
}

// root returns the state a list read begins in and the values after it:
// the start's, or a put's value, or (the start being absent) nothing.
func (w *uniqueWrites) root(list string) (*state, string) {
	if w.initial.found {
		if rest, ok := strings.CutPrefix(list, w.initial.value+workload.AppendSeparator); ok {
			return w.start, rest
		}
	}
	first, rest, _ := strings.Cut(list, workload.AppendSeparator)
	switch s := w.written[first]; {
	case s != nil && !s.appended:
		return s, rest
	case s != nil && !w.initial.found:
		return w.start, list
	}
	return nil, ""
}

// extend links append a to the state at it extended, and returns a; nil
// if a is no append, or either is already linked otherwise.
func (w *uniqueWrites) extend(at, a *state) *state {
	switch {
	case a == nil || !a.appended:
		return nil
	case a.prev == nil && at.next == nil:
		a.prev, at.next = at, a
		return a
	case a.prev == at:
		return a
	}
	return nil
}

// chains returns the chains of states, each as one cluster, begun by the
// start, a put or an append nobody read; false if a chain's own order is
// not consistent with real time (a state whose operation returned before
// an operation of a state earlier in the chain was called), or a state is
// on no chain.
func (w *uniqueWrites) chains() ([]*cluster, bool) {
	var chains []*cluster
	linked := 0
	for _, head := range w.order {
		if head.prev != nil {
			continue
		}
		chain := head.cluster
		for s := head.next; s != nil; s = s.next {
			if s.firstReturn < chain.lastCall {
				return nil, false
			}
			chain.firstReturn, chain.lastCall = min(chain.firstReturn, s.firstReturn), max(chain.lastCall, s.lastCall)
			linked++
		}
		chains = append(chains, &chain)
	}
	// A state left out is on a cycle of compare-and-sets, each expecting
	// the state the next one wrote: none can go first.
	return chains, len(chains)+linked == len(w.order)
}

// ordered reports whether the clusters can be put in a sequence where none
// comes after a cluster that must follow it (see the comment at the top).
// If any cluster is free to go next, the one called last the earliest or
// the one that returned first is; any free one may go, as in every
// topological sort.
func ordered(clusters []*cluster) bool {
	byCall := slices.Clone(clusters)
	byReturn := slices.Clone(clusters)
	slices.SortFunc(byCall, func(a, b *cluster) int { return cmp.Compare(a.lastCall, b.lastCall) })
	slices.SortFunc(byReturn, func(a, b *cluster) int { return cmp.Compare(a.firstReturn, b.firstReturn) })
	for i, c := range byCall {
		c.byCall = i
	}
	for i, c := range byReturn {
		c.byReturn = i
	}
	calls, returns := newUnplaced(len(byCall)), newUnplaced(len(byReturn))
	for range byCall {
		next := byCall[calls.first(0)]
		if !free(next, byReturn, returns) {
			if next = byReturn[returns.first(0)]; !free(next, byReturn, returns) {
				return false
			}
		}
		calls.place(next.byCall)
		returns.place(next.byReturn)
	}
	return true
}

// free reports whether c, unplaced, may go next: its latest call is no
// later than the earliest return of every other unplaced cluster.
func free(c *cluster, byReturn []*cluster, returns *unplaced) bool {
	i := returns.first(0)
	if i == c.byReturn {
		i = returns.first(i + 1)
	}
	return i == len(byReturn) || c.lastCall <= byReturn[i].firstReturn
}

// unplaced finds the first position not placed yet at or after a given
// one, skipping placed runs in near-constant time (a disjoint-set forest
// whose root is the next unplaced position, len(next)-1 for none).
type unplaced struct{ next []int }

func newUnplaced(n int) *unplaced {
	u := &unplaced{next: make([]int, n+1)}
	for i := range u.next {
		u.next[i] = i
	}
	return u
}

// first returns the first unplaced position at or after i (n if none).
func (u *unplaced) first(i int) int {
	root := i
	for u.next[root] != root {
		root = u.next[root]
	}
	for u.next[i] != root { // point the path walked at the root for next time
		i, u.next[i] = u.next[i], root
	}
	return root
}

// place marks position i placed.
func (u *unplaced) place(i int) { u.next[i] = i + 1 }
