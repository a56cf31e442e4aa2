package workload

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/service"
)

// TestKVSnapshotRoundTrip: the state every semantics case leaves restores
// into a store that held something else.
func TestKVSnapshotRoundTrip(t *testing.T) {
	for _, tt := range kvCases {
		t.Run(tt.name, func(t *testing.T) {
			src := NewKV()
			for _, op := range tt.ops {
				src.Apply([]byte(op))
			}
			snap := src.(service.Snapshotter).Snapshot()
			dst := NewKV()
			dst.Apply([]byte("put k9 stale")) // restore replaces, not merges
			require.NoError(t, dst.(service.Snapshotter).Restore(snap))
			assert.Equal(t, src.(*kv).state(), dst.(*kv).state())
			assert.Equal(t, snap, dst.(service.Snapshotter).Snapshot())
		})
	}
}

func TestKVSnapshotIsDeterministic(t *testing.T) {
	a, b := NewKV(), NewKV()
	for _, op := range []string{"put k0 a", "put k1 b", "put k2 c", "put k3 d"} {
		a.Apply([]byte(op))
	}
	for _, op := range []string{"put k3 d", "put k2 c", "put k1 b", "put k0 a"} {
		b.Apply([]byte(op))
	}
	assert.Equal(t, a.(service.Snapshotter).Snapshot(), b.(service.Snapshotter).Snapshot())
}

func TestKVSnapshotRejectsCorruptBytes(t *testing.T) {
	src := NewKV()
	src.Apply([]byte("put k0 abc"))
	snap := src.(service.Snapshotter).Snapshot()
	for cut := range len(snap) {
		assert.Error(t, NewKV().(service.Snapshotter).Restore(snap[:cut]), "truncated at %d", cut)
	}
	assert.Error(t, NewKV().(service.Snapshotter).Restore(append(snap, 0)), "trailing bytes")
}

// Sessions over the KV snapshot and restore end to end.
func TestKVSessionsSnapshot(t *testing.T) {
	s := service.NewSessions(NewKV())
	require.True(t, s.CanSnapshot())
	s.Apply(service.Command{Client: 5, Seq: 1, Op: []byte("put k0 a")})
	snap, err := s.Snapshot()
	require.NoError(t, err)
	r := service.NewSessions(NewKV())
	require.NoError(t, r.Restore(snap))
	got, outcome := r.Apply(service.Command{Client: 6, Seq: 1, Op: []byte("get k0")})
	assert.Equal(t, service.Applied, outcome)
	assert.Equal(t, "ok a", string(got))
}

// state is the store's content as a map, for comparisons.
func (s *kv) state() map[string]string {
	out := map[string]string{}
	for k, i := range s.index {
		out[k] = string(s.vals[i])
	}
	return out
}
