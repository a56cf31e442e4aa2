package pbft

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

// ByzantineReplica names a replica that misbehaves on purpose and how (see
// KnownBehaviours).
type ByzantineReplica struct {
	ID        sim.NodeID
	Behaviour string
}

// New returns the factory of PBFT replicas with the given configuration;
// each replicates a state machine built by newSM (wrapped in client
// sessions), which must be a service.Snapshotter. The replicas listed in
// byzantine play their behaviour instead of the protocol; Byzantine replicas
// with the same behaviour know each other and collude.
func New(cfg Config, newSM service.NewStateMachine, byzantine ...ByzantineReplica) (sim.Factory, error) {
	byz := slices.Clone(byzantine)
	slices.SortFunc(byz, func(a, b ByzantineReplica) int { return cmp.Compare(a.ID, b.ID) })
	factory, err := knownBugs.Factory(cfg, cfg.Bugs, newSM, func(id sim.NodeID, b bugSet) sim.Node {
		n := &node{id: id, cfg: cfg, bugs: b, newSM: newSM}
		for _, r := range byz {
			if r.ID == id {
				n.byz = newByzantine(r.Behaviour, byz)
			}
		}
		return n
	})
	if err != nil {
		return nil, err
	}
	if !service.NewSessions(newSM()).CanSnapshot() {
		return nil, errNoSnapshots
	}
	for i, r := range byz {
		if err := ValidateBehaviour(r.Behaviour); err != nil {
			return nil, err
		}
		if i > 0 && byz[i-1].ID == r.ID {
			return nil, fmt.Errorf("pbft: replica %v listed twice as Byzantine", r.ID)
		}
	}
	return factory, nil
}

// BUGGIFY fault points (sim.Env.Buggify): legal but rare behaviours that a
// world with Config.Buggify > 0 turns on for some runs, to reach paths that
// plain faults seldom do. Each is a loss the protocol must already survive,
// made to strike every link of one message at once.
const (
	buggifyWithholdVote    = "pbft/withhold-vote"             // a prepare or commit leaves only when retransmitted
	buggifySkipCheckpoint  = "pbft/skip-checkpoint-multicast" // a checkpoint message reaches no one
	buggifySkipStatusRound = "pbft/skip-status-round"         // no status or retransmission for an interval
	buggifyIgnoreRequest   = "pbft/ignore-client-request"     // a primary drops a client request
)

// The replica's timers.
const (
	// timerRequest is the view-change timer (§4.4): while active, it fires
	// when the oldest request a backup waits for has waited RequestTimeout;
	// during a view change, when the new view is overdue.
	timerRequest sim.TimerKind = iota
	// timerStatus paces status messages, retransmissions and, during a view
	// change, resends of the view-change message.
	timerStatus
	// timerByzantine serves the Byzantine behaviours (the crash moment,
	// releasing held messages).
	timerByzantine
)

// prePrepare is the pre-prepare a replica accepted for a sequence number in
// view (§4.2: one per view and sequence number).
type prePrepare struct {
	ok     bool
	view   uint64
	digest uint64
	cmd    service.Command
	sig    sim.Signature
}

// vote is a signed prepare or commit (sig.Signer is the voter).
type vote struct {
	view, digest uint64
	sig          sim.Signature
}

// entry is what a replica knows of one sequence number in its log window.
type entry struct {
	pp       prePrepare // durable
	prepares []vote     // at most one per voter: its latest view's
	commits  []vote

	prepareSent, commitSent bool     // in pp.view
	sentAt                  sim.Time // last (re)transmission of our messages in pp.view

	// cert is the prepared certificate of the latest view in which the
	// request prepared here (durable): what a view change carries (§4.4).
	cert   PreparedCert
	certOK bool
	// done is the commit certificate once the request committed (durable).
	done      CommitCert
	committed bool
}

// ownCheckpoint is a checkpoint this replica took (or installed): the state
// after seq, and its digest.
type ownCheckpoint struct {
	seq, digest, last uint64
	data              []byte
	sent              sim.Time // when its checkpoint message last went out
}

// snapshot is a checkpoint with the state's bytes and the certificate that
// proves it stable: what state transfer sends.
type snapshot struct {
	cert CheckpointCert
	last uint64
	data []byte
}

// checkpointVote is a signed checkpoint message received (or sent).
type checkpointVote struct {
	seq, digest uint64
	sig         sim.Signature
}

// waitingRequest is a request a backup received from a client and waits to
// see executed (§4.4).
type waitingRequest struct {
	client sim.NodeID
	seq    uint64
	since  sim.Time
}

