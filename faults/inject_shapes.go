package faults

import (
	"time"

	"github.com/simrun/simrun/sim"
)

// The compound faults: partition shapes beyond two sides (bridge, ring),
// crashes of the whole cluster (all, rolling) and swizzle-clogging. Each is
// built from the same claims as the simple faults, so that a later fault on
// the same server or link owns its undoing.

// bridgeGroups draws a bridge and splits the other servers into two random
// halves (Jepsen's bridge): the bridge is in no group, so it keeps every link.
func (in *Injector) bridgeGroups() [][]sim.NodeID {
	perm := in.rng.Perm(len(in.servers))
	rest := perm[1:]
	return in.drawnGroups(rest[:len(rest)/2], rest[len(rest)/2:])
}

// ring cuts a majorities ring (Jepsen's majorities-ring): each server keeps
// its links to the servers within RingReach places of it around the ring,
// both ways, and loses the others.
func (in *Injector) ring(i int, s Step) {
	order := s.Partition.Ring.Order
	if s.Partition.Ring.Random {
		order = in.rng.Perm(len(in.servers))
		in.firing.ring = order
	}
	links := in.ringLinks(order)
	for _, l := range links {
		in.w.Cut(l.from, l.to)
	}
	in.counts.Partitions++
	in.claimLinks(i, s, in.cutClaims, links, "heal this ring", in.uncut)
}

// ringLinks lists the server links a ring in this order cuts, in ID order.
func (in *Injector) ringLinks(order []int) []link {
	n := len(in.servers)
	place := make([]int, n)
	for p, id := range order {
		place[id] = p
	}
	reach := RingReach(n)
	var out []link
	for a := range n {
		for b := range n {
			gap := (place[a] - place[b] + n) % n
			if min(gap, n-gap) > reach {
				out = append(out, in.linkOf(in.servers[a], in.servers[b]))
			}
		}
	}
	return out
}

// crashAll crashes every server that is up at once and, with down, restarts
// each of them after it (unless a later crash claimed it meanwhile).
func (in *Injector) crashAll(i int, s Step) {
	var ids []sim.NodeID
	var gens []uint32
	for _, id := range in.servers {
		if in.w.Up(id) {
			ids, gens = append(ids, id), append(gens, in.crashServer(id))
		}
	}
	if len(ids) == 0 {
		in.skip(i, "every server is already down")
		return
	}
	if s.Down > 0 {
		in.later(i, s.Down, "restart all", func() {
			for k, id := range ids {
				if in.crashClaims.holds(int(id), gens[k]) {
					in.restart(id)
				}
			}
		})
	}
}

// rollingRestart crashes server k for down, then restarts it and goes on
// with server k+1, in ID order: one server down at a time, as an operator
// upgrading a cluster does. A server already down, or one that max_down
// holds back, is skipped, and its turn passes idle.
func (in *Injector) rollingRestart(i int, s Step, k int) {
	in.firing.scheduled = true
	id := in.servers[k]
	crashed, g := false, uint32(0)
	switch {
	case !in.admit(i, s):
	case !in.w.Up(id):
		in.skip(i, "%v is already down", id)
	default:
		crashed, g = true, in.crashServer(id)
	}
	what := "restart " + id.String()
	if k+1 < len(in.servers) {
		what += ", crash " + in.servers[k+1].String()
	}
	in.later(i, s.Down, what, func() {
		if crashed && in.crashClaims.holds(int(id), g) {
			in.restart(id)
		}
		if k+1 < len(in.servers) {
			in.rollingRestart(i, s, k+1)
		}
	})
}

// swizzling is one swizzle in progress: which servers it holds clogged now,
// and its claim on each link it clogged.
type swizzling struct {
	i, n    int
	heals   uint32   // the heal generation it runs in
	clogged []bool   // per server
	claimed []bool   // per link cell: this swizzle clogged it
	gens    []uint32 // per link cell: the claim it made
}

// swizzle clogs the servers one every Every and, For after the firing,
// unclogs them one every Every in another order (FoundationDB's
// swizzle-clogging). A heal, or the end of the schedule, cancels what is
// still pending.
func (in *Injector) swizzle(i int, s Step) {
	z := s.Swizzle
	clogs, unclogs := z.Clog, z.Unclog
	if clogs == nil {
		n := len(in.servers)
		clogs = in.rng.Perm(n)[:z.count(n)]
		if s.For > 0 {
			unclogs = make([]int, len(clogs))
			for k, p := range in.rng.Perm(len(clogs)) {
				unclogs[k] = clogs[p]
			}
		}
		in.firing.swizzle = &Swizzle{Clog: clogs, Unclog: unclogs, Every: z.Every}
	}
	n := len(in.servers)
	sw := &swizzling{i: i, n: n, heals: in.heals, clogged: make([]bool, n), claimed: make([]bool, n*n), gens: make([]uint32, n*n)}
	in.swizzleClog(sw, in.servers[clogs[0]])
	for k, id := range clogs[1:] {
		in.swizzleLater(sw, time.Duration(k+1)*z.Every.Duration(), "clog", in.servers[id], in.swizzleClog)
	}
	if s.For <= 0 {
		return
	}
	for k, id := range unclogs {
		in.swizzleLater(sw, s.For.Duration()+time.Duration(k)*z.Every.Duration(), "unclog", in.servers[id], in.swizzleUnclog)
	}
}

// swizzleLater schedules one step of a swizzle, which does nothing once the
// schedule stopped or a heal came between.
func (in *Injector) swizzleLater(sw *swizzling, d time.Duration, what string, id sim.NodeID, act func(*swizzling, sim.NodeID)) {
	in.w.At(in.w.Now().Add(d), in.labels[sw.i]+": "+what+" "+id.String(), func() {
		if !in.stopped && in.heals == sw.heals {
			act(sw, id)
		}
	})
}

// swizzleClog clogs every link between x and the other servers, both ways.
func (in *Injector) swizzleClog(sw *swizzling, x sim.NodeID) {
	sw.clogged[x] = true
	for _, o := range in.servers {
		if o == x {
			continue
		}
		for _, l := range []link{in.linkOf(x, o), in.linkOf(o, x)} {
			in.w.Clog(l.from, l.to)
			sw.claimed[l.cell], sw.gens[l.cell] = true, in.clogClaims.claim(l.cell)
		}
	}
	in.counts.Clogs++
}

// swizzleUnclog unclogs x's links, except those to a server this swizzle
// still holds clogged, and those a later fault claimed.
func (in *Injector) swizzleUnclog(sw *swizzling, x sim.NodeID) {
	sw.clogged[x] = false
	for _, o := range in.servers {
		if o == x || sw.clogged[o] {
			continue
		}
		for _, l := range []link{in.linkOf(x, o), in.linkOf(o, x)} {
			if sw.claimed[l.cell] && in.clogClaims.holds(l.cell, sw.gens[l.cell]) && in.w.IsClogged(l.from, l.to) {
				in.w.Unclog(l.from, l.to)
			}
		}
	}
}
