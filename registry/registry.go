package registry

import (
	"slices"
	"strings"

	"github.com/simrun/simrun/protocols/paxos"
	"github.com/simrun/simrun/protocols/raft"
	"github.com/simrun/simrun/runner"
	"github.com/simrun/simrun/scenarios"
	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

// protocols lists every protocol, sorted by name.
var protocols = []runner.Protocol{
	{Name: "paxos", Description: "Multi-Paxos (Lamport, Paxos Made Simple, 2001): leader, phase 1 for all slots, no-op gaps, catch-up, snapshots, client sessions", Build: buildPaxos},
	{Name: "raft", Description: "Raft (Ongaro and Ousterhout, 2014): leader election, log replication, client sessions", Build: buildRaft},
}

// Lookup returns the protocol called name.
func Lookup(name string) (runner.Protocol, bool) {
	i := slices.IndexFunc(protocols, func(p runner.Protocol) bool { return p.Name == name })
	if i < 0 {
		return runner.Protocol{}, false
	}
	return protocols[i], true
}

// All returns every protocol, sorted by name.
func All() []runner.Protocol { return slices.Clone(protocols) }

// Names returns the protocol names, comma separated, for error messages.
func Names() string {
	names := make([]string, len(protocols))
	for i, p := range protocols {
		names[i] = p.Name
	}
	return strings.Join(names, ", ")
}

// Resolve looks up the scenario's protocol, with a positioned error if unknown.
func Resolve(sc *scenarios.Scenario) (runner.Protocol, error) {
	p, ok := Lookup(sc.Protocol)
	if !ok {
		return runner.Protocol{}, sc.Errorf("protocol", "unknown protocol %q (known: %s)", sc.Protocol, Names())
	}
	return p, nil
}

func buildRaft(sc *scenarios.Scenario, newSM service.NewStateMachine) (sim.Factory, error) {
	cfg := raft.DefaultConfig()
	if err := sc.DecodeProtocolOptions(&cfg); err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, sc.Errorf("protocol_options", "%v", err)
	}
	return raft.New(cfg, newSM)
}

func buildPaxos(sc *scenarios.Scenario, newSM service.NewStateMachine) (sim.Factory, error) {
	cfg := paxos.DefaultConfig()
	if err := sc.DecodeProtocolOptions(&cfg); err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, sc.Errorf("protocol_options", "%v", err)
	}
	if sc.Nodes > paxos.MaxServers {
		return nil, sc.Errorf("nodes", "paxos runs at most %d servers, not %d", paxos.MaxServers, sc.Nodes)
	}
	return paxos.New(cfg, newSM)
}
