package faults

import (
	"slices"
	"strconv"
	"strings"

	"github.com/simrun/simrun/sim"
)

// The member action: the operator asks the leader to change the cluster's
// configuration, adding servers, removing servers, or both at once (a
// replacement). The request (sim.ChangeMembers) reaches the protocol through
// the world's control API; a protocol whose servers do not implement
// sim.Operable ignores it, and the step is skipped. The injector follows the
// configuration from the sim.ObsConfig observations the protocol makes, so
// that random targets draw a spare server to add and a member to remove.

// Membership is a member step's change: servers to add to the configuration
// and servers to remove from it, in one change.
type Membership struct {
	// Add lists servers to add: a node, or random (a running server outside
	// the configuration).
	Add []Target `yaml:"add,omitempty,flow"`
	// Remove lists servers to remove: a node, leader, or random (a member
	// other than the leader).
	Remove []Target `yaml:"remove,omitempty,flow"`
	// Min, if positive, skips the step when it would leave fewer than Min
	// members, and Max when it would leave more than Max: a swarm's changes
	// keep the cluster within the faults it tolerates.
	Min int `yaml:"min,omitempty"`
	Max int `yaml:"max,omitempty"`
}

// String is "add n3 n4 remove leader min=3".
func (m *Membership) String() string {
	var parts []string
	for _, list := range []struct {
		word    string
		targets []Target
	}{{"add", m.Add}, {"remove", m.Remove}} {
		if len(list.targets) == 0 {
			continue
		}
		words := []string{list.word}
		for _, t := range list.targets {
			words = append(words, t.String())
		}
		parts = append(parts, strings.Join(words, " "))
	}
	if m.Min > 0 {
		parts = append(parts, "min="+strconv.Itoa(m.Min))
	}
	if m.Max > 0 {
		parts = append(parts, "max="+strconv.Itoa(m.Max))
	}
	return strings.Join(parts, " ")
}

func (m *Membership) validate(servers int) error {
	if len(m.Add) == 0 && len(m.Remove) == 0 {
		return fieldErr("member", "give add, remove or both: a change of nothing")
	}
	if m.Min < 0 || m.Max < 0 || (m.Max > 0 && m.Min > m.Max) {
		return fieldErr("member", "min %d and max %d: want 0 <= min <= max", m.Min, m.Max)
	}
	named := map[int]string{}
	for _, list := range []struct {
		field   string
		targets []Target
		allowed []TargetKind
	}{{"member.add", m.Add, []TargetKind{TargetNode, TargetRandom}},
		{"member.remove", m.Remove, []TargetKind{TargetNode, TargetRandom, TargetLeader}}} {
		for i, t := range list.targets {
			field := list.field + "[" + strconv.Itoa(i) + "]"
			if err := validateTarget(field, t, servers, list.allowed...); err != nil {
				return err
			}
			if t.Kind != TargetNode {
				continue
			}
			if prev, ok := named[t.Node]; ok {
				return fieldErr(field, "n%d is named twice (also in %s)", t.Node, prev)
			}
			named[t.Node] = field
		}
	}
	return nil
}

// member resolves the change's targets against the configuration the
// injector knows and asks the leader for it. The whole change is skipped
// when any part of it cannot be made: no spare to add, a node that is a
// member already, the min or max bound, or a configuration of which the
// servers whose disks were corrupted would be half or more.
func (in *Injector) member(i int, s Step) {
	leader := in.Leader()
	if leader == sim.None {
		in.skip(i, "no leader known")
		return
	}
	m := s.Member
	change, why := in.resolveChange(i, m, leader)
	if why != "" {
		in.skip(i, "%s", why)
		return
	}
	after := in.members&^change.Remove | change.Add
	switch {
	case m.Min > 0 && after.Len() < m.Min:
		in.skip(i, "it would leave %d members, min is %d", after.Len(), m.Min)
	case m.Max > 0 && after.Len() > m.Max:
		in.skip(i, "it would leave %d members, max is %d", after.Len(), m.Max)
	case mostlyDamaged(after, in.damaged|in.forGood):
		in.skip(i, "%v would be a configuration of damaged disks %v%s half or more", after, after&in.damaged, in.andDownForGood(after))
	default:
		in.ask(i, leader, change, after)
	}
}

// ask hands change to the leader. The configuration it makes is requested
// from before the handler runs, which may announce it at once.
func (in *Injector) ask(i int, leader sim.NodeID, change sim.ChangeMembers, after sim.Members) {
	in.requested = append(in.requested, after)
	if !in.w.Operate(leader, change) {
		in.requested = in.requested[:len(in.requested)-1] // no handler ran: nothing was announced
		in.skip(i, "leader %v cannot take the request now", leader)
		return
	}
	in.counts.MemberChanges++
}

// mostlyDamaged reports whether the servers of damaged are half of config or
// more. Such a configuration may have lost a committed entry on a majority
// of its disks, which no protocol can repair, or (with servers down for
// good among them) keep it where no majority can reach it: the injector
// never makes one, by a membership change or by a corruption.
func mostlyDamaged(config, damaged sim.Members) bool {
	return 2*(config&damaged).Len() >= config.Len()
}

