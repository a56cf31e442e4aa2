package sim

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// timerLog records every timer that fires, as "kind@time".
type timerLog struct{ fired []string }

func (l *timerLog) add(env Env, k TimerKind) {
	l.fired = append(l.fired, string(rune('0'+k))+"@"+env.Now().String())
}

func TestTimers(t *testing.T) {
	tests := []struct {
		name  string
		start func(env Env)
		want  []string
	}{
		{"fires once", func(env Env) { env.SetTimer(1, 5*time.Millisecond) }, []string{"1@5ms"}},
		{"set again replaces a sooner one", func(env Env) {
			env.SetTimer(1, 10*time.Millisecond)
			env.SetTimer(1, 20*time.Millisecond)
		}, []string{"1@20ms"}},
		{"set again replaces a later one", func(env Env) {
			env.SetTimer(1, 20*time.Millisecond)
			env.SetTimer(1, 5*time.Millisecond)
		}, []string{"1@5ms"}},
		{"cancel cancels", func(env Env) {
			env.SetTimer(1, 5*time.Millisecond)
			env.CancelTimer(1)
		}, nil},
		{"cancel of an unset kind is harmless", func(env Env) { env.CancelTimer(3) }, nil},
		{"set after cancel arms again", func(env Env) {
			env.SetTimer(1, 5*time.Millisecond)
			env.CancelTimer(1)
			env.SetTimer(1, 7*time.Millisecond)
		}, []string{"1@7ms"}},
		{"kinds are independent", func(env Env) {
			env.SetTimer(2, 8*time.Millisecond)
			env.SetTimer(1, 5*time.Millisecond)
			env.CancelTimer(3)
		}, []string{"1@5ms", "2@8ms"}},
		{"negative duration fires now", func(env Env) { env.SetTimer(1, -time.Second) }, []string{"1@0s"}},
		{"ties fire in the order set", func(env Env) {
			env.SetTimer(2, time.Millisecond)
			env.SetTimer(1, time.Millisecond)
		}, []string{"2@1ms", "1@1ms"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log timerLog
			w := newTestWorld(t, Config{Seed: 1})
			w.AddServer(nodeOf(funcNode{start: tt.start, timer: log.add}))
			assert.Equal(t, Reached, w.RunUntil(ms(100)))
			assert.Equal(t, tt.want, log.fired)
		})
	}
}

func TestCancelFromAnotherHandler(t *testing.T) {
	var log timerLog
	w := newTestWorld(t, Config{Seed: 1, Link: constLink(time.Millisecond)})
	w.AddServer(nodeOf(funcNode{
		start:   func(env Env) { env.SetTimer(0, 10*time.Millisecond) },
		receive: func(env Env, _ NodeID, _ Message) { env.CancelTimer(0) },
		timer:   log.add,
	}))
	w.AddServer(sendsAtStart(0, testMsg{}))
	w.RunUntil(ms(50))
	assert.Empty(t, log.fired)
}

func TestTimerKindOutOfRangeIsAProtocolCrash(t *testing.T) {
	for _, tt := range []struct {
		name string
		call func(env Env)
	}{
		{"set", func(env Env) { env.SetTimer(MaxTimerKinds, time.Second) }},
		{"cancel", func(env Env) { env.CancelTimer(MaxTimerKinds + 1) }},
		{"send to unknown node", func(env Env) { env.Send(5, testMsg{}) }},
		{"send to None", func(env Env) { env.Send(None, testMsg{}) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := newTestWorld(t, Config{Seed: 1})
			w.AddServer(nodeOf(funcNode{start: tt.call}))
			assert.Equal(t, Crashed, w.RunUntil(ms(1)))
			assert.Contains(t, w.Result().Crash.Value, "sim: ")
		})
	}
}

// restartable is a node that counts its instances and what happens to them.
type restartable struct {
	built   int
	started []int // instance number of each Start call
	fired   []Time
}

func (r *restartable) factory() Factory {
	return func(NodeID) Node {
		r.built++
		inst := r.built
		return &funcNode{
			start: func(env Env) {
				r.started = append(r.started, inst)
				if inst == 1 { // only the first instance arms a timer
					env.SetTimer(0, 10*time.Millisecond)
				}
			},
			timer: func(env Env, _ TimerKind) { r.fired = append(r.fired, env.Now()) },
		}
	}
}

