package registry_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/registry"
	"github.com/simrun/simrun/runner"
	"github.com/simrun/simrun/scenarios"
	"github.com/simrun/simrun/sim"
	"github.com/simrun/simrun/workload"
)

func TestEveryProtocolBuildsAndIsSorted(t *testing.T) {
	all := registry.All()
	require.NotEmpty(t, all)
	for i, p := range all {
		if i > 0 {
			require.Less(t, all[i-1].Name, p.Name)
		}
		got, ok := registry.Lookup(p.Name)
		require.True(t, ok)
		require.Equal(t, p.Name, got.Name)
		sc, err := scenarios.Parse("p.yaml", []byte("protocol: "+p.Name+"\nnodes: 4\n"))
		require.NoError(t, err)
		servers, err := p.Build(runner.Cluster{Scenario: sc, NewStateMachine: workload.NewKV})
		require.NoError(t, err, p.Name)
		require.NotNil(t, servers.Factory)
	}
}

func TestResolveNamesTheLine(t *testing.T) {
	sc, err := scenarios.Parse("x.yaml", []byte("nodes: 3\nprotocol: zab\n"))
	require.NoError(t, err)
	_, err = registry.Resolve(sc)
	require.ErrorContains(t, err, `x.yaml:2:11: protocol: unknown protocol "zab"`)
}

// TestCrashFaultProtocolsRefuseByzantineServers: Raft and Paxos do not
// tolerate lies, so a scenario asking for Byzantine servers is bad input.
func TestCrashFaultProtocolsRefuseByzantineServers(t *testing.T) {
	for _, name := range []string{"raft", "paxos"} {
		sc, err := scenarios.Parse("b.yaml", []byte("protocol: "+name+"\nnodes: 3\nbyzantine:\n  - {nodes: [0], behaviour: silent}\n"))
		require.NoError(t, err)
		p, _ := registry.Lookup(name)
		_, err = p.Build(runner.Cluster{Scenario: sc, NewStateMachine: workload.NewKV,
			Byzantine: []runner.ByzantineServer{{ID: 0, Behaviour: "silent"}}})
		require.ErrorContains(t, err, "b.yaml:4:3: byzantine: "+name+" tolerates crash faults only")
	}
}

func TestUnknownBugIsBadInputWithPosition(t *testing.T) {
	sc, err := scenarios.Parse("u.yaml", []byte("protocol: raft\nnodes: 3\nprotocol_options:\n  bugs: [nope]\n"))
	require.NoError(t, err)
	_, err = registry.Resolve(sc)
	require.NoError(t, err)
	p, _ := registry.Lookup("raft")
	_, err = p.Build(runner.Cluster{Scenario: sc, NewStateMachine: workload.NewKV})
	require.ErrorContains(t, err, "u.yaml:")
	require.ErrorContains(t, err, "nope")
}

