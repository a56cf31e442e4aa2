package raft

import (
	"bytes"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

// This file holds the test harness: a tiny KV state machine, a client node,
// a checker of the two safety properties that observations make checkable,
// and a nemesis that crashes, restarts and partitions servers.

// kv is a tiny state machine: "set k v" stores v under k and returns "ok";
// "get k" returns the value; "add k" increments a counter and returns it.
type kv struct{ m map[string][]byte }

func newKV() service.StateMachine { return &kv{m: map[string][]byte{}} }

func (s *kv) Apply(op []byte) []byte {
	verb, rest, _ := bytes.Cut(op, []byte(" "))
	switch string(verb) {
	case "set":
		k, v, _ := bytes.Cut(rest, []byte(" "))
		s.m[string(k)] = bytes.Clone(v)
		return []byte("ok")
	case "get":
		return bytes.Clone(s.m[string(rest)])
	case "add":
		v, _ := strconv.Atoi(string(s.m[string(rest)]))
		next := strconv.AppendInt(nil, int64(v+1), 10)
		s.m[string(rest)] = next
		return bytes.Clone(next)
	}
	return []byte("bad op")
}

// Client timers.
const (
	clientNext  sim.TimerKind = iota // issue the next operation
	clientRetry                      // resend the current one
)

// clientLog records what a test client saw; it outlives client instances.
type clientLog struct {
	acked   []ack // replies with StatusOK, in order
	issued  uint64
	lastAck sim.Time
}

type ack struct {
	seq    uint64
	op     string
	result string
}

// testClient issues one operation at a time: ops(seq) after a pause of
// interval, retrying with the next server (or the hinted leader) on a
// not-leader reply or after timeout.
type testClient struct {
	log      *clientLog
	ops      func(seq uint64) string
	interval time.Duration
	timeout  time.Duration
	target   sim.NodeID
	seq      uint64
	op       string
	waiting  bool
	hinted   bool // the pending retry follows a not-leader reply, which chose the target
}

func (c *testClient) Start(env sim.Env) { env.SetTimer(clientNext, c.interval) }

func (c *testClient) Timer(env sim.Env, kind sim.TimerKind) {
	if kind == clientNext {
		c.seq++
		c.op = c.ops(c.seq)
		c.waiting = true
		c.log.issued = c.seq
	} else if !c.hinted {
		c.target = sim.NodeID((int(c.target) + 1) % len(env.Servers())) // timed out: try another server
	}
	c.hinted = false
	c.send(env)
}

func (c *testClient) send(env sim.Env) {
	env.Send(c.target, service.Request{Cmd: service.Command{Client: env.ID(), Seq: c.seq, Op: []byte(c.op)}})
	env.SetTimer(clientRetry, c.timeout)
}

func (c *testClient) Receive(env sim.Env, from sim.NodeID, m sim.Message) {
	r, ok := m.(service.Reply)
	if !ok || !c.waiting || r.Seq != c.seq {
		return
	}
	if r.Status == service.StatusNotLeader {
		c.target = r.Leader
		if c.target == sim.None || c.target == from {
			c.target = sim.NodeID((int(from) + 1) % len(env.Servers()))
		}
		c.hinted = true
		env.SetTimer(clientRetry, 5*time.Millisecond) // do not spin while there is no leader
		return
	}
	c.waiting = false
	c.log.acked = append(c.log.acked, ack{seq: r.Seq, op: c.op, result: string(r.Result)})
	c.log.lastAck = env.Now()
	env.CancelTimer(clientRetry)
	env.SetTimer(clientNext, c.interval)
}

// safety checks agreement (one digest per index) and election safety (one
// leader per term) on every observation, stopping the world at the first
// violation.
type safety struct {
	w         *sim.World
	commits   map[uint64]uint64
	leaders   map[uint64]sim.NodeID
	violation string
	maxCommit uint64
	elections int
}

func watchSafety(w *sim.World) *safety {
	s := &safety{w: w, commits: map[uint64]uint64{}, leaders: map[uint64]sim.NodeID{}}
	w.OnObservation(s.observe)
	return s
}

func (s *safety) observe(o sim.Observation) {
	switch o.Kind {
	case sim.ObsLeader:
		s.elections++
		if l, ok := s.leaders[o.Term]; ok && l != o.Node {
			s.fail("two leaders in term " + strconv.FormatUint(o.Term, 10) + ": " + l.String() + " and " + o.Node.String())
		}
		s.leaders[o.Term] = o.Node
	case sim.ObsCommit:
		if d, ok := s.commits[o.Index]; ok && d != o.Digest {
			s.fail("two digests committed at index " + strconv.FormatUint(o.Index, 10) + " (" + o.Node.String() + ")")
		}
		s.commits[o.Index] = o.Digest
		s.maxCommit = max(s.maxCommit, o.Index)
	case sim.ObsApply:
		if d, ok := s.commits[o.Index]; !ok || d != o.Digest {
			s.fail("applied an entry that is not the committed one at index " + strconv.FormatUint(o.Index, 10))
		}
	}
}

func (s *safety) fail(why string) {
	if s.violation == "" {
		s.violation = why + " at " + s.w.Now().String()
		s.w.Stop(s.violation)
	}
}

// cluster is a world of servers and test clients.
type cluster struct {
	w       *sim.World
	servers []sim.NodeID
	clients []*clientLog
	safety  *safety
}

type clusterOpts struct {
	seed     uint64
	servers  int
	clients  int
	cfg      Config
	link     sim.Link
	interval time.Duration // client pause between operations
	timeout  time.Duration // client retry timeout
	buggify  float64       // sim.Config.Buggify
}

func defaultOpts(seed uint64) clusterOpts {
	return clusterOpts{seed: seed, servers: 5, clients: 2, cfg: DefaultConfig(),
		link:     sim.Link{LatencyMin: time.Millisecond, LatencyMax: 10 * time.Millisecond},
		interval: 20 * time.Millisecond, timeout: 300 * time.Millisecond}
}

func newCluster(t testing.TB, o clusterOpts) *cluster {
	t.Helper()
	w, err := sim.NewWorld(sim.Config{Seed: o.seed, Link: o.link, Buggify: o.buggify})
	require.NoError(t, err)
	f, err := New(o.cfg, newKV)
	require.NoError(t, err)
	c := &cluster{w: w}
	for range o.servers {
		c.servers = append(c.servers, w.AddServer(f))
	}
	for i := range o.clients {
		l := &clientLog{}
		c.clients = append(c.clients, l)
		key := "k" + strconv.Itoa(i%2)
		w.AddClient(func(id sim.NodeID) sim.Node {
			return &testClient{log: l, interval: o.interval, timeout: o.timeout, target: sim.NodeID(i % o.servers),
				ops: func(seq uint64) string {
					if seq%3 == 0 {
						return "get " + key
					}
					return "add " + key
				}}
		})
	}
	c.safety = watchSafety(w)
	return c
}

// raftNode returns server id's running instance, or nil while it is down.
func (c *cluster) raftNode(id sim.NodeID) *node {
	n, _ := c.w.Node(id).(*node)
	return n
}

// leader returns the running server that leads the highest term, if any.
func (c *cluster) leader() *node {
	var best *node
	for _, id := range c.servers {
		if n := c.raftNode(id); n != nil && n.role == roleLeader && (best == nil || n.term > best.term) {
			best = n
		}
	}
	return best
}

func (c *cluster) acked() int {
	total := 0
	for _, l := range c.clients {
		total += len(l.acked)
	}
	return total
}

func at(d time.Duration) sim.Time { return sim.Time(0).Add(d) }

// requireDiskMatchesMemory checks that every running server's disk holds
// exactly its in-memory log and hard state: what a restart would recover.
func (c *cluster) requireDiskMatchesMemory(t testing.TB) {
	t.Helper()
	for _, id := range c.servers {
		n := c.raftNode(id)
		if n == nil || n.down {
			continue
		}
		d := c.w.Disk(id)
		require.Zero(t, d.Unsynced(), "server %v", id)
		st := loadState(d)
		require.Zero(t, d.Unsynced(), "server %v: loading its disk needed repairs", id)
		require.Equal(t, hardState{term: n.term, vote: n.vote, lost: n.lost}, st.hard, "server %v", id)
		require.Equal(t, len(n.log), len(st.log), "server %v", id)
		for i := range n.log {
			require.Equal(t, n.log[i].Term, st.log[i].Term, "server %v index %d", id, i)
			require.Equal(t, n.log[i].Cmd.Digest(), st.log[i].Cmd.Digest(), "server %v index %d", id, i)
		}
	}
}
