package registry

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/simrun/simrun/protocols/paxos"
	"github.com/simrun/simrun/protocols/pbft"
	"github.com/simrun/simrun/protocols/raft"
	"github.com/simrun/simrun/runner"
	"github.com/simrun/simrun/scenarios"
)

// Shipped returns the protocols that ship with simrun (Raft, Multi-Paxos,
// PBFT), sorted by name. A user's own binary passes them, with its own
// protocols, to cli.Program or New.
func Shipped() []runner.Protocol {
	return []runner.Protocol{
		{Name: "paxos", Description: "Multi-Paxos (Lamport, Paxos Made Simple, 2001): leader, phase 1 for all slots, no-op gaps, catch-up, snapshots, client sessions, reconfiguration (alpha window), leadership transfer",
			Build: buildPaxos, Bugs: named(paxos.KnownBugs()), Probes: named(paxos.KnownProbes()), ChangesMembers: true,
			TransfersLeadership: true},
		{Name: "pbft", Description: "PBFT (Castro and Liskov, OSDI 1999): pre-prepare/prepare/commit, checkpoints, state transfer, view changes, Byzantine replicas",
			Build: buildPBFT, Bugs: named(pbft.KnownBugs()), Behaviours: named(pbft.KnownBehaviours()), Probes: named(pbft.KnownProbes())},
		{Name: "raft", Description: "Raft (Ongaro and Ousterhout, 2014): leader election, log replication, client sessions",
			Build: buildRaft, Bugs: named(raft.KnownBugs()), Probes: named(raft.KnownProbes()), ChangesMembers: true,
			TransfersLeadership: true},
	}
}

// named lists a protocol's bugs, behaviours or probes for runner.Protocol:
// each is a name and a description, as a runner.Named is.
func named[T ~struct{ Name, Description string }](items []T) []runner.Named {
	out := make([]runner.Named, len(items))
	for i, it := range items {
		out[i] = runner.Named(it)
	}
	return out
}

// Set is the protocols one program knows, by name. The zero value is empty;
// build one with New. A Set is read-only once built, so sweeps may share it.
type Set struct {
	protocols []runner.Protocol // sorted by name
}

// New returns the set of the given protocols. It rejects an incomplete
// protocol (runner.Protocol.Validate) and two protocols with one name, so a
// user's binary fails at start-up, not in the middle of a sweep.
func New(protocols ...runner.Protocol) (*Set, error) {
	s := &Set{protocols: slices.Clone(protocols)}
	for i, p := range s.protocols {
		if err := p.Validate(); err != nil {
			return nil, fmt.Errorf("protocol %d (%q): %w", i, p.Name, err)
		}
	}
	slices.SortStableFunc(s.protocols, func(a, b runner.Protocol) int { return strings.Compare(a.Name, b.Name) })
	for i := 1; i < len(s.protocols); i++ {
		if s.protocols[i].Name == s.protocols[i-1].Name {
			return nil, fmt.Errorf("protocol %q is registered twice: names must be unique", s.protocols[i].Name)
		}
	}
	return s, nil
}

// Default is the set of the shipped protocols.
func Default() *Set {
	s, err := New(Shipped()...)
	if err != nil {
		panic("registry: the shipped protocols are invalid: " + err.Error())
	}
	return s
}

// Lookup returns the protocol called name.
func (s *Set) Lookup(name string) (runner.Protocol, bool) {
	i := slices.IndexFunc(s.protocols, func(p runner.Protocol) bool { return p.Name == name })
	if i < 0 {
		return runner.Protocol{}, false
	}
	return s.protocols[i], true
}

// All returns every protocol, sorted by name.
func (s *Set) All() []runner.Protocol { return slices.Clone(s.protocols) }

// Names returns the protocol names, comma separated, for error messages.
func (s *Set) Names() string {
	names := make([]string, len(s.protocols))
	for i, p := range s.protocols {
		names[i] = p.Name
	}
	return strings.Join(names, ", ")
}

// Resolve looks up the scenario's protocol, with a positioned error if unknown.
func (s *Set) Resolve(sc *scenarios.Scenario) (runner.Protocol, error) {
	p, ok := s.Lookup(sc.Protocol)
	if !ok {
		return runner.Protocol{}, sc.Errorf("protocol", "unknown protocol %q (known: %s)", sc.Protocol, s.Names())
	}
	return p, nil
}

// Lookup, All and Resolve on the shipped protocols, for callers that know
// no others.
var shipped = Default()

