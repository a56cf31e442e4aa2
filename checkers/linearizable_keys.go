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
	gaveUp bool     // a search stopped before any key was found to fail
	// When it gave up: on which key, with how many operations, the share of
	// the budget the batch it stopped on had (keyBudget), and whether it
	// outgrew its memory (searchMemory) or took every step its budget
	// allowed (searchSteps; overworked is then that batch's budget) rather
	// than ran out of time.
	gaveUpKey    string
	gaveUpOps    int
	gaveUpBudget time.Duration
	outgrown     bool
	overworked   time.Duration
}

// checkKeys checks each key's sub-history on its own, one key at a time, and
// each key in parts cut in time (see linearizable_parts.go), so that only
// one batch of parts and its Porcupine search are in memory at once
// (Porcupine given all keys searches them all in parallel, and its search
// keeps a copy of the set of linearized operations per state it visits:
// its memory grows with the square of the operations it is given).
//
// The budget is split among the batches without reading a clock here:
// until a key fails, each batch gets its share of timeout by operations,
// and at least timeout divided by the number of keys; the first batch whose
// search runs out makes the verdict unknown and ends the check, so the
// check takes at most the time the batches before it needed plus one
// budget. Keys are taken fewest operations first (ties in order of first
// appearance), so that a small failing key is found before a large one
// spends its budget. Once a key fails the verdict is Fail whatever follows,
// and each remaining batch gets the whole timeout on its own, only to name
// its key if it fails too (as the failing keys were named before: each key
// checked apart with the whole timeout). Pass and Fail, and the keys named,
// depend on the wall clock only where Porcupine's own timer stops a search.
// A batch whose search outgrew its memory (searchMemory), or took the steps
// its share of the budget allows (searchSteps), stopped within its time, so
// the check goes on past it: the verdict is Unknown (outgrown) only if no
// key fails, nor runs out of time. The step count stops a search before
// Porcupine's timer does on any machine but a very slow one, so Pass, Fail
// and an outgrown Unknown are the same on every machine.
func checkKeys(k *keyedHistory, timeout time.Duration) keysOutcome {
	var out keysOutcome
	total := 0
	for _, ops := range k.ops {
		total += len(ops)
	}
	for _, j := range checkOrder(k) {
		failed := len(out.failed) > 0
		var budget time.Duration
		k.overworked = 0
		res, outgrown := k.checkKey(j, func(ops int) time.Duration {
			budget = timeout
			if !failed {
				budget = keyBudget(timeout, ops, total, len(k.keys))
			}
			return budget
		})
		switch {
		case res == porcupine.Illegal:
			out.failed = append(out.failed, k.keys[j])
		case outgrown:
			// It spent no more time than its budget: the keys after it
			// may still fail, and a failure is the verdict.
			out.gaveUpOn(k, j)
		case res == porcupine.Unknown && !failed:
			out.gaveUp, out.gaveUpKey, out.gaveUpOps, out.gaveUpBudget, out.outgrown = true, k.keys[j], len(k.ops[j]), budget, false
			return out
		}
	}
	slices.Sort(out.failed)
	return out
}

// gaveUpOn records key j, whose search outgrew its memory or took its steps
// (k.overworked), as the key the check gave up on, unless an earlier key
// was: the first key, or the first that ran out of steps (a larger budget
// may decide that one, so it must not hide behind a key whose memory no
// budget changes).
func (out *keysOutcome) gaveUpOn(k *keyedHistory, j int) {
	if out.gaveUp && (out.overworked > 0 || k.overworked == 0) {
		return
	}
	out.gaveUp, out.gaveUpKey, out.gaveUpOps, out.outgrown, out.overworked = true, k.keys[j], len(k.ops[j]), true, k.overworked
}

// keyBudget is a batch's share of timeout before any key failed: in
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
