package workload

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/sim"
)

func TestHistoryJSONRoundTrip(t *testing.T) {
	h := NewHistory(
		Operation{Client: 0, Seq: 1, Kind: OpPut, Key: "k0", Value: "c0.1", Call: 10, Return: 20, Status: StatusOK},
		Operation{Client: 1, Seq: 1, Kind: OpGet, Key: "k0", Call: 15, Return: 25, Status: StatusOK, Output: "c0.1", Found: true},
		Operation{Client: 0, Seq: 2, Kind: OpCAS, Key: "k0", Expect: "c0.1", Value: "c0.2", Call: 30, Return: sim.Forever},
		Operation{Client: 1, Seq: 2, Kind: OpAppend, Key: "k1", Value: "c1.2", Call: 31, Return: 40, Status: StatusFailed, Output: "err malformed op"},
	)
	var buf bytes.Buffer
	require.NoError(t, h.WriteJSON(&buf))
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 4)
	assert.Equal(t, `{"id":2,"client":0,"seq":2,"kind":"cas","key":"k0","value":"c0.2","expect":"c0.1","call":30,"return":null,"status":"unknown"}`, lines[2])

	back, err := ReadJSON(&buf)
	require.NoError(t, err)
	assert.Equal(t, h.Operations(), back.Operations())

	ok, failed, unknown := h.Counts()
	assert.Equal(t, []int{2, 1, 1}, []int{ok, failed, unknown})
}

func TestReadJSONRejectsGarbage(t *testing.T) {
	for _, in := range []string{
		`{"id":0,"kind":"del","key":"k0","call":0,"return":null,"status":"ok"}`,
		`{"id":0,"kind":"get","key":"k0","call":0,"return":null,"status":"maybe"}`,
		`{"id":0,"kind":"get","key":"k0","call":0,"colour":"red","status":"ok"}`,
		`{"id":0,`,
	} {
		_, err := ReadJSON(strings.NewReader(in))
		assert.Error(t, err, in)
	}
}
