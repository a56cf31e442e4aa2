package paxos

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/internal/prototest"
	"github.com/simrun/simrun/sim"
	"github.com/simrun/simrun/workload"
)

// Whole runs: paxos under the real kernel, workload, faults and runner, from
// scenarios written here, with the servers inspected after the run.

// kit is paxos as the registry builds it, its scenarios with four
// closed-loop clients.
var kit = prototest.CrashFault[Config, *node]{Name: "paxos", Defaults: DefaultConfig(), New: New,
	Body: "workload: {clients: 4, keys: 5, mix: {get: 3, put: 3, append: 1, cas: 1}, think_time: 5ms, timeout: 1s, retry_interval: 100ms}\n"}

// crashesAndPartitions crash a minority at a time (each back after a
// while) and isolate a random server or the leader now and then.
const crashesAndPartitions = `network: {latency: {min: 1ms, max: 5ms}, drop: 0.01, duplicate: 0.01}
faults:
  - {from: 1s, to: 12s, every: 600ms, crash: random, down: 1200ms, max_down: 2}
  - {from: 1300ms, to: 12s, every: 1700ms, partition: isolate-random, for: 700ms}
  - {from: 1500ms, to: 12s, every: 2300ms, partition: isolate-leader, for: 500ms}
`

// duelling has leader timeouts barely above the network's round trip:
// followers suspect live leaders, and proposers duel.
const duelling = `protocol_options: {leader_timeout_min: 15ms, leader_timeout_max: 30ms, heartbeat_interval: 5ms, backoff_limit: 4, snapshot_interval: 16}
`

// corruptions flip two bits in a server's disk, each pair followed by a
// crash and a restart while a majority stays up, so that the server finds
// the damage when it starts (losing both copies of a record takes two).
func corruptions(servers int) string {
	return "network: {latency: {min: 1ms, max: 5ms}}\nprotocol_options: {snapshot_interval: 16}\nfaults:\n" +
		prototest.CorruptThenCrash(servers, 600*time.Millisecond, 10*time.Second, 2, 2)
}

// Under crashes, partitions, lossy links, duelling proposers, BUGGIFY and
// disk corruption the runs stay safe (agreement, one leader per ballot,
// linearizable clients) and converge once the faults heal. With BUGGIFY on,
// every fault point is reached; under corruption, servers that lost
// acceptor state rejoin through the others.
func TestSafetyAndLivenessUnderFaults(t *testing.T) {
	tests := []struct {
		name         string
		duration     time.Duration
		text         string
		seeds, short uint64
		buggify      bool
		rejoins      bool
	}{
		{"crashes and partitions", 12 * time.Second, crashesAndPartitions + "protocol_options: {snapshot_interval: 16}\n", 8, 1, false, false},
		{"duelling proposers", 12 * time.Second, crashesAndPartitions + duelling, 8, 1, false, false},
		{"buggify", 8 * time.Second, crashesAndPartitions + "buggify: 0.5\nprotocol_options: {snapshot_interval: 16}\n", 8, 4, true, false},
		{"corruption", 10 * time.Second, corruptions(5), 8, 2, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runs := kit.SweepPassing(t, kit.Scenario(5, tt.duration, tt.text), prototest.Seeds(tt.seeds, tt.short), nil)
			if tt.buggify {
				for _, site := range []string{buggifySkipHeartbeat, buggifyMinLeaderTimeout, buggifyOneSlot, buggifySkipDecide, buggifyIgnoreRequest} {
					assert.True(t, runs.On[site], "fault point %s never on", site)
				}
			}
			if tt.rejoins {
				assert.Positive(t, runs.Repaired, "some server lost state and rejoined")
			}
		})
	}
}

// A calm cluster has one leader at the end and serves its clients.
func TestCalmClusterElectsOneLeaderAndServes(t *testing.T) {
	inst := prototest.NewInstances[*node]()
	rep := kit.RunPassing(t, inst, kit.Scenario(5, 5*time.Second, "network: {latency: {min: 1ms, max: 5ms}}\n"), 1)
	leaders := 0
	for id := range sim.NodeID(5) {
		if inst.Node(id).role == roleLeader {
			leaders++
		}
	}
	assert.Equal(t, 1, leaders)
	assert.Greater(t, rep.Ops.OK, 300)
}

// In a long run the log stays bounded: every server keeps at most a
// snapshot interval of slots (plus those in flight), in memory and on disk.
func TestLogStaysBoundedInLongRuns(t *testing.T) {
	inst := prototest.NewInstances[*node]()
	kit.RunPassing(t, inst, kit.Scenario(3, 30*time.Second,
		"network: {latency: {min: 1ms, max: 5ms}}\nprotocol_options: {snapshot_interval: 32}\n"), 7)
	for id := range sim.NodeID(3) {
		n := inst.Node(id)
		assert.Greater(t, n.base(), uint64(1000), "server %v compacted", id)
		assert.LessOrEqual(t, len(n.log), 32+8, "server %v log", id)
		assert.LessOrEqual(t, len(inst.Disk(id).Keys(slotKeyPrefix)), 32+8, "server %v disk", id)
	}
}

