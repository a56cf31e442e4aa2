package paxos

import (
	"testing"
	"time"
)

// BenchmarkCluster simulates the reference load (as raft's benchmark does):
// five servers, 10ms heartbeats, 1-10ms latency and four closed-loop clients
// thinking 20ms. It reports simulated seconds per wall-clock second and
// operations acknowledged per simulated second.
func BenchmarkCluster(b *testing.B) {
	const simulated = 10 * time.Second
	var acked, events uint64
	b.ReportAllocs()
	for b.Loop() {
		o := defaultOpts(1)
		o.cfg.HeartbeatInterval = 10 * time.Millisecond
		o.link.LatencyMax = 10 * time.Millisecond
		o.think = 20 * time.Millisecond
		c := newCluster(b, o)
		c.w.RunUntil(at(simulated))
		acked += uint64(c.acked(0))
		events += c.w.Events()
	}
	n := float64(b.N)
	b.ReportMetric(simulated.Seconds()*n/b.Elapsed().Seconds(), "sim-s/s")
	b.ReportMetric(float64(acked)/n/simulated.Seconds(), "ops/sim-s")
	b.ReportMetric(float64(events)/n/simulated.Seconds(), "events/sim-s")
}
