package raft

import (
	"testing"
	"time"

	"github.com/simrun/simrun/internal/prototest"
	"github.com/simrun/simrun/sim"
	"github.com/simrun/simrun/workload"
)

// BenchmarkCluster simulates the reference load: five servers, 10ms
// heartbeats, 1-10ms latency and four closed-loop clients thinking 20ms. It
// reports simulated seconds per wall-clock second (the target is at least
// 1000 on one core) and operations acknowledged per simulated second.
func BenchmarkCluster(b *testing.B) {
	cfg := DefaultConfig()
	cfg.HeartbeatInterval = 10 * time.Millisecond
	f, err := New(cfg, workload.NewKV)
	if err != nil {
		b.Fatal(err)
	}
	prototest.BenchmarkCluster(b, f, sim.Link{LatencyMin: time.Millisecond, LatencyMax: 10 * time.Millisecond})
}
