package runner

import (
	"fmt"

	"github.com/simrun/simrun/scenarios"
	"github.com/simrun/simrun/sim"
)

// The cluster's configuration, as the run follows it: which servers the
// cluster waits for. A scenario may start with spare servers outside the
// configuration (scenarios.Scenario.Members) and member faults change it;
// the protocol announces each configuration it commits (sim.ObsConfig).
// Liveness then waits for the members only, the progress check asks for a
// healthy majority of the members, and a core heal keeps a minority of
// them down.

// configView is the configuration of the highest index announced so far.
type configView struct {
	// everyone: every server is a voter, as long as no configuration was
	// announced and the scenario has no spares (a cluster of any size:
	// sim.Members holds the first sim.MaxMembers servers only).
	everyone bool
	voters   sim.Members // the configuration's voters
	outgoing sim.Members // in a joint configuration, the voters it leaves
	index    uint64
	changes  int // configurations of a new highest index announced
	// knownBy are the servers that announced the configuration of index;
	// prev is the configuration before it. Until a member of the new
	// configuration announces it, none of them may know it is one (a lone
	// new member whose decisions were lost still needs the old majority),
	// so the progress check asks for a majority of prev too.
	knownBy sim.Members
	prev    *configView
}

// initialConfig is the configuration a scenario starts with.
func initialConfig(sc *scenarios.Scenario) configView {
	return configView{everyone: sc.InitialMembers() == sc.Nodes, voters: sim.FirstMembers(sc.InitialMembers())}
}

// observe follows the configurations servers announce.
func (c *configView) observe(o sim.Observation) {
	if o.Kind != sim.ObsConfig {
		return
	}
	if o.Index > c.index || c.changes == 0 {
		c.changes++
		prev := configView{everyone: c.everyone, voters: c.voters, outgoing: c.outgoing}
		c.everyone, c.voters, c.outgoing, c.index, c.knownBy, c.prev = false, sim.Members(o.Digest), o.Outgoing, o.Index, 0, &prev
	}
	if o.Index == c.index {
		c.knownBy = c.knownBy.With(o.Node)
	}
}

// knownToMembers reports whether a member of the configuration announced
// it (or it is the initial one, which every server knows).
func (c *configView) knownToMembers() bool {
	return c.prev == nil || c.knownBy&(c.voters|c.outgoing) != 0
}

// healthMembers lists the servers the progress check looks at: the
// members, and while no member has announced the configuration, the
// previous configuration's too.
func (c *configView) healthMembers(all []sim.NodeID) []sim.NodeID {
	if c.knownToMembers() {
		return c.members(all)
	}
	if c.prev.everyone {
		return all
	}
	return (c.voters | c.outgoing | c.prev.voters | c.prev.outgoing).IDs()
}

// has reports whether id is a member of either half of the configuration.
func (c *configView) has(id sim.NodeID) bool { return c.everyone || (c.voters | c.outgoing).Has(id) }

// describe is the configuration in words for the run summary ("n0 n1 n3",
// "n0 n1 n3 joint n0 n1 n2"), or "" when every server is a voter.
func (c *configView) describe() string {
	switch {
	case c.everyone:
		return ""
	case c.outgoing != 0:
		return c.voters.String() + " joint " + c.outgoing.String()
	}
	return c.voters.String()
}

// members lists the servers (of all) that are members, in ID order.
func (c *configView) members(all []sim.NodeID) []sim.NodeID {
	if c.everyone {
		return all
	}
	return (c.voters | c.outgoing).IDs()
}

// hasMajority reports whether set, a set of members, holds a majority of
// the voters, and of the outgoing voters in a joint configuration.
func (c *configView) hasMajority(set []sim.NodeID, servers int) bool {
	if !c.knownToMembers() && !c.prev.hasMajority(set, servers) {
		return false
	}
	if c.everyone {
		return 2*len(set) > servers
	}
	s := sim.MembersOf(set...)
	return majorityOf(s, c.voters) && (c.outgoing == 0 || majorityOf(s, c.outgoing))
}

// majorityOf reports whether s holds a majority of the servers of of.
func majorityOf(s, of sim.Members) bool { return 2*(s&of).Len() > of.Len() }

// checkOperatorRequests rejects what the protocol cannot be asked: spare
// servers and member steps when it does not change its membership,
// transfer steps when it does not transfer its leadership.
func checkOperatorRequests(sc *scenarios.Scenario, proto Protocol) error {
	if sc.InitialMembers() < sc.Nodes && !proto.ChangesMembers {
		return sc.Errorf("members", "%s does not change its membership: every server is a member (leave members out)", proto.Name)
	}
	for i, st := range sc.Faults {
		switch action := st.Action(); {
		case action == "member" && !proto.ChangesMembers:
			return sc.Errorf(fmt.Sprintf("faults[%d].member", i), "%s does not change its membership (leave the step out)", proto.Name)
		case action == "transfer" && !proto.TransfersLeadership:
			return sc.Errorf(fmt.Sprintf("faults[%d].transfer", i), "%s does not transfer its leadership (leave the step out)", proto.Name)
		}
	}
	return nil
}
