package checkers

import (
	"bytes"
	"cmp"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/simrun/simrun/sim"
	"github.com/simrun/simrun/workload"
)

// Hand-made operations: client, call and return times, then the op.

func put(client int, call, ret sim.Time, key, value string) workload.Operation {
	return workload.Operation{Client: client, Call: call, Return: ret, Kind: workload.OpPut, Key: key, Value: value, Status: workload.StatusOK}
}

func appendOp(client int, call, ret sim.Time, key, value string) workload.Operation {
	return workload.Operation{Client: client, Call: call, Return: ret, Kind: workload.OpAppend, Key: key, Value: value, Status: workload.StatusOK}
}

func get(client int, call, ret sim.Time, key, value string) workload.Operation {
	return workload.Operation{Client: client, Call: call, Return: ret, Kind: workload.OpGet, Key: key,
		Output: value, Found: value != "", Status: workload.StatusOK}
}

func cas(client int, call, ret sim.Time, key, expect, value string, ok bool) workload.Operation {
	return workload.Operation{Client: client, Call: call, Return: ret, Kind: workload.OpCAS, Key: key,
		Expect: expect, Value: value, CASOK: ok, Status: workload.StatusOK}
}

// casFail is a cas that failed reading current (found) from the key.
func casFail(client int, call, ret sim.Time, key, expect, value, current string) workload.Operation {
	op := cas(client, call, ret, key, expect, value, false)
	op.Output, op.Found = current, current != ""
	return op
}

// unknown turns op into one without a definite answer.
func unknown(op workload.Operation) workload.Operation {
	op.Status, op.Return, op.Output, op.Found, op.CASOK = workload.StatusUnknown, sim.Forever, "", false, false
	return op
}

func TestCheckLinearizable(t *testing.T) {
	tests := []struct {
		name string
		ops  []workload.Operation
		want Verdict
	}{
		{"empty history", nil, Pass},
		{"sequential writes and reads",
			[]workload.Operation{put(0, 0, 10, "k0", "a"), get(1, 20, 30, "k0", "a"), put(1, 40, 50, "k0", "b"), get(0, 60, 70, "k0", "b")}, Pass},
		{"a concurrent read may see the old or the new value",
			[]workload.Operation{put(0, 0, 10, "k0", "a"), put(0, 20, 50, "k0", "b"), get(1, 25, 30, "k0", "a"), get(2, 26, 31, "k0", "b")}, Pass},
		{"stale read", // the read starts after b was acknowledged but sees a
			[]workload.Operation{put(0, 0, 10, "k0", "a"), put(0, 20, 30, "k0", "b"), get(1, 40, 50, "k0", "a")}, Fail},
		{"read of a never-written key sees nothing", []workload.Operation{get(0, 0, 10, "k0", "")}, Pass},
		{"lost write", // an acknowledged put is not seen by a later read
			[]workload.Operation{put(0, 0, 10, "k0", "a"), get(1, 20, 30, "k0", "")}, Fail},
		{"lost append",
			[]workload.Operation{appendOp(0, 0, 10, "k0", "a"), appendOp(1, 20, 30, "k0", "b"), get(2, 40, 50, "k0", "b")}, Fail},
		{"appends in either order while concurrent",
			[]workload.Operation{appendOp(0, 0, 10, "k0", "a"), appendOp(1, 0, 10, "k0", "b"), get(2, 40, 50, "k0", "b,a")}, Pass},
		{"cas succeeds on the current value",
			[]workload.Operation{put(0, 0, 10, "k0", "a"), cas(1, 20, 30, "k0", "a", "b", true), get(0, 40, 50, "k0", "b")}, Pass},
		{"cas that claims success on a stale value",
			[]workload.Operation{put(0, 0, 10, "k0", "a"), put(0, 20, 30, "k0", "b"), cas(1, 40, 50, "k0", "a", "c", true)}, Fail},
		{"cas that fails although it should succeed",
			[]workload.Operation{put(0, 0, 10, "k0", "a"), cas(1, 20, 30, "k0", "a", "c", false)}, Fail},
		{"cas that fails while a write is concurrent",
			[]workload.Operation{put(0, 0, 10, "k0", "a"), put(2, 15, 35, "k0", "b"), casFail(1, 20, 30, "k0", "a", "c", "b")}, Pass},
		{"cas that fails reading a value never written",
			[]workload.Operation{put(0, 0, 10, "k0", "a"), casFail(1, 20, 30, "k0", "b", "c", "z")}, Fail},
		{"keys are independent",
			[]workload.Operation{put(0, 0, 10, "k0", "a"), put(1, 0, 10, "k1", "b"), get(2, 20, 30, "k1", "b"), get(2, 40, 50, "k0", "a")}, Pass},
		{"unknown write that took effect",
			[]workload.Operation{unknown(put(0, 0, 10, "k0", "a")), get(1, 100, 110, "k0", "a")}, Pass},
		{"unknown write that never took effect",
			[]workload.Operation{unknown(put(0, 0, 10, "k0", "a")), get(1, 100, 110, "k0", ""), get(1, 200, 210, "k0", "")}, Pass},
		{"unknown write seen, then unseen", // once observed, it cannot be undone
			[]workload.Operation{unknown(put(0, 0, 10, "k0", "a")), get(1, 100, 110, "k0", "a"), get(1, 200, 210, "k0", "")}, Fail},
		{"unknown write seen before it was called",
			[]workload.Operation{get(1, 0, 10, "k0", "a"), unknown(put(0, 20, 30, "k0", "a"))}, Fail},
		{"unknown cas may take effect",
			[]workload.Operation{put(0, 0, 10, "k0", "a"), unknown(cas(1, 20, 30, "k0", "a", "b", false)), get(0, 40, 50, "k0", "b")}, Pass},
		{"unknown reads constrain nothing",
			[]workload.Operation{put(0, 0, 10, "k0", "a"), unknown(get(1, 20, 30, "k0", "zzz"))}, Pass},
		{"an invalid answer fails",
			[]workload.Operation{{Client: 0, Call: 0, Return: 10, Kind: workload.OpPut, Key: "k0", Value: "a",
				Status: workload.StatusFailed, Output: "err malformed op"}}, Fail},
		{"closed intervals: touching operations are concurrent",
			[]workload.Operation{put(0, 0, 10, "k0", "a"), get(1, 10, 20, "k0", "")}, Pass},
		{"a client's own touching operations are in program order", // an open-loop client's backlog
			[]workload.Operation{put(0, 0, 10, "k0", "a"), get(0, 10, 20, "k0", "")}, Fail},
		{"an operation called after the writer's next one follows the write",
			[]workload.Operation{put(0, 0, 10, "k0", "a"), put(0, 10, 30, "k1", "x"), get(1, 10, 20, "k0", "")}, Fail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := CheckLinearizable(workload.NewHistory(tt.ops...), 0)
			assert.Equal(t, tt.want, res.Verdict, res.Detail)
			if tt.want == Fail {
				assert.Equal(t, []string{"k0"}, res.FailedKeys)
			}
		})
	}
}

