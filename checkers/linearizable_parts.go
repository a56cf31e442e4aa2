package checkers

import (
	"math"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/simrun/simrun/workload"
)

// A key's history is checked in parts, cut in time (P-compositionality in
// time): a part ends where every operation of the key called so far has
// returned before the next one is called, and the key's state there is known.
// Every operation before such a cut precedes every operation after it in real
// time, so a linearization of the key is one of the part before followed by
// one of the part after, and the part after may start from the state the part
// before ends in. That state is known when the part's last operation was
// called after all the others had returned: it is then last in every
// linearization, and a get or cas shows the state, a put sets it, and an
// append extends a state known before it. The key is linearizable if and
// only if each part is, started from that state; Porcupine's search, whose
// memory grows with the square of the operations it is given, then never
// holds more than one batch of parts. Where no cut is possible (an operation
// with unknown outcome stays open forever, and concurrent writes leave the
// state unknown) the part goes on, as the whole key did before.

// batchOps is how many operations, at most, the parts handed to Porcupine
// together hold (one part larger than that goes alone). Each call has its
// own timer and goroutines, so parts of a few operations are not checked
// one call each.
const batchOps = 2048

// part is the operations k.ops[j][from:to] of one key and the state the key
// is in before them.
type part struct {
	from, to int
	start    keyState
}

// checkKey checks key j part by part, in batches; budget gives a batch's
// share of the search time by its operations. It stops at the first batch
// that is not linearizable or runs out of time; a batch that outgrew its
// memory leaves the key Unknown (outgrown) unless a later one fails.
func (k *keyedHistory) checkKey(j int, budget func(ops int) time.Duration) (res porcupine.CheckResult, outgrown bool) {
	parts, ok := k.decideWithoutSearch(j, k.parts(j), k.replay)
	if ok {
		parts, ok = k.decideWithoutSearch(j, parts, k.decideUniqueWrites)
	}
	if !ok {
		return porcupine.Illegal, false
	}
	for len(parts) > 0 {
		n, ops := 1, parts[0].to-parts[0].from
		for n < len(parts) && ops+parts[n].to-parts[n].from <= batchOps {
			ops += parts[n].to - parts[n].from
			n++
		}
		switch res, grew := k.checkParts(j, parts[:n], budget(ops)); {
		case grew:
			outgrown = true // spent no time budget: the later parts may still fail
		case res != porcupine.Ok:
			return res, false
		}
		parts = parts[n:]
	}
	if outgrown {
		return porcupine.Unknown, true
	}
	return porcupine.Ok, false
}

// decideWithoutSearch returns the parts of key j that decide cannot decide
// without a search; ok is false if a part it decided is not linearizable.
// Two deciders run before Porcupine searches any part: replay, for a part
// whose operations are ordered in real time (its one linearization is its
// own order; under a light load most parts are one or two operations
// long), and decideUniqueWrites, for a part whose writes have values of
// their own (nearly every part of a correct service's history). So a key
// whose search would have run out of time is judged Fail, rightly, when a
// part decided so is illegal, where it was Unknown before.
func (k *keyedHistory) decideWithoutSearch(j int, parts []part, decide func(j int, p part) (legal, decided bool)) (rest []part, ok bool) {
	rest = parts[:0]
	for _, p := range parts {
		switch legal, decided := decide(j, p); {
		case !decided:
			rest = append(rest, p)
		case !legal:
			return nil, false
		}
	}
	return rest, true
}

// replay steps the model through part p of key j in order, from its start
// state, if its operations are sequential; it reports whether they are, and
// if so whether every answer was legal.
func (k *keyedHistory) replay(j int, p part) (legal, sequential bool) {
	ops := k.ops[j][p.from:p.to]
	latest := int64(math.MinInt64)
	for _, kept := range ops {
		if k.callOf(kept) <= latest {
			return false, false
		}
		latest = k.returnOf(kept)
	}
	state := p.start
	for _, kept := range ops {
		op := k.h.At(int(kept.index))
		in := kvInput{kind: op.Kind, key: op.Key, value: op.Value, expect: op.Expect}
		if legal, state = stepChecked(state, in, toOutput(&op)); !legal {
			return false, true
		}
	}
	return true, true
}

