package scenarios

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/simrun/simrun/faults"
	"github.com/simrun/simrun/internal/strictyaml"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// base is the smallest valid scenario; cases append to it, so their lines
// start at 4.
const base = "name: t\nprotocol: raft\nnodes: 5\n"

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"unknown key", base + "nodse: 3\n", "t.yaml:4:1: nodse: unknown field (did you mean nodes?)"},
		{"unknown key far from any", base + "network: {colour: red}\n",
			"t.yaml:4:11: network.colour: unknown field (known: latency, tail, drop, duplicate)"},
		{"unknown nested key", base + "network:\n  latency: {min: 1ms, max: 2ms}\n  dorp: 0.1\n",
			"t.yaml:6:3: network.dorp: unknown field (did you mean drop?)"},
		{"wrong type", "name: t\nprotocol: raft\nnodes: five\n", `t.yaml:3:8: nodes: want an integer, got string "five"`},
		{"list for a duration", base + "duration: [1s]\n", `t.yaml:4:11: duration: want a duration like 150ms or 2s, got a list`},
		{"float for int", "name: t\nprotocol: raft\nnodes: 2.5\n", `t.yaml:3:8: nodes: want an integer, got number 2.5`},
		{"huge int", "name: t\nprotocol: raft\nnodes: 99999999999999999999\n",
			`t.yaml:3:8: nodes: want an integer, got string "99999999999999999999" (a number too large?)`},
		{"quoted int", "name: t\nprotocol: raft\nnodes: \"3\"\n",
			`t.yaml:3:8: nodes: want an integer, got string "3" (a number in quotes: write it without them)`},
		{"quoted number for a list", base + "checks: \"3\"\n", `t.yaml:4:9: checks: want a list, got string "3"`},
		{"too many nodes", "name: t\nprotocol: raft\nnodes: 5000\n", "t.yaml:3:8: nodes: 5000 is not in [1, 1000]"},
		{"zero nodes", "name: t\nprotocol: raft\nnodes: 0\n", "t.yaml:3:8: nodes: 0 is not in [1, 1000]"},
		{"missing nodes", "name: t\nprotocol: raft\n", "t.yaml:1:1: nodes: missing: give the number of servers"},
		{"missing protocol", "name: t\nnodes: 3\n", "t.yaml:1:1: protocol: missing: name the protocol to run (the protocols command lists this program's)"},
		{"bad protocol", "name: t\nprotocol: Raft\nnodes: 3\n",
			`t.yaml:2:11: protocol: "Raft" is not a protocol name (lowercase letters, digits and '-')`},
		{"bad name", "name: a b\nprotocol: raft\nnodes: 3\n",
			`t.yaml:1:7: name: "a b": use up to 100 letters, digits, '.', '_' and '-'`},
		{"negative seed", base + "seed: -1\n", "t.yaml:4:7: seed: want a non-negative integer, got -1"},
		{"negative duration", base + "duration: -5s\n", "t.yaml:4:11: duration: -5s must be positive"},
		{"duration without unit", base + "duration: 30\n", "t.yaml:4:11: duration: 30 has no unit: write 30s or 30ms"},
		{"malformed duration", base + "drain: soon\n",
			`t.yaml:4:8: drain: invalid duration "soon": write it like 150ms or 2s`},
		{"drop above one", base + "network: {drop: 1.5}\n", "t.yaml:4:17: network.drop: 1.5 is not a probability in [0, 1]"},
		{"negative duplicate", base + "network:\n  duplicate: -0.1\n",
			"t.yaml:5:14: network.duplicate: -0.1 is not a probability in [0, 1]"},
		{"tail probability", base + "network:\n  tail: {probability: 2, mean: 5ms}\n",
			"t.yaml:5:23: network.tail.probability: 2 is not a probability in [0, 1]"},
		{"tail without mean", base + "network:\n  tail: {probability: 0.1}\n",
			"t.yaml:5:9: network.tail.mean: must be positive when tail.probability is set"},
		{"latency max below min", base + "network:\n  latency: {min: 5ms, max: 1ms}\n",
			"t.yaml:5:28: network.latency.max: 1ms is below min 5ms"},
		{"latency not a duration", base + "network: {latency: fast}\n",
			`t.yaml:4:20: network.latency: invalid duration "fast": write it like 150ms or 2s`},
		{"rate as a list", base + "workload: {rate: [1]}\n",
			`t.yaml:4:18: workload.rate: want a rate like 200/s, 2/ms or 600/min, got a list`},
		{"malformed rate", base + "workload: {rate: fast}\n",
			`t.yaml:4:18: workload.rate: malformed rate "fast" (write it like 200/s, 2/ms or 600/min)`},
		{"negative rate", base + "workload: {rate: -3/s}\n",
			`t.yaml:4:18: workload.rate: -3 is not a rate from 0 to 1000000/s (ops per second)`},
		{"negative mix", base + "workload:\n  mix: {get: 1, put: -2}\n", "t.yaml:5:22: workload.mix.put: weight -2 is not in [0, 1000000]"},
		// Four weights of 2^31-1 each would sum past an int of 32 bits: 386 drew gets only.
		{"huge mix", base + "workload:\n  mix: {get: 2147483647, put: 2147483647}\n",
			"t.yaml:5:14: workload.mix.get: weight 2147483647 is not in [0, 1000000]"},
		{"zero mix", base + "workload:\n  mix: {get: 0}\n", "t.yaml:5:8: workload.mix: the weights must not all be zero"},
		{"zero timeout", base + "workload:\n  timeout: 0s\n", "t.yaml:5:12: workload.timeout: 0s must be positive"},
		{"unknown check", base + "checks: [linearizable, livenes]\n",
			`t.yaml:4:24: checks[1]: unknown check "livenes" (did you mean liveness?)`},
		{"unknown check, far from any", base + "checks: [linearizable, everything]\n",
			`t.yaml:4:24: checks[1]: unknown check "everything" (known: linearizable, agreement, one-leader-per-term, ` +
				`liveness, stale-leader, progress, stable-leader, isolated-leader, read-your-writes, monotonic-reads, ` +
				`monotonic-writes, writes-follow-reads, sequential)`},
		{"check twice", base + "checks:\n  - agreement\n  - agreement\n", `t.yaml:6:5: checks[1]: check "agreement" is listed twice`},
		{"fault node out of range", base + "faults:\n  - {at: 5s, heal: all}\n  - {at: 9s, crash: 7}\n",
			"t.yaml:6:21: faults[1].crash: node 7 out of range (cluster has 5 nodes)"},
		{"fault block style", base + "faults:\n  - at: 5s\n    crash: 7\n",
			"t.yaml:6:12: faults[0].crash: node 7 out of range (cluster has 5 nodes)"},
		{"fault two actions", base + "faults:\n  - {at: 5s, crash: 1, heal: all}\n",
			"t.yaml:5:21: faults[0].crash: a step has one action, this one has heal and crash: split it into 2 steps"},
		{"fault no action", base + "faults:\n  - {at: 5s}\n",
			"t.yaml:5:5: faults[0]: no action: give one of partition, cut, clog, link, heal, crash, pause, restart, resume, clock, disk, corrupt, swizzle, transfer, member"},
		{"fault no time", base + "faults:\n  - {crash: 1}\n", "t.yaml:5:5: faults[0]: no time: give at, or from/to/every"},
		{"fault to before from", base + "faults:\n  - {from: 9s, to: 3s, every: 1s, crash: random}\n",
			"t.yaml:5:20: faults[0].to: window end 3s is not after its start 9s"},
		{"fault zero every", base + "faults:\n  - {from: 1s, to: 3s, every: 0s, crash: random}\n",
			"t.yaml:5:31: faults[0].every: must be positive"},
		{"fault at with every", base + "faults:\n  - {at: 0s, to: 3s, every: 1s, crash: random}\n",
			"t.yaml:5:10: faults[0].at: give either at, or from/to/every, not both"},
		{"fault zero down", base + "faults:\n  - {at: 1s, crash: 2, down: 0s}\n",
			"t.yaml:5:30: faults[0].down: must be positive (leave it out to keep the node down)"},
		{"fault zero for", base + "faults:\n  - {at: 1s, partition: halves, for: 0s}\n",
			"t.yaml:5:38: faults[0].for: must be positive (leave it out to keep the fault until a heal)"},
		{"fault for on crash", base + "faults:\n  - {at: 1s, crash: 2, for: 1s}\n",
			"t.yaml:5:29: faults[0].for: a crash step cannot have for (for undoes a partition, cut, clog, link, clock rate, disk or swizzle fault)"},
		{"fault clock rate", base + "faults:\n  - {at: 1s, clock: {node: 1, rate: 0.0}}\n",
			"t.yaml:5:21: faults[0].clock: give exactly one of rate (a positive number) and skew (not 0)"},
		{"clock jumps adding up past a year", base + "faults:\n  - {at: 1s, clock: {node: 1, skew: -5000h}}\n" +
			"  - {from: 2s, to: 5s, every: 1s, clock: {node: 2, skew: 2000h}}\n",
			"t.yaml:6:58: faults[1].clock.skew: the clock jumps of the scenario, each counted as far as it goes either way, " +
				"add up to more than 8760h0m0s by this step (3 firings of 2000h0m0s); a scenario's jumps go at most that far in all, on every clock together"},
		{"fault link drop", base + "faults:\n  - {at: 1s, link: {drop: 2}}\n",
			"t.yaml:5:27: faults[0].link.drop: 2 is not a probability in [0, 1]"},
		{"fault negative down", base + "faults:\n  - {at: 1s, crash: 2, down: -1s}\n",
			"t.yaml:5:30: faults[0].down: -1s is negative"},
		{"fault unknown key", base + "faults:\n  - {at: 1s, crash: 1, donw: 1s}\n",
			"t.yaml:5:24: faults[0].donw: unknown field (did you mean down?)"},
		{"fault unknown target", base + "faults:\n  - {at: 1s, crash: someone}\n",
			`t.yaml:5:21: faults[0].crash: unknown target "someone" (want a node number, random, leader, all, rolling, all-down or all-paused)`},
		{"fault restart random", base + "faults:\n  - {at: 1s, restart: random}\n",
			`t.yaml:5:23: faults[0].restart: random is not allowed here (want a node number, all-down)`},
		{"fault unknown partition", base + "faults:\n  - {at: 1s, partition: thirds}\n",
			`t.yaml:5:25: faults[0].partition: unknown partition "thirds" (want isolate-leader, isolate-random, halves, bridge, ring, or a mapping with isolate, halves, bridge, ring or groups)`},
		{"fault group out of range", base + "faults:\n  - {at: 1s, partition: {groups: [[0, 1], [2, 9]]}}\n",
			"t.yaml:5:47: faults[0].partition.groups[1][1]: node 9 out of range (cluster has 5 nodes)"},
		{"fault partition unknown key", base + "faults:\n  - {at: 1s, partition: {isolat: 2}}\n",
			"t.yaml:5:26: faults[0].partition.isolat: unknown field (did you mean isolate?)"},
		{"fault cut same node", base + "faults:\n  - {at: 1s, cut: {from: 2, to: n2}}\n",
			"t.yaml:5:33: faults[0].cut.to: from and to are the same node (n2)"},
		{"fault after the safety phase", base + "duration: 30s\nfaults:\n  - {at: 45s, heal: all}\n",
			"t.yaml:6:10: faults[0].at: 45s is not before the end of the safety phase (duration 30s): the step would never fire"},
		{"faults firing too often", base + "duration: 20s\nfaults:\n  - {from: 0s, to: 1h, every: 1ms, crash: random, down: 1ms}\n" +
			"  - {from: 0s, to: 1h, every: 100us, heal: all}\n",
			"t.yaml:7:31: faults[1].every: the faults fire 220000 times before the end of the safety phase, 200000 of them this step's; " +
				"a scenario's fire at most 100000 times (each firing is kept to pin the run)"},
		{"a one-shot fault past the firing bound", base + "duration: 20s\nfaults:\n  - {from: 0s, to: 20s, every: 200us, crash: random, down: 1ms}\n" +
			"  - {at: 1s, heal: all}\n",
			"t.yaml:7:10: faults[1].at: the faults fire 100001 times before the end of the safety phase, 1 of them this step's; " +
				"a scenario's fire at most 100000 times (each firing is kept to pin the run)"},
		{"fault max_down", base + "faults:\n  - {at: 1s, crash: random, max_down: 9}\n",
			"t.yaml:5:39: faults[0].max_down: 9 is not in [0, 5] (cluster has 5 nodes)"},
		{"stable-leader without liveness", base + "checks: [agreement, stable-leader]\n",
			`t.yaml:4:21: checks[1]: check "stable-leader" is judged after the liveness phase: list liveness too`},
		{"members above nodes", base + "members: 7\n", "t.yaml:4:10: members: 7 is not in [1, nodes] (nodes is 5; leave the key out for every server)"},
		{"members zero", base + "members: 0\n", "t.yaml:4:10: members: 0 is not in [1, nodes] (nodes is 5; leave the key out for every server)"},
		{"a client check without clients", base + "workload: {clients: 0}\nchecks: [agreement, linearizable]\n",
			`t.yaml:5:21: checks[1]: check "linearizable" judges what clients saw, but workload.clients is 0: it would have nothing to judge`},
		{"progress without clients", base + "workload: {clients: 0}\nchecks: [progress]\n",
			`t.yaml:5:10: checks[0]: check "progress" judges what clients saw, but workload.clients is 0: it would have nothing to judge`},
		{"unknown key a short prefix", base + "dur: 1s\n", "t.yaml:4:1: dur: unknown field (did you mean duration?)"},
		{"duplicate key through an alias", "name: t\nprotocol: raft\n&k nodes: 3\n*k : 4\n",
			"t.yaml:4:1: nodes: duplicate key (first at line 3)"},
		{"huge negative int", "name: t\nprotocol: raft\nnodes: -99999999999999999999\n",
			`t.yaml:3:8: nodes: want an integer, got string "-99999999999999999999" (a number too large?)`},
		{"invalid utf8 after multibyte characters", base + "description: café ☕\xff\n", "t.yaml:4:20: the file is not valid UTF-8"},
		{"fault at with to", base + "faults:\n  - {at: 1s, to: 3s, crash: 1}\n",
			"t.yaml:5:10: faults[0].at: give either at, or from/to/every, not both"},
		{"a window's last partial period fires too", base + "duration: 20s\nfaults:\n  - {from: 0s, to: 1s, every: 9us, heal: all}\n",
			"t.yaml:6:31: faults[0].every: the faults fire 111112 times before the end of the safety phase, 111112 of them this step's; " +
				"a scenario's fire at most 100000 times (each firing is kept to pin the run)"},
		{"fault at the end of the safety phase", base + "duration: 30s\nfaults:\n  - {at: 30s, heal: all}\n",
			"t.yaml:6:10: faults[0].at: 30s is not before the end of the safety phase (duration 30s): the step would never fire"},
		{"zero liveness within", base + "checks: [liveness]\nliveness: {within: 0s}\n", "t.yaml:5:20: liveness.within: 0s must be positive"},
		{"unknown liveness heal", base + "checks: [liveness]\nliveness: {heal: nowhere}\n", `t.yaml:5:18: liveness.heal: "nowhere" is not a heal scope (all, core)`},
		{"NaN rate", base + "workload: {rate: .nan}\n", "t.yaml:4:18: workload.rate: NaN is not a rate from 0 to 1000000/s (ops per second)"},
		{"huge rate", base + "workload: {rate: 1e308/s}\n", "t.yaml:4:18: workload.rate: 1e+308 is not a rate from 0 to 1000000/s (ops per second)"},
		{"zero keys", base + "workload: {keys: 0}\n", "t.yaml:4:18: workload.keys: 0 is not in [1, 1000000]"},
		{"member add leader", base + "faults:\n  - {at: 1s, member: {add: [leader]}}\n",
			"t.yaml:5:29: faults[0].member.add[0]: leader is not allowed here (want a node number, random)"},
		{"member node twice", base + "faults:\n  - {at: 1s, member: {add: [3], remove: [n3]}}\n",
			"t.yaml:5:42: faults[0].member.remove[0]: n3 is named twice (also in member.add[0])"},
		{"faults not a list", base + "faults: {at: 1s}\n", "t.yaml:4:9: faults: want a list, got a mapping"},
		{"syntax", base + "checks: [agreement\n", "t.yaml:4:9: YAML syntax: sequence end token ']' not found"},
		{"indented too far", "protocol: raft\nnodes: 3\n  duration: 2s\n", "t.yaml:2:8: YAML syntax: mapping value is not allowed in this context " +
			"(check the indentation of the lines below, and quote a value that holds \": \")"},
		{"explicit key", "protocol: raft\n? nodes\n: 3\n", "t.yaml:2:1: a key must be a plain scalar, got an explicit key (? key)"},
		{"duplicate key", base + "nodes: 3\n", `t.yaml:4:1: nodes: duplicate key (first at line 3)`},
		{"duplicate nested key", base + "workload:\n  think_time: 10ms\n  think_time: 20ms\n",
			`t.yaml:6:3: workload.think_time: duplicate key (first at line 5)`},
		{"duplicate key of a fault", base + "faults:\n  - {at: 1s, at: 2s, crash: 0}\n", `t.yaml:5:14: faults[0].at: duplicate key (first at line 5)`},
		{"top-level list", "- name: t\n", "t.yaml:1:1: want a mapping, got a list"},
		{"empty", "", "t.yaml:1:1: empty scenario: give at least protocol and nodes"},
		{"only a comment", "# nothing\n", "t.yaml:1:1: empty scenario: give at least protocol and nodes"},
		{"two documents", base + "---\nname: u\n", "t.yaml:5:1: a second YAML document: a file holds one scenario"},
		{"tag", base + "seed: !!int 5\n", "t.yaml:4:7: seed: tags (!!int) are not supported"},
		{"merge key", base + "network:\n  <<: {drop: 0.1}\n", "t.yaml:5:3: network: merge keys (<<) are not supported: write the keys out"},
		{"invalid utf8", base + "description: caf\xe9\n", "t.yaml:4:17: the file is not valid UTF-8"},
		{"options not a mapping", base + "protocol_options: [1]\n", "t.yaml:4:19: protocol_options: want a mapping, got a list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc, err := Parse("t.yaml", []byte(tt.src))
			require.Error(t, err)
			assert.Nil(t, sc)
			assert.Equal(t, tt.want, err.Error())
			var e *Error
			assert.True(t, errors.As(err, &e), "a *Error")
		})
	}
}

