package checkers

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/checkers/names"
	"github.com/simrun/simrun/workload"
)

// kvModels are the kv checks, strongest first.
var kvModels = []string{names.Linearizable, names.Sequential, names.ReadYourWrites, names.MonotonicReads,
	names.MonotonicWrites, names.WritesFollowReads}

// verdicts runs the kv checks on ops and returns their verdicts in the
// order of kvModels.
func verdicts(t *testing.T, ops ...workload.Operation) [6]Verdict {
	t.Helper()
	h := workload.NewHistory(ops...)
	var out [6]Verdict
	for i, name := range kvModels {
		hc, ok := NewHistoryCheck(name)
		require.True(t, ok, name)
		require.Equal(t, name, hc.Name())
		res := hc.Check(h, 5*time.Second)
		out[i] = res.Verdict
		if res.Verdict == Fail && name != names.Linearizable {
			require.Len(t, res.Artifacts, map[bool]int{true: 0, false: 1}[name == names.Sequential], name)
		}
	}
	return out
}

// TestConsistencyModels: hand-made histories that each model tells apart
// (verdicts: linearizable, sequential, read-your-writes, monotonic-reads,
// monotonic-writes, writes-follow-reads).
func TestConsistencyModels(t *testing.T) {
	P, F := Pass, Fail
	for _, tc := range []struct {
		name string
		ops  []workload.Operation
		want [6]Verdict
	}{
		{"linearizable", []workload.Operation{
			put(0, 0, 1, "k", "c0.1"), get(1, 2, 3, "k", "c0.1"), put(1, 4, 5, "k", "c1.2"), get(0, 6, 7, "k", "c1.2"),
		}, [6]Verdict{P, P, P, P, P, P}},
		{"a stale read of another client's write: sequential only", []workload.Operation{
			put(1, 0, 1, "k", "c1.1"), put(1, 2, 3, "k", "c1.2"), get(0, 4, 5, "k", "c1.1"),
		}, [6]Verdict{F, P, P, P, P, P}},
		{"reading absent before another client's write: sequential", []workload.Operation{
			put(1, 0, 1, "k", "c1.1"), get(0, 4, 5, "k", ""),
		}, [6]Verdict{F, P, P, P, P, P}},
		{"a read older than the client's own write in real time: sequential may order the writes the other way", []workload.Operation{
			put(1, 0, 1, "k", "c1.1"), put(0, 2, 3, "k", "c0.1"), get(0, 4, 5, "k", "c1.1"),
		}, [6]Verdict{F, P, F, P, P, P}},
		{"a read older than the client's own write by the appends", []workload.Operation{
			appendOp(1, 0, 10, "k", "c1.1"), appendOp(0, 0, 10, "k", "c0.1"), get(2, 11, 12, "k", "c1.1,c0.1"),
			get(0, 13, 14, "k", "c1.1"),
		}, [6]Verdict{F, F, F, P, P, P}},
		{"absent after the client's own write", []workload.Operation{
			put(0, 0, 1, "k", "c0.1"), get(0, 2, 3, "k", ""),
		}, [6]Verdict{F, F, F, P, P, P}},
		{"reads going back", []workload.Operation{
			put(1, 0, 1, "k", "c1.1"), put(1, 2, 3, "k", "c1.2"), get(0, 4, 5, "k", "c1.2"), get(0, 6, 7, "k", "c1.1"),
		}, [6]Verdict{F, F, P, F, P, P}},
		{"reads going back, ordered by appends alone (concurrent writes)", []workload.Operation{
			appendOp(1, 0, 10, "k", "c1.1"), appendOp(2, 0, 10, "k", "c2.1"),
			get(0, 11, 12, "k", "c1.1,c2.1"), get(0, 13, 14, "k", "c1.1"),
		}, [6]Verdict{F, F, P, F, P, P}},
		{"concurrent puts read in either order by two clients: not sequential, but no session sees it", []workload.Operation{
			put(1, 0, 10, "k", "c1.1"), put(2, 0, 10, "k", "c2.1"),
			get(0, 11, 12, "k", "c1.1"), get(0, 13, 14, "k", "c2.1"),
			get(3, 11, 12, "k", "c2.1"), get(3, 13, 14, "k", "c1.1"),
		}, [6]Verdict{F, F, P, P, P, P}},
		{"a cas orders the writes", []workload.Operation{
			put(1, 0, 10, "k", "c1.1"), cas(2, 0, 10, "k", "c1.1", "c2.1", true),
			get(0, 11, 12, "k", "c2.1"), get(0, 13, 14, "k", "c1.1"),
		}, [6]Verdict{F, F, P, F, P, P}},
		{"an unknown write may take effect late", []workload.Operation{
			put(0, 0, 1, "k", "c0.1"), unknown(put(1, 2, 3, "k", "c1.1")), get(0, 4, 5, "k", "c0.1"), get(0, 6, 7, "k", "c1.1"),
		}, [6]Verdict{P, P, P, P, P, P}},
		{"a client's appends applied the other way round", []workload.Operation{
			appendOp(0, 0, 1, "k", "c0.1"), appendOp(0, 2, 3, "k", "c0.2"), get(1, 4, 5, "k", "c0.2,c0.1"),
		}, [6]Verdict{F, F, P, P, F, P}},
		{"a write ordered before the write its client had read", []workload.Operation{
			appendOp(1, 0, 1, "k", "c1.1"), get(0, 2, 3, "k", "c1.1"), appendOp(0, 4, 5, "k", "c0.1"),
			get(2, 6, 7, "k", "c0.1,c1.1"),
		}, [6]Verdict{F, F, P, P, P, F}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, verdicts(t, tc.ops...))
		})
	}
}

