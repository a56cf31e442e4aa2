package workload

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/service"
)

func TestTxnWireRoundTrip(t *testing.T) {
	op := Op{Kind: OpTxn, Txn: []MicroOp{{Key: "k1"}, {Append: true, Key: "k2", Value: "c0.3.1"}, {Key: "k2"}}}
	assert.Equal(t, "txn r k1 a k2 c0.3.1 r k2", op.String())
	back, err := ParseOp(op.Encode())
	require.NoError(t, err)
	assert.Equal(t, op, back)
	for _, bad := range []string{"txn", "txn r", "txn a k1", "txn x k1", "txn r k1 a k2"} {
		_, err := ParseOp([]byte(bad))
		assert.ErrorIs(t, err, ErrMalformed, bad)
	}
}

// TestKVAppliesTxnAtomically: reads see the appends before them, in the
// transaction and in earlier ones.
func TestKVAppliesTxnAtomically(t *testing.T) {
	s := NewKV()
	first := Op{Kind: OpTxn, Txn: []MicroOp{{Key: "k1"}, {Append: true, Key: "k1", Value: "a"}, {Key: "k1"}}}
	assert.Equal(t, "ok nf + a", string(s.Apply(first.Encode())))
	second := Op{Kind: OpTxn, Txn: []MicroOp{{Append: true, Key: "k1", Value: "b"}, {Key: "k1"}, {Key: "k2"}}}
	res := s.Apply(second.Encode())
	assert.Equal(t, "ok + a,b nf", string(res))
	got, err := ParseTxnResult(second.Txn, res)
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b"}, got[1].Read)
	assert.Nil(t, got[2].Read)
	assert.Equal(t, "ok a,b", string(s.Apply([]byte("get k1"))), "a transaction's lists are KV values")
	_, err = ParseTxnResult(second.Txn, []byte("ok + a"))
	assert.ErrorIs(t, err, ErrMalformed, "one word per micro-op")
	_, err = ParseTxnResult(second.Txn, []byte("ok a + nf"))
	assert.ErrorIs(t, err, ErrMalformed, "an append answered with a list")
}

// TestSplitTxnRunsAsTheWhole: the parts SplitTxn cuts, applied one after
// the other, answer (joined) and change the KV as the whole transaction
// does; a single micro-op or a kv command is not cut.
func TestSplitTxnRunsAsTheWhole(t *testing.T) {
	txn := Op{Kind: OpTxn, Txn: []MicroOp{{Key: "k1"}, {Append: true, Key: "k1", Value: "a"}, {Key: "k1"}}}.Encode()
	whole, split := NewKV(), NewKV()
	splitter := split.(service.TxnSplitter)
	parts := splitter.SplitTxn(txn)
	require.Len(t, parts, 2)
	assert.Equal(t, "txn r k1", string(parts[0]))
	var results [][]byte
	for _, p := range parts {
		results = append(results, split.Apply(p))
	}
	assert.Equal(t, string(whole.Apply(txn)), string(splitter.JoinResults(results)))
	assert.Equal(t, string(whole.Apply([]byte("get k1"))), string(split.Apply([]byte("get k1"))))
	assert.Nil(t, splitter.SplitTxn(Op{Kind: OpTxn, Txn: []MicroOp{{Key: "k1"}}}.Encode()))
	assert.Nil(t, splitter.SplitTxn([]byte("put k1 v")))
	assert.Equal(t, "err malformed op", string(splitter.JoinResults([][]byte{[]byte("ok nf"), []byte("err malformed op")})),
		"a part that did not answer ok answers for the whole")
}

func TestTxnHistoryJSONRoundTrip(t *testing.T) {
	h := &History{}
	op := Op{Kind: OpTxn, Txn: []MicroOp{{Append: true, Key: "k1", Value: "c0.1.0"}, {Key: "k1"}}}
	id := h.call(0, 1, op, 10)
	h.complete(id, 20, []byte("ok + c0.1.0"))
	id = h.call(1, 1, op, 15) // never answered
	var buf bytes.Buffer
	require.NoError(t, h.WriteJSON(&buf))
	assert.Contains(t, buf.String(), `"txn":[{"f":"append","k":"k1","v":"c0.1.0"},{"f":"r","k":"k1","read":["c0.1.0"]}]`)
	back, err := ReadJSON(&buf)
	require.NoError(t, err)
	assert.Equal(t, h.Operations(), back.Operations())
	assert.Equal(t, StatusUnknown, back.Operations()[id].Status)
	assert.Nil(t, back.Operations()[id].Txn[1].Read)
}
