package paxos

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/internal/prototest"
	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

func TestSlotKeysSortInSlotAndVersionOrder(t *testing.T) {
	slots := []uint64{1, 9, 10, 99, 100, 12345, 1 << 40, ^uint64(0)}
	var keys []string
	for _, s := range slots {
		for _, v := range []uint32{1, 2, 10, ^uint32(0)} {
			k := slotKey(s, v)
			slot, version, ok := parseSlotKey(k)
			require.True(t, ok, k)
			require.Equal(t, s, slot)
			require.Equal(t, v, version)
			keys = append(keys, k)
		}
	}
	assert.True(t, slices.IsSorted(keys))
	for _, bad := range []string{"", "paxos/slot/1", "paxos/slot/0000000000000000000x/0000000001", slotKey(0, 1),
		"paxos/slot/00000000000000000001", "paxos/slot/00000000000000000001-0000000001", "raft/log/00000000000000000001"} {
		_, _, ok := parseSlotKey(bad)
		assert.False(t, ok, "%q", bad)
	}
}

func TestRecordRoundTrip(t *testing.T) {
	for _, r := range []record{
		{ballot: 7, cmd: cmd(5, 3, "add a")},
		{ballot: 7, cmd: cmd(5, 3, "add a"), chosen: true},
		{ballot: 0, cmd: service.Noop, chosen: true},
		{ballot: 1 << 50, cmd: service.Noop},
	} {
		got, err := decodeRecord(encodeRecord(&r))
		require.NoError(t, err)
		assert.Equal(t, r.ballot, got.ballot)
		assert.Equal(t, r.chosen, got.chosen)
		assert.Equal(t, r.cmd.Digest(), got.cmd.Digest())
	}
	good := encodeRecord(&record{ballot: 7, cmd: cmd(5, 3, "add a")})
	for cut := range len(good) {
		_, err := decodeRecord(good[:cut])
		assert.ErrorIs(t, err, errTornRecord, "cut at %d", cut)
	}
	for bit := range len(good) * 8 {
		bad := slices.Clone(good)
		bad[bit/8] ^= 1 << (bit % 8)
		_, err := decodeRecord(bad)
		assert.ErrorIs(t, err, errCorruptRecord, "bit %d", bit)
	}
	_, err := decodeRecord(encodeRecord(&record{}))
	assert.Error(t, err, "an empty record is never written")
}

func TestSnapshotAndPromiseRoundTrip(t *testing.T) {
	s := Snapshot{Index: 40, Digest: 0xfeed, Data: []byte("state")}
	got, err := decodeSnapshot(encodeSnapshot(s))
	require.NoError(t, err)
	assert.Equal(t, s, got)
	_, err = decodeSnapshot(encodeSnapshot(Snapshot{}))
	assert.Error(t, err, "index 0 is no snapshot")

	p, err := decodeUvarint(encodeUvarint(123))
	require.NoError(t, err)
	assert.Equal(t, uint64(123), p)
	_, err = decodeUvarint(append(encodeUvarint(123), 0))
	assert.Error(t, err)
	_, err = decodeUvarint(nil)
	assert.Error(t, err)
}

// Every single-bit flip of a stored value is caught by its checksum.
func TestChecksumsCatchEveryBitFlip(t *testing.T) {
	values := map[string][]byte{
		"record":   encodeRecord(&record{ballot: 7, cmd: cmd(5, 3, "add a")}),
		"promise":  encodeUvarint(1234),
		"snapshot": encodeSnapshot(Snapshot{Index: 9, Digest: 3, Data: []byte("state")}),
	}
	decode := map[string]func([]byte) error{
		"record":   func(b []byte) error { _, err := decodeRecord(b); return err },
		"promise":  func(b []byte) error { _, err := decodeUvarint(b); return err },
		"snapshot": func(b []byte) error { _, err := decodeSnapshot(b); return err },
	}
	for _, name := range []string{"record", "promise", "snapshot"} {
		good := values[name]
		require.NoError(t, decode[name](good), name)
		for bit := range len(good) * 8 {
			bad := slices.Clone(good)
			bad[bit/8] ^= 1 << (bit % 8)
			assert.Error(t, decode[name](bad), "%s with bit %d flipped", name, bit)
		}
	}
}

