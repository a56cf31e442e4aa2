package runner_test

import (
	"testing"

	"github.com/simrun/simrun/registry"
	"github.com/simrun/simrun/scenarios"
	"github.com/simrun/simrun/simtest"
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
func BenchmarkRaft5(b *testing.B) {
	sc, err := scenarios.Parse("bench.yaml", []byte(benchScenario))
	if err != nil {
		b.Fatal(err)
	}
	proto, _ := registry.Resolve(sc)
	simtest.Bench(b, sc, proto)
}
