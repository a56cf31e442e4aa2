package faults

import (
	"fmt"
	"slices"
	"strings"

	"github.com/simrun/simrun/sim"
)

// The partition fault: cut the links between groups of servers, both ways.
// Shapes: isolate one server, random halves, explicit groups, a bridge
// (Jepsen's: two halves joined by one server) and a majorities ring.

func (in *Injector) partition(i int, s Step) {
	if s.Partition.Ring != nil {
		in.ring(i, s)
		return
	}
	groups := in.partitionGroups(i, *s.Partition)
	in.w.Partition(groups...)
	in.counts.Partitions++
	in.claimLinks(i, s, in.cutClaims, in.groupLinks(groups), "heal this partition", in.uncut)
}

func (in *Injector) partitionGroups(i int, p Partition) [][]sim.NodeID {
	switch {
	case p.Isolate.Kind != TargetNone:
		x := in.resolve(i, p.Isolate, sim.None)
		rest := make([]sim.NodeID, 0, len(in.servers)-1)
		for _, id := range in.servers {
			if id != x {
				rest = append(rest, id)
			}
		}
		return [][]sim.NodeID{{x}, rest}
	case p.Halves:
		perm := in.rng.Perm(len(in.servers))
		return in.drawnGroups(perm[:len(in.servers)/2], perm[len(in.servers)/2:])
	case p.Bridge:
		return in.bridgeGroups()
	}
	groups := make([][]sim.NodeID, 0, len(p.Groups))
	for _, g := range p.Groups {
		groups = append(groups, sortedIDs(g))
	}
	return groups
}

// drawnGroups makes groups of drawn servers and keeps them for pinning.
func (in *Injector) drawnGroups(drawn ...[]int) [][]sim.NodeID {
	groups := make([][]sim.NodeID, len(drawn))
	in.firing.groups = make([][]int, len(drawn))
	for k, g := range drawn {
		groups[k] = sortedIDs(g)
		in.firing.groups[k] = slices.Sorted(slices.Values(g))
	}
	return groups
}

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

var partitionKind = valueKind(func(s *Step) **Partition { return &s.Partition }, actionKind{
	name: "partition", takesFor: true,
	validate: func(s *Step, servers int) error { return s.Partition.validate(servers) },
	fire:     (*Injector).partition,
	targets:  func(s *Step) []*Target { return []*Target{&s.Partition.Isolate} },
	clone: func(s *Step) {
		p := s.Partition
		if p.Groups != nil {
			p.Groups = slices.Clone(p.Groups)
			for i, g := range p.Groups {
				p.Groups[i] = slices.Clone(g)
			}
		}
		if p.Ring != nil {
			p.Ring = &Ring{Random: p.Ring.Random, Order: slices.Clone(p.Ring.Order)}
		}
	},
	pin: func(f *firing, s *Step) {
		p := s.Partition
		switch {
		case (p.Halves || p.Bridge) && f.groups != nil:
			p.Halves, p.Bridge, p.Groups = false, false, f.groups
		case p.Ring != nil && p.Ring.Random && f.ring != nil:
			p.Ring = &Ring{Order: f.ring}
		}
	},
})

func drawHalves(_ *sim.Rand, _ int, hold Duration) Step {
	return Step{Partition: &Partition{Halves: true}, For: hold}
}

func drawIsolateLeader(_ *sim.Rand, _ int, hold Duration) Step {
	return Step{Partition: &Partition{Isolate: Leader()}, For: hold}
}

// drawBridge falls back to halves below three servers (a bridge needs two
// sides and the bridge).
func drawBridge(rng *sim.Rand, servers int, hold Duration) Step {
	if servers < 3 {
		return drawHalves(rng, servers, hold)
	}
	return Step{Partition: &Partition{Bridge: true}, For: hold}
}

// drawRing falls back to halves below four servers (a ring of three is a
// full mesh of majorities).
func drawRing(rng *sim.Rand, servers int, hold Duration) Step {
	if servers < 4 {
		return drawHalves(rng, servers, hold)
	}
	return Step{Partition: &Partition{Ring: &Ring{Random: true}}, For: hold}
}

