package paxos

import (
	"testing"
	"time"

	"github.com/simrun/simrun/internal/prototest"
)

// BenchmarkCluster simulates the reference load (prototest.BenchmarkCluster),
// as raft's benchmark does, with 10ms heartbeats.
func BenchmarkCluster(b *testing.B) {
	cfg := DefaultConfig()
	cfg.HeartbeatInterval = 10 * time.Millisecond
	prototest.BenchmarkCluster(b, kit.Factory(b, cfg))
}
