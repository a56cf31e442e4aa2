package checkers

import (
	"fmt"
	"hash/fnv"
	"strconv"

	"github.com/anishathalye/porcupine"

	"github.com/simrun/simrun/workload"
)

// The Porcupine model of the KV service, one key at a time (the history is
// partitioned by key, which Porcupine checks independently). It is written
// here, apart from workload's KV, so that the checker is an independent
// specification: a test replays random ops through both and compares.

// kvInput is an operation's request.
type kvInput struct {
	kind   workload.OpKind
	key    string
	value  string // put, append: the value written; cas: the new value
	expect string // cas
}

// kvOutput is an operation's answer. unknown means no definite answer came:
// the operation may have taken effect or not, and any answer is accepted.
type kvOutput struct {
	unknown bool
	// failed: the service answered with something that is no result,
	// invalid (which may be empty: an empty answer is no result either).
	failed  bool
	invalid string
	value   string // get, failed cas: the value read
	found   bool   // get, failed cas: whether the key existed
	casOK   bool   // cas
}

// keyState is one key's state. It is a comparable value, so Porcupine's
// default == equality is exact.
type keyState struct {
	value string
	found bool
}

// stepKey is the sequential specification of one key: the state after in,
// and the answer a correct service gives.
func stepKey(s keyState, in kvInput) (keyState, kvOutput) {
	switch in.kind {
	case workload.OpGet:
		return s, kvOutput{value: s.value, found: s.found}
	case workload.OpPut:
		return keyState{value: in.value, found: true}, kvOutput{}
	case workload.OpAppend:
		if !s.found {
			return keyState{value: in.value, found: true}, kvOutput{}
		}
		return keyState{value: s.value + workload.AppendSeparator + in.value, found: true}, kvOutput{}
	case workload.OpCAS:
		if s.found && s.value == in.expect {
			return keyState{value: in.value, found: true}, kvOutput{casOK: true}
		}
		return s, kvOutput{value: s.value, found: s.found} // a failed cas reads the key
	}
	return s, kvOutput{failed: true, invalid: "unknown op kind"}
}

// step is the model's total step function: every (state, input, output)
// gives an answer, and it never mutates its arguments.
func step(state, input, output any) (bool, any) {
	return stepChecked(state.(keyState), input.(kvInput), output.(kvOutput))
}

// stepChecked is step on typed values: whether out is an answer a correct
// service may give to in from state s, and the state after.
func stepChecked(s keyState, in kvInput, out kvOutput) (bool, keyState) {
	next, want := stepKey(s, in)
	switch {
	case out.unknown:
		// It may take effect here. It returns at infinity, so "never took
		// effect" is the linearization that places it after everything else
		// (unless an operation observed it: observedBy).
		return true, next
	case out.failed || want.failed:
		return false, s
	case in.kind == workload.OpGet:
		return out.found == want.found && out.value == want.value, next
	case in.kind == workload.OpCAS && want.casOK:
		return out.casOK, next
	case in.kind == workload.OpCAS:
		return !out.casOK && out.found == want.found && out.value == want.value, next
	}
	return true, next
}

// kvModel is the Porcupine model.
var kvModel = porcupine.Model{
	Partition:         partitionByKey,
	Init:              func() any { return keyState{} },
	Step:              step,
	Equal:             func(a, b any) bool { return a.(keyState) == b.(keyState) },
	Hash:              hashState,
	DescribeOperation: describeOperation,
	DescribeState:     describeState,
	DescribeOperationMetadata: func(meta any) string {
		if meta == nil {
			return ""
		}
		return meta.(string)
	},
}

// partitionByKey splits a history into one sub-history per key, keys in order
// of first appearance, so the partition order is deterministic.
func partitionByKey(history []porcupine.Operation) [][]porcupine.Operation {
	index := map[string]int{}
	var parts [][]porcupine.Operation
	for _, op := range history {
		key := op.Input.(kvInput).key
		i, ok := index[key]
		if !ok {
			i = len(parts)
			index[key] = i
			parts = append(parts, nil)
		}
		parts[i] = append(parts[i], op)
	}
	return parts
}

func hashState(state any) uint64 {
	s := state.(keyState)
	h := fnv.New64a()
	h.Write([]byte(s.value))
	if s.found {
		h.Write([]byte{1})
	}
	return h.Sum64()
}

// describeOperation renders "put(k3, c0.17)", "get(k3) -> c0.5",
// "cas(k3, c0.5 -> c1.2) -> ok", "append(k1, c2.3) -> unknown".
func describeOperation(input, output any) string {
	in, out := input.(kvInput), output.(kvOutput)
	var call string
	switch in.kind {
	case workload.OpGet:
		call = fmt.Sprintf("get(%s)", in.key)
	case workload.OpCAS:
		call = fmt.Sprintf("cas(%s, %s -> %s)", in.key, in.expect, in.value)
	default:
		call = fmt.Sprintf("%s(%s, %s)", in.kind, in.key, in.value)
	}
	switch {
	case out.unknown:
		return call + " -> unknown"
	case out.failed:
		return call + " -> invalid " + strconv.Quote(out.invalid)
	case in.kind == workload.OpGet && !out.found:
		return call + " -> not found"
	case in.kind == workload.OpGet:
		return call + " -> " + out.value
	case in.kind == workload.OpCAS && out.casOK:
		return call + " -> ok"
	case in.kind == workload.OpCAS && !out.found:
		return call + " -> fail, not found"
	case in.kind == workload.OpCAS:
		return call + " -> fail, was " + out.value
	}
	return call
}

func describeState(state any) string {
	s := state.(keyState)
	if !s.found {
		return "<absent>"
	}
	return s.value
}