func TestCheckLinearizableCounts(t *testing.T) {
	h := workload.NewHistory(put(0, 0, 10, "k0", "a"), unknown(put(1, 5, 10, "k1", "b")),
		unknown(get(2, 0, 1, "k2", "")), get(0, 20, 30, "k3", "x"), get(0, 40, 50, "k0", "a"),
		get(1, 60, 70, "k1", "b"), unknown(put(2, 80, 90, "k4", "never-read")))
	res := CheckLinearizable(h, 0)
	assert.Equal(t, Fail, res.Verdict)
	assert.Equal(t, 5, res.Checked, "the unknown read and the unobserved unknown write are left out")
	assert.Equal(t, 1, res.Unknown)
	assert.Equal(t, 1, res.Unobserved)
	assert.Equal(t, 3, res.Keys)
	assert.Equal(t, []string{"k3"}, res.FailedKeys)
	assert.Contains(t, res.Detail, "key k3 has no linearization")
}

func TestWriteVisualization(t *testing.T) {
	h := workload.NewHistory(put(0, 0, 10, "k0", "a"), put(0, 20, 30, "k0", "b"), get(1, 40, 50, "k0", "a"),
		put(2, 0, 10, "k1", "z"))
	res := CheckLinearizable(h, 0)
	require.Equal(t, Fail, res.Verdict)
	path := filepath.Join(t.TempDir(), "linearizability.html")
	f, err := os.Create(path)
	require.NoError(t, err)
	require.NoError(t, res.WriteVisualization(f))
	require.NoError(t, f.Close())
	html, err := os.ReadFile(path)
	require.NoError(t, err)
	// The page embeds its data as JSON, which escapes '>'.
	assert.True(t, strings.HasPrefix(string(html), "<!doctype html>"))
	assert.True(t, strings.Contains(string(html), `get(k0) -\u003e a`), "the failing read is drawn")
	assert.False(t, strings.Contains(string(html), "put(k1, z)"), "only the failing key is drawn")

	var buf bytes.Buffer
	require.NoError(t, CheckLinearizable(workload.NewHistory(put(0, 0, 10, "k0", "a")), 0).WriteVisualization(&buf))
	assert.True(t, strings.Contains(buf.String(), "put(k0, a)"), "a passing history can be drawn too")
}

// A failure whose longest partial linearizations tie (two of four
// operations here) is drawn the same way every time: Porcupine hands them
// over in a map's order, and the page, and the operation a report centres on,
// followed it.
func TestVisualizationIsTheSameEveryTime(t *testing.T) {
	h := workload.NewHistory(get(0, 6, 12, "k", "v1"), put(1, 0, 1, "k", "v1"), put(2, 1, 5, "k", "v0"),
		get(3, 2, 7, "k", "v1"), get(4, 5, 9, "k", "v0"))
	res := CheckLinearizable(h, 0)
	require.Equal(t, Fail, res.Verdict)
	var first bytes.Buffer
	require.NoError(t, res.WriteVisualization(&first))
	for range 20 {
		var again bytes.Buffer
		require.NoError(t, res.WriteVisualization(&again))
		require.Equal(t, first.String(), again.String())
	}
	lins := [][][]int{{{2, 1, 3, 0}, {1, 3}, {1, 3, 2, 4}}}
	sortLinearizations(lins)
	require.Equal(t, [][][]int{{{1, 3, 2, 4}, {2, 1, 3, 0}, {1, 3}}}, lins, "longest first, then by ids")
}

// The checker's model is written apart from the KV so that each checks the
// other: any sequence of ops gives the same answers from both, and the
// sequential history that the KV produces is linearizable.
func TestModelMatchesKV(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		kv := workload.NewKV()
		states := map[string]keyState{}
		var ops []workload.Operation
		values := []string{"a", "b", "c"}
		for i := range rapid.IntRange(1, 40).Draw(t, "ops") {
			op := workload.Op{
				Kind: workload.OpKind(rapid.IntRange(int(workload.OpGet), int(workload.OpCAS)).Draw(t, "kind")),
				Key:  rapid.SampledFrom([]string{"k0", "k1"}).Draw(t, "key"),
			}
			if op.Kind != workload.OpGet {
				op.Value = rapid.SampledFrom(values).Draw(t, "value")
			}
			if op.Kind == workload.OpCAS {
				op.Expect = rapid.SampledFrom(append(values, "a,b")).Draw(t, "expect")
			}
			raw := kv.Apply(op.Encode())
			res, err := workload.ParseResult(op.Kind, raw)
			require.NoError(t, err)
			next, want := stepKey(states[op.Key], kvInput{kind: op.Kind, key: op.Key, value: op.Value, expect: op.Expect})
			states[op.Key] = next
			require.Equal(t, kvOutput{value: res.Value, found: res.Found, casOK: res.CASOK}, want, "op %d %s -> %s", i, op, raw)
			at := sim.Time(10 * i)
			ops = append(ops, workload.Operation{Client: i % 3, Kind: op.Kind, Key: op.Key, Value: op.Value, Expect: op.Expect,
				Call: at, Return: at + 5, Status: workload.StatusOK, Output: res.Value, Found: res.Found, CASOK: res.CASOK})
		}
		res := CheckLinearizable(workload.NewHistory(ops...), 0)
		require.Equal(t, Pass, res.Verdict, res.Detail)
	})
}

