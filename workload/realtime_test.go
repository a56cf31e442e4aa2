package workload

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/simrun/simrun/sim"
)

// timed is a definite put by client, called and returned at the times given.
func timed(client int, call, ret sim.Time) Operation {
	return Operation{Client: client, Kind: OpPut, Key: "k", Call: call, Return: ret, Status: StatusOK}
}

// At one instant the history knows two orders for sure: a client's
// operations follow one another, and an operation called after a client's
// next one came after that client's last return. Other touching intervals
// are concurrent, and times that differ order as they are.
func TestRealTimeOrdersTiesByWhatIsKnown(t *testing.T) {
	inFlight := timed(2, 0, sim.Forever)
	inFlight.Status = StatusUnknown
	h := NewHistory(
		timed(0, 0, 10),  // 0
		timed(1, 5, 10),  // 1: returns with 0
		timed(1, 10, 20), // 2: client 1's next, at the instant 1 returned
		timed(2, 10, 30), // 3: called after 2, so after 1's return; with 0's: concurrent
		timed(0, 11, 40), // 4: client 0's next, later
		inFlight,         // 5
	)
	rt := h.RealTime()
	for _, c := range []struct {
		a, b int
		want bool
	}{
		{1, 2, true},  // program order at one instant
		{1, 3, true},  // called after client 1's next call
		{0, 2, false}, // client 0's return and client 1's call touch: concurrent
		{0, 3, false},
		{0, 4, true}, // earlier in time
		{2, 1, false},
		{5, 4, false}, // no return: precedes nothing
	} {
		assert.Equal(t, c.want, rt.Precedes(c.a, c.b), "%d before %d", c.a, c.b)
	}
	assert.Equal(t, int64(math.MaxInt64), rt.Return(5))
	for i := range h.Len() {
		assert.Less(t, rt.Call(i), rt.Return(i), "operation %d returns after its call", i)
	}
}
