package sim

import (
	"fmt"
	"math"
	"time"
)

// Link describes the faults of one directed link (or the default for all).
// Reordering is not a separate knob: it emerges whenever latency varies.
type Link struct {
	LatencyMin time.Duration // uniform latency lower bound
	LatencyMax time.Duration // uniform latency upper bound; equal to min for constant latency
	// LatencyDist, when set, is the latency distribution instead of the
	// uniform range (log-normal or Pareto, say; see LatencyTable).
	LatencyDist *LatencyTable
	// TailProb is the probability that a message also takes a long-tail delay,
	// exponentially distributed with mean TailMean (a long-tailed distribution).
	TailProb  float64
	TailMean  time.Duration
	Drop      float64 // probability a message is lost
	Duplicate float64 // probability a message is delivered twice
}

// Validate reports an impossible link setting.
func (l Link) Validate() error {
	switch {
	case l.LatencyMin < 0:
		return fmt.Errorf("latency min %v is negative", l.LatencyMin)
	case l.LatencyMax < l.LatencyMin:
		return fmt.Errorf("latency max %v is below min %v", l.LatencyMax, l.LatencyMin)
	case l.TailMean < 0:
		return fmt.Errorf("tail mean %v is negative", l.TailMean)
	}
	for _, p := range []struct {
		name string
		v    float64
	}{{"drop", l.Drop}, {"duplicate", l.Duplicate}, {"tail probability", l.TailProb}} {
		if !(p.v >= 0 && p.v <= 1) {
			return fmt.Errorf("%s %v is not a probability in [0, 1]", p.name, p.v)
		}
	}
	return nil
}

// network holds the per-link settings and the partition cut matrix over all
// nodes. cut[from*n+to] means messages from -> to are lost: cuts are directed,
// so one-way partitions are a pair of cells.
type network struct {
	n       int
	links   []Link
	cut     []bool
	clogged []bool // same indexing as cut: arrivals on the link are held
	rng     *Rand
}

func newNetwork(n int, def Link, rng *Rand) *network {
	net := &network{n: n, links: make([]Link, n*n), cut: make([]bool, n*n), clogged: make([]bool, n*n), rng: rng}
	for i := range net.links {
		net.links[i] = def
	}
	return net
}

func (net *network) link(from, to NodeID) *Link { return &net.links[int(from)*net.n+int(to)] }
func (net *network) isCut(from, to NodeID) bool { return net.cut[int(from)*net.n+int(to)] }

// latency draws one message's latency on a link.
func (net *network) latency(l *Link) time.Duration {
	var d time.Duration
	if l.LatencyDist != nil {
		d = l.LatencyDist.sample(net.rng.Uint64() >> 11)
	} else {
		d = net.rng.DurationBetween(l.LatencyMin, l.LatencyMax)
	}
	if l.TailProb > 0 && net.rng.Chance(l.TailProb) {
		tail := net.rng.ExpDuration(l.TailMean)
		d = min(d, math.MaxInt64-tail) + tail // saturates rather than wrapping negative
	}
	return d
}
