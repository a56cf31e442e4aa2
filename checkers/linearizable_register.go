package checkers

import (
	"cmp"
	"math"
	"slices"

	"github.com/simrun/simrun/workload"
)

// A part of only gets and puts is a read/write register whose every write
// has its own value (the workload writes "c<client>.<seq>"), and such a
// register is decided without a search (after Gibbons and Korach, "Testing
// shared memories", 1997), in time n log n where Porcupine's search may
// visit a state per subset of the puts in flight: open-loop clients under
// faults leave dozens in flight, and the search ran out of its budget on
// 90 operations.
//
// The operations that wrote or read one value, a cluster, stand together
// in any linearization: the put first, then its reads, nothing between
// them (a value never comes back once overwritten). So the part is
// linearizable if and only if no read of a value returned before its put
// was called, every value read was written (or is the part's start), and
// the clusters can be put in a sequence consistent with real time. Cluster
// A must come before B if an operation of A returned before an operation of
// B was called: if A's earliest return is before B's latest call. Such a
// sequence exists if and only if that relation has no cycle, which a
// topological sort finds: a cluster may go next when no other cluster left
// must come before it, when its latest call is no later than the earliest
// return of every other cluster left.

// cluster is a value's put and reads: the earliest return and the latest
// call among them, and the put's call.
type cluster struct {
	firstReturn, lastCall int64
	putCall               int64
	byCall, byReturn      int // its positions in the two orders ordered sorts clusters in
}

// decideRegister decides part p of key j without a search if it is a
// register of unique values (decided), and whether it is linearizable.
func (k *keyedHistory) decideRegister(j int, p part) (legal, decided bool) {
	clusters := map[keyState]*cluster{
		p.start: {firstReturn: math.MinInt64, lastCall: math.MinInt64, putCall: math.MinInt64},
	}
	var reads []int // positions in the part
	for i, kept := range k.ops[j][p.from:p.to] {
		op := k.h.At(int(kept.index))
		call, ret := int64(op.Call), k.returnOf(kept, &op)
		switch {
		case ret == math.MaxInt64 || op.Status == workload.StatusFailed:
			return false, false // an outcome no one observed (it may never have taken effect), or no answer: Porcupine's
		case op.Kind == workload.OpPut:
			value := keyState{value: op.Value, found: true}
			if c := clusters[value]; c != nil {
				return false, false // two puts of one value, or one of the start's
			}
			clusters[value] = &cluster{firstReturn: ret, lastCall: call, putCall: call}
		case op.Kind == workload.OpGet:
			reads = append(reads, i)
		default:
			return false, false // appends and compare-and-sets are no register's
		}
	}
	for _, i := range reads {
		op := k.h.At(int(k.ops[j][p.from+i].index))
		c := clusters[keyState{value: op.Output, found: op.Found}]
		if c == nil || int64(op.Return) < c.putCall {
			return false, true // a value nobody wrote, or read before its put began
		}
		c.firstReturn, c.lastCall = min(c.firstReturn, int64(op.Return)), max(c.lastCall, int64(op.Call))
	}
	return ordered(clusters), true
}

// ordered reports whether the clusters can be put in a sequence where none
// comes after a cluster that must follow it (see the comment at the top).
// If any cluster is free to go next, the one called last the earliest or
// the one that returned first is; any free one may go, as in every
// topological sort.
func ordered(clusters map[keyState]*cluster) bool {
	byCall := make([]*cluster, 0, len(clusters))
	for _, c := range clusters { //simrun:allow sorted below; the answer does not depend on the order of ties
		byCall = append(byCall, c)
	}
	byReturn := slices.Clone(byCall)
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
