package raft

import (
	"os"
	"strconv"
	"testing"
	"time"
)

// sweepResult summarizes a seed sweep.
type sweepResult struct {
	seeds      int
	violations int
	crashes    int
	first      uint64 // first seed with a violation or crash, 0 if none
	why        string
}

// sweep runs seeds from..to (inclusive) for d each and reports the seeds that
// end in a safety violation or a protocol crash. stopAtFirst ends the sweep
// at the first one.
func sweep(t testing.TB, from, to uint64, d time.Duration, opts func(seed uint64) clusterOpts,
	nm nemesis, stopAtFirst bool) sweepResult {
	t.Helper()
	var r sweepResult
	for seed := from; seed <= to; seed++ {
		r.seeds++
		c := newCluster(t, opts(seed))
		nm.install(c)
		c.w.RunUntil(at(d))
		res := c.w.Result()
		why := c.safety.violation
		if res.Crash != nil {
			r.crashes++
			why = res.Crash.Error()
		} else if why != "" {
			r.violations++
		}
		if why != "" && r.first == 0 {
			r.first, r.why = seed, why
		}
		if why != "" && stopAtFirst {
			break
		}
	}
	return r
}

// liveAfterHeal runs c for another 5s after the faults ended and reports why
// it did not converge: every client must complete operations, and every
// server must apply at least what was committed anywhere when faults ended.
func liveAfterHeal(c *cluster, end time.Duration) string {
	committed := c.safety.maxCommit
	c.w.RunUntil(at(end + 5*time.Second))
	if c.safety.violation != "" {
		return c.safety.violation
	}
	for i, l := range c.clients {
		if l.lastAck < at(end+3*time.Second) {
			return "client " + strconv.Itoa(i) + " made no progress after the faults healed"
		}
	}
	for _, id := range c.servers {
		if n := c.raftNode(id); n == nil || n.applied < committed {
			return "server " + id.String() + " did not catch up after the faults healed"
		}
	}
	return ""
}

// TestLongSweep is an opt-in soak: RAFT_SWEEP=<seeds> go test -run TestLongSweep.
func TestLongSweep(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("RAFT_SWEEP"))
	if n == 0 {
		t.Skip("set RAFT_SWEEP=<seeds> to run")
	}
	opts := func(seed uint64) clusterOpts {
		o := defaultOpts(seed)
		o.link.Drop, o.link.Duplicate = 0.02, 0.02
		o.link.TailProb, o.link.TailMean = 0.01, 50*time.Millisecond
		return o
	}
	r := sweep(t, 1, uint64(n), mixedFaults.end, opts, mixedFaults, false)
	t.Logf("mixed faults: %+v", r)
	if r.first != 0 {
		t.Errorf("seed %d: %s", r.first, r.why)
	}
	checkLiveness(t, "mixed faults", n, opts, mixedFaults)
	for _, extra := range []struct {
		name string
		nm   nemesis
		opts func(uint64) clusterOpts
	}{
		{"every fault", everyFault, opts},
		{"mixed faults with BUGGIFY", mixedFaults, func(seed uint64) clusterOpts { o := opts(seed); o.buggify = 0.7; return o }},
		{"corruption, 3 servers", corruptionFaults, func(seed uint64) clusterOpts { o := defaultOpts(seed); o.servers = 3; return o }},
		{"corruption, 5 servers", corruptionFaults, defaultOpts},
	} {
		r := sweep(t, 1, uint64(n), extra.nm.end, extra.opts, extra.nm, false)
		t.Logf("%s: %+v", extra.name, r)
		if r.first != 0 {
			t.Errorf("seed %d: %s", r.first, r.why)
		}
		checkLiveness(t, extra.name, n, extra.opts, extra.nm)
	}
	for _, h := range bugHunts {
		r := sweep(t, 1, uint64(n), h.duration, h.opts, h.faults, false)
		t.Logf("%s hunt without the bug: %+v", h.bug, r)
		if r.first != 0 {
			t.Errorf("seed %d: %s", r.first, r.why)
		}
		checkLiveness(t, h.bug+" hunt without the bug", n, h.opts, h.faults)
	}
}

func checkLiveness(t *testing.T, name string, seeds int, opts func(uint64) clusterOpts, nm nemesis) {
	stalls := 0
	for seed := uint64(1); seed <= uint64(seeds); seed++ {
		c := newCluster(t, opts(seed))
		nm.install(c)
		c.w.RunUntil(at(nm.end))
		if why := liveAfterHeal(c, nm.end); why != "" {
			stalls++
			t.Errorf("%s: seed %d: %s", name, seed, why)
		}
	}
	t.Logf("%s: liveness after healing: %d of %d seeds stalled", name, stalls, seeds)
}

// TestBugHuntRates measures how often each hunt exposes its bug:
// RAFT_HUNT_RATES=<seeds> go test -run TestBugHuntRates.
func TestBugHuntRates(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("RAFT_HUNT_RATES"))
	if n == 0 {
		t.Skip("set RAFT_HUNT_RATES=<seeds> to run")
	}
	for _, h := range bugHunts {
		opts := func(seed uint64) clusterOpts {
			o := h.opts(seed)
			o.cfg.Bugs = []string{h.bug}
			return o
		}
		r := sweep(t, 1, uint64(n), h.duration, opts, h.faults, false)
		t.Logf("%s: %d violations, %d crashes in %d seeds (first: seed %d, %s)",
			h.bug, r.violations, r.crashes, r.seeds, r.first, r.why)
	}
}