// TestATornFirstPromiseIsNoLoss: the pair's very first write, cut by a
// crash before its sync (copy a torn anywhere, copy b never written), was
// never synced, so nothing was promised on it: the server is as it was
// before, not one that lost its promise and must rejoin. One sound copy
// alone (the crash came before copy b) is written again as a pair.
func TestATornFirstPromiseIsNoLoss(t *testing.T) {
	rec := encodeUvarint(7)
	for cut := range len(rec) {
		d := sim.NewDisk()
		d.Put(promiseKeyA, rec[:cut])
		d.Sync()
		st := loadState(d)
		require.False(t, st.lost, "cut at %d", cut)
		require.Zero(t, st.promise, "cut at %d", cut)
		_, ok := d.Get(promiseKeyA)
		require.False(t, ok, "cut at %d: the torn copy is gone", cut)
	}
	d := sim.NewDisk()
	d.Put(promiseKeyA, rec)
	d.Sync()
	st := loadState(d)
	require.False(t, st.lost)
	require.Equal(t, uint64(7), st.promise)
	b, ok := d.Get(promiseKeyB)
	require.True(t, ok, "the missing copy is written")
	require.Equal(t, rec, b)
}

func TestLoadStateNoticesLosses(t *testing.T) {
	tests := []struct {
		name    string
		corrupt []string
		lost    bool
		promise uint64
		records int
		commit  uint64
	}{
		{"nothing corrupt", nil, false, 7, 2, 1},
		{"one promise copy: the other serves", []string{promiseKeyA}, false, 7, 2, 1},
		{"both promise copies", []string{promiseKeyA, promiseKeyB}, true, 0, 2, 1},
		{"an accepted proposal: a lost record", []string{slotKey(2, 1)}, false, 7, 2, 1},
		{"one snapshot copy: the other serves", []string{snapshotKeyA}, false, 7, 2, 1},
		{"both snapshot copies", []string{snapshotKeyA, snapshotKeyB}, true, 7, 2, 1},
		{"the commit index: forgotten, nothing lost", []string{commitKey}, false, 7, 2, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := sim.NewDisk()
			d.Put(promiseKeyA, encodeUvarint(7))
			d.Put(promiseKeyB, encodeUvarint(7))
			d.Put(commitKey, encodeUvarint(1))
			d.Put(snapshotKeyA, encodeSnapshot(Snapshot{Index: 1, Data: []byte{0}}))
			d.Put(snapshotKeyB, encodeSnapshot(Snapshot{Index: 1, Data: []byte{0}}))
			d.Put(slotKey(2, 1), encodeRecord(&record{ballot: 3, cmd: cmd(1, 2, "add a")}))
			d.Put(slotKey(3, 1), encodeRecord(&record{ballot: 3, cmd: cmd(1, 3, "add a")}))
			d.Sync()
			for _, k := range tt.corrupt {
				prototest.FlipBit(t, d, k)
			}
			st := loadState(d)
			assert.Equal(t, tt.lost, st.lost)
			assert.Equal(t, tt.promise, st.promise)
			assert.Len(t, st.records, tt.records)
			assert.Equal(t, tt.commit, st.commit)
			for _, k := range tt.corrupt {
				b, ok := d.Get(k)
				if !tt.lost && (k == promiseKeyA || k == snapshotKeyA) {
					require.True(t, ok, "the corrupt %s is written again from the other copy", k)
					_, sound := service.OpenRecord(b)
					assert.True(t, sound, "%s is sound again", k)
					continue
				}
				assert.False(t, ok, "the corrupt %s is deleted", k)
				if slot, version, isSlot := parseSlotKey(k); isSlot {
					b, ok := d.Get(slotKey(slot, version+1))
					require.True(t, ok, "no version after the corrupt one")
					r, err := decodeRecord(b)
					require.NoError(t, err)
					assert.True(t, r.lost, "the corrupt record of slot %d is superseded by a lost one", slot)
				}
			}
			assert.Zero(t, d.Unsynced())
		})
	}
}

func TestLoadStateSeesAnUnfinishedRejoin(t *testing.T) {
	d := sim.NewDisk()
	d.Put(rejoinKey, []byte("whatever"))
	d.Sync()
	assert.True(t, loadState(d).lost)
}

// Records at or below the snapshot (no correct run leaves them) are dropped.
func TestLoadStateDropsRecordsUnderTheSnapshot(t *testing.T) {
	d := sim.NewDisk()
	d.Put(snapshotKeyA, encodeSnapshot(Snapshot{Index: 5, Data: []byte{0}}))
	for s := uint64(4); s <= 7; s++ {
		d.Put(slotKey(s, 1), encodeRecord(&record{ballot: 3, cmd: cmd(1, s, "add a")}))
	}
	d.Sync()
	st := loadState(d)
	require.Len(t, st.records, 2)
	assert.Equal(t, uint64(6), st.records[0].slot)
	assert.Equal(t, uint64(7), st.records[1].slot)
	assert.Len(t, d.Keys(slotKeyPrefix), 2)
	assert.Zero(t, d.Unsynced())
}