func TestDefaults(t *testing.T) {
	sc, err := Parse("dir/my-scenario.yaml", []byte("protocol: raft\nnodes: 3\n"))
	require.NoError(t, err)
	want := &Scenario{
		Name: "my-scenario", Protocol: "raft", Nodes: 3,
		Duration: DefaultDuration, Drain: DefaultDrain,
		Network: Network{Latency: Latency{Min: DefaultLatencyMin, Max: DefaultLatencyMax}},
		Workload: Workload{Clients: DefaultClients, Keys: DefaultKeys, Mix: DefaultMix,
			ThinkTime: DefaultThinkTime, Timeout: DefaultTimeout, RetryInterval: DefaultRetryInterval,
			Backlog: DefaultBacklog},
		Checks:   DefaultChecks(ModelKV),
		Liveness: Liveness{Within: DefaultWithin, Heal: HealAll},
	}
	assertSameScenario(t, want, sc)
	assert.Nil(t, sc.Seed)
	assert.Equal(t, uint64(7), sc.SeedOr(7))
}

// TestDefaultChecksWithoutClients: a scenario of no clients that names no
// checks gets the default checks that read the servers' observations, not
// the history checks, which would judge nothing; a scenario that draws its
// clients per seed keeps them all.
func TestDefaultChecksWithoutClients(t *testing.T) {
	sc, err := Parse("t.yaml", []byte(base+"workload: {clients: 0}\n"))
	require.NoError(t, err)
	assert.Equal(t, []string{CheckAgreement, CheckOneLeaderPerTerm, CheckLiveness}, sc.Checks)
	sc, err = Parse("t.yaml", []byte(base+"workload: {clients: 0}\nswarm_options: [clients]\nchecks: [linearizable]\n"))
	require.NoError(t, err)
	assert.Equal(t, []string{CheckLinearizable}, sc.Checks)
}

