package scenarios

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/simrun/simrun/sim"
)

func parseLatency(t *testing.T, latency string) Latency {
	t.Helper()
	sc, err := Parse("t.yaml", []byte(base+"network:\n  latency: "+latency+"\n"))
	require.NoError(t, err)
	return sc.Network.Latency
}

func TestLatencyDistributionsParse(t *testing.T) {
	tests := []struct {
		src    string
		want   Latency
		String string
	}{
		{"{min: 1ms, max: 5ms}", Latency{Min: Duration(time.Millisecond), Max: Duration(5 * time.Millisecond)}, "1ms..5ms"},
		{"3ms", Latency{Min: Duration(3 * time.Millisecond), Max: Duration(3 * time.Millisecond)}, "3ms..3ms"},
		{"{dist: uniform, min: 2ms}", Latency{Dist: DistUniform, Min: Duration(2 * time.Millisecond), Max: Duration(2 * time.Millisecond)}, "2ms..2ms"},
		{"{dist: lognormal, median: 4ms, sigma: 0.6, max: 500ms}",
			Latency{Dist: DistLogNormal, Median: Duration(4 * time.Millisecond), Sigma: 0.6, Max: Duration(500 * time.Millisecond)},
			"lognormal(median=4ms sigma=0.6 max=500ms)"},
		{"{dist: pareto, min: 1ms, alpha: 1.5, max: 2s}",
			Latency{Dist: DistPareto, Min: Duration(time.Millisecond), Alpha: 1.5, Max: Duration(2 * time.Second)},
			"pareto(min=1ms alpha=1.5 max=2s)"},
		{"{dist: pareto, min: 1ms, alpha: 3}", Latency{Dist: DistPareto, Min: Duration(time.Millisecond), Alpha: 3}, "pareto(min=1ms alpha=3)"},
	}
	for _, tt := range tests {
		got := parseLatency(t, tt.src)
		assert.Equal(t, tt.want, got, tt.src)
		assert.Equal(t, tt.String, got.String(), tt.src)
	}
}

func TestLatencyErrorsNameTheField(t *testing.T) {
	tests := []struct{ src, want string }{
		{"{dist: normal, min: 1ms}", `t.yaml:5:19: network.latency.dist: unknown distribution "normal" (one of uniform, lognormal, pareto)`},
		{"{dist: lognormal, sigma: 0.5}", "t.yaml:5:12: network.latency.median: must be positive for a lognormal latency"},
		{"{dist: lognormal, median: 4ms}", "t.yaml:5:12: network.latency.sigma: 0 is not in (0, 5]"},
		{"{dist: lognormal, median: 4ms, sigma: 0.5, min: 5ms}", "t.yaml:5:60: network.latency.min: 5ms is above the median 4ms"},
		{"{dist: lognormal, median: 4ms, sigma: 0.5, max: 1ms}", "t.yaml:5:60: network.latency.max: 1ms is below the distribution's 4ms"},
		{"{dist: pareto, alpha: 2}", "t.yaml:5:12: network.latency.min: must be positive: it is the Pareto scale, the smallest latency"},
		{"{dist: pareto, min: 1ms, alpha: 0.2}", "t.yaml:5:12: network.latency.max: the distribution reaches "},
		{"{dist: pareto, min: 1ms, alpha: 2, sigma: 1}", "t.yaml:5:54: network.latency.sigma: is a parameter of another distribution, not of pareto"},
		{"{min: 1ms, max: 2ms, alpha: 2}", "t.yaml:5:40: network.latency.alpha: is a parameter of another distribution, not of uniform"},
		{"{dist: pareto, min: 1ms, alpah: 2}", "t.yaml:5:37: network.latency.alpah: unknown field (did you mean alpha?)"},
	}
	for _, tt := range tests {
		_, err := Parse("t.yaml", []byte(base+"network:\n  latency: "+tt.src+"\n"))
		require.Error(t, err, tt.src)
		assert.Contains(t, err.Error(), tt.want, tt.src)
	}
}