// Lookup returns the shipped protocol called name.
func Lookup(name string) (runner.Protocol, bool) { return shipped.Lookup(name) }

// All returns every shipped protocol, sorted by name.
func All() []runner.Protocol { return shipped.All() }

// Resolve looks up the scenario's protocol among the shipped ones.
func Resolve(sc *scenarios.Scenario) (runner.Protocol, error) { return shipped.Resolve(sc) }

// crashFaultOptions is how Raft and Paxos builds start: they refuse
// Byzantine servers and clusters of more than maxServers, then decode the
// scenario's options over the protocol's defaults.
func crashFaultOptions[C interface{ Validate() error }](c runner.Cluster, name string, maxServers int, defaults C) (C, error) {
	if err := runner.CrashFaultOnly(c, name); err != nil {
		return defaults, err
	}
	if sc := c.Scenario; sc.Nodes > maxServers {
		return defaults, sc.Errorf("nodes", "%s runs at most %d servers, not %d", name, maxServers, sc.Nodes)
	}
	err := runner.DecodeOptions(c.Scenario, &defaults)
	return defaults, err
}

func buildRaft(c runner.Cluster) (runner.Servers, error) {
	cfg, err := crashFaultOptions(c, "raft", raft.MaxServers, raft.DefaultConfig())
	if err != nil {
		return runner.Servers{}, err
	}
	cfg.Members = c.Scenario.InitialMembers()
	factory, err := raft.New(cfg, c.NewStateMachine)
	return runner.Servers{Factory: factory, Backoff: cfg.ElectionTimeoutMax, ClockDrift: cfg.ClockDrift(), StepDown: cfg.StepDownBound(),
		QuorumWindow: cfg.QuorumWindow()}, err
}

func buildPaxos(c runner.Cluster) (runner.Servers, error) {
	cfg, err := crashFaultOptions(c, "paxos", paxos.MaxServers, paxos.DefaultConfig())
	if err != nil {
		return runner.Servers{}, err
	}
	cfg.Members = c.Scenario.InitialMembers()
	factory, err := paxos.New(cfg, c.NewStateMachine)
	return runner.Servers{Factory: factory, Backoff: backoff(cfg.LeaderTimeoutMax, cfg.BackoffLimit)}, err
}

func buildPBFT(c runner.Cluster) (runner.Servers, error) {
	sc := c.Scenario
	cfg := pbft.DefaultConfig()
	if err := runner.DecodeOptions(sc, &cfg); err != nil {
		return runner.Servers{}, err
	}
	if sc.Nodes < pbft.MinServers || sc.Nodes > pbft.MaxServers {
		return runner.Servers{}, sc.Errorf("nodes", "pbft runs %d to %d replicas (n = 3f+1 tolerates f Byzantine ones), not %d",
			pbft.MinServers, pbft.MaxServers, sc.Nodes)
	}
	byz := make([]pbft.ByzantineReplica, len(c.Byzantine))
	for i, b := range c.Byzantine {
		if err := pbft.ValidateBehaviour(b.Behaviour); err != nil {
			return runner.Servers{}, sc.Errorf(byzantinePath(sc, b.Behaviour), "%v", err)
		}
		byz[i] = pbft.ByzantineReplica{ID: b.ID, Behaviour: b.Behaviour}
	}
	factory, err := pbft.New(cfg, c.NewStateMachine, byz...)
	return runner.Servers{Factory: factory, ReplyQuorum: cfg.ReplyQuorum(sc.Nodes), BroadcastRetry: true,
		Tolerates: pbft.Faulty(sc.Nodes), Backoff: backoff(cfg.RequestTimeout, cfg.BackoffLimit)}, err
}

// byzantinePath is the scenario path of the first Byzantine group with the
// given behaviour, for a positioned error.
func byzantinePath(sc *scenarios.Scenario, behaviour string) string {
	for i, g := range sc.Byzantine {
		if g.Behaviour == behaviour {
			return "byzantine[" + strconv.Itoa(i) + "].behaviour"
		}
	}
	return "byzantine"
}

// backoff is a timeout after doublings more doublings, saturated instead of
// overflowing (the runner caps the allowance it gives anyway).
func backoff(timeout time.Duration, doublings int) time.Duration {
	for range doublings {
		if timeout > math.MaxInt64/2 {
			return math.MaxInt64
		}
		timeout *= 2
	}
	return timeout
}
