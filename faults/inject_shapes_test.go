package faults

import (
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/sim"
)

// reach lists, per server, the servers it still reaches (itself included).
func (tw *testWorld) reach() [][]sim.NodeID {
	var out [][]sim.NodeID
	for _, a := range tw.Servers() {
		var seen []sim.NodeID
		for _, b := range tw.Servers() {
			if a == b || !tw.IsCut(a, b) {
				seen = append(seen, b)
			}
		}
		out = append(out, seen)
	}
	return out
}

// symmetricCuts fails unless every cut between servers goes both ways.
func symmetricCuts(t *testing.T, tw *testWorld) {
	t.Helper()
	for _, a := range tw.Servers() {
		for _, b := range tw.Servers() {
			require.Equal(t, tw.IsCut(a, b), tw.IsCut(b, a), "%v<->%v", a, b)
		}
		require.False(t, tw.IsCut(a, tw.Clients()[0]) || tw.IsCut(tw.Clients()[0], a), "clients keep their links")
	}
}

func TestBridgeKeepsOneServerLinkedToBothHalves(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		tw := newTestWorld(t, seed, 5, nil)
		in := tw.install(t, Step{At: ms, Partition: &Partition{Bridge: true}, For: 5 * ms})
		tw.run(t, 2*ms)
		symmetricCuts(t, tw)
		sizes := map[int]int{}
		for _, seen := range tw.reach() {
			sizes[len(seen)]++
		}
		// The bridge sees all 5; the others see their half (2) and the bridge.
		require.Equal(t, map[int]int{5: 1, 3: 4}, sizes, "seed %d", seed)
		tw.run(t, 7*ms)
		require.Empty(t, cutsOf(tw.World), "for heals the bridge partition")
		require.Equal(t, 1, in.Counts().Partitions)
	}
}

func TestRingCutsTheFarServers(t *testing.T) {
	tw := newTestWorld(t, 1, 5, nil)
	tw.install(t, Step{At: ms, Partition: &Partition{Ring: &Ring{Order: []int{3, 0, 4, 1, 2}}}, For: 5 * ms})
	tw.run(t, 2*ms)
	symmetricCuts(t, tw)
	// Around the ring 3-0-4-1-2-3, each server keeps its two neighbours.
	want := [][]sim.NodeID{{0, 3, 4}, {1, 2, 4}, {1, 2, 3}, {0, 2, 3}, {0, 1, 4}}
	assert.Equal(t, want, tw.reach())
	tw.run(t, 7*ms)
	assert.Empty(t, cutsOf(tw.World))
}

// TestRandomRingEveryServerSeesItsOwnMajority: for every cluster size a ring
// takes, every server sees a majority, and no two see the same one.
func TestRandomRingEveryServerSeesItsOwnMajority(t *testing.T) {
	for n := 4; n <= 9; n++ {
		for seed := uint64(1); seed <= 5; seed++ {
			t.Run(fmt.Sprintf("n=%d/seed=%d", n, seed), func(t *testing.T) {
				tw := newTestWorld(t, seed, n, nil)
				tw.install(t, Step{At: ms, Partition: &Partition{Ring: &Ring{Random: true}}})
				tw.run(t, 2*ms)
				symmetricCuts(t, tw)
				distinct := map[string]bool{}
				for id, seen := range tw.reach() {
					require.Len(t, seen, 2*RingReach(n)+1, "n%d", id)
					require.Greater(t, len(seen), n/2, "n%d sees a majority", id)
					distinct[fmt.Sprint(seen)] = true
				}
				require.Len(t, distinct, n, "no two servers see the same majority")
				require.NotEmpty(t, cutsOf(tw.World))
			})
		}
	}
}

func TestRingUndoLeavesALaterCutAlone(t *testing.T) {
	tw := newTestWorld(t, 1, 5, nil)
	tw.install(t,
		Step{At: ms, Partition: &Partition{Ring: &Ring{Order: []int{0, 1, 2, 3, 4}}}, For: 4 * ms}, // cuts 0<->2 among others
		Step{At: 2 * ms, Cut: &Cut{From: Node(0), To: Node(2)}},
	)
	tw.run(t, 6*ms)
	assert.Equal(t, []string{"n0>n2"}, cutsOf(tw.World), "the later cut owns n0->n2")
}

// nodeLinks is the links between x and the other servers but those in
// except (both ways), as linksWhere writes them.
func nodeLinks(n int, x int, except ...int) []string {
	var out []string
	for o := range n {
		if o != x && !slices.Contains(except, o) {
			out = append(out, fmt.Sprintf("n%d>n%d", x, o), fmt.Sprintf("n%d>n%d", o, x))
		}
	}
	return out
}

func setOf(links ...[]string) map[string]bool {
	set := map[string]bool{}
	for _, ls := range links {
		for _, l := range ls {
			set[l] = true
		}
	}
	return set
}

