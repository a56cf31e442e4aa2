package sim

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMembersSetOperations(t *testing.T) {
	m := MembersOf(0, 2, 5)
	require.Equal(t, []NodeID{0, 2, 5}, m.IDs())
	var seen []NodeID
	for id := range m.All() {
		seen = append(seen, id)
		if id == 2 {
			break
		}
	}
	require.Equal(t, []NodeID{0, 2}, seen)
	require.Equal(t, 3, m.Len())
	require.True(t, m.Has(2))
	require.False(t, m.Has(1))
	require.False(t, m.Has(None))
	require.Equal(t, "n0 n2 n5", m.String())
	require.Equal(t, MembersOf(0, 5), m.Without(2))
	require.Equal(t, MembersOf(0, 1, 2, 5), m.With(1))
	require.Equal(t, m, m.With(MaxMembers), "an ID past the set's width is left out")
	require.Equal(t, MembersOf(0, 1, 2), FirstMembers(3))
	require.Equal(t, 64, FirstMembers(70).Len())
	require.Equal(t, Members(0), FirstMembers(0))
}

func TestChangeMembersTraceLine(t *testing.T) {
	line := ChangeMembers{Add: MembersOf(3, 4), Remove: MembersOf(0)}.AppendTrace(nil)
	require.Equal(t, "ChangeMembers add=n3,n4 remove=n0", string(line))
	require.Equal(t, "ChangeMembers remove=n1", string(ChangeMembers{Remove: MembersOf(1)}.AppendTrace(nil)))
}
