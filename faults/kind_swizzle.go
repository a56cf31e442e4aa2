package faults

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/simrun/simrun/sim"
)

// The swizzle fault (FoundationDB's swizzle-clogging): clog servers one
// after another, then unclog them in another order.

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
	in.deferAt(in.w.Now().Add(d), in.labels[sw.i]+": "+what+" "+id.String(), func() {
		switch {
		case in.stopped:
			in.note(sw.i, "did nothing: "+afterStop)
		case in.heals != sw.heals:
			in.note(sw.i, "did nothing: a heal came between")
		default:
			act(sw, id)
		}
	})
}

// swizzleClog clogs every link between x and the other servers, both ways.
func (in *Injector) swizzleClog(sw *swizzling, x sim.NodeID) {
	sw.clogged[x] = true
	for _, l := range in.nodeLinks(x) {
		in.w.Clog(l.from, l.to)
		sw.claimed[l.cell], sw.gens[l.cell] = true, in.clogClaims.claim(l.cell)
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

var swizzleKind = valueKind(func(s *Step) **Swizzle { return &s.Swizzle }, actionKind{
	name: "swizzle", takesFor: true,
	validate: func(s *Step, servers int) error { return s.Swizzle.validate(servers, s.For) },
	fire:     (*Injector).swizzle,
	clone: func(s *Step) {
		z := s.Swizzle
		z.Clog, z.Unclog = slices.Clone(z.Clog), slices.Clone(z.Unclog)
	},
	pin: func(f *firing, s *Step) {
		if f.swizzle != nil {
			s.Swizzle = f.swizzle
		}
	},
})

func drawSwizzle(rng *sim.Rand, servers int, hold Duration) Step {
	every := Duration(rng.DurationBetween(20*time.Millisecond, 200*time.Millisecond).Round(time.Millisecond))
	z := &Swizzle{Every: every}
	return Step{Swizzle: z, For: Duration(z.count(servers)-1)*every + hold}
}

// Swizzle is FoundationDB's swizzle-clogging: it clogs servers one after
// another (every link between the server and the other servers holds its
// messages, both ways), one every Every, and, For after the firing, unclogs
// them one every Every in another order. A link stays clogged while either
// end is. The gradual onset and the staggered, reordered recovery reach
// states a plain partition never does.
//
// Random form: Nodes servers (0: a majority, n/2+1) in a random order, and
// with For a random unclog order. Explicit form, as pinning writes it: Clog
// gives the clog order and, with For, Unclog the unclog order (the same
// servers). In YAML: {nodes: 3, every: 100ms} or
// {clog: [2, 0, 4], unclog: [4, 2, 0], every: 100ms}.
type Swizzle struct {
	Nodes  int      `yaml:"nodes,omitempty"`
	Clog   []int    `yaml:"clog,omitempty,flow"`
	Unclog []int    `yaml:"unclog,omitempty,flow"`
	Every  Duration `yaml:"every"` // between two clogs, and between two unclogs; > 0
}

// count is how many servers the swizzle clogs in a cluster of servers.
func (z Swizzle) count(servers int) int {
	switch {
	case z.Clog != nil:
		return len(z.Clog)
	case z.Nodes > 0:
		return z.Nodes
	}
	return servers/2 + 1
}

// String is "nodes=3 every=100ms", "majority every=100ms" or
// "clog=[2 0 4] unclog=[4 2 0] every=100ms".
func (z Swizzle) String() string {
	b := "majority"
	switch {
	case z.Clog != nil:
		b = "clog=" + fmt.Sprint(z.Clog)
		if z.Unclog != nil {
			b += " unclog=" + fmt.Sprint(z.Unclog)
		}
	case z.Nodes > 0:
		b = "nodes=" + strconv.Itoa(z.Nodes)
	}
	return b + " every=" + z.Every.String()
}

func (z *Swizzle) validate(servers int, undo Duration) error {
	switch {
	case servers < 2:
		return fieldErr("swizzle", "a swizzle needs at least 2 servers (cluster has %d)", servers)
	case z.Every <= 0:
		return fieldErr("swizzle.every", "%v is not positive: give the time between two clogs", z.Every)
	case z.Nodes != 0 && z.Clog != nil:
		return fieldErr("swizzle.nodes", "give nodes (drawn at random) or clog (an explicit order), not both")
	case z.Nodes < 0 || z.Nodes > servers:
		return fieldErr("swizzle.nodes", "%d is not in [1, %d] (cluster has %d nodes; leave it out for a majority)", z.Nodes, servers, servers)
	case z.Clog != nil && len(z.Clog) == 0:
		return fieldErr("swizzle.clog", "is empty: give the servers to clog, in order")
	case z.Unclog != nil && z.Clog == nil:
		return fieldErr("swizzle.unclog", "an explicit unclog order needs an explicit clog order")
	case z.Unclog != nil && undo == 0:
		return fieldErr("swizzle.unclog", "nothing unclogs without for: give for, or leave unclog out")
	case z.Clog != nil && undo > 0 && z.Unclog == nil:
		return fieldErr("swizzle.unclog", "missing: with for and clog, give the order to unclog them in (the same servers)")
	}
	if z.Clog != nil {
		if err := validatePermutation("swizzle.clog", z.Clog, servers); err != nil {
			return err
		}
	}
	if z.Unclog != nil {
		if err := validateReorder("swizzle.unclog", z.Unclog, z.Clog); err != nil {
			return err
		}
	}
	last := time.Duration(z.count(servers)-1) * z.Every.Duration()
	if undo > 0 && undo.Duration() < last {
		return fieldErr("for", "%v is before the last clog (%d servers, one every %v: the last at %v); unclogging starts after clogging ends",
			undo, z.count(servers), z.Every, Duration(last))
	}
	return nil
}

// validateReorder checks that list is a reordering of the servers in of.
func validateReorder(field string, list, of []int) error {
	if len(list) != len(of) {
		return fieldErr(field, "lists %d servers, clog lists %d: give the same servers", len(list), len(of))
	}
	for i, n := range list {
		if !slices.Contains(of, n) {
			return fieldErr(fmt.Sprintf("%s[%d]", field, i), "node %d is not in clog", n)
		}
		if j := slices.Index(list, n); j < i {
			return fieldErr(fmt.Sprintf("%s[%d]", field, i), "node %d is already at unclog[%d]", n, j)
		}
	}
	return nil
}
