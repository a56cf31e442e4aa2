package sim

import (
	"io"
	"runtime"
	"testing"
	"time"
)

// The kernel's budget (docs/ARCHITECTURE.md §6): at ~1k pending events, >= 5M events/s and
// no allocation per event. An "event" is what World.Events counts: one trace
// line (a timer firing, a send, a delivery, ...).
//
//	go test ./sim/ -run '^$' -bench . -benchmem

// rearmer re-arms its one timer with a random period, forever: 1k of them keep
// ~1k events pending.
type rearmer struct{}

func (rearmer) Start(env Env) { env.SetTimer(0, env.Rand().DurationBetween(0, time.Millisecond)) }

func (rearmer) Receive(Env, NodeID, Message) {}

func (rearmer) Timer(env Env, _ TimerKind) {
	env.SetTimer(0, env.Rand().DurationBetween(500*time.Microsecond, 1500*time.Microsecond))
}

// token is a message passed by pointer, so that sending it boxes nothing.
type token struct{ id int }

func (m *token) AppendTrace(b []byte) []byte { return testMsg{n: m.id}.AppendTrace(b) }

// forwarder passes every token it receives on to a random node; at the start,
// each forwarder puts its share of the tokens in flight.
type forwarder struct {
	tokens []*token
}

func (f *forwarder) Start(env Env) {
	n := len(env.Servers())
	for _, t := range f.tokens {
		env.Send(NodeID(env.Rand().IntN(n)), t)
	}
}

func (f *forwarder) Receive(env Env, _ NodeID, m Message) {
	env.Send(NodeID(env.Rand().IntN(len(env.Servers()))), m)
}

func (f *forwarder) Timer(Env, TimerKind) {}

func BenchmarkKernelTimers1k(b *testing.B) {
	benchmarkWorld(b, timerWorld(b, nil))
}

func BenchmarkKernelTimers1kTraced(b *testing.B) {
	benchmarkWorld(b, timerWorld(b, io.Discard))
}

func BenchmarkKernelMessages1k(b *testing.B) {
	const nodes, tokens = 64, 1000
	w := newTestWorld(b, Config{Seed: 1, Link: Link{LatencyMin: 500 * time.Microsecond, LatencyMax: 1500 * time.Microsecond}})
	for i := range nodes {
		f := &forwarder{}
		for j := i; j < tokens; j += nodes {
			f.tokens = append(f.tokens, &token{id: j})
		}
		w.AddServer(func(NodeID) Node { return f })
	}
	benchmarkWorld(b, w)
}

func timerWorld(b *testing.B, trace io.Writer) *World {
	w := newTestWorld(b, Config{Seed: 1, Trace: trace})
	for range 1000 {
		w.AddServer(func(NodeID) Node { return rearmer{} })
	}
	return w
}

// benchmarkWorld runs w in slices of 100µs of virtual time (about 100 events at
// 1k pending) and reports events/s, ns/event and allocs/event.
func benchmarkWorld(b *testing.B, w *World) {
	b.ReportAllocs()
	w.RunUntil(Time(10 * time.Millisecond)) // warm up: grow the queue and buffers
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	events0 := w.Events()
	for b.Loop() {
		if w.RunUntil(w.Now().Add(100*time.Microsecond)) != Reached {
			b.Fatalf("run ended: %+v", w.Result())
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	events := float64(w.Events() - events0)
	b.ReportMetric(events/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/events, "ns/event")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/events, "allocs/event")
	b.ReportMetric(float64(w.q.Len()), "pending")
}

// BenchmarkQueue1k measures one push and one pop with 1k events pending.
func BenchmarkQueue1k(b *testing.B) {
	var q eventQueue
	rng := NewRand(1)
	for range 1000 {
		q.push(event{at: Time(rng.Uint64N(1e6))})
	}
	b.ReportAllocs()
	for b.Loop() {
		e := q.popEvent()
		e.at += Time(rng.Uint64N(1e6))
		q.push(e)
	}
}

// BenchmarkAnchorHeap1k is the anchor the kernel benchmarks are read
// against: a bare typed binary heap of 16-byte (time, seq) keys with 1000
// pending, each pop re-pushed 0.5-1.5 ms later, as KernelTimers1k's nodes
// do, with nothing else (no handler, no trace, no payload). One pop and push
// is one event.
func BenchmarkAnchorHeap1k(b *testing.B) {
	type key struct{ at, seq uint64 }
	less := func(x, y key) bool { return x.at < y.at || (x.at == y.at && x.seq < y.seq) }
	var h []key
	var seq uint64
	push := func(k key) {
		seq++
		k.seq = seq
		h = append(h, k)
		for i := len(h) - 1; i > 0; {
			p := (i - 1) / 2
			if !less(h[i], h[p]) {
				break
			}
			h[i], h[p] = h[p], h[i]
			i = p
		}
	}
	pop := func() key {
		top, last := h[0], len(h)-1
		h[0] = h[last]
		h = h[:last]
		for i := 0; ; {
			c := 2*i + 1
			if c >= last {
				break
			}
			if c+1 < last && less(h[c+1], h[c]) {
				c++
			}
			if !less(h[c], h[i]) {
				break
			}
			h[i], h[c] = h[c], h[i]
			i = c
		}
		return top
	}
	rng := NewRand(1)
	for range 1000 {
		push(key{at: rng.Uint64N(uint64(time.Millisecond))})
	}
	b.ReportAllocs()
	for b.Loop() {
		k := pop()
		push(key{at: k.at + uint64(500*time.Microsecond) + rng.Uint64N(uint64(time.Millisecond))})
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
