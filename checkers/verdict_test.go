package checkers

import (
	"testing"

	"github.com/simrun/simrun/checkers/names"

	"github.com/stretchr/testify/assert"
)

func TestVerdict(t *testing.T) {
	var zero Verdict
	assert.Equal(t, Unknown, zero, "an unset verdict is unknown, never a pass")
	assert.Equal(t, []string{"pass", "fail", "unknown"}, []string{Pass.String(), Fail.String(), Unknown.String()})

	tests := []struct {
		in   []Verdict
		want Verdict
	}{
		{nil, Unknown},
		{[]Verdict{Pass}, Pass},
		{[]Verdict{Pass, Unknown}, Unknown},
		{[]Verdict{Unknown, Fail, Pass}, Fail},
		{[]Verdict{Pass, Pass}, Pass},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, Worst(tt.in...), "%v", tt.in)
	}
}

func TestKnownChecks(t *testing.T) {
	assert.Equal(t, names.Known(), KnownChecks(), "the one list")
	assert.Subset(t, KnownChecks(), []string{"linearizable", "agreement", "one-leader-per-term", "liveness", "serializable", "strict-serializable"})
	for _, name := range KnownChecks() {
		inv, ok := NewInvariant(name)
		hc, isHistory := NewHistoryCheck(name)
		if isHistory || JudgedAfterPhase(name) {
			assert.False(t, ok, "%s is judged after a phase, not per observation", name)
			if isHistory {
				assert.Equal(t, name, hc.Name())
			}
			continue
		}
		assert.True(t, ok)
		assert.Equal(t, name, inv.Name())
	}
	_, ok := NewInvariant("no-such-check")
	assert.False(t, ok)
}