func TestPartialSections(t *testing.T) {
	sc, err := Parse("t.yaml", []byte(base+`
network:
  latency: {min: 3ms}
workload:
  clients: 2
  mix: {put: 1}
  rate: 2/ms
checks: []
`))
	require.NoError(t, err)
	assert.Equal(t, Latency{Min: 3 * ms, Max: 3 * ms}, sc.Network.Latency, "max defaults to min")
	assert.Equal(t, Mix{Put: 1}, sc.Workload.Mix, "a written mix is whole")
	assert.Equal(t, 2, sc.Workload.Clients)
	assert.Equal(t, DefaultKeys, sc.Workload.Keys)
	assert.Equal(t, Rate(2000), sc.Workload.Rate)
	assert.Empty(t, sc.Checks, "checks: [] asks for none")

	sc, err = Parse("t.yaml", []byte(base+"network: {latency: 4ms}\nchecks:\n"))
	require.NoError(t, err)
	assert.Equal(t, Latency{Min: 4 * ms, Max: 4 * ms}, sc.Network.Latency, "one duration is a constant latency")
	assert.Equal(t, DefaultChecks(ModelKV), sc.Checks, "a bare checks: is the default")
}

func TestRates(t *testing.T) {
	for in, want := range map[string]Rate{"200/s": 200, "200": 200, "1.5/ms": 1500, "600/min": 10, "0": 0,
		"3600/h": 1, " 5 /s": 5} {
		got, err := ParseRate(in)
		require.NoError(t, err, in)
		assert.InDelta(t, float64(want), float64(got), 1e-9, in)
	}
	for _, bad := range []string{"", "fast", "/s", "1e999/s", "NaN", "5/day"} {
		_, err := ParseRate(bad)
		assert.Error(t, err, bad)
	}
	sc, err := Parse("t.yaml", []byte(base+"workload: {rate: 250}\n"))
	require.NoError(t, err)
	assert.Equal(t, Rate(250), sc.Workload.Rate)
}

