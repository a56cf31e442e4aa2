package faults

import (
	"testing"
	"time"

	"github.com/simrun/simrun/sim"
	"github.com/stretchr/testify/require"
)

// TestMidStepCrashPinsItsCut: the pinned timeline of a run records where
// each mid-step crash cut its step (keep), and replaying the pinned step
// cuts at the same place without drawing: the same events (the control
// lines name the step as written, so they differ).
func TestMidStepCrashPinsItsCut(t *testing.T) {
	ms := Duration(time.Millisecond)
	for seed := uint64(1); seed <= 10; seed++ {
		tw := newTestWorld(t, seed, 5, nil)
		in := tw.install(t, Step{At: 2 * ms, Crash: Node(1), MidStep: true, Down: 3 * ms})
		tw.run(t, 20*ms)
		executed := in.Executed()
		require.Len(t, executed, 1)
		keep := executed[0].Keep
		require.True(t, keep >= 1 && keep <= 4, "seed %d: a cut strictly inside a step of 5 effects, kept %d", seed, keep)
		require.Equal(t, 1, tw.count(t, "torn-step", 1, -1, 0, 20*ms, ""))

		again := newTestWorld(t, seed, 5, nil)
		again.install(t, executed...)
		again.run(t, 20*ms)
		require.Equal(t, withoutControls(tw.lines(t)), withoutControls(again.lines(t)),
			"seed %d: the pinned cut replays the run (only the control labels differ)", seed)
		require.Contains(t, executed[0].Describe(), "mid_step keep=")
	}
}

// TestMidStepCrashStaysDownForDown: a server a mid-step crash tore stays
// down for down from the tear, as after a plain crash, then restarts.
func TestMidStepCrashStaysDownForDown(t *testing.T) {
	ms := Duration(time.Millisecond)
	tw := newTestWorld(t, 1, 5, nil)
	tw.install(t, Step{At: 2 * ms, Crash: Node(1), MidStep: true, Down: 3 * ms})
	tw.run(t, 20*ms)
	at := Duration(-1)
	for _, l := range tw.lines(t) {
		if l.Kind == "torn-step" && l.Node != nil && *l.Node == 1 {
			at = Duration(l.T)
			break
		}
	}
	require.GreaterOrEqual(t, at, 2*ms, "the step was torn")
	require.Equal(t, 1, tw.count(t, "restart", 1, -1, at+3*ms, at+3*ms+1, ""), "restarted 3ms after the tear")
	require.Zero(t, tw.count(t, "restart", 1, -1, at, at+3*ms, ""), "down until then")
}

func TestKeepNeedsMidStep(t *testing.T) {
	require.ErrorContains(t, Step{Crash: Node(0), Keep: 2}.Validate(3), "keep pins the cut of a mid-step crash")
	require.ErrorContains(t, Step{Crash: Node(0), MidStep: true, Keep: -1}.Validate(3), "negative")
}

// withoutControls lists the lines that are not control lines, as text
// without event numbers: the control lines are numbered too.
func withoutControls(lines []sim.TraceRecord) []string {
	var out []string
	for _, l := range lines {
		if l.Kind != "control" {
			out = append(out, withoutNumber(l))
		}
	}
	return out
}

// TestRecoveryCrashCutsTheRestartsStartUp: a crash with recovery_crash
// restarts the server after down into a start-up that a second crash cuts
// (a torn step: the start's write, sync and timer are its effects), and
// restarts it again after down.
func TestRecoveryCrashCutsTheRestartsStartUp(t *testing.T) {
	ms := Duration(time.Millisecond)
	for seed := uint64(1); seed <= 5; seed++ {
		tw := newTestWorld(t, seed, 3, nil)
		in := tw.install(t, Step{At: 2 * ms, Crash: Node(1), Down: 3 * ms, RecoveryCrash: true})
		tw.run(t, 20*ms)
		require.Equal(t, 2, in.Counts().Crashes, "seed %d: the crash, then the one in its restart's start-up", seed)
		require.Equal(t, 2, in.Counts().Restarts, "seed %d", seed)
		require.Equal(t, 1, tw.count(t, "torn-step", 1, -1, 5*ms, 5*ms+1, ""), "seed %d: the start-up at 5ms is cut", seed)
		require.Equal(t, 1, tw.count(t, "restart", 1, -1, 8*ms, 8*ms+1, ""), "seed %d: restarted down after the cut", seed)
		require.True(t, tw.Up(1), "seed %d", seed)
		executed := in.Executed()
		require.Len(t, executed, 1)
		require.Contains(t, executed[0].Describe(), "recovery_crash recovery_keep=")

		again := newTestWorld(t, seed, 3, nil)
		again.install(t, executed...)
		again.run(t, 20*ms)
		require.Equal(t, withoutControls(tw.lines(t)), withoutControls(again.lines(t)),
			"seed %d: the pinned recovery cut replays the run (only the control labels differ)", seed)
	}
	require.ErrorContains(t, Step{Crash: Node(0), Down: ms, RecoveryKeep: 2}.Validate(3), "needs recovery_crash")
	require.ErrorContains(t, Step{Crash: Node(0), RecoveryCrash: true}.Validate(3), "give down")
	require.ErrorContains(t, Step{Crash: All(), Down: ms, RecoveryCrash: true}.Validate(3), "strikes one server")
	require.ErrorContains(t, Step{Pause: Node(0), Down: ms, RecoveryCrash: true}.Validate(3), "only a crash")
}
