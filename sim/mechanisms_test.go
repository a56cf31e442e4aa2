package sim

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func msgNumbers(got []delivery) []int {
	var ns []int
	for _, d := range got {
		ns = append(ns, d.msg.(testMsg).n)
	}
	return ns
}

// TestPauseHoldsAndReleasesInOrder: a paused node receives nothing and fires
// nothing; on resume it gets every held message, in order, at resume time.
func TestPauseHoldsAndReleasesInOrder(t *testing.T) {
	var r recorder
	fired := Time(-1)
	w := newTestWorld(t, Config{Seed: 1, Link: Link{LatencyMin: time.Millisecond, LatencyMax: 9 * time.Millisecond}})
	w.AddServer(sendsAtStart(1, numbered(5)...))
	w.AddServer(nodeOf(funcNode{
		start:   func(env Env) { env.SetTimer(3, 2*time.Millisecond) },
		receive: r.node()(1).(*funcNode).receive,
		timer:   func(env Env, k TimerKind) { fired = env.Now() },
	}))
	w.At(ms(1)/2, "pause n1", func() { w.Pause(1) })
	w.At(ms(50), "resume n1", func() { w.Resume(1) })
	w.RunUntil(ms(40))
	require.Empty(t, r.got, "a paused node receives nothing")
	require.Equal(t, Time(-1), fired, "a paused node fires nothing")
	require.Equal(t, 6, w.Held(), "five messages and one timer")
	w.RunUntil(ms(100))
	require.Equal(t, ms(50), fired, "the overdue timer fires at resume")
	require.Len(t, r.got, 5)
	for _, d := range r.got {
		require.Equal(t, ms(50), d.at)
	}
	arrival := append([]int(nil), msgNumbers(r.got)...)
	// Held messages keep their arrival order, which latency may have shuffled.
	require.ElementsMatch(t, []int{1, 2, 3, 4, 5}, arrival)
	require.Zero(t, w.Held())
}

// TestCrashDropsWhatAPausedNodeHeld: messages held for a paused node that
// then crashes meet a down node: dropped, not delivered to its next
// incarnation; so is the backlog's head that Resume had handed back to the
// queue when the crash and a restart come before it is handled.
func TestCrashDropsWhatAPausedNodeHeld(t *testing.T) {
	for _, c := range []struct {
		name    string
		crashAt func(w *World)
	}{
		{"crash while paused, restart later", func(w *World) {
			w.At(ms(40), "crash n1", func() { w.Crash(1) })
			w.At(ms(45), "restart n1", func() { w.Restart(1) })
		}},
		{"resume, crash and restart at one instant", func(w *World) {
			w.At(ms(40), "resume, crash, restart n1", func() {
				w.Resume(1)
				w.Crash(1)
				w.Restart(1)
			})
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var r recorder
			w := newTestWorld(t, Config{Seed: 1, Link: Link{LatencyMin: time.Millisecond, LatencyMax: 9 * time.Millisecond}})
			w.AddServer(sendsAtStart(1, numbered(5)...))
			w.AddServer(r.node())
			w.At(ms(1)/2, "pause n1", func() { w.Pause(1) })
			c.crashAt(w)
			w.RunUntil(ms(100))
			require.Empty(t, r.got, "nothing held reaches the restarted node")
			require.Zero(t, w.Held())
			require.Equal(t, uint64(5), w.Result().Messages.Dropped)
		})
	}
}

// TestClogHoldsUntilUnclogThenDeliversInOrder, one direction only.
func TestClogHoldsUntilUnclogThenDeliversInOrder(t *testing.T) {
	var r recorder
	w := newTestWorld(t, Config{Seed: 1, Link: constLink(time.Millisecond)})
	w.AddServer(sendsAtStart(1, numbered(3)...))
	w.AddServer(r.node())
	w.At(0, "clog", func() { w.Clog(0, 1) })
	w.At(ms(30), "unclog", func() { w.Unclog(0, 1) })
	w.RunUntil(ms(20))
	require.Empty(t, r.got)
	require.True(t, w.IsClogged(0, 1))
	require.False(t, w.IsClogged(1, 0), "clogs are directed")
	w.RunUntil(ms(40))
	require.Equal(t, []int{1, 2, 3}, msgNumbers(r.got))
	require.Equal(t, ms(30), r.got[0].at)
}

