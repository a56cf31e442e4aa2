package faults

import (
	"fmt"
	"testing"

	"github.com/simrun/simrun/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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
