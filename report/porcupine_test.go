package report

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// Of several longest partial linearizations, in whatever order Porcupine
// lists them, the one stuck earliest names the operation: here the order
// 2 1 3 0 leaves op 44 (returned at 9) and the order 1 3 2 4 leaves op 40
// (returned at 12), so op 44 it is, either way round.
func TestStuckOpIgnoresTheOrderOfTies(t *testing.T) {
	const history = `"History": [
		{"OriginalEnd": "12", "Metadata": "c0 op 40 seq 1"},
		{"OriginalEnd": "1", "Metadata": "c1 op 41 seq 1"},
		{"OriginalEnd": "5", "Metadata": "c2 op 42 seq 1"},
		{"OriginalEnd": "7", "Metadata": "c3 op 43 seq 1"},
		{"OriginalEnd": "9", "Metadata": "c4 op 44 seq 1"}]`
	a := `[{"Index": 2}, {"Index": 1}, {"Index": 3}, {"Index": 0}]`
	b := `[{"Index": 1}, {"Index": 3}, {"Index": 2}, {"Index": 4}]`
	short := `[{"Index": 1}]`
	for _, lins := range []string{a + "," + b, b + "," + a, short + "," + b + "," + a} {
		op, ok := stuckOp([]byte(`{"Partitions": [{` + history + `, "PartialLinearizations": [` + lins + `]}]}`))
		require.True(t, ok)
		require.Equal(t, 44, op, lins)
	}
	op, ok := stuckOp([]byte(`{"Partitions": [{` + history + `, "PartialLinearizations": []}]}`))
	require.True(t, ok)
	require.Equal(t, 41, op, "nothing placed: the first to return")
}

// Of several failing partitions (keys), the operation stuck earliest in time
// names the focus, whichever partition the page lists first; a partition
// that linearizes names nothing.
func TestStuckOpIsTheEarliestOverPartitions(t *testing.T) {
	late := `{"History": [{"OriginalEnd": "80", "Metadata": "c0 op 598 seq 1"}], "PartialLinearizations": []}`
	early := `{"History": [{"OriginalEnd": "50", "Metadata": "c1 op 564 seq 1"}], "PartialLinearizations": []}`
	fine := `{"History": [{"OriginalEnd": "10", "Metadata": "c2 op 3 seq 1"}], "PartialLinearizations": [[{"Index": 0}]]}`
	for _, parts := range []string{late + "," + early, early + "," + late, fine + "," + late + "," + early} {
		op, ok := stuckOp([]byte(`{"Partitions": [` + parts + `]}`))
		require.True(t, ok)
		require.Equal(t, 564, op, parts)
	}
	_, ok := stuckOp([]byte(`{"Partitions": [` + fine + `]}`))
	require.False(t, ok, "every partition linearizes")
}