// TestNewRejectsBrokenProtocols: a user's registration fails at start-up
// with a clear error, never in the middle of a sweep.
func TestNewRejectsBrokenProtocols(t *testing.T) {
	build := func(runner.Cluster) (runner.Servers, error) { return runner.Servers{}, nil }
	tests := []struct {
		name   string
		protos []runner.Protocol
		want   string
	}{
		{"duplicate", []runner.Protocol{{Name: "x", Build: build}, {Name: "x", Build: build}}, `protocol "x" is registered twice`},
		{"shipped name", append(registry.Shipped(), runner.Protocol{Name: "raft", Build: build}), `protocol "raft" is registered twice`},
		{"no build", []runner.Protocol{{Name: "x"}}, "Build is nil"},
		{"bad name", []runner.Protocol{{Name: "My Proto", Build: build}}, "lower-case letters"},
		{"empty name", []runner.Protocol{{Build: build}}, "lower-case letters"},
		{"bug twice", []runner.Protocol{{Name: "x", Build: build, Bugs: []runner.Named{{Name: "b"}, {Name: "b"}}}}, `planted bug "b" is empty or listed twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := registry.New(tt.protos...)
			require.ErrorContains(t, err, tt.want)
		})
	}
	set, err := registry.New(append(registry.Shipped(), runner.Protocol{Name: "mine", Build: build})...)
	require.NoError(t, err)
	_, ok := set.Lookup("mine")
	require.True(t, ok)
	require.Equal(t, "mine, paxos, pbft, raft", set.Names())
}

// runText runs seed 1 of the scenario text (file "u.yaml") with the shipped
// protocol it names.
func runText(t *testing.T, text string) (*runner.Report, error) {
	t.Helper()
	sc, err := scenarios.Parse("u.yaml", []byte(text))
	require.NoError(t, err)
	p, ok := registry.Lookup(sc.Protocol)
	require.True(t, ok)
	return runner.Run(sc, p, runner.Options{Seed: 1})
}

// passes runs the scenario text and insists that it passes.
func passes(t *testing.T, text string) *runner.Report {
	t.Helper()
	rep, err := runText(t, text)
	require.NoError(t, err)
	require.Equal(t, runner.Pass, rep.Class, rep.Reason)
	return rep
}

// TestSparesNeedAProtocolThatChangesItsMembership: members below nodes is
// refused, with the file's position, for a protocol that cannot add the
// spares, and taken by Raft.
func TestSparesNeedAProtocolThatChangesItsMembership(t *testing.T) {
	_, err := runText(t, "protocol: pbft\nnodes: 5\nmembers: 4\nduration: 1s\n")
	require.EqualError(t, err, "u.yaml:3:10: members: pbft does not change its membership: every server is a member (leave members out)")
	passes(t, "protocol: raft\nnodes: 5\nmembers: 3\nduration: 2s\nchecks: [agreement, liveness]\n")
}

// TestOperatorStepsNeedAProtocolThatTakesThem: a transfer or member step is
// refused, with its position, for a protocol that would ignore it, and a
// Paxos transfer elects its target: the run sees new leaders that a run
// without the steps does not.
func TestOperatorStepsNeedAProtocolThatTakesThem(t *testing.T) {
	const transfers = "faults:\n  - {at: 1s, transfer: random}\n  - {at: 2s, transfer: random}\n"
	_, err := runText(t, "protocol: pbft\nnodes: 4\nduration: 3s\n"+transfers)
	require.EqualError(t, err, "u.yaml:5:24: faults[0].transfer: pbft does not transfer its leadership (leave the step out)")
	_, err = runText(t, "protocol: pbft\nnodes: 4\nduration: 3s\nfaults:\n  - {at: 1s, member: {remove: [n3]}}\n")
	require.EqualError(t, err, "u.yaml:5:22: faults[0].member: pbft does not change its membership (leave the step out)")

	const paxos = "protocol: paxos\nnodes: 5\nduration: 3s\nchecks: [agreement, linearizable]\n"
	assert.Equal(t, 1, passes(t, paxos).LeaderChanges)
	assert.Equal(t, 3, passes(t, paxos+transfers).LeaderChanges, "each transfer elects its target")
}

// TestClusterSizeBoundsAreBadInput: a cluster a protocol cannot run, one
// server past its bound, is refused at nodes.
func TestClusterSizeBoundsAreBadInput(t *testing.T) {
	for text, want := range map[string]string{
		"protocol: raft\nnodes: 65\n":  "n.yaml:2:8: nodes: raft runs at most 64 servers, not 65",
		"protocol: paxos\nnodes: 65\n": "n.yaml:2:8: nodes: paxos runs at most 64 servers, not 65",
		"protocol: pbft\nnodes: 3\n":   "n.yaml:2:8: nodes: pbft runs 4 to 64 replicas (n = 3f+1 tolerates f Byzantine ones), not 3",
	} {
		sc, err := scenarios.Parse("n.yaml", []byte(text))
		require.NoError(t, err)
		p, err := registry.Resolve(sc)
		require.NoError(t, err)
		_, err = p.Build(runner.Cluster{Scenario: sc, NewStateMachine: workload.NewKV})
		require.EqualError(t, err, want)
	}
}

// TestUnknownBehaviourNamesItsKey: a behaviour PBFT does not know is placed
// at the behaviour key of its group.
func TestUnknownBehaviourNamesItsKey(t *testing.T) {
	sc, err := scenarios.Parse("b.yaml", []byte("protocol: pbft\nnodes: 4\nbyzantine:\n  - {nodes: [0], behaviour: lies}\n"))
	require.NoError(t, err)
	p, _ := registry.Lookup("pbft")
	_, err = p.Build(runner.Cluster{Scenario: sc, NewStateMachine: workload.NewKV,
		Byzantine: []runner.ByzantineServer{{ID: 0, Behaviour: "lies"}}})
	require.ErrorContains(t, err, "b.yaml:4:29: byzantine[0].behaviour: ")
}

// TestBackoffSaturates: a long timeout doubled backoff_limit times stays the
// longest wait there is, never wraps to a negative one.
func TestBackoffSaturates(t *testing.T) {
	sc, err := scenarios.Parse("b.yaml", []byte("protocol: pbft\nnodes: 4\nprotocol_options: {request_timeout: 2000000h, backoff_limit: 10}\n"))
	require.NoError(t, err)
	p, _ := registry.Lookup("pbft")
	servers, err := p.Build(runner.Cluster{Scenario: sc, NewStateMachine: workload.NewKV})
	require.NoError(t, err)
	require.Equal(t, int64(1<<63-1), int64(servers.Backoff))
}

// TestRaftStartsWithTheScenariosMembers: members below nodes starts the
// others as spares, outside the configuration: with two of the three
// members down for good, no spare becomes leader (it has no vote), where
// five members would elect one of the three left.
func TestRaftStartsWithTheScenariosMembers(t *testing.T) {
	sc, err := scenarios.Parse("m.yaml", []byte("protocol: raft\nnodes: 5\nmembers: 3\nduration: 3s\n"+
		"workload: {clients: 1, keys: 1}\nfaults:\n  - {at: 300ms, crash: 0}\n  - {at: 300ms, crash: 1}\nchecks: [agreement]\n"))
	require.NoError(t, err)
	p, err := registry.Resolve(sc)
	require.NoError(t, err)
	for seed := uint64(1); seed <= 5; seed++ {
		var leaders []sim.NodeID
		watched := p
		watched.Build = func(c runner.Cluster) (runner.Servers, error) {
			servers, err := p.Build(c)
			inner := servers.Factory
			servers.Factory = func(id sim.NodeID) sim.Node {
				return leaderWatch{inner(id), &leaders}
			}
			return servers, err
		}
		_, err := runner.Run(sc, watched, runner.Options{Seed: seed})
		require.NoError(t, err)
		for _, id := range leaders {
			require.Less(t, int(id), 3, "seed %d: spare n%d led", seed, id)
		}
	}
}

// leaderWatch records the servers that announce a leadership.
type leaderWatch struct {
	sim.Node
	leaders *[]sim.NodeID
}

type leaderWatchEnv struct {
	sim.Env
	leaders *[]sim.NodeID
}

func (e leaderWatchEnv) Observe(o sim.Observation) {
	if o.Kind == sim.ObsLeader {
		*e.leaders = append(*e.leaders, e.ID())
	}
	e.Env.Observe(o)
}

func (w leaderWatch) Start(env sim.Env) { w.Node.Start(leaderWatchEnv{env, w.leaders}) }
func (w leaderWatch) Receive(env sim.Env, from sim.NodeID, m sim.Message) {
	w.Node.Receive(leaderWatchEnv{env, w.leaders}, from, m)
}
func (w leaderWatch) Timer(env sim.Env, k sim.TimerKind) {
	w.Node.Timer(leaderWatchEnv{env, w.leaders}, k)
}
