package faults

import (
	"testing"
	"time"

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
	actions := []string{"crash", "pause", "restart", "resume", "heal", "clock", "disk", "corrupt"}
	if n >= 2 {
		actions = append(actions, "partition", "cut", "clog", "link", "swizzle")
	}
	act := rapid.SampledFrom(actions).Draw(t, "action")
	switch act {
	case "crash", "pause":
		target := drawTarget(t, n, act, anyServer...)
		if act == "crash" {
			s.Crash = target
		} else {
			s.Pause = target
		}
		s.Down = drawTime(t, "down", 0, 15)
		s.MaxDown = maxDown
		if act == "crash" {
			drawWholeClusterCrash(t, &s, n, maxDown)
		}
	case "restart":
		s.Restart = drawTarget(t, n, "restart", restartables...)
	case "resume":
		s.Resume = drawTarget(t, n, "resume", resumables...)
	case "heal":
		s.Heal = rapid.SampledFrom([]string{HealEverything, HealNetwork}).Draw(t, "scope")
	case "partition":
		s.Partition = drawPartition(t, n)
	case "cut":
		from, to := drawEnds(t, n)
		s.Cut = &Cut{From: from, To: to}
	case "clog":
		if rapid.Bool().Draw(t, "clog-node") {
			s.Clog = &Clog{Node: drawTarget(t, n, "clog", anyServer...)}
		} else {
			from, to := drawEnds(t, n)
			s.Clog = &Clog{From: from, To: to}
		}
	case "link":
		s.Link = drawLinkChange(t, n)
	case "clock":
		s.Clock = &Clock{Node: drawTarget(t, n, "clock", anyServer...)}
		if rapid.Bool().Draw(t, "rate") {
			s.Clock.Rate = rapid.Float64Range(0.5, 3).Draw(t, "clock-rate")
		} else {
			s.Clock.Skew = drawTime(t, "skew", -20, 20)
			if s.Clock.Skew == 0 {
				s.Clock.Skew = ms
			}
		}
	case "disk":
		s.Disk = &Disk{Node: drawTarget(t, n, "disk", anyServer...), TornWrites: true,
			ReorderedWrites: rapid.Bool().Draw(t, "reordered"), SyncLatency: &Range{Max: drawTime(t, "sync", 0, 3)}}
	case "corrupt":
		s.Corrupt = drawTarget(t, n, "corrupt", anyServer...)
	case "swizzle":
		s.Swizzle = &Swizzle{Nodes: rapid.IntRange(0, n).Draw(t, "swizzle-nodes"), Every: drawTime(t, "swizzle-every", 1, 4)}
	}
	if k, _ := kindNamed(act); k.takesFor && (act != "clock" || s.Clock.Rate != 0) {
		s.For = drawTime(t, "for", 0, 15)
	}
	if act == "swizzle" && s.For > 0 {
		s.For += Duration(s.Swizzle.count(n)-1) * s.Swizzle.Every // unclogging starts after clogging ends
	}
	return s
}

// drawWholeClusterCrash sometimes makes a crash a rolling restart (one
// server at a time, under max_down) or, when the plan allows every server
// down, a crash of all of them.
func drawWholeClusterCrash(t *rapid.T, s *Step, n, maxDown int) {
	switch rapid.IntRange(0, 3).Draw(t, "crash-shape") {
	case 0:
		s.Crash = Rolling()
		s.Down = max(s.Down, ms)
	case 1:
		if maxDown >= n {
			s.Crash, s.MaxDown = All(), 0
		}
	}
}

func drawEnds(t *rapid.T, n int) (Target, Target) {
	from := drawTarget(t, n, "from", anyServer...)
	to := drawTarget(t, n, "to", anyServer...)
	if from == to && from.Kind != TargetRandom {
		to = Random()
	}
	return from, to
}

func drawLinkChange(t *rapid.T, n int) *LinkChange {
	l := &LinkChange{}
	if rapid.Bool().Draw(t, "one-link") {
		l.From, l.To = drawEnds(t, n)
	}
	drop := rapid.Float64Range(0, 1).Draw(t, "drop")
	l.Drop = &drop
	if rapid.Bool().Draw(t, "latency") {
		lo := drawTime(t, "latency-min", 0, 3)
		l.Latency = &Range{Min: lo, Max: lo + drawTime(t, "latency-spread", 0, 3)}
	}
	return l
}

func drawPartition(t *rapid.T, n int) *Partition {
	switch rapid.IntRange(0, 4).Draw(t, "shape") {
	case 0:
		return &Partition{Isolate: drawTarget(t, n, "isolate", TargetNode, TargetRandom, TargetLeader)}
	case 1:
		return &Partition{Halves: true}
	case 2:
		if n >= 3 {
			return &Partition{Bridge: true}
		}
	case 3:
		if n >= 4 {
			return &Partition{Ring: &Ring{Random: true}}
		}
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
		if down := tw.downServers() + pausedServers(tw); down > maxDown {
			t.Fatalf("t=%v: %d servers down or paused, the plan allows %d", at, down, maxDown)
		}
		c := in.Counts()
		if c.Crashes-c.Restarts != tw.downServers() {
			t.Fatalf("t=%v: counts %v disagree with %d servers down", at, c, tw.downServers())
		}
		if c.Pauses-c.Resumes < pausedServers(tw) {
			t.Fatalf("t=%v: counts %v disagree with %d servers paused", at, c, pausedServers(tw))
		}
		if !tw.Up(client) {
			t.Fatalf("t=%v: the client is down", at)
		}
		for _, id := range tw.Servers() {
			if tw.IsCut(id, client) || tw.IsCut(client, id) || tw.IsClogged(id, client) || tw.IsClogged(client, id) {
				t.Fatalf("t=%v: the client is cut or clogged from %v", at, id)
			}
			if tw.Link(id, client) != tw.DefaultLink() {
				t.Fatalf("t=%v: the client's link from %v changed", at, id)
			}
		}
	}
	tw.endSafety(in, horizon)
	tw.run(t, horizon+20*ms)
	checkHealed(t, tw)
	return outcome{hash: tw.Result().Hash, counts: in.Counts()}
}

// checkHealed asserts that nothing of the plan is left: no server down or
// paused, no cut, clog or changed link, every clock at rate 1.
func checkHealed(t *rapid.T, tw *testWorld) {
	if tw.downServers() != 0 || pausedServers(tw) != 0 || len(cutsOf(tw.World)) != 0 {
		t.Fatalf("after Stop, HealAll, RestartAll: %d down, %d paused, cuts %v",
			tw.downServers(), pausedServers(tw), cutsOf(tw.World))
	}
	for _, a := range tw.Servers() {
		for _, b := range tw.Servers() {
			if tw.IsClogged(a, b) || tw.Link(a, b) != tw.DefaultLink() {
				t.Fatalf("after HealAll: link %v->%v clogged or changed", a, b)
			}
		}
	}
	local := make([]sim.Time, len(tw.Servers()))
	for i, id := range tw.Servers() {
		local[i] = tw.LocalTime(id)
	}
	tw.run(t, Duration(tw.Now())+ms)
	for i, id := range tw.Servers() {
		if d := tw.LocalTime(id).Sub(local[i]); d != time.Millisecond {
			t.Fatalf("after HealAll: %v's clock moved %v in 1ms", id, d)
		}
	}
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
