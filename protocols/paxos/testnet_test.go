package paxos

import (
	"bytes"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

// testNet drives paxos nodes by hand, without the kernel: the test decides
// which message is delivered when, which timers fire, and who crashes. It is
// for scripted rule tests; the fault sweeps use sim.World.

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
func (e *fakeEnv) Buggify(string) bool { return false }
func (e *fakeEnv) Sign(d uint64) sim.Signature {
	return sim.Signature{Signer: e.id, Digest: d}
}
func (e *fakeEnv) Verify(sim.Signature) bool { return true }

type testNet struct {
	t       *testing.T
	factory sim.Factory
	now     sim.Time
	envs    []*fakeEnv
	nodes   []*node // nil while crashed
	queue   []envelope
	obs     []sim.Observation
	replies []service.Reply // what servers sent to clients (IDs >= servers)
	// delivered logs every message handed to a server.
	delivered []envelope
	// drop, if set, loses the messages it returns true for.
	drop func(e envelope) bool
}

// newTestNet builds n servers with cfg; disks may be prepared before start.
func newTestNet(t *testing.T, n int, cfg Config) *testNet {
	f, err := New(cfg, newCounter)
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

// testConfig is DefaultConfig with small batches and snapshots, so tests
// reach chunking and compaction with few commands.
func testConfig() Config {
	cfg := DefaultConfig()
	cfg.MaxSlotsPerMessage = 4
	cfg.SnapshotInterval = 8
	return cfg
}

// writePromise and writeRecord prepare server id's disk, synced.
func (tn *testNet) writePromise(id sim.NodeID, ballot uint64) {
	d := tn.envs[id].disk
	d.Put(promiseKeyA, encodeUvarint(ballot))
	d.Put(promiseKeyB, encodeUvarint(ballot))
	d.Sync()
}

func (tn *testNet) writeRecord(id sim.NodeID, slot, ballot uint64, chosen bool, cmd service.Command) {
	d := tn.envs[id].disk
	d.Put(slotKey(slot), encodeRecord(&record{ballot: ballot, chosen: chosen, cmd: cmd}))
	d.Sync()
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

// crash discards server id's instance. A correct node has synced every write
// between handlers but the lazily written commit index, which the test
// checks; the fake disk cannot lose writes, so the commit index is synced as
// if it had reached the disk (sim.World tests lose and tear it).
func (tn *testNet) crash(id sim.NodeID) {
	d := tn.envs[id].disk
	if n := tn.nodes[id]; n != nil {
		require.Equal(tn.t, n.lazyWrites, d.Unsynced(), "a node has unsynced writes between handlers")
	}
	d.Sync()
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

// campaign makes id run phase 1 now, as if its failure detector fired.
func (tn *testNet) campaign(id sim.NodeID) {
	tn.do(id, func(n *node) { n.startPhase1() })
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
	tn.delivered = append(tn.delivered, e)
	n.Receive(tn.envs[e.to], e.from, e.msg)
}

// take removes and returns the queued messages that match.
func (tn *testNet) take(match func(e envelope) bool) []envelope {
	var out []envelope
	tn.queue = slices.DeleteFunc(tn.queue, func(e envelope) bool {
		if match(e) {
			out = append(out, e)
			return true
		}
		return false
	})
	return out
}

// fire runs server id's timer of kind with the clock moved an hour on, past
// any timeout.
func (tn *testNet) fire(id sim.NodeID, kind sim.TimerKind) {
	tn.now = tn.now.Add(time.Hour)
	tn.nodes[id].Timer(tn.envs[id], kind)
}

// request queues a client request from client to server id.
func (tn *testNet) request(client, to sim.NodeID, seq uint64, op string) {
	tn.queue = append(tn.queue, envelope{from: client, to: to,
		msg: service.Request{Cmd: service.Command{Client: client, Seq: seq, Op: []byte(op)}}})
}

// commits returns the digest each server committed at slot, by server.
func (tn *testNet) commits(slot uint64) map[sim.NodeID]uint64 {
	out := map[sim.NodeID]uint64{}
	for _, o := range tn.obs {
		if o.Kind == sim.ObsCommit && o.Index == slot {
			out[o.Node] = o.Digest
		}
	}
	return out
}

// agreementViolated reports whether two servers observed different commands
// committed or applied at one slot.
func (tn *testNet) agreementViolated() bool {
	seen := map[uint64]uint64{}
	for _, o := range tn.obs {
		if o.Kind != sim.ObsCommit && o.Kind != sim.ObsApply {
			continue
		}
		if d, ok := seen[o.Index]; ok && d != o.Digest {
			return true
		}
		seen[o.Index] = o.Digest
	}
	return false
}

// counter is a tiny snapshottable state machine: "add k" increments counter
// k and returns its value, "get k" reads it, "set k v" sets it.
type counter struct{ m map[string]int }

func newCounter() service.StateMachine { return &counter{m: map[string]int{}} }

func (c *counter) Apply(op []byte) []byte {
	f := bytes.Fields(op)
	switch {
	case len(f) == 2 && string(f[0]) == "add":
		c.m[string(f[1])]++
	case len(f) == 2 && string(f[0]) == "get":
	case len(f) == 3 && string(f[0]) == "set":
		v, err := strconv.Atoi(string(f[2]))
		if err != nil {
			return []byte("bad op")
		}
		c.m[string(f[1])] = v
	default:
		return []byte("bad op")
	}
	return strconv.AppendInt(nil, int64(c.m[string(f[1])]), 10)
}

// Snapshot writes "k=v" lines in key order.
func (c *counter) Snapshot() []byte {
	keys := make([]string, 0, len(c.m))
	for k := range c.m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b []byte
	for _, k := range keys {
		b = append(b, k...)
		b = append(b, '=')
		b = strconv.AppendInt(b, int64(c.m[k]), 10)
		b = append(b, '\n')
	}
	return b
}

func (c *counter) Restore(b []byte) error {
	c.m = map[string]int{}
	for _, line := range bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		k, v, _ := bytes.Cut(line, []byte("="))
		n, err := strconv.Atoi(string(v))
		if err != nil {
			return err
		}
		c.m[string(k)] = n
	}
	return nil
}

// plainSM cannot snapshot: compaction must stay off for it.
type plainSM struct{ n int }

func newPlain() service.StateMachine { return &plainSM{} }

func (p *plainSM) Apply([]byte) []byte {
	p.n++
	return strconv.AppendInt(nil, int64(p.n), 10)
}

// cmd builds a client command.
func cmd(client sim.NodeID, seq uint64, op string) service.Command {
	return service.Command{Client: client, Seq: seq, Op: []byte(op)}
}