func TestCrashAndRestart(t *testing.T) {
	var r restartable
	w, buf := tracedWorld(t, Config{Seed: 1})
	id := w.AddServer(r.factory())
	var before Node
	w.At(ms(4), "look", func() { before = w.Node(id) })
	w.At(ms(5), "crash", func() { w.Crash(id) })
	w.At(ms(6), "check down", func() {
		assert.False(t, w.Up(id))
		assert.Nil(t, w.Node(id))
	})
	w.At(ms(7), "restart", func() { w.Restart(id) })
	w.RunUntil(ms(50))

	assert.Equal(t, 2, r.built, "the factory builds the restarted instance")
	assert.Equal(t, []int{1, 2}, r.started, "each instance is started once")
	assert.Empty(t, r.fired, "the timer of the crashed incarnation never fires")
	assert.True(t, w.Up(id))
	require.NotNil(t, before)
	assert.NotSame(t, before, w.Node(id), "a new instance")

	recs := records(t, w, buf)
	starts := ofKind(recs, "start")
	require.Len(t, starts, 2)
	assert.Equal(t, ms(7), starts[1].T, "the new instance starts at the restart time")
	require.Len(t, ofKind(recs, "crash"), 1)
	require.Len(t, ofKind(recs, "restart"), 1)
}

func TestCrashAndRestartAreIdempotent(t *testing.T) {
	var r restartable
	w := newTestWorld(t, Config{Seed: 1})
	id := w.AddServer(r.factory())
	w.RunUntil(ms(1))
	events := w.Events()
	w.Restart(id) // running: nothing happens
	assert.Equal(t, events, w.Events())
	assert.Equal(t, 1, r.built)
	w.Crash(id)
	events = w.Events()
	w.Crash(id) // already down: nothing happens
	assert.Equal(t, events, w.Events())
}

func TestCrashThenQuickRestartStartsOnlyTheNewest(t *testing.T) {
	// Crash and restart twice at the same instant: the start event of the
	// middle incarnation must not run.
	var r restartable
	w := newTestWorld(t, Config{Seed: 1})
	id := w.AddServer(r.factory())
	w.At(ms(1), "flap", func() {
		w.Crash(id)
		w.Restart(id)
		w.Crash(id)
		w.Restart(id)
	})
	w.RunUntil(ms(5))
	assert.Equal(t, 3, r.built)
	assert.Equal(t, []int{1, 3}, r.started)
}

func TestMessagesToADownNodeAreDropped(t *testing.T) {
	w, buf := tracedWorld(t, Config{Seed: 1, Link: constLink(time.Millisecond)})
	rec := oneMessage(w)
	w.At(0, "crash", func() { w.Crash(1) }) // before the node's start event

	w.RunUntil(ms(5))
	assert.Empty(t, rec.got)
	assert.Equal(t, []string{"target-down"}, dropReasons(records(t, w, buf)))
}

func TestNodeRandPersistsAcrossRestarts(t *testing.T) {
	var got []uint64
	w := newTestWorld(t, Config{Seed: 21})
	id := w.AddServer(nodeOf(funcNode{start: func(env Env) { got = append(got, env.Rand().Uint64()) }}))
	w.At(ms(1), "crash", func() { w.Crash(id) })
	w.At(ms(2), "restart", func() { w.Restart(id) })
	w.RunUntil(ms(3))
	want := draws(NewStreams(21).Stream("node/0"), 2)
	assert.Equal(t, want, got, "the restarted instance continues the node's stream")
}

func TestEnvBasics(t *testing.T) {
	type seen struct {
		id      NodeID
		servers []NodeID
		disk    bool
	}
	var got []seen
	look := nodeOf(funcNode{start: func(env Env) {
		got = append(got, seen{env.ID(), env.Servers(), env.Disk() != nil})
	}})
	w := newTestWorld(t, Config{Seed: 1})
	w.AddServer(look)
	w.AddServer(look)
	w.AddClient(look)
	w.RunUntil(0)
	servers := []NodeID{0, 1}
	assert.Equal(t, []seen{{0, servers, true}, {1, servers, true}, {2, servers, false}}, got)
	assert.Equal(t, servers, w.Servers())
	assert.Equal(t, []NodeID{2}, w.Clients())
	assert.Nil(t, w.Disk(2))
	assert.Panics(t, func() { w.AddClient(look) }, "no nodes after the start")
}

func TestAddServerAfterClientPanics(t *testing.T) {
	w := newTestWorld(t, Config{Seed: 1})
	w.AddClient(idle())
	assert.Panics(t, func() { w.AddServer(idle()) })
}