func TestDescribeOperation(t *testing.T) {
	tests := []struct {
		in   kvInput
		out  kvOutput
		want string
	}{
		{kvInput{kind: workload.OpGet, key: "k1"}, kvOutput{value: "c0.1", found: true}, "get(k1) -> c0.1"},
		{kvInput{kind: workload.OpGet, key: "k1"}, kvOutput{}, "get(k1) -> not found"},
		{kvInput{kind: workload.OpPut, key: "k1", value: "v"}, kvOutput{}, "put(k1, v)"},
		{kvInput{kind: workload.OpAppend, key: "k1", value: "v"}, kvOutput{unknown: true}, "append(k1, v) -> unknown"},
		{kvInput{kind: workload.OpCAS, key: "k1", expect: "a", value: "b"}, kvOutput{casOK: true}, "cas(k1, a -> b) -> ok"},
		{kvInput{kind: workload.OpCAS, key: "k1", expect: "a", value: "b"}, kvOutput{}, "cas(k1, a -> b) -> fail, not found"},
		{kvInput{kind: workload.OpPut, key: "k1", value: "v"}, kvOutput{failed: true, invalid: "err x"}, `put(k1, v) -> invalid "err x"`},
	}
	for i, tt := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			assert.Equal(t, tt.want, describeOperation(tt.in, tt.out))
		})
	}
	assert.Equal(t, "<absent>", describeState(keyState{}))
	assert.Equal(t, "a,b", describeState(keyState{value: "a,b", found: true}))
	assert.NotEqual(t, hashState(keyState{}), hashState(keyState{found: true}))
}

func TestProcessesOpenANewRowAfterAnUnknownOutcome(t *testing.T) {
	ops := []workload.Operation{put(0, 0, 10, "k0", "a"), put(1, 0, 10, "k0", "b"), unknown(put(0, 20, 30, "k0", "c")),
		put(0, 40, 50, "k0", "d"), put(1, 40, 50, "k0", "e")}
	var p processes
	var got []int
	for i := range ops {
		got = append(got, p.of(&ops[i]))
	}
	assert.Equal(t, []int{0, 1, 0, 2, 1}, got)
}

// TestUnobservedUnknownWritesChangeNoVerdict: leaving out unknown writes
// that nothing observed keeps every verdict, on histories where they matter
// least and most.
func TestUnobservedUnknownWritesChangeNoVerdict(t *testing.T) {
	cases := []struct {
		name string
		ops  []workload.Operation
		want Verdict
		left int
	}{
		{"an unobserved unknown put is left out", []workload.Operation{
			put(0, 0, 10, "k0", "a"), unknown(put(1, 5, 10, "k0", "b")), get(0, 20, 30, "k0", "a")}, Pass, 1},
		{"an observed unknown put is kept and explains the read", []workload.Operation{
			put(0, 0, 10, "k0", "a"), unknown(put(1, 5, 10, "k0", "b")), get(0, 20, 30, "k0", "b")}, Pass, 0},
		{"a stale read still fails", []workload.Operation{
			put(0, 0, 10, "k0", "a"), put(0, 20, 30, "k0", "b"), unknown(put(1, 5, 10, "k0", "c")), get(0, 40, 50, "k0", "a")}, Fail, 1},
		{"an unknown write a failed cas read is kept", []workload.Operation{
			put(0, 0, 10, "k0", "a"), unknown(put(1, 5, 10, "k0", "b")), casFail(0, 20, 30, "k0", "a", "c", "b")}, Pass, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := CheckLinearizable(workload.NewHistory(c.ops...), 0)
			assert.Equal(t, c.want, res.Verdict, res.Detail)
			assert.Equal(t, c.left, res.Unobserved)
		})
	}
}

// TestFailingKeysNamedAndDrawn: keys are checked one at a time, fewest
// operations first, and every failing key is still named, and drawn, while
// a passing key is not.
func TestFailingKeysNamedAndDrawn(t *testing.T) {
	h := workload.NewHistory(
		put(0, 0, 10, "k0", "a"), put(0, 20, 30, "k0", "b"), put(0, 40, 50, "k0", "c"), get(1, 60, 70, "k0", "a"),
		put(2, 0, 10, "k1", "x"), get(2, 20, 30, "k1", "x"),
		put(3, 0, 10, "k2", "p"), put(3, 20, 30, "k2", "q"), get(1, 40, 50, "k2", "p"))
	res := CheckLinearizable(h, time.Minute)
	require.Equal(t, Fail, res.Verdict, res.Detail)
	assert.Equal(t, []string{"k0", "k2"}, res.FailedKeys)
	assert.Equal(t, 3, res.Keys)
	assert.Contains(t, res.Detail, "keys k0, k2")
	assert.Equal(t, []int{1, 2, 0}, checkOrder(res.keyed), "fewest operations first")

	var buf bytes.Buffer
	require.NoError(t, res.WriteVisualization(&buf))
	html := buf.String()
	assert.Contains(t, html, `get(k0) -\u003e a`)
	assert.Contains(t, html, `get(k2) -\u003e p`)
	assert.NotContains(t, html, "put(k1, x)", "a passing key is not drawn")
}

