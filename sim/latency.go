package sim

import (
	"fmt"
	"math/bits"
	"time"
)

// Latency tables: any latency distribution, as its quantile function
// tabulated once, then sampled in integers only.
//
// A table has LatencyLevels levels of LatencySegments points each. Level 0
// holds the quantiles at 0, 2^-10, ..., 1-2^-10; the probability above its
// last point, [1-2^-10, 1), is not one segment but refined by level 1, which
// starts there and steps by 2^-20, and so on. The deeper levels give a heavy
// tail (Pareto, say) its shape up to the 1-2^-30 quantile, where a flat
// table would smear the top segment's mass evenly up to the largest value.
// The last 2^-30 of the probability takes the last level's last quantile:
// the distribution is cut off there, as it must be for a finite table.
//
// A draw takes 53 bits u from the stream: the top bits pick a segment, the
// rest interpolate linearly between its two end points. Whatever arithmetic
// built the table (floating point, on some platform), sampling it is exact,
// so a table means the same latencies on every platform.
const (
	latencySegmentBits = 10
	// LatencySegments is the number of segments per level of a table.
	LatencySegments = 1 << latencySegmentBits
	// LatencyLevels is the number of levels of a table.
	LatencyLevels = 3
)

// LatencyTable is a latency distribution as a tabulated quantile function;
// see LatencyProbability for the probability at each point.
type LatencyTable struct {
	name   string            // how traces and errors name it, e.g. "lognormal(median=4ms sigma=0.5)"
	levels [][]time.Duration // LatencyLevels rows of LatencySegments quantiles
}

// LatencyProbability returns the probability of the quantile at point j of
// level k: 1-2^-(10k) + j*2^-(10(k+1)), so that level k+1 starts where level
// k's last point is. Every value is a dyadic rational of at most 53 bits, exact
// in a float64, so a quantile function sees the same argument everywhere.
func LatencyProbability(level, j int) float64 {
	// In units of 2^-latencyDepthBits the probability is an integer; the
	// one floating-point step scales it by a power of two, which is exact.
	const one = uint64(1) << latencyDepthBits
	units := one - one>>(latencySegmentBits*level) + uint64(j)<<(latencyDepthBits-latencySegmentBits*(level+1))
	return float64(units) / float64(one)
}

// latencyDepthBits is how many bits of probability the deepest level resolves.
const latencyDepthBits = latencySegmentBits * LatencyLevels

// NewLatencyTable builds a table from quantile(p), called at every
// LatencyProbability; name labels it in traces. The quantiles must be
// non-negative and non-decreasing, and adjacent levels must agree where
// they meet. The caller rounds them to whole nanoseconds however it likes:
// that rounding, not the sampling, is where platforms could differ.
func NewLatencyTable(name string, quantile func(p float64) time.Duration) (*LatencyTable, error) {
	t := &LatencyTable{name: name, levels: make([][]time.Duration, LatencyLevels)}
	prev := time.Duration(0)
	for k := range t.levels {
		row := make([]time.Duration, LatencySegments)
		for j := range row {
			q := quantile(LatencyProbability(k, j))
			if q < prev {
				return nil, fmt.Errorf("latency %s: quantile %v at p=%v is below the one before it (%v)",
					name, q, LatencyProbability(k, j), prev)
			}
			row[j], prev = q, q
		}
		t.levels[k] = row
	}
	return t, nil
}

// String names the distribution.
func (t *LatencyTable) String() string { return t.name }

// Max is the largest latency the table gives.
func (t *LatencyTable) Max() time.Duration { return t.levels[LatencyLevels-1][LatencySegments-1] }

// Quantile returns the table's latency at point j of level k (for tests
// and reports).
func (t *LatencyTable) Quantile(level, j int) time.Duration { return t.levels[level][j] }

// sample maps a uniform 53-bit draw u to a latency. At each level the top
// 10 bits pick a segment between two points, and the bits below them
// interpolate; all ones (above the level's last point) descend to the next
// level with the bits that remain, or, past the last level, take its last
// point.
func (t *LatencyTable) sample(u uint64) time.Duration {
	rest := uint(53)
	for _, row := range t.levels {
		rest -= latencySegmentBits
		seg := u >> rest
		u &= 1<<rest - 1
		if seg < LatencySegments-1 {
			return interpolate(row[seg], row[seg+1], u, rest)
		}
	}
	return t.Max()
}

// interpolate returns lo + (hi-lo)*frac/2^fracBits, rounded down, in
// 128-bit integer arithmetic so that no product overflows.
func interpolate(lo, hi time.Duration, frac uint64, fracBits uint) time.Duration {
	h, l := bits.Mul64(uint64(hi-lo), frac)
	return lo + time.Duration(h<<(64-fracBits)|l>>fracBits)
}
