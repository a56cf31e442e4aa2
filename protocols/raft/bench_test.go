package raft

import (
	"testing"
	"time"

	"github.com/simrun/simrun/internal/prototest"
)

// BenchmarkCluster simulates the reference load (prototest.BenchmarkCluster)
// with 10ms heartbeats. It reports simulated seconds per wall-clock second
// (the target is at least 1000 on one core) and operations acknowledged per
// simulated second.
func BenchmarkCluster(b *testing.B) {
	cfg := DefaultConfig()
	cfg.HeartbeatInterval = 10 * time.Millisecond
	prototest.BenchmarkCluster(b, kit.Factory(b, cfg))
}