func TestAnchorsAndAliases(t *testing.T) {
	sc, err := Parse("t.yaml", []byte(base+`
network:
  latency: &lat {min: 2ms, max: 4ms}
faults:
  - &crash {at: 1s, crash: random, down: 1s}
  - *crash
`))
	require.NoError(t, err)
	assert.Equal(t, Latency{Min: 2 * ms, Max: 4 * ms}, sc.Network.Latency)
	require.Len(t, sc.Faults, 2)
	assert.Equal(t, sc.Faults[0], sc.Faults[1])
}

func TestAliasBombIsBounded(t *testing.T) {
	src := base + "protocol_options:\n  a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n"
	prev := "a"
	for _, name := range []string{"b", "c", "d", "e", "f", "g"} {
		src += "  " + name + ": &" + name + " [" + strings.Repeat("*"+prev+", ", 9) + "*" + prev + "]\n"
		prev = name
	}
	_, err := Parse("t.yaml", []byte(src))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "document too large")
}

// TestDeepNestingIsRefused: nesting the YAML parser would take quadratic
// time and memory on is refused before it parses, at the bracket or dash
// past strictyaml.MaxDepth; brackets in quotes and comments are not.
func TestDeepNestingIsRefused(t *testing.T) {
	deep := strictyaml.MaxDepth + 1
	for name, src := range map[string]string{
		"flow":    "description: " + strings.Repeat("[", 20_000) + strings.Repeat("]", 20_000) + "\n",
		"mapping": "description: " + strings.Repeat("{a: ", deep) + "1" + strings.Repeat("}", deep) + "\n",
		"dashes":  "faults:\n  " + strings.Repeat("- ", deep) + "x\n",
	} {
		_, err := Parse("deep.yaml", []byte(base+src))
		require.Error(t, err, name)
		assert.Regexp(t, `^deep\.yaml:[45]:\d+: nested more than 64 levels deep`, err.Error(), name)
	}
	shallow := base + "# " + strings.Repeat("[", 100) + "\n" +
		"description: '" + strings.Repeat("[", 100) + "'\n" +
		"protocol_options: {bugs: " + strings.Repeat("[", 10) + strings.Repeat("]", 10) + "}\n"
	_, err := Parse("shallow.yaml", []byte(shallow))
	require.NoError(t, err) // protocol_options are the protocol's to decode

	// protocol_options are decoded as plain values at parse time: a level
	// of their nesting counts once, so that nesting the parser accepted is
	// decoded too, up to MaxDepth with the file's own levels.
	within := strictyaml.MaxDepth - 4 // the document, protocol_options, bugs and the value
	_, err = Parse("within.yaml", []byte(base+"protocol_options: {bugs: "+strings.Repeat("[", within)+strings.Repeat("]", within)+"}\n"))
	require.NoError(t, err)
}

