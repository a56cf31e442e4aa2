package faults

import (
	"fmt"
	"testing"
	"time"

	"github.com/simrun/simrun/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Tests of the injector's actions on a small world, one behaviour each:
// partitions and crashes first, then pauses, clogs, link changes, clocks,
// disks, and the undoing of faults (for, heal scopes).

func TestPartitionCutsAndHealRestores(t *testing.T) {
	tw := newTestWorld(t, 1, 5, nil)
	in := tw.install(t,
		Step{At: 5 * ms, Partition: &Partition{Groups: [][]int{{0, 1}, {2, 3, 4}}}},
		Step{At: 10 * ms, Heal: "all"},
	)
	tw.run(t, 7*ms)
	assert.True(t, tw.IsCut(0, 2))
	assert.True(t, tw.IsCut(4, 1))
	assert.False(t, tw.IsCut(0, 1))
	assert.False(t, tw.IsCut(2, 3))
	assert.False(t, tw.IsCut(0, 5), "clients are never partitioned")
	tw.run(t, 15*ms)
	assert.False(t, tw.IsCut(0, 2))

	// Receivers: drops are traced at the target with the sender as peer.
	assert.Zero(t, tw.count(t, "drop", 2, 0, 0, 5*ms, "cut"), "no cut before the partition")
	assert.Positive(t, tw.count(t, "drop", 2, 0, 6*ms, 10*ms, "cut"), "n0 -> n2 is cut")
	assert.Zero(t, tw.count(t, "deliver", 2, 0, 6*ms, 10*ms, ""), "nothing crosses the partition")
	assert.Positive(t, tw.count(t, "deliver", 1, 0, 6*ms, 10*ms, ""), "n0 -> n1 is inside a group")
	assert.Positive(t, tw.count(t, "deliver", 2, 0, 11*ms, 15*ms, ""), "heal restores n0 -> n2")

	assert.Equal(t, []string{"faults[0] partition groups [[0 1] [2 3 4]]"}, tw.controls(t, "faults[0]"))
	assert.Equal(t, []string{"faults[1] heal all"}, tw.controls(t, "faults[1]"))
	assert.Equal(t, Counts{Partitions: 1, Heals: 1}, in.Counts())
}

func TestCutIsOneWay(t *testing.T) {
	tw := newTestWorld(t, 1, 3, nil)
	in := tw.install(t, Step{At: 2 * ms, Cut: &Cut{From: Node(0), To: Node(1)}})
	tw.run(t, 6*ms)
	assert.True(t, tw.IsCut(0, 1))
	assert.False(t, tw.IsCut(1, 0))
	assert.Positive(t, tw.count(t, "drop", 1, 0, 3*ms, 6*ms, "cut"))
	assert.Positive(t, tw.count(t, "deliver", 0, 1, 3*ms, 6*ms, ""))
	assert.Equal(t, 1, in.Counts().Cuts)
}

func TestCrashThenRestartAfterDown(t *testing.T) {
	tw := newTestWorld(t, 1, 3, nil)
	in := tw.install(t, Step{At: 5 * ms, Crash: Node(2), Down: 3 * ms})
	tw.run(t, 5*ms)
	assert.False(t, tw.Up(2))
	tw.run(t, 7999*Duration(1000))
	assert.False(t, tw.Up(2), "still down just before 8ms")
	tw.run(t, 8*ms)
	assert.True(t, tw.Up(2), "restarted at 5ms + 3ms")
	tw.run(t, 12*ms)
	assert.Equal(t, 1, tw.count(t, "crash", 2, -1, 0, 12*ms, ""))
	assert.Equal(t, 1, tw.count(t, "restart", 2, -1, 8*ms, 8*ms+1, ""))
	assert.Positive(t, tw.count(t, "drop", 2, 0, 5*ms, 8*ms, "target-down"))
	assert.Equal(t, Counts{Crashes: 1, Restarts: 1}, in.Counts())
}

func TestCrashWithoutDownStaysDownUntilRestartStep(t *testing.T) {
	tw := newTestWorld(t, 1, 3, nil)
	in := tw.install(t,
		Step{At: 1 * ms, Crash: Node(0)},
		Step{At: 2 * ms, Crash: Node(1)},
		Step{At: 10 * ms, Restart: Node(0)},
		Step{At: 12 * ms, Restart: AllDown()},
	)
	tw.run(t, 9*ms)
	assert.Equal(t, 2, tw.downServers())
	tw.run(t, 11*ms)
	assert.True(t, tw.Up(0))
	assert.False(t, tw.Up(1))
	tw.run(t, 13*ms)
	assert.Zero(t, tw.downServers())
	assert.Equal(t, Counts{Crashes: 2, Restarts: 2}, in.Counts())
}

func TestRepeatingWindowFiresHalfOpen(t *testing.T) {
	tests := []struct {
		from, to, every Duration
		want            int
	}{
		{10 * ms, 30 * ms, 5 * ms, 4}, // 10, 15, 20, 25: 30 is outside [10, 30)
		{10 * ms, 31 * ms, 5 * ms, 5},
		{0, 1 * ms, 5 * ms, 1},
		{3 * ms, 4 * ms, 1 * ms, 1},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%v-%v-every-%v", tt.from, tt.to, tt.every), func(t *testing.T) {
			tw := newTestWorld(t, 7, 5, nil)
			in := tw.install(t, Step{From: tt.from, To: tt.to, Every: tt.every, Crash: Random(), Down: ms / 2})
			tw.run(t, 50*ms)
			assert.Equal(t, Counts{Crashes: tt.want, Restarts: tt.want}, in.Counts())
			assert.Len(t, tw.controls(t, "faults[0] crash random down=500µs"), 2*tt.want) // crash + its restart
		})
	}
}

