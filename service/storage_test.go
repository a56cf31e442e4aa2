package service

import (
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/simrun/simrun/sim"
	"github.com/stretchr/testify/require"
)

func TestIndexKeysSortByIndex(t *testing.T) {
	if got, want := IndexKey("log/", 42), "log/00000000000000000042"; got != want {
		t.Errorf("IndexKey = %q, want %q", got, want)
	}
	if IndexKey("log/", 9) >= IndexKey("log/", 10) {
		t.Error("keys do not sort by index")
	}
	for _, i := range []uint64{0, 1, 1 << 40, ^uint64(0)} {
		if got, ok := ParseIndexKey("log/", IndexKey("log/", i)); !ok || got != i {
			t.Errorf("ParseIndexKey(IndexKey(%d)) = %d, %v", i, got, ok)
		}
	}
	for _, bad := range []string{"log/0", "log/0000000000000000000x", "other/0000000000000000042", "log/000000000000000000042"} {
		if _, ok := ParseIndexKey("log/", bad); ok {
			t.Errorf("ParseIndexKey accepted %q", bad)
		}
	}
}

// A run's keys are IndexKey's, in any order they are asked for, and a log
// that asks for its blocks' keys in turn makes one string for keysPerRun.
func TestIndexKeyRunGivesIndexKeys(t *testing.T) {
	r := IndexKeyRun{Prefix: "raft/log/", Step: 16}
	for _, i := range []uint64{1, 17, 33, 1 + 16*40, 1, 5, 21, 0, ^uint64(0) - 16, ^uint64(0)} {
		require.Equal(t, IndexKey("raft/log/", i), r.Key(i), "index %d", i)
	}
	next, keys := uint64(1), make([]string, 0, 6*keysPerRun)
	allocs := testing.AllocsPerRun(5, func() {
		for range keysPerRun {
			keys = append(keys, r.Key(next))
			next += 16
		}
	})
	require.LessOrEqual(t, allocs, 1.0, "a run of keys is one string")
	for k, key := range keys {
		require.Equal(t, IndexKey("raft/log/", 1+16*uint64(k)), key)
	}
}

func TestRecordReaderReadsFieldsInOrder(t *testing.T) {
	cmd := Command{Client: 4, Seq: 9, Op: []byte("get k")}
	b := binary.AppendUvarint(nil, 300)
	b = binary.AppendVarint(b, -1)
	b = append(b, 7)
	b = cmd.AppendBinary(b)
	r := ReadRecord(SealRecord(append(b, "tail"...), 0))
	u, v, c, got := r.Uvarint(), r.Varint(), r.Byte(), r.Command()
	if !r.OK() || u != 300 || v != -1 || c != 7 || got.Client != 4 || got.Seq != 9 || string(got.Op) != "get k" {
		t.Fatalf("read %d %d %d %v (ok %v)", u, v, c, got, r.OK())
	}
	if r.End() || string(r.Rest()) != "tail" {
		t.Errorf("End = %v, Rest = %q; want false, \"tail\"", r.End(), r.Rest())
	}
}

func TestRecordReaderFailureSticks(t *testing.T) {
	sealed := SealRecord(binary.AppendUvarint(nil, 5), 0)
	sealed[0] ^= 1
	if r := ReadRecord(sealed); r.OK() || r.Uvarint() != 0 {
		t.Error("a record failing its checksum reads")
	}
	r := ReadRecord(SealRecord([]byte{0x80}, 0)) // a varint cut short
	if r.Uvarint() != 0 || r.OK() || r.Byte() != 0 || r.End() {
		t.Error("a failed read did not stick")
	}
	r = ReadRecord(SealRecord(nil, 0))
	if r.Byte() != 0 || r.OK() {
		t.Error("read a byte past the end")
	}
}

func TestPayloadReaderReadsWhatIsLeft(t *testing.T) {
	r := PayloadReader(binary.AppendUvarint([]byte{9}, 77))
	if c, v := r.Byte(), r.Uvarint(); c != 9 || v != 77 || !r.End() {
		t.Errorf("read %d %d (end %v), want 9 77 at the end", c, v, r.End())
	}
}

func TestPutCopiesWritesTheRecordUnderEveryKey(t *testing.T) {
	d := sim.NewDisk()
	PutCopies(d, []byte("rec"), "b", "a")
	for _, k := range []string{"a", "b"} {
		got, ok := d.Get(k)
		require.True(t, ok, k)
		require.Equal(t, "rec", string(got), k)
	}
	writes, _ := d.Stats()
	require.Equal(t, uint64(2), writes, "one write per copy")
}

