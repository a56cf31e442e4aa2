package raft

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/internal/prototest"
	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
	"github.com/simrun/simrun/workload"
)

// Whole runs: raft under the real kernel, workload, faults and runner, from
// scenarios written here, with the servers inspected after the run.

// kit is raft as the registry builds it, its scenarios with a lossy network
// and two closed-loop clients.
var kit = prototest.CrashFault[Config, *node]{Name: "raft", Defaults: DefaultConfig(), New: New,
	Body: `network: {latency: {min: 1ms, max: 10ms}, drop: 0.01, duplicate: 0.01}
workload: {clients: 2, keys: 2, mix: {get: 1, put: 1, append: 1}, think_time: 20ms, timeout: 1s, retry_interval: 300ms}
`}

// mixedFaults are the correctness tests' faults: crashes (up to two of five
// servers at once, so a majority may be down too when they overlap with a
// partition) and partitions, isolating the leader among them.
const mixedFaults = `faults:
  - {from: 1s, to: 20s, every: 700ms, crash: random, down: 1s, max_down: 2}
  - {from: 1300ms, to: 20s, every: 1900ms, crash: leader, down: 400ms, max_down: 2}
  - {from: 1500ms, to: 20s, every: 2300ms, partition: halves, for: 1s}
  - {from: 2s, to: 20s, every: 3100ms, partition: isolate-leader, for: 800ms}
`

// everyFault adds the rest of the kernel's menu: pauses, clogged servers,
// clock steps and drift, torn writes and slow syncs.
const everyFault = mixedFaults + `  - {from: 1100ms, to: 20s, every: 1700ms, pause: random, down: 600ms, max_down: 2}
  - {from: 1200ms, to: 20s, every: 2100ms, clog: random, for: 700ms}
  - {from: 1400ms, to: 20s, every: 2900ms, clock: {node: random, skew: 800ms}}
  - {from: 1600ms, to: 20s, every: 3700ms, clock: {node: random, rate: 1.8}, for: 2s}
  - {at: 0s, disk: {node: 0, torn_writes: true, sync_latency: {min: 0ms, max: 5ms}}}
  - {at: 0s, disk: {node: 1, torn_writes: true, sync_latency: {min: 0ms, max: 5ms}}}
  - {at: 0s, disk: {node: 2, torn_writes: true, sync_latency: {min: 0ms, max: 5ms}}}
  - {at: 0s, disk: {node: 3, torn_writes: true, sync_latency: {min: 0ms, max: 5ms}}}
  - {at: 0s, disk: {node: 4, torn_writes: true, sync_latency: {min: 0ms, max: 5ms}}}
`

// corruption flips a bit of a server's disk and crashes it, every 1-3s, so
// that it restarts from the damaged disk; the leader crashes besides.
func corruption(servers int) string {
	return "faults:\n  - {from: 1s, to: 20s, every: 2700ms, crash: leader, down: 500ms, max_down: 1}\n" +
		prototest.CorruptThenCrash(servers, 1300*time.Millisecond, 20*time.Second, 1, 1)
}

// snapshots compacts the log every 20 applied entries, so that servers
// crashed or cut off catch up with InstallSnapshot.
const snapshots = "protocol_options: {snapshot_interval: 20}\n"

// Under every kind of fault the runs stay safe (agreement, one leader per
// term, linearizable clients), converge once the faults heal, and leave every
// server's disk holding exactly its memory. With BUGGIFY on, every fault
// point is on in some run; under disk corruption the checksums catch every
// bad record and some server recovers lost entries from the leader. Without
// the lost-log rule (truncating and voting by the shortened log) a 500-seed
// sweep of three-server clusters found two digests at one index.
func TestSafetyAndLivenessUnderFaults(t *testing.T) {
	tests := []struct {
		name          string
		servers       int
		text          string
		seeds, short  uint64
		buggifySites  int // every fault point must be on in some seed
		mustRecoverLL bool
	}{
		{"mixed faults", 5, mixedFaults, 12, 2, 0, false},
		{"every fault", 5, everyFault, 8, 1, 0, false},
		{"buggify", 5, mixedFaults + "buggify: 0.7\n", 8, 4, 4, false},
		{"corruption, 3 servers", 3, corruption(3), 6, 1, 0, true},
		{"corruption, 5 servers", 5, corruption(5), 6, 1, 0, true},
		{"snapshots, every fault", 5, everyFault + snapshots, 8, 1, 0, false},
		{"snapshots, corruption", 5, corruption(5) + snapshots, 8, 2, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runs := kit.SweepPassing(t, kit.Scenario(tt.servers, 20*time.Second, tt.text), prototest.Seeds(tt.seeds, tt.short),
				func(inst *prototest.Instances[*node]) { requireDiskMatchesMemory(t, inst, tt.servers) })
			if tt.buggifySites > 0 {
				assert.Len(t, runs.On, tt.buggifySites, "every fault point was on in some run: %v", runs.On)
			}
			if tt.mustRecoverLL {
				assert.Positive(t, runs.Impaired, "some server lost entries to corruption")
				assert.Positive(t, runs.Repaired, "some server recovered entries it lost to corruption")
			}
		})
	}
}