// TestOutOfBudgetIsUnknown: a budget spent before any key is decided gives
// unknown, never pass. Operations in sequence need no search: their one
// order decides them, whatever the budget.
func TestOutOfBudgetIsUnknown(t *testing.T) {
	h := workload.NewHistory(put(0, 0, 10, "k0", "a"), put(1, 5, 30, "k0", "a")) // a value written twice: a search (decideUniqueWrites)
	res := CheckLinearizable(h, time.Nanosecond)
	assert.Equal(t, Unknown, res.Verdict, res.Detail)
	// Porcupine's timer (1ns) or the step count (1 step) stops it first.
	assert.Contains(t, res.Detail, "Porcupine gave up on key k0 (2 operations) when its ", "it names the key it gave up on")
	assert.Contains(t, res.Detail, "of the 1ns budget, 1ns,",
		"and the share of the budget that key had, not the whole budget as if it had all been spent")

	sequential := workload.NewHistory(put(0, 0, 10, "k0", "a"), get(1, 20, 30, "k0", "a"))
	assert.Equal(t, Pass, CheckLinearizable(sequential, time.Nanosecond).Verdict)
	stale := workload.NewHistory(put(0, 0, 10, "k0", "a"), get(1, 20, 30, "k0", "b"))
	assert.Equal(t, Fail, CheckLinearizable(stale, time.Nanosecond).Verdict)
}

// crowdedKey is a history of key k no quiet point cuts: n puts, all in
// flight at once, and n gets, each seeing a put's value in the reverse
// order of their calls. Porcupine's search visits states by the million
// before it finds the one order that explains every answer. The first two
// puts write one value (as a client that retries a put under a new
// operation would): with values of their own the key would be decided
// without a search (decideUniqueWrites).
func crowdedKey(n int) []workload.Operation {
	var ops []workload.Operation
	for i := range n {
		ops = append(ops, put(i, sim.Time(i), sim.Time(1000+i), "k", "v"+strconv.Itoa(max(i, 1))))
	}
	for i := range n {
		ops = append(ops, get(n+i, sim.Time(100+i), sim.Time(2000+i), "k", "v"+strconv.Itoa(max(n-1-i, 1))))
	}
	return ops
}

// TestSearchThatOutgrowsItsMemoryIsUnknown: a search that outgrows the
// memory it may hold stops there, at the same point on every run: the
// verdict is Unknown, marked Outgrown (no timeout would change it), never
// Pass. A part beside it in the same search that has no linearization still
// fails the key: only the parts that outgrew their share are left unknown.
func TestSearchThatOutgrowsItsMemoryIsUnknown(t *testing.T) {
	crowded := workload.NewHistory(crowdedKey(24)...)
	res := checkLinearizableWithin(crowded, time.Minute, 64<<10)
	assert.Equal(t, Unknown, res.Verdict, res.Detail)
	assert.True(t, res.Outgrown)
	assert.Equal(t, "Porcupine gave up on key k (48 operations) when its search outgrew the 64 KiB it may hold: "+
		"too many operations in flight at once on one key (48 operations on 1 key)", res.Detail)
	again := checkLinearizableWithin(crowded, time.Minute, 64<<10)
	assert.Equal(t, res.Detail, again.Detail)

	// After a quiet point where the key is known to hold x, a get sees a
	// value nobody wrote while a put is in flight.
	bad := append(crowdedKey(24), put(0, 3000, 3010, "k", "x"), put(1, 4000, 4100, "k", "y"), get(2, 4010, 4090, "k", "never"))
	res = checkLinearizableWithin(workload.NewHistory(bad...), time.Minute, 64<<10)
	assert.Equal(t, Fail, res.Verdict, res.Detail)
	assert.False(t, res.Outgrown)
	assert.Equal(t, []string{"k"}, res.FailedKeys)
	var page bytes.Buffer // drawn under the same memory bound, the crowded part as far as it got
	require.NoError(t, res.WriteVisualization(&page))
	assert.Contains(t, page.String(), "never")

	// A key checked after the one whose search outgrew its memory still
	// fails the check: that search spent none of the time budget.
	later := crowdedKey(24)
	for i := range 60 {
		later = append(later, put(0, sim.Time(5000+10*i), sim.Time(5005+10*i), "z", "z"+strconv.Itoa(i)))
	}
	later = append(later, get(1, 6000, 6010, "z", "never"))
	res = checkLinearizableWithin(workload.NewHistory(later...), time.Minute, 64<<10)
	assert.Equal(t, Fail, res.Verdict, res.Detail)
	assert.Equal(t, []string{"z"}, res.FailedKeys)

	small := workload.NewHistory(crowdedKey(3)...)
	res = checkLinearizableWithin(small, time.Minute, 64<<10)
	assert.Equal(t, Pass, res.Verdict, "a search within its memory decides: %s", res.Detail)
}

