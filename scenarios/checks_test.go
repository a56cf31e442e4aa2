package scenarios_test

import (
	"testing"

	"github.com/simrun/simrun/checkers"
	"github.com/simrun/simrun/scenarios"
	"github.com/stretchr/testify/assert"
)

// TestKnownChecksMatchCheckers keeps the check names a file may use in sync
// with the checkers that exist.
func TestKnownChecksMatchCheckers(t *testing.T) {
	assert.ElementsMatch(t, checkers.KnownChecks(),
		scenarios.KnownChecks)
}