func TestSwizzleClogsInOrderAndUnclogsInAnother(t *testing.T) {
	tw := newTestWorld(t, 1, 5, nil)
	in := tw.install(t, Step{At: ms, Swizzle: &Swizzle{Clog: []int{2, 0, 4}, Unclog: []int{4, 2, 0}, Every: 2 * ms}, For: 10 * ms})
	steps := []struct {
		at   Duration
		want map[string]bool
	}{
		{ms / 2, setOf()},
		{ms, setOf(nodeLinks(5, 2))},
		{3 * ms, setOf(nodeLinks(5, 2), nodeLinks(5, 0))},
		{5 * ms, setOf(nodeLinks(5, 2), nodeLinks(5, 0), nodeLinks(5, 4))},
		// n4 unclogs, but its links to n2 and n0, still clogged, stay held.
		{11 * ms, setOf(nodeLinks(5, 2), nodeLinks(5, 0))},
		{13 * ms, setOf(nodeLinks(5, 0))},
		{15 * ms, setOf()},
	}
	for _, st := range steps {
		tw.run(t, st.at)
		assert.Equal(t, st.want, setOf(clogsOf(tw.World)), "at %v", st.at)
		for _, id := range tw.Servers() {
			assert.False(t, tw.IsClogged(id, tw.Clients()[0]) || tw.IsClogged(tw.Clients()[0], id), "clients are never clogged")
		}
	}
	assert.Equal(t, 3, in.Counts().Clogs)
	assert.Equal(t, stepControls("faults[0] swizzle clog=[2 0 4] unclog=[4 2 0] every=2ms for=10ms",
		"clog n0", "clog n4", "unclog n4", "unclog n2", "unclog n0"), tw.controls(t, "faults[0]"))
}

// TestSwizzleRandomDrawsAMajority: a drawn swizzle clogs a majority and
// unclogs the same servers, in an order of its own: the same order every
// time would lose the point of swizzling.
func TestSwizzleRandomDrawsAMajority(t *testing.T) {
	reordered := 0
	for seed := uint64(1); seed <= 10; seed++ {
		tw := newTestWorld(t, seed, 5, nil)
		in := tw.install(t, Step{At: ms, Swizzle: &Swizzle{Every: ms}, For: 5 * ms})
		tw.run(t, 4*ms)
		clogged := 0
		for _, id := range tw.Servers() {
			if tw.IsClogged(id, (id+1)%5) && tw.IsClogged((id+1)%5, id) && tw.IsClogged(id, (id+2)%5) &&
				tw.IsClogged(id, (id+3)%5) && tw.IsClogged(id, (id+4)%5) {
				clogged++
			}
		}
		require.Equal(t, 3, clogged, "seed %d: a majority of 5 is clogged", seed)
		tw.run(t, 9*ms)
		require.Empty(t, clogsOf(tw.World), "seed %d", seed)
		pinned := in.Executed()
		require.Len(t, pinned, 1)
		z := pinned[0].Swizzle
		require.Len(t, z.Clog, 3)
		require.ElementsMatch(t, z.Clog, z.Unclog)
		if !slices.Equal(z.Clog, z.Unclog) {
			reordered++
		}
		require.NoError(t, pinned[0].Validate(5))
	}
	require.Greater(t, reordered, 5, "most draws unclog in another order than they clog")
}

func TestHealCancelsAPendingSwizzle(t *testing.T) {
	for _, heal := range []string{HealNetwork, HealEverything} {
		t.Run(heal, func(t *testing.T) {
			tw := newTestWorld(t, 1, 5, nil)
			tw.install(t,
				Step{At: ms, Swizzle: &Swizzle{Clog: []int{0, 1, 2}, Unclog: []int{2, 1, 0}, Every: 2 * ms}, For: 10 * ms},
				Step{At: 4 * ms, Heal: heal},
				Step{At: 12 * ms, Clog: &Clog{Node: Node(3)}},
			)
			tw.run(t, 3*ms)
			require.NotEmpty(t, clogsOf(tw.World))
			tw.run(t, 4*ms)
			require.Empty(t, clogsOf(tw.World), "the heal unclogs what the swizzle clogged")
			tw.run(t, 11*ms)
			require.Empty(t, clogsOf(tw.World), "the swizzle's pending clog of n2 is cancelled")
			tw.run(t, 20*ms)
			require.Equal(t, setOf(nodeLinks(5, 3)), setOf(clogsOf(tw.World)), "its pending unclogs leave a later clog alone")
		})
	}
}

func TestSwizzleUnclogLeavesALaterClogAlone(t *testing.T) {
	tw := newTestWorld(t, 1, 5, nil)
	tw.install(t,
		Step{At: ms, Swizzle: &Swizzle{Clog: []int{0, 1}, Unclog: []int{1, 0}, Every: ms}, For: 5 * ms},
		Step{At: 3 * ms, Clog: &Clog{From: Node(0), To: Node(3)}},
	)
	tw.run(t, 10*ms)
	assert.Equal(t, []string{"n0>n3"}, clogsOf(tw.World))
}