// TestReadCopiesTellsATornFirstWriteFromALoss: what a record's copies on
// disk mean, for each state PutCopies and a crash or corruption can leave.
func TestReadCopiesTellsATornFirstWriteFromALoss(t *testing.T) {
	keys := []string{"rec/a", "rec/b"}
	rec := SealRecord([]byte("v"), 0)
	decode := func(b []byte) (string, error) {
		p, ok := OpenRecord(b)
		if !ok {
			return "", errTestUnsound
		}
		return string(p), nil
	}
	for _, tt := range []struct {
		name                     string
		a, b                     []byte // nil: not on disk
		partial, tornFirst, lost bool
		sound                    int
	}{
		{name: "fresh"},
		{name: "both sound", a: rec, b: rec, sound: 2},
		{name: "first write torn in copy a", a: rec[:len(rec)-1], tornFirst: true},
		{name: "first write cut before copy b", a: rec, partial: true, sound: 1},
		{name: "one copy corrupt", a: rec, b: []byte("x"), partial: true, sound: 1},
		{name: "both corrupt", a: []byte("x"), b: []byte("y"), lost: true},
	} {
		d := sim.NewDisk()
		for i, v := range [][]byte{tt.a, tt.b} {
			if v != nil {
				d.Put(keys[i], v)
			}
		}
		c := ReadCopies(d, keys, decode)
		require.Len(t, c.Sound, tt.sound, tt.name)
		require.Equal(t, tt.partial, c.Partial(), tt.name)
		require.Equal(t, tt.tornFirst, c.TornFirstWrite(), tt.name)
		require.Equal(t, tt.lost, c.Lost(), tt.name)
	}
}

var errTestUnsound = errors.New("unsound")

// TestPutCopiesLeavesASoundCopyOnAnyDisk: rewriting copies of which one is
// unsound (a repair), a crash anywhere inside the rewrite leaves a sound
// copy, old or new, whatever it keeps of the unsynced writes: a prefix with
// the last torn, or any subset with one of them torn. Overwriting the sound
// copy first, or with no sync after the unsound one's write, a crash could
// keep the sound copy torn and the unsound one as it was.
func TestPutCopiesLeavesASoundCopyOnAnyDisk(t *testing.T) {
	keys := []string{"rec/a", "rec/b"}
	old, next := SealRecord([]byte("old"), 0), SealRecord([]byte("new value"), 0)
	decode := func(b []byte) ([]byte, error) {
		if p, ok := OpenRecord(b); ok {
			return p, nil
		}
		return nil, errTestUnsound
	}
	for _, faults := range []sim.DiskFaults{{TornWrites: true}, {TornWrites: true, ReorderedWrites: true}} {
		cuts := 0
		for seed := uint64(1); seed <= 40; seed++ {
			for keep := 0; ; keep++ {
				d, cut := cutStart(t, seed, faults, keep, func(d *sim.Disk) {
					d.Put(keys[0], []byte("unsound"))
					d.Put(keys[1], old)
					d.Sync()
				}, func(d *sim.Disk) { PutCopies(d, next, keys...) })
				if !cut {
					break
				}
				cuts++
				c := ReadCopies(d, keys, decode)
				require.NotEmpty(t, c.Sound, "%+v seed %d, crashed after %d effects of the start (0: all): no sound copy left", faults, seed, keep)
			}
		}
		require.GreaterOrEqual(t, cuts, 80, "%+v: rewrites crashed after and cut inside", faults)
	}
}

// cutStart runs a one-server world whose disk has faults: at 1ms the
// server crashes, its disk gets what prepare wrote, and it restarts into a
// start that runs write and is cut after keep of its effects, or with keep
// 0 crashes right after it. It returns the disk as the crash left it, and
// false if the start had no more than keep effects to cut.
func cutStart(t *testing.T, seed uint64, faults sim.DiskFaults, keep int, prepare, write func(d *sim.Disk)) (*sim.Disk, bool) {
	t.Helper()
	w, err := sim.NewWorld(sim.Config{Seed: seed})
	require.NoError(t, err)
	booted := false
	w.AddServer(func(sim.NodeID) sim.Node {
		return startNode(func(env sim.Env) {
			if booted { // the first instance only boots
				write(env.Disk())
			}
			booted = true
		})
	})
	require.NoError(t, w.SetDiskFaults(0, faults))
	kept := 0
	w.At(sim.Time(time.Millisecond), "cut the restart", func() {
		w.Crash(0)
		prepare(w.Disk(0))
		w.Restart(0)
		if keep > 0 {
			require.True(t, w.CrashMidStep(0, keep, func(k int) { kept = k }))
		}
	})
	if keep == 0 {
		w.At(sim.Time(1500*time.Microsecond), "crash after the start", func() { w.Crash(0) })
	}
	w.RunUntil(sim.Time(2 * time.Millisecond))
	return w.Disk(0), kept == keep
}

// startNode is a node that only starts.
type startNode func(env sim.Env)

func (s startNode) Start(env sim.Env)                      { s(env) }
func (startNode) Receive(sim.Env, sim.NodeID, sim.Message) {}
func (startNode) Timer(sim.Env, sim.TimerKind)             {}
