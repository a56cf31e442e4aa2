package service

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/sim"
)

type testBug uint8

const (
	bugA testBug = iota
	bugB
	bugC
)

var testTable = BugTable[testBug]{Protocol: "p", Bugs: []Bug{bugA: {Name: "a"}, bugB: {Name: "b"}, bugC: {Name: "c"}}}

func TestBugTableParse(t *testing.T) {
	on, err := testTable.Parse([]string{"c", "a"})
	require.NoError(t, err)
	assert.Equal(t, BugsOf(bugA, bugC), on)
	assert.True(t, on.Has(bugA))
	assert.False(t, on.Has(bugB))
	assert.True(t, on.Has(bugC))
	assert.True(t, on.HasAny(BugsOf(bugB, bugC)))
	assert.False(t, on.HasAny(BugsOf(bugB)))

	on, err = testTable.Parse([]string{"b", "d"})
	require.EqualError(t, err, `p: bugs[1]: unknown bug "d" (known: a, b, c)`)
	assert.Zero(t, on, "after an error every bug is off")

	known := testTable.Known()
	known[0].Name = "changed"
	assert.Equal(t, "a", testTable.Bugs[0].Name, "Known returns a copy")

	// A table in another order keeps its positions and lists by name.
	unsorted := BugTable[testBug]{Protocol: "p", Bugs: []Bug{{Name: "z"}, {Name: "m"}}}
	assert.Equal(t, []Bug{{Name: "m"}, {Name: "z"}}, unsorted.Known())
	on, err = unsorted.Parse([]string{"z"})
	require.NoError(t, err)
	assert.Equal(t, BugsOf[testBug](0), on, "z is position 0, whatever its name's place")
}

func TestBugTableTooLarge(t *testing.T) {
	huge := BugTable[testBug]{Protocol: "p", Bugs: make([]Bug, MaxBugs+1)}
	assert.Panics(t, func() { _, _ = huge.Parse(nil) })
}

type testConfig struct{ err error }

func (c testConfig) Validate() error { return c.err }

func TestBugTableFactory(t *testing.T) {
	newSM := func() StateMachine { return nil }
	var got BugSet[testBug]
	newServer := func(_ sim.NodeID, b BugSet[testBug]) sim.Node { got = b; return nil }

	_, err := testTable.Factory(testConfig{err: assert.AnError}, nil, nil, newServer)
	require.ErrorIs(t, err, assert.AnError, "the Config's own Validate comes first")

	_, err = testTable.Factory(testConfig{}, nil, nil, newServer)
	require.ErrorIs(t, err, ErrNoStateMachine)
	require.EqualError(t, err, "p: no state machine constructor given to New")

	factory, err := testTable.Factory(testConfig{}, []string{"b"}, newSM, newServer)
	require.NoError(t, err)
	factory(0)
	assert.Equal(t, BugsOf(bugB), got)
}