// resolveChange turns the step's targets into a change, in the order the
// targets are listed (adds first), or says why it cannot be made.
func (in *Injector) resolveChange(i int, m *Membership, leader sim.NodeID) (sim.ChangeMembers, string) {
	var c sim.ChangeMembers
	for _, t := range m.Add {
		id := in.memberTarget(i, t, leader, func(id sim.NodeID) bool { return !in.members.Has(id) && !c.Add.Has(id) })
		switch {
		case id == sim.None:
			return c, "no running spare server to add"
		case in.members.Has(id):
			return c, id.String() + " is a member already"
		}
		c.Add = c.Add.With(id)
	}
	for _, t := range m.Remove {
		id := in.memberTarget(i, t, leader, func(id sim.NodeID) bool {
			return in.members.Has(id) && id != leader && !c.Remove.Has(id) && !c.Add.Has(id)
		})
		switch {
		case id == sim.None:
			return c, "no member to remove"
		case !in.members.Has(id) || c.Add.Has(id):
			return c, id.String() + " is not a member"
		}
		c.Remove = c.Remove.With(id)
	}
	return c, ""
}

// memberTarget resolves one target of a member step: a node as written, the
// leader, or a running server drawn among those eligible.
func (in *Injector) memberTarget(i int, t Target, leader sim.NodeID, eligible func(sim.NodeID) bool) sim.NodeID {
	switch t.Kind {
	case TargetNode:
		return sim.NodeID(t.Node)
	case TargetLeader:
		in.firing.leaders = append(in.firing.leaders, leader)
		return leader
	}
	var candidates []sim.NodeID
	for _, id := range in.runningServers(sim.None) {
		if eligible(id) {
			candidates = append(candidates, id)
		}
	}
	if len(candidates) == 0 {
		return sim.None
	}
	id := candidates[in.rng.IntN(len(candidates))]
	in.firing.picks = append(in.firing.picks, id)
	return id
}

// followConfig follows the configuration: the committed one of the highest
// index announced so far (both halves of a joint one).
func (in *Injector) followConfig(o sim.Observation) {
	if o.Kind == sim.ObsConfig && in.isServer(o.Node) && o.Index >= in.configIndex {
		in.members, in.configIndex = sim.Members(o.Digest)|o.Outgoing, o.Index
		if i := slices.Index(in.requested, sim.Members(o.Digest)); i >= 0 {
			in.requested = in.requested[i+1:] // that one is in force, and the ones before it are not to come
		}
	}
}

// Requested returns the configurations leaders took changes to that no
// server has announced yet, oldest first: any may be chosen, and in force,
// before a server announces it, so that a majority of each is needed to
// be sure of a majority of the one in force.
func (in *Injector) Requested() []sim.Members { return slices.Clone(in.requested) }

// SetMembers tells the injector the cluster's initial configuration, when
// it is not every server (some start as spares). Call it before the run.
func (in *Injector) SetMembers(m sim.Members) { in.members = m }

// Members returns the configuration as the injector knows it.
func (in *Injector) Members() sim.Members { return in.members }

var memberKind = valueKind(func(s *Step) **Membership { return &s.Member }, actionKind{
	name:     "member",
	validate: func(s *Step, servers int) error { return s.Member.validate(servers) },
	fire:     (*Injector).member,
	targets: func(s *Step) []*Target {
		var ts []*Target
		for i := range s.Member.Add {
			ts = append(ts, &s.Member.Add[i])
		}
		for i := range s.Member.Remove {
			ts = append(ts, &s.Member.Remove[i])
		}
		return ts
	},
	clone: func(s *Step) {
		s.Member.Add, s.Member.Remove = slices.Clone(s.Member.Add), slices.Clone(s.Member.Remove)
	},
})

// swarmMinMembers is the fewest members a swarm's removals leave: three
// tolerate one crash.
const swarmMinMembers = 3

// membersBeyond is the fewest members a swarm's changes leave when the
// servers of damaged are the ones whose storage it may damage: a majority
// of every configuration must have healthy storage, or a configuration of
// fewer servers (the healthy ones removed) loses committed entries it
// could have repaired from them.
func membersBeyond(damaged []int, servers int) int {
	return min(max(swarmMinMembers, 2*len(damaged)+1), servers)
}

// drawMembership draws a change: replace a random member (or the leader)
// with a spare, add a spare, or remove a member. It keeps between
// swarmMinMembers and every server.
func drawMembership(rng *sim.Rand, servers int, _ Duration) Step {
	m := &Membership{Min: min(swarmMinMembers, servers), Max: servers}
	switch r := rng.IntN(10); {
	case r < 4:
		m.Add, m.Remove = []Target{Random()}, []Target{Random()}
	case r < 6:
		m.Add, m.Remove = []Target{Random()}, []Target{Leader()}
	case r < 8:
		m.Add = []Target{Random()}
	default:
		m.Remove = []Target{Random()}
	}
	return Step{Member: m}
}
