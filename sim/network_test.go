package sim

import (
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLatencyWithinBounds(t *testing.T) {
	tests := []struct {
		name     string
		link     Link
		min, max time.Duration // expected bounds of every delivery time
	}{
		{"constant", constLink(3 * time.Millisecond), 3 * time.Millisecond, 3 * time.Millisecond},
		{"zero", Link{}, 0, 0},
		{"uniform", Link{LatencyMin: 2 * time.Millisecond, LatencyMax: 5 * time.Millisecond},
			2 * time.Millisecond, 5 * time.Millisecond},
		{"long tail only adds", Link{LatencyMin: time.Millisecond, LatencyMax: 2 * time.Millisecond,
			TailProb: 1, TailMean: 50 * time.Millisecond}, time.Millisecond, time.Duration(Forever)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const n = 300
			var rec recorder
			w := newTestWorld(t, Config{Seed: 1, Link: tt.link})
			w.AddServer(sendsAtStart(1, numbered(n)...))
			w.AddServer(rec.node())
			w.RunUntil(Forever - 1)
			require.Len(t, rec.got, n)
			for _, d := range rec.got {
				require.GreaterOrEqual(t, d.at.Duration(), tt.min)
				require.LessOrEqual(t, d.at.Duration(), tt.max)
			}
		})
	}
}

func TestLongTailStretchesLatency(t *testing.T) {
	var rec recorder
	link := Link{LatencyMin: time.Millisecond, LatencyMax: time.Millisecond, TailProb: 0.5, TailMean: 100 * time.Millisecond}
	w := newTestWorld(t, Config{Seed: 2, Link: link})
	w.AddServer(sendsAtStart(1, numbered(1000)...))
	w.AddServer(rec.node())
	w.RunUntil(ms(100_000))
	slow := 0
	for _, d := range rec.got {
		if d.at > ms(1) {
			slow++
		}
	}
	assert.InDelta(t, 500, slow, 60, "about half the messages take the tail")
}

func TestReorderingEmergesFromLatency(t *testing.T) {
	var rec recorder
	w := newTestWorld(t, Config{Seed: 3, Link: Link{LatencyMin: time.Millisecond, LatencyMax: 10 * time.Millisecond}})
	w.AddServer(sendsAtStart(1, numbered(50)...))
	w.AddServer(rec.node())
	w.RunUntil(ms(20))
	require.Len(t, rec.got, 50)
	inOrder := true
	for i := 1; i < len(rec.got); i++ {
		inOrder = inOrder && rec.got[i-1].msg.(testMsg).n < rec.got[i].msg.(testMsg).n
	}
	assert.False(t, inOrder, "variable latency reorders messages")
}

func TestDropProbability(t *testing.T) {
	for _, p := range []float64{0, 0.1, 0.5, 1} {
		t.Run("p="+strconv.FormatFloat(p, 'g', -1, 64), func(t *testing.T) {
			const n = 4000
			var rec recorder
			w, buf := tracedWorld(t, Config{Seed: 4, Link: Link{LatencyMin: time.Millisecond, LatencyMax: time.Millisecond, Drop: p}})
			w.AddServer(sendsAtStart(1, numbered(n)...))
			w.AddServer(rec.node())
			w.RunUntil(ms(10))
			st := w.Result().Messages
			assert.Equal(t, uint64(n), st.Sent)
			assert.Equal(t, uint64(n), st.Delivered+st.Dropped)
			assert.Equal(t, int(st.Delivered), len(rec.got))
			assert.InDelta(t, p*n, float64(st.Dropped), 0.03*n)
			for _, reason := range dropReasons(records(t, w, buf)) {
				require.Equal(t, "loss", reason)
			}
		})
	}
}