func TestStopCancelsSwizzleAndRollingRestart(t *testing.T) {
	tw := newTestWorld(t, 1, 5, nil)
	in := tw.install(t,
		Step{At: ms, Swizzle: &Swizzle{Every: 2 * ms}, For: 10 * ms},
		Step{At: ms, Crash: Rolling(), Down: 2 * ms},
	)
	tw.run(t, 4*ms)
	tw.endSafety(in, 4*ms)
	tw.run(t, 4*ms)
	require.Empty(t, clogsOf(tw.World))
	require.Zero(t, tw.downServers())
	before := in.Counts()
	tw.run(t, 30*ms)
	assert.Empty(t, clogsOf(tw.World))
	assert.Zero(t, tw.downServers())
	assert.Equal(t, before, in.Counts(), "nothing fires after Stop")
	assert.Equal(t, 2, before.Crashes, "n0 and n1 crashed, n2 was next")
}

func TestCrashAll(t *testing.T) {
	tw := newTestWorld(t, 1, 5, map[int]uint64{3: 1})
	in := tw.install(t,
		Step{At: ms, Crash: Node(1)},
		Step{At: 2 * ms, Crash: All(), Down: 3 * ms},
		Step{At: 3 * ms, Crash: All()}, // all down already: skipped
	)
	tw.run(t, 4*ms)
	assert.Equal(t, 5, tw.downServers())
	assert.Equal(t, sim.None, in.Leader())
	tw.run(t, 5*ms)
	assert.Equal(t, 1, tw.downServers(), "crash all restarts what it crashed, not n1")
	assert.False(t, tw.Up(1))
	assert.Equal(t, Counts{Crashes: 5, Restarts: 4, Skipped: 1}, in.Counts())
	assert.Len(t, tw.controls(t, "skipped: every server is already down"), 1)
	assert.Len(t, tw.controls(t, "faults[1] crash all down=3ms: restart all"), 1)
}

func TestCrashAllWithoutDownWaitsForRestartAll(t *testing.T) {
	tw := newTestWorld(t, 1, 3, nil)
	in := tw.install(t, Step{At: ms, Crash: All()})
	tw.run(t, 5*ms)
	assert.Equal(t, 3, tw.downServers())
	tw.At(sim.Time(5*ms), "end", func() { in.Stop(); in.RestartAll() })
	tw.run(t, 6*ms)
	assert.Zero(t, tw.downServers())
}

func TestRollingRestartOneAtATimeInIDOrder(t *testing.T) {
	tw := newTestWorld(t, 1, 3, nil)
	in := tw.install(t, Step{At: ms, Crash: Rolling(), Down: 2 * ms})
	down := func() []sim.NodeID {
		var ids []sim.NodeID
		for _, id := range tw.Servers() {
			if !tw.Up(id) {
				ids = append(ids, id)
			}
		}
		return ids
	}
	for _, st := range []struct {
		at   Duration
		want []sim.NodeID
	}{{ms / 2, nil}, {ms, []sim.NodeID{0}}, {3*ms - 1, []sim.NodeID{0}}, {3 * ms, []sim.NodeID{1}},
		{5 * ms, []sim.NodeID{2}}, {7 * ms, nil}, {20 * ms, nil}} {
		tw.run(t, st.at)
		assert.Equal(t, st.want, down(), "at %v", st.at)
	}
	assert.Equal(t, Counts{Crashes: 3, Restarts: 3}, in.Counts())
	assert.Equal(t, stepControls("faults[0] crash rolling down=2ms",
		"restart n0, crash n1", "restart n1, crash n2", "restart n2"), tw.controls(t, "faults[0]"))
}

func TestRollingRestartSkipsADownServerAndHonoursMaxDown(t *testing.T) {
	tw := newTestWorld(t, 1, 4, nil)
	in := tw.install(t,
		Step{At: ms / 2, Crash: Node(1)},
		Step{At: ms, Crash: Rolling(), Down: 2 * ms, MaxDown: 2},
		Step{At: 4 * ms, Crash: Node(3), Down: 10 * ms}, // n3 down before its turn at 7ms, up at 14ms
	)
	tw.run(t, 2*ms)
	assert.Equal(t, 2, tw.downServers(), "n0 (rolling) and n1")
	tw.run(t, 4*ms)
	assert.False(t, tw.Up(1), "n1's turn passes: the roll did not crash it, so it does not restart it")
	assert.True(t, tw.Up(0))
	tw.run(t, 6*ms)
	assert.True(t, tw.Up(2), "n2's turn: n1 and n3 down, max_down 2 holds it back")
	tw.run(t, 8*ms)
	assert.False(t, tw.Up(3), "n3 was already down at its turn (and max_down held the roll back first)")
	tw.run(t, 20*ms)
	assert.True(t, tw.Up(3), "n3's own crash restarts it")
	c := in.Counts()
	assert.Equal(t, 3, c.Crashes)
	assert.Len(t, tw.controls(t, "skipped: n1 is already down"), 1)
	assert.Len(t, tw.controls(t, "skipped: 2 servers down, max_down is 2"), 2, "n2's and n3's turns")
}
