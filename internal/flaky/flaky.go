package flaky

import (
	"sync/atomic"
	"time"

	"github.com/simrun/simrun/runner"
	"github.com/simrun/simrun/sim"
)

// Timer is the timer kind the wrapper sets, above any protocol's own.
const Timer = sim.MaxTimerKinds - 1

// starts counts the servers started in this process, across runs: the
// nondeterminism under test. Atomic: a sweep runs several worlds at once.
var starts atomic.Int64

// Protocol returns a protocol named name that runs as base does, except
// that each server, when it starts, sets a timer whose delay is how many
// servers started before it in this process. Its scenarios name it, and
// their protocol_options are base's.
func Protocol(name string, base runner.Protocol) runner.Protocol {
	p := base
	p.Name = name
	p.Build = func(c runner.Cluster) (runner.Servers, error) {
		sc := *c.Scenario
		sc.Protocol = base.Name
		c.Scenario = &sc
		servers, err := base.Build(c)
		if err != nil {
			return servers, err
		}
		inner := servers.Factory
		servers.Factory = func(id sim.NodeID) sim.Node { return node{inner(id)} }
		return servers, err
	}
	return p
}

type node struct{ sim.Node }

func (n node) Start(env sim.Env) {
	env.SetTimer(Timer, time.Duration(starts.Add(1))*time.Millisecond)
	n.Node.Start(env)
}

func (n node) Timer(env sim.Env, kind sim.TimerKind) {
	if kind != Timer {
		n.Node.Timer(env, kind)
	}
}
