package pbft

import (
	"bytes"
	"encoding/binary"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

// This file holds the test harness: a tiny snapshotting state machine, a
// network driven by hand (testNet) for scripted tests of the paper's rules,
// and a world of replicas with quorum clients for runs under sim.World.

// kv is a tiny state machine: "set k v" stores v and returns "ok", "get k"
// returns the value, "add k" increments a counter and returns it. It
// snapshots in sorted key order.
type kv struct{ m map[string]string }

func newKV() service.StateMachine { return &kv{m: map[string]string{}} }

func (s *kv) Apply(op []byte) []byte {
	verb, rest, _ := bytes.Cut(op, []byte(" "))
	switch string(verb) {
	case "set":
		k, v, _ := bytes.Cut(rest, []byte(" "))
		s.m[string(k)] = string(v)
		return []byte("ok")
	case "get":
		return []byte(s.m[string(rest)])
	case "add":
		v, _ := strconv.Atoi(s.m[string(rest)])
		s.m[string(rest)] = strconv.Itoa(v + 1)
		return []byte(s.m[string(rest)])
	}
	return []byte("bad op")
}

func (s *kv) Snapshot() []byte {
	keys := make([]string, 0, len(s.m))
	for k := range s.m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b []byte
	for _, k := range keys {
		b = binary.AppendUvarint(b, uint64(len(k)))
		b = append(b, k...)
		b = binary.AppendUvarint(b, uint64(len(s.m[k])))
		b = append(b, s.m[k]...)
	}
	return b
}

func (s *kv) Restore(b []byte) error {
	m := map[string]string{}
	for len(b) > 0 {
		var parts [2]string
		for i := range parts {
			size, n := binary.Uvarint(b)
			if n <= 0 || uint64(len(b)-n) < size {
				return service.ErrCorruptSnapshot
			}
			parts[i] = string(b[n : n+int(size)])
			b = b[n+int(size):]
		}
		m[parts[0]] = parts[1]
	}
	s.m = m
	return nil
}

type envelope struct {
	from, to sim.NodeID
	msg      sim.Message
}

// fakeEnv is a sim.Env that records effects for testNet to route.
type fakeEnv struct {
	id     sim.NodeID
	net    *testNet
	rng    *sim.Rand
	disk   *sim.Disk
	timers map[sim.TimerKind]time.Duration
}

func (e *fakeEnv) ID() sim.NodeID        { return e.id }
func (e *fakeEnv) Servers() []sim.NodeID { return e.net.servers }
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
func (e *fakeEnv) Buggify(string) bool { return false }
func (e *fakeEnv) Sign(d uint64) sim.Signature {
	return e.net.sign(e.id, d)
}
func (e *fakeEnv) Verify(s sim.Signature) bool { return e.net.signed[s] }

// testNet drives replicas by hand: the test decides which message is
// delivered, which timer fires and who crashes. Nodes with IDs from the
// cluster size on are clients; what is sent to them is collected.
type testNet struct {
	t       *testing.T
	factory sim.Factory
	now     sim.Time
	servers []sim.NodeID
	envs    []*fakeEnv
	nodes   []*node // nil while crashed
	queue   []envelope
	obs     []sim.Observation
	replies []service.Reply
	signed  map[sim.Signature]bool
	// drop, if set, loses the messages it returns true for.
	drop func(e envelope) bool
}

func newTestNet(t *testing.T, n int, cfg Config, byz ...ByzantineReplica) *testNet {
	t.Helper()
	f, err := New(cfg, newKV, byz...)
	require.NoError(t, err)
	tn := &testNet{t: t, factory: f, nodes: make([]*node, n), signed: map[sim.Signature]bool{}}
	for i := range n {
		tn.servers = append(tn.servers, sim.NodeID(i))
	}
	for i := range n {
		tn.envs = append(tn.envs, &fakeEnv{id: sim.NodeID(i), net: tn, rng: sim.NewRand(uint64(i) + 1),
			disk: sim.NewDisk(), timers: map[sim.TimerKind]time.Duration{}})
	}
	return tn
}

// sign makes id's signature of d (also for a test acting as replica id).
func (tn *testNet) sign(id sim.NodeID, d uint64) sim.Signature {
	s := sim.Signature{Signer: id, Digest: d}
	tn.signed[s] = true
	return s
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

// crash discards a replica's instance; its disk keeps what was synced, which
// is everything between handlers.
func (tn *testNet) crash(id sim.NodeID) {
	require.Zero(tn.t, tn.envs[id].disk.Unsynced())
	tn.nodes[id] = nil
	clear(tn.envs[id].timers)
}

// do runs fn inside a handler of replica id, as if the kernel called it.
func (tn *testNet) do(id sim.NodeID, fn func(n *node)) {
	n := tn.nodes[id]
	n.env = tn.envs[id]
	fn(n)
	n.finish()
}

// fire runs a timer of replica id.
func (tn *testNet) fire(id sim.NodeID, kind sim.TimerKind) {
	delete(tn.envs[id].timers, kind)
	tn.nodes[id].Timer(tn.envs[id], kind)
}

// inject queues a message as if from sent it.
func (tn *testNet) inject(from, to sim.NodeID, m sim.Message) {
	tn.queue = append(tn.queue, envelope{from: from, to: to, msg: m})
}

// request queues a client's request to replica to.
func (tn *testNet) request(client sim.NodeID, seq uint64, op string, to sim.NodeID) service.Command {
	cmd := service.Command{Client: client, Seq: seq, Op: []byte(op)}
	tn.inject(client, to, service.Request{Cmd: cmd})
	return cmd
}

// step delivers the oldest queued message and reports whether there was one.
func (tn *testNet) step() bool {
	if len(tn.queue) == 0 {
		return false
	}
	e := tn.queue[0]
	tn.queue = tn.queue[1:]
	switch {
	case tn.drop != nil && tn.drop(e):
	case int(e.to) >= len(tn.nodes):
		if r, ok := e.msg.(service.Reply); ok {
			tn.replies = append(tn.replies, r)
		}
	case tn.nodes[e.to] != nil:
		tn.nodes[e.to].Receive(tn.envs[e.to], e.from, e.msg)
	}
	return true
}

// run delivers until nothing is queued.
func (tn *testNet) run() {
	for i := 0; tn.step(); i++ {
		require.Less(tn.t, i, 1_000_000, "the network never went quiet")
	}
}

// advance moves the clock.
func (tn *testNet) advance(d time.Duration) { tn.now = tn.now.Add(d) }

// observed returns the observations of kind made by node id, in order.
func (tn *testNet) observed(id sim.NodeID, kind sim.ObsKind) []sim.Observation {
	var out []sim.Observation
	for _, o := range tn.obs {
		if o.Node == id && o.Kind == kind {
			out = append(out, o)
		}
	}
	return out
}

// sentBy returns the queued messages from id of type M.
func sentBy[M sim.Message](tn *testNet, id sim.NodeID) []M {
	var out []M
	for _, e := range tn.queue {
		if m, ok := e.msg.(M); ok && e.from == id {
			out = append(out, m)
		}
	}
	return out
}

// agreementHolds checks that the observations agree: one digest per index
// among commits and applies.
func agreementHolds(t *testing.T, obs []sim.Observation) {
	t.Helper()
	seen := map[uint64]uint64{}
	for _, o := range obs {
		if o.Kind != sim.ObsCommit && o.Kind != sim.ObsApply {
			continue
		}
		if d, ok := seen[o.Index]; ok {
			require.Equal(t, d, o.Digest, "two digests at index %d (%v)", o.Index, o.Node)
		}
		seen[o.Index] = o.Digest
	}
}

// testConfig is a fast configuration for scripted tests: a checkpoint every
// 4 requests, a window of 8.
func testConfig() Config {
	cfg := DefaultConfig()
	cfg.CheckpointInterval, cfg.LogWindow = 4, 8
	return cfg
}

// Clients for runs under sim.World.

const (
	clientNext sim.TimerKind = iota
	clientRetry
)

// quorumClient issues "add k<i>" operations one at a time to a random
// replica, resends to all replicas when late, and takes a result once f+1
// replicas gave it.
type quorumClient struct {
	index   int
	quorum  int
	seq     uint64
	waiting bool
	replies map[sim.NodeID]string
	acked   *int
}

func (c *quorumClient) Start(env sim.Env) { env.SetTimer(clientNext, 10*time.Millisecond) }

func (c *quorumClient) Timer(env sim.Env, kind sim.TimerKind) {
	if kind == clientNext {
		c.seq++
		c.waiting = true
		clear(c.replies)
		env.Send(env.Servers()[env.Rand().IntN(len(env.Servers()))], c.request(env))
	} else {
		for _, s := range env.Servers() {
			env.Send(s, c.request(env))
		}
	}
	env.SetTimer(clientRetry, 100*time.Millisecond)
}

func (c *quorumClient) request(env sim.Env) service.Request {
	return service.Request{Cmd: service.Command{Client: env.ID(), Seq: c.seq, Op: []byte("add k" + strconv.Itoa(c.index%2))}}
}

func (c *quorumClient) Receive(env sim.Env, from sim.NodeID, m sim.Message) {
	r, ok := m.(service.Reply)
	if !ok || !c.waiting || r.Seq != c.seq || r.Status != service.StatusOK {
		return
	}
	c.replies[from] = string(r.Result)
	matching := 0
	for _, s := range env.Servers() {
		if v, ok := c.replies[s]; ok && v == string(r.Result) {
			matching++
		}
	}
	if matching < c.quorum {
		return
	}
	*c.acked++
	c.waiting = false
	env.CancelTimer(clientRetry)
	env.SetTimer(clientNext, 5*time.Millisecond)
}

// world is a sim.World of PBFT replicas and quorum clients, with an
// agreement watch over the correct replicas.
type world struct {
	w         *sim.World
	acked     int
	violation string
}

func newWorld(t testing.TB, seed uint64, n int, cfg Config, link sim.Link, byz ...ByzantineReplica) *world {
	t.Helper()
	w, err := sim.NewWorld(sim.Config{Seed: seed, Link: link})
	require.NoError(t, err)
	f, err := New(cfg, newKV, byz...)
	require.NoError(t, err)
	c := &world{w: w}
	for range n {
		w.AddServer(f)
	}
	for i := range 3 {
		w.AddClient(func(sim.NodeID) sim.Node {
			return &quorumClient{index: i, quorum: cfg.ReplyQuorum(n), replies: map[sim.NodeID]string{}, acked: &c.acked}
		})
	}
	commits := map[uint64]uint64{}
	w.OnObservation(func(o sim.Observation) {
		if slices.ContainsFunc(byz, func(b ByzantineReplica) bool { return b.ID == o.Node }) {
			return
		}
		if o.Kind != sim.ObsCommit && o.Kind != sim.ObsApply {
			return
		}
		if d, ok := commits[o.Index]; ok && d != o.Digest && c.violation == "" {
			c.violation = "two digests at index " + strconv.FormatUint(o.Index, 10)
			w.Stop(c.violation)
		}
		commits[o.Index] = o.Digest
	})
	return c
}

func at(d time.Duration) sim.Time { return sim.Time(d) }
