package runner_test

import (
	"testing"
	"time"

	"github.com/simrun/simrun/registry"
	"github.com/simrun/simrun/runner"
	"github.com/simrun/simrun/scenarios"
)

// benchScenario is the Raft throughput benchmark of the foundation issue: five
// servers, 10ms heartbeats, 100 client operations per second (open loop), a
// healthy network and no faults.
const benchScenario = `name: bench-raft5
protocol: raft
nodes: 5
duration: 60s
drain: 1s
network: {latency: {min: 1ms, max: 5ms}}
workload: {clients: 4, keys: 8, rate: 100/s, timeout: 1s, retry_interval: 100ms}
checks: [agreement, one-leader-per-term]
protocol_options: {heartbeat_interval: 10ms}
`

// BenchmarkRaft5 reports simulated seconds per wall-clock second ("sim-s/s")
// and kernel events per second for one seed at a time, on one goroutine.
// Linearizability is left out: it judges the history, not the simulation.
func BenchmarkRaft5(b *testing.B) {
	sc, err := scenarios.Parse("bench.yaml", []byte(benchScenario))
	if err != nil {
		b.Fatal(err)
	}
	proto, _ := registry.Resolve(sc)
	var simTime time.Duration
	var events uint64
	seed := uint64(0)
	start := time.Now()
	for b.Loop() {
		seed++
		rep, err := runner.Run(sc, proto, runner.Options{Seed: seed})
		if err != nil || rep.Class != runner.Pass {
			b.Fatalf("seed %d: %v %v", seed, err, rep)
		}
		simTime += rep.SimTime
		events += rep.Events
	}
	wall := time.Since(start).Seconds()
	b.ReportMetric(simTime.Seconds()/wall, "sim-s/s")
	b.ReportMetric(float64(events)/wall, "events/s")
}
