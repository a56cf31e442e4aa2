package faults

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/sim"
)

// faultLines runs plan on five idle servers and returns the trace lines of
// what the faults did to the world, and the injector.
func faultLines(t *testing.T, seed uint64, plan Plan) ([]string, *Injector) {
	t.Helper()
	var buf bytes.Buffer
	w, err := sim.NewWorld(sim.Config{Seed: seed, Trace: &buf})
	require.NoError(t, err)
	for range 5 {
		w.AddServer(func(sim.NodeID) sim.Node { return idleNode{} })
	}
	in, err := Install(w, plan)
	require.NoError(t, err)
	w.RunUntil(sim.Time(10 * time.Second))
	require.NoError(t, w.FlushTrace())
	var lines []string
	for _, rec := range parseTrace(t, buf.Bytes()) {
		switch rec.Kind {
		case "crash", "restart", "pause", "resume", "cut", "uncut", "clog", "unclog", "clock-rate", "corrupt":
			// Without the event number: a firing that did nothing is left out
			// of the pinned timeline, and so are its control lines.
			lines = append(lines, withoutNumber(rec))
		}
	}
	return lines, in
}

// withoutNumber is a trace record as text without its event number, which
// control lines and firings that did nothing shift.
func withoutNumber(rec sim.TraceRecord) string {
	return fmt.Sprintf("t=%d %s node=%v peer=%v %s", rec.T, rec.Kind, deref(rec.Node), deref(rec.Peer), rec.Detail)
}

func deref(p *sim.NodeID) any {
	if p == nil {
		return "-"
	}
	return *p
}

// TestExecutedPinsEveryRandomChoice: replaying the pinned timeline does to
// the world exactly what the random, repeating plan did.
func TestExecutedPinsEveryRandomChoice(t *testing.T) {
	ms := func(n int) Duration { return Duration(time.Duration(n) * time.Millisecond) }
	plan := Plan{Steps: []Step{
		{From: ms(100), To: ms(9000), Every: ms(700), Crash: Random(), Down: ms(300), MaxDown: 2},
		{From: ms(200), To: ms(9000), Every: ms(1100), Partition: &Partition{Halves: true}, For: ms(400)},
		{From: ms(300), To: ms(9000), Every: ms(900), Clog: &Clog{From: Random(), To: Random()}, For: ms(200)},
		{From: ms(400), To: ms(9000), Every: ms(1300), Pause: Random(), Down: ms(100), MaxDown: 2},
		{From: ms(500), To: ms(9000), Every: ms(1700), Clock: &Clock{Node: Random(), Rate: 2}, For: ms(300)},
		{From: ms(600), To: ms(9000), Every: ms(1900), Partition: &Partition{Bridge: true}, For: ms(500)},
		{From: ms(700), To: ms(9000), Every: ms(2100), Partition: &Partition{Ring: &Ring{Random: true}}, For: ms(600)},
		{From: ms(800), To: ms(9000), Every: ms(2300), Swizzle: &Swizzle{Nodes: 3, Every: ms(50)}, For: ms(400)},
		{At: ms(3000), Crash: All(), Down: ms(200)},
		{At: ms(4900), Swizzle: &Swizzle{Every: ms(40)}, For: ms(300)}, // cut short by the heal
		{At: ms(5000), Heal: HealEverything},
		{At: ms(6000), Crash: Rolling(), Down: ms(100), MaxDown: 2},
		{At: ms(7000), Swizzle: &Swizzle{Nodes: 2, Every: ms(30)}},
	}}
	for seed := uint64(1); seed <= 10; seed++ {
		original, in := faultLines(t, seed, plan)
		pinned := in.Executed()
		require.NoError(t, Plan{Steps: pinned}.Validate(5))
		for _, s := range pinned {
			require.False(t, s.Repeats())
			for _, tg := range s.targets() {
				require.NotEqual(t, TargetRandom, tg.Kind, "seed %d: %v", seed, s)
			}
			if s.Partition != nil {
				require.False(t, s.Partition.Halves || s.Partition.Bridge)
				require.True(t, s.Partition.Ring == nil || !s.Partition.Ring.Random)
			}
			if s.Swizzle != nil {
				require.Zero(t, s.Swizzle.Nodes)
				require.NotEmpty(t, s.Swizzle.Clog)
			}
		}
		replayed, _ := faultLines(t, seed+1000, Plan{Steps: pinned})
		require.Equal(t, original, replayed, "seed %d: the pinned timeline, under another seed, does the same", seed)
	}
	require.NotNil(t, plan.Steps[1].Partition)
	require.True(t, plan.Steps[1].Partition.Halves, "pinning never writes through to the plan")
	require.True(t, plan.Steps[6].Partition.Ring.Random)
	require.Nil(t, plan.Steps[7].Swizzle.Clog)
}

