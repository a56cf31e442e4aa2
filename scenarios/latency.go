package scenarios

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/simrun/simrun/faults"
	"github.com/simrun/simrun/sim"
)

// The latency distributions a scenario can name in network.latency.dist.
const (
	DistUniform   = "uniform"   // every latency in [min, max] equally likely (the default)
	DistLogNormal = "lognormal" // median and sigma; min and max clamp it
	DistPareto    = "pareto"    // min is the scale (the smallest latency), alpha the shape; max caps it
)

// LatencyDists lists the distribution names, for errors and documentation.
var LatencyDists = []string{DistUniform, DistLogNormal, DistPareto}

// MaxTableLatency bounds the largest latency a distribution may reach at
// its cut-off (see sim.LatencyTable) when no max caps it: a heavy tail that
// goes further is almost surely a typo, and would stall a run for hours of
// virtual time.
const MaxTableLatency = 10 * time.Minute

// Latency is the one-way delay of a message. Written as a duration range,
// {min: 1ms, max: 5ms}, or one duration for a constant, it is uniform; with
// dist it is log-normal or Pareto:
//
//	latency: {dist: lognormal, median: 4ms, sigma: 0.6, max: 500ms}
//	latency: {dist: pareto, min: 1ms, alpha: 1.5, max: 2s}
//
// The heavy-tailed ones come from gonum's distuv quantile functions,
// tabulated once per run and sampled from the kernel's network stream (see
// sim.LatencyTable), never from distuv's own random source.
type Latency struct {
	Dist   string   `yaml:"dist,omitempty"`
	Min    Duration `yaml:"min"`
	Max    Duration `yaml:"max"`
	Median Duration `yaml:"median,omitempty"` // lognormal: the median latency, e^mu
	Sigma  float64  `yaml:"sigma,omitempty"`  // lognormal: the standard deviation of the latency's logarithm
	Alpha  float64  `yaml:"alpha,omitempty"`  // pareto: the tail index; smaller is heavier
}

type latencyFields Latency

// UnmarshalYAML reads the fields, or one duration for a constant latency.
func (l *Latency) UnmarshalYAML(unmarshal func(any) error) error {
	return faults.UnmarshalMappingOr(unmarshal, (*latencyFields)(l), func(d Duration) error {
		*l = Latency{Min: d, Max: d}
		return nil
	})
}

// MarshalYAML writes the fields.
func (l Latency) MarshalYAML() (any, error) { return latencyFields(l), nil }

// Uniform reports whether the latency is a plain range.
func (l Latency) Uniform() bool { return l.Dist == "" || l.Dist == DistUniform }

// Typical is one latency that stands for the distribution: the median of
// a log-normal, the scale of a Pareto, the lower bound of a range. The
// shrinker replaces a distribution by it.
func (l Latency) Typical() Duration {
	if l.Dist == DistLogNormal {
		return l.Median
	}
	return l.Min
}

// String is "1ms..5ms", or the distribution with its parameters.
func (l Latency) String() string {
	switch l.Dist {
	case DistLogNormal:
		return fmt.Sprintf("lognormal(median=%v sigma=%g%s)", l.Median, l.Sigma, l.clampString())
	case DistPareto:
		return fmt.Sprintf("pareto(min=%v alpha=%g%s)", l.Min, l.Alpha, l.clampString())
	}
	return l.Min.String() + ".." + l.Max.String()
}

func (l Latency) clampString() string {
	var b strings.Builder
	if l.Dist == DistLogNormal && l.Min > 0 {
		fmt.Fprintf(&b, " min=%v", l.Min)
	}
	if l.Max > 0 {
		fmt.Fprintf(&b, " max=%v", l.Max)
	}
	return b.String()
}

