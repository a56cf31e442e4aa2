package prototest_test

import (
	"testing"
	"time"

	"github.com/simrun/simrun/internal/prototest"
	"github.com/simrun/simrun/protocols/paxos"
	"github.com/simrun/simrun/protocols/raft"
	"github.com/simrun/simrun/sim"
	"github.com/simrun/simrun/workload"
)

// BenchmarkCluster simulates the reference load on each crash-fault
// protocol, side by side: five servers with 10ms heartbeats, a link of 1-10ms
// latency and four closed-loop clients thinking 20ms, ten simulated seconds an
// iteration. It reports simulated seconds per wall-clock second (the target is
// at least 1000 on one core), and operations acknowledged and events per
// simulated second.
func BenchmarkCluster(b *testing.B) {
	const heartbeat = 10 * time.Millisecond
	for _, p := range []struct {
		name    string
		factory func() (sim.Factory, error)
	}{
		{"paxos", func() (sim.Factory, error) {
			cfg := paxos.DefaultConfig()
			cfg.HeartbeatInterval = heartbeat
			return paxos.New(cfg, workload.NewKV)
		}},
		{"raft", func() (sim.Factory, error) {
			cfg := raft.DefaultConfig()
			cfg.HeartbeatInterval = heartbeat
			return raft.New(cfg, workload.NewKV)
		}},
	} {
		b.Run(p.name, func(b *testing.B) {
			f, err := p.factory()
			if err != nil {
				b.Fatal(err)
			}
			benchmarkCluster(b, f)
		})
	}
}

// benchmarkCluster runs the reference load on factory's servers.
func benchmarkCluster(b *testing.B, factory sim.Factory) {
	const simulated = 10 * time.Second
	var acked, events uint64
	b.ReportAllocs()
	for b.Loop() {
		w := prototest.NewWorld(b, prototest.WorldConfig{Seed: 1, Servers: 5, Factory: factory,
			Link: sim.Link{LatencyMin: time.Millisecond, LatencyMax: 10 * time.Millisecond},
			Workload: workload.Config{Clients: 4, Keys: 5, Mix: workload.Mix{Get: 3, Put: 3, Append: 1, CAS: 1},
				ThinkTime: 20 * time.Millisecond, Timeout: time.Second, RetryInterval: 100 * time.Millisecond}})
		w.W.RunUntil(sim.Time(simulated))
		acked += uint64(w.Acked(0))
		events += w.W.Events()
	}
	n := float64(b.N)
	b.ReportMetric(simulated.Seconds()*n/b.Elapsed().Seconds(), "sim-s/s")
	b.ReportMetric(float64(acked)/n/simulated.Seconds(), "ops/sim-s")
	b.ReportMetric(float64(events)/n/simulated.Seconds(), "events/sim-s")
}
