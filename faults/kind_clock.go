package faults

import (
	"math"
	"strconv"
	"time"

	"github.com/simrun/simrun/sim"
)

// The clock fault: make a server's clock drift (rate) or jump (skew).

func (in *Injector) clock(i int, s Step) {
	id := in.nodeTarget(i, s.Clock.Node)
	if id == sim.None {
		return
	}
	in.counts.Clocks++
	if s.Clock.Rate == 0 {
		in.w.SkewClock(id, s.Clock.Skew.Duration())
		return
	}
	in.clockRates.change(in, i, s, id, s.Clock.Rate, "clock "+id.String()+" rate=1")
}

var clockKind = valueKind(func(s *Step) **Clock { return &s.Clock }, actionKind{
	name: "clock", takesFor: true,
	validate: func(s *Step, servers int) error {
		if s.For != 0 && s.Clock.Rate == 0 {
			return fieldErr("for", "a clock skew is a jump: it cannot be undone, only a rate can")
		}
		return s.Clock.validate(servers)
	},
	fire:    (*Injector).clock,
	targets: func(s *Step) []*Target { return []*Target{&s.Clock.Node} },
})

func drawClockRate(rng *sim.Rand, _ int, hold Duration) Step {
	rates := []float64{0.5, 0.8, 1.25, 2}
	return Step{Clock: &Clock{Node: Random(), Rate: rates[rng.IntN(len(rates))]}, For: hold}
}

// withinDrift brings a drawn clock rate within [1/s, s], where s*s is nine
// tenths of the way from 1 to drift: two servers' clocks drawn so differ by
// less than drift, a margin short of it against rounding. math.Sqrt is
// correctly rounded on every platform.
func withinDrift(rate, drift float64) float64 {
	s := math.Sqrt(1 + float64(0.9*(drift-1))) // the product rounded on its own: no fused multiply-add
	return min(max(rate, 1/s), s)
}

func drawSkew(rng *sim.Rand, _ int, _ Duration) Step {
	skew := Duration(rng.DurationBetween(-2*time.Second, 2*time.Second))
	if skew == 0 {
		skew = Duration(time.Second)
	}
	return Step{Clock: &Clock{Node: Random(), Skew: skew}}
}

// Clock disturbs a server's clock: Rate makes it run fast or slow (local
// seconds per real second, in (0, 100): 1.5 is 50% fast and fires timers
// early), Skew makes it jump (negative: backwards, as NTP may step it).
// Exactly one of the two.
type Clock struct {
	Node Target   `yaml:"node"`
	Rate float64  `yaml:"rate,omitempty"`
	Skew Duration `yaml:"skew,omitempty"`
}

// String is "n2 rate=1.5" or "leader skew=-2s".
func (c Clock) String() string {
	if c.Rate != 0 {
		return c.Node.String() + " rate=" + strconv.FormatFloat(c.Rate, 'g', -1, 64)
	}
	return c.Node.String() + " skew=" + c.Skew.String()
}

func (c *Clock) validate(servers int) error {
	if err := validateTarget("clock.node", c.Node, servers, anyServer...); err != nil {
		return err
	}
	switch {
	case (c.Rate != 0) == (c.Skew != 0):
		return fieldErr("clock", "give exactly one of rate and skew")
	case c.Rate != 0 && !(c.Rate > 0 && c.Rate < 100):
		return fieldErr("clock.rate", "%v is not in (0, 100) (local seconds per real second)", c.Rate)
	}
	return nil
}