// requireDiskMatchesMemory checks that every running server's disk holds
// exactly its in-memory log and hard state: what a restart would recover.
func requireDiskMatchesMemory(t testing.TB, inst *prototest.Instances[*node], servers int) {
	t.Helper()
	for id := range sim.NodeID(servers) {
		n, d := inst.Node(id), inst.Disk(id)
		if n == nil || n.down {
			continue
		}
		require.Zero(t, d.Unsynced(), "server %v", id)
		st := loadState(d)
		require.Zero(t, d.Unsynced(), "server %v: loading its disk needed repairs", id)
		require.Equal(t, hardState{term: n.term, vote: n.vote, lost: n.lost, snap: n.snap.position()}, st.hard, "server %v", id)
		require.Equal(t, n.snap.position(), st.snap.position(), "server %v", id)
		log, loaded := n.log.all(), st.log.all()
		require.Equal(t, len(log), len(loaded), "server %v", id)
		for i := range log {
			require.Equal(t, log[i].Term, loaded[i].Term, "server %v index %d", id, i)
			require.Equal(t, log[i].Cmd.Digest(), loaded[i].Cmd.Digest(), "server %v index %d", id, i)
		}
	}
}

// A calm cluster elects one leader, every server follows it, and the clients
// get answers.
func TestElectsOneLeaderAndReplicates(t *testing.T) {
	inst := prototest.NewInstances[*node]()
	rep := kit.RunPassing(t, inst, kit.Scenario(5, 5*time.Second, ""), 1)
	require.Equal(t, 1, rep.LeaderChanges)
	require.Greater(t, rep.Ops.OK, 100)
	l := inst.Node(0)
	for id := range sim.NodeID(5) {
		if n := inst.Node(id); n.role == roleLeader {
			l = n
		}
	}
	require.Equal(t, roleLeader, l.role)
	for id := range sim.NodeID(5) {
		n := inst.Node(id)
		require.Equal(t, l.term, n.term, "server %v", id)
		require.Equal(t, l.id, n.lead, "server %v", id)
	}
}

// Heartbeats cost no disk writes: an idle cluster with a stable leader
// writes nothing.
func TestHeartbeatsDoNotWriteTheDisk(t *testing.T) {
	prototest.RequireIdleDiskQuiet(t, kit.Factory(t, DefaultConfig()), 5, 3)
}

// Crashing every server loses nothing that was acknowledged: each recovers
// its term, vote and log from disk, relearns the commit index, and rebuilds
// the state machine by re-applying the log, so the clients' history stays
// linearizable across the restart.
func TestRecoveryAfterCrashingEveryServer(t *testing.T) {
	w := prototest.NewWorld(t, prototest.WorldConfig{Seed: 5, Servers: 3, Factory: kit.Factory(t, DefaultConfig()),
		Link: sim.Link{LatencyMin: time.Millisecond, LatencyMax: 10 * time.Millisecond},
		Workload: workload.Config{Clients: 2, Keys: 2, Mix: workload.Mix{Get: 1, Put: 1, Append: 1},
			ThinkTime: 20 * time.Millisecond, Timeout: time.Second, RetryInterval: 300 * time.Millisecond}})
	type durable struct {
		term uint64
		vote sim.NodeID
		log  []Entry
	}
	saved := map[sim.NodeID]durable{}
	var savedCommit uint64
	raftNode := func(id sim.NodeID) *node { return w.W.Node(id).(*node) }
	w.W.At(sim.Time(3*time.Second), "crash all", func() {
		for _, id := range w.W.Servers() {
			n := raftNode(id)
			saved[id] = durable{n.term, n.vote, n.log.all()}
			savedCommit = max(savedCommit, n.commit)
			w.W.Crash(id)
		}
	})
	w.W.At(sim.Time(3500*time.Millisecond), "restart all", func() {
		for _, id := range w.W.Servers() {
			w.W.Restart(id)
		}
	})
	w.W.At(sim.Time(3500*time.Millisecond+time.Microsecond), "inspect", func() {
		for _, id := range w.W.Servers() {
			n := raftNode(id)
			assert.Equal(t, saved[id], durable{n.term, n.vote, n.log.all()}, "server %v", id)
			assert.Zero(t, n.commit)
		}
	})
	w.Run(t, 8*time.Second)
	require.Positive(t, savedCommit)
	require.Greater(t, w.Acked(4*time.Second), 20, "the clients made progress after the restart")
	w.RequireLinearizable(t)
	var l *node
	for _, id := range w.W.Servers() {
		if n := raftNode(id); n.role == roleLeader {
			l = n
		}
	}
	require.NotNil(t, l)
	for _, id := range w.W.Servers() {
		n := raftNode(id)
		require.Equal(t, l.log.all()[:n.applied+1], n.log.all()[:n.applied+1])
		require.GreaterOrEqual(t, n.applied, savedCommit, "server %v re-applied what was committed before", id)
	}
}