func TestLatencyRoundTrips(t *testing.T) {
	for _, src := range []string{
		"{dist: lognormal, median: 4ms, sigma: 0.6, min: 1ms, max: 500ms}",
		"{dist: pareto, min: 1ms, alpha: 3}",
		"{min: 1ms, max: 5ms}",
	} {
		sc, err := Parse("t.yaml", []byte(base+"network:\n  latency: "+src+"\n"))
		require.NoError(t, err)
		out, err := sc.Marshal()
		require.NoError(t, err)
		back, err := Parse("t.yaml", out)
		require.NoError(t, err, string(out))
		assert.Equal(t, sc.Network.Latency, back.Network.Latency, src)
	}
}

// TestLatencyTableMatchesDistuv checks the kernel's table against gonum's
// own quantiles, clamps included, and that the table is what the kernel
// link carries.
func TestLatencyTableMatchesDistuv(t *testing.T) {
	l := parseLatency(t, "{dist: lognormal, median: 4ms, sigma: 0.5, min: 1ms, max: 60ms}")
	link := Network{Latency: l}.Link()
	table := link.LatencyDist
	require.NotNil(t, table)
	assert.Equal(t, l.String(), table.String())
	ln := distuv.LogNormal{Mu: math.Log(float64(4 * time.Millisecond)), Sigma: 0.5}
	for _, j := range []int{1, 100, 512, 900, 1023} {
		p := sim.LatencyProbability(0, j)
		want := min(max(ln.Quantile(p), 1e6), 60e6)
		assert.InDelta(t, want, float64(table.Quantile(0, j)), 500, "p=%v", p) // rounded to the microsecond
	}
	assert.Equal(t, time.Millisecond, table.Quantile(0, 0), "min floors the distribution")
	assert.Equal(t, 60*time.Millisecond, table.Max(), "max caps it")
	assert.Equal(t, 4*time.Millisecond, table.Quantile(0, 512), "the median")
}

func TestParetoTableHasItsHeavyTail(t *testing.T) {
	table := Network{Latency: parseLatency(t, "{dist: pareto, min: 1ms, alpha: 2}")}.Link().LatencyDist
	require.NotNil(t, table)
	assert.Equal(t, time.Millisecond, table.Quantile(0, 0))
	// Pareto(2): the 1-q quantile is min/sqrt(q). Level 1 starts at
	// q = 2^-10, level 2 at 2^-20, and the table stops at 2^-30.
	assert.Equal(t, 32*time.Millisecond, table.Quantile(1, 0))
	assert.Equal(t, 1024*time.Millisecond, table.Quantile(2, 0))
	assert.Equal(t, 32768*time.Millisecond, table.Max())
}

// TestRoundMicrosTiesAlikeEverywhere: a quantile a few units in the last
// place either side of a half microsecond (as math.Exp's assembly on amd64
// and the fused multiply-adds of arm64 leave exp(log(1152500))) rounds to the
// same microsecond, half to even; one clearly either side rounds as usual.
func TestRoundMicrosTiesAlikeEverywhere(t *testing.T) {
	for _, c := range []struct {
		ns   float64
		want time.Duration
	}{{1152500, 1152 * time.Microsecond}, {1153500, 1154 * time.Microsecond}, {2500, 2 * time.Microsecond}, {123456789500, 123456790 * time.Microsecond}} {
		up, down := c.ns, c.ns
		for range 50 {
			require.Equal(t, c.want, roundMicros(up), "%v", up)
			require.Equal(t, c.want, roundMicros(down), "%v", down)
			up, down = math.Nextafter(up, math.Inf(1)), math.Nextafter(down, 0)
		}
	}
	require.Equal(t, 600000001*time.Microsecond, roundMicros(600_000_001_100), "ten minutes: the band stays far below a microsecond")
	require.Equal(t, 100000001*time.Microsecond, roundMicros(100_000_000_540))
	require.Equal(t, 1152*time.Microsecond, roundMicros(1152499.9))
	require.Equal(t, 1153*time.Microsecond, roundMicros(1152500.1))
	require.Equal(t, 3*time.Millisecond, roundMicros(math.Exp(math.Log(3e6))))
	require.Equal(t, time.Duration(math.MaxInt64)/time.Microsecond*time.Microsecond, roundMicros(math.Inf(1)))
}
