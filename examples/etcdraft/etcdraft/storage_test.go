package etcdraft

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/internal/prototest"
	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
	"github.com/simrun/simrun/workload"
	"go.etcd.io/raft/v3"
	pb "go.etcd.io/raft/v3/raftpb"
)

// A torn record (any strict prefix) reads as torn, a flipped bit (any bit)
// as corrupt: the two verdicts recovery treats so differently never mix.
func TestRecordTellsTornFromCorrupt(t *testing.T) {
	rec := sealRecord([]byte("some payload"))
	payload, state := openRecord(rec)
	require.Equal(t, recordOK, state)
	require.Equal(t, "some payload", string(payload))
	for cut := range len(rec) {
		_, state := openRecord(rec[:cut])
		require.Equal(t, recordTorn, state, "cut at %d", cut)
	}
	for bit := range len(rec) * 8 {
		bad := append([]byte(nil), rec...)
		bad[bit/8] ^= 1 << (bit % 8)
		_, state := openRecord(bad)
		require.Equal(t, recordCorrupt, state, "bit %d flipped", bit)
	}
}

func entry(index, term uint64, seq uint64) pb.Entry {
	cmd := service.Command{Client: 9, Seq: seq, Op: []byte("put k v")}
	return pb.Entry{Index: index, Term: term, Data: cmd.AppendBinary(nil)}
}

// seededDisk holds the bootstrap snapshot, a HardState and entries 2..last,
// all synced.
func seededDisk(hs pb.HardState, last uint64) *sim.Disk {
	d := sim.NewDisk()
	snap := bootstrapSnapshot([]sim.NodeID{0, 1, 2})
	d.Put(snapKey, encode(&snap))
	writeHardState(d, hs, 0)
	for i := uint64(2); i <= last; i++ {
		e := entry(i, 2, i)
		d.Put(logKey(i), encode(&e))
	}
	d.Sync()
	return d
}

func TestLoadStateFreshAndSound(t *testing.T) {
	st := loadState(sim.NewDisk(), 0)
	require.True(t, st.fresh)

	hs := pb.HardState{Term: 3, Vote: 2, Commit: 4}
	st = loadState(seededDisk(hs, 6), 0)
	require.Empty(t, st.fault)
	require.False(t, st.fresh)
	assert.Equal(t, hs, st.hard)
	assert.Equal(t, uint64(6), st.lastIndex())
	assert.Equal(t, []uint64{1, 2, 3}, st.snap.ConfState.Voters, "raft IDs are node IDs plus one")
}

// What only unsynced writes leave behind is dropped: a torn last entry, and
// entries after a gap.
func TestLoadStateDropsTornTails(t *testing.T) {
	d := seededDisk(pb.HardState{Term: 2, Commit: 3}, 6)
	rec, _ := d.Get(logKey(6))
	d.Put(logKey(6), rec[:len(rec)-3])
	st := loadState(d, 0)
	require.Empty(t, st.fault)
	assert.Equal(t, uint64(5), st.lastIndex())
	assert.Equal(t, 0, d.Unsynced(), "the repair is synced")
	_, ok := d.Get(logKey(6))
	assert.False(t, ok)

	d = seededDisk(pb.HardState{Term: 2, Commit: 3}, 6)
	d.Delete(logKey(4))
	st = loadState(d, 0)
	assert.Equal(t, uint64(3), st.lastIndex())
	assert.Equal(t, []string{logKey(2), logKey(3)}, d.Keys(logKeyPrefix))
}

// A corrupt synced entry may have been acknowledged: the server halts, as
// etcd does on a WAL checksum mismatch.
func TestLoadStateHaltsOnACorruptEntry(t *testing.T) {
	d := seededDisk(pb.HardState{Term: 2, Commit: 3}, 6)
	rec, _ := d.Get(logKey(4))
	rec[10] ^= 4
	d.Put(logKey(4), rec)
	st := loadState(d, 0)
	assert.Equal(t, "log entry 4 is corrupt", st.fault)
}

