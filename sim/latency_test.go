package sim

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// linearTable is the uniform distribution on [0, 1s] as a table: its
// quantile at p is p seconds, so every draw can be predicted.
func linearTable(t *testing.T) *LatencyTable {
	t.Helper()
	table, err := NewLatencyTable("linear", func(p float64) time.Duration { return time.Duration(p * float64(time.Second)) })
	require.NoError(t, err)
	return table
}

func TestLatencyProbabilityLevelsMeet(t *testing.T) {
	assert.Equal(t, 0.0, LatencyProbability(0, 0))
	assert.Equal(t, 1-0x1p-10, LatencyProbability(0, LatencySegments-1))
	for k := 1; k < LatencyLevels; k++ {
		assert.Equal(t, LatencyProbability(k-1, LatencySegments-1), LatencyProbability(k, 0), "level %d starts where %d ends", k, k-1)
	}
	assert.Equal(t, 1-0x1p-30, LatencyProbability(LatencyLevels-1, LatencySegments-1))
}

func TestLatencyTableSamplesSegmentsExactly(t *testing.T) {
	table := linearTable(t)
	const below = 53 - latencySegmentBits // bits under a level-0 segment index
	cases := []struct {
		name string
		u    uint64
		want time.Duration
	}{
		{"zero", 0, 0},
		{"a segment's start is its point", 512 << below, table.Quantile(0, 512)},
		{"half way through a segment", 3<<below | 1<<(below-1), (table.Quantile(0, 3) + table.Quantile(0, 4)) / 2},
		{"top segment descends a level", 1023<<below | 5<<(below-10), table.Quantile(1, 5)},
		{"all ones is the cut-off", 1<<53 - 1, table.Max()},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, table.sample(c.u), c.name)
	}
	assert.Equal(t, time.Second-time.Nanosecond, table.Max(), "(1-2^-30) s, rounded down to the nanosecond")
}

func TestLatencyTableRejectsDecreasingQuantiles(t *testing.T) {
	_, err := NewLatencyTable("broken", func(p float64) time.Duration {
		if p > 0.5 {
			return 0
		}
		return time.Second
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "broken")
}

// TestLatencyTableFollowsItsDistribution draws from an exponential table
// (quantile -ln(1-p)) and checks the share of draws under a few quantiles,
// including ones only the deeper levels resolve.
func TestLatencyTableFollowsItsDistribution(t *testing.T) {
	mean := time.Millisecond
	table, err := NewLatencyTable("exp", func(p float64) time.Duration {
		return mulFixed(negLog(uint64((1-p)*0x1p53)), mean)
	})
	require.NoError(t, err)
	r := NewRand(7)
	const draws = 1 << 20
	var under1ms, over7ms, over10ms int
	for range draws {
		d := table.sample(r.Uint64() >> 11)
		switch {
		case d < mean:
			under1ms++
		case d > 10*mean:
			over10ms++
			over7ms++
		case d > 7*mean:
			over7ms++
		}
	}
	assert.InDelta(t, 0.6321, float64(under1ms)/draws, 0.003, "P(d < mean) = 1 - 1/e")
	assert.InDelta(t, 9.12e-4, float64(over7ms)/draws, 1.5e-4, "P(d > 7 mean) = e^-7, past level 0's last point")
	assert.InDelta(t, 4.54e-5, float64(over10ms)/draws, 3e-5, "P(d > 10 mean) = e^-10")
}

func TestLinkWithLatencyTableIsTracedAndUsed(t *testing.T) {
	table, err := NewLatencyTable("fixed-7ms", func(float64) time.Duration { return 7 * time.Millisecond })
	require.NoError(t, err)
	var rec recorder
	w, buf := tracedWorld(t, Config{Seed: 1, Link: Link{LatencyMin: time.Second, LatencyMax: 2 * time.Second, LatencyDist: table}})
	w.AddServer(sendsAtStart(1, numbered(3)...))
	w.AddServer(rec.node())
	require.NoError(t, w.SetAllLinks(Link{LatencyDist: table}))
	w.RunUntil(ms(1000))
	require.Len(t, rec.got, 3)
	for _, d := range rec.got {
		assert.Equal(t, ms(7), d.at, "the table, not the uniform range, sets the latency")
	}
	links := ofKind(records(t, w, buf), "link-all")
	require.Len(t, links, 1)
	assert.True(t, strings.HasPrefix(links[0].Detail, "latency=fixed-7ms tail="), links[0].Detail)
}
