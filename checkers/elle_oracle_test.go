package checkers

import (
	"cmp"
	"slices"
	"strconv"
	"testing"

	"pgregory.net/rapid"

	"github.com/simrun/simrun/sim"
	"github.com/simrun/simrun/workload"
)

// bruteSerializable is the definition, searched: some order of the OK
// transactions and any subset of the unknown ones, run serially, gives
// every OK transaction's reads; strict: the order also keeps real time (T1
// returned before T2 was called).
func bruteSerializable(txns []workload.Operation, strict bool) bool {
	n := len(txns)
	used := make([]bool, n)
	var order []int
	var rec func() bool
	valid := func() bool {
		state := map[string][]string{}
		for _, t := range order {
			for _, m := range txns[t].Txn {
				if m.Append {
					state[m.Key] = append(slices.Clone(state[m.Key]), m.Value)
				} else if txns[t].Status == workload.StatusOK && !slices.Equal(state[m.Key], m.Read) {
					return false
				}
			}
		}
		return true
	}
	rec = func() bool {
		if !valid() {
			return false
		}
		done := true
		for i := range txns {
			if !used[i] && txns[i].Status == workload.StatusOK {
				done = false
			}
		}
		if done {
			return true
		}
		for i := range txns {
			if used[i] || txns[i].Status == workload.StatusFailed {
				continue
			}
			if strict {
				// every unused OK txn that returned before i was called must come first
				ok := true
				for j := range txns {
					if !used[j] && j != i && txns[j].Status == workload.StatusOK && txns[j].Return < txns[i].Call {
						ok = false
					}
				}
				if !ok {
					continue
				}
			}
			used[i] = true
			order = append(order, i)
			r := rec()
			order = order[:len(order)-1]
			used[i] = false
			if r {
				return true
			}
		}
		return false
	}
	return rec()
}

// TestElleAgreesWithASerialSearch: on small histories (up to five
// transactions over two keys, served in a random serial order within their
// windows, some outcomes left unknown, then up to two reads altered), the
// checker's verdict is the exhaustive search's. Before it, a read missing
// an append nobody read (write skew), a read splitting one transaction's
// appends and a read disagreeing with its own transaction all passed.
func TestElleAgreesWithASerialSearch(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		strict := rapid.Bool().Draw(t, "strict")
		n := rapid.IntRange(1, 5).Draw(t, "txns")
		var txns []workload.Operation
		for i := range n {
			call := rapid.IntRange(0, 20).Draw(t, "call")
			op := workload.Operation{Kind: workload.OpTxn, Client: i, Call: sim.Time(call), Return: sim.Time(call + rapid.IntRange(0, 10).Draw(t, "len")), Status: workload.StatusOK}
			for j := range rapid.IntRange(1, 3).Draw(t, "micro") {
				m := workload.MicroOp{Key: rapid.SampledFrom([]string{"x", "y"}).Draw(t, "key")}
				if rapid.Bool().Draw(t, "append") {
					m.Append, m.Value = true, "t"+strconv.Itoa(i)+"."+strconv.Itoa(j)
				}
				op.Txn = append(op.Txn, m)
			}
			txns = append(txns, op)
		}
		// Serve them in a random serial order (a point in each window) and fill in the reads.
		at := make([]int, n)
		for i := range at {
			at[i] = 2*int(txns[i].Call) + rapid.IntRange(0, 2*int(txns[i].Return-txns[i].Call)).Draw(t, "at")
		}
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(at[a], at[b]) })
		state := map[string][]string{}
		for _, i := range idx {
			unknownOutcome := rapid.IntRange(0, 4).Draw(t, "unknown") == 0
			if unknownOutcome && rapid.Bool().Draw(t, "never") {
				txns[i].Status, txns[i].Return = workload.StatusUnknown, sim.Forever
				continue
			}
			for j := range txns[i].Txn {
				m := &txns[i].Txn[j]
				if m.Append {
					state[m.Key] = append(slices.Clone(state[m.Key]), m.Value)
				} else {
					m.Read = slices.Clone(state[m.Key])
				}
			}
			if unknownOutcome {
				txns[i].Status, txns[i].Return = workload.StatusUnknown, sim.Forever
				for j := range txns[i].Txn {
					txns[i].Txn[j].Read = nil
				}
			}
		}
		// Alter some reads.
		for range rapid.IntRange(0, 2).Draw(t, "mutations") {
			i := rapid.IntRange(0, n-1).Draw(t, "mt")
			if txns[i].Status != workload.StatusOK {
				continue
			}
			j := rapid.IntRange(0, len(txns[i].Txn)-1).Draw(t, "mm")
			m := &txns[i].Txn[j]
			if m.Append {
				continue
			}
			switch rapid.IntRange(0, 3).Draw(t, "how") {
			case 0: // drop last
				if len(m.Read) > 0 {
					m.Read = m.Read[:len(m.Read)-1]
				}
			case 1: // full current final list
				m.Read = slices.Clone(state[m.Key])
			case 2: // reverse
				m.Read = slices.Clone(m.Read)
				slices.Reverse(m.Read)
			case 3: // drop a middle element
				if len(m.Read) > 1 {
					k := rapid.IntRange(0, len(m.Read)-2).Draw(t, "drop")
					m.Read = slices.Delete(slices.Clone(m.Read), k, k+1)
				}
			}
			if len(m.Read) == 0 {
				m.Read = nil
			}
		}
		slices.SortStableFunc(txns, func(a, b workload.Operation) int { return cmp.Compare(a.Call, b.Call) })
		want := bruteSerializable(txns, strict)
		got := CheckListAppend(workload.NewHistory(txns...), strict)
		if want && got.Verdict == Fail || !want && got.Verdict == Pass {
			for _, op := range txns {
				t.Logf("%s", describeTxn(&op, op.ID))
				t.Logf("   [%d,%d]", op.Call, op.Return)
			}
			t.Fatalf("strict=%v brute serializable=%v, checker %v: %s", strict, want, got.Verdict, got.Detail)
		}
	})
}