// TestUnknownWritesObservedOnTheirOwnKey: an append with unknown outcome
// that only a compare-and-set's expected list shows is observed (it was
// dropped as unobserved, and a linearizable history failed); a value a get
// of another key returned bounds nothing on the key it was written to (that
// key was failed with the one that answered wrong).
func TestUnknownWritesObservedOnTheirOwnKey(t *testing.T) {
	expected := workload.NewHistory(put(0, 0, 1, "k", "c0.1"), unknown(appendOp(1, 2, 3, "k", "c1.1")),
		cas(2, 3, 4, "k", "c0.1,c1.1", "c2.1", true))
	res := CheckLinearizable(expected, time.Minute)
	assert.Equal(t, Pass, res.Verdict, res.Detail)
	assert.Zero(t, res.Unobserved)

	elsewhere := workload.NewHistory(unknown(put(0, 0, 1, "k1", "c0.1")), get(1, 1, 2, "k2", "c0.1"), get(2, 5, 10, "k1", ""))
	res = CheckLinearizable(elsewhere, time.Minute)
	assert.Equal(t, Fail, res.Verdict, res.Detail)
	assert.Equal(t, []string{"k2"}, res.FailedKeys)
}

// TestRegisterDecidedWithoutASearch: a key whose writes have values of
// their own is decided without Porcupine (decideUniqueWrites): the crowded
// history whose search outgrows 64 KiB, with values of their own, passes
// within it, read by gets or by failed compare-and-sets, and fails once one
// get sees a value its put overwrote before the get was called; so do
// appends all in flight, read as lists in an order unlike their calls', and
// fail once a list leaves out an append that returned before the read was
// called.
func TestRegisterDecidedWithoutASearch(t *testing.T) {
	register := func(n int) []workload.Operation {
		var ops []workload.Operation
		for i := range n {
			ops = append(ops, put(i, sim.Time(i), sim.Time(1000+i), "k", "v"+strconv.Itoa(i)))
		}
		for i := range n {
			ops = append(ops, get(n+i, sim.Time(100+i), sim.Time(2000+i), "k", "v"+strconv.Itoa(n-1-i)))
		}
		return ops
	}
	res := checkLinearizableWithin(workload.NewHistory(register(24)...), time.Minute, 64<<10)
	assert.Equal(t, Pass, res.Verdict, res.Detail)
	swaps := register(24)
	for i, op := range swaps[24:] {
		swaps[24+i] = casFail(op.Client, op.Call, op.Return, "k", "none", "w"+strconv.Itoa(i), op.Output)
	}
	res = checkLinearizableWithin(workload.NewHistory(swaps...), time.Minute, 64<<10)
	assert.Equal(t, Pass, res.Verdict, res.Detail)

	stale := append(register(24), put(0, 3000, 3010, "k", "x"), get(1, 3020, 3030, "k", "v3"), put(2, 3025, 3040, "k", "y"))
	res = checkLinearizableWithin(workload.NewHistory(stale...), time.Minute, 64<<10)
	assert.Equal(t, Fail, res.Verdict, res.Detail)

	lists := func(n int, skip int) []workload.Operation {
		var ops []workload.Operation
		for i := range n {
			ops = append(ops, appendOp(i, sim.Time(i), sim.Time(1000+i), "k", "v"+strconv.Itoa(i)))
		}
		var list []string
		for i := range n {
			if v := n - 1 - i; v != skip {
				list = append(list, "v"+strconv.Itoa(v))
			}
			ops = append(ops, get(n+i, sim.Time(100+i), sim.Time(2000+i), "k", strings.Join(list, ",")))
		}
		return append(ops, get(2*n, 3000, 3010, "k", strings.Join(list, ",")))
	}
	res = checkLinearizableWithin(workload.NewHistory(lists(24, -1)...), time.Minute, 64<<10)
	assert.Equal(t, Pass, res.Verdict, res.Detail)
	res = checkLinearizableWithin(workload.NewHistory(lists(24, 5)...), time.Minute, 64<<10)
	assert.Equal(t, Fail, res.Verdict, res.Detail)
}

// TestSettleDecidesWithoutTheOutgrownParts: each part outgrows its memory
// or has a linearization on its own, but Porcupine stops at the first part
// whose search ends without one and reports only the parts that outgrew by
// then. Whichever part it finishes first, the verdict is the same: Illegal
// if a part within its memory has no linearization, else Unknown if a part
// outgrew; each search after the first gets half the time of the one
// before.
func TestSettleDecidesWithoutTheOutgrownParts(t *testing.T) {
	const outgrows = porcupine.CheckResult("outgrows")
	parts := map[string][]porcupine.CheckResult{
		"crowded and bad":  {outgrows, porcupine.Illegal},
		"crowded and good": {outgrows, porcupine.Ok},
		"crowded":          {outgrows},
		"two crowded, bad": {outgrows, porcupine.Illegal, outgrows},
		"good and bad":     {porcupine.Ok, porcupine.Illegal},
		"good":             {porcupine.Ok},
	}
	want := map[string]porcupine.CheckResult{"crowded and bad": porcupine.Illegal, "crowded and good": porcupine.Unknown,
		"crowded": porcupine.Unknown, "two crowded, bad": porcupine.Illegal, "good and bad": porcupine.Illegal, "good": porcupine.Ok}
	for name, results := range parts {
		// Every order in which Porcupine may finish the failing parts: it
		// stops at the first, and has seen only the outgrown ones before it.
		for first := range results {
			var budgets []time.Duration
			search := func(which []int, budget time.Duration) (porcupine.CheckResult, []bool) {
				budgets = append(budgets, budget)
				grew := make([]bool, len(which))
				order := append(slices.Clone(which[first%len(which):]), which[:first%len(which)]...)
				for _, part := range order {
					switch results[part] {
					case outgrows:
						grew[slices.Index(which, part)] = true
						return porcupine.Illegal, grew
					case porcupine.Illegal:
						return porcupine.Illegal, grew
					}
				}
				return porcupine.Ok, grew
			}
			res, outgrown := settle(len(results), 8*time.Second, search)
			assert.Equal(t, want[name], res, "%s, %d first", name, first)
			assert.Equal(t, want[name] == porcupine.Unknown, outgrown, "%s, %d first", name, first)
			for _, b := range budgets {
				assert.Equal(t, 8*time.Second, b, "%s: each search gets the whole budget on the timer (its steps bound it)", name)
			}
		}
	}
}