// TestByteOrderMarkIsSkipped: a UTF-8 byte order mark, as some editors
// write, is not part of the first key: the file parses as without it, and
// an error on its first line points where an editor shows the text.
func TestByteOrderMarkIsSkipped(t *testing.T) {
	data, err := os.ReadFile("raft-calm.yaml")
	require.NoError(t, err)
	plain, err := Parse("raft-calm.yaml", data)
	require.NoError(t, err)
	withBOM, err := Parse("raft-calm.yaml", append([]byte("\ufeff"), data...))
	require.NoError(t, err)
	a, err := plain.Marshal()
	require.NoError(t, err)
	b, err := withBOM.Marshal()
	require.NoError(t, err)
	require.Equal(t, string(a), string(b))

	_, err = Parse("bom.yaml", []byte("\ufeffnodez: 3\n"))
	require.Error(t, err)
	require.True(t, strings.HasPrefix(err.Error(), "bom.yaml:1:1: nodez"), err.Error())
}

func TestParseFileErrors(t *testing.T) {
	_, err := ParseFile("no-such-file.yaml")
	require.EqualError(t, err, "no-such-file.yaml: no such file or directory")

	path := filepath.Join(t.TempDir(), "bad.yaml")
	require.NoError(t, os.WriteFile(path, []byte(base+"nodes: 3\n"), 0o644))
	_, err = ParseFile(path)
	require.EqualError(t, err, path+`:4:1: nodes: duplicate key (first at line 3)`)
}