func TestIsolateLeaderTargetsObservedLeader(t *testing.T) {
	// n1 leads term 1, n3 term 4, n0 term 2: the highest term wins.
	tw := newTestWorld(t, 1, 5, map[int]uint64{1: 1, 3: 4, 0: 2})
	in := tw.install(t, Step{At: 5 * ms, Partition: &Partition{Isolate: Leader()}})
	tw.run(t, 6*ms)
	assert.Equal(t, sim.NodeID(3), in.Leader())
	for _, id := range []sim.NodeID{0, 1, 2, 4} {
		assert.True(t, tw.IsCut(3, id), "n3 -> %v", id)
		assert.True(t, tw.IsCut(id, 3), "%v -> n3", id)
	}
	assert.False(t, tw.IsCut(0, 1))
	assert.False(t, tw.IsCut(3, 5), "the client still reaches the isolated leader")
	assert.Empty(t, tw.controls(t, "no leader known"))
}

func TestIsolateLeaderWithoutLeaderFallsBackToRandom(t *testing.T) {
	tw := newTestWorld(t, 1, 5, nil)
	in := tw.install(t, Step{At: 5 * ms, Partition: &Partition{Isolate: Leader()}})
	tw.run(t, 6*ms)
	notes := tw.controls(t, "no leader known")
	require.Len(t, notes, 1)
	isolated := 0
	for _, id := range tw.Servers() {
		if tw.IsCut(id, (id+1)%5) && tw.IsCut(id, (id+2)%5) {
			isolated++
			assert.Contains(t, notes[0], id.String()+" drawn at random")
		}
	}
	assert.Equal(t, 1, isolated)
	assert.Equal(t, 1, in.Counts().Partitions)
}

func TestCrashLeaderForgetsIt(t *testing.T) {
	tw := newTestWorld(t, 1, 3, map[int]uint64{2: 3})
	in := tw.install(t, Step{At: 5 * ms, Crash: Leader(), Down: 2 * ms})
	tw.run(t, 5*ms)
	assert.False(t, tw.Up(2))
	assert.Equal(t, sim.None, in.Leader())
	tw.run(t, 8*ms)
	// The restarted n2 announces term 3 again, an equal term: it leads again.
	assert.Equal(t, sim.NodeID(2), in.Leader())
}

func TestMaxDownSkipsCrash(t *testing.T) {
	tw := newTestWorld(t, 3, 5, nil)
	in := tw.install(t, Step{From: ms, To: 20 * ms, Every: ms, Crash: Random(), MaxDown: 2})
	for at := ms; at <= 20*ms; at += ms {
		tw.run(t, at)
		assert.LessOrEqual(t, tw.downServers(), 2)
	}
	c := in.Counts()
	assert.Equal(t, 2, c.Crashes)
	assert.Equal(t, 17, c.Skipped)
	assert.Len(t, tw.controls(t, "skipped: 2 servers down, max_down is 2"), 17)
}

