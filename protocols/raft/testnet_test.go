package raft

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

// testNet drives raft nodes by hand, without the kernel: the test decides
// which message is delivered when, which timers fire, and who crashes. It is
// for scripted scenarios (the paper's figures); the fault sweeps use sim.World.

type envelope struct {
	from, to sim.NodeID
	msg      sim.Message
}

// fakeEnv is a sim.Env that records effects for testNet to route.
type fakeEnv struct {
	id      sim.NodeID
	servers []sim.NodeID
	net     *testNet
	rng     *sim.Rand
	disk    *sim.Disk
	timers  map[sim.TimerKind]time.Duration
}

func (e *fakeEnv) ID() sim.NodeID        { return e.id }
func (e *fakeEnv) Servers() []sim.NodeID { return e.servers }
func (e *fakeEnv) Now() sim.Time         { return e.net.now }
func (e *fakeEnv) Rand() *sim.Rand       { return e.rng }
func (e *fakeEnv) Disk() *sim.Disk       { return e.disk }
func (e *fakeEnv) Send(to sim.NodeID, m sim.Message) {
	e.net.queue = append(e.net.queue, envelope{from: e.id, to: to, msg: m})
}
func (e *fakeEnv) SetTimer(k sim.TimerKind, d time.Duration) { e.timers[k] = d }
func (e *fakeEnv) CancelTimer(k sim.TimerKind)               { delete(e.timers, k) }
func (e *fakeEnv) Observe(o sim.Observation) {
	o.Node = e.id
	e.net.obs = append(e.net.obs, o)
}

type testNet struct {
	t       *testing.T
	factory sim.Factory
	now     sim.Time
	envs    []*fakeEnv
	nodes   []*node // nil while crashed
	queue   []envelope
	obs     []sim.Observation
	replies []service.Reply // what servers sent to clients (IDs >= servers)
	// drop, if set, loses the messages it returns true for.
	drop func(e envelope) bool
}

// newTestNet builds n servers with cfg; disks may be prepared with
// writeState before start is called.
func newTestNet(t *testing.T, n int, cfg Config) *testNet {
	f, err := New(cfg, newKV)
	require.NoError(t, err)
	tn := &testNet{t: t, factory: f, nodes: make([]*node, n)}
	servers := make([]sim.NodeID, n)
	for i := range servers {
		servers[i] = sim.NodeID(i)
	}
	for i := range n {
		tn.envs = append(tn.envs, &fakeEnv{id: sim.NodeID(i), servers: servers, net: tn,
			rng: sim.NewRand(uint64(i)), disk: sim.NewDisk(), timers: map[sim.TimerKind]time.Duration{}})
	}
	return tn
}

// writeState puts a hard state and a log (given as entry terms, or entries)
// on server id's disk, synced.
func (tn *testNet) writeState(id sim.NodeID, term uint64, vote sim.NodeID, log []Entry) {
	d := tn.envs[id].disk
	for _, k := range hardStateKeys {
		d.Put(k, encodeHardState(hardState{term: term, vote: vote}))
	}
	putLog(d, append([]Entry{{}}, log...))
	d.Sync()
}

// entries builds a log from terms, each entry a distinct command.
func entries(terms ...uint64) []Entry {
	log := make([]Entry, len(terms))
	for i, t := range terms {
		log[i] = Entry{Term: t, Cmd: service.Command{Client: 99, Seq: uint64(i + 1), Op: []byte("set t" + string(rune('0'+t)) + " x")}}
	}
	return log
}

func (tn *testNet) startAll() {
	for i := range tn.nodes {
		tn.start(sim.NodeID(i))
	}
}

func (tn *testNet) start(id sim.NodeID) {
	n := tn.factory(id).(*node)
	tn.nodes[id] = n
	n.Start(tn.envs[id])
}

// crash discards server id's instance. The kernel's disk crash is not
// exported, so testNet only crashes a node whose writes are all synced (as a
// correct node's are between handlers); sim.World tests cover the rest.
func (tn *testNet) crash(id sim.NodeID) {
	require.Zero(tn.t, tn.envs[id].disk.Unsynced(), "testNet cannot crash a node with unsynced writes")
	tn.nodes[id] = nil
	clear(tn.envs[id].timers)
}