// A crash that tears the write of a slot record cuts the new version only:
// the restarted acceptor holds what it held before the write (an earlier
// acceptance, or nothing for a first write), or the new one if the write
// came through whole, and never takes the slot for lost. An overwrite in
// place, torn, read like a corrupted record: the acceptor reported the slot
// lost, and with one other server down, no phase 1 could complete.
func TestTornSlotWriteKeepsTheVersionBefore(t *testing.T) {
	tn := newTestNet(t, 3, testConfig())
	tn.Start(0)
	tn.TearWrites(0)
	dropped := 0
	for round := range 40 {
		slot := uint64(round%4 + 1) // a first write in rounds 0-3, then rewrites
		before := tn.Node(0).rec(slot)
		var had record
		if before != nil {
			had = *before
		}
		ballot := uint64(10 + round)
		tn.Within(0, func(n *node, env *prototest.Env) {
			n.env = env
			r := n.ensure(slot)
			r.ballot, r.cmd = ballot, cmd(7, uint64(round+1), "add a")
			n.writeRecord(slot, r)
		})
		notes := len(tn.Observed(0, sim.ObsNote))
		tn.Restart(0)
		got := tn.Node(0).rec(slot)
		if got == nil || got.ballot != ballot {
			require.False(t, got != nil && got.lost, "round %d: a torn write taken for a loss", round)
			require.Equal(t, had.ballot, ballotOf(got), "round %d: neither the old version nor the new", round)
		}
		if len(tn.Observed(0, sim.ObsNote)) > notes {
			dropped++
		}
		require.Zero(t, tn.Node(0).lostSlots, "round %d", round)
	}
	require.Positive(t, dropped, "no write torn in 40 rounds")
}

func ballotOf(r *record) uint64 {
	if r == nil {
		return 0
	}
	return r.ballot
}

// A version that supersedes another is synced before the other is deleted,
// and the loader keeps the newest whole version: a crash that loses the
// deletes leaves two versions, and the newer one counts.
func TestLoadKeepsTheNewestVersion(t *testing.T) {
	d := sim.NewDisk()
	d.Put(slotKey(4, 1), encodeRecord(&record{ballot: 3, cmd: cmd(1, 1, "add a")}))
	d.Put(slotKey(4, 2), encodeRecord(&record{ballot: 5, cmd: cmd(1, 2, "add a")}))
	torn := encodeRecord(&record{ballot: 9, cmd: cmd(1, 3, "add a")})
	d.Put(slotKey(4, 3), torn[:len(torn)-2])
	d.Sync()
	st := loadState(d)
	require.Len(t, st.records, 1)
	assert.Equal(t, uint64(5), st.records[0].rec.ballot)
	assert.True(t, st.torn)
	assert.Equal(t, []string{slotKey(4, 2)}, d.Keys(slotKeyPrefix))
	assert.Zero(t, d.Unsynced())
}

// A promise or snapshot lost to corruption leaves the rejoin marker on the
// disk and its corrupt copies gone, and the next load reports the loss again
// (TestCutStartUpKeepsALostPromiseOnRecord checks the order of the two).
func TestLostCopiesLeaveTheRejoinMarker(t *testing.T) {
	for _, keys := range [][]string{{promiseKeyA, promiseKeyB}, {snapshotKeyA, snapshotKeyB}} {
		d := sim.NewDisk()
		d.Put(promiseKeyA, encodeUvarint(7))
		d.Put(promiseKeyB, encodeUvarint(7))
		d.Put(snapshotKeyA, encodeSnapshot(Snapshot{Index: 1, Data: []byte{0}}))
		d.Put(snapshotKeyB, encodeSnapshot(Snapshot{Index: 1, Data: []byte{0}}))
		d.Sync()
		for _, k := range keys {
			prototest.FlipBit(t, d, k)
		}
		require.True(t, loadState(d).lost, "%v", keys)
		_, marked := d.Get(rejoinKey)
		require.True(t, marked, "%v: the loss is on record", keys)
		for _, k := range keys {
			_, ok := d.Get(k)
			require.False(t, ok, "the corrupt %s is deleted", k)
		}
		require.True(t, loadState(d).lost, "%v: the next load still knows", keys)
	}
}

// Rewrites of one slot leave one version on the disk: each sync is followed
// by the deletes of the versions it made superseded, so that versions do not
// pile up between restarts.
func TestSupersededVersionsAreDeleted(t *testing.T) {
	tn := newTestNet(t, 3, testConfig())
	tn.Start(0)
	for round := range 5 {
		tn.Within(0, func(n *node, env *prototest.Env) {
			n.env = env
			r := n.ensure(1)
			r.ballot, r.cmd = uint64(10+round), cmd(7, uint64(round+1), "add a")
			n.writeRecord(1, r)
			n.flush()
		})
		require.Equal(t, []string{slotKey(1, uint32(round+1))}, tn.Disk(0).Keys(slotKeyPrefix), "round %d", round)
	}
}

