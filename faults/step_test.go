package faults

import (
	"errors"
	"reflect"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name  string
		step  Step
		field string
		msg   string
	}{
		{"ok crash", Step{At: ms, Crash: Node(4), Down: ms}, "", ""},
		{"ok window", Step{From: ms, To: 9 * ms, Every: ms, Crash: Random(), MaxDown: 2}, "", ""},
		{"ok at zero", Step{Heal: "all"}, "", ""},
		{"no action", Step{At: ms}, "", "no action: give one of partition, cut, clog, link, heal, crash, pause, restart, resume, clock, disk, corrupt, swizzle, transfer, member"},
		{"two actions", Step{At: ms, Heal: "all", Crash: Node(1)}, "crash",
			"a step has one action, this one has heal and crash: split it into 2 steps"},
		{"node out of range", Step{Crash: Node(7)}, "crash", "node 7 out of range (cluster has 5 nodes)"},
		{"negative node", Step{Crash: Node(-1)}, "crash", "node -1 out of range (cluster has 5 nodes)"},
		{"crash all-down", Step{Crash: AllDown()}, "crash",
			"all-down is not allowed here (want a node number, random, leader, all, rolling)"},
		{"restart random", Step{Restart: Random()}, "restart",
			"random is not allowed here (want a node number, all-down)"},
		{"negative at", Step{At: -ms, Heal: "all"}, "at", "-1ms is negative"},
		{"negative down", Step{Crash: Node(0), Down: -ms}, "down", "-1ms is negative"},
		{"negative every", Step{Every: -ms, To: ms, Heal: "all"}, "every", "-1ms is negative"},
		{"to before from", Step{From: 5 * ms, To: 2 * ms, Every: ms, Heal: "all"}, "to",
			"window end 2ms is not after its start 5ms"},
		{"empty window", Step{From: 5 * ms, To: 5 * ms, Every: ms, Heal: "all"}, "to",
			"window end 5ms is not after its start 5ms"},
		{"window without its end", Step{Every: ms, Crash: Node(1)}, "to",
			"missing: a repeating step (every) fires from its from up to its to"},
		{"window without every", Step{From: 5 * ms, To: 9 * ms, Heal: "all"}, "from",
			"a window needs every (or use at for a single firing)"},
		{"at with every", Step{At: ms, To: 9 * ms, Every: ms, Heal: "all"}, "at",
			"a repeating step (every) runs from/to, not at"},
		{"down without crash", Step{Restart: Node(1), Down: ms}, "down", "only a crash or pause step can have down"},
		{"max_down without crash", Step{Heal: "all", MaxDown: 1}, "max_down", "only a crash or pause step can have max_down"},
		{"max_down too big", Step{Crash: Random(), MaxDown: 6}, "max_down", "6 is not in [0, 5] (cluster has 5 nodes)"},
		{"bad heal", Step{Heal: "some"}, "heal", `unknown heal scope "some" (want all or network)`},
		{"partition no shape", Step{Partition: &Partition{}}, "partition", "give exactly one of isolate, halves, groups, bridge, ring"},
		{"partition two shapes", Step{Partition: &Partition{Halves: true, Isolate: Node(1)}}, "partition",
			"give exactly one of isolate, halves, groups, bridge, ring"},
		{"isolate out of range", Step{Partition: &Partition{Isolate: Node(5)}}, "partition.isolate",
			"node 5 out of range (cluster has 5 nodes)"},
		{"group node out of range", Step{Partition: &Partition{Groups: [][]int{{0, 1}, {2, 9}}}},
			"partition.groups[1][1]", "node 9 out of range (cluster has 5 nodes)"},
		{"group duplicate", Step{Partition: &Partition{Groups: [][]int{{0, 1}, {2, 1}}}},
			"partition.groups[1][1]", "node 1 is already in groups[0]"},
		{"one group", Step{Partition: &Partition{Groups: [][]int{{0, 1}, {}}}},
			"partition.groups", "need at least two non-empty groups"},
		{"cut same node", Step{Cut: &Cut{From: Node(1), To: Node(1)}}, "cut.to", "from and to are the same node (n1)"},
		{"cut leader to leader", Step{Cut: &Cut{From: Leader(), To: Leader()}}, "cut.to",
			"from and to are the same node (leader)"},
		{"cut missing to", Step{Cut: &Cut{From: Node(1)}}, "cut.to",
			"none is not allowed here (want a node number, random, leader)"},
		{"cut random both", Step{Cut: &Cut{From: Random(), To: Random()}}, "", ""},
		{"ok pause", Step{Pause: Leader(), Down: ms, MaxDown: 2}, "", ""},
		{"ok partition for", Step{Partition: &Partition{Halves: true}, For: ms}, "", ""},
		{"for on crash", Step{Crash: Node(1), For: ms}, "for",
			"a crash step cannot have for (for undoes a partition, cut, clog, link, clock rate, disk or swizzle fault)"},
		{"negative for", Step{Cut: &Cut{From: Node(0), To: Node(1)}, For: -ms}, "for", "-1ms is negative"},
		{"resume all-down", Step{Resume: AllDown()}, "resume", "all-down is not allowed here (want a node number, all-paused)"},
		{"clog node and link", Step{Clog: &Clog{Node: Node(1), From: Node(0), To: Node(2)}}, "clog",
			"give a node, or from and to, not both"},
		{"clog half a link", Step{Clog: &Clog{From: Node(0)}}, "clog.to",
			"none is not allowed here (want a node number, random, leader)"},
		{"clog node out of range", Step{Clog: &Clog{Node: Node(5)}}, "clog.node", "node 5 out of range (cluster has 5 nodes)"},
		{"link nothing", Step{Link: &LinkChange{}}, "link", "change something: latency, tail, drop or duplicate"},
		{"link drop", Step{Link: &LinkChange{Drop: ptr(1.5)}}, "link.drop", "1.5 is not a probability in [0, 1]"},
		{"link latency", Step{Link: &LinkChange{Latency: &Range{Min: 2 * ms, Max: ms}}}, "link.latency.max",
			"1ms is below min 2ms"},
		{"link tail", Step{Link: &LinkChange{Tail: &Tail{Probability: 0.5}}}, "link.tail.mean",
			"must be positive when the probability is"},
		{"link one way", Step{Link: &LinkChange{From: Node(0), To: Leader(), Drop: ptr(0.5)}, For: ms}, "", ""},
		{"clock both", Step{Clock: &Clock{Node: Node(0), Rate: 2, Skew: ms}}, "clock", "give exactly one of rate (a positive number) and skew (not 0)"},
		{"clock rate", Step{Clock: &Clock{Node: Node(0), Rate: -1}}, "clock.rate",
			"-1 is not in (0, 100) (local seconds per real second)"},
		{"clock skew of centuries", Step{Clock: &Clock{Node: Node(0), Skew: -MaxSkew - 1}}, "clock.skew",
			"-8760h0m0.000000001s is more than the 8760h0m0s a clock may jump at once"},
		{"clock skew of a year", Step{Clock: &Clock{Node: Node(0), Skew: MaxSkew}}, "", ""},
		{"clock skew for", Step{Clock: &Clock{Node: Node(0), Skew: -ms}, For: ms}, "for",
			"a clock skew is a jump: it cannot be undone, only a rate can"},
		{"clock no node", Step{Clock: &Clock{Rate: 2}}, "clock.node",
			"none is not allowed here (want a node number, random, leader)"},
		{"disk nothing", Step{Disk: &Disk{Node: Random()}}, "disk", "give a fault: torn_writes, reordered_writes, or a sync_latency above 0"},
		{"disk range", Step{Disk: &Disk{Node: Random(), SyncLatency: &Range{Min: -ms}}}, "disk.sync_latency.min",
			"-1ms is negative"},
		{"corrupt all-down", Step{Corrupt: AllDown()}, "corrupt", "all-down is not allowed here (want a node number, random, leader)"},

		{"ok bridge", Step{Partition: &Partition{Bridge: true}, For: ms}, "", ""},
		{"ok ring", Step{Partition: &Partition{Ring: &Ring{Random: true}}, For: ms}, "", ""},
		{"ok ring order", Step{Partition: &Partition{Ring: &Ring{Order: []int{3, 0, 4, 1, 2}}}}, "", ""},
		{"bridge and ring", Step{Partition: &Partition{Bridge: true, Ring: &Ring{Random: true}}}, "partition",
			"give exactly one of isolate, halves, groups, bridge, ring"},
		{"ring short", Step{Partition: &Partition{Ring: &Ring{Order: []int{0, 1, 2, 3}}}}, "partition.ring",
			"lists 4 servers, the cluster has 5: give every server once, in ring order"},
		{"ring twice", Step{Partition: &Partition{Ring: &Ring{Order: []int{0, 1, 2, 3, 1}}}}, "partition.ring[4]",
			"node 1 is already at ring[1]"},
		{"ring out of range", Step{Partition: &Partition{Ring: &Ring{Order: []int{0, 1, 2, 3, 5}}}}, "partition.ring[4]",
			"node 5 out of range (cluster has 5 nodes)"},
		{"ring random and order", Step{Partition: &Partition{Ring: &Ring{Random: true, Order: []int{0}}}}, "partition.ring",
			"give random or an order, not both"},
		{"ring empty", Step{Partition: &Partition{Ring: &Ring{}}}, "partition.ring",
			"lists 0 servers, the cluster has 5: give every server once, in ring order"},
		{"ok crash all", Step{Crash: All(), Down: ms}, "", ""},
		{"ok crash all forever", Step{Crash: All()}, "", ""},
		{"crash all max_down", Step{Crash: All(), Down: ms, MaxDown: 2}, "max_down",
			"crash all takes every server down at once: max_down cannot hold it back (leave it out, or crash random)"},
		{"ok rolling", Step{Crash: Rolling(), Down: ms, MaxDown: 1}, "", ""},
		{"rolling without down", Step{Crash: Rolling()}, "down",
			"a rolling restart needs down: how long each server stays down before the next one crashes"},
		{"pause all", Step{Pause: All()}, "pause", "all is not allowed here (want a node number, random, leader)"},
		{"ok swizzle", Step{Swizzle: &Swizzle{Every: ms}, For: 2 * ms}, "", ""},
		{"ok swizzle forever", Step{Swizzle: &Swizzle{Nodes: 5, Every: ms}}, "", ""},
		{"ok swizzle pinned", Step{Swizzle: &Swizzle{Clog: []int{2, 0, 4}, Unclog: []int{4, 2, 0}, Every: ms}, For: 2 * ms}, "", ""},
		{"ok swizzle pinned forever", Step{Swizzle: &Swizzle{Clog: []int{2, 0}, Every: ms}}, "", ""},
		{"swizzle no every", Step{Swizzle: &Swizzle{Nodes: 2}}, "swizzle.every", "0s is not positive: give the time between two clogs"},
		{"swizzle nodes", Step{Swizzle: &Swizzle{Nodes: 6, Every: ms}}, "swizzle.nodes",
			"6 is not in [1, 5] (cluster has 5 nodes; leave it out for a majority)"},
		{"swizzle nodes and clog", Step{Swizzle: &Swizzle{Nodes: 1, Clog: []int{1}, Every: ms}}, "swizzle.nodes",
			"give nodes (drawn at random) or clog (an explicit order), not both"},
		{"swizzle clog twice", Step{Swizzle: &Swizzle{Clog: []int{1, 1}, Every: ms}}, "swizzle.clog[1]", "node 1 is already at clog[0]"},
		{"swizzle empty clog", Step{Swizzle: &Swizzle{Clog: []int{}, Every: ms}}, "swizzle.clog", "is empty: give the servers to clog, in order"},
		{"swizzle unclog missing", Step{Swizzle: &Swizzle{Clog: []int{1, 2}, Every: ms}, For: 5 * ms}, "swizzle.unclog",
			"missing: with for and clog, give the order to unclog them in (the same servers)"},
		{"swizzle unclog without for", Step{Swizzle: &Swizzle{Clog: []int{1, 2}, Unclog: []int{2, 1}, Every: ms}}, "swizzle.unclog",
			"nothing unclogs without for: give for, or leave unclog out"},
		{"swizzle unclog other", Step{Swizzle: &Swizzle{Clog: []int{1, 2}, Unclog: []int{2, 3}, Every: ms}, For: 5 * ms},
			"swizzle.unclog[1]", "node 3 is not in clog"},
		{"swizzle unclog short", Step{Swizzle: &Swizzle{Clog: []int{1, 2}, Unclog: []int{2}, Every: ms}, For: 5 * ms},
			"swizzle.unclog", "lists 1 servers, clog lists 2: give the same servers"},
		{"swizzle for too short", Step{Swizzle: &Swizzle{Every: 10 * ms}, For: 15 * ms}, "for",
			"15ms is before the last clog (3 servers, one every 10ms: the last at 20ms); unclogging starts after clogging ends"},
		{"swizzle down", Step{Swizzle: &Swizzle{Every: ms}, Down: ms}, "down", "only a crash or pause step can have down"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.step.Validate(5)
			if tt.msg == "" {
				require.NoError(t, err)
				return
			}
			var fe *FieldError
			require.True(t, errors.As(err, &fe), "error %v is a *FieldError", err)
			assert.Equal(t, tt.field, fe.Field)
			assert.Equal(t, tt.msg, fe.Msg)
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestValidateSmallClusters(t *testing.T) {
	assert.EqualError(t, Step{Partition: &Partition{Halves: true}}.Validate(1),
		"partition: a partition needs at least 2 servers (cluster has 1)")
	assert.EqualError(t, Step{Cut: &Cut{From: Random(), To: Random()}}.Validate(1),
		"cut: a link needs at least 2 servers (cluster has 1)")
	assert.EqualError(t, Step{Heal: "all"}.Validate(0), "a cluster needs at least one server, got 0")
	assert.EqualError(t, Step{Partition: &Partition{Bridge: true}}.Validate(2),
		"partition.bridge: a bridge needs at least 3 servers: the bridge and two sides (cluster has 2)")
	assert.EqualError(t, Step{Partition: &Partition{Ring: &Ring{Random: true}}}.Validate(3),
		"partition.ring: a ring needs at least 4 servers: with 3, every server is within reach of every other and nothing is cut")
	assert.EqualError(t, Step{Swizzle: &Swizzle{Every: ms}}.Validate(1),
		"swizzle: a swizzle needs at least 2 servers (cluster has 1)")
}

// The YAML shape, decoded with go-yaml itself (scenario files use their own
// strict walker, which honours the same conventions).
func TestStepsDecodeWithGoYAML(t *testing.T) {
	src := `
- {at: 5s, partition: isolate-leader}
- {at: 12s, heal: all}
- {from: 15s, to: 40s, every: 5s, crash: random, down: 2s, max_down: 2}
- {at: 20s, crash: leader, down: 3s}
- {at: 9s, partition: {groups: [[0,1],[2,3,4]]}}
- {at: 9s, cut: {from: 0, to: n1}}
- {at: 1m, restart: all-down}
- {at: 0, partition: {isolate: 3}}
- {at: 150ms, partition: halves}
- {at: 1s, pause: leader, down: 500ms, max_down: 1}
- {at: 2s, resume: all-paused}
- {at: 3s, clog: 2, for: 1s}
- {at: 4s, clog: {from: 0, to: leader}}
- {at: 5s, link: {drop: 0.2, latency: {min: 5ms, max: 50ms}}, for: 10s}
- {at: 6s, link: {from: 1, to: 2, latency: 3ms, tail: {probability: 0.1, mean: 20ms}, duplicate: 0.5}}
- {at: 7s, clock: {node: random, rate: 1.5}, for: 5s}
- {at: 8s, clock: {node: 2, skew: -2s}}
- {at: 9s, disk: {node: leader, torn_writes: true, sync_latency: {min: 1ms, max: 10ms}}, for: 3s}
- {at: 10s, corrupt: random}
- {at: 11s, heal: network}
- {at: 12s, partition: isolate-leader, for: 3s}
- {at: 13s, partition: bridge, for: 2s}
- {at: 14s, partition: ring}
- {at: 15s, partition: {ring: [3, 0, 4, 1, 2]}, for: 1s}
- {at: 16s, partition: {ring: random}}
- {at: 17s, swizzle: {nodes: 3, every: 100ms}, for: 2s}
- {at: 18s, swizzle: {clog: [2, 0, 4], unclog: [4, 2, 0], every: 50ms}, for: 1s}
- {at: 19s, swizzle: {every: 20ms}}
- {at: 20s, crash: all, down: 1s}
- {at: 21s, crash: rolling, down: 300ms, max_down: 1}
`
	var steps []Step
	require.NoError(t, yaml.UnmarshalWithOptions([]byte(src), &steps, yaml.Strict()))
	s := Duration(1e9)
	want := []Step{
		{At: 5 * s, Partition: &Partition{Isolate: Leader()}},
		{At: 12 * s, Heal: "all"},
		{From: 15 * s, To: 40 * s, Every: 5 * s, Crash: Random(), Down: 2 * s, MaxDown: 2},
		{At: 20 * s, Crash: Leader(), Down: 3 * s},
		{At: 9 * s, Partition: &Partition{Groups: [][]int{{0, 1}, {2, 3, 4}}}},
		{At: 9 * s, Cut: &Cut{From: Node(0), To: Node(1)}},
		{At: 60 * s, Restart: AllDown()},
		{Partition: &Partition{Isolate: Node(3)}},
		{At: 150 * ms, Partition: &Partition{Halves: true}},
		{At: s, Pause: Leader(), Down: 500 * ms, MaxDown: 1},
		{At: 2 * s, Resume: AllPaused()},
		{At: 3 * s, Clog: &Clog{Node: Node(2)}, For: s},
		{At: 4 * s, Clog: &Clog{From: Node(0), To: Leader()}},
		{At: 5 * s, Link: &LinkChange{Drop: ptr(0.2), Latency: &Range{Min: 5 * ms, Max: 50 * ms}}, For: 10 * s},
		{At: 6 * s, Link: &LinkChange{From: Node(1), To: Node(2), Latency: &Range{Min: 3 * ms, Max: 3 * ms},
			Tail: &Tail{Probability: 0.1, Mean: 20 * ms}, Duplicate: ptr(0.5)}},
		{At: 7 * s, Clock: &Clock{Node: Random(), Rate: 1.5}, For: 5 * s},
		{At: 8 * s, Clock: &Clock{Node: Node(2), Skew: -2 * s}},
		{At: 9 * s, Disk: &Disk{Node: Leader(), TornWrites: true, SyncLatency: &Range{Min: ms, Max: 10 * ms}}, For: 3 * s},
		{At: 10 * s, Corrupt: Random()},
		{At: 11 * s, Heal: HealNetwork},
		{At: 12 * s, Partition: &Partition{Isolate: Leader()}, For: 3 * s},
		{At: 13 * s, Partition: &Partition{Bridge: true}, For: 2 * s},
		{At: 14 * s, Partition: &Partition{Ring: &Ring{Random: true}}},
		{At: 15 * s, Partition: &Partition{Ring: &Ring{Order: []int{3, 0, 4, 1, 2}}}, For: s},
		{At: 16 * s, Partition: &Partition{Ring: &Ring{Random: true}}},
		{At: 17 * s, Swizzle: &Swizzle{Nodes: 3, Every: 100 * ms}, For: 2 * s},
		{At: 18 * s, Swizzle: &Swizzle{Clog: []int{2, 0, 4}, Unclog: []int{4, 2, 0}, Every: 50 * ms}, For: s},
		{At: 19 * s, Swizzle: &Swizzle{Every: 20 * ms}},
		{At: 20 * s, Crash: All(), Down: s},
		{At: 21 * s, Crash: Rolling(), Down: 300 * ms, MaxDown: 1},
	}
	require.Equal(t, want, steps)
	for i, st := range steps {
		require.NoError(t, st.Validate(5), "step %d", i)
	}

	out, err := yaml.MarshalWithOptions(steps, yaml.Flow(true))
	require.NoError(t, err)
	var again []Step
	require.NoError(t, yaml.UnmarshalWithOptions(out, &again, yaml.Strict()), "%s", out)
	require.Equal(t, want, again, "%s", out)
}

func TestYAMLErrors(t *testing.T) {
	tests := []struct{ src, want string }{
		{`{at: 5, heal: all}`, `5 has no unit: write 5s or 5ms`},
		{`{at: "5", heal: all}`, `"5" has no unit: write 5s or 5ms`},
		{`{at: .nan, heal: all}`, `NaN is not a duration: write it like 150ms or 2s`},
		{`{at: "+Inf", heal: all}`, `"+Inf" is not a duration: write it like 150ms or 2s`},
		{`{at: soon, heal: all}`, `invalid duration "soon": write it like 150ms or 2s`},
		{`{at: 1s, crash: someone}`, `unknown target "someone" (want a node number, random, leader, all, rolling, all-down or all-paused)`},
		{`{at: 1s, crash: 1.5}`, `want a target (a node number, random, leader, all, rolling, all-down or all-paused), got 1.5`},
		{`{at: 1s, crash: [1, 2]}`, `want a target (a node number, random, leader, all, rolling, all-down or all-paused), got a list`},
		{`{at: 1s, partition: thirds}`, `unknown partition "thirds"`},
		{`{at: 1s, partition: {ring: sometimes}}`, `want a ring (random, or a list of servers in their order around it), got "sometimes"`},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			var st Step
			err := yaml.UnmarshalWithOptions([]byte(tt.src), &st, yaml.Strict())
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestDescribe(t *testing.T) {
	tests := []struct {
		step Step
		want string
	}{
		{Step{At: 5 * ms, Partition: &Partition{Isolate: Leader()}}, "at 5ms: partition isolate-leader"},
		{Step{Partition: &Partition{Isolate: Node(2)}}, "at 0s: partition isolate n2"},
		{Step{From: ms, To: 9 * ms, Every: 2 * ms, Crash: Random(), Down: ms, MaxDown: 2},
			"every 2ms in [1ms, 9ms): crash random down=1ms max_down=2"},
		{Step{Cut: &Cut{From: Node(0), To: Leader()}}, "at 0s: cut n0->leader"},
		{Step{Restart: AllDown()}, "at 0s: restart all-down"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.step.String())
	}
}

func TestParseTarget(t *testing.T) {
	for in, want := range map[string]Target{"3": Node(3), "n12": Node(12), "random": Random(),
		"leader": Leader(), "all-down": AllDown(), "all": All(), "rolling": Rolling()} {
		got, err := ParseTarget(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "n", "-1", "+1", "n-1", "Leader", "x3"} {
		_, err := ParseTarget(bad)
		assert.Error(t, err, bad)
	}
}

// TestStepShapesFollowStep: the written forms carry every action field of
// Step with its tag, at for a one-shot step and the window for a repeating
// one, so a new action field is written without a second listing.
func TestStepShapesFollowStep(t *testing.T) {
	for _, shape := range []reflect.Type{oneShotShape, repeatingShape} {
		for f := range reflect.TypeFor[Step]().Fields() {
			got, ok := shape.FieldByName(f.Name)
			switch {
			case f.Name == "At":
				assert.Equal(t, shape == oneShotShape, ok)
			case f.Name == "From" || f.Name == "To" || f.Name == "Every":
				assert.Equal(t, shape == repeatingShape, ok)
			default:
				assert.True(t, ok, f.Name)
				assert.Equal(t, f.Tag, got.Tag, f.Name)
			}
		}
	}
}

func TestDescribeNewActions(t *testing.T) {
	tests := []struct {
		step Step
		want string
	}{
		{Step{Pause: Leader(), Down: ms}, "pause leader down=1ms"},
		{Step{Clog: &Clog{Node: Node(2)}, For: ms}, "clog n2 for=1ms"},
		{Step{Clog: &Clog{From: Node(0), To: Random()}}, "clog n0->random"},
		{Step{Link: &LinkChange{Drop: ptr(0.2), Latency: &Range{Min: ms, Max: 2 * ms}}}, "link all latency=1ms..2ms drop=0.2"},
		{Step{Clock: &Clock{Node: Node(1), Rate: 1.5}, For: ms}, "clock n1 rate=1.5 for=1ms"},
		{Step{Clock: &Clock{Node: Node(1), Skew: -ms}}, "clock n1 skew=-1ms"},
		{Step{Disk: &Disk{Node: Leader(), TornWrites: true, SyncLatency: &Range{Max: ms}}}, "disk leader torn_writes sync_latency=0s..1ms"},
		{Step{Disk: &Disk{Node: Node(2), ReorderedWrites: true}}, "disk n2 reordered_writes"},
		{Step{Corrupt: Random()}, "corrupt random"},
		{Step{Resume: AllPaused()}, "resume all-paused"},
		{Step{Partition: &Partition{Bridge: true}, For: ms}, "partition bridge for=1ms"},
		{Step{Partition: &Partition{Ring: &Ring{Random: true}}}, "partition ring"},
		{Step{Partition: &Partition{Ring: &Ring{Order: []int{3, 0, 4, 1, 2}}}}, "partition ring [3 0 4 1 2]"},
		{Step{Swizzle: &Swizzle{Every: ms}, For: 5 * ms}, "swizzle majority every=1ms for=5ms"},
		{Step{Swizzle: &Swizzle{Nodes: 2, Every: ms}}, "swizzle nodes=2 every=1ms"},
		{Step{Swizzle: &Swizzle{Clog: []int{2, 0}, Unclog: []int{0, 2}, Every: ms}, For: 5 * ms},
			"swizzle clog=[2 0] unclog=[0 2] every=1ms for=5ms"},
		{Step{Crash: All(), Down: ms}, "crash all down=1ms"},
		{Step{Crash: Rolling(), Down: ms, MaxDown: 1}, "crash rolling down=1ms max_down=1"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.step.Describe())
	}
}