// Partition is the shape of a partition: exactly one of Isolate, Halves,
// Groups, Bridge and Ring. In YAML it is a mapping ({isolate: 2},
// {halves: true}, {groups: [[0, 1], [2, 3, 4]]}, {bridge: true},
// {ring: [3, 0, 4, 1, 2]}) or one of the shorthands isolate-leader,
// isolate-random, halves, bridge and ring.
type Partition struct {
	// Isolate cuts one server (a node, random or leader) off from every other
	// server. Clients keep their links to it: an isolated leader still hears
	// clients but cannot reach a quorum.
	Isolate Target `yaml:"isolate,omitempty"`
	// Halves splits the servers into a random minority of n/2 (rounded down)
	// and a majority.
	Halves bool `yaml:"halves,omitempty"`
	// Groups lists explicit groups of servers; links between groups are cut,
	// servers in no group keep all their links.
	Groups [][]int `yaml:"groups,omitempty,flow"`
	// Bridge (Jepsen's bridge) draws one server, the bridge, and splits the
	// others into two random halves: the links between the halves are cut,
	// the bridge keeps all its links and alone sees both sides. Two leaders
	// can each gather a majority through it. Pinned as Groups, without the
	// bridge.
	Bridge bool `yaml:"bridge,omitempty"`
	// Ring (Jepsen's majorities ring) places the servers on a ring; each keeps
	// its links to the servers within ring distance d = ceil((m-1)/2), m the
	// majority n/2+1, and loses the others (both ways): every server sees a
	// majority, no two see the same one.
	Ring *Ring `yaml:"ring,omitempty"`
}

// partitionFields is Partition without its YAML methods, so that decoding the
// mapping form does not recurse.
type partitionFields Partition

var partitionShorthands = []struct {
	word string
	make func() Partition // a function: Ring is a pointer, each decode gets its own
}{
	{"isolate-leader", func() Partition { return Partition{Isolate: Leader()} }},
	{"isolate-random", func() Partition { return Partition{Isolate: Random()} }},
	{"halves", func() Partition { return Partition{Halves: true} }},
	{"bridge", func() Partition { return Partition{Bridge: true} }},
	{"ring", func() Partition { return Partition{Ring: &Ring{Random: true}} }},
}

// UnmarshalYAML reads a shorthand word or the mapping form (go-yaml's
// InterfaceUnmarshaler convention).
func (p *Partition) UnmarshalYAML(unmarshal func(any) error) error {
	return UnmarshalMappingOr(unmarshal, (*partitionFields)(p), p.setShorthand)
}

// setShorthand sets p to the partition a shorthand word stands for.
func (p *Partition) setShorthand(raw any) error {
	word := fmt.Sprint(raw)
	for _, s := range partitionShorthands {
		if s.word == word {
			*p = s.make()
			return nil
		}
	}
	return fmt.Errorf("unknown partition %q (want isolate-leader, isolate-random, halves, bridge, ring, or a mapping with isolate, halves, bridge, ring or groups)", word)
}

// MarshalYAML writes the shorthand when there is one, else the mapping.
func (p Partition) MarshalYAML() (any, error) {
	if w := p.shorthand(); w != "" {
		return w, nil
	}
	return partitionFields(p), nil
}

// shapes counts the shapes set; a valid partition has one.
func (p Partition) shapes() int {
	n := 0
	for _, set := range []bool{p.Isolate.Kind != TargetNone, p.Halves, p.Groups != nil, p.Bridge, p.Ring != nil} {
		if set {
			n++
		}
	}
	return n
}

func (p Partition) shorthand() string {
	if p.shapes() != 1 {
		return ""
	}
	switch {
	case p.Isolate.Kind == TargetLeader:
		return "isolate-leader"
	case p.Isolate.Kind == TargetRandom:
		return "isolate-random"
	case p.Halves:
		return "halves"
	case p.Bridge:
		return "bridge"
	case p.Ring != nil && p.Ring.Random && p.Ring.Order == nil:
		return "ring"
	}
	return ""
}

// String describes the shape: "isolate-leader", "isolate n2", "halves",
// "bridge", "ring", "ring [3 0 4 1 2]", "groups [[0 1] [2 3 4]]".
func (p Partition) String() string {
	if w := p.shorthand(); w != "" {
		return w
	}
	switch {
	case p.Isolate.Kind != TargetNone:
		return "isolate " + p.Isolate.String()
	case p.Ring != nil:
		return "ring " + p.Ring.String()
	}
	return "groups " + fmt.Sprint(p.Groups)
}

