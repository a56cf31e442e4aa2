package sim

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// diskOp is one step of a disk script: put k=v, delete k, or sync.
type diskOp struct {
	op, key, value string
}

func put(k, v string) diskOp { return diskOp{op: "put", key: k, value: v} }
func del(k string) diskOp    { return diskOp{op: "delete", key: k} }
func syncOp() diskOp         { return diskOp{op: "sync"} }

func (o diskOp) apply(d *Disk) {
	switch o.op {
	case "put":
		d.Put(o.key, []byte(o.value))
	case "delete":
		d.Delete(o.key)
	case "sync":
		d.Sync()
	}
}

// contents reads every key of d.
func contents(d *Disk) map[string]string {
	out := map[string]string{}
	for _, k := range d.Keys("") {
		v, _ := d.Get(k)
		out[k] = string(v)
	}
	return out
}

// TestCrashLosesExactlyTheUnsyncedWrites runs each script on a server's disk,
// crashes the server through the world and compares what survives.
func TestCrashLosesExactlyTheUnsyncedWrites(t *testing.T) {
	tests := []struct {
		name       string
		ops        []diskOp
		beforeSync map[string]string // what reads see before the crash
		afterCrash map[string]string
		lost       int
	}{
		{"nothing written", nil, map[string]string{}, map[string]string{}, 0},
		{"unsynced put is lost", []diskOp{put("a", "1")}, map[string]string{"a": "1"}, map[string]string{}, 1},
		{"synced put survives", []diskOp{put("a", "1"), syncOp()}, map[string]string{"a": "1"}, map[string]string{"a": "1"}, 0},
		{"overwrite after sync is lost", []diskOp{put("a", "1"), syncOp(), put("a", "2")},
			map[string]string{"a": "2"}, map[string]string{"a": "1"}, 1},
		{"delete after sync is lost", []diskOp{put("a", "1"), syncOp(), del("a")},
			map[string]string{}, map[string]string{"a": "1"}, 1},
		{"synced delete survives", []diskOp{put("a", "1"), syncOp(), del("a"), syncOp()},
			map[string]string{}, map[string]string{}, 0},
		{"delete then put before sync", []diskOp{put("a", "1"), syncOp(), del("a"), put("a", "3"), syncOp(), put("b", "x")},
			map[string]string{"a": "3", "b": "x"}, map[string]string{"a": "3"}, 1},
		{"put then delete before sync", []diskOp{put("a", "1"), del("a"), syncOp()},
			map[string]string{}, map[string]string{}, 0},
		{"several unsynced writes", []diskOp{put("a", "1"), syncOp(), put("b", "2"), put("c", "3"), del("a")},
			map[string]string{"b": "2", "c": "3"}, map[string]string{"a": "1"}, 3},
		{"empty value survives", []diskOp{put("e", ""), syncOp()}, map[string]string{"e": ""}, map[string]string{"e": ""}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, buf := tracedWorld(t, Config{Seed: 1})
			id := w.AddServer(idle())
			d := w.Disk(id)
			for _, op := range tt.ops {
				op.apply(d)
			}
			assert.Equal(t, tt.beforeSync, contents(d))
			assert.Equal(t, tt.lost, d.Unsynced())
			w.RunUntil(0)
			w.Crash(id)
			assert.Equal(t, tt.afterCrash, contents(d))
			assert.Zero(t, d.Unsynced())
			crashes := ofKind(records(t, w, buf), "crash")
			require.Len(t, crashes, 1)
			assert.Equal(t, "lost-writes="+itoa(uint64(tt.lost)), crashes[0].Detail)

			// A second crash after a restart loses nothing more.
			w.Restart(id)
			w.Crash(id)
			assert.Equal(t, tt.afterCrash, contents(d))
		})
	}
}

func TestRestartedNodeReadsOnlyItsSyncedDisk(t *testing.T) {
	var seen []map[string]string
	w := newTestWorld(t, Config{Seed: 1})
	id := w.AddServer(nodeOf(funcNode{start: func(env Env) {
		d := env.Disk()
		seen = append(seen, contents(d))
		d.Put("synced", []byte("yes"))
		d.Sync()
		d.Put("unsynced", []byte("no"))
	}}))
	w.At(ms(1), "crash", func() { w.Crash(id) })
	w.At(ms(2), "restart", func() { w.Restart(id) })
	w.RunUntil(ms(3))
	assert.Equal(t, []map[string]string{{}, {"synced": "yes"}}, seen)
}

func TestDiskKeysSortedByPrefix(t *testing.T) {
	d := NewDisk()
	for _, k := range []string{"log/10", "log/2", "meta", "log/1", "log/", "lo", "term"} {
		d.Put(k, []byte(k))
	}
	d.Delete("term")
	tests := []struct {
		prefix string
		want   []string
	}{
		{"", []string{"lo", "log/", "log/1", "log/10", "log/2", "meta"}},
		{"log/", []string{"log/", "log/1", "log/10", "log/2"}},
		{"log/1", []string{"log/1", "log/10"}},
		{"term", nil},
		{"zzz", nil},
	}
	for _, tt := range tests {
		t.Run("prefix="+tt.prefix, func(t *testing.T) {
			assert.Equal(t, tt.want, d.Keys(tt.prefix))
		})
	}
}

func TestDiskCopiesValues(t *testing.T) {
	d := NewDisk()
	buf := []byte("abc")
	d.Put("k", buf)
	buf[0] = 'X' // the caller reuses its buffer
	got, ok := d.Get("k")
	require.True(t, ok)
	assert.Equal(t, "abc", string(got))
	got[1] = 'Y' // the caller scribbles on what it read
	again, _ := d.Get("k")
	assert.Equal(t, "abc", string(again))

	d.Put("nil", nil)
	v, ok := d.Get("nil")
	assert.True(t, ok, "a nil value is stored as empty, not as absent")
	assert.Empty(t, v)
	_, ok = d.Get("missing")
	assert.False(t, ok)
}

// A record rewritten as it grows is written with PutShared: appending to the
// caller's buffer, even in the same array, leaves every stored version as it
// was, before and after a sync, and a torn crash cuts the stored bytes.
func TestDiskPutSharedKeepsEachVersionAsAppendsGrowTheBuffer(t *testing.T) {
	d := NewDisk()
	buf := make([]byte, 0, 64)
	buf = append(buf, "ab"...)
	d.PutShared("chunk", buf)
	d.Sync()
	buf = append(buf, "cd"...) // the same array: room for it
	got, _ := d.Get("chunk")
	assert.Equal(t, "ab", string(got), "the stored version does not see the append")
	d.PutShared("chunk", buf)
	got, _ = d.Get("chunk")
	assert.Equal(t, "abcd", string(got))
	d.crash(DiskFaults{}, nil) // the unsynced "abcd" is lost
	got, _ = d.Get("chunk")
	assert.Equal(t, "ab", string(got))

	d.PutShared("nil", nil)
	v, ok := d.Get("nil")
	assert.True(t, ok, "a nil value is stored as empty, not as absent")
	assert.Empty(t, v)
}

func TestDiskStats(t *testing.T) {
	d := NewDisk()
	d.Put("a", nil)
	d.Delete("a")
	d.Sync()
	d.Sync()
	writes, syncs := d.Stats()
	assert.Equal(t, uint64(2), writes)
	assert.Equal(t, uint64(2), syncs)
}