func TestCrashOfDownNodeIsSkipped(t *testing.T) {
	tw := newTestWorld(t, 3, 3, nil)
	in := tw.install(t, Step{At: ms, Crash: Node(1)}, Step{At: 2 * ms, Crash: Node(1)},
		Step{At: 3 * ms, Restart: Node(0)})
	tw.run(t, 5*ms)
	assert.Equal(t, Counts{Crashes: 1, Skipped: 2}, in.Counts())
	assert.Len(t, tw.controls(t, "skipped: n1 is already down"), 1)
	assert.Len(t, tw.controls(t, "skipped: n0 is already up"), 1)
}

func TestStaleRestartDoesNotCutShortALaterCrash(t *testing.T) {
	tw := newTestWorld(t, 3, 3, nil)
	tw.install(t,
		Step{At: 1 * ms, Crash: Node(1), Down: 5 * ms}, // restart due at 6ms
		Step{At: 2 * ms, Restart: Node(1)},
		Step{At: 3 * ms, Crash: Node(1), Down: 10 * ms}, // restart due at 13ms
	)
	tw.run(t, 7*ms)
	assert.False(t, tw.Up(1), "the 6ms restart belongs to the first crash")
	tw.run(t, 13*ms)
	assert.True(t, tw.Up(1))
}

func TestStopHealAllRestartAll(t *testing.T) {
	tw := newTestWorld(t, 5, 5, nil)
	in := tw.install(t,
		Step{At: ms, Partition: &Partition{Halves: true}},
		Step{At: ms, Crash: Node(4)},
		Step{From: 2 * ms, To: 100 * ms, Every: 2 * ms, Crash: Random(), Down: 50 * ms},
	)
	tw.run(t, 10*ms)
	require.Positive(t, tw.downServers())
	tw.endSafety(in, 10*ms)
	tw.run(t, 10*ms)
	before := in.Counts()
	assert.Zero(t, tw.downServers())
	assert.False(t, tw.IsCut(0, 1) || tw.IsCut(1, 0) || tw.IsCut(2, 3) || tw.IsCut(0, 4))
	tw.run(t, 200*ms)
	assert.Zero(t, tw.downServers(), "no fault after Stop")
	after := in.Counts()
	assert.Equal(t, before.Crashes, after.Crashes)
	assert.Equal(t, 1, after.Heals)
}

// TestActionsDueAfterStopSayTheyDidNothing pins the note behind every action
// that comes due after Stop: the kernel traces its label when it fires, and
// a reader of the liveness phase must not take "crash n3" for a crash.
func TestActionsDueAfterStopSayTheyDidNothing(t *testing.T) {
	tw := newTestWorld(t, 5, 3, nil)
	in := tw.install(t,
		Step{At: ms, Pause: Node(1), Down: 5 * ms},
		Step{At: 6 * ms, Crash: Node(2)},
		Step{From: 2 * ms, To: 20 * ms, Every: 3 * ms, Crash: Node(0), Down: ms},
	)
	tw.endSafety(in, 4*ms)
	tw.run(t, 30*ms)
	assert.Equal(t, []string{
		"faults[0] pause n1 down=5ms: resume n1", "faults[0] did nothing: the fault schedule has stopped",
	}, tw.controls(t, "faults[0]")[1:])
	assert.Equal(t, []string{
		"faults[1] crash n2", "faults[1] skipped: the fault schedule has stopped",
	}, tw.controls(t, "faults[1]"))
	assert.Equal(t, "faults[2] skipped: the fault schedule has stopped", tw.controls(t, "faults[2]")[3],
		"the repeating step fired at 2ms, restarted n0 at 3ms, then came due at 5ms and stopped repeating")
	assert.Len(t, tw.controls(t, "faults[2]"), 4)
	assert.Equal(t, 2, in.Counts().Skipped)
}

