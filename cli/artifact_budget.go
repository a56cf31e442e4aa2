package cli

import (
	"os"
	"path/filepath"
	"sync"

	"github.com/simrun/simrun/report"
)

// DefaultMaxArtifacts is how many failing seeds of a scenario a sweep
// writes artifacts for (about a few MB each) unless --max-artifacts says
// otherwise: a sweep of thousands of seeds of a common bug keeps a result
// and a replay line for every one, and a page for the first ones only.
const DefaultMaxArtifacts = 100

// artifactBudget hands out the failing seeds whose artifacts a sweep of one
// scenario writes: at most max in its directory, counting those an earlier
// sweep wrote. Workers take from it side by side, so which failing seeds
// get artifacts depends on the order they finish in (their results do not).
type artifactBudget struct {
	mu      sync.Mutex
	max     int // 0: no limit
	written int
	skipped map[uint64]bool // seeds left without, until their result is recorded
}

// newArtifactBudget counts the failures' pages already in dir.
func newArtifactBudget(dir string, max int) *artifactBudget {
	b := &artifactBudget{max: max, skipped: map[uint64]bool{}}
	entries, _ := os.ReadDir(filepath.Join(dir, "failures"))
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join(dir, "failures", e.Name(), report.File)); err == nil {
			b.written++
		}
	}
	return b
}

// room reports whether artifacts for n more seeds fit, for planning which
// seeds an earlier sweep left without to run again.
func (b *artifactBudget) room(n int) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.max == 0 || b.written+n <= b.max
}

// take reports whether seed's artifacts are written; a seed left without
// is remembered for its result line (skippedArtifacts).
func (b *artifactBudget) take(seed uint64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.max > 0 && b.written >= b.max {
		b.skipped[seed] = true
		return false
	}
	b.written++
	return true
}

// giveBack returns what take gave for artifacts whose writing failed.
func (b *artifactBudget) giveBack() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.written--
}

// skippedArtifacts reports whether take left seed without artifacts, and
// forgets it: the result line records it from then on.
func (b *artifactBudget) skippedArtifacts(seed uint64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	skipped := b.skipped[seed]
	delete(b.skipped, seed)
	return skipped
}

// writtenCount is how many failing seeds have artifacts in the directory.
func (b *artifactBudget) writtenCount() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.written
}