func TestClogNodeHoldsBothDirections(t *testing.T) {
	w := newTestWorld(t, Config{Seed: 1})
	w.AddServer(idle())
	w.AddServer(idle())
	w.AddServer(idle())
	w.ClogNode(1)
	require.True(t, w.IsClogged(0, 1))
	require.True(t, w.IsClogged(1, 2))
	require.False(t, w.IsClogged(0, 2))
	w.UnclogNode(1)
	require.False(t, w.IsClogged(1, 0))
}

// TestClockDriftMovesTimers: a fast clock fires timers early, a slow one late.
func TestClockDriftMovesTimers(t *testing.T) {
	for _, c := range []struct {
		rate float64
		want Time
	}{{1, ms(100)}, {2, ms(50)}, {0.5, ms(200)}} {
		var firedReal, firedLocal Time
		w := newTestWorld(t, Config{Seed: 1})
		w.AddServer(nodeOf(funcNode{
			start: func(env Env) { env.SetTimer(0, 100*time.Millisecond) },
			timer: func(env Env, k TimerKind) { firedReal, firedLocal = w.Now(), env.Now() },
		}))
		require.NoError(t, w.SetClockRate(0, c.rate))
		w.RunUntil(ms(500))
		require.Equal(t, c.want, firedReal, "rate %v", c.rate)
		require.Equal(t, ms(100), firedLocal, "on its own clock the node waited 100ms")
	}
}

// TestClockRateChangeMovesPendingTimers: a timer armed before the drift
// starts is moved when the clock speeds up.
func TestClockRateChangeMovesPendingTimers(t *testing.T) {
	var firedReal Time
	w := newTestWorld(t, Config{Seed: 1})
	w.AddServer(nodeOf(funcNode{
		start: func(env Env) { env.SetTimer(0, 100*time.Millisecond) },
		timer: func(env Env, k TimerKind) { firedReal = w.Now() },
	}))
	w.At(ms(50), "drift", func() { require.NoError(t, w.SetClockRate(0, 2)) })
	w.RunUntil(ms(500))
	require.Equal(t, ms(75), firedReal, "50ms left on the local clock pass in 25ms of real time")
}

// TestSkewFiresTimersEarly: a forward jump of the clock fires a pending
// timer at once; Now reflects the jump.
func TestSkewFiresTimersEarly(t *testing.T) {
	var firedReal, local Time
	w := newTestWorld(t, Config{Seed: 1})
	w.AddServer(nodeOf(funcNode{
		start: func(env Env) { env.SetTimer(0, time.Second) },
		timer: func(env Env, k TimerKind) { firedReal, local = w.Now(), env.Now() },
	}))
	w.At(ms(10), "skew", func() { w.SkewClock(0, 2*time.Second) })
	w.RunUntil(ms(5000))
	require.Equal(t, ms(10), firedReal)
	require.Equal(t, ms(2010), local)
	require.Error(t, w.SetClockRate(0, 0))
}

// TestSkewKeepsTheClockRate: a jump of a drifting clock moves its reading,
// not its rate: after the jump it still runs twice as fast.
func TestSkewKeepsTheClockRate(t *testing.T) {
	w := newTestWorld(t, Config{Seed: 1})
	w.AddServer(idle())
	w.At(0, "drift", func() { require.NoError(t, w.SetClockRate(0, 2)) })
	w.At(ms(10), "skew", func() { w.SkewClock(0, time.Second) })
	var afterSkew Time
	w.At(ms(10), "read", func() { afterSkew = w.LocalTime(0) })
	w.RunUntil(ms(30))
	require.Equal(t, ms(1020), afterSkew)
	require.Equal(t, ms(1060), w.LocalTime(0), "20ms of real time after the jump are 40ms on the clock")
}