func TestPanickingHandler(t *testing.T) {
	var observed []Observation
	var rec recorder
	w, buf := tracedWorld(t, Config{Seed: 1, Link: constLink(time.Millisecond)})
	w.OnObservation(func(o Observation) { observed = append(observed, o) })
	w.AddServer(nodeOf(funcNode{receive: func(env Env, from NodeID, _ Message) {
		env.Send(from, testMsg{n: 99})
		env.SetTimer(0, time.Millisecond)
		env.Observe(Observation{Kind: ObsNote, Text: "before the panic"})
		env.Disk().Put("k", []byte("v"))
		panic("boom")
	}}))
	w.AddServer(nodeOf(funcNode{
		start:   func(env Env) { env.Send(0, testMsg{n: 1}) },
		receive: rec.node()(1).Receive,
	}))

	assert.Equal(t, Crashed, w.RunUntil(ms(10)))
	res := w.Result()
	assert.Equal(t, Crashed, res.Outcome)
	require.NotNil(t, res.Crash)
	c := res.Crash
	assert.Equal(t, NodeID(0), c.Node)
	assert.Equal(t, "boom", c.Value)
	assert.Equal(t, ms(1), c.At)
	assert.Contains(t, c.Stack, "TestPanickingHandler", "the stack names the handler")
	assert.NotContains(t, c.Stack, "runtime/debug.Stack", "the recover's frames are left out")
	assert.Contains(t, c.Stack, "sim.(*World).call(", "down to the kernel's call of the handler")
	assert.NotContains(t, c.Stack, "sim.(*World).RunUntil", "and no further")
	assert.Contains(t, c.Error(), "node n0 panicked at event")

	recs := records(t, w, buf)
	require.Equal(t, uint64(len(recs)), res.Events)
	last := recs[len(recs)-1]
	assert.Equal(t, "deliver", last.Kind, "nothing of the handler's effects reached the trace")
	assert.Equal(t, last.I, c.Event, "Crash.Event is the delivery being handled")
	assert.Equal(t, c.Recent[len(c.Recent)-1], "1000000 deliver n0 n1 test n=1")

	assert.Empty(t, observed, "observations of the panicking handler are discarded")
	assert.Empty(t, rec.got, "sends of the panicking handler are discarded")
	assert.Equal(t, uint64(1), res.Messages.Sent)
	v, ok := w.Disk(0).Get("k")
	assert.True(t, ok && string(v) == "v", "disk writes take effect at once (documented)")

	// The run stays over: continuing does nothing.
	events := res.Events
	assert.Equal(t, Crashed, w.RunUntil(ms(100)))
	assert.Equal(t, events, w.Events())
}

func TestPanicWithErrorValue(t *testing.T) {
	w := newTestWorld(t, Config{Seed: 1})
	w.AddServer(nodeOf(funcNode{start: func(Env) { panic(assert.AnError) }}))
	w.RunUntil(ms(1))
	require.NotNil(t, w.Result().Crash)
	assert.Equal(t, assert.AnError.Error(), w.Result().Crash.Value)
	assert.Equal(t, uint64(1), w.Result().Crash.Event)
}

// TestHugePanicValueIsCut: a panic's value of any size is kept to
// MaxPanicValue bytes, with the size of what was left out, so that a report
// carrying it stays readable.
func TestHugePanicValueIsCut(t *testing.T) {
	w := newTestWorld(t, Config{Seed: 1})
	w.AddServer(nodeOf(funcNode{start: func(Env) { panic(strings.Repeat("é", 1<<20)) }}))
	w.RunUntil(ms(1))
	v := w.Result().Crash.Value
	assert.True(t, strings.HasSuffix(v, fmt.Sprintf("... (%d bytes more)", 2<<20-MaxPanicValue)), v[len(v)-40:])
	assert.True(t, utf8.ValidString(v), "no character split")
	assert.Equal(t, "short", PanicValue("short"))
}

func TestObservations(t *testing.T) {
	var observed []Observation
	w, buf := tracedWorld(t, Config{Seed: 1})
	w.OnObservation(func(o Observation) { observed = append(observed, o) })
	w.AddServer(idle())
	w.AddServer(nodeOf(funcNode{start: func(env Env) {
		env.Observe(Observation{Kind: ObsLeader, Term: 3, Node: 42}) // Node is overwritten
		env.Observe(Observation{Kind: ObsCommit, Term: 3, Index: 7, Digest: 0xbeef})
		env.Observe(Observation{Kind: ObsApply, Term: 3, Index: 7, Digest: 0xbeef})
		env.Observe(Observation{Kind: ObsNote, Text: "hello"})
		env.Observe(Observation{Kind: 77})
	}}))
	w.RunUntil(0)
	require.Len(t, observed, 5)
	for _, o := range observed {
		assert.Equal(t, NodeID(1), o.Node, "the kernel fills in the observer")
	}
	var details []string
	for _, r := range ofKind(records(t, w, buf), "obs") {
		details = append(details, r.Detail)
	}
	assert.Equal(t, []string{
		"leader term=3",
		"commit term=3 index=7 digest=beef",
		"apply term=3 index=7 digest=beef",
		"note hello",
		"obs77",
	}, details)
	assert.Equal(t, "call", ObsCall.String())
	assert.Equal(t, "return", ObsReturn.String())
}