// TestKeyAtATimeMatchesPorcupine: checking keys one at a time gives the
// verdict, and names the failing keys, as Porcupine given the whole history
// at once and each key apart, on random concurrent histories with stale
// reads, lost writes and unknown outcomes.
func TestKeyAtATimeMatchesPorcupine(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var ops []workload.Operation
		keys := []string{"k0", "k1", "k2"}
		values := []string{"", "a", "b", "c"}
		for i := range rapid.IntRange(0, 24).Draw(t, "ops") {
			call := sim.Time(rapid.IntRange(0, 100).Draw(t, "call"))
			ret := call + sim.Time(rapid.IntRange(1, 30).Draw(t, "length"))
			key := rapid.SampledFrom(keys).Draw(t, "key")
			var op workload.Operation
			switch rapid.IntRange(0, 3).Draw(t, "kind") {
			case 0:
				op = put(i%4, call, ret, key, "v"+strconv.Itoa(i))
			case 1:
				op = appendOp(i%4, call, ret, key, "v"+strconv.Itoa(i))
			case 2:
				op = get(i%4, call, ret, key, rapid.SampledFrom(values).Draw(t, "read"))
			default:
				op = cas(i%4, call, ret, key, rapid.SampledFrom(values).Draw(t, "expect"), "v"+strconv.Itoa(i), rapid.Bool().Draw(t, "casOK"))
			}
			if rapid.IntRange(0, 5).Draw(t, "unknown") == 0 {
				op = unknown(op)
			}
			ops = append(ops, op)
		}
		slices.SortStableFunc(ops, func(a, b workload.Operation) int { return cmp.Compare(a.Call, b.Call) })
		res := CheckLinearizable(workload.NewHistory(ops...), 0)

		all := make([]int, len(res.keyed.keys))
		for j := range all {
			all[j] = j
		}
		want, wantFailed := Pass, []string(nil)
		if !porcupine.CheckOperations(kvModel, res.keyed.operations(all...)) {
			want = Fail
			for j, key := range res.keyed.keys {
				if !porcupine.CheckOperations(oneKeyModel(), res.keyed.operations(j)) {
					wantFailed = append(wantFailed, key)
				}
			}
			slices.Sort(wantFailed)
		}
		require.Equal(t, want, res.Verdict, res.Detail)
		require.Equal(t, wantFailed, res.FailedKeys)
	})
}

// TestObservedUnknownWritesChangeNoVerdict: a write with unknown outcome
// whose value an operation observed is given that operation's return
// (observedBy), and a part whose writes have values of their own is
// decided without a search (decideUniqueWrites); the verdict is Porcupine's on the history as it
// is, every unknown outcome returning at infinity, on random histories of
// one key whose reads and compare-and-sets see values that were written,
// some of them by writes with unknown outcome.
func TestObservedUnknownWritesChangeNoVerdict(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var ops []workload.Operation
		written := []string{""}
		register := rapid.Bool().Draw(t, "register") // gets and puts only
		for i := range rapid.IntRange(1, 14).Draw(t, "ops") {
			call := sim.Time(rapid.IntRange(0, 60).Draw(t, "call"))
			ret := call + sim.Time(rapid.IntRange(1, 20).Draw(t, "length"))
			value := "v" + strconv.Itoa(i)
			var op workload.Operation
			kind := rapid.IntRange(0, 3).Draw(t, "kind")
			if register {
				kind = []int{0, 2}[kind%2]
			}
			switch kind {
			case 0:
				op = put(i, call, ret, "k", value)
			case 1:
				op = appendOp(i, call, ret, "k", value)
			case 2:
				op = get(i, call, ret, "k", rapid.SampledFrom(written).Draw(t, "read"))
			default:
				op = cas(i, call, ret, "k", rapid.SampledFrom(written).Draw(t, "expect"), value, rapid.Bool().Draw(t, "casOK"))
				if !op.CASOK {
					op.Output = rapid.SampledFrom(written).Draw(t, "current")
					op.Found = op.Output != ""
				}
			}
			if op.Kind != workload.OpGet {
				written = append(written, value)
			}
			if rapid.IntRange(0, 3).Draw(t, "unknown") == 0 {
				op = unknown(op)
			}
			ops = append(ops, op)
		}
		slices.SortStableFunc(ops, func(a, b workload.Operation) int { return cmp.Compare(a.Call, b.Call) })
		h := workload.NewHistory(ops...)
		res := CheckLinearizable(h, 0)
		require.Equal(t, porcupineVerdict(h), res.Verdict, res.Detail)
	})
}

