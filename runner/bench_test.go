package runner_test

import (
	"testing"

	"github.com/simrun/simrun/registry"
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