func TestDuplication(t *testing.T) {
	t.Run("always duplicated delivers the same message twice", func(t *testing.T) {
		var rec recorder
		shared := &pointerMsg{n: 7}
		w := newTestWorld(t, Config{Seed: 5, Link: Link{LatencyMin: time.Millisecond, LatencyMax: 9 * time.Millisecond, Duplicate: 1}})
		w.AddServer(sendsAtStart(1, shared, testMsg{n: 1}))
		w.AddServer(rec.node())
		w.RunUntil(ms(20))
		require.Len(t, rec.got, 4)
		var ptrs, vals int
		for _, d := range rec.got {
			switch m := d.msg.(type) {
			case *pointerMsg:
				assert.Same(t, shared, m, "the very same value, not a copy")
				ptrs++
			case testMsg:
				assert.Equal(t, testMsg{n: 1}, m)
				vals++
			}
			assert.Equal(t, NodeID(0), d.from)
		}
		assert.Equal(t, 2, ptrs)
		assert.Equal(t, 2, vals)
		st := w.Result().Messages
		assert.Equal(t, MessageStats{Sent: 2, Delivered: 4, Duplicated: 2}, st)
	})
	t.Run("rate is roughly respected", func(t *testing.T) {
		const n = 4000
		var rec recorder
		w := newTestWorld(t, Config{Seed: 6, Link: Link{Duplicate: 0.25}})
		w.AddServer(sendsAtStart(1, numbered(n)...))
		w.AddServer(rec.node())
		w.RunUntil(ms(1))
		st := w.Result().Messages
		assert.InDelta(t, 0.25*n, float64(st.Duplicated), 0.03*n)
		assert.Equal(t, n+int(st.Duplicated), len(rec.got))
	})
}

// pointerMsg is a message passed by pointer, to check identity on duplication.
type pointerMsg struct{ n int }

func (m *pointerMsg) AppendTrace(b []byte) []byte { return testMsg{n: m.n}.AppendTrace(b) }

func TestCutDropsAtSend(t *testing.T) {
	w, buf := tracedWorld(t, Config{Seed: 7, Link: constLink(time.Millisecond)})
	rec := oneMessage(w)
	w.Cut(0, 1)
	w.RunUntil(ms(10))
	assert.Empty(t, rec.got)
	recs := records(t, w, buf)
	drops := ofKind(recs, "drop")
	require.Len(t, drops, 1)
	assert.Equal(t, "cut test n=1", drops[0].Detail)
	assert.Equal(t, Time(0), drops[0].T, "dropped at once, when sent")
	assert.Equal(t, NodeID(1), *drops[0].Node, "drop lines name the target first")
	assert.Equal(t, NodeID(0), *drops[0].Peer)
	assert.Equal(t, MessageStats{Sent: 1, Dropped: 1}, w.Result().Messages)
}

func TestCutInFlightDropsOnArrival(t *testing.T) {
	w, buf := tracedWorld(t, Config{Seed: 8, Link: constLink(10 * time.Millisecond)})
	rec := oneMessage(w)
	w.At(ms(5), "cut", func() { w.Cut(0, 1) })
	w.RunUntil(ms(20))
	assert.Empty(t, rec.got)
	drops := ofKind(records(t, w, buf), "drop")
	require.Len(t, drops, 1)
	assert.Equal(t, "cut-in-flight test n=1", drops[0].Detail)
	assert.Equal(t, ms(10), drops[0].T, "dropped when it would have arrived")
}

func TestCutThenUncutBeforeArrivalDelivers(t *testing.T) {
	w := newTestWorld(t, Config{Seed: 8, Link: constLink(10 * time.Millisecond)})
	rec := oneMessage(w)
	w.At(ms(3), "cut", func() { w.Cut(0, 1) })
	w.At(ms(6), "uncut", func() { w.Uncut(0, 1) })
	w.RunUntil(ms(20))
	assert.Len(t, rec.got, 1, "the link is judged on arrival, and it is whole again")
}

func TestOneWayCut(t *testing.T) {
	var rec recorder
	w := newTestWorld(t, Config{Seed: 9, Link: constLink(time.Millisecond)})
	// Both nodes record, and each sends one message to the other at start.
	w.AddServer(rec.pinger(1))
	w.AddServer(rec.pinger(0))
	w.Cut(0, 1)
	assert.True(t, w.IsCut(0, 1))
	assert.False(t, w.IsCut(1, 0))
	w.RunUntil(ms(5))
	require.Len(t, rec.got, 1)
	assert.Equal(t, NodeID(0), rec.got[0].to, "only 1 -> 0 still works")
	assert.Equal(t, NodeID(1), rec.got[0].from)
}