// The HardState survives one bad copy (torn or corrupt, repaired from the
// other) and takes the newer of two sound ones; two corrupt copies halt.
func TestLoadStateHardStateCopies(t *testing.T) {
	old, cur := pb.HardState{Term: 2, Vote: 1, Commit: 3}, pb.HardState{Term: 3, Vote: 2, Commit: 3}
	d := seededDisk(old, 4)
	newRec := encode(&cur)
	d.Put(hardStateKeys[0], newRec) // a crash after copy a, before copy b
	st := loadState(d, 0)
	assert.Equal(t, cur, st.hard)
	b, _ := d.Get(hardStateKeys[1])
	assert.Equal(t, newRec, b, "the stale copy is rewritten")

	d = seededDisk(old, 4)
	d.Put(hardStateKeys[1], newRec[:5]) // copy b torn
	assert.Equal(t, old, loadState(d, 0).hard)

	d = seededDisk(cur, 4)
	bad := append([]byte(nil), newRec...)
	bad[9] ^= 1
	d.Put(hardStateKeys[0], bad)
	assert.Equal(t, cur, loadState(d, 0).hard)
	d.Put(hardStateKeys[0], bad)
	d.Put(hardStateKeys[1], bad)
	assert.Contains(t, loadState(d, 0).fault, "every copy of the HardState is corrupt")

	d = seededDisk(cur, 4)
	d.Delete(hardStateKeys[0])
	d.Delete(hardStateKeys[1])
	assert.Equal(t, pb.HardState{Term: 1, Commit: 1}, loadState(d, 0).hard, "no HardState written: the bootstrap one")
}

func TestLogKeysSortInIndexOrder(t *testing.T) {
	assert.Less(t, logKey(9), logKey(10))
	i, ok := parseLogKey(logKey(18446744073709551615))
	assert.True(t, ok)
	assert.Equal(t, uint64(18446744073709551615), i)
	_, ok = parseLogKey("etcdraft/log/12")
	assert.False(t, ok)
}

func TestMessageTrace(t *testing.T) {
	m := newMessage(&pb.Message{Type: pb.MsgApp, From: 1, To: 2, Term: 3, LogTerm: 2, Index: 7, Commit: 5,
		Entries: []pb.Entry{entry(8, 3, 1), entry(9, 3, 2)}})
	got := string(m.AppendTrace(nil))
	assert.Regexp(t, `^MsgApp term=3 log-term=2 index=7 commit=5 entries=2 sum=[0-9a-f]+$`, got)
	r := newMessage(&pb.Message{Type: pb.MsgAppResp, From: 2, To: 1, Term: 3, Index: 7, Reject: true, RejectHint: 4})
	assert.Equal(t, "MsgAppResp term=3 index=7 reject hint=4", string(r.AppendTrace(nil)))
	back, err := m.decode()
	require.NoError(t, err)
	assert.Len(t, back.Entries, 2)
	assert.Equal(t, uint64(9), back.Entries[1].Index)
}

// A header whose two copies of the length had the same bit flipped is
// consistent, and the record looks shorter or longer than it is. A whole
// record still ends in the checksum of its payload, which a torn prefix does
// only by chance: it is corrupt, not torn, wherever it lies and whatever the
// commit index, and the server halts. Dropping it as torn would forget a
// synced entry above the local commit index that the cluster may have
// committed (TestDoubleFlippedAckedEntryIsNotDroppedSilently).
func TestLoadStateHaltsOnAHeaderFlippedTwice(t *testing.T) {
	flipBoth := func(d *sim.Disk, index uint64) {
		rec, _ := d.Get(logKey(index))
		rec = append([]byte(nil), rec...)
		rec[2] ^= 1 // a length bit, in n and in ^n: the header stays consistent
		rec[6] ^= 1
		d.Put(logKey(index), rec)
		_, state := openRecord(rec)
		require.Equal(t, recordCorrupt, state)
	}
	for _, c := range []struct{ commit, index uint64 }{{3, 4}, {5, 4}, {6, 6}, {5, 6}} {
		d := seededDisk(pb.HardState{Term: 2, Commit: c.commit}, 6)
		flipBoth(d, c.index)
		assert.Equal(t, fmt.Sprintf("log entry %d is corrupt", c.index), loadState(d, 0).fault, "commit %d", c.commit)
	}
	// Every bit pair of the length, and every cut of a record: flipped pairs
	// read as corrupt, cuts as torn.
	rec := sealRecord(make([]byte, 40))
	for bit := range 32 {
		bad := append([]byte(nil), rec...)
		bad[bit/8] ^= 1 << (bit % 8)
		bad[4+bit/8] ^= 1 << (bit % 8)
		_, state := openRecord(bad)
		require.Equal(t, recordCorrupt, state, "length bit %d flipped in n and ^n", bit)
	}
	for cut := range len(rec) {
		_, state := openRecord(rec[:cut])
		require.Equal(t, recordTorn, state, "cut at %d", cut)
	}
}