// TestExecutedOnServersPinsLeaders: Executed keeps leader targets as
// "leader"; ExecutedOnServers writes in the server each one struck (the
// leader, or the server drawn when none was known), so that replaying it in
// a world where nobody leads does to the servers what the first run did.
func TestExecutedOnServersPinsLeaders(t *testing.T) {
	plan := []Step{
		{At: 2 * ms, Crash: Leader(), Down: 3 * ms},
		{At: 3 * ms, Crash: Leader(), Down: ms}, // no leader known: drawn
		{At: 7 * ms, Cut: &Cut{From: Leader(), To: Random()}, For: 2 * ms},
		{At: 10 * ms, Partition: &Partition{Isolate: Leader()}, For: 2 * ms},
		{At: 13 * ms, Pause: Leader(), Down: ms},
		{At: 15 * ms, Clock: &Clock{Node: Leader(), Rate: 2}, For: ms},
	}
	for seed := uint64(1); seed <= 10; seed++ {
		tw := newTestWorld(t, seed, 5, map[int]uint64{2: 5, 4: 7})
		in := tw.install(t, plan...)
		tw.run(t, 20*ms)
		executed, onServers := in.Executed(), in.ExecutedOnServers()
		require.Len(t, onServers, len(executed))
		require.Equal(t, Leader(), executed[0].Crash, "Executed keeps leader targets")
		require.Equal(t, Node(4), onServers[0].Crash, "seed %d: the leader of the highest term", seed)
		require.Equal(t, Node(4), onServers[2].Cut.From, "seed %d: n4 leads again after its restart", seed)
		for i, s := range onServers {
			for _, tg := range s.targets() {
				require.NotEqual(t, TargetLeader, tg.Kind, "seed %d: step %d %v", seed, i, s)
			}
		}
		require.NoError(t, Plan{Steps: onServers}.Validate(5))

		again := newTestWorld(t, seed+1000, 5, nil)
		again.install(t, onServers...)
		again.run(t, 20*ms)
		require.Equal(t, faultEvents(tw.lines(t)), faultEvents(again.lines(t)),
			"seed %d: with nobody leading, the pinned servers are struck as before", seed)
	}
	require.Equal(t, Leader(), plan[2].Cut.From, "pinning never writes through to the plan")
}

// faultEvents lists what faults did to the world, without event numbers or
// control labels.
func faultEvents(lines []sim.TraceRecord) []string {
	var out []string
	for _, rec := range lines {
		switch rec.Kind {
		case "crash", "restart", "pause", "resume", "cut", "uncut", "clock-rate":
			out = append(out, withoutNumber(rec))
		}
	}
	return out
}

// TestPinningKeepsStepsBeforeUndosAtOneInstant: at one instant the steps
// fire first, then the undos earlier steps scheduled for it, in the run as
// in its pinned timeline (every firing a one-shot step). A repeating step's
// firing due when an earlier crash's restart is used to come after the
// restart, scheduled one period before, while the pinned replay fired it
// first: here the crash at 3s struck the restarted n1 in the run, found it
// still down in the replay and did nothing.
func TestPinningKeepsStepsBeforeUndosAtOneInstant(t *testing.T) {
	ms := func(n int) Duration { return Duration(time.Duration(n) * time.Millisecond) }
	plan := Plan{Steps: []Step{
		{At: ms(1000), Crash: Node(1), Down: ms(2000)}, // restart at 3s, scheduled at 1s
		{From: ms(2000), To: ms(4000), Every: ms(1000), Crash: Node(1), Down: ms(500)},
	}}
	original, in := faultLines(t, 1, plan)
	replayed, _ := faultLines(t, 1, Plan{Steps: in.Executed()})
	require.Equal(t, original, replayed)
	require.Equal(t, []string{"t=1000000000 crash node=n1 peer=- lost-writes=0", "t=3000000000 restart node=n1 peer=- "}, original,
		"the firings at 2s and 3s find n1 still down: the restart at 3s comes after the firing")
}
