package faults

import (
	"testing"

	"github.com/simrun/simrun/sim"
	"pgregory.net/rapid"
)

// horizon is the length of the property runs; every time is a whole number of
// milliseconds, so checking the world after each millisecond sees every state.
const horizon = 40 * ms

func drawTime(t *rapid.T, label string, lo, hi int) Duration {
	return Duration(rapid.IntRange(lo, hi).Draw(t, label)) * ms
}

func drawTarget(t *rapid.T, n int, label string, kinds ...TargetKind) Target {
	k := rapid.SampledFrom(kinds).Draw(t, label+"-kind")
	if k == TargetNode {
		return Node(rapid.IntRange(0, n-1).Draw(t, label+"-node"))
	}
	return Target{Kind: k}
}

// drawStep draws a valid step for a cluster of n servers. Every crash gets
// maxDown, so the plan allows at most maxDown servers down at once.
func drawStep(t *rapid.T, n, maxDown int) Step {
	var s Step
	if rapid.Bool().Draw(t, "repeats") {
		s.From = drawTime(t, "from", 0, 30)
		s.To = s.From + drawTime(t, "len", 1, 20)
		s.Every = drawTime(t, "every", 1, 10)
	} else {
		s.At = drawTime(t, "at", 0, 40)
	}
	actions := []string{"crash", "restart", "heal"}
	if n >= 2 {
		actions = append(actions, "partition", "cut")
	}
	switch rapid.SampledFrom(actions).Draw(t, "action") {
	case "crash":
		s.Crash = drawTarget(t, n, "crash", TargetNode, TargetRandom, TargetLeader)
		s.Down = drawTime(t, "down", 0, 15)
		s.MaxDown = maxDown
	case "restart":
		s.Restart = drawTarget(t, n, "restart", TargetNode, TargetAllDown)
	case "heal":
		s.Heal = HealEverything
	case "partition":
		s.Partition = drawPartition(t, n)
	case "cut":
		from := drawTarget(t, n, "from", TargetNode, TargetRandom, TargetLeader)
		to := drawTarget(t, n, "to", TargetNode, TargetRandom, TargetLeader)
		if from == to && from.Kind != TargetRandom {
			to = Random()
		}
		s.Cut = &Cut{From: from, To: to}
	}
	return s
}

func drawPartition(t *rapid.T, n int) *Partition {
	switch rapid.IntRange(0, 2).Draw(t, "shape") {
	case 0:
		return &Partition{Isolate: drawTarget(t, n, "isolate", TargetNode, TargetRandom, TargetLeader)}
	case 1:
		return &Partition{Halves: true}
	}
	// Groups: give each server a group number, or none (-1).
	groups := make([][]int, 3)
	for id := range n {
		g := rapid.IntRange(-1, 2).Draw(t, "group")
		if g >= 0 {
			groups[g] = append(groups[g], id)
		}
	}
	nonEmpty := 0
	for _, g := range groups {
		if len(g) > 0 {
			nonEmpty++
		}
	}
	if nonEmpty < 2 {
		return &Partition{Groups: [][]int{{0}, {n - 1}}}
	}
	return &Partition{Groups: groups}
}

// leaderTerms lets some servers announce leadership, so "leader" targets
// sometimes have a leader to hit.
func drawLeaderTerms(t *rapid.T, n int) map[int]uint64 {
	terms := map[int]uint64{}
	for id := range n {
		if term := rapid.IntRange(0, 3).Draw(t, "term"); term > 0 {
			terms[id] = uint64(term)
		}
	}
	return terms
}

type outcome struct {
	hash   uint64
	counts Counts
}

// runPlan runs the plan to the horizon, checking the invariants after every
// millisecond, then ends the schedule and checks that it healed everything.
func runPlan(t *rapid.T, seed uint64, n, maxDown int, terms map[int]uint64, steps []Step) outcome {
	tw := newTestWorld(t, seed, n, terms)
	in, err := Install(tw.World, Plan{Steps: steps})
	if err != nil {
		t.Fatalf("Install: %v", err)
	}
	client := tw.Clients()[0]
	for at := Duration(0); at <= horizon; at += ms {
		tw.run(t, at)
		if down := tw.downServers(); down > maxDown {
			t.Fatalf("t=%v: %d servers down, the plan allows %d", at, down, maxDown)
		}
		if c := in.Counts(); c.Crashes-c.Restarts != tw.downServers() {
			t.Fatalf("t=%v: counts %v disagree with %d servers down", at, c, tw.downServers())
		}
		if !tw.Up(client) {
			t.Fatalf("t=%v: the client is down", at)
		}
		for _, id := range tw.Servers() {
			if tw.IsCut(id, client) || tw.IsCut(client, id) {
				t.Fatalf("t=%v: the client is cut from %v", at, id)
			}
		}
	}
	tw.At(sim.Time(horizon), "end", func() {
		in.Stop()
		in.HealAll()
		in.RestartAll()
	})
	tw.run(t, horizon+20*ms)
	if tw.downServers() != 0 || cutsOf(tw.World) != "" {
		t.Fatalf("after Stop, HealAll, RestartAll: %d down, cuts %q", tw.downServers(), cutsOf(tw.World))
	}
	return outcome{hash: tw.Result().Hash, counts: in.Counts()}
}

func TestPropertyRandomTimelines(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 6).Draw(t, "servers")
		maxDown := rapid.IntRange(1, n).Draw(t, "max_down")
		seed := rapid.Uint64().Draw(t, "seed")
		terms := drawLeaderTerms(t, n)
		steps := rapid.SliceOfN(rapid.Custom(func(t *rapid.T) Step { return drawStep(t, n, maxDown) }),
			0, 8).Draw(t, "steps")
		for i, s := range steps {
			if err := s.Validate(n); err != nil {
				t.Fatalf("drew an invalid step %d %v: %v", i, s, err)
			}
		}
		first := runPlan(t, seed, n, maxDown, terms, steps)
		again := runPlan(t, seed, n, maxDown, terms, steps)
		if first != again {
			t.Fatalf("same seed, different runs: %+v then %+v", first, again)
		}
	})
}