// checkParts checks parts of key j in one Porcupine search (search), each
// part within its share of k.memory, fixed here for every search of the
// batch. A part that outgrows its share ends its search as if it had no
// linearization, so a search that fails is settled again without the
// parts that outgrew (settle).
func (k *keyedHistory) checkParts(j int, parts []part, budget time.Duration) (res porcupine.CheckResult, outgrown bool) {
	shares := searchShares{memory: sharesByOps(parts, k.memory), steps: sharesByOps(parts, searchSteps(budget)), budget: budget}
	return settle(len(parts), budget, func(which []int, budget time.Duration) (porcupine.CheckResult, []bool) {
		return k.search(j, parts, shares, which, budget)
	})
}

// searchShares are the parts' shares of memory and steps, by position, and
// the batch's time budget the steps come from: fixed for every search of a
// batch, so that whether a part stays within them does not depend on which
// other parts a search takes along.
type searchShares struct {
	memory, steps []int64
	budget        time.Duration
}

// settle is the verdict on n parts from search, which reports which parts
// outgrew their memory. Each part outgrows or not, and has a linearization
// or not, on its own (its share is fixed), so the verdict does not depend on
// which part Porcupine finishes first: Illegal if a part that stays within
// its share has no linearization, else Unknown (outgrown) if a part
// outgrew, else what search found. Porcupine stops at the first part that
// fails, so a failure from a search where some part outgrew is searched
// again without those parts. Each search is bounded by the parts' fixed
// shares of steps, so each gets the whole budget on Porcupine's timer too:
// halving it for each search again let the timer, which reads the machine's
// clock, stop the third or fourth before its steps did.
func settle(n int, budget time.Duration, search func(which []int, budget time.Duration) (porcupine.CheckResult, []bool)) (res porcupine.CheckResult, outgrown bool) {
	which := make([]int, n)
	for i := range which {
		which[i] = i
	}
	for {
		res, grew := search(which, budget)
		switch {
		case res != porcupine.Illegal && outgrown:
			return porcupine.Unknown, true // the parts that outgrew are undecided
		case res != porcupine.Illegal:
			return res, false
		}
		within := which[:0:0]
		for i, part := range which {
			if !grew[i] {
				within = append(within, part)
			}
		}
		if len(within) == len(which) {
			return porcupine.Illegal, false
		}
		outgrown, which = true, within
		if len(which) == 0 {
			return porcupine.Unknown, true
		}
	}
}

// sharesByOps shares bound (bytes of memory, steps) among parts in
// proportion to their operations (a part's start state counts as one).
func sharesByOps(parts []part, bound int64) []int64 {
	total := int64(0)
	for _, p := range parts {
		total += int64(p.to - p.from + 1)
	}
	shares := make([]int64, len(parts))
	for i, p := range parts {
		shares[i] = max(bound/total*int64(p.to-p.from+1), 1)
	}
	return shares
}

