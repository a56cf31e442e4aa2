package etcdraft_test

import (
	"path/filepath"
	"testing"

	"github.com/simrun/simrun/examples/etcdraft/etcdraft"
	"github.com/simrun/simrun/registry"
	"github.com/simrun/simrun/scenarios"
	"github.com/simrun/simrun/simtest"
)

// BenchmarkEtcdRaft5 is runner's BenchmarkRaft5 load (simtest.BenchScenario)
// on etcd-raft: 10ms heartbeats (one 10ms tick) and election timeouts of
// 300-600ms (30 ticks).
func BenchmarkEtcdRaft5(b *testing.B) {
	sc, err := simtest.BenchScenario("etcdraft", "{tick_interval: 10ms, heartbeat_ticks: 1, election_ticks: 30}")
	if err != nil {
		b.Fatal(err)
	}
	simtest.Bench(b, sc, etcdraft.Protocol())
}

// BenchmarkEtcdRaftCrashChurn runs seeds of etcdraft-crash-churn.
func BenchmarkEtcdRaftCrashChurn(b *testing.B) {
	simtest.Bench(b, load(b, "etcdraft-crash-churn.yaml", 0), etcdraft.Protocol())
}

// BenchmarkRaftCrashChurn runs the same seeds of simrun's raft-crash-churn,
// the same timeline with simrun's own Raft, for comparison in one run.
func BenchmarkRaftCrashChurn(b *testing.B) {
	sc, err := scenarios.ParseFile(filepath.Join("..", "..", "..", "scenarios", "raft-crash-churn.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	for _, p := range registry.Shipped() {
		if p.Name == "raft" {
			simtest.Bench(b, sc, p)
			return
		}
	}
	b.Fatal("simrun ships no raft protocol")
}