// TestClockBehindCountsWhatAStepBackHolds: a clock stepped back reads
// behind the furthest it read, by what it has not made up yet (timers set
// before the step wait that long); a step forward holds nothing, and a
// second step back counts from the furthest reading, not the latest.
func TestClockBehindCountsWhatAStepBackHolds(t *testing.T) {
	w := newTestWorld(t, Config{Seed: 1})
	w.AddServer(idle())
	var at20, at520, at3000, at3020 time.Duration
	w.At(ms(10), "forward", func() { w.SkewClock(0, time.Second) })
	w.At(ms(20), "back", func() { w.SkewClock(0, -2*time.Second); at20 = w.ClockBehind(0) })
	w.At(ms(520), "back again", func() { w.SkewClock(0, -time.Second); at520 = w.ClockBehind(0) })
	w.At(ms(3000), "read", func() { at3000 = w.ClockBehind(0) })
	w.At(ms(3020), "read", func() { at3020 = w.ClockBehind(0) })
	w.RunUntil(ms(3100))
	require.Equal(t, 2*time.Second, at20)
	require.Equal(t, 2500*time.Millisecond, at520, "1.5s still held from the first, 1s more")
	require.Equal(t, 20*time.Millisecond, at3000)
	require.Zero(t, at3020, "caught up at 3.02s")
	require.Zero(t, w.ClockBehind(0))
}

// TestTornWriteKeepsAPrefixAndTearsItsLast: with torn writes on, a crash
// keeps an in-order prefix of the unsynced writes, the last one cut short.
func TestTornWriteKeepsAPrefixAndTearsItsLast(t *testing.T) {
	sawTorn := false
	for seed := uint64(1); seed <= 40; seed++ {
		d := tornCrash(t, seed, func(d *Disk) {
			d.Put("synced", []byte("safe"))
			d.Sync()
			for _, k := range []string{"a", "b", "c"} {
				d.Put(k, []byte("0123456789"))
			}
		})
		v, ok := d.Get("synced")
		require.True(t, ok)
		require.Equal(t, "safe", string(v), "synced data survives")
		present := 0
		for i, k := range []string{"a", "b", "c"} {
			v, ok := d.Get(k)
			if !ok {
				for _, later := range []string{"a", "b", "c"}[i:] {
					_, ok := d.Get(later)
					require.False(t, ok, "seed %d: only a prefix reaches the disk", seed)
				}
				break
			}
			present++
			if len(v) < 10 {
				sawTorn = true
			}
		}
		if present > 0 {
			last, _ := d.Get([]string{"a", "b", "c"}[present-1])
			require.Less(t, len(last), 10, "seed %d: the last write that reached the disk is torn", seed)
		}
	}
	require.True(t, sawTorn)
}

// tornCrash runs write in the first instance of a node whose disk tears the
// last write a crash lets through, crashes it 1ms later, and returns the
// disk as the crash left it.
func tornCrash(t *testing.T, seed uint64, write func(d *Disk)) *Disk {
	return crashWith(t, seed, DiskFaults{TornWrites: true}, write)
}

// crashWith is tornCrash on a disk with the given faults.
func crashWith(t *testing.T, seed uint64, faults DiskFaults, write func(d *Disk)) *Disk {
	t.Helper()
	w := newTestWorld(t, Config{Seed: seed})
	wrote := false
	w.AddServer(nodeOf(funcNode{start: func(env Env) {
		if !wrote { // the restarted instance writes nothing
			wrote = true
			write(env.Disk())
		}
	}}))
	require.NoError(t, w.SetDiskFaults(0, faults))
	w.At(ms(1), "crash", func() { w.Crash(0) })
	w.RunUntil(ms(2))
	return w.Disk(0)
}

// TestReorderedWritesLetAnySubsetThrough: with reordered writes, a crash
// lets any subset of the unsynced writes reach the disk, a later one without
// an earlier, each whole; with torn writes as well, at most one of them is
// cut short, and not always the last.
func TestReorderedWritesLetAnySubsetThrough(t *testing.T) {
	keys := []string{"a", "b", "c"}
	subsets := map[string]bool{}
	tornNotLast := false
	for seed := uint64(1); seed <= 80; seed++ {
		for _, torn := range []bool{false, true} {
			d := crashWith(t, seed, DiskFaults{ReorderedWrites: true, TornWrites: torn}, func(d *Disk) {
				d.Put("synced", []byte("safe"))
				d.Sync()
				for _, k := range keys {
					d.Put(k, []byte("0123456789"))
				}
				d.Delete("synced")
			})
			v, _ := d.Get("synced")
			require.Contains(t, []string{"", "safe"}, string(v), "seed %d: a delete is whole or lost", seed)
			subset, cut := "", 0
			for _, k := range keys {
				v, ok := d.Get(k)
				if !ok {
					continue
				}
				if cut > 0 {
					tornNotLast = true // a write after the torn one reached the disk whole
				}
				subset += k
				if len(v) < 10 {
					cut++
				}
			}
			if !torn {
				require.Zero(t, cut, "seed %d: without torn writes every write is whole", seed)
				subsets[subset] = true
			}
			require.LessOrEqual(t, cut, 1, "seed %d: one write at most is torn", seed)
		}
	}
	require.Len(t, subsets, 8, "every subset of three writes reaches the disk on some seed: %v", subsets)
	require.True(t, tornNotLast, "the torn write is any of those that reached the disk")
}

