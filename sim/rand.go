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

// Float64 returns a uniform float in [0, 1).
func (r *Rand) Float64() float64 { return float64(r.Uint64()>>11) * 0x1p-53 }

// Chance reports true with probability p. It draws exactly once whatever p is,
// so that switching a probability on or off does not shift later draws.
func (r *Rand) Chance(p float64) bool { return r.Float64() < p }

// DurationBetween returns a uniform duration in [lo, hi]. lo == hi draws nothing.
func (r *Rand) DurationBetween(lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(r.Uint64N(uint64(hi-lo)+1))
}

// ExpDuration returns an exponentially distributed duration with the given mean.
func (r *Rand) ExpDuration(mean time.Duration) time.Duration {
	if mean <= 0 {
		return 0
	}
	u := r.Float64()
	return time.Duration(-math.Log1p(-u) * float64(mean))
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
