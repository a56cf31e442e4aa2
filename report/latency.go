package report

import (
	"slices"
	"time"

	"gonum.org/v1/gonum/stat"

	"github.com/simrun/simrun/sim"
	"github.com/simrun/simrun/workload"
)

// LatencyRow is the latency of one operation kind, over the operations that
// returned (ok or failed); an unknown operation never returned and has none.
type LatencyRow struct {
	Kind                     string
	Count, Unknown           int
	P50, P90, P99, Max, Mean time.Duration
}

// Latencies computes a row per operation kind, in the order kinds first
// appear in the history, then a row "all". Percentiles are gonum's
// empirical quantiles: the smallest latency whose share of operations at or
// below it reaches p, so every figure is a latency some operation had.
func Latencies(ops []workload.Operation) []LatencyRow {
	var kinds []string
	byKind := map[string][]float64{}
	unknown := map[string]int{}
	for _, op := range ops {
		k := op.Kind.String()
		if !slices.Contains(kinds, k) {
			kinds = append(kinds, k)
		}
		if op.Return == sim.Forever {
			unknown[k]++
			continue
		}
		byKind[k] = append(byKind[k], float64(op.Return-op.Call))
	}
	var rows []LatencyRow
	var all []float64
	total := 0
	for _, k := range kinds {
		rows = append(rows, latencyRow(k, byKind[k], unknown[k]))
		all = append(all, byKind[k]...)
		total += unknown[k]
	}
	if len(kinds) > 1 {
		rows = append(rows, latencyRow("all", all, total))
	}
	return rows
}

func latencyRow(kind string, x []float64, unknown int) LatencyRow {
	r := LatencyRow{Kind: kind, Count: len(x), Unknown: unknown}
	if len(x) == 0 {
		return r
	}
	x = slices.Clone(x)
	slices.Sort(x) // stat.Quantile wants sorted data
	q := func(p float64) time.Duration { return short(time.Duration(stat.Quantile(p, stat.Empirical, x, nil))) }
	r.P50, r.P90, r.P99 = q(0.50), q(0.90), q(0.99)
	r.Max = short(time.Duration(x[len(x)-1]))
	r.Mean = short(time.Duration(stat.Mean(x, nil)))
	return r
}

// short rounds a latency for reading: microseconds past a millisecond.
func short(d time.Duration) time.Duration {
	if d >= time.Millisecond {
		return d.Round(time.Microsecond)
	}
	return d
}
