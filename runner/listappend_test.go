package runner_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/checkers"
	"github.com/simrun/simrun/runner"
	"github.com/simrun/simrun/workload"
)

// TestListAppendRun: a list-append scenario runs transactions through Raft
// and the runner judges them with the Elle-style checks, by name, through
// the generic history-check path.
func TestListAppendRun(t *testing.T) {
	sc, proto := load(t, "raft-list-append.yaml", 6*time.Second)
	rep := runSeed(t, sc, proto, 4)
	require.Equal(t, runner.Pass, rep.Class, rep.Reason)
	byName := map[string]runner.CheckResult{}
	for _, c := range rep.Checks {
		byName[c.Name] = c
	}
	for _, name := range []string{checkers.NameSerializable, checkers.NameStrictSerializable} {
		require.Contains(t, byName, name)
		assert.Equal(t, "pass", byName[name].Verdict)
		assert.Contains(t, byName[name].Detail, "transactions")
	}
	assert.NotContains(t, byName, checkers.NameLinearizable, "linearizability judges kv histories only")
	txns := 0
	for _, op := range rep.History.Operations() {
		require.Equal(t, workload.OpTxn, op.Kind)
		if op.Status == workload.StatusOK {
			txns++
			assert.NotEmpty(t, op.Txn)
		}
	}
	assert.Equal(t, rep.Ops.OK, txns)
	assert.Positive(t, txns)
	assert.Empty(t, rep.Artifacts, "a pass offers no artifact")
}

// TestListAppendKeysRotate: a key takes at most max_writes_per_key appends,
// then a fresh key replaces it, so no read returns a longer list; the run
// still passes both transaction checks.
func TestListAppendKeysRotate(t *testing.T) {
	sc, proto := load(t, "raft-list-append.yaml", 6*time.Second)
	const maxWrites = 5
	sc.Workload.MaxWritesPerKey = maxWrites
	rep := runSeed(t, sc, proto, 4)
	require.Equal(t, runner.Pass, rep.Class, rep.Reason)
	appends, longest := map[string]int{}, 0
	for _, op := range rep.History.Operations() {
		for _, m := range op.Txn {
			if m.Append {
				appends[m.Key]++
			}
			longest = max(longest, len(m.Read))
		}
	}
	assert.Greater(t, len(appends), 4*sc.Workload.Keys, "keys were retired and replaced")
	for key, n := range appends {
		assert.LessOrEqual(t, n, maxWrites, key)
	}
	assert.Positive(t, longest)
	assert.LessOrEqual(t, longest, maxWrites, "a read returns at most one key's appends")
}