// A torn PutOver cuts only what the write adds to the bytes it keeps: an
// append loses at most its own bytes, a truncation is whole or not at all;
// a PutShared of the same bytes may be cut anywhere.
func TestTornPutOverCutsOnlyWhatItAdds(t *testing.T) {
	run := func(seed uint64, write func(d *Disk)) string {
		v, _ := tornCrash(t, seed, func(d *Disk) {
			d.Put("log", []byte("synced"))
			d.Sync()
			write(d)
		}).Get("log")
		return string(v)
	}
	appended, overwritten := map[string]bool{}, false
	for seed := uint64(1); seed <= 60; seed++ {
		v := run(seed, func(d *Disk) { d.PutOver("log", []byte("synced+appended"), len("synced")) })
		require.True(t, strings.HasPrefix(v, "synced"), "seed %d: the append took synced bytes: %q", seed, v)
		appended[v] = true
		v = run(seed, func(d *Disk) { d.PutOver("log", []byte("syn"), 3) })
		require.Contains(t, []string{"synced", "syn"}, v, "seed %d: a torn truncation", seed)
		v = run(seed, func(d *Disk) { d.PutShared("log", []byte("synced+appended")) })
		overwritten = overwritten || !strings.HasPrefix(v, "synced")
	}
	require.Greater(t, len(appended), 3, "appends were torn at several places")
	require.True(t, overwritten, "an overwrite may be torn below what was synced")
	require.Panics(t, func() { NewDisk().PutOver("k", []byte("abc"), 1) }, "nothing to keep")
}

func TestCorruptDiskFlipsOneBitOfADurableRecord(t *testing.T) {
	w := newTestWorld(t, Config{Seed: 3})
	w.AddServer(nodeOf(funcNode{start: func(env Env) {
		env.Disk().Put("k", []byte{0, 0, 0, 0})
		env.Disk().Sync()
	}}))
	w.RunUntil(ms(1))
	key, ok := w.CorruptDisk(0)
	require.True(t, ok)
	require.Equal(t, "k", key)
	v, _ := w.Disk(0).Get("k")
	ones := 0
	for _, b := range v {
		for ; b != 0; b &= b - 1 {
			ones++
		}
	}
	require.Equal(t, 1, ones)
}

// TestSlowSyncDelaysSendsAndBlocksTheNode: a handler that syncs on a slow
// disk sends late, and the node handles nothing until the sync is done.
func TestSlowSyncDelaysSendsAndBlocksTheNode(t *testing.T) {
	var r recorder
	var handled []Time
	w := newTestWorld(t, Config{Seed: 1, Link: constLink(time.Millisecond)})
	w.AddServer(nodeOf(funcNode{
		start: func(env Env) {
			env.Disk().Put("x", []byte("1"))
			env.Disk().Sync()
			env.Send(1, testMsg{n: 1})
			env.SetTimer(0, time.Millisecond)
		},
		timer: func(env Env, k TimerKind) { handled = append(handled, w.Now()) },
	}))
	w.AddServer(r.node())
	require.NoError(t, w.SetDiskFaults(0, DiskFaults{SyncLatencyMin: 10 * time.Millisecond, SyncLatencyMax: 10 * time.Millisecond}))
	w.RunUntil(ms(100))
	require.Len(t, r.got, 1)
	require.Equal(t, ms(11), r.got[0].at, "the send leaves after the 10ms sync")
	require.Equal(t, []Time{ms(10)}, handled, "the timer due at 1ms waits for the sync")
}

