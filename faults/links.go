package faults

import (
	"slices"

	"github.com/simrun/simrun/sim"
)

// Links: the directed server links that network faults cut, clog and change,
// and the claims that let the latest fault on a link own its undoing.

// link is one directed server link, with its cell index.
type link struct {
	from, to sim.NodeID
	cell     int
}

func (in *Injector) linkOf(from, to sim.NodeID) link {
	return link{from: from, to: to, cell: int(from)*len(in.servers) + int(to)}
}

// groupLinks lists the links between servers of different groups, both ways.
func (in *Injector) groupLinks(groups [][]sim.NodeID) []link {
	var out []link
	for from, to := range sim.CrossGroupLinks(groups) {
		out = append(out, in.linkOf(from, to))
	}
	return out
}

// claimLinks claims links for a fault and, with For, schedules undo for
// those whose claim still holds after it.
func (in *Injector) claimLinks(i int, s Step, c claims, links []link, what string, undo func(link)) {
	gens := make([]uint32, len(links))
	for k, l := range links {
		gens[k] = c.claim(l.cell)
	}
	if s.For <= 0 {
		return
	}
	in.later(i, s.For, what, func() {
		undone := 0
		for k, l := range links {
			if c.holds(l.cell, gens[k]) {
				undo(l)
				undone++
			}
		}
		if undone == 0 && len(links) > 0 {
			in.note(i, "did nothing: later faults own the undoing of every link")
		}
	})
}

func (in *Injector) uncut(l link) {
	if in.w.IsCut(l.from, l.to) {
		in.w.Uncut(l.from, l.to)
	}
}

// nodeLinks lists the links between x and every other server, both ways.
func (in *Injector) nodeLinks(x sim.NodeID) []link {
	var out []link
	for _, o := range in.servers {
		if o != x {
			out = append(out, in.linkOf(x, o), in.linkOf(o, x))
		}
	}
	return out
}

// serverLinks lists every link between two servers, in ID order.
func (in *Injector) serverLinks() []link {
	var out []link
	for _, a := range in.servers {
		for _, b := range in.servers {
			if a != b {
				out = append(out, in.linkOf(a, b))
			}
		}
	}
	return out
}

// faultLinks lists the links a fault hits: the one link from -> to when it
// names its ends, else those many lists. It reports false, the step skipped,
// when the named link has one end.
func (in *Injector) faultLinks(i int, from, to Target, many func() []link) ([]link, bool) {
	if from.IsZero() && to.IsZero() {
		return many(), true
	}
	l, ok := in.ends(i, from, to)
	return []link{l}, ok
}

// ends resolves the two ends of a directed link fault, or reports a skip.
func (in *Injector) ends(i int, from, to Target) (link, bool) {
	a := in.resolve(i, from, sim.None)
	b := in.resolve(i, to, a)
	if a == b || b == sim.None {
		in.skip(i, "link %v->%v has one end", a, b)
		return link{}, false
	}
	return in.linkOf(a, b), true
}

func sortedIDs(ns []int) []sim.NodeID {
	ids := make([]sim.NodeID, len(ns))
	for i, n := range ns {
		ids[i] = sim.NodeID(n)
	}
	slices.Sort(ids)
	return ids
}

// validateLinkEnds checks the from and to of a directed link.
func validateLinkEnds(field string, from, to Target, servers int) error {
	if servers < 2 {
		return fieldErr(field, "a link needs at least 2 servers (cluster has %d)", servers)
	}
	if err := validateTarget(field+".from", from, servers, anyServer...); err != nil {
		return err
	}
	if err := validateTarget(field+".to", to, servers, anyServer...); err != nil {
		return err
	}
	if from == to && from.Kind != TargetRandom {
		return fieldErr(field+".to", "from and to are the same node (%v)", to)
	}
	return nil
}