// TestServedHistoriesMatchPorcupine: on histories a service could have
// served (each operation takes effect at a random point of its interval, in
// that order, on a real key-value store; an unknown outcome took effect or
// not), with an answer or two then changed, the verdict is Porcupine's on
// the history as it is. Reads and compare-and-sets see real states,
// appended lists included, so every way an answer can observe a write with
// unknown outcome is exercised.
func TestServedHistoriesMatchPorcupine(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		type planned struct {
			op workload.Operation
			at int
		}
		var plan []planned
		for i := range rapid.IntRange(1, 14).Draw(t, "ops") {
			call := rapid.IntRange(0, 40).Draw(t, "call")
			ret := call + rapid.IntRange(1, 15).Draw(t, "length")
			op := workload.Operation{Client: i, Call: sim.Time(call), Return: sim.Time(ret), Status: workload.StatusOK,
				Key: rapid.SampledFrom([]string{"k", "k", "j"}).Draw(t, "key"), Value: "c" + strconv.Itoa(i) + ".1",
				Kind: rapid.SampledFrom([]workload.OpKind{workload.OpGet, workload.OpPut, workload.OpAppend, workload.OpCAS}).Draw(t, "kind")}
			plan = append(plan, planned{op, 2*call + 1 + rapid.IntRange(0, 2*(ret-call)-2).Draw(t, "at")})
		}
		// Serve them in the order they take effect.
		order := make([]int, len(plan))
		for i := range order {
			order[i] = i
		}
		slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(plan[a].at, plan[b].at) })
		states := map[string]keyState{}
		var seen []string // states a cas may expect
		for _, i := range order {
			op := &plan[i].op
			if op.Kind == workload.OpCAS {
				op.Expect = rapid.SampledFrom(append([]string{"none"}, seen...)).Draw(t, "expect")
			}
			unknownOutcome := op.Kind != workload.OpGet && rapid.IntRange(0, 3).Draw(t, "unknown") == 0
			if unknownOutcome && rapid.Bool().Draw(t, "never took effect") {
				*op = unknown(*op)
				continue
			}
			next, out := stepKey(states[op.Key], kvInput{kind: op.Kind, key: op.Key, value: op.Value, expect: op.Expect})
			states[op.Key] = next
			if next.found {
				seen = append(seen, next.value)
			}
			op.Output, op.Found, op.CASOK = out.value, out.found, out.casOK
			if unknownOutcome {
				*op = unknown(*op)
			}
		}
		for range rapid.IntRange(0, 2).Draw(t, "wrong answers") {
			op := &plan[rapid.IntRange(0, len(plan)-1).Draw(t, "wrong")].op
			if op.Status == workload.StatusOK && (op.Kind == workload.OpGet || op.Kind == workload.OpCAS && !op.CASOK) {
				op.Output = rapid.SampledFrom(append([]string{""}, seen...)).Draw(t, "answer")
				op.Found = op.Output != ""
			}
		}
		ops := make([]workload.Operation, len(plan))
		for i, p := range plan {
			ops[i] = p.op
		}
		slices.SortStableFunc(ops, func(a, b workload.Operation) int { return cmp.Compare(a.Call, b.Call) })
		h := workload.NewHistory(ops...)
		res := CheckLinearizable(h, 0)
		require.Equal(t, porcupineVerdict(h), res.Verdict, res.Detail)
	})
}

// porcupineVerdict is Porcupine's verdict on h as it is: every operation
// given to it, in the history's order of events (an unknown outcome
// returning at infinity).
func porcupineVerdict(h *workload.History) Verdict {
	raw := make([]porcupine.Operation, h.Len())
	rt := h.RealTime()
	for i := range raw {
		op := h.At(i)
		raw[i] = porcupine.Operation{ClientId: i, Input: kvInput{kind: op.Kind, key: op.Key, value: op.Value, expect: op.Expect},
			Call: rt.Call(i), Output: toOutput(&op), Return: rt.Return(i)}
	}
	if porcupine.CheckOperations(kvModel, raw) {
		return Pass
	}
	return Fail
}