func TestErrorf(t *testing.T) {
	sc, err := Parse("t.yaml", []byte(base+`faults:
  - {at: 1s, crash: 2}
protocol_options:
  bugs: [none, vote-twice]
`))
	require.NoError(t, err)
	tests := []struct{ path, want string }{
		{"protocol_options.bugs[1]", `t.yaml:7:16: protocol_options.bugs[1]: unknown bug "vote-twice"`},
		{"faults[0].crash", `t.yaml:5:21: faults[0].crash: unknown bug "vote-twice"`},
		{"workload", `t.yaml:1:1: workload: unknown bug "vote-twice"`},
		{"faults[0].down", `t.yaml:5:5: faults[0].down: unknown bug "vote-twice"`},
		{"nodes", `t.yaml:3:8: nodes: unknown bug "vote-twice"`},
		{"protocol_options.bugs[3]", `t.yaml:7:9: protocol_options.bugs[3]: unknown bug "vote-twice"`},
	}
	for _, tt := range tests {
		assert.EqualError(t, sc.Errorf(tt.path, "unknown bug %q", "vote-twice"), tt.want, tt.path)
	}
	built := &Scenario{Name: "in-code"}
	assert.EqualError(t, built.Errorf("nodes", "bad"), "in-code: nodes: bad")
}

func TestValidateScenarioBuiltInCode(t *testing.T) {
	sc := &Scenario{Name: "x", Protocol: "raft", Nodes: 3, Duration: DefaultDuration,
		Network:  Network{Latency: Latency{Min: ms, Max: ms}},
		Workload: Workload{Keys: 1, Mix: DefaultMix, Timeout: DefaultTimeout, RetryInterval: DefaultRetryInterval},
		Faults:   []faults.Step{{At: faults.Duration(time.Second), Crash: faults.Node(3)}},
	}
	assert.EqualError(t, sc.Validate(), "x: faults[0].crash: node 3 out of range (cluster has 3 nodes)")
	sc.Faults[0].Crash = faults.Node(2)
	assert.NoError(t, sc.Validate())
}

