package sim

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// testMsg is a small value message for tests.
type testMsg struct{ n int }

func (m testMsg) AppendTrace(b []byte) []byte {
	b = append(b, "test n="...)
	return strconv.AppendInt(b, int64(m.n), 10)
}

// funcNode is a Node whose handlers are plain functions; nil handlers do nothing.
type funcNode struct {
	start   func(env Env)
	receive func(env Env, from NodeID, m Message)
	timer   func(env Env, k TimerKind)
}

func (n *funcNode) Start(env Env) {
	if n.start != nil {
		n.start(env)
	}
}

func (n *funcNode) Receive(env Env, from NodeID, m Message) {
	if n.receive != nil {
		n.receive(env, from, m)
	}
}

func (n *funcNode) Timer(env Env, k TimerKind) {
	if n.timer != nil {
		n.timer(env, k)
	}
}

// nodeOf returns a factory that hands out the same handlers for every instance.
func nodeOf(n funcNode) Factory {
	return func(NodeID) Node {
		c := n
		return &c
	}
}

// idle is a factory of nodes that do nothing.
func idle() Factory { return nodeOf(funcNode{}) }

// delivery is one message a recorder received.
type delivery struct {
	at   Time
	to   NodeID
	from NodeID
	msg  Message
}

// recorder collects deliveries in order.
type recorder struct{ got []delivery }

// record is a receive handler that appends the delivery to r.
func (r *recorder) record(env Env, from NodeID, m Message) {
	r.got = append(r.got, delivery{at: env.Now(), to: env.ID(), from: from, msg: m})
}

// node returns a factory of nodes that record every delivery into r.
func (r *recorder) node() Factory {
	return nodeOf(funcNode{receive: r.record})
}

// pinger returns a factory of nodes that send their own ID to `to` when they
// start and record every delivery into r.
func (r *recorder) pinger(to NodeID) Factory {
	return nodeOf(funcNode{
		start:   func(env Env) { env.Send(to, testMsg{n: int(env.ID())}) },
		receive: r.record,
	})
}

// sendsAtStart returns a factory of nodes that send msgs to `to` when they start.
func sendsAtStart(to NodeID, msgs ...Message) Factory {
	return nodeOf(funcNode{start: func(env Env) {
		for _, m := range msgs {
			env.Send(to, m)
		}
	}})
}

// oneMessage adds the two servers of the one-message tests: n0 sends
// testMsg{n: 1} to n1 when it starts, and n1 records it into the returned
// recorder.
func oneMessage(w *World) *recorder {
	var rec recorder
	w.AddServer(sendsAtStart(1, testMsg{n: 1}))
	w.AddServer(rec.node())
	return &rec
}

// numbered returns n test messages numbered 1..n.
func numbered(n int) []Message {
	msgs := make([]Message, n)
	for i := range msgs {
		msgs[i] = testMsg{n: i + 1}
	}
	return msgs
}

func newTestWorld(t testing.TB, cfg Config) *World {
	t.Helper()
	w, err := NewWorld(cfg)
	require.NoError(t, err)
	return w
}

// tracedWorld returns a world whose JSONL trace goes to the returned buffer.
func tracedWorld(t testing.TB, cfg Config) (*World, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	cfg.Trace = &buf
	return newTestWorld(t, cfg), &buf
}

// records flushes w's trace and decodes every line of buf.
func records(t testing.TB, w *World, buf *bytes.Buffer) []TraceRecord {
	t.Helper()
	require.NoError(t, w.FlushTrace())
	out, err := ReadTrace(bytes.NewReader(buf.Bytes()))
	require.NoError(t, err)
	return out
}

// ofKind returns the records of the given kind.
func ofKind(recs []TraceRecord, kind string) []TraceRecord {
	var out []TraceRecord
	for _, r := range recs {
		if r.Kind == kind {
			out = append(out, r)
		}
	}
	return out
}

// dropReasons returns the reason word of every drop record, in order.
func dropReasons(recs []TraceRecord) []string {
	var out []string
	for _, r := range ofKind(recs, "drop") {
		reason, _, _ := strings.Cut(r.Detail, " ")
		out = append(out, reason)
	}
	return out
}

// ms is a shorthand for a virtual time in milliseconds.
func ms(n int) Time { return Time(time.Duration(n) * time.Millisecond) }

// constLink is a fault-free link with constant latency d.
func constLink(d time.Duration) Link { return Link{LatencyMin: d, LatencyMax: d} }
