package checkers

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/workload"
)

// BenchmarkSequentialGivingUp times the worst case of the sequential check:
// one key's history (398 operations by 60 clients, from a Raft run whose
// leader served reads without committing an entry of its term) that is not
// linearizable, so neither search finds an order before the work limit.
func BenchmarkSequentialGivingUp(b *testing.B) {
	h := staleReads(b)
	for b.Loop() {
		res := sequential{}.Check(h, 0)
		require.NotEqual(b, Pass, res.Verdict)
	}
}

// TestSequentialGivingUpIsUnknown: a key whose search runs past its work
// limit is Unknown, never Pass, and the detail says so: the worst-case
// history of the benchmark, with a limit a test can afford.
func TestSequentialGivingUpIsUnknown(t *testing.T) {
	res := sequential{limit: 10_000}.Check(staleReads(t), 0)
	require.Equal(t, Unknown, res.Verdict, res.Detail)
	require.Contains(t, res.Detail, "the search gave up on keys")
	require.Contains(t, res.Detail, "(work limit 10000 states per key)")
}

// staleReads is the benchmark's history: one key, 398 operations by 60
// clients, not linearizable.
func staleReads(t testing.TB) *workload.History {
	f, err := os.Open("testdata/sequential-stale-reads.jsonl")
	require.NoError(t, err)
	defer f.Close()
	h, err := workload.ReadJSON(f)
	require.NoError(t, err)
	return h
}