// validate checks the fields against the distribution, naming the first
// wrong one under path ("network.latency").
func (l Latency) validate(path string) (field string, err error) {
	if !slices.Contains(LatencyDists, l.Dist) && l.Dist != "" {
		return path + ".dist", fmt.Errorf("unknown distribution %q (one of %s)", l.Dist, strings.Join(LatencyDists, ", "))
	}
	if p := l.strayParameter(); p != "" {
		return path + "." + p, fmt.Errorf("is a parameter of another distribution, not of %s", l.distName())
	}
	switch {
	case l.Min < 0:
		return path + ".min", fmt.Errorf("%v is negative", l.Min)
	case l.Uniform() && l.Max < l.Min:
		return path + ".max", fmt.Errorf("%v is below min %v", l.Max, l.Min)
	case l.Dist == DistLogNormal && !(l.Median > 0):
		return path + ".median", fmt.Errorf("must be positive for a lognormal latency")
	case l.Dist == DistLogNormal && !(l.Sigma > 0 && l.Sigma <= 5):
		return path + ".sigma", fmt.Errorf("%v is not in (0, 5]", l.Sigma)
	case l.Dist == DistLogNormal && l.Min > l.Median:
		return path + ".min", fmt.Errorf("%v is above the median %v", l.Min, l.Median)
	case l.Dist == DistPareto && !(l.Min > 0):
		return path + ".min", fmt.Errorf("must be positive: it is the Pareto scale, the smallest latency")
	case l.Dist == DistPareto && !(l.Alpha > 0 && l.Alpha <= 100):
		return path + ".alpha", fmt.Errorf("%v is not in (0, 100]", l.Alpha)
	case !l.Uniform() && l.Max != 0 && l.Max < max(l.Min, l.Median):
		return path + ".max", fmt.Errorf("%v is below the distribution's %v", l.Max, max(l.Min, l.Median))
	}
	if !l.Uniform() && l.Max == 0 {
		if top := l.quantile(sim.LatencyProbability(sim.LatencyLevels-1, sim.LatencySegments-1)); top > MaxTableLatency {
			return path + ".max", fmt.Errorf("the distribution reaches %v at its cut-off; give a max of at most %v",
				top, MaxTableLatency)
		}
	}
	return "", nil
}

func (l Latency) distName() string {
	if l.Uniform() {
		return DistUniform
	}
	return l.Dist
}

// strayParameter names a key set for a distribution that has no use for
// it: a sigma on a Pareto is a mistake worth a line, not something to
// ignore.
func (l Latency) strayParameter() string {
	switch {
	case l.Median != 0 && l.Dist != DistLogNormal:
		return "median"
	case l.Sigma != 0 && l.Dist != DistLogNormal:
		return "sigma"
	case l.Alpha != 0 && l.Dist != DistPareto:
		return "alpha"
	}
	return ""
}

// table tabulates a log-normal or Pareto latency for the kernel; nil for a
// uniform one, which the kernel draws itself.
func (l Latency) table() *sim.LatencyTable {
	if l.Uniform() {
		return nil
	}
	t, err := sim.NewLatencyTable(l.String(), l.quantile)
	if err != nil {
		// Quantile functions are non-decreasing and the clamp keeps them so;
		// validate has run. Reaching here is a bug in this file.
		panic(err)
	}
	return t
}

// quantile is the distribution's quantile function at p, clamped to
// [min, max] and rounded to the microsecond (roundMicros).
func (l Latency) quantile(p float64) time.Duration {
	ns := l.rawQuantile(p)
	if l.Max > 0 {
		ns = min(ns, float64(l.Max))
	}
	ns = max(ns, float64(l.Min))
	return roundMicros(ns)
}

// tieBand is how close, relative to the value, a quantile must come to a
// half microsecond to count as exactly half way: thousands of units in the
// last place (platforms differ by a few), and below a hundredth of a
// microsecond for any latency under a day.
const tieBand = 1e-12

// roundMicros rounds a quantile in nanoseconds to the microsecond, the same
// way on every platform. math.Exp and math.Log have their own assembly on
// some targets, and Go fuses multiply-adds on arm64, so a quantile may
// differ between targets in its last bits; rounding hides that except at a
// tie, and ties are not rare: the median of a log-normal is exp(log(m)),
// which is m itself, a half microsecond whenever m is an odd multiple of
// 500ns. So a value within tieBand (relative) of a half is taken for one
// and rounded half to even.
func roundMicros(ns float64) time.Duration {
	us := ns / float64(time.Microsecond)
	if us >= float64(math.MaxInt64/int64(time.Microsecond)) { // +Inf too
		return math.MaxInt64 / time.Microsecond * time.Microsecond
	}
	whole := math.Floor(us)
	rounded := math.Round(us)
	if math.Abs(us-whole-0.5) <= tieBand*max(us, 1) {
		rounded = whole + math.Mod(whole, 2) // half to even
	}
	return time.Duration(rounded) * time.Microsecond
}

// rawQuantile is distuv's quantile in nanoseconds, unclamped.
func (l Latency) rawQuantile(p float64) float64 {
	switch l.Dist {
	case DistLogNormal:
		return distuv.LogNormal{Mu: math.Log(float64(l.Median)), Sigma: l.Sigma}.Quantile(p)
	case DistPareto:
		return distuv.Pareto{Xm: float64(l.Min), Alpha: l.Alpha}.Quantile(p)
	}
	panic("rawQuantile of a uniform latency")
}
