package etcdraft

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/internal/prototest"
	"github.com/simrun/simrun/sim"
	"github.com/simrun/simrun/workload"
	pb "go.etcd.io/raft/v3/raftpb"
)

// The checkers judge what servers commit and apply, not the log a restart
// recovers; these tests read the disk a step leaves behind, with loadState,
// as the next restart would. Each was written against a mistake an
// integrator makes (BENCHMARKS.md, the eighth study) that no scenario caught.

// A restarted follower whose disk holds an uncommitted tail (entries 3..6 of
// term 2) gets a new leader's entry 3 of term 3: etcd-raft truncates 3..6
// and appends the new 3, and the disk must say the same, or the next restart
// brings back a log no leader ever had (entries of term 2 after one of term
// 3). Catches the stale-suffix family: not deleting the conflicting suffix,
// not restoring the disk's last index at restart, skipping entries already
// on disk, losing the first entry of a Ready.
func TestRestartedFollowerTruncatesItsDiskLog(t *testing.T) {
	env := prototest.NewEnv(0, []sim.NodeID{0, 1, 2})
	*env.Disk() = *seededDisk(pb.HardState{Term: 2, Commit: 2}, 6) // entries 2..6, term 2
	s := &server{id: 0, cfg: DefaultConfig(), newSM: workload.NewKV}
	s.Start(env) // a restart: the server knows only its disk
	require.False(t, s.halted)

	app := pb.Message{Type: pb.MsgApp, From: raftID(1), To: raftID(0), Term: 3,
		Index: 2, LogTerm: 2, Entries: []pb.Entry{entry(3, 3, 100)}, Commit: 2}
	s.Receive(env, 1, newMessage(&app))
	last, err := s.storage.LastIndex()
	require.NoError(t, err)
	require.Equal(t, uint64(3), last, "etcd-raft itself truncated to the leader's log")

	st := loadState(env.Disk(), 0)
	require.Empty(t, st.fault)
	require.Equal(t, uint64(3), st.lastIndex(), "the disk keeps the stale entries 4..6 of term 2")
	assert.Equal(t, uint64(3), st.entries[len(st.entries)-1].Term, "entry 3 on disk is the leader's")
}

// Both HardState copies sound but different: whichever is newer wins. Copy b
// is written first when it was the unsound one, so a crash between the two
// writes leaves b newer than a (TestLoadStateHardStateCopies has a newer).
func TestLoadStateTakesTheNewerCopyWhicheverItIs(t *testing.T) {
	old, cur := pb.HardState{Term: 2, Vote: 1, Commit: 3}, pb.HardState{Term: 3, Vote: 2, Commit: 3}
	d := seededDisk(old, 4)
	d.Put(hardStateKeys[1], encode(&cur)) // a crash after copy b, before copy a
	assert.Equal(t, cur, loadState(d, 0).hard)
}

// puppet is a server slot that sends one scripted message to n0 at 5ms and
// ignores everything else: a leader no one needs to run.
type puppet struct{ msg *pb.Message }

func (p *puppet) Start(env sim.Env) {
	if p.msg != nil {
		env.SetTimer(0, 5*time.Millisecond)
	}
}
func (p *puppet) Receive(sim.Env, sim.NodeID, sim.Message) {}
func (p *puppet) Timer(env sim.Env, _ sim.TimerKind)       { env.Send(0, newMessage(p.msg)) }

// A restarted follower holds an uncommitted tail (3..6 of term 2); the
// leader of term 3 replaces it with its entries 3 and 4, already committed
// (commit 4), in one MsgApp. That step writes the new entries, deletes the
// stale ones and raises the commit index. Whatever point a crash cuts that
// step at, and whatever prefix of its unsynced writes then reaches a disk
// with torn writes, recovery must neither halt (no fault corrupted the disk)
// nor find a commit index that covers a stale entry: it would apply it as
// committed. Catches a HardState written before the entries it covers.
func TestEveryCutOfATruncatingStepRecoversSoundly(t *testing.T) {
	f, err := New(DefaultConfig(), workload.NewKV)
	require.NoError(t, err)
	app := pb.Message{Type: pb.MsgApp, From: raftID(1), To: raftID(0), Term: 3, Index: 2, LogTerm: 2,
		Entries: []pb.Entry{entry(3, 3, 100), entry(4, 3, 101)}, Commit: 4}
	wantTerm := map[uint64]uint64{2: 2, 3: 3, 4: 3}
	for seed := uint64(1); seed <= 40; seed++ {
		for keep := 1; keep <= 16; keep++ {
			w := cutStep(t, f, &app, seed, keep)
			st := loadState(w.Disk(0), 0)
			require.Empty(t, st.fault, "seed %d keep %d: a sound disk halts the server", seed, keep)
			for _, e := range st.entries {
				if e.Index <= st.hard.Commit {
					require.Equal(t, wantTerm[e.Index], e.Term,
						"seed %d keep %d: entry %d is committed (commit %d) but is a stale one", seed, keep, e.Index, st.hard.Commit)
				}
			}
		}
	}
}

// cutStep runs a world in which n0, restarted over entries 2..6 of term 2 on
// a disk that tears writes, takes app from a puppet leader and crashes after
// keep effects of that step.
func cutStep(t *testing.T, f sim.Factory, app *pb.Message, seed uint64, keep int) *sim.World {
	t.Helper()
	w, err := sim.NewWorld(sim.Config{Seed: seed, Link: sim.Link{LatencyMin: time.Millisecond, LatencyMax: time.Millisecond}})
	require.NoError(t, err)
	for range 3 {
		w.AddServer(func(id sim.NodeID) sim.Node {
			switch id {
			case 0:
				return f(id)
			case 1:
				return &puppet{msg: app}
			}
			return &puppet{}
		})
	}
	*w.Disk(0) = *seededDisk(pb.HardState{Term: 2, Commit: 2}, 6)
	require.NoError(t, w.SetDiskFaults(0, sim.DiskFaults{TornWrites: true}))
	w.At(sim.Time(2*time.Millisecond), "arm", func() { w.CrashMidStep(0, keep, nil) })
	w.RunUntil(sim.Time(20 * time.Millisecond))
	require.False(t, w.Up(0), "seed %d keep %d: the step was not cut", seed, keep)
	return w
}