// A start-up that finds an acknowledged entry corrupt, cut by a crash after
// any of its effects, leaves the loss on record: the next start votes as if
// it still had the entry. The loader deleted the corrupt chunk before the
// hard state recording the loss reached the disk; a cut between the two left
// a server that had lost a committed entry with nothing to say so, and a
// sweep saw it elect a leader without the entry.
func TestCutStartUpKeepsTheLossOnRecord(t *testing.T) {
	busy := workload.Config{Clients: 2, Keys: 2, Mix: workload.Mix{Put: 1},
		ThinkTime: 20 * time.Millisecond, Timeout: time.Second, RetryInterval: 300 * time.Millisecond}
	cutStartUps(t, busy, 2*time.Second, 20, func(t *testing.T, d *sim.Disk, before *node) func(after *node) string {
		last := before.lastIndex()
		require.Greater(t, last, uint64(2*entriesPerChunk), "entries in more than two chunks")
		corruptEntry(t, d, 3) // the first chunk's: the load deletes the chunks after it
		return func(after *node) string {
			if after.lost != (logPosition{}) && after.lost.index >= last {
				return ""
			}
			return fmt.Sprintf("the next start holds %d entries and lost %v, where %d were acknowledged", after.lastIndex(), after.lost, last)
		}
	})
}

// A start-up that repairs the hard state from its one sound copy, cut by a
// crash after any of its effects, leaves a sound copy: the next start runs.
// The repair wrote the sound copy first; a crash that tore that write left
// no readable copy, and the server stayed down for good (a sweep saw two of
// three servers halt that way, with torn writes and crashes only).
func TestCutHardStateRepairLeavesASoundCopy(t *testing.T) {
	cutStartUps(t, workload.Config{}, time.Second, 10, func(t *testing.T, d *sim.Disk, _ *node) func(after *node) string {
		prototest.FlipBit(t, d, hardStateKeys[1])
		return func(after *node) string {
			if after.down {
				return "no sound copy of the hard state is left"
			}
			return ""
		}
	})
}

// cutStartUps runs three servers (and load's clients) for run, then, for
// seeds 1-6 and every cut in turn: crashes server 2, damages its disk, cuts
// its start-up after keep effects (the crash keeping a prefix of the
// unsynced writes, as a torn write does), starts it again and requires what
// damage returned to find nothing wrong. At least minCuts start-ups are
// cut.
func cutStartUps(t *testing.T, load workload.Config, run time.Duration, minCuts int,
	damage func(t *testing.T, d *sim.Disk, before *node) (wrong func(after *node) string)) {
	cuts := 0
	for seed := uint64(1); seed <= 6; seed++ {
		for keep := 1; ; keep++ {
			pw := prototest.NewWorld(t, prototest.WorldConfig{Seed: seed, Servers: 3, Factory: kit.Factory(t, DefaultConfig()),
				Link: sim.Link{LatencyMin: time.Millisecond, LatencyMax: 2 * time.Millisecond}, Workload: load})
			w := pw.W
			pw.Run(t, run)
			before := w.Node(2).(*node)
			w.Crash(2)
			wrong := damage(t, w.Disk(2), before)
			require.NoError(t, w.SetDiskFaults(2, sim.DiskFaults{TornWrites: true}))
			w.Restart(2)
			kept := 0
			w.CrashMidStep(2, keep, func(k int) { kept = k })
			pw.Run(t, run+time.Microsecond)
			if kept < keep {
				break // no effect left to cut after (a cut after more is a cut before the last)
			}
			cuts++
			w.Restart(2)
			pw.Run(t, run+2*time.Microsecond)
			if why := wrong(w.Node(2).(*node)); why != "" {
				t.Fatalf("seed %d, start-up cut after %d effects: %s", seed, keep, why)
			}
		}
	}
	require.GreaterOrEqual(t, cuts, minCuts, "start-ups cut")
}