// search runs one Porcupine search over the parts of key j that which
// names, each a partition of its own, started from its state by a first
// operation that sets it (called and returned before any of the part's
// operations), each holding at most its share; outgrown says, by position
// in which, the parts that did not stay within it.
func (k *keyedHistory) search(j int, parts []part, shares searchShares, which []int, budget time.Duration) (res porcupine.CheckResult, outgrown []bool) {
	n := 0
	for _, i := range which {
		n += parts[i].to - parts[i].from + 1
	}
	ops := make([]porcupine.Operation, 0, n)
	bounds := make([]int, 0, len(which)+1)
	meter := newSearchMeter(len(which))
	for at, i := range which {
		p := parts[i]
		bounds = append(bounds, len(ops))
		if p.start != (keyState{}) {
			first := k.callOf(k.ops[j][p.from])
			ops = append(ops, porcupine.Operation{Input: partInput{at, p.start}, Call: first - 2, Return: first - 1})
		}
		for _, kept := range k.ops[j][p.from:p.to] {
			op := k.operation(kept, false)
			op.Input = partInput{at, op.Input}
			ops = append(ops, op)
		}
		meter.limit(at, shares.memory[i], shares.steps[i], len(ops)-bounds[at])
	}
	bounds = append(bounds, len(ops))
	model := partsModel(meter)
	model.Partition = func(h []porcupine.Operation) [][]porcupine.Operation {
		out := make([][]porcupine.Operation, len(bounds)-1)
		for i := range out {
			out[i] = h[bounds[i]:bounds[i+1]]
		}
		return out
	}
	res = porcupine.CheckOperationsTimeout(model, ops, budget)
	outgrown = make([]bool, len(which))
	for i := range outgrown {
		outgrown[i] = meter.outgrown[i].Load()
		if meter.overworked[i].Load() && k.overworked == 0 {
			k.overworked = shares.budget
		}
	}
	return res, outgrown
}

// partInput is an operation's input, or a part's start state, tagged with
// its part, so that the model charges each part's search for what it holds.
type partInput struct {
	part int
	in   any
}

// partsModel is kvModel over partInputs, whose input may also be a
// keyState: an operation that puts the key in that state, a part's start.
// Each step taken is charged to its part's search (searchMeter.step).
func partsModel(meter *searchMeter) porcupine.Model {
	return porcupine.Model{
		Init: kvModel.Init,
		Step: func(state, input, output any) (bool, any) {
			in := input.(partInput)
			return meter.step(in.part, state, in.in, output)
		},
		Equal: kvModel.Equal,
		Hash:  kvModel.Hash,
	}
}

// parts cuts key j's operations where every earlier one returned before the
// next call and the state there is known (see the comment at the top).
func (k *keyedHistory) parts(j int) []part {
	kept := k.ops[j]
	var parts []part
	cur := part{}
	latest := int64(math.MinInt64) // the latest return of the operations so far
	var last workload.Operation    // the previous operation
	lastAlone, lastFirst := false, false
	for i := range kept {
		op := k.h.At(int(kept[i].index))
		quiet := i == 0 || k.callOf(kept[i]) > latest
		if quiet && i > cur.from && lastAlone {
			if s, ok := stateAfter(&last, cur.start, lastFirst); ok {
				cur.to = i
				parts = append(parts, cur)
				cur = part{from: i, start: s}
			}
		}
		lastAlone, lastFirst = quiet, i == cur.from
		latest = max(latest, k.returnOf(kept[i]))
		last = op
	}
	if len(kept) > 0 {
		cur.to = len(kept)
		parts = append(parts, cur)
	}
	return parts
}

// stateAfter is the key's state after op, which every other operation of
// its part precedes; before is the state before it, if op is its part's
// first operation (first). A get and a cas read the state, a put and a
// successful cas set it, an append extends the state before it. An
// operation without a valid answer leaves the state unknown (its part fails
// anyway).
func stateAfter(op *workload.Operation, before keyState, first bool) (keyState, bool) {
	if op.Status != workload.StatusOK {
		return keyState{}, false
	}
	switch op.Kind {
	case workload.OpGet:
		return keyState{value: op.Output, found: op.Found}, true
	case workload.OpPut:
		return keyState{value: op.Value, found: true}, true
	case workload.OpCAS:
		if op.CASOK {
			return keyState{value: op.Value, found: true}, true
		}
		return keyState{value: op.Output, found: op.Found}, true
	case workload.OpAppend:
		if first {
			next, _ := stepKey(before, kvInput{kind: op.Kind, key: op.Key, value: op.Value})
			return next, true
		}
	}
	return keyState{}, false
}