// do runs fn inside a handler of server id, as if the kernel called it.
func (tn *testNet) do(id sim.NodeID, fn func(n *node)) {
	n := tn.nodes[id]
	n.env = tn.envs[id]
	fn(n)
	n.finish()
}

// forceLeader makes id a candidate and then leader at once, as if it had won
// the votes, dropping its vote requests: for scripting the paper's figures.
func (tn *testNet) forceLeader(id sim.NodeID) {
	tn.do(id, func(n *node) {
		n.becomeCandidate()
		if n.role != roleLeader {
			n.becomeLeader()
		}
	})
	tn.queue = slicesDeleteFunc(tn.queue, func(e envelope) bool {
		_, ok := e.msg.(MsgVote)
		return ok && e.from == id
	})
}

func slicesDeleteFunc(q []envelope, del func(envelope) bool) []envelope {
	out := q[:0]
	for _, e := range q {
		if !del(e) {
			out = append(out, e)
		}
	}
	return out
}

// deliver delivers queued messages in FIFO order, including those sent in
// response, until the queue is empty; it returns how many it delivered.
func (tn *testNet) deliver() int {
	count := 0
	for len(tn.queue) > 0 {
		count++
		require.Less(tn.t, count, 100_000, "testNet: messages never quiesce")
		e := tn.queue[0]
		tn.queue = tn.queue[1:]
		tn.deliverOne(e)
	}
	return count
}

func (tn *testNet) deliverOne(e envelope) {
	if int(e.to) >= len(tn.nodes) {
		if r, ok := e.msg.(service.Reply); ok {
			tn.replies = append(tn.replies, r)
		}
		return
	}
	n := tn.nodes[e.to]
	if n == nil || (tn.drop != nil && tn.drop(e)) {
		return
	}
	n.Receive(tn.envs[e.to], e.from, e.msg)
}

// fire runs server id's timer of kind, with the clock moved past any
// election deadline.
func (tn *testNet) fire(id sim.NodeID, kind sim.TimerKind) {
	tn.now = tn.now.Add(time.Hour)
	tn.nodes[id].Timer(tn.envs[id], kind)
}

// newLeaderNet returns three started servers led by server 0 (term 1, its
// no-op replicated).
func newLeaderNet(t *testing.T) *testNet {
	tn := newTestNet(t, 3, DefaultConfig())
	tn.startAll()
	tn.forceLeader(0)
	tn.deliver()
	return tn
}

// heartbeats runs two heartbeat rounds of leader id, delivering each: the
// first may be skipped for followers that just received entries.
func (tn *testNet) heartbeats(id sim.NodeID) {
	for range 2 {
		tn.fire(id, timerHeartbeat)
		tn.deliver()
	}
}

// request sends a client request from client to server id.
func (tn *testNet) request(client sim.NodeID, to sim.NodeID, seq uint64, op string) {
	tn.queue = append(tn.queue, envelope{from: client, to: to,
		msg: service.Request{Cmd: service.Command{Client: client, Seq: seq, Op: []byte(op)}}})
}

// commitConflict reports whether two servers observed different commands
// committed at one index.
func (tn *testNet) commitConflict() bool {
	seen := map[uint64]uint64{}
	for _, o := range tn.obs {
		if o.Kind != sim.ObsCommit {
			continue
		}
		if d, ok := seen[o.Index]; ok && d != o.Digest {
			return true
		}
		seen[o.Index] = o.Digest
	}
	return false
}

func terms(log []Entry) []uint64 {
	out := make([]uint64, len(log)-1)
	for i := range out {
		out[i] = log[i+1].Term
	}
	return out
}

func (e *fakeEnv) Buggify(string) bool         { return false }
func (e *fakeEnv) Sign(d uint64) sim.Signature { return sim.Signature{Signer: e.id, Digest: d} }
func (e *fakeEnv) Verify(s sim.Signature) bool { return true }