// TestAnUndoALaterFaultOwnsSaysSo pins the note of a restart that a later
// crash of the same server overrode.
func TestAnUndoALaterFaultOwnsSaysSo(t *testing.T) {
	tw := newTestWorld(t, 5, 3, nil)
	tw.install(t, Step{At: ms, Crash: Node(1), Down: 3 * ms}, Step{At: 2 * ms, Restart: Node(1)},
		Step{At: 3 * ms, Crash: Node(1), Down: 5 * ms})
	tw.run(t, 5*ms)
	assert.False(t, tw.Up(1), "the second crash owns the restart")
	assert.Equal(t, []string{"faults[0] crash n1 down=3ms", "faults[0] crash n1 down=3ms: restart n1",
		"faults[0] did nothing: a later fault on n1 owns its undoing"}, tw.controls(t, "faults[0]"))
}

func TestHalvesSplitsMajorityMinority(t *testing.T) {
	tw := newTestWorld(t, 9, 5, nil)
	tw.install(t, Step{At: ms, Partition: &Partition{Halves: true}})
	tw.run(t, 2*ms)
	// Each server is cut from the servers of the other side only.
	side := func(id sim.NodeID) int {
		n := 0
		for _, o := range tw.Servers() {
			if o != id && !tw.IsCut(id, o) {
				n++
			}
		}
		return n + 1 // itself
	}
	sizes := map[int]int{}
	for _, id := range tw.Servers() {
		sizes[side(id)]++
	}
	assert.Equal(t, map[int]int{2: 2, 3: 3}, sizes)
}

func TestRandomChoicesAreDeterministicPerSeed(t *testing.T) {
	plan := []Step{
		{From: ms, To: 30 * ms, Every: 3 * ms, Partition: &Partition{Halves: true}},
		{From: 2 * ms, To: 30 * ms, Every: 3 * ms, Heal: "all"},
		{From: ms, To: 30 * ms, Every: 4 * ms, Crash: Random(), Down: 2 * ms},
	}
	runSeed := func(seed uint64) (uint64, string) {
		tw := newTestWorld(t, seed, 5, nil)
		tw.install(t, plan...)
		tw.run(t, 28*ms)
		return tw.Result().Hash, fmt.Sprint(cutsOf(tw.World), tw.downServers())
	}
	h1, s1 := runSeed(11)
	h2, s2 := runSeed(11)
	assert.Equal(t, h1, h2)
	assert.Equal(t, s1, s2)
	differs := false
	for seed := uint64(12); seed < 20 && !differs; seed++ {
		h, _ := runSeed(seed)
		differs = h != h1
	}
	assert.True(t, differs, "other seeds make other choices")
}

func TestFaultsDoNotShiftOtherStreams(t *testing.T) {
	// The network stream must draw the same whatever the faults draw: compare
	// the network's next draw after runs with and without random faults.
	draw := func(steps ...Step) uint64 {
		tw := newTestWorld(t, 4, 5, nil)
		tw.install(t, steps...)
		tw.run(t, 10*ms)
		return tw.Stream("workload").Uint64()
	}
	assert.Equal(t, draw(), draw(Step{From: ms, To: 9 * ms, Every: ms, Partition: &Partition{Halves: true}}))
}

func TestInstallRejectsInvalidPlan(t *testing.T) {
	tw := newTestWorld(t, 1, 3, nil)
	_, err := Install(tw.World, Plan{Steps: []Step{{At: ms, Heal: "all"}, {At: ms, Crash: Node(3)}}})
	require.EqualError(t, err, "step 1: crash: node 3 out of range (cluster has 3 nodes)")
}

func TestPauseHoldsThenResumesAfterDown(t *testing.T) {
	tw := newTestWorld(t, 1, 3, nil)
	in := tw.install(t, Step{At: 5 * ms, Pause: Node(1), Down: 3 * ms})
	tw.run(t, 6*ms)
	assert.True(t, tw.Paused(1))
	assert.True(t, tw.Up(1), "a pause is not a crash")
	tw.run(t, 9*ms)
	assert.False(t, tw.Paused(1))
	assert.Zero(t, tw.count(t, "deliver", 1, 0, 5*ms+1, 8*ms, ""), "nothing reaches a paused node")
	assert.Positive(t, tw.count(t, "deliver", 1, 0, 8*ms, 8*ms+1, ""), "held messages arrive on resume")
	assert.Zero(t, tw.count(t, "drop", 1, 0, 0, 9*ms, ""), "held, not lost")
	assert.Equal(t, Counts{Pauses: 1, Resumes: 1}, in.Counts())
}

