package pinrand_test

import (
	cryptorand "crypto/rand"
	"math/big"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/pinrand"
	"github.com/simrun/simrun/sim"
)

// draws reads n numbers through crypto/rand while pinned to seed's stream.
func draws(seed uint64, n int) []int64 {
	r := sim.NewStreams(seed).Stream("node/0")
	out := make([]int64, n)
	for i := range out {
		pinrand.Do(r, func() {
			v, err := cryptorand.Int(cryptorand.Reader, big.NewInt(1000))
			if err != nil {
				panic(err)
			}
			out[i] = v.Int64()
		})
	}
	return out
}

func TestPinnedDrawsFollowTheSeed(t *testing.T) {
	a, b, c := draws(1, 50), draws(1, 50), draws(2, 50)
	require.Equal(t, a, b, "the same stream must give the same crypto/rand draws")
	require.NotEqual(t, a, c, "another seed must give other draws")
}

// TestParallelWorldsStayDeterministic runs pinned draws from many goroutines
// at once, as a sweep does; each still sees only its own stream.
func TestParallelWorldsStayDeterministic(t *testing.T) {
	want := draws(7, 200)
	var wg sync.WaitGroup
	got := make([][]int64, 8)
	for i := range got {
		wg.Go(func() { got[i] = draws(7, 200) })
	}
	wg.Wait()
	for _, g := range got {
		require.Equal(t, want, g)
	}
}

func TestReaderIsRestoredAfterAPanic(t *testing.T) {
	before := cryptorand.Reader
	require.Panics(t, func() { pinrand.Do(sim.NewStreams(1).Stream("x"), func() { panic("boom") }) })
	require.Equal(t, before, cryptorand.Reader)
}
