package service

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

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

// Copies hold their bytes whatever is copied after them, appending to one
// never reaches the next, and small copies share allocations.
func TestByteSlabCopiesStayPut(t *testing.T) {
	var s ByteSlab
	var copies [][]byte
	var want []string
	for i := range 2000 {
		p := []byte(strings.Repeat("x", i%40) + strconv.Itoa(i))
		c := s.Copy(p)
		p[0] = '!' // the copy does not share the caller's bytes
		copies = append(copies, c)
		want = append(want, strings.Repeat("x", i%40)+strconv.Itoa(i))
	}
	_ = append(copies[0], "appended"...)
	for i, c := range copies {
		if string(c) != want[i] {
			t.Fatalf("copy %d holds %q, want %q", i, c, want[i])
		}
	}
	if s.Copy(nil) != nil {
		t.Fatal("an empty copy is not nil")
	}
	big := bytes.Repeat([]byte("y"), byteChunk)
	if c := s.Copy(big[:1059]); !bytes.Equal(c, big[:1059]) || cap(c) != len(c) {
		t.Fatalf("a large copy differs or has room to append: len %d cap %d", len(c), cap(c))
	}
	allocs := testing.AllocsPerRun(10, func() {
		for range 100 {
			s.Copy([]byte("put k1 c0.1"))
		}
	})
	if allocs > 1 {
		t.Fatalf("%v allocations for 100 small copies, want at most 1", allocs)
	}
}

// A buffer is room of its own: appending within it leaves its neighbours and
// the views others hold of its earlier bytes alone, appending past it
// reallocates, and small buffers share allocations.
func TestByteSlabBuffersKeepToTheirRoom(t *testing.T) {
	var s ByteSlab
	a, b := s.Buffer(8), s.Buffer(8)
	require.Empty(t, a)
	require.Equal(t, 8, cap(a))
	b = append(b, "neighbour"[:8]...)
	a = append(a, "abcd"...)
	held := a // what a disk would hold of it
	a = append(a, "efgh"...)
	require.Equal(t, "abcd", string(held))
	require.Equal(t, "neighbou", string(b))
	a = append(a, "ijk"...) // past its room
	require.Equal(t, "abcdefghijk", string(a))
	require.Equal(t, "neighbou", string(b))
	require.Equal(t, 2000, cap(s.Buffer(2000)), "a large buffer is an allocation of its own")
	allocs := testing.AllocsPerRun(10, func() {
		for range 10 {
			_ = append(s.Buffer(256), "entries"...)
		}
	})
	require.LessOrEqual(t, allocs, 1.0, "ten buffers of 256 bytes fit in a chunk")
}

// TestSlabAllocatesOncePerBatch: a Slab makes one allocation per slabLen
// values, as its doc promises.
func TestSlabAllocatesOncePerBatch(t *testing.T) {
	var s Slab[int]
	allocs := testing.AllocsPerRun(1, func() {
		for i := range slabLen * slabLen {
			s.New(i)
		}
	})
	require.Equal(t, float64(slabLen), allocs)
}
