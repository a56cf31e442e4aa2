package sim

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// tornWorld runs one server whose timer handler makes four effects in
// program order (send 1, write "vote", sync, send 2) and a recorder peer;
// the server's step is torn at time 5ms. It returns what the peer received,
// whether the vote survived the crash, and the kept count from the trace.
func tornWorld(t *testing.T, seed uint64) (got []int, voteDurable bool, crashedAfter bool) {
	t.Helper()
	w, err := NewWorld(Config{Seed: seed})
	require.NoError(t, err)
	var rec recorder
	srv := w.AddServer(nodeOf(funcNode{
		start: func(env Env) {
			if _, ok := env.Disk().Get("vote"); !ok {
				env.SetTimer(0, 10*time.Millisecond)
			}
		},
		timer: func(env Env, _ TimerKind) {
			env.Send(1, testMsg{n: 1})
			env.Disk().Put("vote", []byte("n1"))
			v, _ := env.Disk().Get("vote")
			require.Equal(t, "n1", string(v), "a handler reads its own writes, torn or not")
			env.Disk().Sync()
			env.Send(1, testMsg{n: 2})
		},
	}))
	w.AddServer(rec.node())
	armed := false
	w.At(Time(5*time.Millisecond), "arm", func() { armed = w.CrashMidStep(srv, 0, func(int) { crashedAfter = true }) })
	w.RunUntil(Time(time.Second))
	require.True(t, armed)
	for _, d := range rec.got {
		got = append(got, d.msg.(testMsg).n)
	}
	_, voteDurable = w.Disk(srv).Get("vote")
	return got, voteDurable, crashedAfter
}

// TestTornStepCutsBetweenEffectsInProgramOrder: every cut point strictly
// between two effects occurs over the seeds, and each keeps exactly the
// effects before it: a send made before the sync can leave while the vote it
// announces is lost, which is the "send, then persist" bug made visible.
func TestTornStepCutsBetweenEffectsInProgramOrder(t *testing.T) {
	type outcome struct {
		sent  int
		saved bool
	}
	want := map[outcome]bool{
		{sent: 1, saved: false}: true, // cut after send 1: the vote was never written
		// cut after the write: written, not synced, lost by the crash
		{sent: 1, saved: true}: true, // cut after the sync: durable, send 2 lost
	}
	seen := map[outcome]int{}
	for seed := uint64(1); seed <= 60; seed++ {
		got, saved, then := tornWorld(t, seed)
		require.True(t, then, "the callback runs after the torn crash")
		require.NotEmpty(t, got, "seed %d: the first send is before every cut", seed)
		require.Equal(t, 1, got[0])
		require.Len(t, got, 1, "seed %d: the last send is after every cut", seed)
		o := outcome{sent: len(got), saved: saved}
		require.True(t, want[o], "seed %d: impossible outcome %+v", seed, o)
		seen[o]++
	}
	require.Len(t, seen, 2, "both kinds of cut happen over 60 seeds: %v", seen)
	require.Greater(t, seen[outcome{sent: 1, saved: false}], seen[outcome{sent: 1, saved: true}],
		"two of the three cut points lose the vote")
}

// TestTornStepIsDeterministic: the same seed cuts at the same point.
func TestTornStepIsDeterministic(t *testing.T) {
	for seed := uint64(1); seed <= 10; seed++ {
		g1, s1, _ := tornWorld(t, seed)
		g2, s2, _ := tornWorld(t, seed)
		require.Equal(t, g1, g2)
		require.Equal(t, s1, s2)
	}
}

// TestTornStepWaitsForAStepWithTwoEffects: a step with one effect cannot be
// cut between two, so it runs whole and the tear waits for the next one.
func TestTornStepWaitsForAStepWithTwoEffects(t *testing.T) {
	w, err := NewWorld(Config{Seed: 3})
	require.NoError(t, err)
	ticks := 0
	srv := w.AddServer(nodeOf(funcNode{
		start: func(env Env) { env.SetTimer(0, time.Millisecond) },
		timer: func(env Env, _ TimerKind) {
			ticks++
			if ticks < 5 {
				env.SetTimer(0, time.Millisecond) // one effect
				return
			}
			env.Disk().Put("k", []byte("v")) // two effects, the fewest a tear can cut
			env.Disk().Sync()
		},
	}))
	w.At(0, "arm", func() { w.CrashMidStep(srv, 0, nil) })
	w.RunUntil(Time(100 * time.Millisecond))
	require.Equal(t, 5, ticks, "four one-effect steps ran whole, the fifth was torn")
	require.False(t, w.Up(srv))
	require.False(t, w.TearArmed(srv))
	_, kept := w.Disk(srv).Get("k")
	require.False(t, kept, "cut between the write and its sync: the crash lost the write")
}

// TestCrashDisarmsATear: a plain crash before the step clears the tear, so
// the restarted instance is not torn by a fault aimed at its predecessor.
func TestCrashDisarmsATear(t *testing.T) {
	w, err := NewWorld(Config{Seed: 3})
	require.NoError(t, err)
	srv := w.AddServer(idle())
	w.At(0, "arm", func() { require.True(t, w.CrashMidStep(srv, 0, nil)) })
	w.At(Time(time.Millisecond), "crash", func() { w.Crash(srv) })
	w.RunUntil(Time(2 * time.Millisecond))
	require.False(t, w.TearArmed(srv))
	require.False(t, w.CrashMidStep(srv, 0, nil), "a down node cannot be armed")
}

// TestAnObserverCrashInsideATornStepStands: when an effect kept before the
// cut makes an observer crash the node, the rest of the kept effects never
// happen, no write reaches the crashed node's disk, and the torn crash does
// not strike a second time.
func TestAnObserverCrashInsideATornStepStands(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		w, err := NewWorld(Config{Seed: seed})
		require.NoError(t, err)
		srv := w.AddServer(nodeOf(funcNode{
			start: func(env Env) { env.SetTimer(0, time.Millisecond) },
			timer: func(env Env, _ TimerKind) {
				env.Observe(Observation{Kind: ObsLeader, Term: 1})
				env.Disk().Put("b", []byte("1"))
				env.Disk().Put("c", []byte("1"))
				env.Disk().Put("d", []byte("1"))
			},
		}))
		w.OnObservation(func(o Observation) {
			if o.Kind == ObsLeader {
				w.Crash(o.Node)
			}
		})
		thens := 0
		w.At(0, "arm", func() { w.CrashMidStep(srv, 0, func(int) { thens++ }) })
		w.RunUntil(Time(10 * time.Millisecond))
		require.False(t, w.Up(srv))
		require.Zero(t, w.Disk(srv).Unsynced(), "seed %d: nothing written after the crash", seed)
		_, ok := w.Disk(srv).Get("b")
		require.False(t, ok, "seed %d", seed)
		require.Zero(t, thens, "seed %d: the observer's crash stands, the tear did not strike", seed)
	}
}