// TestBuggify: off means never and no draws; on, sites are decided per run
// from the seed and the site name, and runs stay deterministic.
func TestBuggify(t *testing.T) {
	run := func(p float64, seed uint64) (fires int, hash uint64, sites []string) {
		w := newTestWorld(t, Config{Seed: seed, Buggify: p})
		w.AddServer(nodeOf(funcNode{
			start: func(env Env) { env.SetTimer(0, time.Millisecond) },
			timer: func(env Env, k TimerKind) {
				for _, site := range []string{"a", "b", "c", "d"} {
					if env.Buggify(site) {
						fires++
					}
				}
				env.SetTimer(0, time.Millisecond)
			},
		}))
		w.RunUntil(ms(200))
		return fires, w.Result().Hash, w.BuggifySites()
	}
	off, _, _ := run(0, 1)
	require.Zero(t, off)
	fires, h1, sites := run(1, 1)
	require.Positive(t, fires)
	require.Less(t, fires, 4*200, "an enabled site fires on a share of calls")
	require.Equal(t, []string{"a=on", "b=on", "c=on", "d=on"}, sites)
	again, h2, _ := run(1, 1)
	require.Equal(t, fires, again)
	require.Equal(t, h1, h2)
	_, _, half := run(0.5, 7)
	require.Len(t, half, 4)
	_, err := NewWorld(Config{Buggify: 2})
	require.Error(t, err)
}

// QuietCode turns every fault point off for the rest of the run: none fires
// after it, where the same run fired them all along.
func TestQuietCode(t *testing.T) {
	var fired []Time
	w := newTestWorld(t, Config{Seed: 1, Buggify: 1})
	w.AddServer(nodeOf(funcNode{
		start: func(env Env) { env.SetTimer(0, time.Millisecond) },
		timer: func(env Env, k TimerKind) {
			if env.Buggify("a") {
				fired = append(fired, env.Now())
			}
			env.SetTimer(0, time.Millisecond)
		},
	}))
	w.At(ms(100), "quiet", w.QuietCode)
	w.RunUntil(ms(200))
	require.NotEmpty(t, fired)
	require.Less(t, fired[len(fired)-1], ms(100), "a fault point fired after QuietCode")
}

// TestSignaturesCannotBeForged: a node's own signature verifies anywhere; a
// signature made up in another node's name does not.
func TestSignaturesCannotBeForged(t *testing.T) {
	var genuine, forged, copied bool
	w := newTestWorld(t, Config{Seed: 1, Link: constLink(time.Millisecond)})
	w.AddServer(nodeOf(funcNode{start: func(env Env) { env.Send(1, sigMsg{env.Sign(42)}) }}))
	w.AddServer(nodeOf(funcNode{receive: func(env Env, from NodeID, m Message) {
		sig := m.(sigMsg).sig
		genuine = env.Verify(sig)
		forged = env.Verify(Signature{Signer: 0, Digest: 43})
		copied = env.Verify(Signature{Signer: 2, Digest: 42})
	}}))
	w.AddServer(idle())
	w.RunUntil(ms(10))
	require.True(t, genuine)
	require.False(t, forged, "n0 never signed 43")
	require.False(t, copied, "n2 never signed 42")
}

type sigMsg struct{ sig Signature }

func (m sigMsg) AppendTrace(b []byte) []byte { return append(b, "sig"...) }

// TestBacklogDrainsInOrderAndLinearly: a burst of messages to a node whose
// every handler syncs on a slow disk is handled in arrival order, one sync
// apart, and each message is held once: a backlog of n costs O(n) trace
// lines, not O(n^2).
func TestBacklogDrainsInOrderAndLinearly(t *testing.T) {
	const n = 200
	var got []int
	w, buf := tracedWorld(t, Config{Seed: 1, Link: constLink(time.Millisecond)})
	w.AddServer(sendsAtStart(1, numbered(n)...))
	w.AddServer(nodeOf(funcNode{receive: func(env Env, from NodeID, m Message) {
		got = append(got, m.(testMsg).n)
		env.Disk().Put("x", []byte{1})
		env.Disk().Sync()
	}}))
	require.NoError(t, w.SetDiskFaults(1, DiskFaults{SyncLatencyMin: 5 * time.Millisecond, SyncLatencyMax: 5 * time.Millisecond}))
	w.RunUntil(ms(5000))
	want := make([]int, n)
	for i := range want {
		want[i] = i + 1
	}
	require.Equal(t, want, got)
	holds := len(ofKind(records(t, w, buf), "hold"))
	require.LessOrEqual(t, holds, n, "each message held at most once")
	require.Zero(t, w.Held())
}

