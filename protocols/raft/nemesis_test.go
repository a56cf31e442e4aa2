package raft

import (
	"time"

	"github.com/simrun/simrun/sim"
)

// nemesis injects faults into a cluster from the world's "faults" stream, so
// that a seed fixes the whole fault schedule. Between start and end it strikes
// every gap (drawn from [gapMin, gapMax]) with one of the enabled faults; at
// end it heals every partition and restarts every server.
type nemesis struct {
	start, end     time.Duration
	gapMin, gapMax time.Duration
	// crash: crash 1..crashMax random running servers at once, each restarted
	// after a down time drawn from [downMin, downMax].
	crash            bool
	crashMax         int
	downMin, downMax time.Duration
	// crashLeader: crash the latest elected leader (if running), restarted
	// after a down time as for crash.
	crashLeader bool
	// corrupt: flip a bit of one durable record of a random server (or the
	// leader, half the time) and crash it, so that it restarts from the
	// corrupted disk after a down time as for crash.
	corrupt bool
	// pause: pause a random server (or the leader, half the time), resuming
	// it after a duration drawn from [healMin, healMax]; clog: clog every
	// link of one server likewise; clocks: step a random server's clock by up
	// to ±1s or set its rate to 0.5-2x; slowDisks: from the start, every
	// server's syncs take 0-5ms and a crash tears unsynced writes.
	pause, clog, clocks, slowDisks bool
	// partition: split the servers in two random groups; isolateLeader: cut
	// the latest elected leader, alone or with one random peer, from the
	// rest. Either heals after a duration drawn from [healMin, healMax].
	partition, isolateLeader bool
	healMin, healMax         time.Duration
	// isolateElected is the probability that a newly elected leader is
	// isolated (alone or with one peer) within electedDelayMax of its
	// election, while its first entries are still on their way; it heals as
	// above. This strands entries of many terms on minorities: the raw
	// material of Raft's Figure 8.
	isolateElected  float64
	electedDelayMax time.Duration
}

type nemesisRun struct {
	nemesis
	c      *cluster
	rng    *sim.Rand
	leader sim.NodeID
	term   uint64
}

func (nm nemesis) install(c *cluster) {
	r := &nemesisRun{nemesis: nm, c: c, rng: c.w.Stream("faults"), leader: sim.None}
	c.w.OnObservation(func(o sim.Observation) {
		if o.Kind == sim.ObsLeader && o.Term >= r.term {
			r.leader, r.term = o.Node, o.Term
			r.maybeIsolateElected()
		}
	})
	if nm.slowDisks {
		for _, id := range c.servers {
			if err := c.w.SetDiskFaults(id, sim.DiskFaults{TornWrites: true, SyncLatencyMax: 5 * time.Millisecond}); err != nil {
				panic(err)
			}
		}
	}
	c.w.At(at(nm.start), "nemesis start", r.strike)
	c.w.At(at(nm.end), "nemesis end: heal and restart all", func() {
		c.w.HealAll()
		for _, id := range c.servers {
			c.w.Restart(id)
			c.w.Resume(id)
			c.w.UnclogNode(id)
			if err := c.w.SetClockRate(id, 1); err != nil {
				panic(err)
			}
		}
	})
}

func (r *nemesisRun) strike() {
	var kinds []func()
	for _, k := range []struct {
		on     bool
		strike func()
	}{
		{r.crash, r.crashSome}, {r.crashLeader, r.crashTheLeader}, {r.corrupt, r.corruptOne},
		{r.pause, r.pauseOne}, {r.clog, r.clogOne}, {r.clocks, r.shiftClock},
		{r.partition, r.split}, {r.isolateLeader, r.isolate},
	} {
		if k.on {
			kinds = append(kinds, k.strike)
		}
	}
	if len(kinds) > 0 {
		kinds[r.rng.IntN(len(kinds))]()
	}
	next := r.c.w.Now().Add(r.rng.DurationBetween(r.gapMin, r.gapMax))
	if next < at(r.end) {
		r.c.w.At(next, "nemesis", r.strike)
	}
}

