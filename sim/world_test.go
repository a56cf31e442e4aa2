package sim

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pingPongWorld builds a small world whose run depends on the seed: n0 serves
// three balls to n1 and re-serves one every 10ms; every ball is returned with
// its count bumped, over a lossy, duplicating link with variable latency.
func pingPongWorld(t testing.TB, seed uint64, trace *bytes.Buffer) *World {
	cfg := Config{Seed: seed, Link: Link{LatencyMin: time.Millisecond, LatencyMax: 5 * time.Millisecond,
		Drop: 0.1, Duplicate: 0.1}}
	if trace != nil {
		cfg.Trace = trace
	}
	w := newTestWorld(t, cfg)
	bounce := func(env Env, from NodeID, m Message) {
		n := m.(testMsg).n
		if n%7 == 0 {
			env.Observe(Observation{Kind: ObsNote, Text: "multiple of seven"})
		}
		env.Send(from, testMsg{n: n + 1})
	}
	w.AddServer(nodeOf(funcNode{
		start: func(env Env) {
			for i := range 3 {
				env.Send(1, testMsg{n: i * 1000})
			}
			env.SetTimer(0, 10*time.Millisecond)
		},
		receive: bounce,
		timer: func(env Env, _ TimerKind) {
			env.Send(1, testMsg{n: env.Rand().IntN(100)})
			env.SetTimer(0, 10*time.Millisecond)
		},
	}))
	w.AddServer(nodeOf(funcNode{receive: bounce}))
	return w
}

func TestSameSeedSameHash(t *testing.T) {
	for _, seed := range []uint64{0, 1, 2, 99} {
		t.Run("seed="+itoa(seed), func(t *testing.T) {
			var traceA, traceB bytes.Buffer
			a, b := pingPongWorld(t, seed, &traceA), pingPongWorld(t, seed, &traceB)
			a.RunUntil(ms(200))
			b.RunUntil(ms(200))
			require.NoError(t, a.FlushTrace())
			require.NoError(t, b.FlushTrace())
			assert.Equal(t, a.Result(), b.Result())
			assert.Equal(t, traceA.String(), traceB.String())
			assert.Greater(t, a.Result().Events, uint64(100))
		})
	}
}

func TestDifferentSeedDifferentHash(t *testing.T) {
	seen := map[uint64]uint64{}
	for seed := uint64(0); seed < 20; seed++ {
		w := pingPongWorld(t, seed, nil)
		w.RunUntil(ms(200))
		h := w.Result().Hash
		prev, dup := seen[h]
		require.False(t, dup, "seeds %d and %d give the same hash %x", prev, seed, h)
		seen[h] = seed
	}
}

func TestHashDoesNotDependOnTheTraceSink(t *testing.T) {
	var buf bytes.Buffer
	traced, plain := pingPongWorld(t, 5, &buf), pingPongWorld(t, 5, nil)
	traced.RunUntil(ms(100))
	plain.RunUntil(ms(100))
	assert.Equal(t, plain.Result(), traced.Result())
}

func TestHashSeesEveryControlAction(t *testing.T) {
	base := pingPongWorld(t, 5, nil)
	base.RunUntil(ms(100))
	with := pingPongWorld(t, 5, nil)
	with.At(ms(50), "nothing", func() {})
	with.RunUntil(ms(100))
	assert.NotEqual(t, base.Result().Hash, with.Result().Hash, "a control line changes the hash")
}

