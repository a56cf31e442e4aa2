package sim

import (
	"cmp"
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tagged returns an event at time at whose gen field carries a tag, so a test
// can tell events apart after they pop.
func tagged(at Time, tag uint32) event { return event{at: at, gen: tag} }

func drain(q *eventQueue) []uint32 {
	var tags []uint32
	for q.Len() > 0 {
		tags = append(tags, q.popEvent().gen)
	}
	return tags
}

func TestQueueOrder(t *testing.T) {
	tests := []struct {
		name  string
		times []Time // pushed in this order; event i carries tag i
		want  []uint32
	}{
		{name: "empty", times: nil, want: nil},
		{name: "single", times: []Time{5}, want: []uint32{0}},
		{name: "ascending", times: []Time{1, 2, 3}, want: []uint32{0, 1, 2}},
		{name: "descending", times: []Time{3, 2, 1}, want: []uint32{2, 1, 0}},
		{name: "all tied pop in push order", times: []Time{7, 7, 7, 7, 7}, want: []uint32{0, 1, 2, 3, 4}},
		{name: "ties among others", times: []Time{5, 1, 5, 1, 3, 5}, want: []uint32{1, 3, 4, 0, 2, 5}},
		{name: "zero and forever", times: []Time{Forever, 0, Forever, 0}, want: []uint32{1, 3, 0, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var q eventQueue
			for i, at := range tt.times {
				q.push(tagged(at, uint32(i)))
			}
			assert.Equal(t, tt.want, drain(&q))
		})
	}
}

func TestQueuePopReleasesMessage(t *testing.T) {
	var q eventQueue
	q.push(event{at: 1, msg: testMsg{n: 1}})
	q.push(event{at: 2, msg: testMsg{n: 2}})
	q.popEvent()
	// The slot freed in the slab must not keep a message alive.
	require.Len(t, q.free, 1)
	assert.Nil(t, q.slab[q.free[0]].msg)
}

// TestQueueMatchesSortedReference interleaves random pushes and pops and checks
// every pop against a sorted slice of what is pending, also with sequence
// numbers renumbered every few pushes (as they are once per 4 billion).
func TestQueueMatchesSortedReference(t *testing.T) {
	for _, limit := range []uint64{maxSeq, 7, 64} {
		for _, seed := range []uint64{1, 2, 3, 42, 1 << 40} {
			t.Run("seed="+strconv.FormatUint(seed, 10)+",maxSeq="+strconv.FormatUint(limit, 10), func(t *testing.T) {
				defer func(old uint64) { maxSeq = old }(maxSeq)
				maxSeq = limit
				matchSortedReference(t, NewRand(seed))
			})
		}
	}
}

// pushed is a reference event and the order it was pushed in.
type pushed struct {
	e   event
	seq uint64
}

func matchSortedReference(t *testing.T, rng *Rand) {
	var q eventQueue
	var ref []pushed // pending events, kept sorted by (at, push order)
	var pushes uint64
	for step := 0; step < 5000; step++ {
		if len(ref) == 0 || rng.IntN(3) != 0 { // push twice as often as pop
			// Few distinct times, so ties are common.
			e := tagged(Time(rng.IntN(50)), uint32(step))
			q.push(e)
			pushes++
			p := pushed{e, pushes}
			i, _ := slices.BinarySearchFunc(ref, p, comparePushed)
			ref = slices.Insert(ref, i, p)
			continue
		}
		got := q.popEvent()
		require.Equal(t, ref[0].e, got, "step %d", step)
		ref = ref[1:]
		require.Equal(t, len(ref), q.Len())
	}
	for len(ref) > 0 {
		require.Equal(t, ref[0].e.gen, q.popEvent().gen)
		ref = ref[1:]
	}
	require.Zero(t, q.Len())
}

func comparePushed(a, b pushed) int {
	if c := cmp.Compare(a.e.at, b.e.at); c != 0 {
		return c
	}
	return cmp.Compare(a.seq, b.seq)
}

// popEvent pops the earliest event and releases its slot, as the kernel does
// around a dispatch.
func (q *eventQueue) popEvent() event {
	slot := q.pop()
	e := q.slab[slot]
	q.release(slot)
	return e
}
