package etcdraft

import (
	"fmt"

	"github.com/simrun/simrun/pinrand"
	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
	"go.etcd.io/raft/v3"
	pb "go.etcd.io/raft/v3/raftpb"
)

// timerTick is the one timer: it drives RawNode.Tick.
const timerTick sim.TimerKind = 0

// New returns the factory of etcd-raft servers for cfg, applying commands to
// state machines built by newSM.
func New(cfg Config, newSM service.NewStateMachine) (sim.Factory, error) {
	return knownBugs.Factory(cfg, cfg.Bugs, newSM, func(id sim.NodeID, b bugSet) sim.Node {
		return &server{id: id, cfg: cfg, bugs: b, newSM: newSM}
	})
}

// server is one simulated etcd-raft server: a raft.RawNode, the
// raft.MemoryStorage it reads its log from, the durable copy of that storage
// on the simulated disk, and the replicated state machine. A restart builds a
// new server, which knows only what its disk holds.
type server struct {
	id    sim.NodeID
	cfg   Config
	bugs  bugSet
	newSM service.NewStateMachine
	env   sim.Env // valid only during a handler call

	rn       *raft.RawNode
	storage  *raft.MemoryStorage
	diskLast uint64 // the index of the last entry written to the disk
	// unsynced: under the sync-on-tick bug, writes wait for the next tick.
	unsynced bool
	// halted: the disk holds a corrupt synced record; the server ignores
	// everything from now on.
	halted bool

	// What the last Ready said about this server.
	role raft.StateType
	lead sim.NodeID
	term uint64

	sessions *service.Sessions
	pending  map[sim.NodeID]pendingReply // leader: clients waiting, by client
}

// Start implements sim.Node: rebuild the MemoryStorage from the disk, as
// etcd-raft's documentation prescribes for a restart (snapshot, then
// HardState, then entries), and make a RawNode over it.
func (s *server) Start(env sim.Env) {
	s.env = env
	defer s.done()
	st, ok := s.recoverDisk()
	if !ok {
		return
	}
	s.rebuild(st)
	env.SetTimer(timerTick, s.cfg.TickInterval)
	s.handleReady()
}

// recoverDisk reads the durable state, halting on a corrupt record, and
// bootstraps an empty disk: the snapshot record is synced before anything
// else is written, so a disk without one has never been used.
func (s *server) recoverDisk() (durableState, bool) {
	servers := s.env.Servers()
	if int(s.id) >= len(servers) || servers[s.id] != s.id {
		panic("etcdraft: node " + s.id.String() + " is not a server")
	}
	st := loadState(s.env.Disk(), s.bugs)
	if st.fault != "" {
		s.halt(st.fault)
		return st, false
	}
	if st.fresh {
		st.snap = bootstrapSnapshot(servers)
		st.hard = pb.HardState{Term: st.snap.Term, Commit: st.snap.Index}
		s.env.Disk().Put(snapKey, encode(&st.snap))
		s.env.Disk().Sync()
	}
	return st, true
}

// rebuild makes the volatile state from the durable one: the MemoryStorage,
// an empty state machine (the committed log is applied again) and the
// RawNode.
func (s *server) rebuild(st durableState) {
	s.storage = raft.NewMemoryStorage()
	must(s.storage.ApplySnapshot(pb.Snapshot{Metadata: st.snap}))
	must(s.storage.SetHardState(st.hard))
	must(s.storage.Append(st.entries))
	s.diskLast = st.lastIndex()
	s.term, s.lead = st.hard.Term, sim.None
	s.sessions = service.NewSessions(s.newSM())
	s.pending = map[sim.NodeID]pendingReply{}
	var err error
	s.pin(func() { s.rn, err = raft.NewRawNode(s.raftConfig()) })
	must(err)
}

// raftConfig maps Config onto raft.Config. Applied stays 0: the state
// machine is volatile, so a restarted server applies the committed log again
// from the snapshot on. Followers do not forward proposals: clients are
// redirected to the leader instead, as with simrun's own Raft. The byte
// budget of committed entries per Ready defaults to MaxSizePerMsg in
// etcd-raft, and a budget of 0 panics at the first apply ("applying entry
// size ... not positive"), so max_size_per_msg 0 gets one entry per Ready.
func (s *server) raftConfig() *raft.Config {
	return &raft.Config{
		ID:                        raftID(s.id),
		ElectionTick:              s.cfg.ElectionTicks,
		HeartbeatTick:             s.cfg.HeartbeatTicks,
		Storage:                   s.storage,
		MaxSizePerMsg:             s.cfg.MaxSizePerMsg,
		MaxCommittedSizePerReady:  max(s.cfg.MaxSizePerMsg, 1),
		MaxInflightMsgs:           s.cfg.MaxInflightMsgs,
		CheckQuorum:               s.cfg.CheckQuorum,
		PreVote:                   s.cfg.PreVote,
		DisableProposalForwarding: true,
		Logger:                    quietLogger{},
	}
}

// Receive implements sim.Node.
func (s *server) Receive(env sim.Env, from sim.NodeID, m sim.Message) {
	if s.halted {
		return
	}
	s.env = env
	defer s.done()
	switch m := m.(type) {
	case Message:
		s.step(from, m)
	case VoteRequest:
		s.step(from, m.Message)
	default:
		if cmd, ok := service.RequestCommand(m); ok {
			s.handleRequest(from, cmd)
		}
	}
	s.handleReady()
}

// Timer implements sim.Node: one tick of etcd-raft's logical clock.
func (s *server) Timer(env sim.Env, kind sim.TimerKind) {
	if s.halted {
		return
	}
	s.env = env
	defer s.done()
	if s.unsynced {
		env.Disk().Sync() // planted bug sync-on-tick: the sync the last Ready skipped
		s.unsynced = false
	}
	s.pin(s.rn.Tick)
	env.SetTimer(timerTick, s.cfg.TickInterval)
	s.handleReady()
}

func (s *server) done() { s.env = nil }

// pin runs fn, a call into the RawNode, with crypto/rand reading this
// server's seeded stream: etcd-raft draws its randomized election timeouts
// from crypto/rand, which would otherwise make runs irreproducible.
func (s *server) pin(fn func()) { pinrand.Do(s.env.Rand(), fn) }

// step hands a peer's message to the RawNode.
func (s *server) step(from sim.NodeID, m Message) {
	msg, err := m.decode()
	if err != nil || msg.From != raftID(from) || msg.To != raftID(s.id) {
		panic(fmt.Sprintf("etcdraft: %v got a bad %v from %v (err %v)", s.id, m.Type, from, err))
	}
	s.pin(func() { err = s.rn.Step(msg) })
	// ErrStepPeerNotFound (a response from a non-member) is the only error a
	// peer's message yields, and there is nothing to do about it.
	_ = err
}

// halt stops the server for good: its disk lost a synced record.
func (s *server) halt(reason string) {
	s.halted = true
	s.env.Observe(sim.Observation{Kind: sim.ObsHalt, Text: "etcdraft: " + reason})
}

// must panics on an error that only a bug of the adapter can cause.
func must(err error) {
	if err != nil {
		panic("etcdraft: " + err.Error())
	}
}