// TestSequentialIsBounded: past the work limit the verdict is Unknown,
// never Pass.
func TestSequentialIsBounded(t *testing.T) {
	h := workload.NewHistory(put(0, 0, 1, "k", "c0.1"), get(1, 2, 3, "k", "c0.1"))
	res := sequential{}.Check(h, time.Nanosecond)
	assert.Equal(t, Pass, res.Verdict, "the wall-clock budget is not used: the search is bounded by work")
	assert.True(t, names.Applies(names.Sequential, names.ModelKV))
	assert.False(t, names.Applies(names.ReadYourWrites, names.ModelListAppend))
	assert.NotContains(t, names.Default(names.ModelKV), names.MonotonicReads, "optional: defaults unchanged")
}

// A failed cas is a read, never the client's own write: read-your-writes
// judges the value it saw against the client's writes before it, and a
// later read need not see the value the cas failed to write.
func TestReadYourWritesFailedCASIsARead(t *testing.T) {
	ryw, ok := NewHistoryCheck(names.ReadYourWrites)
	require.True(t, ok)
	stale := workload.NewHistory(put(0, 0, 10, "k", "c0.1"), put(0, 20, 30, "k", "c0.2"),
		casFail(0, 40, 50, "k", "c9.9", "c0.3", "c0.1"))
	res := ryw.Check(stale, time.Second)
	require.Equal(t, Fail, res.Verdict, "the failed cas read c0.1 after the client wrote c0.2: %s", res.Detail)
	fine := workload.NewHistory(put(0, 0, 10, "k", "c0.1"),
		casFail(0, 20, 30, "k", "c9.9", "c0.2", "c0.1"), get(0, 40, 50, "k", "c0.1"))
	res = ryw.Check(fine, time.Second)
	require.Equal(t, Pass, res.Verdict, res.Detail)
}

// TestSessionChecksJudgeAReadOfAKeyNothingWrote: a value read from a key no
// operation wrote (a garbled or misrouted answer) is not the session
// checks' to judge, and must not crash them.
func TestSessionChecksJudgeAReadOfAKeyNothingWrote(t *testing.T) {
	h := workload.NewHistory(put(0, 0, 1, "k", "c0.1"), get(0, 2, 3, "j", "c9.9"))
	for _, name := range []string{names.ReadYourWrites, names.MonotonicReads, names.MonotonicWrites, names.WritesFollowReads} {
		hc, ok := NewHistoryCheck(name)
		require.True(t, ok, name)
		require.NotPanics(t, func() { hc.Check(h, 0) }, name)
	}
}

// TestSessionChecksTakeAShownUnknownCASForASuccess: a cas with unknown
// outcome whose value a read shows took effect (values are unique per
// operation), so the state it expected came right before it, as for a cas
// answered OK. A client that read the cas's value and then the value it
// replaced went back in the key's order.
func TestSessionChecksTakeAShownUnknownCASForASuccess(t *testing.T) {
	mr, ok := NewHistoryCheck(names.MonotonicReads)
	require.True(t, ok)
	back := workload.NewHistory(put(0, 0, 10, "k", "c0.1"), unknown(cas(1, 5, 15, "k", "c0.1", "c1.1", true)),
		get(2, 20, 30, "k", "c1.1"), get(2, 40, 50, "k", "c0.1"))
	res := mr.Check(back, time.Second)
	require.Equal(t, Fail, res.Verdict, res.Detail)
	forward := workload.NewHistory(put(0, 0, 10, "k", "c0.1"), unknown(cas(1, 5, 15, "k", "c0.1", "c1.1", true)),
		get(2, 20, 30, "k", "c0.1"), get(2, 40, 50, "k", "c1.1"))
	res = mr.Check(forward, time.Second)
	require.Equal(t, Pass, res.Verdict, res.Detail)
}

// TestMonotonicReadsFailsAStateReadAgainAfterAnother: a client that reads
// V, then X, then V again went back at one of the two steps, whichever
// write came first, though nothing in the history orders V and X (two
// concurrent puts).
func TestMonotonicReadsFailsAStateReadAgainAfterAnother(t *testing.T) {
	mr, ok := NewHistoryCheck(names.MonotonicReads)
	require.True(t, ok)
	h := workload.NewHistory(put(0, 0, 10, "k", "c0.1"), put(1, 0, 10, "k", "c1.1"),
		get(2, 20, 30, "k", "c0.1"), get(2, 40, 50, "k", "c1.1"), get(2, 60, 70, "k", "c0.1"))
	res := mr.Check(h, time.Second)
	require.Equal(t, Fail, res.Verdict, res.Detail)
	require.Contains(t, res.Detail, "again")
	steady := workload.NewHistory(put(0, 0, 10, "k", "c0.1"), put(1, 0, 10, "k", "c1.1"),
		get(2, 20, 30, "k", "c0.1"), get(2, 40, 50, "k", "c0.1"), get(2, 60, 70, "k", "c1.1"))
	res = mr.Check(steady, time.Second)
	require.Equal(t, Pass, res.Verdict, res.Detail)
}
