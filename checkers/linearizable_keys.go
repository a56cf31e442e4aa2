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
// The budget is split among the keys without reading a clock here:
// until a key fails, each key gets its share of timeout by operations, and
// at least timeout divided by the number of keys, so the whole search stays
// within about twice the timeout; a key's search running out makes the
// verdict unknown. Keys are taken fewest operations first (ties in order of
// first appearance), so that a small failing key is found before a large
// one spends its budget. Once a key fails the verdict is Fail whatever
// follows, and each remaining key gets the whole timeout on its own, only
// to be named if it fails too (as the failing keys were named before: each
// key checked apart with the whole timeout). Pass and Fail, and the keys
// named, depend on the wall clock only where Porcupine's own timer stops a
// key's search, as before.
func checkKeys(k *keyedHistory, timeout time.Duration) keysOutcome {
	single := kvModel
	single.Partition = nil // operations gives one key at a time
	var out keysOutcome
	total := 0
	for _, ops := range k.ops {
		total += len(ops)
	}
	for _, j := range checkOrder(k) {
		budget := timeout
		if len(out.failed) == 0 {
			budget = keyBudget(timeout, len(k.ops[j]), total, len(k.keys))
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

// keyBudget is a key's share of timeout before any key failed: in
// proportion to its operations of all total, and at least timeout/keys;
// never 0 for a positive timeout (0 means no bound to Porcupine), and 0 (no
// bound) for none.
func keyBudget(timeout time.Duration, ops, total, keys int) time.Duration {
	if timeout <= 0 || total == 0 {
		return timeout
	}
	share := timeout / time.Duration(total) * time.Duration(ops)
	return max(share, timeout/time.Duration(keys), 1)
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
