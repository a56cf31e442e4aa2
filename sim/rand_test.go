package sim

import (
	"math"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The golden values below pin the random sequences forever: a seed must mean the
// same run on every machine and every Go release. If one of these tests fails,
// every recorded seed (regression scenarios, bug reports) has silently changed
// meaning; do not update the values unless that is intended and announced.

// TestSplitmix64KnownValues checks the seeding function against the published
// splitmix64 output for state 0 (Vigna's reference implementation).
func TestSplitmix64KnownValues(t *testing.T) {
	want := []uint64{0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4, 0x06c45d188009454f, 0xf88bb8a8724c81ec}
	x := uint64(0)
	for i, w := range want {
		var out uint64
		x, out = splitmix64(x)
		assert.Equal(t, w, out, "output %d", i)
	}
}

// TestRandGolden pins xoshiro256** seeded through splitmix64. The values were
// checked against an independent implementation of both algorithms.
func TestRandGolden(t *testing.T) {
	tests := []struct {
		seed uint64
		want []uint64
	}{
		{0, []uint64{0x99ec5f36cb75f2b4, 0xbf6e1f784956452a, 0x1a5f849d4933e6e0, 0x6aa594f1262d2d2c}},
		{1, []uint64{0xb3f2af6d0fc710c5, 0x853b559647364cea, 0x92f89756082a4514, 0x642e1c7bc266a3a7}},
		{42, []uint64{0x15780b2e0c2ec716, 0x6104d9866d113a7e, 0xae17533239e499a1, 0xecb8ad4703b360a1}},
	}
	for _, tt := range tests {
		t.Run("seed="+itoa(tt.seed), func(t *testing.T) {
			r := NewRand(tt.seed)
			for i, w := range tt.want {
				assert.Equal(t, w, r.Uint64(), "draw %d", i)
			}
		})
	}
}

// TestRandDerivedGolden pins the methods built on Uint64, whose algorithms
// (Lemire's bounded draw, the float conversion, the shuffle) are part of what a
// seed means too.
func TestRandDerivedGolden(t *testing.T) {
	r := NewRand(7)
	var ints []int
	for range 8 {
		ints = append(ints, r.IntN(10))
	}
	assert.Equal(t, []int{7, 2, 8, 9, 9, 8, 0, 1}, ints, "IntN(10)")

	floats := []float64{r.Float64(), r.Float64(), r.Float64()}
	assert.Equal(t, []float64{0.40370652610252655, 0.15181610733412043, 0.5413675985383839}, floats, "Float64")

	var durs []time.Duration
	for range 3 {
		durs = append(durs, r.DurationBetween(time.Millisecond, 10*time.Millisecond))
	}
	assert.Equal(t, []time.Duration{7586724, 9450691, 8927657}, durs, "DurationBetween(1ms, 10ms)")

	var exps []time.Duration
	for range 3 {
		exps = append(exps, r.ExpDuration(time.Second))
	}
	assert.Equal(t, []time.Duration{600421524, 822980539, 296652841}, exps, "ExpDuration(1s)")

	assert.Equal(t, []int{6, 4, 7, 2, 5, 0, 1, 3}, r.Perm(8), "Perm(8)")
}

func TestStreamsGolden(t *testing.T) {
	tests := []struct {
		name string
		want uint64
	}{
		{"network", 0x1b0654c3dc121ee6},
		{"faults", 0x86d2297a1a3526e4},
		{"workload", 0xcdddc9032008efc5},
		{"node/0", 0xe19941f20f6f9a40},
		{"", 0x8bca2fa9a52045fe},
	}
	s := NewStreams(1)
	for _, tt := range tests {
		t.Run("name="+tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, s.Stream(tt.name).Uint64())
		})
	}
}

func TestReseedRestartsTheSequence(t *testing.T) {
	r := NewRand(9)
	first := draws(r, 5)
	r.Reseed(9)
	assert.Equal(t, first, draws(r, 5))
	assert.Equal(t, first, draws(NewRand(9), 5))
}

func TestIntNBounds(t *testing.T) {
	for _, n := range []int{1, 2, 3, 7, 10, 1000, math.MaxInt/2 + 11, math.MaxInt} { // MaxInt/2+11: large, not a power of two, on 32 and 64 bits
		t.Run(itoa(uint64(n)), func(t *testing.T) {
			r := NewRand(uint64(n))
			seen := map[int]bool{}
			for range 2000 {
				v := r.IntN(n)
				require.GreaterOrEqual(t, v, 0)
				require.Less(t, v, n)
				seen[v] = true
			}
			if n <= 10 {
				assert.Len(t, seen, n, "every value of a small range is drawn")
			}
		})
	}
}

