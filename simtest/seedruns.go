package simtest

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/simrun/simrun/runner"
	"github.com/simrun/simrun/scenarios"
)

// Seed-by-seed runs on the caller's goroutine, for a protocol's determinism
// test and its throughput benchmark. Both leave the history checks out
// (runner.Options.SkipHistoryCheck): they judge the history, never the trace,
// the event count or the simulation's speed.

// RequireSameSeedSameTrace checks the determinism contract on seeds 1..seeds
// of sc with proto: every seed run twice gives the same trace hash, event
// count and operation counts, and no two seeds give the same trace hash.
func RequireSameSeedSameTrace(t testing.TB, sc *scenarios.Scenario, proto runner.Protocol, seeds uint64) {
	t.Helper()
	seen := map[string]uint64{}
	for seed := uint64(1); seed <= seeds; seed++ {
		first, second := runSeed(t, sc, proto, seed), runSeed(t, sc, proto, seed)
		if first.Hash != second.Hash {
			t.Fatalf("seed %d: same seed, different trace: %s, then %s", seed, first.Hash, second.Hash)
		}
		if first.Events != second.Events {
			t.Fatalf("seed %d: same seed, %d events, then %d", seed, first.Events, second.Events)
		}
		if first.Ops != second.Ops {
			t.Fatalf("seed %d: same seed, operations %+v, then %+v", seed, first.Ops, second.Ops)
		}
		if other, dup := seen[first.Hash]; dup {
			t.Fatalf("seeds %d and %d gave the same trace hash %s", other, seed, first.Hash)
		}
		seen[first.Hash] = seed
	}
}

func runSeed(t testing.TB, sc *scenarios.Scenario, proto runner.Protocol, seed uint64) *runner.Report {
	t.Helper()
	rep, err := runner.Run(sc, proto, runner.Options{Seed: seed, SkipHistoryCheck: true})
	if err != nil {
		t.Fatalf("simtest: seed %d: %v", seed, err)
	}
	return rep
}

// BenchScenario is the reference throughput load of the foundation issue on
// protocol with its protocol_options (a YAML mapping): five servers, 100
// client operations per second (open loop) for 60s, a healthy network and no
// faults, judged by the agreement and one-leader-per-term invariants only.
func BenchScenario(protocol, options string) (*scenarios.Scenario, error) {
	text := fmt.Sprintf(`name: bench-%s5
protocol: %s
nodes: 5
duration: 60s
drain: 1s
network: {latency: {min: 1ms, max: 5ms}}
workload: {clients: 4, keys: 8, rate: 100/s, timeout: 1s, retry_interval: 100ms}
checks: [agreement, one-leader-per-term]
protocol_options: %s
`, protocol, protocol, options)
	return scenarios.Parse("bench-"+protocol+".yaml", []byte(text))
}

// Bench runs one seed of sc with proto per iteration of b (seeds 1, 2, ...),
// each of which must pass, and reports simulated seconds per wall-clock
// second ("sim-s/s"), kernel events per wall-clock second and heap
// allocations per event (everything a run allocates, the protocol's, the
// workload's and the checkers', over the events it processed).
func Bench(b *testing.B, sc *scenarios.Scenario, proto runner.Protocol) {
	var simTime time.Duration
	var events uint64
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	seed := uint64(0)
	for b.Loop() {
		seed++
		rep, err := runner.Run(sc, proto, runner.Options{Seed: seed, SkipHistoryCheck: true})
		if err != nil || rep.Class != runner.Pass {
			b.Fatalf("seed %d: %v %v", seed, err, rep)
		}
		simTime += rep.SimTime
		events += rep.Events
	}
	runtime.ReadMemStats(&after)
	wall := b.Elapsed().Seconds()
	b.ReportMetric(simTime.Seconds()/wall, "sim-s/s")
	b.ReportMetric(float64(events)/wall, "events/s")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(events), "allocs/event")
}