// Heartbeats cost no disk writes: an idle cluster with a stable leader
// writes nothing.
func TestHeartbeatsDoNotWriteTheDisk(t *testing.T) {
	prototest.RequireIdleDiskQuiet(t, kit.Factory(t, DefaultConfig()), 5, 3)
}

// A start-up that finds both copies of its promise corrupt, cut by a crash
// after any of its effects, leaves the loss on record: the next start
// rejoins. Writing the rejoin marker after the corrupt copies were deleted
// and synced left a cut between the two with no sign of the loss, and the
// acceptor answered as one that never promised. The marker is synced before
// the deletes: a cut start-up keeps a prefix of its unsynced writes on a
// disk that tears them, and any subset on one that reorders them.
func TestCutStartUpKeepsALostPromiseOnRecord(t *testing.T) {
	f, err := New(testConfig(), prototest.NewKV)
	require.NoError(t, err)
	corruptPromise := func(d *sim.Disk) {
		prototest.FlipBit(t, d, promiseKeyA)
		prototest.FlipBit(t, d, promiseKeyB)
	}
	rejoins := func(w *sim.World, what string) {
		w.Restart(2)
		w.RunUntil(sim.Time(1101 * time.Millisecond))
		n, ok := w.Node(2).(*node)
		require.True(t, ok)
		require.True(t, n.rejoining, "%s: the next start does not know the promise was lost", what)
	}
	for _, faults := range cutDiskFaults {
		cut := 0
		for seed := uint64(1); seed <= 16; seed++ { // a reordering disk keeps the deletes without the marker once in 8
			cut += cutStartUps(t, f, seed, faults, corruptPromise, rejoins)
		}
		require.Greater(t, cut, 3, "start-ups cut (%+v)", faults)
	}
}

// A start-up that finds a slot's newest record corrupt writes a lost record
// in its place and deletes the older versions; cut by a crash after any of
// its effects, on any disk, it leaves the loss on record: an older version
// taken for the slot's record would be an acceptance the acceptor moved on
// from, and no record at all a slot it forgot it had accepted in.
func TestCutStartUpKeepsALostSlotOnRecord(t *testing.T) {
	f, err := New(testConfig(), prototest.NewKV)
	require.NoError(t, err)
	var slot uint64
	corruptNewest := func(d *sim.Disk) {
		keys := d.Keys(slotKeyPrefix)
		require.NotEmpty(t, keys)
		s, _, _ := parseSlotKey(keys[len(keys)-1])
		slot = s
		prototest.FlipBit(t, d, keys[len(keys)-1])
	}
	lossOnRecord := func(w *sim.World, what string) {
		for _, r := range loadState(w.Disk(2)).records {
			if r.slot == slot {
				require.True(t, r.rec.lost, "%s: slot %d's loss is forgotten: an older version stands for it", what, slot)
				return
			}
		}
		require.Fail(t, what+": the slot is forgotten", "slot %d", slot)
	}
	for _, faults := range cutDiskFaults {
		cut := 0
		for seed := uint64(1); seed <= 4; seed++ {
			cut += cutStartUps(t, f, seed, faults, corruptNewest, lossOnRecord)
		}
		require.Greater(t, cut, 3, "start-ups cut (%+v)", faults)
	}
}

// cutDiskFaults are the disks a cut start-up is tried on: without torn
// writes the cut loses the whole batch the load syncs, so a wrong order
// within it goes unchecked; with them a prefix survives, and on a disk
// that reorders writes any subset.
var cutDiskFaults = []sim.DiskFaults{{}, {TornWrites: true}, {ReorderedWrites: true}, {TornWrites: true, ReorderedWrites: true}}

// cutStartUps cuts n2's start-up over a disk damage made (n2 crashed, after
// a second of a three-server cluster) after each of its effects in turn,
// and calls check on the world the cut left; it returns how many cuts it
// made.
func cutStartUps(t *testing.T, f sim.Factory, seed uint64, faults sim.DiskFaults,
	damage func(d *sim.Disk), check func(w *sim.World, what string)) (cut int) {
	t.Helper()
	for keep := 1; ; keep++ {
		pw := prototest.NewWorld(t, prototest.WorldConfig{Seed: seed, Servers: 3, Factory: f,
			Link: sim.Link{LatencyMin: time.Millisecond, LatencyMax: 2 * time.Millisecond},
			Workload: workload.Config{Clients: 2, Keys: 2, Mix: workload.Mix{Put: 1}, ThinkTime: 20 * time.Millisecond,
				Timeout: time.Second, RetryInterval: 300 * time.Millisecond}})
		w := pw.W
		pw.Run(t, time.Second) // a leader, a promise and accepted slots on every disk
		w.Crash(2)
		damage(w.Disk(2))
		require.NoError(t, w.SetDiskFaults(2, faults))
		w.Restart(2)
		var kept int
		w.CrashMidStep(2, keep, func(k int) { kept = k })
		pw.Run(t, 1100*time.Millisecond)
		if kept < keep {
			return cut // the start had no more effects to cut after (a cut after more is a cut before its last)
		}
		cut++
		check(w, fmt.Sprintf("seed %d, %+v, start-up cut after %d effects", seed, faults, keep))
	}
}