func TestTraceJSONL(t *testing.T) {
	var buf bytes.Buffer
	w := pingPongWorld(t, 3, &buf)
	w.At(ms(20), "partition", func() { w.Partition([]NodeID{0}, []NodeID{1}) })
	w.At(ms(30), "heal", w.HealAll)
	w.At(ms(40), "crash", func() { w.Crash(1) })
	w.At(ms(50), "restart", func() { w.Restart(1) })
	w.At(ms(60), "link", func() { require.NoError(t, w.SetLink(0, 1, constLink(time.Millisecond))) })
	w.RunUntil(ms(100))
	require.NoError(t, w.FlushTrace())

	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	require.Equal(t, w.Result().Events, uint64(len(lines)), "one line per event")
	kinds := map[string]bool{}
	prevT := Time(-1)
	for i, line := range lines {
		require.True(t, json.Valid([]byte(line)), "line %d is not JSON: %s", i+1, line)
		var r TraceRecord
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		require.NoError(t, dec.Decode(&r), "line %d: %s", i+1, line)
		assert.Equal(t, uint64(i+1), r.I, "lines are numbered from 1")
		assert.GreaterOrEqual(t, r.T, prevT, "time never goes back")
		assert.NotContains(t, line, "0x", "no pointers in traces")
		prevT = r.T
		kinds[r.Kind] = true
	}
	for _, k := range []string{"start", "send", "deliver", "drop", "timer", "obs", "control",
		"cut", "heal", "crash", "restart", "link"} {
		assert.True(t, kinds[k], "the trace has a %q line", k)
	}
}

func TestTraceEscapesDetail(t *testing.T) {
	var buf bytes.Buffer
	w := newTestWorld(t, Config{Seed: 1, Trace: &buf})
	w.AddServer(nodeOf(funcNode{start: func(env Env) {
		env.Observe(Observation{Kind: ObsNote, Text: "quote\" backslash\\ tab\t newline\n"})
	}}))
	w.RunUntil(0)
	recs := records(t, w, &buf)
	notes := ofKind(recs, "obs")
	require.Len(t, notes, 1)
	assert.Equal(t, "note quote\" backslash\\ tab\t newline\n", notes[0].Detail)
}

// failingWriter fails every write.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, assert.AnError }

func TestFlushTraceReportsWriteErrors(t *testing.T) {
	w := newTestWorld(t, Config{Seed: 1, Trace: failingWriter{}})
	w.AddServer(sendsAtStart(0, numbered(5000)...)) // more than the sink's buffer
	w.RunUntil(ms(1))
	assert.ErrorIs(t, w.FlushTrace(), assert.AnError)
	assert.NoError(t, newTestWorld(t, Config{}).FlushTrace(), "no sink, nothing to flush")
}

func TestMaxEventsYieldsEventLimit(t *testing.T) {
	w := newTestWorld(t, Config{Seed: 1, MaxEvents: 100})
	w.AddServer(nodeOf(funcNode{ // re-arms forever
		start: func(env Env) { env.SetTimer(0, time.Millisecond) },
		timer: func(env Env, _ TimerKind) { env.SetTimer(0, time.Millisecond) },
	}))
	assert.Equal(t, EventLimit, w.RunUntil(Forever))
	assert.Equal(t, uint64(100), w.Events())
	assert.Equal(t, EventLimit, w.Result().Outcome)
	assert.Equal(t, EventLimit, w.RunUntil(Forever), "continuing stays at the limit")
	assert.Equal(t, uint64(100), w.Events())
}

// TestPendingEventsAreBounded: a node whose timer sends faster than the
// network delivers piles up messages in flight; the run stops with a reason
// instead of growing the queue until memory runs out.
func TestPendingEventsAreBounded(t *testing.T) {
	defer func(was int) { maxPending = was }(maxPending)
	maxPending = 1000
	w := newTestWorld(t, Config{Seed: 1, Link: Link{LatencyMin: time.Millisecond, LatencyMax: time.Millisecond}})
	w.AddServer(flooder(time.Nanosecond))
	w.AddServer(idle())
	assert.Equal(t, Stopped, w.RunUntil(Forever))
	assert.Contains(t, w.Result().StopReason, "more than 1000 events pending at once")
	assert.Less(t, w.Now(), ms(1), "stopped before the first message arrived")
}

// flooder is a node that sends to node 1 every d, on its timer.
func flooder(d time.Duration) Factory {
	return nodeOf(funcNode{
		start: func(env Env) { env.SetTimer(0, d) },
		timer: func(env Env, _ TimerKind) {
			env.Send(1, testMsg{})
			env.SetTimer(0, d)
		},
	})
}

