package runner_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/simrun/simrun/registry"
	"github.com/simrun/simrun/runner"
	"github.com/simrun/simrun/scenarios"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// optionsScenario parses a small scenario written in the test, with body
// appended to its header.
func optionsScenario(t *testing.T, protocol string, nodes int, body string) (*scenarios.Scenario, runner.Protocol) {
	t.Helper()
	src := "name: options\nprotocol: " + protocol + "\nnodes: " + strconv.Itoa(nodes) + "\nduration: 2s\n" +
		"network: {latency: {min: 1ms, max: 5ms}}\n" + body
	sc, err := scenarios.Parse("options.yaml", []byte(src))
	require.NoError(t, err)
	proto, err := registry.Resolve(sc)
	require.NoError(t, err)
	return sc, proto
}

// drawnLine returns the line of rep.SwarmOptions about what (nodes,
// clients, workload), "" if none.
func drawnLine(rep *runner.Report, what string) string {
	for _, l := range rep.SwarmOptions {
		if strings.HasPrefix(l, what+" ") {
			return l
		}
	}
	return ""
}

// TestOptionsSwarmDrawsPerSeed: over a few dozen seeds, a scenario with
// swarm_options [all] runs every crash-fault cluster size, several client
// counts and both loops, and the run as it happened (AsRun) has them.
func TestOptionsSwarmDrawsPerSeed(t *testing.T) {
	sc, proto := optionsScenario(t, "raft", 5, "swarm_options: [all]\n")
	sc.Duration = scenarios.Duration(300 * time.Millisecond)
	nodes, clients, loops := map[int]bool{}, map[int]bool{}, map[bool]bool{}
	for seed := uint64(1); seed <= 40; seed++ {
		rep := runSeed(t, sc, proto, seed)
		ran := runner.AsRun(sc, rep)
		require.Empty(t, ran.SwarmOptions)
		require.Contains(t, drawnLine(rep, "nodes"), "nodes "+strconv.Itoa(ran.Nodes)+" (of 3, 5, 7)")
		require.Contains(t, drawnLine(rep, "clients"), "clients "+strconv.Itoa(ran.Workload.Clients)+" ")
		require.NotEmpty(t, drawnLine(rep, "workload"))
		require.Positive(t, ran.Workload.Mix.Put, "a drawn mix always writes")
		nodes[ran.Nodes], clients[ran.Workload.Clients], loops[ran.Workload.Rate > 0] = true, true, true
	}
	assert.Equal(t, map[int]bool{3: true, 5: true, 7: true}, nodes)
	assert.GreaterOrEqual(t, len(clients), 5)
	assert.Len(t, loops, 2, "closed and open loop both drawn")
}

// TestOptionsSwarmPinnedReplaysExactly: the exported scenario of a run
// (Pinned, marshalled and parsed back) writes the drawn values out, drops
// swarm_options and replays the same trace.
func TestOptionsSwarmPinnedReplaysExactly(t *testing.T) {
	sc, proto := load(t, "raft-swarm-options.yaml", 3*time.Second)
	for seed := uint64(1); seed <= seedCount(8, 3); seed++ {
		rep := runSeed(t, sc, proto, seed)
		back := requirePinnedReplays(t, sc, proto, rep)
		require.Equal(t, runner.AsRun(sc, rep).Nodes, back.Nodes)
	}
}

// TestOptionsSwarmStreamsIndependent: each option draws from its own
// stream, so drawing one more option changes nothing another draws, and a
// scenario that draws only the clients runs exactly as the same file with
// that client count written in.
func TestOptionsSwarmStreamsIndependent(t *testing.T) {
	one, proto := optionsScenario(t, "raft", 5, "swarm_options: [clients]\n")
	all, _ := optionsScenario(t, "raft", 5, "swarm_options: [nodes, clients, workload]\n")
	plain, _ := optionsScenario(t, "raft", 5, "")
	for seed := uint64(1); seed <= 5; seed++ {
		a, b := runSeed(t, one, proto, seed), runSeed(t, all, proto, seed)
		require.Equal(t, drawnLine(a, "clients"), drawnLine(b, "clients"))
		require.Len(t, a.SwarmOptions, 1)
		written := plain.Clone()
		written.Workload.Clients = runner.AsRun(one, a).Workload.Clients
		require.Equal(t, a.Hash, runSeed(t, written, proto, seed).Hash, "seed %d", seed)
	}
}

// TestOptionsSwarmFaultBudget: the cluster sizes drawn are those whose fault
// budget covers the scenario's Byzantine servers and max_down, and that its
// faults fit; a scenario no size fits is bad input naming swarm_options.
func TestOptionsSwarmFaultBudget(t *testing.T) {
	cases := []struct {
		name, protocol string
		nodes          int
		body           string
		want           string // the sizes drawn among, or the error
	}{
		{"crash fault", "raft", 5, "", "of 3, 5, 7"},
		{"max_down 2", "raft", 5, "faults:\n  - {from: 100ms, to: 1s, every: 100ms, crash: random, down: 50ms, max_down: 2}\n", "of 5, 7"},
		{"names node 6", "paxos", 7, "faults:\n  - {at: 100ms, crash: 6, down: 50ms}\n", "of 7)"},
		{"pbft f=1", "pbft", 4, "byzantine:\n  - {count: 1, behaviour: silent}\n", "of 4, 7"},
		{"pbft f=2", "pbft", 7, "byzantine:\n  - {count: 2, behaviour: silent}\n", "of 7)"},
		{"none fits", "pbft", 7, "byzantine:\n  - {count: 3, behaviour: silent}\n",
			"options.yaml:6:16: swarm_options: no cluster size among 4, 7 fits the scenario"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sc, proto := optionsScenario(t, c.protocol, c.nodes, "swarm_options: [nodes]\n"+c.body)
			sc.Duration = scenarios.Duration(200 * time.Millisecond)
			rep, err := runner.Run(sc, proto, runner.Options{Seed: 1})
			if strings.Contains(c.want, "swarm_options:") {
				require.ErrorContains(t, err, c.want)
				return
			}
			require.NoError(t, err)
			assert.Contains(t, drawnLine(rep, "nodes"), c.want)
		})
	}
}

// TestOptionsSwarmListAppendKeepsModel: a list-append workload keeps its
// model and checks when its shape is drawn.
func TestOptionsSwarmListAppendKeepsModel(t *testing.T) {
	sc, proto := optionsScenario(t, "raft", 3, "workload: {model: list-append}\nswarm_options: [workload]\n")
	sc.Duration = scenarios.Duration(500 * time.Millisecond)
	rep := runSeed(t, sc, proto, 1)
	require.Equal(t, runner.Pass, rep.Class, rep.Reason)
	ran := runner.AsRun(sc, rep)
	assert.Equal(t, scenarios.ModelListAppend, ran.Workload.Model)
	assert.NotContains(t, drawnLine(rep, "workload"), "mix")
}
