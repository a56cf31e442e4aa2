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

func TestMustBeServer(t *testing.T) {
	servers := []sim.NodeID{0, 2, 1}
	MustBeServer("raft", 0, servers)
	for _, id := range []sim.NodeID{1, 3} { // out of place, out of range
		func() {
			defer func() {
				want := "raft: node " + id.String() + " is not a server"
				if got := recover(); got != want {
					t.Errorf("MustBeServer(%v) panicked with %v, want %q", id, got, want)
				}
			}()
			MustBeServer("raft", id, servers)
		}()
	}
}

func TestPendingRepliesAnswerOnce(t *testing.T) {
	p := PendingReplies{}
	cmd := Command{Client: 7, Seq: 2}
	p.Add(cmd, 40, 9)
	if at, ok := p.Waiting(Command{Client: 7, Seq: 1}); ok {
		t.Errorf("an older command waits at %d", at)
	}
	if at, ok := p.Waiting(cmd); !ok || at != 40 {
		t.Errorf("Waiting = %d, %v; want 40, true", at, ok)
	}
	if to, ok := p.Answer(cmd); !ok || to != 9 {
		t.Errorf("Answer = %v, %v; want n9, true", to, ok)
	}
	if _, ok := p.Answer(cmd); ok {
		t.Error("answered twice")
	}
	if _, ok := p.Waiting(cmd); ok {
		t.Error("an answered command still waits")
	}
}