func TestMaxDownCountsPausedAndCrashed(t *testing.T) {
	tw := newTestWorld(t, 1, 5, nil)
	in := tw.install(t,
		Step{At: ms, Crash: Node(0)},
		Step{At: 2 * ms, Pause: Random(), MaxDown: 2},
		Step{At: 3 * ms, Pause: Random(), MaxDown: 2},
		Step{At: 4 * ms, Crash: Random(), MaxDown: 2},
		Step{At: 5 * ms, Resume: AllPaused()},
	)
	tw.run(t, 4*ms)
	assert.Equal(t, 2, tw.downServers()+pausedServers(tw))
	tw.run(t, 6*ms)
	assert.Equal(t, Counts{Crashes: 1, Pauses: 1, Resumes: 1, Skipped: 2}, in.Counts())
}

func pausedServers(tw *testWorld) int {
	n := 0
	for _, id := range tw.Servers() {
		if tw.Paused(id) {
			n++
		}
	}
	return n
}

func TestClogNodeHoldsServerLinksOnly(t *testing.T) {
	tw := newTestWorld(t, 1, 3, nil)
	in := tw.install(t, Step{At: 2 * ms, Clog: &Clog{Node: Node(0)}, For: 3 * ms})
	tw.run(t, 3*ms)
	assert.True(t, tw.IsClogged(0, 1))
	assert.True(t, tw.IsClogged(2, 0))
	assert.False(t, tw.IsClogged(1, 2))
	assert.False(t, tw.IsClogged(0, 3), "the client's links stay open")
	tw.run(t, 6*ms)
	assert.False(t, tw.IsClogged(0, 1), "for undoes the clog")
	assert.Zero(t, tw.count(t, "deliver", 1, 0, 2*ms+1, 5*ms, ""))
	assert.Positive(t, tw.count(t, "deliver", 1, 0, 5*ms, 5*ms+1, ""), "held messages arrive on unclog")
	assert.Equal(t, 1, in.Counts().Clogs)
}

func TestLinkChangeAndRevert(t *testing.T) {
	tw := newTestWorld(t, 1, 3, nil)
	def := tw.DefaultLink()
	drop := 0.5
	tw.install(t, Step{At: ms, Link: &LinkChange{Drop: &drop, Latency: &Range{Min: 2 * ms, Max: 4 * ms}}, For: 5 * ms})
	tw.run(t, 2*ms)
	l := tw.Link(0, 2)
	assert.Equal(t, 0.5, l.Drop)
	assert.Equal(t, 2*time.Millisecond, l.LatencyMin)
	assert.Equal(t, def.Duplicate, l.Duplicate, "settings not given stay")
	assert.Equal(t, def, tw.Link(0, 3), "links to clients keep their settings")
	tw.run(t, 7*ms)
	assert.Equal(t, def, tw.Link(0, 2))
}

func TestLinkLatencyReplacesADistribution(t *testing.T) {
	tw := newTestWorld(t, 1, 3, nil)
	table, err := sim.NewLatencyTable("fixed-9ms", func(float64) time.Duration { return 9 * time.Millisecond })
	require.NoError(t, err)
	require.NoError(t, tw.SetAllLinks(sim.Link{LatencyDist: table}))
	tw.install(t, Step{At: ms, Link: &LinkChange{Latency: &Range{Min: 2 * ms, Max: 2 * ms}}, For: 5 * ms})
	tw.run(t, 2*ms)
	l := tw.Link(0, 2)
	assert.Nil(t, l.LatencyDist, "the fault's range is the latency now")
	assert.Equal(t, 2*time.Millisecond, l.LatencyMax)
}

func TestLinkChangeOneLinkHealedByHeal(t *testing.T) {
	tw := newTestWorld(t, 1, 3, nil)
	dup := 1.0
	in := tw.install(t,
		Step{At: ms, Link: &LinkChange{From: Node(1), To: Node(2), Duplicate: &dup}},
		Step{At: 3 * ms, Heal: HealNetwork},
	)
	tw.run(t, 2*ms)
	assert.Equal(t, 1.0, tw.Link(1, 2).Duplicate)
	assert.Equal(t, tw.DefaultLink(), tw.Link(2, 1))
	tw.run(t, 4*ms)
	assert.Equal(t, tw.DefaultLink(), tw.Link(1, 2))
	assert.Equal(t, 1, in.Counts().Heals)
}

