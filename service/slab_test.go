package service

import "testing"

// Each value gets its own slot, later ones never overwrite earlier ones,
// and slabLen values cost one allocation.
func TestSlabHandsOutDistinctSlots(t *testing.T) {
	var s Slab[[2]int]
	var ps []*[2]int
	for i := range 3 * slabLen {
		ps = append(ps, s.New([2]int{i, -i}))
	}
	for i, p := range ps {
		if *p != [2]int{i, -i} {
			t.Fatalf("slot %d holds %v", i, *p)
		}
	}
	allocs := testing.AllocsPerRun(10, func() {
		for range slabLen {
			s.New([2]int{1, 2})
		}
	})
	if allocs > 1 {
		t.Fatalf("%v allocations for %d values, want at most 1", allocs, slabLen)
	}
}
