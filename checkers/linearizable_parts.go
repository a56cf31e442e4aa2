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
// that is not linearizable or runs out of time.
func (k *keyedHistory) checkKey(j int, budget func(ops int) time.Duration) porcupine.CheckResult {
	parts, ok := k.replaySequential(j, k.parts(j))
	if !ok {
		return porcupine.Illegal
	}
	for len(parts) > 0 {
		n, ops := 1, parts[0].to-parts[0].from
		for n < len(parts) && ops+parts[n].to-parts[n].from <= batchOps {
			ops += parts[n].to - parts[n].from
			n++
		}
		if res := k.checkParts(j, parts[:n], budget(ops)); res != porcupine.Ok {
			return res
		}
		parts = parts[n:]
	}
	return porcupine.Ok
}

// replaySequential checks the parts of key j whose operations are ordered
// in real time, each called after the one before it returned, and returns
// the others. Such a part has one linearization, its own order, so stepping
// the model through it decides it, where Porcupine would spend a goroutine
// and a search on it: under a light load most parts are one or two
// operations long. ok is false if a part replayed is not linearizable. All
// sequential parts are replayed before Porcupine searches any other, so a
// key whose search would have run out of time is judged Fail, rightly, when
// a replayed part is illegal, where it was Unknown before.
func (k *keyedHistory) replaySequential(j int, parts []part) (rest []part, ok bool) {
	rest = parts[:0]
	for _, p := range parts {
		switch legal, sequential := k.replay(j, p); {
		case !sequential:
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
		op := k.h.At(int(kept.index))
		if int64(op.Call) <= latest {
			return false, false
		}
		latest = returnTime(&op)
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

// checkParts runs one Porcupine search over parts of key j, each part a
// partition of its own, started from its state by a first operation that
// sets it (called and returned before any of the part's operations).
func (k *keyedHistory) checkParts(j int, parts []part, budget time.Duration) porcupine.CheckResult {
	n := 0
	for _, p := range parts {
		n += p.to - p.from + 1
	}
	ops := make([]porcupine.Operation, 0, n)
	bounds := make([]int, 0, len(parts)+1)
	for _, p := range parts {
		bounds = append(bounds, len(ops))
		if p.start != (keyState{}) {
			first := int64(k.h.At(int(k.ops[j][p.from].index)).Call)
			ops = append(ops, porcupine.Operation{Input: p.start, Call: first - 2, Return: first - 1})
		}
		for _, kept := range k.ops[j][p.from:p.to] {
			ops = append(ops, k.operation(kept, false))
		}
	}
	bounds = append(bounds, len(ops))
	model := partsModel
	model.Partition = func(h []porcupine.Operation) [][]porcupine.Operation {
		out := make([][]porcupine.Operation, len(bounds)-1)
		for i := range out {
			out[i] = h[bounds[i]:bounds[i+1]]
		}
		return out
	}
	return porcupine.CheckOperationsTimeout(model, ops, budget)
}

// partsModel is kvModel whose operations may also be a keyState: an
// operation that puts the key in that state, a part's start.
var partsModel = porcupine.Model{
	Init: kvModel.Init,
	Step: func(state, input, output any) (bool, any) {
		if start, ok := input.(keyState); ok {
			return true, start
		}
		return step(state, input, output)
	},
	Equal: kvModel.Equal,
	Hash:  kvModel.Hash,
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
		quiet := i == 0 || int64(op.Call) > latest
		if quiet && i > cur.from && lastAlone {
			if s, ok := stateAfter(&last, cur.start, lastFirst); ok {
				cur.to = i
				parts = append(parts, cur)
				cur = part{from: i, start: s}
			}
		}
		lastAlone, lastFirst = quiet, i == cur.from
		latest = max(latest, returnTime(&op))
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
