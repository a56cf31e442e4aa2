package sim

import (
	"maps"
	"testing"

	"pgregory.net/rapid"
)

// TestDiskCrashProperty: after any sequence of puts, deletes and syncs, a crash
// leaves exactly the state as of the last sync.
func TestDiskCrashProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		d := NewDisk()
		synced := map[string]string{} // the model: state as of the last sync
		live := map[string]string{}   // the model: what reads see
		keys := rapid.SampledFrom([]string{"a", "b", "c", "log/1", "log/2"})
		ops := rapid.IntRange(0, 40).Draw(t, "ops")
		for range ops {
			switch rapid.IntRange(0, 2).Draw(t, "op") {
			case 0:
				k, v := keys.Draw(t, "key"), rapid.StringN(0, 3, -1).Draw(t, "value")
				d.Put(k, []byte(v))
				live[k] = v
			case 1:
				k := keys.Draw(t, "key")
				d.Delete(k)
				delete(live, k)
			case 2:
				d.Sync()
				synced = maps.Clone(live)
			}
			if got := contents(d); !maps.Equal(got, live) {
				t.Fatalf("reads see %v, want %v", got, live)
			}
		}
		d.crash(DiskFaults{}, nil)
		if got := contents(d); !maps.Equal(got, synced) {
			t.Fatalf("after the crash %v, want %v", got, synced)
		}
		if d.Unsynced() != 0 {
			t.Fatalf("%d unsynced writes after a crash", d.Unsynced())
		}
	})
}

// TestQueueProperty: whatever is pushed and popped, pops come out in (time,
// push order) order.
func TestQueueProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var q eventQueue
		var pending []event // the model, in push order
		steps := rapid.IntRange(1, 200).Draw(t, "steps")
		for step := range steps {
			if len(pending) > 0 && rapid.Bool().Draw(t, "pop") {
				got := q.popEvent()
				best := 0
				for i, e := range pending {
					if e.at < pending[best].at { // strict: the earliest pushed wins ties
						best = i
					}
				}
				if got.gen != pending[best].gen {
					t.Fatalf("popped tag %d at %d, want tag %d at %d", got.gen, got.at, pending[best].gen, pending[best].at)
				}
				pending = append(pending[:best], pending[best+1:]...)
				continue
			}
			e := tagged(Time(rapid.IntRange(0, 10).Draw(t, "at")), uint32(step))
			q.push(e)
			pending = append(pending, e)
		}
		if q.Len() != len(pending) {
			t.Fatalf("queue holds %d, want %d", q.Len(), len(pending))
		}
	})
}

// TestDiskReorderedCrashProperty: with reordered writes, a crash leaves each
// key as of the last sync or as one of the versions written to it since,
// whole (absent for a delete), whatever became of the other keys.
func TestDiskReorderedCrashProperty(t *testing.T) {
	const absent = "\x00absent"
	rapid.Check(t, func(t *rapid.T) {
		d := NewDisk()
		synced := map[string]string{}
		since := map[string][]string{} // the versions written since the last sync, per key
		keys := rapid.SampledFrom([]string{"a", "b", "c"})
		for range rapid.IntRange(0, 30).Draw(t, "ops") {
			k := keys.Draw(t, "key")
			switch rapid.IntRange(0, 2).Draw(t, "op") {
			case 0:
				v := rapid.StringN(0, 3, -1).Draw(t, "value")
				d.Put(k, []byte(v))
				since[k] = append(since[k], v)
			case 1:
				d.Delete(k)
				since[k] = append(since[k], absent)
			case 2:
				d.Sync()
				synced, since = contents(d), map[string][]string{}
			}
		}
		d.crash(DiskFaults{ReorderedWrites: true}, NewRand(rapid.Uint64().Draw(t, "seed")))
		got := contents(d)
		for _, k := range []string{"a", "b", "c"} {
			allowed := map[string]bool{versionOf(synced, k, absent): true}
			for _, v := range since[k] {
				allowed[v] = true
			}
			if v := versionOf(got, k, absent); !allowed[v] {
				t.Fatalf("key %s holds %q after the crash, not one of %v", k, v, allowed)
			}
		}
	})
}

func versionOf(m map[string]string, k, absent string) string {
	if v, ok := m[k]; ok {
		return v
	}
	return absent
}