func TestWithSeedAndClone(t *testing.T) {
	sc, err := ParseFile("raft-crash-churn.yaml")
	require.NoError(t, err)
	pinned := sc.WithSeed(42)
	require.NotNil(t, pinned.Seed)
	assert.Equal(t, uint64(42), *pinned.Seed)
	assert.Nil(t, sc.Seed, "the original is untouched")
	pinned.Faults[0].Down = 0
	assert.NotZero(t, sc.Faults[0].Down, "faults are copied")
	out, err := pinned.WithSeed(43).Marshal()
	require.NoError(t, err)
	assert.Contains(t, string(out), "\nseed: 43\n")
	assert.True(t, sc.HasCheck(CheckLinearizable))
	assert.False(t, sc.HasCheck(CheckSerializable))
	assert.Equal(t, sc.Faults, sc.FaultPlan().Steps)
}

// TestEditedScenarioIsJudgedByItsValue: after a scenario read from a file is
// changed in code (by a shrinker, a test helper), its new fault steps and
// protocol options are validated and decoded from the value, not from what
// the file once said.
func TestEditedScenarioIsJudgedByItsValue(t *testing.T) {
	sc, err := Parse("e.yaml", []byte("protocol: raft\nnodes: 3\nfaults:\n  - {at: 1s, heal: all}\nprotocol_options: {bugs: [x]}\n"))
	require.NoError(t, err)
	edited := sc.Clone()
	edited.Faults = []faults.Step{{At: faults.Duration(2e9), Crash: faults.Random()}}
	require.NoError(t, edited.Validate())
	delete(edited.ProtocolOptions, "bugs")
	var opts struct {
		Bugs []string `yaml:"bugs"`
	}
	require.NoError(t, edited.DecodeProtocolOptions(&opts))
	require.Empty(t, opts.Bugs)
	require.NoError(t, sc.DecodeProtocolOptions(&opts))
	require.Equal(t, []string{"x"}, opts.Bugs, "the original keeps its options")
}

func TestErrorIsOneLine(t *testing.T) {
	e := &Error{File: "a\nb.yaml", Line: 1, Column: 2, Path: "x", Msg: "bad\nvalue"}
	assert.Equal(t, "a b.yaml:1:2: x: bad value", e.Error())
	cr := &Error{File: "a\rb.yaml", Line: 1, Column: 2, Path: "x", Msg: "bad\rvalue"}
	assert.Equal(t, "a b.yaml:1:2: x: bad value", cr.Error(), "a carriage return alone breaks a line too")
	assert.Equal(t, "f.yaml: oops", (&Error{File: "f.yaml", Msg: "oops"}).Error())
}

// TestValuesAtTheirLimitsAreAccepted: a bound that an error message gives as
// inclusive ("not in [1, 1000]", "at most 64 nodes", "(0, 5]") accepts the
// value at the bound itself; TestParseErrors has the values past them.
func TestValuesAtTheirLimitsAreAccepted(t *testing.T) {
	for name, src := range map[string]string{
		"nodes at MaxNodes":                 "protocol: raft\nnodes: 1000\n",
		"members equal to nodes":            base + "members: 5\n",
		"spare servers with sim.MaxMembers": "protocol: raft\nnodes: 64\nmembers: 3\n",
		"max_txn_ops at its limit":          base + "workload: {model: list-append, max_txn_ops: 64}\nchecks: [serializable]\n",
		"max_writes_per_key at its limit":   base + "workload: {model: list-append, max_writes_per_key: 1000000}\n",
		"lognormal sigma at its limit":      base + "network: {latency: {dist: lognormal, median: 4ms, sigma: 5, max: 1s}}\n",
		"every server Byzantine":            "protocol: pbft\nnodes: 4\nbyzantine:\n  - {count: 4, behaviour: silent}\n",
	} {
		_, err := Parse("t.yaml", []byte(src))
		assert.NoError(t, err, name)
	}
}

// TestFileOfTheMaximumSizeIsRead: MaxFileSize bytes is a file a scenario may
// have; one byte more is refused.
func TestFileOfTheMaximumSizeIsRead(t *testing.T) {
	src := base + "# " + strings.Repeat("x", MaxFileSize-len(base)-len("# \n")) + "\n"
	require.Len(t, src, MaxFileSize)
	_, err := Parse("t.yaml", []byte(src))
	require.NoError(t, err)
	_, err = Parse("t.yaml", []byte(src+"\n"))
	require.EqualError(t, err, "t.yaml:1:1: file is larger than the 262144 bytes a scenario may have")
}

