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
	if err := runner.CrashFaultOnly(c, "etcdraft"); err != nil {
		return runner.Servers{}, err
	}
	cfg := DefaultConfig()
	if err := runner.DecodeOptions(c.Scenario, &cfg); err != nil {
		return runner.Servers{}, err
	}
	factory, err := New(cfg, c.NewStateMachine)
	// A follower campaigns within 2*ElectionTicks of hearing nothing: the
	// liveness bound allows two such waits.
	return runner.Servers{Factory: factory, Backoff: 2 * cfg.electionTimeout(),
		StepDown: cfg.stepDownBound(), QuorumWindow: cfg.quorumWindow()}, err
}