func TestPartitionAndHealAll(t *testing.T) {
	var rec recorder
	w, buf := tracedWorld(t, Config{Seed: 10, Link: constLink(time.Millisecond)})
	// Node 0 sends one message to every other node every 10ms.
	w.AddServer(nodeOf(funcNode{
		start: func(env Env) { env.SetTimer(0, 0) },
		timer: func(env Env, _ TimerKind) {
			for to := NodeID(1); to < 4; to++ {
				env.Send(to, testMsg{n: int(env.Now() / ms(10))})
			}
			env.SetTimer(0, 10*time.Millisecond)
		},
	}))
	w.AddServer(rec.node())
	w.AddServer(rec.node())
	w.AddClient(rec.node()) // in no group: keeps its links
	w.Partition([]NodeID{0}, []NodeID{1, 2})
	for _, c := range [][2]NodeID{{0, 1}, {1, 0}, {0, 2}, {2, 0}} {
		assert.True(t, w.IsCut(c[0], c[1]), "%v", c)
	}
	assert.False(t, w.IsCut(1, 2), "same group")
	assert.False(t, w.IsCut(0, 3), "node in no group")
	w.At(ms(15), "heal", w.HealAll)
	w.RunUntil(ms(25))

	perTarget := map[NodeID][]int{}
	for _, d := range rec.got {
		perTarget[d.to] = append(perTarget[d.to], d.msg.(testMsg).n)
	}
	assert.Equal(t, []int{2}, perTarget[1], "only the send after the heal arrives")
	assert.Equal(t, []int{2}, perTarget[2])
	assert.Equal(t, []int{0, 1, 2}, perTarget[3])
	for _, c := range [][2]NodeID{{0, 1}, {1, 0}, {0, 2}, {2, 0}} {
		assert.False(t, w.IsCut(c[0], c[1]), "%v", c)
	}
	assert.Len(t, ofKind(records(t, w, buf), "heal"), 1)
}

func TestSetLinkAffectsOneDirection(t *testing.T) {
	var rec recorder
	w := newTestWorld(t, Config{Seed: 11, Link: constLink(time.Millisecond)})
	w.AddServer(rec.pinger(1))
	w.AddServer(rec.pinger(0))
	require.NoError(t, w.SetLink(0, 1, Link{Drop: 1}))
	w.RunUntil(ms(5))
	require.Len(t, rec.got, 1)
	assert.Equal(t, delivery{at: ms(1), to: 0, from: 1, msg: testMsg{n: 1}}, rec.got[0])

	assert.Error(t, w.SetLink(0, 1, Link{Drop: 2}))
	assert.Error(t, w.SetAllLinks(Link{LatencyMin: -1}))
	require.NoError(t, w.SetAllLinks(constLink(2*time.Millisecond)))
}

func TestLinkValidate(t *testing.T) {
	tests := []struct {
		name string
		link Link
		ok   bool
	}{
		{"zero", Link{}, true},
		{"typical", Link{LatencyMin: time.Millisecond, LatencyMax: 10 * time.Millisecond, Drop: 0.1, Duplicate: 0.01,
			TailProb: 0.01, TailMean: time.Second}, true},
		{"certain loss", Link{Drop: 1}, true},
		{"negative min", Link{LatencyMin: -1}, false},
		{"max below min", Link{LatencyMin: 2, LatencyMax: 1}, false},
		{"negative tail mean", Link{TailMean: -1}, false},
		{"drop above one", Link{Drop: 1.5}, false},
		{"negative duplicate", Link{Duplicate: -0.1}, false},
		{"tail prob NaN", Link{TailProb: math.NaN()}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.link.Validate()
			if tt.ok {
				assert.NoError(t, err)
				return
			}
			assert.Error(t, err)
			_, werr := NewWorld(Config{Link: tt.link})
			assert.Error(t, werr, "NewWorld validates its config")
		})
	}
}

func TestCrashedSenderMessagesStillArrive(t *testing.T) {
	w := newTestWorld(t, Config{Seed: 12, Link: constLink(10 * time.Millisecond)})
	rec := oneMessage(w)
	w.At(ms(5), "crash sender", func() { w.Crash(0) })
	w.RunUntil(ms(20))
	assert.Len(t, rec.got, 1, "a message that left before the crash is delivered")
}

func TestRestartedTargetReceivesInFlight(t *testing.T) {
	w := newTestWorld(t, Config{Seed: 13, Link: constLink(10 * time.Millisecond)})
	rec := oneMessage(w)
	w.At(ms(3), "crash", func() { w.Crash(1) })
	w.At(ms(6), "restart", func() { w.Restart(1) })
	w.RunUntil(ms(20))
	require.Len(t, rec.got, 1, "the new instance receives it, like a rebooted host")
	assert.Equal(t, ms(10), rec.got[0].at)
}