// loader is a server that only loads its disk at start, for cutting that
// start with a crash.
type loader struct{ hard *pb.HardState }

func (l *loader) Start(env sim.Env)                        { *l.hard = loadState(env.Disk(), 0).hard }
func (l *loader) Receive(sim.Env, sim.NodeID, sim.Message) {}
func (l *loader) Timer(sim.Env, sim.TimerKind)             {}

// A start-up that repairs the HardState from its one sound copy (the other
// torn by a crash), cut by a crash after its first write, keeps a sound
// copy: the next start loads the HardState, not the bootstrap one. The
// repair wrote copy a, the sound one, first; a torn cut of it left no
// sound copy, and the server started over at term 1 with its vote gone.
func TestCutHardStateRepairKeepsASoundCopy(t *testing.T) {
	want := pb.HardState{Term: 5, Vote: 2, Commit: 9}
	for seed := uint64(1); seed <= 20; seed++ {
		var got pb.HardState
		w, err := sim.NewWorld(sim.Config{Seed: seed})
		require.NoError(t, err)
		id := w.AddServer(func(sim.NodeID) sim.Node { return &loader{hard: &got} })
		w.RunUntil(sim.Time(time.Millisecond))
		w.Crash(id)
		d := w.Disk(id)
		snap := bootstrapSnapshot([]sim.NodeID{0, 1, 2})
		d.Put(snapKey, encode(&snap))
		for i := uint64(2); i <= 9; i++ {
			e := entry(i, 2, i)
			d.Put(logKey(i), encode(&e))
		}
		rec := encode(&want)
		d.Put(hardStateKeys[0], rec)
		d.Put(hardStateKeys[1], rec[:len(rec)-3]) // what a crash tearing copy b leaves
		d.Sync()
		require.NoError(t, w.SetDiskFaults(id, sim.DiskFaults{TornWrites: true}))
		w.Restart(id)
		w.CrashMidStep(id, 1, nil) // the repair's first write, perhaps torn
		w.RunUntil(sim.Time(2 * time.Millisecond))
		w.Restart(id)
		w.RunUntil(sim.Time(3 * time.Millisecond))
		require.Equal(t, want, got, "seed %d: the HardState is lost", seed)
	}
}

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
// with torn writes, or subset of them a disk that also reorders writes,
// recovery must neither halt (no fault corrupted the disk) nor find a
// commit index that covers a stale entry: it would apply it as committed,
// nor a stale entry after a new one. Catches a HardState written before the
// entries it covers, and, on a reordering disk, the syncs that order them.
func TestEveryCutOfATruncatingStepRecoversSoundly(t *testing.T) {
	f, err := New(DefaultConfig(), workload.NewKV)
	require.NoError(t, err)
	app := pb.Message{Type: pb.MsgApp, From: raftID(1), To: raftID(0), Term: 3, Index: 2, LogTerm: 2,
		Entries: []pb.Entry{entry(3, 3, 100), entry(4, 3, 101)}, Commit: 4}
	wantTerm := map[uint64]uint64{2: 2, 3: 3, 4: 3}
	for _, faults := range []sim.DiskFaults{{TornWrites: true}, {TornWrites: true, ReorderedWrites: true}} {
		for seed := uint64(1); seed <= 40; seed++ {
			for keep := 1; keep <= 16; keep++ {
				w := cutStep(t, f, &app, faults, seed, keep)
				st := loadState(w.Disk(0), 0)
				require.Empty(t, st.fault, "%+v seed %d keep %d: a sound disk halts the server", faults, seed, keep)
				for i, e := range st.entries {
					if e.Index <= st.hard.Commit {
						require.Equal(t, wantTerm[e.Index], e.Term, "%+v seed %d keep %d: entry %d is committed (commit %d) "+
							"but is a stale one", faults, seed, keep, e.Index, st.hard.Commit)
					}
					if i > 0 {
						require.GreaterOrEqual(t, e.Term, st.entries[i-1].Term,
							"%+v seed %d keep %d: a stale entry follows a new one", faults, seed, keep)
					}
				}
			}
		}
	}
}