// node is one PBFT replica: a pure state machine driven by the kernel.
type node struct {
	id    sim.NodeID
	cfg   Config
	bugs  bugSet
	newSM service.NewStateMachine
	byz   *byzantine // nil for a correct replica
	env   sim.Env    // valid only during a handler call

	servers []sim.NodeID
	f       int
	quorum  int // 2f+1 (Quorum), or 2f with the quorum-2f bug

	// View (durable): the view the replica is in, or, while changing, the
	// one it moves to (it sent a view-change message for it).
	view     uint64
	changing bool
	leaderOf uint64 // 1 + the last view this replica announced leading; 0 for none

	// The log window (h, h+L]: log[i] is sequence number h+1+i.
	h      uint64         // low water mark: the last stable checkpoint
	stable CheckpointCert // its proof (durable)
	log    []entry

	// Execution.
	exec        uint64 // the last sequence number executed
	sessions    *service.Sessions
	snap        snapshot         // the latest stable state this replica holds (durable)
	own         []ownCheckpoint  // checkpoints taken above h, oldest first
	ckptVotes   []checkpointVote // checkpoint messages for sequence numbers above h
	maxCommit   uint64           // the highest sequence number committed here
	recovering  bool             // re-executing at start: no replies
	lastExecVCs uint64           // exec when the current view-change wait began

	// Primary.
	next     uint64                // the next sequence number to assign
	assigned map[sim.NodeID]uint64 // client -> the latest request seq ordered in this view
	queued   []service.Command     // requests waiting for the window to move

	// Backup.
	waiting []waitingRequest

	// View change.
	viewChanges []MsgViewChange // the latest valid view-change message of each replica (View 0: none)
	ownVC       MsgViewChange   // ours, while changing
	failures    int             // view changes in a row without progress
	// quietView: this view was entered by a view change and has executed
	// nothing since; its request timer running out counts as a failure.
	quietView bool
	// viewWait is how long a backup waits for a request to execute in this
	// view: the backoff in force when the view began, kept while it lasts
	// (requestWait).
	viewWait time.Duration
	// slowest is the longest a request waited for here took to execute,
	// lately: each execution of one it waited for decays it by an eighth.
	slowest time.Duration
	// vcTimerArmed: while changing, the timer for the new view runs (2f+1
	// replicas asked for this view or a later one: armViewChangeTimer).
	vcTimerArmed bool
	newView      MsgNewView // the new-view message of the current view (View 0: none)

	dirty bool   // unsynced disk writes
	rec   []byte // the entry record being encoded (the disk keeps a copy)
}

// Start implements sim.Node: recover the view, the log and the stable
// checkpoint from the disk, re-execute what is known committed, and resume.
func (n *node) Start(env sim.Env) {
	n.env = env
	defer n.finish()
	n.servers = env.Servers()
	service.MustBeServer("pbft", n.id, n.servers)
	if len(n.servers) < MinServers || len(n.servers) > MaxServers {
		panic("pbft: the cluster must have 4 to 64 replicas")
	}
	n.f = Faulty(len(n.servers))
	n.quorum = Quorum(len(n.servers))
	if n.bugs.Has(quorum2f) {
		n.quorum = 2 * n.f
	}
	n.assigned = map[sim.NodeID]uint64{}
	n.viewChanges = make([]MsgViewChange, len(n.servers))
	n.sessions = service.NewSessions(n.newSM())
	if n.byz != nil && !n.byz.start(n) {
		return // silent, or stopped for good
	}
	fresh := n.recover(loadState(env.Disk()))
	if fresh && n.isPrimary() {
		n.announceLeader()
	}
	if n.changing {
		n.resumeViewChange()
	}
	env.SetTimer(timerStatus, env.Rand().DurationBetween(1, n.cfg.StatusInterval))
}

// Receive implements sim.Node.
func (n *node) Receive(env sim.Env, from sim.NodeID, m sim.Message) {
	n.env = env
	defer n.finish()
	if n.byz != nil && (n.byz.mute() || n.byz.receive(n, env, from, m)) {
		return
	}
	if cmd, ok := service.RequestCommand(m); ok {
		n.handleRequest(from, cmd)
	} else if n.isServer(from) && from != n.id {
		n.step(from, m)
	}
}

// step dispatches a message from another replica.
func (n *node) step(from sim.NodeID, m sim.Message) {
	switch m := m.(type) {
	case MsgPrePrepare:
		n.handlePrePrepare(from, m)
	case MsgPrepare:
		n.handlePrepare(from, m)
	case MsgCommit:
		n.handleCommit(from, m)
	case MsgCheckpoint:
		n.handleCheckpoint(from, m)
	case MsgViewChange:
		n.handleViewChange(from, m)
	case MsgNewView:
		n.handleNewView(m)
	case MsgStatus:
		n.handleStatus(from, m)
	case MsgCommitted:
		n.handleCommitted(m)
	case MsgState:
		n.handleState(m)
	}
}

