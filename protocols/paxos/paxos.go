package paxos

import (
	"math/bits"
	"time"

	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

// New returns the factory of Multi-Paxos servers with the given
// configuration; each server replicates a state machine built by newSM
// (wrapped in client sessions, so a retried command runs once).
func New(cfg Config, newSM service.NewStateMachine) (sim.Factory, error) {
	return knownBugs.Factory(cfg, cfg.Bugs, newSM, func(id sim.NodeID, b bugSet) sim.Node {
		return &node{id: id, cfg: cfg, bugs: b, newSM: newSM}
	})
}

// MaxServers bounds the cluster: a leader counts phase-2 answers per slot in
// a 64-bit set.
const MaxServers = 64

// BUGGIFY fault points (sim.Env.Buggify): legal but rare behaviours that a
// world with Config.Buggify > 0 turns on for some runs, to reach paths that
// plain faults seldom do.
const (
	buggifySkipHeartbeat    = "paxos/skip-heartbeat-round"  // a leader misses a round: followers may take over
	buggifyMinLeaderTimeout = "paxos/min-leader-timeout"    // no randomized timeout: proposers duel
	buggifyOneSlot          = "paxos/one-slot-per-message"  // accepts and catch-up one slot per message
	buggifySkipDecide       = "paxos/skip-decide"           // a decision is not announced: learners fetch it
	buggifyIgnoreRequest    = "paxos/ignore-client-request" // a leader drops a client request: the client retries
)

// The node's timers.
const (
	// timerLeader is the failure detector of a follower (no word from a
	// leader for the timeout: take over) and the phase-1 timeout of a
	// proposer (no majority of promises: try a higher ballot).
	timerLeader sim.TimerKind = iota
	// timerHeartbeat paces a leader's heartbeats and retransmissions, and a
	// proposer's prepare retries.
	timerHeartbeat
)

// role is what a server does beyond being an acceptor and a learner, which
// every server always is (PMS §2.1: one process may play several roles).
type role uint8

const (
	roleFollower role = iota + 1 // accepts and learns; follows the leader it hears
	roleProposer                 // runs phase 1 for its ballot
	roleLeader                   // phase 1 done: the distinguished proposer, phase 2 per slot
)

var roleNames = [...]string{roleFollower: "follower", roleProposer: "proposer", roleLeader: "leader"}

func (r role) String() string { return roleNames[r] }

// adoption is the proposal with the highest ballot that phase 1 has heard of
// for one slot (PMS §2.2, P2c).
type adoption struct {
	ballot uint64
	cmd    service.Command
}

// node is one Multi-Paxos server, at once proposer, acceptor and learner: a
// pure state machine driven by the kernel.
type node struct {
	id    sim.NodeID
	cfg   Config
	bugs  bugSet
	newSM service.NewStateMachine
	env   sim.Env // valid only during a handler call

	servers []sim.NodeID
	size    uint64 // cluster size: ballot b belongs to server b % size

	// The configurations chosen up to the commit index, in slot order (the
	// initial one first, at slot 0; those a snapshot covers and no slot
	// after it needs are dropped): membership.go.
	history []ConfigChange

	// Acceptor state, persistent (PMS §2.3): the highest ballot promised,
	// and in log the proposal accepted in each slot.
	promise uint64

	// The log: log[i] is slot base()+1+i. Slots up to base() = snap.Index
	// are compacted into snap.
	snap Snapshot
	log  []record

	// Learner state, volatile: every slot up to commit is chosen and known;
	// applied slots have run on the state machine.
	commit, applied uint64
	sessions        *service.Sessions
	canSnapshot     bool
	knownCommit     uint64   // the highest commit a leader announced
	learnSentAt     sim.Time // when the outstanding MsgLearn left
	learnPending    bool
	learnSource     sim.NodeID // the server a spare's failure detector asked last
	seeking         bool       // a spare that heard no leader asks servers for what they know chosen

	// Proposer state, volatile.
	role     role
	ballot   uint64     // proposer or leader: the ballot it runs
	lead     sim.NodeID // follower: the leader it hears, if any (a hint for clients)
	maxSeen  uint64     // the highest ballot seen in any message
	failures int        // phase-1 attempts in a row that did not end in a leader

	// Failure detector: the timer fires lazily and is re-armed if the leader
	// was heard from since, so heartbeats cost no timer churn.
	timeout time.Duration
	heardAt sim.Time

	// The configurations the ballot covers: phase 1 asks a majority of each
	// (those governing the window when it started), and the leader proposes
	// only in slots they govern (membership.go).
	ballotConfs []sim.Members

	// Phase 1 (proposer): who promised, the adopted proposals for slots
	// p1From+i, the highest slot any promise reported, and the slots some
	// promiser lost (rejoin.go). A leader keeps adopted proposals past its
	// window until it proposes them.
	promised  uint64
	p1From    uint64
	p1Last    uint64
	adopted   []adoption
	p1Unknown []unknownSlot

	// Phase 2 (leader).
	next        uint64                 // the next free slot
	resendBelow uint64                 // unanswered proposals below this are resent at the next heartbeat
	unanswered  []int                  // per server: accepts sent and not answered (flow control)
	pending     service.PendingReplies // clients waiting for a reply, at the slot proposed
	decided     []uint64               // slots chosen by counting in this handler, to announce
	queue       []service.Command      // client commands waiting for a slot in the window
	wantChange  sim.Members            // a requested configuration, not proposed yet (0: none)
	changeAt    uint64                 // the slot of the last configuration this leader proposed
	padUntil    uint64                 // slots up to here get no-ops: the old configuration's rest
	takeOver    uint64                 // follower: campaign once the commit index reaches it (a hand-over)

	rejoining  bool     // acceptor state was lost: neither promise nor accept (rejoin.go)
	lostSlots  int      // records lost to corruption, not repaired yet (rejoin.go)
	dirty      bool     // unsynced disk writes that the next send must sync
	lazyWrites int      // unsynced writes that may wait for a later sync (the commit index, deletes of superseded records)
	superseded []string // slot record versions to delete once the versions that replace them are synced
	// commitAfterSync: the commit index advanced while records waited for a
	// sync; it is written after that sync (putCommit).
	commitAfterSync bool
	scratch         []byte // reused to encode disk writes
}

// Start implements sim.Node: recover the acceptor's promise and accepted
// proposals, the snapshot and the learned slots from the disk, re-apply what
// is known chosen, and start as a follower.
func (n *node) Start(env sim.Env) {
	n.env = env
	n.servers = env.Servers()
	service.MustBeServer("paxos", n.id, n.servers)
	if len(n.servers) > MaxServers {
		panic("paxos: more than 64 servers")
	}
	n.size = uint64(len(n.servers))
	n.history = []ConfigChange{{Members: n.initialConf()}}
	n.pending = service.PendingReplies{}
	n.unanswered = make([]int, len(n.servers))
	n.lead = sim.None
	n.sessions = service.NewSessions(n.newSM())
	n.canSnapshot = n.cfg.SnapshotInterval > 0 && n.sessions.CanSnapshot()
	st := loadState(env.Disk())
	if st.torn {
		n.probe(ProbeTornRecordDropped)
		env.Observe(sim.Observation{Kind: sim.ObsNote, Text: "paxos: dropped a slot record that a crash cut before it was synced"})
	}
	n.recover(st)
	switch {
	case st.lost && n.size > 1:
		n.startRejoin()
	case st.lost: // no one to ask (rejoin.go): the marker the load wrote goes
		env.Disk().Delete(rejoinKey)
		n.dirty = true
	}
	n.becomeFollower(sim.None)
	n.finish()
}

// recover installs what the disk held. Chosen slots are announced again, as
// a restarted learner learns them anew, and applied in order.
func (n *node) recover(st durableState) {
	n.promise = st.promise
	if st.snapshot.Index > 0 {
		n.restoreSnapshot(st.snapshot)
	}
	for _, sr := range st.records {
		if sr.rec.lost && n.size == 1 {
			sr.rec.lost = false // no one to ask: see rejoin.go
		}
		*n.ensure(sr.slot) = sr.rec
		if sr.rec.lost {
			n.lostSlots++
		}
		n.maxSeen = max(n.maxSeen, sr.rec.ballot)
		if sr.rec.chosen {
			n.observeCommit(sr.slot, &sr.rec)
		}
	}
	n.maxSeen = max(n.maxSeen, n.promise)
	n.advanceCommit()
}

// Receive implements sim.Node.
func (n *node) Receive(env sim.Env, from sim.NodeID, m sim.Message) {
	n.env = env
	if cmd, ok := service.RequestCommand(m); ok {
		n.handleRequest(from, cmd)
	} else if n.isServer(from) && from != n.id {
		n.step(from, m)
	}
	n.finish()
}

// step dispatches a message from another server.
func (n *node) step(from sim.NodeID, m sim.Message) {
	switch m := m.(type) {
	case MsgPrepare:
		n.handlePrepare(from, m)
	case MsgPromise:
		n.handlePromise(from, m)
	case MsgNack:
		n.handleNack(m)
	case MsgAccept:
		n.handleAccept(from, m)
	case MsgAccepted:
		n.handleAccepted(from, m)
	case MsgDecide:
		n.handleDecide(from, m)
	case MsgHeartbeat:
		n.handleHeartbeat(from, m)
	case MsgLearn:
		n.handleLearn(from, m)
	case MsgChosen:
		n.handleChosen(from, m)
	case MsgSnapshot:
		n.handleSnapshot(from, m)
	case MsgHandOver:
		n.handleHandOver(from, m)
	default:
		panic("paxos: unexpected message " + string(m.AppendTrace(nil)))
	}
}

// Timer implements sim.Node.
func (n *node) Timer(env sim.Env, kind sim.TimerKind) {
	n.env = env
	switch kind {
	case timerLeader:
		n.tickLeaderTimeout()
	case timerHeartbeat:
		n.tickHeartbeat()
	}
	n.finish()
}

// finish ends every handler: follow a configuration change, make every
// write durable, check the invariants, and drop the env.
func (n *node) finish() {
	n.checkConfiguration()
	n.flush()
	n.checkInvariants()
	n.env = nil
}

func (n *node) isServer(id sim.NodeID) bool { return id >= 0 && int(id) < len(n.servers) }

// Ballots. PMS §2.2 needs proposal numbers that are totally ordered and
// unique to one proposer; PMS §2.5 suggests disjoint sets of numbers per
// proposer. Ballot round*size + id orders by (round, id) lexicographically,
// and as a plain number it is what ObsLeader reports as the term: the one
// leader per term checker then means one leader per ballot. Ballot 0 is no
// ballot: rounds start at 1.

// owner returns the server whose ballot b is.
func (n *node) owner(b uint64) sim.NodeID { return sim.NodeID(b % n.size) }

// nextBallot returns this server's smallest ballot above every ballot it has
// promised or seen. The promise is on disk and covers every ballot this
// server ever used (it promises its own ballot before sending a prepare), so
// a restarted server never reuses a ballot.
func (n *node) nextBallot() uint64 {
	highest := max(n.promise, n.maxSeen)
	b := max(highest/n.size, 1)*n.size + uint64(n.id)
	if b <= highest {
		b += n.size
	}
	return b
}

func bit(id sim.NodeID) uint64 { return 1 << uint(id) }

func count(set uint64) int { return bits.OnesCount64(set) }

// seeBallot notes a ballot carried by a message. A proposer or leader that
// sees a higher ballot than its own has been preempted and abandons its
// attempt (PMS §2.2: "the proposer ... should then abandon its attempt").
func (n *node) seeBallot(b uint64) {
	n.maxSeen = max(n.maxSeen, b)
	if n.role != roleFollower && b > n.ballot {
		n.probe(ProbePreempted)
		if n.role == roleLeader {
			n.probe(ProbeLeaderPreempted)
		}
		n.failures++
		n.becomeFollower(sim.None)
	}
}

// becomeFollower gives up any proposer or leader role and waits for a
// leader, with the failure detector armed.
func (n *node) becomeFollower(lead sim.NodeID) {
	if n.role != roleFollower {
		n.env.CancelTimer(timerHeartbeat)
		n.dropLeadership()
	}
	n.role, n.lead = roleFollower, lead
	n.resetLeaderTimer()
}

// follow notes a live leader of ballot b (b at least our promise).
func (n *node) follow(b uint64) {
	if n.role == roleFollower && !n.rejoining {
		n.lead = n.owner(b)
		n.heardAt = n.env.Now()
		n.seeking = false
	}
}

// resetLeaderTimer draws a fresh randomized timeout, doubled for every
// failed phase-1 attempt in a row up to BackoffLimit times, and arms the
// failure detector with it.
func (n *node) resetLeaderTimer() {
	d := n.env.Rand().DurationBetween(n.cfg.LeaderTimeoutMin, n.cfg.LeaderTimeoutMax)
	if n.env.Buggify(buggifyMinLeaderTimeout) {
		d = n.cfg.LeaderTimeoutMin // servers time out together: duels
	}
	n.timeout = d << uint(min(n.failures, n.cfg.BackoffLimit))
	n.heardAt = n.env.Now()
	n.env.SetTimer(timerLeader, n.timeout)
}

// leaderTimeoutDue reports whether the timeout has run out since heardAt;
// if not, it re-arms the timer for the rest.
func (n *node) leaderTimeoutDue() bool {
	deadline := n.heardAt.Add(n.timeout)
	if now := n.env.Now(); now < deadline {
		n.env.SetTimer(timerLeader, deadline.Sub(now))
		return false
	}
	return true
}

// tickLeaderTimeout: a follower that heard no leader within its timeout
// takes over (PMS §3: a new leader is selected when the old one fails); a
// proposer whose phase 1 did not complete in time tries a higher ballot.
func (n *node) tickLeaderTimeout() {
	switch n.role {
	case roleFollower:
		switch {
		case !n.leaderTimeoutDue():
		case n.member():
			n.startPhase1()
		default:
			// A spare or removed server never campaigns, but it may be a
			// member without knowing it: a change that replaced every
			// member leaves no one who heard it to tell the new members,
			// once the old leader stepped down. It asks the servers in turn
			// for what they know chosen.
			n.resetLeaderTimer()
			n.seeking = true
			n.requestLearn(n.nextLearnSource())
		}
	case roleProposer:
		if n.leaderTimeoutDue() {
			n.failures++
			n.startPhase1()
		}
	}
}

// tickHeartbeat: a leader sends heartbeats and retransmits; a proposer
// retries its prepare with the servers that have not promised (messages may
// be lost).
func (n *node) tickHeartbeat() {
	switch n.role {
	case roleLeader:
		if !n.env.Buggify(buggifySkipHeartbeat) {
			n.heartbeat()
		}
	case roleProposer:
		n.sendPrepares()
	default:
		return
	}
	n.env.SetTimer(timerHeartbeat, n.cfg.HeartbeatInterval)
}

// Sending.

// flush syncs the disk if anything was written. PMS §2.3: an acceptor
// remembers its promise and its accepted proposals across failures, so they
// reach stable storage before any reply that reveals them. Every send goes
// through send, which flushes first: no promise or acceptance leaves ahead of
// the state it depends on.
func (n *node) flush() {
	if n.dirty {
		n.env.Disk().Sync()
		n.dirty, n.lazyWrites = false, 0
		n.deleteSuperseded()
		if n.commitAfterSync {
			n.commitAfterSync = false
			n.putCommit()
		}
	}
}

// deleteSuperseded deletes the slot record versions that newer ones, now
// synced, superseded. The deletes wait for a later sync, as the commit index
// does: a crash that loses them leaves both versions, and the loader keeps
// the newer.
func (n *node) deleteSuperseded() {
	d := n.env.Disk()
	for _, key := range n.superseded {
		d.Delete(key)
		n.lazyWrites++
	}
	n.superseded = n.superseded[:0]
}

func (n *node) send(to sim.NodeID, m sim.Message) {
	n.flush()
	n.env.Send(to, m)
}

// broadcast sends m to every other server.
func (n *node) broadcast(m sim.Message) {
	for _, id := range n.servers {
		if id != n.id {
			n.send(id, m)
		}
	}
}

// dropLeadership forgets what a proposer or leader kept for its ballot:
// clients waiting, adopted values, queued commands, a change in progress.
func (n *node) dropLeadership() {
	clear(n.pending)
	clear(n.adopted)
	n.adopted = n.adopted[:0]
	clear(n.queue)
	n.queue = n.queue[:0]
	n.wantChange, n.changeAt, n.padUntil = 0, 0, 0
}

// The log.

// base is the last slot compacted into the snapshot (0 if none).
func (n *node) base() uint64 { return n.snap.Index }

// lastSlot is the highest slot the log holds (base if it is empty).
func (n *node) lastSlot() uint64 { return n.base() + uint64(len(n.log)) }

// rec returns slot s's record, or nil if s is compacted or past the log.
func (n *node) rec(s uint64) *record {
	if s <= n.base() || s > n.lastSlot() {
		return nil
	}
	return &n.log[s-n.base()-1]
}

// ensure returns slot s's record, growing the log with empty records.
func (n *node) ensure(s uint64) *record {
	n.assert(s > n.base(), "a record for a compacted slot")
	for n.lastSlot() < s {
		n.log = append(n.log, record{})
	}
	return &n.log[s-n.base()-1]
}

// isChosen reports whether s is known chosen.
func (n *node) isChosen(s uint64) bool {
	if s <= n.commit {
		return true
	}
	r := n.rec(s)
	return r != nil && r.chosen
}
