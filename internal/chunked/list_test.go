package chunked

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestListKeepsOrderAndAddressesAcrossChunks(t *testing.T) {
	var l List[int]
	const n = 3*chunkLen + 7
	var first *int
	for i := range n {
		require.Equal(t, i, l.Append(i*i))
		if i == 0 {
			first = l.At(0)
		}
	}
	require.Equal(t, n, l.Len())
	for i := range n {
		require.Equal(t, i*i, *l.At(i))
	}
	*l.At(chunkLen) = -1
	require.Equal(t, -1, *l.At(chunkLen))
	require.Same(t, first, l.At(0), "an element's address survives growth")
	require.Panics(t, func() { l.At(n) })
	require.Panics(t, func() { l.At(-1) })
}
