package checkers

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/sim"
	"github.com/simrun/simrun/workload"
)

// keyQueues is the per-client program order of ops on one key, as the
// sequential check builds it: each client's operations in call order, the
// clients in order of their first operation.
func keyQueues(ops []workload.Operation) [][]int {
	var order []int
	per := map[int][]int{}
	for i, op := range ops {
		if _, ok := per[op.Client]; !ok {
			order = append(order, op.Client)
		}
		per[op.Client] = append(per[op.Client], i)
	}
	queues := make([][]int, len(order))
	for i, c := range order {
		queues[i] = per[c]
	}
	return queues
}

// TestOrderCycleRefutesWhatNoOrderExplains: a read that goes back to an
// older list than the same client read before closes a cycle (program
// order, reads-from, version order, anti-dependency); a stale read that
// some order explains, or a history with no read to go by, closes none.
func TestOrderCycleRefutesWhatNoOrderExplains(t *testing.T) {
	for _, tc := range []struct {
		name  string
		ops   []workload.Operation
		cycle bool
	}{
		{"a client reads an older list after a newer one", []workload.Operation{
			appendOp(0, 0, 1, "k", "c0.1"), appendOp(0, 2, 3, "k", "c0.2"),
			get(1, 4, 5, "k", "c0.1,c0.2"), get(1, 6, 7, "k", "c0.1"),
		}, true},
		{"a failed cas reads the older list", []workload.Operation{
			appendOp(0, 0, 1, "k", "c0.1"), appendOp(0, 2, 3, "k", "c0.2"),
			get(1, 4, 5, "k", "c0.1,c0.2"), casFail(1, 6, 7, "k", "c1.0", "c1.1", "c0.1"),
		}, true},
		{"a writer reads the list before its own append", []workload.Operation{
			appendOp(0, 0, 1, "k", "c0.1"), appendOp(1, 2, 3, "k", "c1.1"),
			get(2, 4, 5, "k", "c0.1,c1.1"), get(1, 6, 7, "k", "c0.1"),
		}, true},
		{"a stale read in real time, explained by another order", []workload.Operation{
			appendOp(0, 0, 1, "k", "c0.1"), appendOp(0, 2, 3, "k", "c0.2"), get(1, 4, 5, "k", "c0.1"),
		}, false},
		{"a read of the absent key says nothing", []workload.Operation{
			appendOp(0, 0, 1, "k", "c0.1"), get(1, 4, 5, "k", ""),
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			queues := keyQueues(tc.ops)
			orders := buildVersionOrders(tc.ops, workload.NewHistory(tc.ops...).RealTime())
			assert.Equal(t, tc.cycle, orderCycle(tc.ops, queues, len(queues), orders["k"]))
			seq := sequential{}.Check(workload.NewHistory(tc.ops...), 0)
			assert.Equal(t, map[bool]Verdict{true: Fail, false: Pass}[tc.cycle], seq.Verdict, seq.Detail)
		})
	}
}

// TestSequentialDecidesALongHistoryWithAStepBack: many clients appending
// concurrently and one read that steps back behind what its client read
// before. The search of every interleaving ran past its work limit on
// such histories from follower-write-cache runs (an Unknown verdict); the
// cycle decides at once.
func TestSequentialDecidesALongHistoryWithAStepBack(t *testing.T) {
	const clients, rounds = 8, 40
	var ops []workload.Operation
	list := ""
	at := sim.Time(0)
	for r := range rounds {
		for c := range clients {
			v := fmt.Sprintf("c%d.%d", c, r)
			// Appends overlap in real time within a round, so the search has
			// many interleavings to try.
			ops = append(ops, appendOp(c, at, at+sim.Time(clients), "k", v))
			at++
			if list != "" {
				list += workload.AppendSeparator
			}
			list += v
		}
		at += sim.Time(clients)
		ops = append(ops, get(clients, at, at+1, "k", list))
		at += 2
	}
	ops = append(ops, get(clients, at, at+1, "k", "c0.0"))
	res := sequential{}.Check(workload.NewHistory(ops...), 0)
	require.Equal(t, Fail, res.Verdict, res.Detail)
}