func TestClockRateAndSkew(t *testing.T) {
	tw := newTestWorld(t, 1, 3, nil)
	tw.install(t,
		Step{At: 10 * ms, Clock: &Clock{Node: Node(1), Rate: 2}, For: 10 * ms},
		Step{At: 30 * ms, Clock: &Clock{Node: Node(2), Skew: -5 * ms}},
	)
	tw.run(t, 10*ms)
	before := tw.LocalTime(1)
	tw.run(t, 20*ms)
	assert.Equal(t, 20*time.Millisecond, tw.LocalTime(1).Sub(before), "twice as fast for 10ms")
	tw.run(t, 25*ms)
	assert.Equal(t, 25*time.Millisecond, tw.LocalTime(1).Sub(before), "back to rate 1 after for")
	tw.run(t, 31*ms)
	assert.Equal(t, sim.Time(26*ms), tw.LocalTime(2), "stepped back 5ms at 30ms")
}

func TestDiskFaultsAndCorruption(t *testing.T) {
	tw := newTestWorld(t, 1, 3, nil)
	in := tw.install(t,
		Step{At: ms, Disk: &Disk{Node: Node(0), TornWrites: true}, For: 2 * ms},
		Step{At: 2 * ms, Corrupt: Node(1)},
		Step{At: 3 * ms, Disk: &Disk{Node: Node(1), SyncLatency: &Range{Min: ms, Max: 8 * ms}}},
		Step{At: 4 * ms, Disk: &Disk{Node: Node(2), ReorderedWrites: true}},
	)
	tw.run(t, 5*ms)
	lines := tw.lines(t)
	var disk, corrupt []string
	for _, l := range lines {
		switch l.Kind {
		case "disk-faults":
			disk = append(disk, l.Detail)
		case "corrupt":
			corrupt = append(corrupt, l.Detail)
		}
	}
	assert.Equal(t, []string{"torn=true sync=0s..0s", "torn=false sync=1ms..8ms", "torn=false sync=0s..0s",
		"torn=false sync=0s..0s reordered"}, disk, "the sync latency keeps its whole range")
	assert.Equal(t, []string{"boot"}, corrupt)
	assert.Equal(t, 3, in.Counts().Disks)
	assert.Equal(t, 1, in.Counts().Corruptions)
}

func TestHealScopes(t *testing.T) {
	tw := newTestWorld(t, 1, 3, nil)
	tw.install(t,
		Step{At: ms, Clock: &Clock{Node: Node(0), Rate: 3}},
		Step{At: ms, Clog: &Clog{From: Node(0), To: Node(1)}},
		Step{At: 2 * ms, Heal: HealNetwork},
		Step{At: 4 * ms, Heal: HealEverything},
	)
	tw.run(t, 2*ms)
	assert.False(t, tw.IsClogged(0, 1), "heal network unclogs")
	a := tw.LocalTime(0)
	tw.run(t, 3*ms)
	assert.Equal(t, 3*time.Millisecond, tw.LocalTime(0).Sub(a), "heal network leaves clocks alone")
	tw.run(t, 4*ms)
	a = tw.LocalTime(0)
	tw.run(t, 5*ms)
	assert.Equal(t, time.Millisecond, tw.LocalTime(0).Sub(a), "heal all resets clock rates")
}

// TestAnUndoOfLinksLaterFaultsOwnSaysSo: a cut whose every link a later cut
// took notes that its undoing did nothing.
func TestAnUndoOfLinksLaterFaultsOwnSaysSo(t *testing.T) {
	tw := newTestWorld(t, 1, 3, nil)
	tw.install(t, Step{At: ms, Cut: &Cut{From: Node(0), To: Node(1)}, For: 2 * ms},
		Step{At: 2 * ms, Cut: &Cut{From: Node(0), To: Node(1)}, For: 5 * ms})
	tw.run(t, 4*ms)
	assert.True(t, tw.IsCut(0, 1))
	assert.Equal(t, "faults[0] did nothing: later faults own the undoing of every link", tw.controls(t, "faults[0]")[2])
}