// Timer implements sim.Node.
func (n *node) Timer(env sim.Env, kind sim.TimerKind) {
	n.env = env
	defer n.finish()
	if kind == timerByzantine && n.byz != nil {
		n.byz.timer(n)
		return
	}
	if kind >= twinTimers && n.byz != nil && n.byz.adv.twin != nil {
		n.byz.twinTimer(env, kind)
		return
	}
	if n.byz != nil && n.byz.mute() {
		return
	}
	switch kind {
	case timerRequest:
		n.tickRequest()
	case timerStatus:
		n.tickStatus()
		n.env.SetTimer(timerStatus, n.cfg.StatusInterval)
	}
}

// finish ends every handler: make every write durable, check the
// invariants, and drop the env.
func (n *node) finish() {
	n.flush()
	n.checkInvariants()
	n.env = nil
}

// Cluster arithmetic.

func (n *node) size() int { return len(n.servers) }

func (n *node) isServer(id sim.NodeID) bool { return id >= 0 && int(id) < len(n.servers) }

// primary of view v is replica v mod |R| (§4.1).
func (n *node) primary(v uint64) sim.NodeID { return sim.NodeID(v % uint64(len(n.servers))) }

// isPrimary reports whether this replica is the active primary of its view.
func (n *node) isPrimary() bool { return !n.changing && n.primary(n.view) == n.id }

// prepareQuorum is how many matching prepares from distinct backups make a
// request prepared, with the pre-prepare: 2f (§4.2).
func (n *node) prepareQuorum() int { return n.quorum - 1 }

func bit(id sim.NodeID) uint64 { return 1 << uint(id) }

// The log window.

// window is L.
func (n *node) window() uint64 { return uint64(n.cfg.LogWindow) }

// inWindow reports whether seq is between the water marks: h < seq <= h+L.
func (n *node) inWindow(seq uint64) bool { return seq > n.h && seq <= n.h+n.window() }

// at returns the entry of seq, or nil if the log holds none.
func (n *node) at(seq uint64) *entry {
	if seq <= n.h || seq > n.h+uint64(len(n.log)) {
		return nil
	}
	return &n.log[seq-n.h-1]
}

// ensure returns the entry of seq, which must be in the window.
func (n *node) ensure(seq uint64) *entry {
	n.assert(n.inWindow(seq), "an entry outside the water marks")
	for n.h+uint64(len(n.log)) < seq {
		n.log = append(n.log, entry{})
	}
	return &n.log[seq-n.h-1]
}

// lastSeq is the highest sequence number the log holds (h if none).
func (n *node) lastSeq() uint64 { return n.h + uint64(len(n.log)) }

// Sending.

// flush syncs the disk if anything was written: what a replica promised
// (its view, accepted pre-prepares, prepared certificates, commits,
// checkpoints) reaches stable storage before any message that reveals it.
func (n *node) flush() {
	if n.dirty {
		n.env.Disk().Sync()
		n.dirty = false
	}
}

// send flushes, then sends m to one node; a Byzantine replica may hold it.
func (n *node) send(to sim.NodeID, m sim.Message) {
	n.flush()
	if n.byz != nil && n.byz.hold(n, to, m) {
		return
	}
	n.env.Send(to, m)
}

// broadcast sends m to every other replica.
func (n *node) broadcast(m sim.Message) {
	for _, id := range n.servers {
		if id != n.id {
			n.send(id, m)
		}
	}
}

// sign signs digest as this replica.
func (n *node) sign(digest uint64) sim.Signature { return n.env.Sign(digest) }

// verify checks that sig is signer's signature of digest.
func (n *node) verify(sig sim.Signature, signer sim.NodeID, digest uint64) bool {
	return sig.Signer == signer && sig.Digest == digest && n.env.Verify(sig)
}

// announceLeader reports that this replica leads its view, once per view.
func (n *node) announceLeader() {
	if n.leaderOf == n.view+1 {
		return
	}
	n.leaderOf = n.view + 1
	n.env.Observe(sim.Observation{Kind: sim.ObsLeader, Term: n.view})
}

// backoff is the wait for a new view after the failures-th view change in a
// row without progress (§4.5.2: "it will wait 2T"): a view change that
// brought in no new view in time, or a new view that executed no request in
// time, doubles it.
func (n *node) backoff() time.Duration {
	return n.cfg.RequestTimeout << uint(min(n.failures, n.cfg.BackoffLimit))
}

// requestWait is how long a backup waits for a request to execute: the
// backoff in force when the view began (§4.5.2's timer runs until a request
// executes in the new view), kept while the view lasts though an execution
// resets the backoff for the next view change; and at least twice the
// slowest execution lately, up to the longest backoff. On a network slower
// than RequestTimeout the doubling lets a view execute requests at all, and
// the measure keeps a view that does from being deposed at its next request
// and the doubling from starting over. A faulty primary may delay requests
// by up to that longest backoff unseen (Aardvark's concern), as it may
// delay them by RequestTimeout without it.
func (n *node) requestWait() time.Duration {
	wait := max(n.viewWait, n.cfg.RequestTimeout)
	return max(wait, min(2*n.slowest, n.cfg.RequestTimeout<<uint(n.cfg.BackoffLimit)))
}