func (p *Partition) validate(servers int) error {
	if p.shapes() != 1 {
		return fieldErr("partition", "give exactly one of isolate, halves, groups, bridge, ring")
	}
	if servers < 2 {
		return fieldErr("partition", "a partition needs at least 2 servers (cluster has %d)", servers)
	}
	switch {
	case p.Isolate.Kind != TargetNone:
		return validateTarget("partition.isolate", p.Isolate, servers, anyServer...)
	case p.Groups != nil:
		return validateGroups(p.Groups, servers)
	case p.Bridge && servers < 3:
		return fieldErr("partition.bridge", "a bridge needs at least 3 servers: the bridge and two sides (cluster has %d)", servers)
	case p.Ring != nil:
		return p.Ring.validate(servers)
	}
	return nil
}

// Ring is the order of the servers around a majorities ring: Order lists
// every server once, or Random draws the order when the step fires. In YAML:
// a list ([3, 0, 4, 1, 2]) or the word random.
type Ring struct {
	Random bool
	Order  []int
}

// UnmarshalYAML reads the word random or a list of servers.
func (r *Ring) UnmarshalYAML(unmarshal func(any) error) error {
	var raw any
	if err := unmarshal(&raw); err != nil {
		return err
	}
	if _, isList := raw.([]any); isList {
		var order []int
		if err := unmarshal(&order); err != nil {
			return err
		}
		*r = Ring{Order: order}
		return nil
	}
	if raw == "random" {
		*r = Ring{Random: true}
		return nil
	}
	return fmt.Errorf("want a ring (random, or a list of servers in their order around it), got %s", Described(raw))
}

// MarshalYAML writes random or the order.
func (r Ring) MarshalYAML() (any, error) {
	if r.Random {
		return "random", nil
	}
	return r.Order, nil
}

// String is "random" or "[3 0 4 1 2]".
func (r Ring) String() string {
	if r.Random {
		return "random"
	}
	return fmt.Sprint(r.Order)
}

// RingReach is how far around a ring of servers servers each one keeps its
// links: ceil((m-1)/2) for the majority m = servers/2+1, so that a server and
// the servers within that distance on either side make a majority.
func RingReach(servers int) int {
	m := servers/2 + 1
	return m / 2 // ceil((m-1)/2)
}

func (r *Ring) validate(servers int) error {
	if servers < 4 {
		return fieldErr("partition.ring", "a ring needs at least 4 servers: with %d, every server is within reach of every other and nothing is cut", servers)
	}
	switch {
	case r.Random && r.Order != nil:
		return fieldErr("partition.ring", "give random or an order, not both")
	case r.Random:
		return nil
	case len(r.Order) != servers:
		return fieldErr("partition.ring", "lists %d servers, the cluster has %d: give every server once, in ring order", len(r.Order), servers)
	}
	return validatePermutation("partition.ring", r.Order, servers)
}

// validatePermutation checks that list names distinct servers.
func validatePermutation(field string, list []int, servers int) error {
	seen := make(map[int]int, len(list))
	for i, n := range list {
		at := fmt.Sprintf("%s[%d]", field, i)
		if err := checkNode(at, n, servers); err != nil {
			return err
		}
		if prev, dup := seen[n]; dup {
			return fieldErr(at, "node %d is already at %s[%d]", n, field[strings.LastIndex(field, ".")+1:], prev)
		}
		seen[n] = i
	}
	return nil
}

func validateGroups(groups [][]int, servers int) error {
	seen := make(map[int]string, servers)
	nonEmpty := 0
	for i, g := range groups {
		if len(g) > 0 {
			nonEmpty++
		}
		for j, n := range g {
			at := fmt.Sprintf("partition.groups[%d][%d]", i, j)
			if err := checkNode(at, n, servers); err != nil {
				return err
			}
			if prev, dup := seen[n]; dup {
				return fieldErr(at, "node %d is already in %s", n, prev)
			}
			seen[n] = fmt.Sprintf("groups[%d]", i)
		}
	}
	if nonEmpty < 2 {
		return fieldErr("partition.groups", "need at least two non-empty groups")
	}
	return nil
}