func TestTimeFormatting(t *testing.T) {
	assert.Equal(t, "1.5s", Time(1500*time.Millisecond).String())
	assert.Equal(t, "forever", Forever.String())
	assert.Equal(t, ms(3), ms(1).Add(2*time.Millisecond))
	assert.Equal(t, 2*time.Millisecond, ms(3).Sub(ms(1)))
	assert.Equal(t, "n3", NodeID(3).String())
	assert.Equal(t, "n-1", None.String())
	assert.True(t, strings.HasPrefix(Outcome(99).String(), "outcome("))
}

// TestHugeTimerNeverMovesTheClockBack: a timer set "for ever" with the largest
// duration must not overflow into the past.
func TestHugeTimerNeverMovesTheClockBack(t *testing.T) {
	var log timerLog
	w := newTestWorld(t, Config{Seed: 1})
	w.AddServer(nodeOf(funcNode{
		start: func(env Env) { env.SetTimer(0, time.Millisecond) },
		timer: func(env Env, k TimerKind) {
			log.add(env, k)
			env.SetTimer(1, time.Duration(1<<63-1))
		},
	}))
	assert.Equal(t, Reached, w.RunUntil(ms(10)))
	assert.Equal(t, []string{"0@1ms"}, log.fired)
	assert.Equal(t, ms(10), w.Now())
}

// TestAddingNodesAfterAControlCallPanics: the network is sized by the first
// control call, so a node added later would index past it.
func TestAddingNodesAfterAControlCallPanics(t *testing.T) {
	w := newTestWorld(t, Config{Seed: 1})
	w.AddServer(idle())
	w.Cut(0, 0)
	assert.PanicsWithValue(t, "sim: add every node before the first control call (Cut, Partition, SetLink, ...)",
		func() { w.AddServer(idle()) })
}

func TestTimeAddSaturates(t *testing.T) {
	assert.Equal(t, Forever, Time(1).Add(time.Duration(1<<63-1)))
	assert.Equal(t, Forever, Forever.Add(time.Nanosecond))
	assert.Equal(t, Forever, (Forever - 5).Add(5))
	assert.Equal(t, Time(7), Time(10).Add(-3))
}

// TestHandlerStackKeepsAStackOfAnotherShapeWhole: a stack without the
// panic and the kernel's call frames is not cut.
func TestHandlerStackKeepsAStackOfAnotherShapeWhole(t *testing.T) {
	odd := "goroutine 1 [running]:\nmain.f()\n\t/x.go:1 +0x1\n"
	assert.Equal(t, odd, handlerStack(odd))
}

// TestCutStack: the frames from the one that panicked down to the caller
// named are kept; a panic with no such caller below it, and a panic raised
// again in a deferred call, keep the right frames or the whole stack.
func TestCutStack(t *testing.T) {
	const head = "goroutine 7 [running]:\nruntime/debug.Stack()\n\t/go/debug/stack.go:26 +0x5e\nrecoverer()\n\t/x/r.go:3 +0x1\npanic({0x1, 0x2})\n\t/go/runtime/panic.go:792 +0x132\n"
	const mine = "my.(*node).Receive()\n\t/my/node.go:40 +0x10\n"
	const caller = "github.com/simrun/simrun/sim.(*World).call(0x1)\n\t/sim/world.go:462 +0xb7\n"
	const below = "github.com/simrun/simrun/sim.(*World).step()\n\t/sim/world.go:300 +0x1\n"
	cut := CutStack(head+mine+caller+below, "github.com/simrun/simrun/sim.(*World).call")
	assert.Equal(t, "goroutine 7 [running]:\n"+mine+caller+"\t(the frames below are simrun's: left out)\n", cut)

	noCaller := head + mine + below
	assert.Equal(t, noCaller, CutStack(noCaller, "github.com/simrun/simrun/sim.(*World).call"))

	// A deferred call that panics again: the stack holds two panic lines;
	// the cut starts after the first, so the deferred frames are kept.
	again := head + "my.cleanup()\n\t/my/node.go:50 +0x1\npanic({0x3, 0x4})\n\t/go/runtime/panic.go:792 +0x132\n" + mine + caller + below
	cut = CutStack(again, "github.com/simrun/simrun/sim.(*World).call")
	assert.Contains(t, cut, "my.cleanup()")
	assert.Contains(t, cut, "my.(*node).Receive()")
	assert.NotContains(t, cut, "sim.(*World).step")
}

// TestNilInstanceIsNamed: a Factory that returns a nil Node crashes the run
// at the node's first event with a value that says so, not a nil pointer
// dereference inside the kernel.
func TestNilInstanceIsNamed(t *testing.T) {
	w := newTestWorld(t, Config{Seed: 1})
	w.AddServer(func(NodeID) Node { return nil })
	assert.Equal(t, Crashed, w.RunUntil(ms(1)))
	require.NotNil(t, w.Result().Crash)
	assert.Equal(t, "sim: n0 has no instance: its Factory returned a nil Node", w.Result().Crash.Value)
}