func TestPartitionForHealsOnlyItsOwnCuts(t *testing.T) {
	tw := newTestWorld(t, 1, 3, nil)
	tw.install(t,
		Step{At: ms, Partition: &Partition{Isolate: Node(0)}, For: 4 * ms},   // heals at 5ms
		Step{At: 2 * ms, Cut: &Cut{From: Node(1), To: Node(2)}},              // not part of it
		Step{At: 3 * ms, Cut: &Cut{From: Node(0), To: Node(1)}, For: 5 * ms}, // extends 0->1 to 8ms
	)
	tw.run(t, 6*ms)
	assert.False(t, tw.IsCut(1, 0))
	assert.False(t, tw.IsCut(0, 2))
	assert.True(t, tw.IsCut(0, 1), "the later cut owns 0->1 until 8ms")
	assert.True(t, tw.IsCut(1, 2), "another step's cut stays")
	tw.run(t, 9*ms)
	assert.False(t, tw.IsCut(0, 1))
	assert.True(t, tw.IsCut(1, 2))
}

func TestRestartAllResumesPaused(t *testing.T) {
	tw := newTestWorld(t, 1, 3, nil)
	in := tw.install(t, Step{At: ms, Pause: Node(1)}, Step{At: ms, Crash: Node(2)})
	tw.run(t, 2*ms)
	tw.endSafety(in, 2*ms)
	tw.run(t, 3*ms)
	assert.False(t, tw.Paused(1))
	assert.True(t, tw.Up(2))
	require.Equal(t, Counts{Crashes: 1, Restarts: 1, Pauses: 1, Resumes: 1}, in.Counts())
	assert.Equal(t, "crashes=1 restarts=1 partitions=0 cuts=0 heals=0 skipped=0 pauses=1 resumes=1", in.Summary())
}

// TestClogOfOneLinkEndsAfterFor pins the undo of a one-link clog: for ends
// exactly the directed link it clogged, while the reverse link, never
// clogged, stays open all along.
func TestClogOfOneLinkEndsAfterFor(t *testing.T) {
	tw := newTestWorld(t, 1, 3, nil)
	in := tw.install(t, Step{At: ms, Clog: &Clog{From: Node(0), To: Node(1)}, For: 2 * ms})
	tw.run(t, 2*ms)
	assert.True(t, tw.IsClogged(0, 1))
	assert.False(t, tw.IsClogged(1, 0), "one direction only")
	tw.run(t, 4*ms)
	assert.False(t, tw.IsClogged(0, 1), "for undoes the clog")
	assert.Equal(t, 1, in.Counts().Clogs)
}

// TestCrashAllRestartLeavesALaterCrashAlone pins the claims of crash all's
// down: when a server it crashed was restarted and crashed again by a later
// step, that later crash owns it, and crash all's restart leaves it down,
// whichever server it is (here the first one crash all took down).
func TestCrashAllRestartLeavesALaterCrashAlone(t *testing.T) {
	tw := newTestWorld(t, 1, 3, nil)
	tw.install(t,
		Step{At: ms, Crash: All(), Down: 3 * ms}, // restarts due at 4ms
		Step{At: 2 * ms, Restart: Node(0)},
		Step{At: 3 * ms, Crash: Node(0), Down: 10 * ms}, // restart due at 13ms
	)
	tw.run(t, 5*ms)
	assert.False(t, tw.Up(0), "the 4ms restart belongs to crash all, and n0's crash is a later one")
	assert.Equal(t, 1, tw.downServers())
	tw.run(t, 14*ms)
	assert.Zero(t, tw.downServers())
}

// TestArmedMidStepCrashCountsAsDown: a server armed to crash inside its next
// step counts against max_down from the moment it is armed: a second crash
// at the same instant, before the first strikes, is skipped, or two servers
// would go down under max_down 1.
func TestArmedMidStepCrashCountsAsDown(t *testing.T) {
	tw := newTestWorld(t, 3, 3, nil)
	tw.install(t, Step{At: ms, Crash: Node(0), MidStep: true, MaxDown: 1}, Step{At: ms, Crash: Node(1), MaxDown: 1})
	tw.run(t, ms)
	assert.Len(t, tw.controls(t, "skipped: 1 servers down, max_down is 1"), 1)
	tw.run(t, 10*ms)
	assert.LessOrEqual(t, tw.downServers(), 1)
}
