package workload

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/internal/jsonl"
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

// A cas answered OK says whether it wrote, false too: a failed expectation
// is a definite answer, which a reader should not have to infer from a
// missing field. Other kinds and other outcomes carry no cas_ok.
func TestHistoryJSONSaysWhetherACasWrote(t *testing.T) {
	h := NewHistory(
		Operation{Client: 0, Seq: 1, Kind: OpCAS, Key: "k0", Expect: "c0.1", Value: "c0.2", Call: 1, Return: 2, Status: StatusOK, Output: "c9.9", Found: true},
		Operation{Client: 0, Seq: 2, Kind: OpCAS, Key: "k0", Expect: "c9.9", Value: "c0.3", Call: 3, Return: 4, Status: StatusOK, CASOK: true},
		Operation{Client: 0, Seq: 3, Kind: OpPut, Key: "k0", Value: "c0.4", Call: 5, Return: 6, Status: StatusOK},
	)
	var buf bytes.Buffer
	require.NoError(t, h.WriteJSON(&buf))
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	assert.Contains(t, lines[0], `"cas_ok":false`)
	assert.Contains(t, lines[1], `"cas_ok":true`)
	assert.NotContains(t, lines[2], "cas_ok")
	back, err := ReadJSON(&buf)
	require.NoError(t, err)
	assert.Equal(t, h.Operations(), back.Operations())
}

func TestReadJSONRejectsGarbage(t *testing.T) {
	for _, in := range []string{
		`{"id":0,"kind":"del","key":"k0","call":0,"return":null,"status":"ok"}`,
		`{"id":0,"kind":"get","key":"k0","call":0,"return":null,"status":"maybe"}`,
		`{"id":0,"kind":"get","key":"k0","call":0,"colour":"red","status":"ok"}`,
		`{"id":0,`,
		`{"id":1,"kind":"get","key":"k0","call":0,"return":null,"status":"unknown"}`,
		`{"id":0,"client":-1,"kind":"get","key":"k0","call":0,"return":null,"status":"unknown"}`,
		`{"id":0,"client":4294967296,"kind":"get","key":"k0","call":0,"return":null,"status":"unknown"}`,
	} {
		_, err := ReadJSON(strings.NewReader(in))
		assert.Error(t, err, in)
	}
}

// A bad line is named, by its number in the file (blank lines count), with
// the field and in the file's own words: a client index too large to be one
// (a page drew a row per index up to it, out of memory at 100000000) and a
// number of the wrong type.
func TestReadJSONNamesTheLineAndField(t *testing.T) {
	good := `{"id":0,"client":0,"kind":"get","key":"k0","call":0,"return":null,"status":"unknown"}` + "\n"
	for in, want := range map[string]string{
		good + `{"id":1,"client":100000000,"kind":"get","key":"k0","call":0,"return":null,"status":"unknown"}`: "line 2: client: 100000000 is not a client index (0 to 999)",
		good + `{"id":1,"seq":-4,"kind":"get","key":"k0","call":0,"return":null,"status":"unknown"}`:           "line 2, column 16: seq: want a whole number, 0 or more, got number -4",
		good + "\n\n" + `{"id":0,"kind":"get","key":"k0","call":0,"return":null,"status":"unknown"}`:           "line 4: id: 0, want 1 (ids number the operations from 0 in order)",
		good + `{"id":1,"kind":"get","key":"k0","call":50,"return":40,"status":"ok"}`:                          "line 2: return: 40 is before the call, 50",
		good + `{"id":1,"kind":"get","key":"k0","call":-5,"return":null,"status":"unknown"}`:                   "line 2: call: -5 is negative",
		good + `{"id":1,"kind":"get","key":"k0","ca`:                                                           "line 2, column 36: cut short: the text ends before the value does",
	} {
		_, err := ReadJSON(strings.NewReader(in))
		var lineErr *jsonl.Error
		require.ErrorAs(t, err, &lineErr)
		got := fmt.Sprintf("line %d: %s", lineErr.Line, lineErr.Msg)
		if lineErr.Col > 0 {
			got = fmt.Sprintf("line %d, column %d: %s", lineErr.Line, lineErr.Col, lineErr.Msg)
		}
		assert.Equal(t, want, got)
	}
}

// The history stores an operation's strings in one and its key by number:
// every field must come back as recorded, through the live path (call, then
// complete) as through NewHistory, across many chunks of the stored list.
func TestHistoryKeepsEveryFieldOfTheStoredRecord(t *testing.T) {
	live := &History{}
	var want []Operation
	for i := range 3000 {
		key := keyName(i % 7)
		var op Op
		var raw string
		var done Operation
		switch i % 5 {
		case 0:
			op, raw = Op{Kind: OpPut, Key: key, Value: "v" + key}, resultOK
			done = Operation{Status: StatusOK}
		case 1:
			op, raw = Op{Kind: OpGet, Key: key}, resultOK+" seen"
			done = Operation{Status: StatusOK, Output: "seen", Found: true}
		case 2: // a cas answered with garbage: value, expect and output all kept
			op, raw = Op{Kind: OpCAS, Key: key, Value: "new", Expect: "old"}, "err corrupted"
			done = Operation{Status: StatusFailed, Output: "err corrupted"}
		case 3: // a cas that read another value: value, expect and output
			op, raw = Op{Kind: OpCAS, Key: key, Value: "new", Expect: "old"}, resultCASFail+" cur"
			done = Operation{Status: StatusOK, Output: "cur", Found: true}
		default: // never answered
			op = Op{Kind: OpCAS, Key: key, Value: "x", Expect: "y"}
			done = Operation{Status: StatusUnknown}
		}
		id := live.call(i%3, uint64(i), op, sim.Time(i))
		require.Equal(t, i, id)
		w := Operation{ID: i, Client: i % 3, Seq: uint64(i), Kind: op.Kind, Key: key, Value: op.Value,
			Expect: op.Expect, Call: sim.Time(i), Return: sim.Forever, Status: done.Status,
			Output: done.Output, Found: done.Found}
		if done.Status != StatusUnknown {
			w.Return = sim.Time(i + 1)
			assert.Equal(t, w, live.complete(id, w.Return, []byte(raw)))
		}
		want = append(want, w)
	}
	assert.Equal(t, want, live.Operations())
	assert.Equal(t, want, NewHistory(want...).Operations())
	assert.Equal(t, want[2999], live.At(2999))
}
