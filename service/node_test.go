package service

import (
	"testing"

	"github.com/simrun/simrun/sim"
)

func TestInvariantViolation(t *testing.T) {
	state := sim.TraceLine(nil).Uint("term", 3).Word("role=leader")
	got := InvariantViolation("raft", 2, "a leader leads", state)
	if want := "raft: invariant violated at n2: a leader leads (term=3 role=leader)"; got != want {
		t.Errorf("InvariantViolation = %q, want %q", got, want)
	}
}
