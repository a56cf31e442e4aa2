package etcdraft

import (
	"github.com/simrun/simrun/runner"
)

// Protocol returns the registry entry of the adapter, for a simrun binary's
// protocol list (cli.Program.Protocols) or runner.Run.
func Protocol() runner.Protocol {
	named := make([]runner.Named, len(knownBugs.Bugs))
	for i, b := range knownBugs.Bugs {
		named[i] = runner.Named{Name: b.Name, Description: b.Description}
	}
	return runner.Protocol{
		Name: "etcdraft",
		Description: "etcd's Raft library (go.etcd.io/raft/v3 RawNode) under simrun: pre-vote, check-quorum, " +
			"the Ready loop on the simulated disk, client sessions",
		Bugs:  named,
		Build: build,
	}
}

// build decodes the scenario's protocol_options strictly into a Config and
// returns the servers.
func build(c runner.Cluster) (runner.Servers, error) {
	sc := c.Scenario
	if len(c.Byzantine) > 0 {
		return runner.Servers{}, sc.Errorf("byzantine", "etcdraft tolerates crash faults only; Byzantine servers need a Byzantine-fault-tolerant protocol (pbft)")
	}
	cfg := DefaultConfig()
	if err := sc.DecodeProtocolOptions(&cfg); err != nil {
		return runner.Servers{}, err
	}
	if err := cfg.Validate(); err != nil {
		return runner.Servers{}, sc.Errorf("protocol_options", "%v", err)
	}
	factory, err := New(cfg, c.NewStateMachine)
	return runner.Servers{Factory: factory}, err
}
