package checkers

import (
	"strconv"
	"testing"

	"github.com/anishathalye/porcupine"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/simrun/simrun/sim"
	"github.com/simrun/simrun/workload"
)

// TestPartsCutWhereTheStateIsKnown: a key's history is cut where every
// operation so far has returned and the last one, alone, shows or sets the
// state; not where concurrent writes leave it open, nor after an operation
// with unknown outcome.
func TestPartsCutWhereTheStateIsKnown(t *testing.T) {
	h := workload.NewHistory(
		appendOp(0, 0, 10, "k", "a"), // alone, from the empty state: a
		put(1, 20, 30, "k", "b"),     // alone: b
		put(0, 40, 60, "k", "c"),     // concurrent with the next put: no cut after them
		put(1, 50, 70, "k", "d"),
		appendOp(0, 80, 90, "k", "e"), // alone, but the state before it is open: no cut
		get(1, 100, 110, "k", "d,e"),  // alone: reads the state
		casFail(0, 120, 130, "k", "x", "y", "d,e"),
		cas(1, 140, 150, "k", "d,e", "f", true),
		unknown(put(0, 160, 0, "k", "g")), // open forever: no cut after it
		get(1, 170, 180, "k", "g"),
		get(1, 190, 200, "k", "g"),
	)
	k := groupByKey(h)
	require.Len(t, k.keys, 1)
	assert.Equal(t, []part{
		{from: 0, to: 1},
		{from: 1, to: 2, start: keyState{value: "a", found: true}},
		{from: 2, to: 6, start: keyState{value: "b", found: true}},
		{from: 6, to: 7, start: keyState{value: "d,e", found: true}},
		{from: 7, to: 8, start: keyState{value: "d,e", found: true}},
		{from: 8, to: 11, start: keyState{value: "f", found: true}},
	}, k.parts(0))
	assert.Equal(t, Pass, CheckLinearizable(h, 0).Verdict)
}

// TestPartsMatchTheWholeKey: checking a key in parts gives Porcupine's
// verdict on the whole key, on random histories of one key whose operations
// overlap now and then (so that some cuts are possible and others not),
// answered by the sequential specification in call order (linearizable),
// some answers then corrupted or lost.
func TestPartsMatchTheWholeKey(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var ops []workload.Operation
		var state keyState
		call := sim.Time(0)
		for i := range rapid.IntRange(0, 40).Draw(t, "ops") {
			call += sim.Time(rapid.IntRange(0, 12).Draw(t, "gap"))
			ret := call + sim.Time(rapid.IntRange(1, 10).Draw(t, "length"))
			value := "v" + strconv.Itoa(i)
			var in kvInput
			switch rapid.IntRange(0, 3).Draw(t, "kind") {
			case 0:
				in = kvInput{kind: workload.OpPut, key: "k", value: value}
			case 1:
				in = kvInput{kind: workload.OpAppend, key: "k", value: value}
			case 2:
				in = kvInput{kind: workload.OpGet, key: "k"}
			default:
				expect := state.value
				if rapid.Bool().Draw(t, "casMisses") {
					expect = "x"
				}
				in = kvInput{kind: workload.OpCAS, key: "k", value: value, expect: expect}
			}
			next, out := stepKey(state, in)
			state = next
			op := workload.Operation{Client: i % 3, Call: call, Return: ret, Kind: in.kind, Key: "k", Value: in.value,
				Expect: in.expect, Status: workload.StatusOK, Output: out.value, Found: out.found, CASOK: out.casOK}
			switch rapid.IntRange(0, 11).Draw(t, "corrupt") {
			case 0:
				op.Output, op.Found = "v"+strconv.Itoa(rapid.IntRange(0, i).Draw(t, "stale")), true
			case 1:
				op.CASOK = !op.CASOK
			case 2:
				op = unknown(op)
			}
			ops = append(ops, op)
		}
		res := CheckLinearizable(workload.NewHistory(ops...), 0)
		want := Pass
		single := kvModel
		single.Partition = nil
		if len(res.keyed.keys) > 0 && !porcupine.CheckOperations(single, res.keyed.operations(0)) {
			want = Fail
		}
		require.Equal(t, want, res.Verdict, res.Detail)
	})
}

// TestPartsTouchingOperationsOverlap: an operation called at the instant
// another returns overlaps it (Porcupine orders calls before returns at
// equal times), so no cut falls between them.
func TestPartsTouchingOperationsOverlap(t *testing.T) {
	h := workload.NewHistory(put(0, 0, 10, "k", "a"), put(1, 10, 20, "k", "b"), get(0, 30, 40, "k", "a"))
	assert.Equal(t, Pass, CheckLinearizable(h, 0).Verdict)
}
