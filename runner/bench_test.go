package runner_test

import (
	"testing"

	"github.com/simrun/simrun/registry"
	"github.com/simrun/simrun/runner"
	"github.com/simrun/simrun/scenarios"
	"github.com/simrun/simrun/simtest"
)

// BenchmarkRaft5 runs the reference load (simtest.BenchScenario) with 10ms
// heartbeats and reports simulated seconds per wall-clock second ("sim-s/s")
// and kernel events per second for one seed at a time, on one goroutine.
func BenchmarkRaft5(b *testing.B) {
	sc, err := simtest.BenchScenario("raft", "{heartbeat_interval: 10ms}")
	if err != nil {
		b.Fatal(err)
	}
	proto, _ := registry.Resolve(sc)
	simtest.Bench(b, sc, proto)
}

// BenchmarkSweepSeed runs shipped scenarios one seed per iteration (seeds
// 1, 2, ...), through Sweep's per-seed path with its default options, on one
// goroutine: the cost behind a sweep's seeds per hour per core.
func BenchmarkSweepSeed(b *testing.B) {
	for _, name := range []string{"pbft-calm", "raft-swarm", "raft-crash-churn"} {
		b.Run(name, func(b *testing.B) {
			sc, err := scenarios.ParseFile("../scenarios/" + name + ".yaml")
			if err != nil {
				b.Fatal(err)
			}
			proto, err := registry.Resolve(sc)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			seed := uint64(0)
			for b.Loop() {
				seed++
				if _, err := runner.Run(sc, proto, runner.Options{Seed: seed}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Hours(), "seeds/h")
		})
	}
}
