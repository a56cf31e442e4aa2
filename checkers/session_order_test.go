package checkers

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/simrun/simrun/sim"
	"github.com/simrun/simrun/workload"
)

// drawKeyHistory draws a history of one key in call order: writes of unique
// values, each OK, failed or unknown, and OK reads of chains of them.
func drawKeyHistory(t *rapid.T) []workload.Operation {
	n := rapid.IntRange(1, 14).Draw(t, "ops")
	var ops []workload.Operation
	var written []string
	at := sim.Time(0)
	for i := range n {
		at += sim.Time(rapid.IntRange(0, 5).Draw(t, "gap"))
		op := workload.Operation{ID: i, Key: "k", Call: at, Status: workload.StatusOK}
		op.Return = at + sim.Time(rapid.IntRange(1, 20).Draw(t, "length"))
		if len(written) == 0 || rapid.Bool().Draw(t, "write") {
			op.Kind = rapid.SampledFrom([]workload.OpKind{workload.OpPut, workload.OpAppend, workload.OpCAS}).Draw(t, "kind")
			op.Value = "v" + strconv.Itoa(i)
			op.CASOK = rapid.Bool().Draw(t, "casok")
			switch rapid.IntRange(0, 3).Draw(t, "status") {
			case 0:
				op.Status, op.Return = workload.StatusUnknown, sim.Forever
			case 1:
				op.Status = workload.StatusFailed
			}
			written = append(written, op.Value)
		} else {
			op.Kind, op.Found = workload.OpGet, true
			var chain []string
			for range rapid.IntRange(1, 4).Draw(t, "chain") {
				chain = append(chain, rapid.SampledFrom(written).Draw(t, "element"))
			}
			op.Output = strings.Join(chain, workload.AppendSeparator)
		}
		ops = append(ops, op)
	}
	return ops
}

// TestVersionOrderBeforeMatchesTheFullSearch: before, with its suffix
// bookkeeping and the marks it keeps between searches, answers as a plain
// search of every derivation and real-time edge does, on histories of one
// key whose writes overlap, fail, or have unknown outcomes, and whose reads
// name chains of them (in any order, real time's or not: a history that
// contradicts real time is a linearizability failure, and the session
// checks must judge it the same way whatever before does inside).
func TestVersionOrderBeforeMatchesTheFullSearch(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ops := drawKeyHistory(t)
		o := buildVersionOrders(ops, workload.NewHistory(ops...).RealTime())["k"]
		if o == nil {
			return
		}
		for _, v := range o.writes {
			for _, w := range o.writes {
				if v != w {
					require.Equal(t, beforeByFullSearch(o, v, w), o.before(v, w), "before(%d, %d) in %v", v, w, ops)
				}
			}
		}
	})
}

// beforeByFullSearch is before without its suffix bookkeeping or kept marks:
// a breadth-first search over every derivation edge, the key's first write
// to every other, and every real-time edge (an effective write to each
// write called after its return; a client's program order among them).
func beforeByFullSearch(o *versionOrder, v, w int) bool {
	if o.effective(w) && o.rt.Precedes(w, v) {
		return o.effective(v) && o.rt.Precedes(v, w) // before's first case wins
	}
	seen := map[int]bool{v: true}
	queue := []int{v}
	for len(queue) > 0 {
		x := queue[0]
		queue = queue[1:]
		next := slices.Clone(o.next[x])
		if x == o.first {
			next = append(next, o.writes...)
		}
		if o.effective(x) {
			for _, y := range o.writes {
				if o.rt.Precedes(x, y) {
					next = append(next, y)
				}
			}
		}
		for _, y := range next {
			if y == w {
				return true
			}
			if !seen[y] {
				seen[y] = true
				queue = append(queue, y)
			}
		}
	}
	return false
}