// TestLivenessDefaultsKeepWhatIsWritten: a liveness section that writes one
// of its keys gets the default of the other only.
func TestLivenessDefaultsKeepWhatIsWritten(t *testing.T) {
	sc, err := Parse("t.yaml", []byte(base+"checks: [liveness]\nliveness: {heal: core}\n"))
	require.NoError(t, err)
	assert.Equal(t, Liveness{Within: DefaultWithin, Heal: HealCore}, sc.Liveness)
	sc, err = Parse("t.yaml", []byte(base+"checks: [liveness]\nliveness: {within: 3s}\n"))
	require.NoError(t, err)
	assert.Equal(t, Liveness{Within: 3000 * ms, Heal: HealAll}, sc.Liveness)
}

// TestNameFromAWindowsPath: the default name drops a directory written with
// backslashes too.
func TestNameFromAWindowsPath(t *testing.T) {
	sc, err := Parse(`dir\sub\my-scenario.yaml`, []byte("protocol: raft\nnodes: 3\n"))
	require.NoError(t, err)
	assert.Equal(t, "my-scenario", sc.Name)
}

// TestAliasNestingIsBounded: aliases nest a document deeper than its text
// shows, which TooDeep cannot see; the decoder refuses it at its own bound.
func TestAliasNestingIsBounded(t *testing.T) {
	src, prev := base+"protocol_options:\n  a: &a [1]\n", "a"
	for range strictyaml.MaxDepth {
		next := prev + "a"
		src += "  " + next + ": &" + next + " [*" + prev + "]\n"
		prev = next
	}
	_, err := Parse("t.yaml", []byte(src))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nested more than 64 levels deep")
}

// An unknown key is shown quoted when it holds a control character (an
// escape would reach the terminal) and cut when it is long (a 100 KB key made
// a 100 KB error line).
func TestUnknownKeysAreShownSafely(t *testing.T) {
	const base = "name: t\nprotocol: raft\nnodes: 3\n"
	for src, want := range map[string]string{
		base + "\"\\e[31mred\": 3\n":               `t.yaml:4:1: "\x1b[31mred": unknown field (known: `,
		base + strings.Repeat("k", 5000) + ": 3\n": `t.yaml:4:1: "` + strings.Repeat("k", 64) + `"...: unknown field (known: `,
	} {
		_, err := Parse("t.yaml", []byte(src))
		require.Error(t, err)
		assert.True(t, strings.HasPrefix(err.Error(), want), err.Error()[:min(len(err.Error()), 200)])
		assert.Less(t, len(err.Error()), 1000)
	}
}

// TestNameFromAnUnfitFileName: a scenario without a name takes its file's;
// when that is no scenario name, the error says where the name came from.
func TestNameFromAnUnfitFileName(t *testing.T) {
	_, err := Parse("my scen+1.yaml", []byte("protocol: raft\nnodes: 3\nduration: 2s\n"))
	require.EqualError(t, err, `my scen+1.yaml:1:1: name: missing, and the file's name, "my scen+1", is no scenario name: `+
		`give one of up to 100 letters, digits, '.', '_' and '-'`)
}

// TestOptionErrorMatchesWholeWordsOnly: an option error points at the key
// its message names as a whole word, not at a key that is only the start of
// a longer name in it: with options rate and burst, "rate_limit forbids
// burst 3" is about burst.
func TestOptionErrorMatchesWholeWordsOnly(t *testing.T) {
	require.Equal(t, -1, wordIndex("rate_limit forbids burst 3", "rate"))
	require.Equal(t, -1, wordIndex("a burst_size of 3", "burst"))
	require.Equal(t, 19, wordIndex("rate_limit forbids burst 3", "burst"))
	require.Equal(t, 0, wordIndex("rate 3 with burst", "rate"))
	require.Equal(t, 6, wordIndex("rates rate", "rate"), "the first whole one")
}

// TestReadingSimrunsOwnOutputSaysWhatItIs: a run's report.json (or a
// sweep's results.jsonl) given where a scenario goes says which file it is
// and where the scenario is, after the error itself.
func TestReadingSimrunsOwnOutputSaysWhatItIs(t *testing.T) {
	dir := t.TempDir()
	report := filepath.Join(dir, "report.json")
	require.NoError(t, os.WriteFile(report, []byte("{\n  \"scenario\": \"s\"\n}\n"), 0o644))
	_, err := ParseFile(report)
	require.EqualError(t, err, report+":2:3: scenario: unknown field (known: name, description, protocol, nodes, members, seed, "+
		"duration, drain, max_events, network, workload, faults, checks, liveness, byzantine, swarm, swarm_options, buggify, "+
		"protocol_options) (report.json is a run's report; the scenario.yaml beside it replays the run)")
	results := filepath.Join(dir, "results.jsonl")
	require.NoError(t, os.WriteFile(results, []byte(`{"scenario":"s","seed":1}`+"\n"), 0o644))
	_, err = ParseFile(results)
	require.ErrorContains(t, err, "(results.jsonl holds a sweep's results, not a scenario)")
}