// TestRunUntilAndResultAgreeAtTheBound: a run that does exactly MaxEvents
// events and then runs out of work was not cut short; RunUntil and Result must
// tell the same story.
func TestRunUntilAndResultAgreeAtTheBound(t *testing.T) {
	// Two events: the start at 0 and one timer at 2ms; then nothing is queued.
	w := newTestWorld(t, Config{Seed: 1, MaxEvents: 2})
	w.AddServer(nodeOf(funcNode{start: func(env Env) { env.SetTimer(0, 2*time.Millisecond) }}))
	got := w.RunUntil(ms(10))
	assert.Equal(t, uint64(2), w.Events())
	assert.Equal(t, Reached, got)
	assert.Equal(t, got, w.Result().Outcome)
}

// TestEventLimitOnlyWithWorkLeftBeforeTheDeadline: the bound is judged only
// when there is an event to run before the deadline.
func TestEventLimitOnlyWithWorkLeftBeforeTheDeadline(t *testing.T) {
	w := newTestWorld(t, Config{Seed: 1, MaxEvents: 2})
	w.AddServer(nodeOf(funcNode{start: func(env Env) {
		env.SetTimer(0, 2*time.Millisecond)
		env.SetTimer(1, 5*time.Millisecond)
	}}))
	assert.Equal(t, Reached, w.RunUntil(ms(3)))
	assert.Equal(t, Reached, w.Result().Outcome)
	assert.Equal(t, ms(3), w.Now())
	assert.Equal(t, EventLimit, w.RunUntil(ms(10)))
	assert.Equal(t, EventLimit, w.Result().Outcome)
	assert.Equal(t, ms(3), w.Now(), "the clock stays where the bound struck")
}

func TestDefaultMaxEvents(t *testing.T) {
	w := newTestWorld(t, Config{})
	assert.Equal(t, uint64(DefaultMaxEvents), w.cfg.MaxEvents)
}

func TestRunUntilAdvancesTheClock(t *testing.T) {
	t.Run("empty world", func(t *testing.T) {
		w := newTestWorld(t, Config{Seed: 1})
		assert.Equal(t, Reached, w.RunUntil(ms(5000)))
		assert.Equal(t, ms(5000), w.Now())
		assert.Equal(t, Reached, w.RunUntil(ms(1000)), "an earlier deadline does not move time back")
		assert.Equal(t, ms(5000), w.Now())
	})
	t.Run("events after the deadline wait", func(t *testing.T) {
		var log timerLog
		w := newTestWorld(t, Config{Seed: 1})
		w.AddServer(nodeOf(funcNode{
			start: func(env Env) { env.SetTimer(0, 10*time.Millisecond); env.SetTimer(1, 20*time.Millisecond) },
			timer: log.add,
		}))
		assert.Equal(t, Reached, w.RunUntil(ms(10)))
		assert.Equal(t, []string{"0@10ms"}, log.fired, "an event at the deadline runs")
		assert.Equal(t, ms(10), w.Now())
		assert.Equal(t, Reached, w.RunUntil(ms(15)))
		assert.Equal(t, ms(15), w.Now())
		assert.Len(t, log.fired, 1)
		assert.Equal(t, Reached, w.RunUntil(ms(30)))
		assert.Equal(t, []string{"0@10ms", "1@20ms"}, log.fired)
		assert.Equal(t, ms(30), w.Now())
	})
}

func TestStop(t *testing.T) {
	var log timerLog
	w := newTestWorld(t, Config{Seed: 1})
	w.AddServer(nodeOf(funcNode{
		start: func(env Env) {
			env.Observe(Observation{Kind: ObsNote, Text: "a"})
			env.SetTimer(0, time.Millisecond)
		},
		timer: log.add,
	}))
	w.OnObservation(func(o Observation) {
		w.Stop("saw " + o.Text)
		w.Stop("a second reason is ignored")
	})
	assert.Equal(t, Stopped, w.RunUntil(ms(10)))
	res := w.Result()
	assert.Equal(t, Stopped, res.Outcome)
	assert.Equal(t, "saw a", res.StopReason)
	assert.Empty(t, log.fired, "no event after the stopping one")
	assert.Equal(t, Time(0), w.Now(), "the clock stays at the stopping event")
	assert.Equal(t, Stopped, w.RunUntil(ms(20)))
}