// A snapshot installed over a log it conflicts with discards the log: its
// chunks are deleted (step 1), then the snapshot is written. On a disk that
// reorders writes, a crash cut inside that step could keep the snapshot and
// lose the deletes, and a stale chunk that starts right after the snapshot
// would load as its continuation, entries no leader has. The deletes are
// synced first. The step is cut after each of its effects, as a mid-step
// crash cuts it in a run.
func TestCutSnapshotInstallLeavesNoStaleChunk(t *testing.T) {
	old := entries(slices.Repeat([]uint64{3}, 40)...) // chunks at 1, 17 and 33, all of term 3
	install := func(n *node) {
		data, err := n.sessions.Snapshot()
		if err != nil {
			panic(err)
		}
		n.compact(snapshot{index: 16, term: 2, conf: n.conf, data: data}, false)
	}
	cuts := cutEveryEffect(t, 20, install, func(d *sim.Disk) {
		putLog(d, old)
		service.PutCopies(d, encodeHardState(hardState{term: 3, vote: sim.None}), hardStateKeys[:]...)
	}, func(d *sim.Disk, seed uint64, keep int) {
		if st := loadState(d); st.snap.index == 16 {
			require.Equal(t, 1, st.log.len(), "seed %d, cut after %d effects: entries after the snapshot at 16", seed, keep)
		}
	})
	require.Greater(t, cuts, 100, "installs cut")
}

// cutEveryEffect runs, for seeds 1 to seeds and every cut in turn, a world
// of a raft server n0 on a disk that reorders and tears writes, holding what prepare
// wrote (synced), and a quiet n1; 1ms after n0 starts it takes step, a
// step a crash cuts after keep of its effects; check then reads n0's disk.
// It returns how many steps were cut.
func cutEveryEffect(t *testing.T, seeds uint64, step func(n *node), prepare func(d *sim.Disk),
	check func(d *sim.Disk, seed uint64, keep int)) (cuts int) {
	f, err := New(DefaultConfig(), prototest.NewKV)
	require.NoError(t, err)
	for seed := uint64(1); seed <= seeds; seed++ {
		for keep := 1; ; keep++ {
			w, err := sim.NewWorld(sim.Config{Seed: seed})
			require.NoError(t, err)
			w.AddServer(func(id sim.NodeID) sim.Node { return stepper{f(id).(*node), step} })
			w.AddServer(func(sim.NodeID) sim.Node { return quietServer{} })
			prepare(w.Disk(0))
			w.Disk(0).Sync()
			require.NoError(t, w.SetDiskFaults(0, sim.DiskFaults{TornWrites: true, ReorderedWrites: true}))
			kept := 0
			w.At(sim.Time(500*time.Microsecond), "arm", func() { w.CrashMidStep(0, keep, func(k int) { kept = k }) })
			w.RunUntil(sim.Time(2 * time.Millisecond))
			if kept < keep {
				break // the step had no more effects to cut after
			}
			cuts++
			check(w.Disk(0), seed, keep)
		}
	}
	return cuts
}

// stepper is a raft server that, 1ms after it starts, takes step.
type stepper struct {
	*node
	step func(n *node)
}

const timerStep = sim.MaxTimerKinds - 1 // a kind raft does not use

func (s stepper) Start(env sim.Env) {
	s.node.Start(env)
	env.SetTimer(timerStep, time.Millisecond)
}

func (s stepper) Timer(env sim.Env, kind sim.TimerKind) {
	if kind != timerStep {
		s.node.Timer(env, kind)
		return
	}
	s.env = env
	s.step(s.node)
}

// quietServer stands for the servers a stepper's step answers: it does
// nothing.
type quietServer struct{}

func (quietServer) Start(sim.Env)                            {}
func (quietServer) Receive(sim.Env, sim.NodeID, sim.Message) {}
func (quietServer) Timer(sim.Env, sim.TimerKind)             {}
