package checkers

import (
	"fmt"
	"sync/atomic" //simrun:allow Porcupine searches each part in a goroutine of its own; the flag is read after it returns
)

// searchMemory bounds what the Porcupine searches of one batch of parts may
// hold, shared among the parts by their operations. Porcupine's time budget
// does not bound its memory: for each state it visits, its search keeps a
// copy of the set of operations linearized so far, one bit per operation of
// the part, and the key's value, so a part of 80,000 operations (hundreds of
// clients, no think time, one key: no quiet point cuts it) takes gigabytes
// within seconds. A search that outgrows its share stops, and the verdict
// is Unknown. The meter counts the search's own steps, never the heap, so
// where a search stops is the same on every run and every machine: such an
// Unknown comes again on every run of the seed.
const searchMemory = 512 << 20

// cacheEntryOverhead is what one state Porcupine keeps holds beside its set
// of operations and the key's value: the slice and interface headers, the
// boxed state and the map's share.
const cacheEntryOverhead = 96

// searchMeter charges each part's search for the states it keeps. Each
// part's search runs in a goroutine of its own and touches only its own
// entries; outgrown is read once Porcupine has returned, when the other
// searches may still be stopping.
type searchMeter struct {
	held, share []int64 // bytes, per part
	entry       []int64 // one kept state, the key's value aside, per part
	outgrown    []atomic.Bool
}

// newSearchMeter shares memory among the parts ops[bounds[i]:bounds[i+1]]
// in proportion to their operations.
func newSearchMeter(bounds []int, memory int64) *searchMeter {
	parts := len(bounds) - 1
	m := &searchMeter{held: make([]int64, parts), share: make([]int64, parts), entry: make([]int64, parts),
		outgrown: make([]atomic.Bool, parts)}
	total := int64(bounds[parts] - bounds[0])
	for i := range parts {
		ops := int64(bounds[i+1] - bounds[i])
		m.share[i] = max(memory/total*ops, 1)
		m.entry[i] = (ops+63)/64*8 + cacheEntryOverhead
	}
	return m
}

// charge reports whether part may take another step: false once it has
// outgrown its share.
func (m *searchMeter) charge(part int) bool {
	return m.held[part] <= m.share[part]
}

// hold charges part for a state its search may keep, whose value is
// valueBytes long; past its share the part is marked outgrown.
func (m *searchMeter) hold(part, valueBytes int) {
	m.held[part] += m.entry[part] + int64(valueBytes)
	if m.held[part] > m.share[part] {
		m.outgrown[part].Store(true)
	}
}

// memoryText writes a memory bound in MiB, or KiB below one MiB.
func memoryText(bytes int64) string {
	if bytes >= 1<<20 {
		return fmt.Sprintf("%d MiB", bytes>>20)
	}
	return fmt.Sprintf("%d KiB", bytes>>10)
}
