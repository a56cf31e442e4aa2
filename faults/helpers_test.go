package faults

import (
	"bytes"
	"strings"
	"time"

	"github.com/simrun/simrun/sim"
	"github.com/stretchr/testify/require"
)

const ms = Duration(time.Millisecond)

// tester is what the helpers need of *testing.T and *rapid.T.
type tester interface {
	require.TestingT
	Helper()
}

// ping is the only message of the test nodes.
type ping struct{}

func (ping) AppendTrace(b []byte) []byte { return append(b, "Ping"...) }

// pinger pings every other server each millisecond and, if term > 0,
// announces itself leader of term at start: enough to watch cuts, crashes and
// leader tracking without a protocol.
type pinger struct{ term uint64 }

func (p *pinger) Start(env sim.Env) {
	env.Disk().Put("boot", []byte("synced")) // something durable to corrupt
	env.Disk().Sync()
	if p.term > 0 {
		env.Observe(sim.Observation{Kind: sim.ObsLeader, Term: p.term})
	}
	env.SetTimer(0, time.Millisecond)
}

func (p *pinger) Receive(sim.Env, sim.NodeID, sim.Message) {}

func (p *pinger) Timer(env sim.Env, _ sim.TimerKind) {
	for _, id := range env.Servers() {
		if id != env.ID() {
			env.Send(id, ping{})
		}
	}
	env.SetTimer(0, time.Millisecond)
}

// idle is a client that does nothing.
type idle struct{}

func (idle) Start(sim.Env)                            {}
func (idle) Receive(sim.Env, sim.NodeID, sim.Message) {}
func (idle) Timer(sim.Env, sim.TimerKind)             {}

// testWorld is a world of n pingers (servers) and one idle client. terms[id],
// if present, is the term server id announces leadership of at each start.
type testWorld struct {
	*sim.World
	trace *bytes.Buffer
}

func newTestWorld(t tester, seed uint64, n int, terms map[int]uint64) *testWorld {
	t.Helper()
	var buf bytes.Buffer
	w, err := sim.NewWorld(sim.Config{Seed: seed, Link: sim.Link{LatencyMin: 100 * time.Microsecond,
		LatencyMax: 300 * time.Microsecond}, Trace: &buf})
	require.NoError(t, err)
	for range n {
		w.AddServer(func(id sim.NodeID) sim.Node { return &pinger{term: terms[int(id)]} })
	}
	w.AddClient(func(sim.NodeID) sim.Node { return idle{} })
	return &testWorld{World: w, trace: &buf}
}

func (tw *testWorld) install(t tester, steps ...Step) *Injector {
	t.Helper()
	in, err := Install(tw.World, Plan{Steps: steps})
	require.NoError(t, err)
	return in
}

func (tw *testWorld) run(t tester, until Duration) {
	t.Helper()
	require.Equal(t, sim.Reached, tw.RunUntil(sim.Time(until)))
}

// lines flushes the world's trace and decodes it.
func (tw *testWorld) lines(t tester) []sim.TraceRecord {
	t.Helper()
	require.NoError(t, tw.FlushTrace())
	return parseTrace(t, tw.trace.Bytes())
}

// parseTrace reads a JSONL trace.
func parseTrace(t tester, trace []byte) []sim.TraceRecord {
	t.Helper()
	out, err := sim.ReadTrace(bytes.NewReader(trace))
	require.NoError(t, err)
	return out
}

// endSafety schedules at time at what the runner does at the end of the
// safety phase: stop the injector, heal everything, restart every server.
func (tw *testWorld) endSafety(in *Injector, at Duration) {
	tw.At(sim.Time(at), "end of safety", func() {
		in.Stop()
		in.HealAll()
		in.RestartAll()
	})
}

// linksWhere lists the server links a -> b for which on holds, as "n0>n2",
// in ID order.
func linksWhere(w *sim.World, on func(a, b sim.NodeID) bool) []string {
	var out []string
	for _, a := range w.Servers() {
		for _, b := range w.Servers() {
			if on(a, b) {
				out = append(out, a.String()+">"+b.String())
			}
		}
	}
	return out
}

// cutsOf lists the cut server links, for comparing worlds.
func cutsOf(w *sim.World) []string { return linksWhere(w, w.IsCut) }

// clogsOf lists the clogged server links.
func clogsOf(w *sim.World) []string { return linksWhere(w, w.IsClogged) }

// stepControls is the control labels of one step, as tw.controls lists
// them: the step's own label, then one "label: what" per thing it did.
func stepControls(label string, did ...string) []string {
	out := []string{label}
	for _, d := range did {
		out = append(out, label+": "+d)
	}
	return out
}

// controls returns the labels of the control lines that contain substr.
func (tw *testWorld) controls(t tester, substr string) []string {
	var out []string
	for _, l := range tw.lines(t) {
		if l.Kind == "control" && strings.Contains(l.Detail, substr) {
			out = append(out, l.Detail)
		}
	}
	return out
}

// count returns how many trace lines have kind and a node (and peer, unless
// peer is -1) between from and to.
func (tw *testWorld) count(t tester, kind string, node, peer int, from, to Duration, detailPrefix string) int {
	n := 0
	for _, l := range tw.lines(t) {
		if l.Kind != kind || l.T < sim.Time(from) || l.T >= sim.Time(to) || !strings.HasPrefix(l.Detail, detailPrefix) {
			continue
		}
		if l.Node == nil || int(*l.Node) != node {
			continue
		}
		if peer >= 0 && (l.Peer == nil || int(*l.Peer) != peer) {
			continue
		}
		n++
	}
	return n
}

func (tw *testWorld) downServers() int {
	n := 0
	for _, id := range tw.Servers() {
		if !tw.Up(id) {
			n++
		}
	}
	return n
}
