package scenarios

import (
	"reflect"
	"testing"
	"time"

	"github.com/simrun/simrun/faults"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const ms = Duration(time.Millisecond)

// assertSameScenario compares scenarios by value, ignoring where they were
// parsed from, and taking an empty list for an absent one: Marshal leaves
// out an empty list that means nothing (a membership change's "remove: []"),
// and Parse reads the absent key as nil. A list whose emptiness means
// something (checks: [] runs no check) is written out, and a Marshal that
// dropped it would show here as the defaults.
func assertSameScenario(t testing.TB, want, got *Scenario) {
	t.Helper()
	w, g := *want, *got
	w.src, g.src = nil, nil
	emptyListsAsNil(reflect.ValueOf(&w).Elem())
	emptyListsAsNil(reflect.ValueOf(&g).Elem())
	assert.Equal(t, w, g)
}

// emptyListsAsNil sets every empty slice reachable from v to nil.
func emptyListsAsNil(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			emptyListsAsNil(v.Elem())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Field(i); f.CanSet() {
				emptyListsAsNil(f)
			}
		}
	case reflect.Slice:
		if v.Len() == 0 && !v.IsNil() && v.CanSet() {
			v.Set(reflect.Zero(v.Type()))
		}
		for i := range v.Len() {
			emptyListsAsNil(v.Index(i))
		}
	}
}

// assertRoundTrip checks that Marshal writes what Parse reads back to an equal
// scenario, and that writing it again gives the same text.
func assertRoundTrip(t testing.TB, sc *Scenario) {
	t.Helper()
	out, err := sc.Marshal()
	require.NoError(t, err)
	again, err := Parse("again.yaml", out)
	require.NoError(t, err, "%s", out)
	assertSameScenario(t, sc, again)
	out2, err := again.Marshal()
	require.NoError(t, err)
	assert.Equal(t, string(out), string(out2))
}

func TestRoundTripEveryFeature(t *testing.T) {
	src := `name: everything
description: "Quotes \" and colons: and # hashes, 'single' too"
protocol: pbft
nodes: 4
seed: 18446744073709551615
duration: 1m30s
drain: 0s
max_events: 5000000
network:
  latency: {min: 500us, max: 20ms}
  tail: {probability: 0.125, mean: 80ms}
  drop: 0.01
  duplicate: 0.001
workload:
  clients: 0
  keys: 1
  mix: {get: 1, put: 0, append: 0, cas: 0}
  rate: 1.5/ms
  think_time: 0s
  timeout: 2s
  retry_interval: 1ms
  backlog: 0
faults:
  - {at: 0s, partition: isolate-leader}
  - {at: 1s, partition: isolate-random}
  - {at: 2s, partition: {isolate: 3}}
  - {at: 3s, partition: halves}
  - {at: 4s, partition: {groups: [[0], [1, 2], [3]]}}
  - {at: 5s, cut: {from: leader, to: random}}
  - {at: 6s, cut: {from: n0, to: 1}}
  - {at: 7s, heal: all}
  - {from: 8s, to: 20s, every: 2500ms, crash: random, down: 1s, max_down: 1}
  - {at: 9s, crash: leader}
  - {at: 10s, crash: 2, down: 750ms}
  - {at: 11s, restart: 3}
  - {at: 12s, restart: all-down}
checks: [one-leader-per-term, agreement]
protocol_options:
  view_change_timeout: 1s
  byzantine:
    - {node: 3, behaviour: equivocate}
  ratio: 0.25
  big: 18446744073709551615
  negative: -3
  flag: true
  nothing: null
  text: "multi\nline"
`
	sc, err := Parse("everything.yaml", []byte(src))
	require.NoError(t, err)
	require.NotNil(t, sc.Seed)
	assert.Equal(t, uint64(18446744073709551615), *sc.Seed)
	assert.Equal(t, Rate(1500), sc.Workload.Rate)
	assert.Len(t, sc.Faults, 13)
	assert.Equal(t, faults.Step{At: 5000 * ms, Cut: &faults.Cut{From: faults.Leader(), To: faults.Random()}}, sc.Faults[5])
	assertRoundTrip(t, sc)
}

func TestRoundTripMultilineDescription(t *testing.T) {
	sc, err := Parse("t.yaml", []byte(base+"description: |\n  first line\n  second: line\n\n  last\n"))
	require.NoError(t, err)
	assert.Equal(t, "first line\nsecond: line\n\nlast\n", sc.Description)
	assertRoundTrip(t, sc)
}

func TestMarshalBuiltInCode(t *testing.T) {
	seed := uint64(9)
	sc := &Scenario{
		Name: "built", Protocol: "raft", Nodes: 3, Seed: &seed, Duration: DefaultDuration, Drain: DefaultDrain,
		Network: Network{Latency: Latency{Min: ms, Max: 2 * ms}},
		Workload: Workload{Clients: 1, Keys: 1, Mix: DefaultMix, Timeout: DefaultTimeout,
			RetryInterval: DefaultRetryInterval, Backlog: 1},
		Faults: []faults.Step{{At: 2000 * ms, Crash: faults.Leader(), Down: 500 * ms}},
		Checks: []string{CheckAgreement},
	}
	require.NoError(t, sc.Validate())
	out, err := sc.Marshal()
	require.NoError(t, err)
	assert.Equal(t, `name: built
protocol: raft
nodes: 3
seed: 9
duration: 30s
drain: 5s
network:
  latency: {min: 1ms, max: 2ms}
workload:
  clients: 1
  keys: 1
  mix: {get: 4, put: 4, append: 1, cas: 1}
  rate: 0
  think_time: 0s
  timeout: 1s
  retry_interval: 100ms
  backlog: 1
faults:
  - {at: 2s, crash: leader, down: 500ms}
checks: [agreement]
`, string(out))
	assertRoundTrip(t, sc)
}
