package runner_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/protocols/paxos"
	"github.com/simrun/simrun/protocols/raft"
	"github.com/simrun/simrun/runner"
)

// A core heal keeps the servers whose disks the faults damaged among the
// minority it keeps down: a damaged server may need a majority of intact
// ones to recover, and a core of damaged and too few intact servers could
// not converge (a Paxos swarm sweep kept two intact servers down beside a
// rejoining one, and reported a liveness failure the protocol could not
// have avoided).
func TestCoreHealKeepsDamagedServersDown(t *testing.T) {
	const text = `protocol: paxos
nodes: 5
duration: 2s
workload: {clients: 2, keys: 2, think_time: 10ms, timeout: 1s, retry_interval: 100ms}
faults:
  - {at: 1s, corrupt: 1}
  - {at: 1200ms, corrupt: 3}
checks: [agreement, linearizable, liveness]
liveness: {heal: core, within: 10s}
`
	for seed := uint64(1); seed <= 8; seed++ {
		require.Equal(t, []int{1, 3}, passesKeeping(t, text, seed), "seed %d", seed)
	}
}

// passesKeeping runs seed of the scenario text, requires a pass, and
// returns the servers kept down in its liveness phase.
func passesKeeping(t *testing.T, text string, seed uint64) []int {
	t.Helper()
	sc, proto := parsed(t, "core.yaml", text)
	var trace bytes.Buffer
	rep, err := runner.Run(sc, proto, runner.Options{Seed: seed, Trace: &trace})
	require.NoError(t, err)
	require.Equal(t, runner.Pass, rep.Class, "%sseed %d: %s", text, seed, rep.Reason)
	return keptDown(t, &trace)
}

// keptDown lists the servers crashed when the liveness phase began.
func keptDown(t *testing.T, trace *bytes.Buffer) []int {
	var down []int
	healed := false
	lines := bufio.NewScanner(trace)
	lines.Buffer(make([]byte, 1<<20), 1<<24)
	for lines.Scan() {
		var line struct {
			Kind   string `json:"kind"`
			Node   *int   `json:"node"`
			Detail string `json:"detail"`
		}
		require.NoError(t, json.Unmarshal(lines.Bytes(), &line))
		switch {
		case line.Kind == "control" && strings.HasPrefix(line.Detail, "liveness phase"):
			healed = true
		case healed && line.Kind == "crash":
			down = append(down, *line.Node)
		case healed && line.Kind != "heal" && line.Kind != "unclog" && line.Kind != "restart" && line.Kind != "start" && line.Kind != "disk-faults":
			slices.Sort(down)
			return down
		}
	}
	slices.Sort(down)
	return down
}

// A core heal of a Byzantine-fault-tolerant protocol keeps down no more
// servers than its tolerance leaves after the Byzantine ones: f of 3f+1 in
// all, not a minority (three of seven PBFT replicas kept down left four, no
// quorum of five, and every seed was reported stuck with no fault at all).
func TestCoreHealOfPBFTStaysWithinItsTolerance(t *testing.T) {
	for _, c := range []struct {
		text string
		down int
	}{
		{"protocol: pbft\nnodes: 7\n", 2},
		{"protocol: pbft\nnodes: 4\nbyzantine: [{nodes: [3], behaviour: silent}]\n", 0},
		{"protocol: pbft\nnodes: 7\nbyzantine: [{nodes: [6], behaviour: silent}]\n", 1},
	} {
		text := c.text + "duration: 2s\nchecks: [agreement, linearizable, liveness]\nliveness: {heal: core, within: 10s}\n"
		for seed := uint64(1); seed <= 3; seed++ {
			require.Len(t, passesKeeping(t, text, seed), c.down, "%sseed %d", c.text, seed)
		}
	}
}

// A core heal keeps down a server whose disk tore writes in a crash before
// an intact one: a protocol that overwrites records in place reads a torn
// overwrite as a damaged record, which it cannot tell from an acknowledged
// one it lost, so it waits on the others to recover (a sweep found Raft and
// Paxos, before each told a torn record from a damaged one, stuck with the
// torn server and one intact server as the core).
func TestCoreHealKeepsTornDisksDown(t *testing.T) {
	const text = `protocol: raft
nodes: 3
duration: 2s
faults:
  - {at: 0s, disk: {node: 2, torn_writes: true}}
  - {at: 1s, crash: 2, mid_step: true, down: 100ms}
checks: [agreement, liveness]
liveness: {heal: core, within: 10s}
`
	for seed := uint64(1); seed <= 6; seed++ {
		require.Equal(t, []int{2}, passesKeeping(t, text, seed), "seed %d", seed)
	}
}

// A server whose crash tore a write drops the torn record and goes on: with
// another server down for good, it and the third one elect a leader and
// serve clients. Until Raft framed each entry with a checksummed length, and
// Paxos wrote each slot record as a new version instead of over the old
// one, the torn record read as a corrupted one the server might have
// acknowledged, and these seeds stalled for the rest of the run.
func TestTornTailDoesNotStall(t *testing.T) {
	for _, c := range []struct {
		file, dropped string // the scenario, and the probe of a torn record dropped
		seeds         []uint64
	}{
		{"raft-torn-tail.yaml", raft.ProbeTornEntryDropped, []uint64{11, 33, 63}},
		{"paxos-torn-tail.yaml", paxos.ProbeTornRecordDropped, []uint64{8, 33, 56}},
	} {
		sc, proto := load(t, c.file, 0)
		for _, seed := range c.seeds {
			rep := runSeed(t, sc, proto, seed)
			require.Equal(t, runner.Pass, rep.Class, "%s seed %d: %s", c.file, seed, rep.Reason)
			require.Positive(t, rep.Probes[c.dropped], "%s seed %d: no torn record was dropped; the seed no longer tests this", c.file, seed)
		}
	}
}
