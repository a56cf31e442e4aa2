package paxos

import (
	"testing"
	"time"

	"github.com/simrun/simrun/internal/prototest"
	"github.com/simrun/simrun/sim"
	"github.com/simrun/simrun/workload"
)

// BenchmarkCluster simulates the reference load, as raft's benchmark does:
// five servers, 10ms heartbeats, 1-10ms latency and four closed-loop clients
// thinking 20ms.
func BenchmarkCluster(b *testing.B) {
	cfg := DefaultConfig()
	cfg.HeartbeatInterval = 10 * time.Millisecond
	f, err := New(cfg, workload.NewKV)
	if err != nil {
		b.Fatal(err)
	}
	prototest.BenchmarkCluster(b, f, sim.Link{LatencyMin: time.Millisecond, LatencyMax: 10 * time.Millisecond})
}
