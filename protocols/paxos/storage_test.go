package paxos

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

func TestSlotKeysSortInSlotOrder(t *testing.T) {
	slots := []uint64{1, 9, 10, 99, 100, 12345, 1 << 40, ^uint64(0)}
	var keys []string
	for _, s := range slots {
		k := slotKey(s)
		got, ok := parseSlotKey(k)
		require.True(t, ok, k)
		require.Equal(t, s, got)
		keys = append(keys, k)
	}
	assert.True(t, slices.IsSorted(keys))
	for _, bad := range []string{"", "paxos/slot/1", "paxos/slot/0000000000000000000x", slotKey(0), "raft/log/00000000000000000001"} {
		_, ok := parseSlotKey(bad)
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
		assert.Error(t, err, "cut at %d", cut)
	}
	_, err := decodeRecord(append([]byte{2}, good[1:]...))
	assert.Error(t, err, "unknown flags")
	_, err = decodeRecord(encodeRecord(&record{}))
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
}

// A corrupt record is a broken disk invariant: the server refuses to guess.
func TestLoadStatePanicsOnCorruptRecords(t *testing.T) {
	d := sim.NewDisk()
	d.Put(slotKey(1), []byte{9, 9})
	d.Sync()
	assert.Panics(t, func() { loadState(d) })
}

// Records at or below the snapshot (no correct run leaves them) are dropped.
func TestLoadStateDropsRecordsUnderTheSnapshot(t *testing.T) {
	d := sim.NewDisk()
	d.Put(snapshotKey, encodeSnapshot(Snapshot{Index: 5, Data: []byte{0}}))
	for s := uint64(4); s <= 7; s++ {
		d.Put(slotKey(s), encodeRecord(&record{ballot: 3, cmd: cmd(1, s, "add a")}))
	}
	d.Sync()
	st := loadState(d)
	require.Len(t, st.records, 2)
	assert.Equal(t, uint64(6), st.records[0].slot)
	assert.Equal(t, uint64(7), st.records[1].slot)
	assert.Len(t, d.Keys(slotKeyPrefix), 2)
	assert.Zero(t, d.Unsynced())
}
