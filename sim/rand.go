package sim

import (
	"math"
	"math/bits"
	"time"
)

// Rand is a small, fast, seeded generator (xoshiro256**) whose sequence is fixed
// by this code, not by the Go release: math/rand/v2 documents that its method
// algorithms may change, and a seed must mean the same run forever.
//
// A Rand is not safe for concurrent use; a world is single-threaded anyway.
type Rand struct{ s [4]uint64 }

// NewRand returns a generator seeded from seed through splitmix64, so that
// nearby seeds give unrelated sequences.
func NewRand(seed uint64) *Rand {
	r := &Rand{}
	r.Reseed(seed)
	return r
}

// Reseed resets r to the sequence of NewRand(seed).
func (r *Rand) Reseed(seed uint64) {
	x := seed
	for i := range r.s {
		x, r.s[i] = splitmix64(x)
	}
}

func splitmix64(x uint64) (next, out uint64) {
	x += 0x9e3779b97f4a7c15
	z := x
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return x, z ^ (z >> 31)
}

// Uint64 returns the next 64 random bits.
func (r *Rand) Uint64() uint64 {
	s := &r.s
	result := bits.RotateLeft64(s[1]*5, 7) * 9
	t := s[1] << 17
	s[2] ^= s[0]
	s[3] ^= s[1]
	s[1] ^= s[2]
	s[0] ^= s[3]
	s[2] ^= t
	s[3] = bits.RotateLeft64(s[3], 45)
	return result
}

// Uint64N returns a uniform value in [0, n) without modulo bias (Lemire's method).
// It panics if n == 0.
func (r *Rand) Uint64N(n uint64) uint64 {
	if n == 0 {
		panic("sim: Uint64N(0)")
	}
	hi, lo := bits.Mul64(r.Uint64(), n)
	if lo < n {
		thresh := -n % n
		for lo < thresh {
			hi, lo = bits.Mul64(r.Uint64(), n)
		}
	}
	return hi
}

// IntN returns a uniform int in [0, n). It panics if n <= 0.
func (r *Rand) IntN(n int) int {
	if n <= 0 {
		panic("sim: IntN with n <= 0")
	}
	return int(r.Uint64N(uint64(n)))
}

// Float64 returns a uniform float in [0, 1): a 53-bit draw scaled by 2^-53,
// both steps exact, so it is the same value on every platform. Arithmetic on
// it is not: a run's decisions use Chance, IntN and the duration draws, which
// are integer.
func (r *Rand) Float64() float64 { return float64(r.Uint64()>>11) * 0x1p-53 }

// Chance reports true with probability p. It draws exactly once whatever p is,
// so that switching a probability on or off does not shift later draws. It
// compares integers, the 53-bit draw with p's threshold, so no platform's
// floating point can change the answer; it answers as Float64() < p would.
func (r *Rand) Chance(p float64) bool { return r.Uint64()>>11 < chanceThreshold(p) }

// chanceThreshold returns how many of the 2^53 draws of Chance fall below p:
// an integer u is below p*2^53 exactly when it is below ceil(p*2^53). Scaling
// by a power of two and rounding up to an integer are exact operations, so
// the threshold is the same on every platform.
func chanceThreshold(p float64) uint64 {
	switch {
	case !(p > 0): // NaN too: never
		return 0
	case p >= 1:
		return 1 << 53
	}
	return uint64(math.Ceil(p * 0x1p53))
}

// DurationBetween returns a uniform duration in [lo, hi]. lo == hi draws nothing.
func (r *Rand) DurationBetween(lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(r.Uint64N(uint64(hi-lo)+1))
}

// ExpDuration returns an exponentially distributed duration with the given
// mean, -ln(1-u)*mean for a uniform u in [0, 1) of 53 bits, rounded down to
// the nanosecond. It draws exactly once and computes in integers only: the
// logarithm in fixed point (negLog), then the product with the mean. The
// floating-point version differed between platforms: math.Log1p may be
// compiled with fused multiply-adds on arm64 and amd64 v3, which changes the
// last bit of some results, and with it the duration.
func (r *Rand) ExpDuration(mean time.Duration) time.Duration {
	if mean <= 0 {
		return 0
	}
	x := 1<<53 - r.Uint64()>>11 // 2^53 * (1-u), in [1, 2^53]
	return mulFixed(negLog(x), mean)
}

// negLog returns -ln(x / 2^53) for x in [1, 2^53] as a fixed-point number
// with fracBits fraction bits (the value is below 53*ln 2 < 37, so it fits).
// It takes log2 through its integer part (the bit length) and its fraction
// (log2Frac), then multiplies by ln 2.
func negLog(x uint64) uint64 {
	e := bits.Len64(x) - 1 // log2(x) = e + log2(m), m = x / 2^e in [1, 2)
	m := x << (63 - e)     // m as Q1.63
	neg2 := uint64(53-e)<<fracBits - log2Frac(m)
	hi, _ := bits.Mul64(neg2, ln2Q64)
	return hi
}

// fracBits is the precision of negLog's fixed-point results.
const fracBits = 58

// ln2Q64 is ln 2 * 2^64, rounded to nearest.
const ln2Q64 = 0xb17217f7d1cf79ac

// log2Frac returns log2(m) for m in [1, 2) given as Q1.63, with fracBits
// fraction bits, one bit per squaring: if m^2 >= 2 the next bit is 1 and m
// becomes m^2/2, else it is 0 and m becomes m^2. Truncating each square
// loses less than 2^-62 in total, far below a nanosecond for any mean.
func log2Frac(m uint64) uint64 {
	var f uint64
	for i := fracBits - 1; i >= 0; i-- {
		hi, lo := bits.Mul64(m, m) // m^2 as Q2.126
		if hi>>63 == 1 {
			f |= 1 << i
			m = hi
		} else {
			m = hi<<1 | lo>>63
		}
	}
	return f
}

// mulFixed returns v * d for v fixed point with fracBits fraction bits,
// rounded down, or the largest duration if the product does not fit.
func mulFixed(v uint64, d time.Duration) time.Duration {
	hi, lo := bits.Mul64(v, uint64(d))
	if hi >= 1<<(fracBits-1) {
		return math.MaxInt64
	}
	return time.Duration(hi<<(64-fracBits) | lo>>fracBits)
}

// Perm returns a random permutation of [0, n).
func (r *Rand) Perm(n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	for i := n - 1; i > 0; i-- {
		j := r.IntN(i + 1)
		p[i], p[j] = p[j], p[i]
	}
	return p
}

// Streams derives independent, named random streams from one root seed. A stream
// depends only on the root seed and its name, so adding a consumer (a fault, a
// client) never changes what another stream draws: seeds and shrinking stay stable.
type Streams struct{ root uint64 }

// NewStreams returns the stream family of a root seed.
func NewStreams(seed uint64) Streams { return Streams{root: seed} }

// Stream returns a fresh generator for name. Asking twice gives two generators
// with the same sequence; the world asks once per name and keeps the result.
func (s Streams) Stream(name string) *Rand {
	h := fnvOffset
	for i := 0; i < len(name); i++ {
		h = (h ^ uint64(name[i])) * fnvPrime
	}
	_, mixed := splitmix64(s.root ^ h)
	return NewRand(mixed)
}

// FNV-1a constants, for hashing stream names.
const (
	fnvOffset uint64 = 14695981039346656037
	fnvPrime  uint64 = 1099511628211
)
