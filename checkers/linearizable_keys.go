package checkers

import (
	"cmp"
	"slices"
	"time"

	"github.com/anishathalye/porcupine"
)

// keysOutcome is what checking the keys one at a time found.
type keysOutcome struct {
	failed []string // the keys whose sub-history is not linearizable, sorted
	gaveUp bool     // the budget ran out before any key was found to fail
}

// checkKeys checks each key's sub-history on its own, one key at a time, so
// that only one key's operations and Porcupine search are in memory at once
// (Porcupine given all keys searches them all in parallel, and its search
// keeps a copy of the set of linearized operations per state it visits: a
// key's memory grows with the square of its operations).
//
// The budget is split as Porcupine splits it among its parallel searches:
// until a key fails, the keys share one deadline, timeout after the start,
// each getting what is left of it; the budget running out before any key
// fails makes the verdict unknown. Keys are taken fewest operations first
// (ties in order of first appearance), so that a small failing key is found
// before a large one spends the budget, as it would be when all run at once.
// Once a key fails the verdict is Fail whatever follows, and each remaining
// key gets the whole timeout on its own, only to be named if it fails too
// (as the failing keys were named before: each key checked apart with the
// whole timeout). Pass and Fail, and the keys named, do not depend on the
// wall clock unless a key's search runs out of budget, as before.
func checkKeys(k *keyedHistory, timeout time.Duration) keysOutcome {
	single := kvModel
	single.Partition = nil // operations gives one key at a time
	var out keysOutcome
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout) //simrun:allow the budget is wall time, as Porcupine's own timer; it only turns a verdict unknown
	}
	for _, j := range checkOrder(k) {
		budget := timeout
		if len(out.failed) == 0 && timeout > 0 {
			budget = time.Until(deadline) //simrun:allow what is left of the wall-time budget, as above
			if budget <= 0 {              // 0 would mean no bound to Porcupine
				out.gaveUp = true
				break
			}
		}
		switch porcupine.CheckOperationsTimeout(single, k.operations(j), budget) {
		case porcupine.Illegal:
			out.failed = append(out.failed, k.keys[j])
		case porcupine.Unknown:
			if len(out.failed) == 0 {
				out.gaveUp = true
				return out
			}
		}
	}
	slices.Sort(out.failed)
	return out
}

// checkOrder is the order keys are checked in: fewest operations first,
// ties in order of first appearance.
func checkOrder(k *keyedHistory) []int {
	order := make([]int, len(k.keys))
	for j := range order {
		order[j] = j
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(len(k.ops[a]), len(k.ops[b])) })
	return order
}