func TestStopFromControl(t *testing.T) {
	w := newTestWorld(t, Config{Seed: 1})
	w.AddServer(idle())
	w.At(ms(3), "stop", func() { w.Stop("enough") })
	assert.Equal(t, Stopped, w.RunUntil(ms(10)))
	assert.Equal(t, ms(3), w.Now())
}

func TestAtOrdering(t *testing.T) {
	var order []string
	w := newTestWorld(t, Config{Seed: 1})
	w.At(ms(2), "b", func() { order = append(order, "b@"+w.Now().String()) })
	w.At(ms(1), "a", func() {
		order = append(order, "a@"+w.Now().String())
		w.At(0, "past", func() { order = append(order, "past@"+w.Now().String()) })
	})
	w.At(ms(2), "c", func() { order = append(order, "c@"+w.Now().String()) })
	w.RunUntil(ms(5))
	assert.Equal(t, []string{"a@1ms", "past@1ms", "b@2ms", "c@2ms"}, order,
		"same-time actions run in scheduling order; a past time means now")
}

func TestOutcomeNames(t *testing.T) {
	for o, name := range map[Outcome]string{Reached: "reached", EventLimit: "event-limit", Stopped: "stopped", Crashed: "crashed"} {
		assert.Equal(t, name, o.String())
	}
}

func TestRecentTraceKeepsTheLastLines(t *testing.T) {
	w := newTestWorld(t, Config{Seed: 1})
	w.AddServer(sendsAtStart(0, numbered(100)...))
	w.RunUntil(ms(1))
	recent := w.RecentTrace()
	require.Len(t, recent, recentLines)
	assert.Equal(t, "0 deliver n0 n0 test n=100", recent[len(recent)-1])
	assert.Equal(t, "0 deliver n0 n0 test n=69", recent[0])
}

// Incarnation counts the crashes and restarts: a crash alone changes it, so
// an observer comparing it to the value it saw before can tell that a
// server crashed while it is still down.
func TestIncarnationCountsCrashesAndRestarts(t *testing.T) {
	w := newTestWorld(t, Config{Seed: 1})
	id := w.AddServer(idle())
	w.RunUntil(Time(time.Millisecond))
	start := w.Incarnation(id)
	w.Crash(id)
	require.Equal(t, start+1, w.Incarnation(id), "a crash is a new incarnation")
	w.Restart(id)
	require.Equal(t, start+2, w.Incarnation(id), "so is a restart")
}

// An observer that crashes the observing node ends the step there, as a
// torn step does (TestAnObserverCrashInsideATornStepStands): the handler's
// later sends never leave.
func TestAnObserverCrashEndsTheStep(t *testing.T) {
	var rec recorder
	w := newTestWorld(t, Config{Seed: 1, Link: constLink(time.Millisecond)})
	w.AddServer(nodeOf(funcNode{
		start: func(env Env) {
			env.Observe(Observation{Kind: ObsLeader, Term: 1})
			env.Send(1, testMsg{n: 7})
			env.SetTimer(5, 10*time.Millisecond)
		},
	}))
	w.AddServer(rec.node())
	crashOnFirstLeader(w)
	w.RunUntil(ms(5))
	require.False(t, w.Up(0))
	require.Empty(t, rec.got, "a node crashed at its observation sent nothing after it")
}

// crashOnFirstLeader crashes the first node to announce itself leader, from
// the observer: inside that node's step.
func crashOnFirstLeader(w *World) {
	crashed := false
	w.OnObservation(func(o Observation) {
		if o.Kind == ObsLeader && !crashed {
			crashed = true
			w.Crash(o.Node)
		}
	})
}