func (r *nemesisRun) maybeIsolateElected() {
	now := r.c.w.Now()
	if r.isolateElected == 0 || now < at(r.start) || now >= at(r.end) || !r.rng.Chance(r.isolateElected) {
		return
	}
	when := now.Add(r.rng.DurationBetween(0, r.electedDelayMax))
	if when < at(r.end) {
		r.c.w.At(when, "isolate the new leader", r.isolate)
	}
}

func (r *nemesisRun) crashSome() {
	k := 1 + r.rng.IntN(r.crashMax)
	for _, i := range r.rng.Perm(len(r.c.servers)) {
		if id := r.c.servers[i]; k > 0 && r.c.w.Up(id) {
			k--
			r.bounce(id)
		}
	}
}

func (r *nemesisRun) crashTheLeader() {
	if r.leader == sim.None || !r.c.w.Up(r.leader) {
		r.crashSome()
		return
	}
	r.bounce(r.leader)
}

func (r *nemesisRun) corruptOne() {
	id := r.victim()
	r.c.w.CorruptDisk(id)
	if r.c.w.Up(id) {
		r.bounce(id)
	}
}

// victim picks a random server, or the leader half the time.
func (r *nemesisRun) victim() sim.NodeID {
	id := r.c.servers[r.rng.IntN(len(r.c.servers))]
	if r.leader != sim.None && r.rng.Chance(0.5) {
		id = r.leader
	}
	return id
}

func (r *nemesisRun) pauseOne() {
	id := r.victim()
	r.c.w.Pause(id)
	r.later(r.rng.DurationBetween(r.healMin, r.healMax), "resume", func() { r.c.w.Resume(id) })
}

func (r *nemesisRun) clogOne() {
	id := r.victim()
	r.c.w.ClogNode(id)
	r.later(r.rng.DurationBetween(r.healMin, r.healMax), "unclog", func() { r.c.w.UnclogNode(id) })
}

func (r *nemesisRun) shiftClock() {
	id := r.victim()
	if r.rng.Chance(0.5) {
		r.c.w.SkewClock(id, r.rng.DurationBetween(-time.Second, time.Second))
		return
	}
	if err := r.c.w.SetClockRate(id, 0.5+1.5*r.rng.Float64()); err != nil {
		panic(err)
	}
}

// later runs fn after d, unless that is past the end of the faults.
func (r *nemesisRun) later(d time.Duration, label string, fn func()) {
	if t := r.c.w.Now().Add(d); t < at(r.end) {
		r.c.w.At(t, label, fn)
	}
}

// bounce crashes id and schedules its restart.
func (r *nemesisRun) bounce(id sim.NodeID) {
	r.c.w.Crash(id)
	back := r.c.w.Now().Add(r.rng.DurationBetween(r.downMin, r.downMax))
	if back < at(r.end) {
		r.c.w.At(back, "restart", func() { r.c.w.Restart(id) })
	}
}

func (r *nemesisRun) split() {
	var a, b []sim.NodeID
	for _, id := range r.c.servers {
		if r.rng.Chance(0.5) {
			a = append(a, id)
		} else {
			b = append(b, id)
		}
	}
	r.cut(a, b)
}

func (r *nemesisRun) isolate() {
	if r.leader == sim.None {
		r.split()
		return
	}
	a := []sim.NodeID{r.leader}
	var b []sim.NodeID
	buddy := sim.None
	if r.rng.Chance(0.5) {
		buddy = r.c.servers[r.rng.IntN(len(r.c.servers))]
	}
	for _, id := range r.c.servers {
		switch id {
		case r.leader:
		case buddy:
			a = append(a, id)
		default:
			b = append(b, id)
		}
	}
	r.cut(a, b)
}

func (r *nemesisRun) cut(a, b []sim.NodeID) {
	if len(a) == 0 || len(b) == 0 {
		return
	}
	r.c.w.Partition(a, b)
	heal := r.c.w.Now().Add(r.rng.DurationBetween(r.healMin, r.healMax))
	if heal < at(r.end) {
		r.c.w.At(heal, "heal", r.c.w.HealAll)
	}
}