// oneKeyModel is kvModel for the operations of one key: Porcupine checks
// them whole, without splitting them by key.
func oneKeyModel() porcupine.Model {
	m := kvModel
	m.Partition = nil
	return m
}

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
		if len(res.keyed.keys) > 0 && !porcupine.CheckOperations(oneKeyModel(), res.keyed.operations(0)) {
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

// A get answered with something that is no valid result fails the check,
// as a put so answered does: an invalid answer is an answer the service
// gave, not an outcome left unknown, and it is never dropped.
func TestLinearizableInvalidGetAnswerFails(t *testing.T) {
	badGet := workload.Operation{Client: 1, Call: 20, Return: 30, Kind: workload.OpGet, Key: "k0",
		Status: workload.StatusFailed, Output: "err malformed op"}
	res := CheckLinearizable(workload.NewHistory(put(0, 0, 10, "k0", "a"), badGet), 0)
	require.Equal(t, Fail, res.Verdict, res.Detail)
	require.Equal(t, []string{"k0"}, res.FailedKeys)

	// An empty answer is no result either: not "not found", not a put's
	// acknowledgement.
	badGet.Output = ""
	res = CheckLinearizable(workload.NewHistory(badGet), 0)
	require.Equal(t, Fail, res.Verdict, res.Detail)
	emptyPut := put(0, 0, 10, "k0", "a")
	emptyPut.Status, emptyPut.Output = workload.StatusFailed, ""
	require.Equal(t, Fail, CheckLinearizable(workload.NewHistory(emptyPut), 0).Verdict)
	require.Equal(t, Fail, sequential{}.Check(workload.NewHistory(emptyPut), 0).Verdict)
}

// TestUniqueWritesDecided: decideUniqueWrites's own verdicts on parts of one
// key whose operations all overlap, so that only the states read order
// them: a list read names the state each append extended, a cas the state
// it followed, and two reads that disagree on it, a state extended twice,
// a chain read against real time, compare-and-sets in a cycle, an absent
// key read after a write or an answer that is no result are not
// linearizable; a value written twice leaves the part to Porcupine.
func TestUniqueWritesDecided(t *testing.T) {
	x := keyState{value: "x", found: true}
	for _, c := range []struct {
		name           string
		start          keyState
		ops            []workload.Operation
		legal, decided bool
	}{
		{"a chain and an append nobody read", x, []workload.Operation{put(0, 0, 90, "k", "p"), appendOp(1, 0, 90, "k", "a"),
			appendOp(2, 0, 90, "k", "u"), get(3, 0, 90, "k", "p,a"), get(4, 0, 90, "k", "x")}, true, true},
		{"appends from an absent start", keyState{}, []workload.Operation{appendOp(0, 0, 90, "k", "a"), appendOp(1, 0, 90, "k", "b"),
			get(2, 0, 90, "k", "a,b"), get(3, 0, 90, "k", "")}, true, true},
		{"two states before one append", x, []workload.Operation{put(0, 0, 90, "k", "p"), put(1, 0, 90, "k", "q"),
			appendOp(2, 0, 90, "k", "a"), get(3, 0, 90, "k", "p,a"), get(4, 0, 90, "k", "q,a")}, false, true},
		{"one state extended twice", x, []workload.Operation{appendOp(0, 0, 90, "k", "a"), appendOp(1, 0, 90, "k", "b"),
			get(2, 0, 90, "k", "x,a"), get(3, 0, 90, "k", "x,b")}, false, true},
		{"a list read before its prefix", x, []workload.Operation{put(0, 0, 90, "k", "p"), appendOp(1, 0, 90, "k", "a"),
			get(2, 0, 10, "k", "p,a"), get(3, 20, 30, "k", "p")}, false, true},
		{"an append to a key that was never absent", x, []workload.Operation{appendOp(0, 0, 90, "k", "a"),
			get(1, 0, 90, "k", "a")}, false, true},
		{"absent, though the start was not", x, []workload.Operation{put(0, 0, 90, "k", "p"), get(1, 0, 90, "k", "")}, false, true},
		{"absent after a put", keyState{}, []workload.Operation{put(0, 0, 10, "k", "p"), get(1, 20, 30, "k", "")}, false, true},
		{"a cas after the state it expected", x, []workload.Operation{cas(0, 0, 90, "k", "x", "p", true), appendOp(1, 0, 90, "k", "a"),
			casFail(2, 0, 90, "k", "x", "q", "p,a"), get(3, 0, 90, "k", "x")}, true, true},
		{"a failed cas that read what it expected", x, []workload.Operation{casFail(0, 0, 90, "k", "x", "p", "x")}, false, true},
		{"two compare-and-sets after one state", x, []workload.Operation{cas(0, 0, 90, "k", "x", "p", true),
			cas(1, 0, 90, "k", "x", "q", true)}, false, true},
		{"compare-and-sets that expect each other", x, []workload.Operation{cas(0, 0, 90, "k", "p", "q", true),
			cas(1, 0, 90, "k", "q", "p", true)}, false, true},
		{"the start's value written again", x, []workload.Operation{put(0, 0, 90, "k", "x"), get(1, 0, 90, "k", "x")}, false, false},
		{"a failed operation", x, []workload.Operation{put(0, 0, 90, "k", "p"), {Client: 1, Call: 0, Return: 90, Kind: workload.OpGet,
			Key: "k", Status: workload.StatusFailed, Output: "not leader"}}, false, true},
		{"a failed operation without a word", x, []workload.Operation{put(0, 0, 90, "k", "p"), {Client: 1, Call: 0, Return: 90,
			Kind: workload.OpGet, Key: "k", Status: workload.StatusFailed}}, false, true},
	} {
		k := groupByKey(workload.NewHistory(c.ops...))
		legal, decided := k.decideUniqueWrites(0, part{from: 0, to: len(c.ops), start: c.start})
		assert.Equal(t, c.decided, decided, c.name)
		assert.Equal(t, c.legal, legal, c.name)
	}
}

// TestSearchBudgetIsCountedInSteps: the time budget is counted in the
// search's own steps (searchSteps), so a search stops at the same point on
// every run and machine: the verdict is Unknown, not marked Outgrown (a
// larger budget may reach a verdict), and the same each time; ten times the
// budget, ten times the steps, and the verdict is reached. A search bounded
// by Porcupine's wall-clock timer gave Unknown or Pass by the machine's
// speed and load.
func TestSearchBudgetIsCountedInSteps(t *testing.T) {
	crowded := workload.NewHistory(crowdedKey(10)...)
	res := CheckLinearizable(crowded, time.Second)
	assert.Equal(t, Unknown, res.Verdict, res.Detail)
	assert.False(t, res.Outgrown, "a larger budget may decide it")
	assert.Equal(t, "Porcupine gave up on key k (20 operations) when its search took the 500000 steps its share of the 1s "+
		"budget, 1s, allows: too many operations in flight at once on one key (20 operations on 1 key)", res.Detail)
	assert.Equal(t, res.Detail, CheckLinearizable(crowded, time.Second).Detail)
	assert.Equal(t, Pass, CheckLinearizable(crowded, 10*time.Second).Verdict)
}

// TestAKeyOutOfStepsIsNotHiddenByOneOutOfMemory: of the keys whose search
// stopped on a bound, the first that ran out of steps is the one named (a
// larger budget may decide it, and the verdict then says so), not an
// earlier one that outgrew its memory, which no budget changes; failing
// that, the first.
func TestAKeyOutOfStepsIsNotHiddenByOneOutOfMemory(t *testing.T) {
	k := &keyedHistory{keys: []string{"a", "b", "c"}, ops: make([][]keptOp, 3)}
	var out keysOutcome
	out.gaveUpOn(k, 0) // a: memory
	assert.Equal(t, keysOutcome{gaveUp: true, gaveUpKey: "a", outgrown: true}, out)
	k.overworked = time.Second
	out.gaveUpOn(k, 1) // b: steps
	assert.Equal(t, keysOutcome{gaveUp: true, gaveUpKey: "b", outgrown: true, overworked: time.Second}, out)
	k.overworked = 0
	out.gaveUpOn(k, 2) // c: memory, after b
	assert.Equal(t, "b", out.gaveUpKey)
	k.overworked = 2 * time.Second
	out.gaveUpOn(k, 2) // a second key out of steps
	assert.Equal(t, keysOutcome{gaveUp: true, gaveUpKey: "b", outgrown: true, overworked: time.Second}, out)
}
