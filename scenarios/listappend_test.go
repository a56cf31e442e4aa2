package scenarios

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestListAppendModel(t *testing.T) {
	sc, err := Parse("t.yaml", []byte("protocol: raft\nnodes: 3\nworkload: {model: list-append, max_txn_ops: 6, max_writes_per_key: 10}\n"))
	require.NoError(t, err)
	assert.Equal(t, ModelListAppend, sc.Workload.DataModel())
	assert.Equal(t, 6, sc.Workload.MaxTxnOps)
	assert.Equal(t, 10, sc.Workload.MaxWritesPerKey)
	assert.Equal(t, []string{CheckAgreement, CheckOneLeaderPerTerm, CheckLiveness, CheckSerializable, CheckStrictSerializable},
		sc.Checks, "the default checks are those of the data model")

	kv, err := Parse("t.yaml", []byte("protocol: raft\nnodes: 3\n"))
	require.NoError(t, err)
	assert.Equal(t, ModelKV, kv.Workload.DataModel(), "kv is the default")
	assert.NotContains(t, kv.Checks, CheckSerializable)

	data, err := sc.Marshal()
	require.NoError(t, err)
	back, err := Parse("t.yaml", data)
	require.NoError(t, err)
	assert.Equal(t, sc.Workload, back.Workload)
}

func TestListAppendErrors(t *testing.T) {
	tests := []struct{ name, file, want string }{
		{"unknown model", "protocol: raft\nnodes: 3\nworkload:\n  model: graph\n",
			`t.yaml:4:10: workload.model: unknown data model "graph" (known: kv, list-append)`},
		{"linearizable judges kv only", "protocol: raft\nnodes: 3\nworkload: {model: list-append}\nchecks: [agreement, linearizable]\n",
			`t.yaml:4:21: checks[1]: check "linearizable" does not judge the list-append data model`},
		{"serializable judges list-append only", "protocol: raft\nnodes: 3\nchecks: [serializable]\n",
			`t.yaml:3:10: checks[0]: check "serializable" does not judge the kv data model`},
		{"max_txn_ops without list-append", "protocol: raft\nnodes: 3\nworkload:\n  max_txn_ops: 3\n",
			`t.yaml:4:16: workload.max_txn_ops: applies to the list-append model only`},
		{"max_txn_ops bound", "protocol: raft\nnodes: 3\nworkload:\n  model: list-append\n  max_txn_ops: 1000\n",
			`t.yaml:5:16: workload.max_txn_ops: 1000 is not in [0, 64]`},
		{"max_writes_per_key without list-append", "protocol: raft\nnodes: 3\nworkload:\n  max_writes_per_key: 3\n",
			`t.yaml:4:23: workload.max_writes_per_key: applies to the list-append model only`},
		{"max_writes_per_key bound", "protocol: raft\nnodes: 3\nworkload:\n  model: list-append\n  max_writes_per_key: -1\n",
			`t.yaml:5:23: workload.max_writes_per_key: -1 is not in [0, 1000000]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(tt.file))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}
