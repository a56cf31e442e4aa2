package workload

import (
	"cmp"
	"math"
	"slices"

	"github.com/simrun/simrun/sim"
)

// RealTime is a history's real-time order: each operation's call and
// definite return as a position in one sequence of the history's events,
// so that an operation returned before another was called exactly when its
// Return is less than the other's Call. The checkers that order operations
// by real time (linearizable, strict serializable, the session checks' write
// order) compare these positions, not virtual times.
//
// Virtual times alone cannot say it: a client that issues its next
// operation at the instant its last returned (an open-loop client with a
// backlog, a think time of zero) leaves two operations whose times touch,
// and operations whose intervals touch are concurrent to a checker, so the
// second could take effect before the first, its own client's earlier
// operation. The order of events at one instant comes from what the
// history knows for sure: a client's operations follow one another
// (program order), operations are numbered in call order, so an operation
// called after a client's next one was called after that client's last
// return. Operations of different clients at one instant that neither fact
// orders stay concurrent.
type RealTime struct {
	call, ret []int64
}

// Call is operation i's call, as a position.
func (rt RealTime) Call(i int) int64 { return rt.call[i] }

// Return is operation i's return, as a position; math.MaxInt64 for an
// operation with no definite return (unknown outcome, still in flight).
func (rt RealTime) Return(i int) int64 { return rt.ret[i] }

// Precedes reports whether operation a returned before operation b was
// called.
func (rt RealTime) Precedes(a, b int) bool { return rt.ret[a] < rt.call[b] }

// RealTime returns the history's real-time order (see RealTime). It costs
// a sort of the history's events: compute it once per check.
func (h *History) RealTime() RealTime {
	n := h.Len()
	// An event's place: its virtual time, then, at one instant, calls in
	// call order (2i+1), and each return just before the call of its
	// client's next operation if that was called then (2j), else after
	// every call of the instant (2n).
	type event struct {
		at    sim.Time
		place int
		op    int
		ret   bool
	}
	events := make([]event, 0, 2*n)
	pending := map[int32]int{} // client -> the event of its latest definite return, till its next call
	for i := range n {
		r := h.ops.At(i)
		events = append(events, event{at: r.call, place: 2*i + 1, op: i})
		if e, ok := pending[r.client]; ok {
			if events[e].at == r.call {
				events[e].place = 2 * i
			}
			delete(pending, r.client)
		}
		if r.status != StatusUnknown && r.ret != sim.Forever {
			pending[r.client] = len(events)
			events = append(events, event{at: r.ret, place: 2 * n, op: i, ret: true})
		}
	}
	slices.SortFunc(events, func(a, b event) int {
		return cmp.Or(cmp.Compare(a.at, b.at), cmp.Compare(a.place, b.place), cmp.Compare(a.op, b.op))
	})
	rt := RealTime{call: make([]int64, n), ret: make([]int64, n)}
	for i := range rt.ret {
		rt.ret[i] = math.MaxInt64
	}
	for pos, e := range events {
		if e.ret {
			rt.ret[e.op] = int64(pos)
		} else {
			rt.call[e.op] = int64(pos)
		}
	}
	return rt
}