// Nor is the handler's later timer armed: were it marked pending, a clock
// step on the restarted instance would rearm, for the new instance, a timer
// it never set.
func TestAnObserverCrashLeavesNoTimerToTheNextInstance(t *testing.T) {
	timerFired := 0
	w := newTestWorld(t, Config{Seed: 1, Link: constLink(time.Millisecond)})
	w.AddServer(nodeOf(funcNode{
		start: func(env Env) {
			if env.Disk().Unsynced() == 0 && !started(env) {
				env.Observe(Observation{Kind: ObsLeader, Term: 1})
				env.SetTimer(5, 10*time.Millisecond)
			}
		},
		timer: func(env Env, k TimerKind) { timerFired++ },
	}))
	crashOnFirstLeader(w)
	w.RunUntil(ms(5))
	require.False(t, w.Up(0))
	// Restart: the new instance never set timer 5; a clock step rearms the
	// pending timers the kernel thinks it has.
	w.At(ms(6), "restart", func() { w.Restart(0) })
	w.At(ms(7), "skew", func() { w.SkewClock(0, time.Millisecond) })
	w.RunUntil(ms(100))
	require.True(t, w.Up(0))
	require.Zero(t, timerFired, "the new instance never set timer 5; it must not fire")
}

// started marks the node's disk on the first Start, so a restarted instance
// knows it is not the first.
func started(env Env) bool {
	_, ok := env.Disk().Get("started")
	env.Disk().Put("started", nil)
	env.Disk().Sync()
	return ok
}

// MaxPendingEvents bounds what a run keeps pending, the deliveries held for
// a paused node (or a clogged link) among them, so that memory cannot run
// out (TestPendingEventsAreBounded).
func TestHeldEventsCountTowardThePendingBound(t *testing.T) {
	defer func(was int) { maxPending = was }(maxPending)
	maxPending = 1000
	w := newTestWorld(t, Config{Seed: 1, Link: constLink(time.Microsecond)})
	w.AddServer(flooder(time.Microsecond))
	w.AddServer(idle())
	w.At(ms(1), "pause n1", func() { w.Pause(1) })
	require.Equal(t, Stopped, w.RunUntil(ms(100)))
	require.Contains(t, w.Result().StopReason, "more than 1000 events pending")
	require.Equal(t, w.Held(), w.held)
	require.LessOrEqual(t, w.Held()+w.q.Len(), 1001, "what the run keeps pending, held or queued, stays bounded")
}

// Operate from an observer would run a handler inside another's step, ahead
// of that step's later effects: it panics, saying where to call it from.
func TestOperateFromAnObserverPanics(t *testing.T) {
	w := newTestWorld(t, Config{Seed: 1, Link: constLink(time.Millisecond)})
	w.AddServer(nodeOf(funcNode{
		start: func(env Env) { env.Observe(Observation{Kind: ObsLeader, Term: 1}) },
	}))
	w.AddServer(func(NodeID) Node { return &operableNode{} })
	w.OnObservation(func(Observation) { w.Operate(1, TransferLeadership{To: 0}) })
	require.PanicsWithValue(t, "sim: Operate called inside a node's step (from an observer?): call it from a control action (World.At)",
		func() { w.RunUntil(ms(10)) })
}

// TestControlSlotsAreReused: a control action that ran frees its slot, so a
// long run that schedules one every millisecond keeps a handful, not one
// per action scheduled.
func TestControlSlotsAreReused(t *testing.T) {
	w := newTestWorld(t, Config{Seed: 1})
	w.AddServer(idle())
	ran := 0
	var tick func()
	tick = func() {
		ran++
		w.At(w.Now().Add(time.Millisecond), "tick", tick)
	}
	w.At(0, "tick", tick)
	w.RunUntil(ms(10_000))
	require.Equal(t, 10_001, ran)
	require.LessOrEqual(t, len(w.controls), 2)
}
