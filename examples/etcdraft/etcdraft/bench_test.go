package etcdraft_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/simrun/simrun/examples/etcdraft/etcdraft"
	"github.com/simrun/simrun/registry"
	"github.com/simrun/simrun/runner"
	"github.com/simrun/simrun/scenarios"
)

// benchEtcdRaft5 is simrun's BenchmarkRaft5 scenario (runner/bench_test.go)
// with etcd-raft: five servers, 10ms heartbeats (one 10ms tick), election
// timeouts of 300-600ms (30 ticks), 100 client operations per second (open
// loop), a healthy network and no faults.
const benchEtcdRaft5 = `name: bench-etcdraft5
protocol: etcdraft
nodes: 5
duration: 60s
drain: 1s
network: {latency: {min: 1ms, max: 5ms}}
workload: {clients: 4, keys: 8, rate: 100/s, timeout: 1s, retry_interval: 100ms}
checks: [agreement, one-leader-per-term]
protocol_options: {tick_interval: 10ms, heartbeat_ticks: 1, election_ticks: 30}
`

// benchSeeds runs one seed per iteration (seeds 1, 2, ...) and reports
// simulated seconds per wall-clock second ("sim-s/s") and kernel events per
// second, as runner's BenchmarkRaft5 does. Porcupine is left out: it judges
// the history, not the simulation.
func benchSeeds(b *testing.B, sc *scenarios.Scenario, proto runner.Protocol) {
	var simTime time.Duration
	var events uint64
	seed := uint64(0)
	start := time.Now()
	for b.Loop() {
		seed++
		rep, err := runner.Run(sc, proto, runner.Options{Seed: seed, SkipHistoryCheck: true})
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

// BenchmarkEtcdRaft5 is BenchmarkRaft5's load on etcd-raft.
func BenchmarkEtcdRaft5(b *testing.B) {
	sc, err := scenarios.Parse("bench.yaml", []byte(benchEtcdRaft5))
	if err != nil {
		b.Fatal(err)
	}
	benchSeeds(b, sc, etcdraft.Protocol())
}

// BenchmarkEtcdRaftCrashChurn runs seeds of etcdraft-crash-churn.
func BenchmarkEtcdRaftCrashChurn(b *testing.B) {
	benchSeeds(b, load(b, "etcdraft-crash-churn.yaml", 0), etcdraft.Protocol())
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
			benchSeeds(b, sc, p)
			return
		}
	}
	b.Fatal("simrun ships no raft protocol")
}
