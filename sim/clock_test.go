package sim

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestClockTimersFireOnTheirDeadline checks the fixed-point clock: after the
// real delay realDelay gives, the local clock has reached the deadline, and
// a local nanosecond and a real one earlier it had not (local time is
// rounded down to the nanosecond, so a timer may fire up to that late).
func TestClockTimersFireOnTheirDeadline(t *testing.T) {
	r := NewRand(3)
	for _, rate := range []float64{0.5, 0.8, 0.9, 1, 1.1, 1.25, 2, 0.01, 99.99} {
		c := nodeClock{rate: fixedRate(rate), anchorReal: 1000, anchorLocal: 5000}
		for i := range 2000 {
			now := c.anchorReal + Time(r.Uint64N(uint64(time.Hour)))
			if i%2 == 0 {
				now = c.anchorReal // no fraction of a local nanosecond carried in: a delay rounded down fires early
			}
			d := time.Duration(1 + r.Uint64N(uint64(10*time.Second)))
			at := now.Add(c.realDelay(d))
			want := c.local(now).Add(d)
			require.GreaterOrEqual(t, c.local(at), want, "rate %v: fires early", rate)
			require.Less(t, c.local(at-Time(c.realDelay(1))-1), want, "rate %v: fires late", rate)
		}
	}
}

func TestClockRateIsFixedPoint(t *testing.T) {
	assert.Equal(t, uint64(rateOne), fixedRate(1))
	assert.Equal(t, uint64(rateOne/2), fixedRate(0.5))
	assert.Equal(t, uint64(3435973837), fixedRate(0.8), "0.8 * 2^32 rounded to nearest")
	assert.Equal(t, uint64(1), fixedRate(1e-12), "never stopped")
	c := nodeClock{rate: fixedRate(2), anchorReal: 10, anchorLocal: 100}
	assert.Equal(t, Time(120), c.local(20))
	assert.Equal(t, Time(80), c.local(0), "before the anchor")
	assert.Equal(t, 5*time.Millisecond, c.realDelay(10*time.Millisecond))
}

func TestClockSaturates(t *testing.T) {
	slow := nodeClock{rate: fixedRate(1e-9)}
	assert.Equal(t, time.Duration(math.MaxInt64), slow.realDelay(time.Duration(math.MaxInt64)/2))
	fast := nodeClock{rate: fixedRate(99)}
	assert.Equal(t, Forever, fast.local(Time(math.MaxInt64/2)))
}