// cutStep runs a world in which n0, restarted over entries 2..6 of term 2 on
// a disk with the given faults, takes app from a puppet leader and crashes
// after keep effects of that step.
func cutStep(t *testing.T, f sim.Factory, app *pb.Message, faults sim.DiskFaults, seed uint64, keep int) *sim.World {
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
	require.NoError(t, w.SetDiskFaults(0, faults))
	w.At(sim.Time(2*time.Millisecond), "arm", func() { w.CrashMidStep(0, keep, nil) })
	w.RunUntil(sim.Time(20 * time.Millisecond))
	require.False(t, w.Up(0), "seed %d keep %d: the step was not cut", seed, keep)
	return w
}

// A follower's durable commit index lags the entries it acknowledged
// (etcd-raft does not need a HardState that only moves the commit index to
// be synced), so an acknowledged entry above it whose header had the same
// bit flipped in n and ^n (two corruptions of one record on one disk, one
// damaged disk in three) must not pass for a torn write: dropped, it left a
// new majority to commit another entry at its index. The server halts on
// it, as etcd's WAL refuses to start on a bad record that is not at the
// tail.
func TestDoubleFlippedAckedEntryIsNotDroppedSilently(t *testing.T) {
	f, err := New(DefaultConfig(), workload.NewKV)
	require.NoError(t, err)
	w, err := sim.NewWorld(sim.Config{Seed: 1, Link: sim.Link{LatencyMin: time.Millisecond, LatencyMax: time.Millisecond}})
	require.NoError(t, err)
	for range 3 {
		w.AddServer(f)
	}
	commits := map[uint64]map[uint64][]sim.NodeID{} // index -> term -> nodes
	w.OnObservation(func(o sim.Observation) {
		if o.Kind != sim.ObsCommit {
			return
		}
		if commits[o.Index] == nil {
			commits[o.Index] = map[uint64][]sim.NodeID{}
		}
		commits[o.Index][o.Term] = append(commits[o.Index][o.Term], o.Node)
	})
	w.Partition([]sim.NodeID{0, 1}, []sim.NodeID{2}) // n2 hears nothing of the first term
	w.RunUntil(sim.Time(3 * time.Second))

	leader, follower := sim.NodeID(-1), sim.NodeID(-1)
	for _, id := range []sim.NodeID{0, 1} {
		if w.Node(id).(*server).role == raft.StateLeader {
			leader = id
		} else {
			follower = id
		}
	}
	require.NotEqual(t, sim.NodeID(-1), leader, "n0/n1 elected no leader")
	require.Len(t, commits[2], 1, "index 2 (the first leader's empty entry) is committed")

	// The leader crashes (down, not damaged: one damaged disk in three); its
	// last messages land. Then the follower crashes: its disk holds entry 2,
	// synced and acknowledged, and a commit index below it (a commit-only
	// HardState is not synced).
	w.Crash(leader)
	w.RunUntil(sim.Time(3100 * time.Millisecond))
	w.Crash(follower)
	d := w.Disk(follower)
	st := loadState(d, 0)
	require.Empty(t, st.fault)
	require.GreaterOrEqual(t, st.lastIndex(), uint64(2))
	require.Less(t, st.hard.Commit, uint64(2), "the follower's durable commit index lags")

	// Two corruptions of entry 2's record: the same bit of n and of ^n.
	rec, _ := d.Get(logKey(2))
	rec[2] ^= 1
	rec[6] ^= 1
	d.Put(logKey(2), rec)
	d.Sync()

	w.HealAll()
	w.Restart(follower)
	w.RunUntil(sim.Time(6 * time.Second))

	require.Len(t, commits[2], 1, "two different entries committed at index 2 (term -> nodes): %v; "+
		"the follower restarted without halting: halted=%v", commits[2], w.Node(follower).(*server).halted)
	require.True(t, w.Node(follower).(*server).halted, "the follower must halt on a synced record it cannot read")
}