func TestBoundedDrawsPanicOnEmptyRange(t *testing.T) {
	r := NewRand(1)
	assert.Panics(t, func() { r.IntN(0) })
	assert.Panics(t, func() { r.IntN(-3) })
	assert.Panics(t, func() { r.Uint64N(0) })
}

func TestUint64NLargeBound(t *testing.T) {
	// A bound just above 2^63 makes Lemire's rejection step fire often.
	n := uint64(1)<<63 + 1
	r := NewRand(3)
	for range 1000 {
		require.Less(t, r.Uint64N(n), n)
	}
}

func TestDurationBetweenBounds(t *testing.T) {
	tests := []struct {
		name   string
		lo, hi time.Duration
	}{
		{"tiny range hits both ends", 5, 7},
		{"milliseconds", time.Millisecond, 10 * time.Millisecond},
		{"from zero", 0, 3},
		{"wide", 0, 1 << 62},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewRand(11)
			seen := map[time.Duration]bool{}
			for range 2000 {
				d := r.DurationBetween(tt.lo, tt.hi)
				require.GreaterOrEqual(t, d, tt.lo)
				require.LessOrEqual(t, d, tt.hi, "the upper bound is inclusive")
				seen[d] = true
			}
			if tt.hi-tt.lo < 10 {
				assert.Len(t, seen, int(tt.hi-tt.lo)+1, "every value, both ends included")
			}
		})
	}
}

func TestDurationBetweenEmptyRangeDrawsNothing(t *testing.T) {
	for _, tt := range []struct {
		name   string
		lo, hi time.Duration
	}{{"equal", 5 * time.Millisecond, 5 * time.Millisecond}, {"inverted", 9, 2}} {
		t.Run(tt.name, func(t *testing.T) {
			r, ref := NewRand(5), NewRand(5)
			assert.Equal(t, tt.lo, r.DurationBetween(tt.lo, tt.hi))
			assert.Equal(t, ref.Uint64(), r.Uint64(), "no draw was consumed")
		})
	}
}

func TestChanceDrawsExactlyOnce(t *testing.T) {
	for _, p := range []float64{0, 0.5, 1} {
		r, ref := NewRand(5), NewRand(5)
		r.Chance(p)
		ref.Uint64()
		assert.Equal(t, ref.Uint64(), r.Uint64(), "p=%v", p)
	}
	r := NewRand(6)
	for range 100 {
		require.False(t, r.Chance(0))
		require.True(t, r.Chance(1))
	}
}

func TestFloat64Range(t *testing.T) {
	r := NewRand(8)
	sum := 0.0
	const n = 20000
	for range n {
		f := r.Float64()
		require.GreaterOrEqual(t, f, 0.0)
		require.Less(t, f, 1.0)
		sum += f
	}
	assert.InDelta(t, 0.5, sum/n, 0.02)
}

func TestExpDuration(t *testing.T) {
	r := NewRand(10)
	assert.Zero(t, r.ExpDuration(0))
	assert.Zero(t, r.ExpDuration(-time.Second))
	const n = 20000
	var sum time.Duration
	for range n {
		d := r.ExpDuration(time.Millisecond)
		require.GreaterOrEqual(t, d, time.Duration(0))
		sum += d
	}
	assert.InDelta(t, float64(time.Millisecond), float64(sum/n), 0.05*float64(time.Millisecond))
}

func TestPermIsAPermutation(t *testing.T) {
	r := NewRand(12)
	for _, n := range []int{0, 1, 2, 17} {
		p := r.Perm(n)
		slices.Sort(p)
		for i := range p {
			require.Equal(t, i, p[i])
		}
		require.Len(t, p, n)
	}
}

