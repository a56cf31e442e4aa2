package simtest

import (
	"time"

	"pgregory.net/rapid"

	"github.com/simrun/simrun/faults"
	"github.com/simrun/simrun/scenarios"
)

// Faults draws a fault timeline for n servers whose steps all fire within a
// safety phase of length d: crashes (some inside a step, mid_step) and
// pauses with restarts, partitions, clogs, clock drift and lossy links,
// each undone after a while, and never more than a minority of servers down
// at once. rapid shrinks it by dropping steps and moving them toward the
// start.
func Faults(n int, d time.Duration) *rapid.Generator[[]faults.Step] {
	return rapid.Custom(func(t *rapid.T) []faults.Step {
		count := rapid.IntRange(0, 12).Draw(t, "steps")
		steps := make([]faults.Step, 0, count)
		for i := range count {
			steps = append(steps, drawStep(t, n, d, i))
		}
		return steps
	})
}

// stepKinds are the actions Faults draws.
var stepKinds = []string{"crash", "pause", "isolate", "halves", "clog", "drift", "lossy", "crash-mid-step"}

func drawStep(t *rapid.T, n int, d time.Duration, i int) faults.Step {
	label := func(s string) string { return "step" + string(rune('a'+i%26)) + "." + s }
	at := faults.Duration(rapid.Int64Range(int64(time.Millisecond), int64(d)-1).Draw(t, label("at")))
	lasting := faults.Duration(rapid.Int64Range(int64(50*time.Millisecond), int64(3*time.Second)).Draw(t, label("for")))
	target := drawTarget(t, n, label("target"))
	maxDown := max(1, (n-1)/2)
	s := faults.Step{At: at}
	switch rapid.SampledFrom(stepKinds).Draw(t, label("kind")) {
	case "crash":
		s.Crash, s.Down, s.MaxDown = target, lasting, maxDown
		repeatSometimes(t, &s, d, label)
	case "crash-mid-step": // a torn step: what a handler sent may outlive what it persisted
		s.Crash, s.Down, s.MaxDown, s.MidStep = target, lasting, maxDown, true
		repeatSometimes(t, &s, d, label)
	case "pause":
		s.Pause, s.Down, s.MaxDown = target, lasting, maxDown
		repeatSometimes(t, &s, d, label)
	case "isolate":
		s.Partition, s.For = &faults.Partition{Isolate: target}, lasting
	case "halves":
		s.Partition, s.For = &faults.Partition{Halves: true}, lasting
	case "clog":
		s.Clog, s.For = &faults.Clog{Node: target}, lasting
	case "drift":
		rate := rapid.SampledFrom([]float64{0.5, 0.8, 1.25, 2}).Draw(t, label("rate"))
		s.Clock, s.For = &faults.Clock{Node: target, Rate: rate}, lasting
	case "lossy":
		drop := rapid.Float64Range(0.05, 0.5).Draw(t, label("drop"))
		s.Link, s.For = &faults.LinkChange{Drop: &drop}, lasting
	}
	return s
}

// repeatPeriods are the periods of repeating crashes and pauses, spread
// over two orders of magnitude.
var repeatPeriods = []time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 200 * time.Millisecond, 500 * time.Millisecond, time.Second}

// maxFiringsPerStep bounds a repeating step's firings: twelve such steps
// fire fewer times than a scenario may (100,000).
const maxFiringsPerStep = 8000

// repeatSometimes makes about half the crashes and pauses repeat, from
// their time to the end of the safety phase, every 10ms to 1s: a bug that
// one crash in a hundred exposes (a torn step at the wrong moment) needs
// many of them, and max_down keeps a majority up.
func repeatSometimes(t *rapid.T, s *faults.Step, d time.Duration, label func(string) string) {
	if !rapid.Bool().Draw(t, label("repeats")) {
		return
	}
	every := rapid.SampledFrom(repeatPeriods).Draw(t, label("every"))
	every = max(every, d/maxFiringsPerStep) // a long phase: twelve steps stay within a scenario's firings
	s.From, s.To, s.Every, s.At = s.At, faults.Duration(d), faults.Duration(every), 0
}

func drawTarget(t *rapid.T, n int, label string) faults.Target {
	switch rapid.IntRange(0, 2).Draw(t, label+".kind") {
	case 0:
		return faults.Random()
	case 1:
		return faults.Leader()
	default:
		return faults.Node(rapid.IntRange(0, n-1).Draw(t, label+".node"))
	}
}

// Workload draws a workload shape: clients, keys, operation mix, and either
// an open-loop rate or a closed-loop think time.
func Workload() *rapid.Generator[scenarios.Workload] {
	return rapid.Custom(func(t *rapid.T) scenarios.Workload {
		w := scenarios.Workload{
			Clients: rapid.IntRange(1, 6).Draw(t, "clients"),
			Keys:    rapid.IntRange(1, 10).Draw(t, "keys"),
			Mix: scenarios.Mix{
				Get: rapid.IntRange(0, 4).Draw(t, "get"), Put: rapid.IntRange(1, 4).Draw(t, "put"),
				Append: rapid.IntRange(0, 2).Draw(t, "append"), CAS: rapid.IntRange(0, 2).Draw(t, "cas"),
			},
			Timeout:       scenarios.DefaultTimeout,
			RetryInterval: scenarios.DefaultRetryInterval,
			Backlog:       scenarios.DefaultBacklog,
		}
		if rapid.Bool().Draw(t, "open-loop") {
			w.Rate = scenarios.Rate(rapid.Float64Range(10, 300).Draw(t, "rate"))
		} else {
			w.ThinkTime = scenarios.Duration(rapid.Int64Range(0, int64(50*time.Millisecond)).Draw(t, "think"))
		}
		return w
	})
}

// DrawScenario draws a variant of base with a random fault timeline and
// workload; everything else (protocol, cluster, checks) stays.
func DrawScenario(t *rapid.T, base *scenarios.Scenario) *scenarios.Scenario {
	sc := base.Clone()
	sc.Faults = Faults(sc.Nodes, time.Duration(sc.Duration)).Draw(t, "faults")
	sc.Workload = Workload().Draw(t, "workload")
	if err := sc.Validate(); err != nil {
		t.Fatalf("simtest: drew an invalid scenario: %v", err)
	}
	return sc
}
