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
	for _, h := range bugHunts {
		r := sweep(t, 1, uint64(n), h.duration, h.opts, h.faults, false)
		t.Logf("%s hunt without the bug: %+v", h.bug, r)
		if r.first != 0 {
			t.Errorf("seed %d: %s", r.first, r.why)
		}
	}
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