func TestStreams(t *testing.T) {
	t.Run("same name gives the same sequence", func(t *testing.T) {
		s := NewStreams(77)
		assert.Equal(t, draws(s.Stream("faults"), 10), draws(s.Stream("faults"), 10))
		assert.Equal(t, draws(s.Stream("faults"), 10), draws(NewStreams(77).Stream("faults"), 10))
	})
	t.Run("different names differ", func(t *testing.T) {
		s := NewStreams(77)
		names := []string{"network", "faults", "workload", "node/0", "node/1", "node/10", "a", "b", ""}
		seen := map[uint64]string{}
		for _, name := range names {
			v := s.Stream(name).Uint64()
			prev, dup := seen[v]
			require.False(t, dup, "streams %q and %q start alike", prev, name)
			seen[v] = name
		}
	})
	t.Run("different seeds differ", func(t *testing.T) {
		assert.NotEqual(t, draws(NewStreams(1).Stream("network"), 4), draws(NewStreams(2).Stream("network"), 4))
	})
	t.Run("drawing from one stream does not move another", func(t *testing.T) {
		w := newTestWorld(t, Config{Seed: 5})
		ref := NewStreams(5).Stream("workload")
		draws(w.Stream("faults"), 1000)
		draws(w.Stream("network"), 10)
		assert.Equal(t, draws(ref, 10), draws(w.Stream("workload"), 10))
	})
	t.Run("world keeps one generator per name", func(t *testing.T) {
		w := newTestWorld(t, Config{Seed: 5})
		a := w.Stream("faults")
		first := a.Uint64()
		b := w.Stream("faults")
		assert.Same(t, a, b)
		assert.NotEqual(t, first, b.Uint64(), "the second call continues the sequence")
	})
}

// TestNodeStreamsIndependentOfClients: adding a client must not change what a
// server draws, nor what the network draws.
func TestNodeStreamsIndependentOfClients(t *testing.T) {
	serverDraws := func(clients int) []uint64 {
		var got []uint64
		w := newTestWorld(t, Config{Seed: 3})
		w.AddServer(nodeOf(funcNode{start: func(env Env) { got = draws(env.Rand(), 5) }}))
		w.AddServer(idle())
		for range clients {
			w.AddClient(nodeOf(funcNode{start: func(env Env) { draws(env.Rand(), 100) }}))
		}
		w.RunUntil(ms(1))
		return append(got, w.Stream("network").Uint64())
	}
	assert.Equal(t, serverDraws(0), serverDraws(3))
}

func draws(r *Rand, n int) []uint64 {
	out := make([]uint64, n)
	for i := range out {
		out[i] = r.Uint64()
	}
	return out
}

func itoa(v uint64) string { return strconv.FormatUint(v, 10) }

// TestExpDurationMatchesTheLogarithm checks the integer exponential draw
// against math.Log1p: they may differ by the last nanosecond only, where the
// float result sits on a rounding boundary.
func TestExpDurationMatchesTheLogarithm(t *testing.T) {
	r := NewRand(11)
	for i := range 200000 {
		mean := time.Duration(1 + r.Uint64N(uint64(time.Hour)))
		if i%2 == 0 {
			mean = time.Second
		}
		x := r.Uint64N(1<<53) + 1
		got := mulFixed(negLog(x), mean)
		want := -math.Log(float64(x)*0x1p-53) * float64(mean)
		require.InDelta(t, want, float64(got), 1+want*1e-12, "x=%d mean=%v", x, mean)
	}
}

func TestExpDurationExtremes(t *testing.T) {
	assert.Zero(t, mulFixed(negLog(1<<53), time.Hour), "u=0 gives 0")
	assert.Equal(t, time.Duration(36736800569), mulFixed(negLog(1), time.Second), "u=1-2^-53 gives 53 ln 2 s")
	assert.Equal(t, time.Duration(math.MaxInt64), mulFixed(negLog(1), math.MaxInt64/10), "too long saturates")
}

// TestChanceIsTheFloatComparison checks that the integer threshold answers as
// Float64() < p did, around thresholds and at the ends.
func TestChanceIsTheFloatComparison(t *testing.T) {
	ps := []float64{0, 0x1p-60, 0x1p-53, 1e-9, 0.1, 0.25, 1.0 / 3, 0.5, 0.999999, 1 - 0x1p-53, 1, 2, -1, math.NaN(), math.Inf(1)}
	r := NewRand(13)
	for range 200 {
		ps = append(ps, r.Float64())
	}
	for _, p := range ps {
		th := chanceThreshold(p)
		for _, u := range []uint64{0, 1, th - 1, th, th + 1, 1<<53 - 1} {
			if u >= 1<<53 {
				continue
			}
			assert.Equal(t, float64(u)*0x1p-53 < p, u < th, "p=%v u=%d", p, u)
		}
	}
}
