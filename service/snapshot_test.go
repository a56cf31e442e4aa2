package service

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/sim"
)

// journal is a snapshottable state machine: it appends every op to a list and
// returns the list so far.
type journal struct{ ops []string }

func (j *journal) Apply(op []byte) []byte {
	j.ops = append(j.ops, string(op))
	return []byte(strings.Join(j.ops, ","))
}

func (j *journal) Snapshot() []byte { return []byte(strings.Join(j.ops, ",")) }

func (j *journal) Restore(b []byte) error {
	j.ops = nil
	if len(b) > 0 {
		j.ops = strings.Split(string(b), ",")
	}
	return nil
}

// plain cannot snapshot.
type plain struct{}

func (plain) Apply([]byte) []byte { return nil }

func cmd(client sim.NodeID, seq uint64, op string) Command {
	return Command{Client: client, Seq: seq, Op: []byte(op)}
}

func TestSessionsSnapshotRoundTrip(t *testing.T) {
	s := NewSessions(&journal{})
	require.True(t, s.CanSnapshot())
	s.Apply(cmd(7, 1, "a"))
	s.Apply(cmd(5, 1, "b"))
	s.Apply(cmd(7, 2, "c"))
	snap, err := s.Snapshot()
	require.NoError(t, err)

	r := NewSessions(&journal{})
	require.NoError(t, r.Restore(snap))
	assert.Equal(t, uint64(2), r.LastApplied(7))
	assert.Equal(t, uint64(1), r.LastApplied(5))
	result, outcome := r.Apply(cmd(7, 2, "c"))
	assert.Equal(t, Duplicate, outcome, "a retry after a restore runs once")
	assert.Equal(t, "a,b,c", string(result), "with the cached result")
	_, outcome = r.Apply(cmd(5, 0, "old"))
	assert.Equal(t, Stale, outcome)
	result, outcome = r.Apply(cmd(5, 2, "d"))
	assert.Equal(t, Applied, outcome)
	assert.Equal(t, "a,b,c,d", string(result), "the state machine's state came back too")

	again, err := r.Snapshot()
	require.NoError(t, err)
	require.NoError(t, s.Restore(again))
	assert.Equal(t, uint64(2), s.LastApplied(5), "restore replaces the sessions")
}

// The bytes depend on the state only: map iteration order, drawn afresh for
// every map, never leaks into them.
func TestSessionsSnapshotIsDeterministic(t *testing.T) {
	clients := []sim.NodeID{9, 3, 12, 5, 7, 4}
	var first []byte
	for range 20 {
		s := NewSessions(&journal{})
		for _, c := range clients {
			s.Apply(cmd(c, 1, "x"))
		}
		snap, err := s.Snapshot()
		require.NoError(t, err)
		if first == nil {
			first = snap
		}
		require.Equal(t, first, snap)
	}
}

func TestSessionsSnapshotErrors(t *testing.T) {
	s := NewSessions(plain{})
	assert.False(t, s.CanSnapshot())
	_, err := s.Snapshot()
	assert.ErrorIs(t, err, ErrNoSnapshot)
	assert.ErrorIs(t, s.Restore(nil), ErrNoSnapshot)

	good := NewSessions(&journal{})
	good.Apply(cmd(1, 1, "abc"))
	snap, err := good.Snapshot()
	require.NoError(t, err)
	for cut := range len(snap) - len("abc") {
		r := NewSessions(&journal{})
		assert.ErrorIs(t, r.Restore(snap[:cut]), ErrCorruptSnapshot, "truncated at %d", cut)
	}
	assert.ErrorIs(t, NewSessions(&journal{}).Restore(bytes.Repeat([]byte{0xff}, 12)), ErrCorruptSnapshot)
}

// TestStateEvery: the state's digest at every interval-th index only, the
// same for the same state and different once the sessions differ (the
// state machine's state alike); none without snapshots.
func TestStateEvery(t *testing.T) {
	a, b := NewSessions(&journal{}), NewSessions(&journal{})
	for _, s := range []*Sessions{a, b} {
		s.Apply(cmd(7, 1, "x"))
	}
	assert.Zero(t, a.StateEvery(31, 32))
	assert.Zero(t, a.StateEvery(32, 0))
	assert.NotZero(t, a.StateEvery(64, 32))
	assert.Equal(t, a.StateEvery(64, 32), b.StateEvery(64, 32))
	b.Forget()
	assert.NotEqual(t, a.StateEvery(64, 32), b.StateEvery(64, 32), "a lost session is a different state")
	assert.Zero(t, NewSessions(plain{}).StateEvery(64, 32))
}