// TestStartComesFirstAfterARestart: a message that arrives at the very
// instant of a restart, queued before the restart's start event, still
// reaches the new instance only after its Start.
func TestStartComesFirstAfterARestart(t *testing.T) {
	var order []string
	w := newTestWorld(t, Config{Seed: 1, Link: constLink(time.Millisecond)})
	w.AddServer(nodeOf(funcNode{start: func(env Env) { env.SetTimer(0, 9*time.Millisecond) },
		timer: func(env Env, k TimerKind) { env.Send(1, testMsg{n: 7}) }}))
	w.AddServer(nodeOf(funcNode{
		start:   func(env Env) { order = append(order, "start") },
		receive: func(env Env, from NodeID, m Message) { order = append(order, "receive") },
	}))
	w.At(ms(5), "crash", func() { w.Crash(1) })
	w.At(ms(10), "restart", func() { w.Restart(1) })
	w.RunUntil(ms(20))
	require.Equal(t, []string{"start", "start", "receive"}, order)
}

// A clock skewed back and then returned to perfect at time zero leaves its
// node's timers overdue: they fire at once, and no event is ever queued
// before the clock (the queue's order assumes none is), so another node's
// timers still fire in order.
func TestTimersOverdueAfterASkewFireAtOnceAndInOrder(t *testing.T) {
	w := newTestWorld(t, Config{Seed: 1})
	type firing struct {
		at   Time
		node NodeID
	}
	var fired []firing
	record := func(env Env, _ TimerKind) { fired = append(fired, firing{w.Now(), env.ID()}) }
	w.AddServer(nodeOf(funcNode{
		start: func(env Env) {
			w.At(0, "skew back to perfect", func() { w.SkewClock(0, 5*time.Second) })
			env.SetTimer(0, time.Second) // at local -4s
			env.SetTimer(1, 2*time.Second)
		},
		timer: record,
	}))
	w.AddServer(nodeOf(funcNode{
		start: func(env Env) {
			env.SetTimer(0, 3*time.Second)
			env.SetTimer(1, 4*time.Second)
			env.SetTimer(2, 5*time.Second)
		},
		timer: record,
	}))
	w.At(0, "skew -5s", func() { w.SkewClock(0, -5*time.Second) })
	w.RunUntil(Time(10 * time.Second))

	require.Len(t, fired, 5)
	for i := 1; i < len(fired); i++ {
		require.LessOrEqual(t, fired[i-1].at, fired[i].at, "timers fired out of order: %v", fired)
	}
	require.Equal(t, []firing{{0, 0}, {0, 0}, {Time(3 * time.Second), 1}, {Time(4 * time.Second), 1},
		{Time(5 * time.Second), 1}}, fired)
}

// A message that reached a paused node has crossed its link: a clog of the
// link before the node resumes does not take it back, and one link's
// messages still arrive in the order sent, however pauses and clogs
// interleave.
func TestAClogAfterAPauseKeepsTheLinksOrder(t *testing.T) {
	var r recorder
	w := newTestWorld(t, Config{Seed: 1, Link: constLink(time.Millisecond)})
	w.AddServer(sendsAtStart(1, numbered(3)...)) // arrive at 1ms, in order
	w.AddServer(r.node())
	w.At(ms(1)/2, "pause n1", func() { w.Pause(1) })
	w.At(ms(2), "clog n0->n1", func() { w.Clog(0, 1) })
	w.At(ms(3), "resume n1", func() { w.Resume(1) }) // heads released, each meets the clog
	w.At(ms(4), "pause n1", func() { w.Pause(1) })
	w.At(ms(5), "unclog n0->n1", func() { w.Unclog(0, 1) })
	w.At(ms(6), "resume n1", func() { w.Resume(1) })
	w.RunUntil(ms(20))
	require.Equal(t, []int{1, 2, 3}, msgNumbers(r.got), "one link's messages arrive in the order sent")
}
