package faults

import (
	"fmt"
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
		if in.clockDrift > 0 {
			in.beyond.skew.note(in.w.Now(), func() string {
				return id.String() + "'s clock jumped " + s.Clock.Skew.String() + "; the protocol assumes clocks that never jump"
			})
		}
		return
	}
	in.clockRates.change(in, i, s, id, s.Clock.Rate, "clock "+id.String()+" rate=1")
}

// AssumeClockDrift tells the injector what the protocol assumes of clocks
// (runner.Servers.ClockDrift: one runs at most drift times faster than
// another, and none jumps; 0: nothing). A scenario's own clock steps may go
// beyond it, on purpose or not; Beyond says where they did, so that a
// failure is not taken for the protocol's. Call it before the run.
func (in *Injector) AssumeClockDrift(drift float64) {
	in.clockDrift = drift
	in.clockRates.beforeSet = in.checkClockSpread
}

// checkClockSpread runs before a clock rate changes: the rates in force
// held since ratesSince, and if that is some time (not steps of one
// instant changing them one by one) it notes whether the fastest and
// slowest clocks ran further apart than the protocol assumes.
func (in *Injector) checkClockSpread() {
	now := in.w.Now()
	if in.clockDrift > 0 && now > in.ratesSince {
		in.noteSpread(&in.beyond.spread, &in.spreadBeyond)
	}
	in.ratesSince = now
}

// noteSpread notes in f the rates in force since ratesSince when they run
// beyond the bound and the stretch before did not: f counts the times the
// clocks went beyond it, not the rate changes while they stayed beyond.
// wasBeyond carries that from one stretch to the next.
func (in *Injector) noteSpread(f *firstOf, wasBeyond *bool) {
	rates := in.clockRates.values
	fast, slow := 0, 0
	for id, r := range rates {
		if r > rates[fast] {
			fast = id
		}
		if r < rates[slow] {
			slow = id
		}
	}
	beyond := rates[fast]/rates[slow] > in.clockDrift
	if beyond && !*wasBeyond {
		f.note(in.ratesSince, func() string {
			return fmt.Sprintf("%v's clock runs at %gx and %v's at %gx, %.3gx apart, beyond the %gx drift the protocol assumes",
				sim.NodeID(fast), rates[fast], sim.NodeID(slow), rates[slow], rates[fast]/rates[slow], in.clockDrift)
		})
	}
	*wasBeyond = beyond
}

// beyondAssumptions records what the faults did that the protocol does
// not assume: the first time of each kind, and how many times in all.
type beyondAssumptions struct {
	spread, skew firstOf
}

// firstOf is the first occurrence of something, in words, and a count.
type firstOf struct {
	at    sim.Time
	what  string
	count int
}

// note counts an occurrence at t; describe runs for the first only.
func (f *firstOf) note(t sim.Time, describe func() string) {
	if f.count == 0 {
		f.at, f.what = t, describe()
	}
	f.count++
}

// line is the occurrence in a line, "" if none.
func (f firstOf) line() string {
	switch f.count {
	case 0:
		return ""
	case 1:
		return "at " + f.at.String() + ": " + f.what
	}
	return "at " + f.at.String() + ": " + f.what + " (" + strconv.Itoa(f.count) + " times in all)"
}

// Beyond lists, in a line each, where the faults went beyond what the
// protocol assumes (AssumeClockDrift): a failure after one may be the
// scenario's doing, not the protocol's. Empty when they never did.
func (in *Injector) Beyond() []string {
	spread, was := in.beyond.spread, in.spreadBeyond
	if in.clockDrift > 0 && in.w.Now() > in.ratesSince {
		in.noteSpread(&spread, &was) // the rates in force at the end, on copies
	}
	var out []string
	for _, f := range []firstOf{spread, in.beyond.skew} {
		if l := f.line(); l != "" {
			out = append(out, l)
		}
	}
	return out
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
		return fieldErr("clock", "give exactly one of rate (a positive number) and skew (not 0)")
	case c.Rate != 0 && !(c.Rate > 0 && c.Rate < 100):
		return fieldErr("clock.rate", "%v is not in (0, 100) (local seconds per real second)", c.Rate)
	case c.Skew > MaxSkew || c.Skew < -MaxSkew:
		return fieldErr("clock.skew", "%v is more than the %v a clock may jump at once", c.Skew, MaxSkew)
	}
	return nil
}

// MaxSkew bounds one jump of a clock, and a scenario checks that its jumps
// add up to no more: a year, far past any timeout, while the clock readings
// a protocol subtracts stay far from the ends of int64 (jumps of centuries
// would make them wrap).
const MaxSkew = Duration(365 * 24 * time.Hour)