// A crash that tears the rewrite of a slot whose record is synced leaves the
// synced version: the acceptor answered with it, so it must not forget it.
// (TestTornSlotWriteKeepsTheVersionBefore tears a write whose predecessor a
// torn crash always took too, so it never sees a synced version rewritten.)
func TestTornRewriteKeepsTheSyncedVersion(t *testing.T) {
	tn := newTestNet(t, 3, testConfig())
	tn.Start(0)
	tn.TearWrites(0)
	for round := range 40 {
		synced, next := uint64(10+2*round), uint64(11+2*round)
		tn.Within(0, func(n *node, env *prototest.Env) {
			n.env = env
			r := n.ensure(1)
			r.ballot, r.cmd = synced, cmd(7, synced, "add a")
			n.writeRecord(1, r)
			n.flush()
			tn.Disk(0).Sync() // the lazy deletes too: only the rewrite below is pending
		})
		tn.Within(0, func(n *node, env *prototest.Env) {
			n.env = env
			r := n.ensure(1)
			r.ballot, r.cmd = next, cmd(7, next, "add a")
			n.writeRecord(1, r)
		})
		tn.Restart(0)
		got := ballotOf(tn.Node(0).rec(1))
		require.Contains(t, []uint64{synced, next}, got, "round %d: the synced acceptance (ballot %d) is gone", round, synced)
	}
}

// A slot's superseded version is deleted only after the sync that makes
// its replacement durable: on a disk that reorders writes, a delete issued
// before that sync could reach the disk without the replacement, and a
// crash cut between the two would leave the slot with neither version, an
// acknowledged acceptance forgotten. The delete waits for the next sync.
func TestSupersededVersionGoesAfterItsReplacementIsSynced(t *testing.T) {
	tn := newTestNet(t, 3, testConfig())
	tn.Start(0)
	tn.Within(0, func(n *node, env *prototest.Env) {
		n.env = env
		r := n.ensure(1)
		r.ballot, r.cmd = 10, cmd(7, 10, "add a")
		n.writeRecord(1, r)
		n.flush()
		tn.Disk(0).Sync()
		r.ballot, r.cmd = 11, cmd(7, 11, "add a")
		n.writeRecord(1, r)
		n.flush()
		require.Equal(t, 1, tn.Disk(0).Unsynced(), "only the superseded version's delete waits, issued after the sync")
		require.Equal(t, []string{slotKey(1, 2)}, tn.Disk(0).Keys(slotKeyPrefix))
	})
}

// A value learned from elsewhere is written into its record, which waits
// for a sync; the commit index that now covers it waits too, and is written
// once that sync is done. On a disk that reorders writes a crash before the
// sync could otherwise keep the index without the record, and the loader
// would take what the record held before (at best an acceptance) for the
// chosen value.
func TestCommitIndexWaitsForTheRecordsItCovers(t *testing.T) {
	tn := newTestNet(t, 3, DefaultConfig())
	tn.Start(0)
	tn.Within(0, func(n *node, env *prototest.Env) {
		n.env = env
		n.learn(1, 3, prototest.Cmd(9, 1, "set x 1"))
		n.advanceCommit()
		require.Equal(t, uint64(1), n.commit)
		_, written := tn.Disk(0).Get(commitKey)
		require.False(t, written, "the commit index is written while the record it covers waits for a sync")
		n.flush()
		v, written := tn.Disk(0).Get(commitKey)
		require.True(t, written, "the commit index is written once the record is synced")
		commit, err := decodeUvarint(v)
		require.NoError(t, err)
		require.Equal(t, uint64(1), commit)
	})
}

// A compaction syncs its snapshot before it deletes the records the snapshot
// covers: on a disk that reorders writes, a crash that kept the deletes and
// lost the snapshot would leave slots with neither, accepted values gone.
func TestReorderedCompactionKeepsEverySlot(t *testing.T) {
	cfg := testConfig()
	tn := newTestNet(t, 3, cfg)
	tn.SetDiskFaults(0, sim.DiskFaults{ReorderedWrites: true})
	slots := uint64(cfg.SnapshotInterval)
	for round := range 30 {
		for _, k := range tn.Disk(0).Keys("") {
			tn.Disk(0).Delete(k)
		}
		tn.Disk(0).Sync()
		tn.Start(0)
		tn.Within(0, func(n *node, env *prototest.Env) {
			n.env = env
			for s := uint64(1); s <= slots; s++ {
				n.learn(s, 3, prototest.Cmd(9, s, "set x 1"))
			}
			n.flush()
			n.advanceCommit() // applies them all, and compacts: no finish, the crash comes before the step's last sync
			require.Equal(t, slots, n.snap.Index, "round %d: no compaction", round)
		})
		tn.Restart(0)
		n := tn.Node(0)
		for s := n.base() + 1; s <= slots; s++ {
			require.NotNil(t, n.rec(s), "round %d: slot %d is in neither the snapshot (at %d) nor a record", round, s, n.base())
		}
		tn.Crash(0)
	}
}
