package checkers

import (
	"fmt"
	"math"
	"sync/atomic" //simrun:allow Porcupine searches each part in a goroutine of its own; the flag is read after it returns
	"time"

	"github.com/anishathalye/porcupine"
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
// Unknown comes again on every run of the seed. It charges every legal
// step, revisits of a state Porcupine already keeps included, so what a
// search holds is at most its share (on a crowded key about a third of it).
const searchMemory = 512 << 20

// SearchStepRate turns a search's time budget into the steps it may take
// (searchSteps): a rate every machine the simulator runs on beats by far
// (a step, Porcupine's try of one operation in one state, takes 0.2-0.4µs
// on a 2 GHz core, the slower the more states the search keeps). A search
// stops on its step count, which is the same on every machine, before
// Porcupine's wall-clock timer would stop it on any machine at least a
// fifth as fast, so that a seed's verdict does not depend on the machine
// that checks it; the timer stays as a backstop for slower ones.
const SearchStepRate = 500_000 // steps per second of budget

// searchSteps is the steps a search with time budget may take; no bound
// for none.
func searchSteps(budget time.Duration) int64 {
	if budget <= 0 {
		return math.MaxInt64
	}
	return max(int64(budget/(time.Second/SearchStepRate)), 1) // in integers: the same on every platform
}

// cacheEntryOverhead is what one state Porcupine keeps holds beside its set
// of operations and the key's value: the slice and interface headers, the
// boxed state and the map's share.
const cacheEntryOverhead = 96

// searchMeter charges each part's search for the states it keeps and the
// steps it takes. Each part's search runs in a goroutine of its own and
// touches only its own entries; outgrown and overworked are read once
// Porcupine has returned, when the other searches may still be stopping.
type searchMeter struct {
	held, share []int64 // bytes, per part
	entry       []int64 // one kept state, the key's value aside, per part
	steps, most []int64 // steps taken and allowed, per part
	outgrown    []atomic.Bool
	overworked  []atomic.Bool // took every step it may: outgrown too
}

// newSearchMeter returns a meter of parts parts, each with no share yet.
func newSearchMeter(parts int) *searchMeter {
	return &searchMeter{held: make([]int64, parts), share: make([]int64, parts), entry: make([]int64, parts),
		steps: make([]int64, parts), most: make([]int64, parts),
		outgrown: make([]atomic.Bool, parts), overworked: make([]atomic.Bool, parts)}
}

// limit gives part its shares of memory and steps, for a search over ops
// operations.
func (m *searchMeter) limit(part int, share, steps int64, ops int) {
	m.share[part], m.most[part] = share, steps
	m.entry[part] = int64(ops+63)/64*8 + cacheEntryOverhead
}

// step is the model's step in part's search, charged for the state the
// search may keep after it; once the part has outgrown its share of memory
// or taken its share of steps no step is legal any more, which ends its
// search at once. An input that is a keyState puts the key in that state
// (a part's start).
func (m *searchMeter) step(part int, state, input, output any) (bool, any) {
	if m.held[part] > m.share[part] {
		return false, state
	}
	if m.steps[part] >= m.most[part] {
		m.overworked[part].Store(true)
		m.outgrown[part].Store(true)
		return false, state
	}
	m.steps[part]++
	legal, next := true, any(nil)
	if start, ok := input.(keyState); ok {
		next = start
	} else {
		legal, next = step(state, input, output)
	}
	if legal {
		m.held[part] += m.entry[part] + int64(len(next.(keyState).value))
		if m.held[part] > m.share[part] {
			m.outgrown[part].Store(true)
		}
	}
	return legal, next
}

// meteredKV is kvModel for a search of the whole keys of ops at once, each
// key within its share of memory by its operations: the visualization's
// verbose search, which draws a key whose search outgrew its share as far
// as it got.
func meteredKV(ops []porcupine.Operation, memory int64, budget time.Duration) porcupine.Model {
	keys := partitionByKey(ops)
	meter := newSearchMeter(len(keys))
	index := make(map[string]int, len(keys)) // only read while Porcupine searches
	steps := searchSteps(budget)
	for i, key := range keys {
		index[key[0].Input.(kvInput).key] = i
		meter.limit(i, max(memory/int64(len(ops))*int64(len(key)), 1), max(steps/int64(len(ops))*int64(len(key)), 1), len(key))
	}
	model := kvModel
	model.Step = func(state, input, output any) (bool, any) {
		return meter.step(index[input.(kvInput).key], state, input, output)
	}
	return model
}

// memoryText writes a memory bound in MiB, or KiB below one MiB.
func memoryText(bytes int64) string {
	if bytes >= 1<<20 {
		return fmt.Sprintf("%d MiB", bytes>>20)
	}
	return fmt.Sprintf("%d KiB", bytes>>10)
}
