package faults

import (
	"testing"
	"time"

	"github.com/simrun/simrun/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Tests of the actions beyond partitions and crashes: pauses, clogs, link
// changes, clocks, disks, and the undoing of faults (for, heal scopes).

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
	assert.Equal(t, []string{"torn=true sync=0s..0s", "torn=false sync=0s..0s"}, disk)
	assert.Equal(t, []string{"boot"}, corrupt)
	assert.Equal(t, 1, in.Counts().Disks)
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
