package raft

import (
	"time"

	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

// New returns the factory of Raft servers with the given configuration; each
// server replicates a state machine built by newSM (wrapped in client
// sessions, so a retried command runs once).
func New(cfg Config, newSM service.NewStateMachine) (sim.Factory, error) {
	return knownBugs.Factory(cfg, cfg.Bugs, newSM, func(id sim.NodeID, b bugSet) sim.Node {
		return &node{id: id, cfg: cfg, bugs: b, newSM: newSM, lease: leaseDuration(cfg, b),
			logKeys: service.IndexKeyRun{Prefix: logKeyPrefix, Step: entriesPerChunk}}
	})
}

// resendAfterHeartbeats is how many heartbeat intervals a leader waits for a
// replicated follower to acknowledge anything before it resends from the
// follower's match index (Raft §5.3: the leader retries AppendEntries
// indefinitely). Waiting for a few intervals, not one, keeps entries that are
// merely slow (a round trip longer than an interval) from being resent.
const resendAfterHeartbeats = 3

// BUGGIFY fault points (sim.Env.Buggify): legal but rare behaviours that a
// world with Config.Buggify > 0 turns on for some runs, to reach paths that
// plain faults seldom do.
const (
	buggifyOneEntry           = "raft/one-entry-per-append"  // catch a follower up one entry per round trip
	buggifySkipHeartbeat      = "raft/skip-heartbeat-round"  // a leader misses a heartbeat round
	buggifyMinElectionTimeout = "raft/min-election-timeout"  // no randomized timeout: split votes
	buggifyIgnoreRequest      = "raft/ignore-client-request" // a leader drops a client request
)

// The node's timers. A follower and a candidate use timerElection; a candidate
// also uses timerHeartbeat to retry vote requests, a leader to send heartbeats.
const (
	timerElection sim.TimerKind = iota
	timerHeartbeat
)

type role uint8

const (
	roleFollower role = iota + 1
	roleCandidate
	roleLeader
	rolePreCandidate // pre_vote: asking whether a majority would vote (prevote.go)
)

var roleNames = [...]string{roleFollower: "follower", roleCandidate: "candidate", roleLeader: "leader",
	rolePreCandidate: "pre-candidate"}

func (r role) String() string { return roleNames[r] }

// Votes a candidate has heard, per server.
const (
	voteUnknown int8 = iota
	voteGranted
	voteRejected
)

// progress is the leader's view of one follower (Raft Figure 2, nextIndex and
// matchIndex). A follower is probed (one MsgApp at next-1 per heartbeat until
// it answers) while the leader does not know where its log matches, and
// replicated to optimistically (next advances as entries are sent, so appends
// pipeline) once it does.
type progress struct {
	match, next uint64
	probing     bool
	// inflight says entries were sent that the follower has not all
	// acknowledged; inflightSince is when they were sent, or when the last
	// acknowledgement arrived. A replicated follower that makes no progress
	// for resendAfterHeartbeats intervals has probably lost a MsgApp and is
	// probed again from match+1.
	inflight      bool
	inflightSince sim.Time
	// appended says a MsgApp with entries went out since the last heartbeat,
	// which did the heartbeat's job: the heartbeat is skipped.
	appended bool
}

// node is one Raft server: a pure state machine driven by the kernel. Role
// logic is swapped in as step and tick functions (becomeFollower,
// becomeCandidate, becomeLeader install them).
type node struct {
	id    sim.NodeID
	cfg   Config
	bugs  bugSet
	newSM service.NewStateMachine
	env   sim.Env // valid only during a handler call

	servers []sim.NodeID
	// The configurations of the log (membership.go): configs lists its
	// configuration entries, the initial configuration first; conf is the
	// latest, in force; change is a leader's change waiting for learners.
	configs []configEntry
	conf    configuration
	change  changeState

	// Persistent state on all servers (Raft Figure 2), written through to the
	// disk and synced before any message that depends on it is sent.
	term uint64
	vote sim.NodeID
	log  entryLog // position i is the entry at index snap.index+i; 0 is a sentinel of the snapshot's term
	// snap is the latest snapshot (snapshot.go; index 0: none), which stands
	// for the log up to its index. canSnapshot: SnapshotInterval > 0 and
	// the state machine is a service.Snapshotter.
	snap        snapshot
	canSnapshot bool

	// Volatile state.
	commit, applied uint64
	role            role
	lead            sim.NodeID // the leader of the current term, if known
	step            func(n *node, from sim.NodeID, m sim.Message)
	tick            func(n *node, kind sim.TimerKind)
	sessions        *service.Sessions
	// apps and appResps hold the AppendEntries messages sent (sendApp),
	// replies the answers to applied commands (replyApplied).
	apps     service.Slab[MsgApp]
	appResps service.Slab[MsgAppResp]
	replies  service.Slab[service.Reply]
	// writeCache holds the writes a follower acknowledged and forwarded
	// but has not applied: the follower-write-cache option only.
	writeCache []cachedWrite
	proxies    uint64 // proxy commands made so far, numbering their sessions (forwardClient)
	// splits are the transactions a leader logs in parts: the
	// partial-transactions option only.
	splits []*splitTxn

	// Reads outside the log (reads.go): the leader's rounds, lease and
	// waiting reads; the lease's length; when a follower last heard from a
	// leader (or restarted), for the votes it refuses in lease mode.
	reads       readState
	lease       time.Duration
	heardLeader sim.Time
	seenTerm    uint64 // the highest term of a vote request ignored for a recent leader

	// Election timer: the timer fires lazily, and tickElection re-arms it if
	// the leader was heard from since, so heartbeats cost no timer churn.
	electionTimeout time.Duration
	electionStart   sim.Time

	votes []int8 // candidate, pre-candidate: the answer of each server
	// preVoteNext is the term a pre-candidate asks about; transferVote says
	// a candidate campaigns on a MsgTimeoutNow (its MsgVotes say so).
	preVoteNext  uint64
	transferVote bool

	transfer transferState // leader: a hand-over in progress (transfer.go)
	heard    []sim.Time    // leader, check_quorum: when each server last answered

	prs     []progress             // leader: per server (its own entry tracks its log)
	pending service.PendingReplies // leader: clients waiting for a reply, at the index appended
	scratch []uint64               // leader: reused to sort match indexes

	// lost, if not zero, is the last entry of a log that disk corruption cut
	// short. The lost entries may have been acknowledged and counted toward
	// a commit, and Raft's safety (§5.4.3) rests on every server of a
	// majority that stores a committed entry refusing its vote to candidates
	// with a less up-to-date log. The §5.4.1 check only needs the last
	// entry's index and term, so the server keeps voting as if it still had
	// the lost entries (against lost, when that is ahead of its log); and it
	// does not campaign, since it cannot vote for itself by that rule. Once
	// its log from a leader is as up-to-date as lost, it holds every entry
	// committed with its help again, and lost is cleared. Persisted with the
	// hard state. (Cf. protocol-aware recovery, Alagappan et al., FAST 2018.)
	lost logPosition
	// down is set when the disk is beyond repair (both hard state copies
	// corrupt): the server ignores everything, as if it had never restarted.
	down bool

	hardDirty, logDirty bool                // unsynced writes of hard state and log
	tailChunk           []byte              // the encoding of the log's last chunk, as on disk
	chunkBufs           service.ByteSlab    // where tail chunks are built, several to an allocation
	logKeys             service.IndexKeyRun // the chunks' keys, many to an allocation
}

// Start implements sim.Node: recover the persistent state from the disk and
// start as a follower (Raft §5.2: servers start up as followers).
func (n *node) Start(env sim.Env) {
	n.env = env
	n.servers = env.Servers()
	service.MustBeServer("raft", n.id, n.servers)
	if len(n.servers) > MaxServers {
		panic("raft: more servers than a configuration holds (MaxServers)")
	}
	n.prs = make([]progress, len(n.servers))
	n.votes = make([]int8, len(n.servers))
	n.heard = make([]sim.Time, len(n.servers))
	n.transfer.to = sim.None
	n.scratch = make([]uint64, len(n.servers))
	n.pending = service.PendingReplies{}
	st := loadState(env.Disk())
	if st.fault != "" {
		n.down = true
		env.Observe(sim.Observation{Kind: sim.ObsHalt, Text: "raft: " + st.fault})
		n.env = nil
		return
	}
	n.term, n.vote, n.lost, n.log, n.snap = st.hard.term, st.hard.vote, st.hard.lost, st.log, st.snap
	if n.recovering() {
		n.announceImpaired()
	}
	if st.torn {
		n.probe(ProbeTornEntryDropped)
		env.Observe(sim.Observation{Kind: sim.ObsNote, Text: "raft: dropped the torn end of the log, an append a crash cut before it was synced"})
	}
	n.loadTailChunk()
	n.loadConfigs()
	n.restoreSessions(n.snap.data)
	n.canSnapshot = n.cfg.SnapshotInterval > 0 && n.sessions.CanSnapshot()
	if n.snap.index > 0 {
		// The snapshot holds only committed entries, applied.
		n.probe(ProbeSnapshotRestored)
		n.commit, n.applied = n.snap.index, n.snap.index
		env.Observe(sim.Observation{Kind: sim.ObsApply, Term: n.snap.term, Index: n.snap.index, Digest: n.snap.digest,
			State: service.StateDigest(n.snap.data)})
	}
	if !n.bugs.Has(restartForgetsGuard) {
		n.heardLeader = env.Now() // it may have acknowledged a leader just before it crashed
	}
	n.becomeFollower(n.term, sim.None)
	n.finish()
}

// announceImpaired tells the runner that the log is short of entries this
// server may have helped commit (see lost): it votes only for candidates
// that hold them, which without a leader may be none of those up.
func (n *node) announceImpaired() {
	text := sim.TraceLine("raft: corruption cut the log short of entries it may have acknowledged; it votes as if "+
		"it held them, and does not campaign, until a leader brings them back:").
		Uint("last", n.lastIndex()).Uint("lost-index", n.lost.index).Uint("lost-term", n.lost.term)
	n.env.Observe(sim.Observation{Kind: sim.ObsImpaired, Text: string(text)})
}

// Receive implements sim.Node.
func (n *node) Receive(env sim.Env, from sim.NodeID, m sim.Message) {
	if n.down {
		return
	}
	n.env = env
	m = byPointer(m)
	if cmd, ok := service.RequestCommand(m); ok {
		n.handleRequest(from, cmd)
	} else if _, ok := service.ReplyOf(m); ok {
		// A leader's answer to a write this follower forwarded (the
		// follower-write-cache option): the client had its answer already.
	} else if n.isServer(from) && !n.ignoresNonMember(from, m) {
		n.stepTerm(from, m)
	}
	n.finish()
}

// Timer implements sim.Node.
func (n *node) Timer(env sim.Env, kind sim.TimerKind) {
	if n.down {
		return
	}
	n.env = env
	n.tick(n, kind)
	n.finish()
}

// finish ends every handler: make every write durable that the protocol
// promises to keep, check the invariants, and drop the env.
func (n *node) finish() {
	if n.role == roleLeader && len(n.reads.waiting) > 0 {
		n.serveWaiting() // a commit of the leader's term may free them
	}
	n.flush()
	n.checkInvariants()
	n.env = nil
}

func (n *node) isServer(id sim.NodeID) bool { return id >= 0 && int(id) < len(n.servers) }

// The log's indexes: every access goes through these, since the log starts
// at the snapshot (snapshot.go). An index below the snapshot panics.

func (n *node) lastIndex() uint64 { return n.snap.index + uint64(n.log.len()-1) }
func (n *node) lastTerm() uint64  { return n.log.at(n.log.len() - 1).Term }

// entryAt returns the entry at index, in (snap.index, lastIndex]; at
// snap.index, the sentinel, which holds only the snapshot's term.
func (n *node) entryAt(index uint64) *Entry { return n.log.at(int(index - n.snap.index)) }

// termAt returns the term of the entry at index, in [snap.index, lastIndex].
func (n *node) termAt(index uint64) uint64 { return n.log.at(int(index - n.snap.index)).Term }

// entriesFrom returns the entries from first to last, both included and
// above the snapshot, capped: no append into the slice can reach the log.
func (n *node) entriesFrom(first, last uint64) []Entry {
	return n.log.slice(int(first-n.snap.index), int(last+1-n.snap.index))
}

func (n *node) lastPosition() logPosition { return logPosition{n.lastIndex(), n.lastTerm()} }

// recovering reports whether entries lost to disk corruption are still ahead
// of the log (see lost).
func (n *node) recovering() bool { return n.lost != logPosition{} && !n.lastPosition().atLeast(n.lost) }

// messageTerm returns the term a Raft message carries.
func messageTerm(m sim.Message) uint64 {
	if m, ok := m.(sim.Termed); ok {
		term, _ := m.MessageTerm()
		return term
	}
	panic("raft: unexpected message " + string(m.AppendTrace(nil)))
}

// stepTerm applies the term rules every server follows, then hands the message
// to the role's step function.
func (n *node) stepTerm(from sim.NodeID, m sim.Message) {
	term := messageTerm(m)
	switch {
	case term > n.term && n.role == roleLeader && n.bugs.Has(leaderIgnoresHigherTerm) && isResponse(m):
		return // planted availability bug: the leader does not step down
	case term > n.term && n.ignoresVote(m) && !isTransferVote(m):
		// Lease mode (thesis §4.2.3): a leader was heard from too recently
		// to help elect another; the term is not adopted either, so a
		// server that cannot win does not reset everyone's timer. A later
		// campaign of this server starts past the term (seenTerm).
		n.probe(ProbeVoteIgnoredLeaderAlive)
		n.seenTerm = max(n.seenTerm, term)
		return
	case term > n.term:
		// Raft §5.1: a server that sees a larger term adopts it and reverts
		// to follower.
		lead := sim.None
		switch m.(type) {
		case *MsgApp, MsgSnapshot:
			lead = from
		}
		n.probe(ProbeStepDownHigherTerm)
		if n.role == roleLeader {
			n.probe(ProbeLeaderStepDown)
		}
		n.becomeFollower(term, lead)
	case term < n.term:
		// Raft §5.1: a request with a stale term is rejected, and the reply
		// carries the current term so that the sender steps down; a stale
		// reply is ignored.
		switch m := m.(type) {
		case MsgVote:
			n.probe(ProbeVoteRejectedStaleTerm)
			n.send(from, MsgVoteResp{Term: n.term})
		case MsgPreVote:
			n.probe(ProbePreVoteRejected)
			n.send(from, MsgPreVoteResp{Term: n.term, Next: m.Next})
		case *MsgApp:
			n.probe(ProbeAppendRejectedStale)
			if n.bugs.Has(staleAppendResetsTimer) && n.role == roleFollower {
				n.electionStart = n.env.Now() // planted availability bug: a deposed leader counts as alive
			}
			n.sendAppResp(from, MsgAppResp{Term: n.term, Index: m.PrevIndex, Reject: true}) // ConflictIndex 0: stale term
		case MsgSnapshot:
			n.probe(ProbeAppendRejectedStale)
			n.sendAppResp(from, MsgAppResp{Term: n.term, Index: m.Index, Reject: true}) // as a MsgApp of a stale term
		case MsgHeartbeat:
			n.probe(ProbeAppendRejectedStale)
			n.send(from, MsgHeartbeatResp{Term: n.term}) // round 0 confirms nothing; the term deposes the sender
		case *MsgAppResp:
			if n.bugs.Has(countStaleAcks) && n.role == roleLeader && !m.Reject {
				n.step(n, from, m) // planted bug: an older term's acknowledgement counts in this one
				return
			}
			n.probe(ProbeStaleResponseIgnored)
		default:
			n.probe(ProbeStaleResponseIgnored)
		}
		return
	}
	n.step(n, from, m)
}

// isResponse reports whether m answers a request (a vote or an
// AppendEntries).
func isResponse(m sim.Message) bool {
	switch m.(type) {
	case MsgVoteResp, *MsgAppResp, MsgHeartbeatResp, MsgPreVoteResp:
		return true
	}
	return false
}

// isTransferVote reports whether m is the MsgVote of a leadership transfer's
// target (thesis §3.10), which the guards against disruptive servers let
// through.
func isTransferVote(m sim.Message) bool {
	v, ok := m.(MsgVote)
	return ok && v.Transfer
}

// becomeFollower adopts term (clearing the vote if the term is new) and
// follows lead, if known.
func (n *node) becomeFollower(term uint64, lead sim.NodeID) {
	n.assert(term >= n.term, "becomeFollower to an older term")
	if term > n.term {
		n.term, n.vote = term, sim.None
		n.persistHardState()
	}
	wasLeader, wasFollower := n.role == roleLeader, n.role == roleFollower
	if wasLeader {
		n.env.CancelTimer(timerHeartbeat)
		clear(n.pending)
	}
	if n.role == roleCandidate || n.role == rolePreCandidate {
		n.env.CancelTimer(timerHeartbeat)
	}
	n.transfer.to = sim.None
	n.role, n.lead = roleFollower, lead
	n.step, n.tick = stepFollower, tickElection
	if wasLeader {
		n.dropReads()
	}
	// Raft Figure 2: a follower's election timeout restarts when it hears
	// from the current leader or grants a vote, not when it merely learns
	// a higher term. Restarting it then let candidates that can never win
	// (stale logs) keep the servers that could from ever campaigning: each
	// new term of theirs put every follower's election off again.
	if !wasFollower {
		n.resetElectionTimer()
	}
}

// becomeCandidate starts an election (Raft §5.2): a new term, a vote for
// itself, and a MsgVote to every other server. transfer says the leader
// asked for it (MsgTimeoutNow, transfer.go).
func (n *node) becomeCandidate(transfer bool) {
	n.assert(n.role != roleLeader, "a leader cannot become a candidate")
	n.probe(ProbeElectionStarted)
	if n.role == rolePreCandidate {
		n.env.CancelTimer(timerHeartbeat)
	}
	n.transferVote = transfer
	n.term = max(n.term, n.seenTerm) + 1
	n.vote = n.id
	n.persistHardState()
	if n.canvass(roleCandidate, stepCandidate, tickCandidate, n.requestVotes) {
		n.becomeLeader() // a one-server cluster
	}
}

// canvass starts a round of votes (or pre-votes) as role r, with its step
// and tick: the election timer restarts, and the server's own vote is the
// only one counted. It reports whether that vote alone wins (a one-server
// cluster); otherwise request asks the others now and at every heartbeat
// until the round ends.
func (n *node) canvass(r role, step func(*node, sim.NodeID, sim.Message), tick func(*node, sim.TimerKind),
	request func()) (won bool) {
	n.role, n.lead = r, sim.None
	n.step, n.tick = step, tick
	n.resetElectionTimer()
	clear(n.votes)
	n.votes[n.id] = voteGranted
	if n.wonVotes() {
		return true
	}
	request()
	n.env.SetTimer(timerHeartbeat, n.cfg.HeartbeatInterval)
	return false
}

// requestVotes sends MsgVote to every server that has not answered yet.
func (n *node) requestVotes() {
	m := MsgVote{Term: n.term, LastIndex: n.lastIndex(), LastTerm: n.lastTerm(), Transfer: n.transferVote}
	for id := range n.conf.members().Without(n.id).All() {
		if n.votes[id] == voteUnknown {
			n.send(id, m)
		}
	}
}

// becomeLeader takes over the term the candidate won: announce it, append a
// no-op (Raft §8: a leader commits an entry of its own term at the start of its
// term, which commits every earlier entry too, §5.4.2), and start replicating.
func (n *node) becomeLeader() {
	n.assert(n.role == roleCandidate, "only a candidate becomes leader")
	n.probe(ProbeLeaderElected)
	n.env.CancelTimer(timerElection)
	n.role, n.lead = roleLeader, n.id
	n.step, n.tick = stepLeader, tickHeartbeat
	clear(n.pending)
	n.resetReads()
	n.transfer = transferState{to: sim.None}
	n.change = changeState{}
	now := n.env.Now()
	for i := range n.heard {
		n.heard[i] = now // check_quorum: every server gets an election timeout to answer
	}
	// Raft Figure 2: nextIndex starts just past the leader's log, matchIndex
	// at 0; the leader probes each follower to find where their logs match.
	for i := range n.prs {
		n.prs[i] = progress{next: n.lastIndex() + 1, probing: true}
	}
	n.env.Observe(sim.Observation{Kind: sim.ObsLeader, Term: n.term})
	n.appendEntry(Entry{Term: n.term, Cmd: service.Noop})
	if n.conf.joint() && n.latestConfigIndex() <= n.commit {
		n.leaveJoint() // its predecessor committed C_old,new, and may not have gone on
	}
	n.broadcastAppend()
	n.env.SetTimer(timerHeartbeat, n.cfg.HeartbeatInterval)
	n.maybeCommit()
}

// resetElectionTimer draws a fresh randomized timeout (Raft §5.2) and arms the
// election timer for it.
func (n *node) resetElectionTimer() {
	n.electionTimeout = n.env.Rand().DurationBetween(n.cfg.ElectionTimeoutMin, n.cfg.ElectionTimeoutMax)
	if n.env.Buggify(buggifyMinElectionTimeout) {
		n.electionTimeout = n.cfg.ElectionTimeoutMin // servers time out together: split votes
	}
	n.electionStart = n.env.Now()
	n.env.SetTimer(timerElection, n.electionTimeout)
}

// electionDue reports whether the election timeout has run out; if not, it
// re-arms the timer for the rest.
func (n *node) electionDue() bool {
	now := n.env.Now()
	if now < n.electionStart {
		n.electionStart = now // the local clock was stepped back: restart the wait, not wait for the past
	}
	deadline := n.electionStart.Add(n.electionTimeout)
	if now < deadline {
		n.env.SetTimer(timerElection, deadline.Sub(now))
		return false
	}
	return true
}

// tickElection is a follower's tick: with no word from a leader or a candidate
// it voted for within the timeout, it starts an election (Raft §5.2).
func tickElection(n *node, kind sim.TimerKind) {
	n.assert(kind == timerElection, "follower got a heartbeat timer")
	switch {
	case !n.electionDue():
	case n.recovering():
		n.probe(ProbeRecoveringNoCampaign)
		n.resetElectionTimer() // recovering entries lost to corruption: no campaign (see lost)
	case !n.mayCampaign():
		n.probe(ProbeNotMemberNoCampaign)
		n.resetElectionTimer() // outside the configuration: a spare, or removed
	default:
		n.campaign()
	}
}

// tickCandidate is a candidate's tick: a new election when this one timed out
// (Raft §5.2, split votes), and vote requests retried meanwhile (§5.1).
func tickCandidate(n *node, kind sim.TimerKind) {
	n.tickElection(kind, n.campaign, n.requestVotes)
}

// tickElection is the tick of a server seeking votes (or pre-votes): again
// when its election timed out, ask (the requests not answered yet) at each
// heartbeat meanwhile.
func (n *node) tickElection(kind sim.TimerKind, again, ask func()) {
	switch kind {
	case timerElection:
		if n.electionDue() {
			again()
		}
	case timerHeartbeat:
		ask()
		n.env.SetTimer(timerHeartbeat, n.cfg.HeartbeatInterval)
	}
}

// tickHeartbeat is a leader's tick: an AppendEntries to every follower, which
// keeps them from starting elections (Raft §5.2) and retries lost appends.
func tickHeartbeat(n *node, kind sim.TimerKind) {
	n.assert(kind == timerHeartbeat, "leader got an election timer")
	// Check-quorum comes first: a leader whose heartbeats stall still steps
	// down in time once it has not heard from a majority (the bound
	// Config.StepDownBound promises).
	if n.checkQuorum() {
		return // stepped down: no more heartbeats
	}
	if n.env.Buggify(buggifySkipHeartbeat) {
		n.env.SetTimer(timerHeartbeat, n.cfg.HeartbeatInterval) // a stalled leader: followers may time out
		return
	}
	n.tickTransfer()
	n.tickChange()
	// A configuration just put in force may need fewer acknowledgements
	// than the last count did (C_new of the leader alone, appended by
	// leaveJoint when C_old,new committed): count again, so the change
	// completes without waiting for a follower's answer or a client.
	if n.maybeCommit(); n.role != roleLeader {
		return // the count committed a configuration without this leader: it stepped down
	}
	for id := range n.peers().All() {
		n.heartbeat(id)
	}
	// A lease is renewed every interval; a read-index round is resent while
	// reads wait (its messages may have been lost).
	if n.cfg.ReadMode == ReadLease || (n.cfg.ReadMode == ReadIndex && len(n.reads.waiting) > 0) {
		n.startRound()
		// A leader that is a majority on its own (a configuration of one,
		// perhaps since a change removed the others) hears no answers:
		// its round is confirmed at once, and the reads waiting with it.
		n.confirmRounds()
	}
	n.env.SetTimer(timerHeartbeat, n.cfg.HeartbeatInterval)
}

// stepFollower handles a message of the current term as a follower.
func stepFollower(n *node, from sim.NodeID, m sim.Message) {
	switch m := m.(type) {
	case *MsgApp:
		n.handleAppend(from, *m)
	case MsgHeartbeat:
		n.handleHeartbeat(from, m)
	case MsgSnapshot:
		n.handleSnapshot(from, m)
	case MsgVote:
		n.handleVote(from, m)
	case MsgPreVote:
		n.handlePreVote(from, m)
	case MsgTimeoutNow:
		n.handleTimeoutNow()
	}
	// Responses of the current term reach a follower only late, after it
	// lost an election or stepped down: nothing to do.
}

// loseTo ends a candidacy or pre-candidacy on m, an AppendEntries,
// heartbeat or snapshot from the leader of the current term (Raft §5.2: the
// election is lost): the server follows that leader and handles m as a
// follower.
func (n *node) loseTo(leader sim.NodeID, m sim.Message) {
	n.probe(ProbeCandidateLost)
	n.becomeFollower(n.term, leader)
	stepFollower(n, leader, m)
}

// stepCandidate handles a message of the current term as a candidate.
func stepCandidate(n *node, from sim.NodeID, m sim.Message) {
	switch m := m.(type) {
	case *MsgApp, MsgHeartbeat, MsgSnapshot:
		n.loseTo(from, m)
	case MsgVote:
		n.handleVote(from, m) // rejected: it voted for itself
	case MsgPreVote:
		n.handlePreVote(from, m)
	case MsgVoteResp:
		n.handleVoteResp(from, m)
	}
}

// stepLeader handles a message of the current term as the leader.
func stepLeader(n *node, from sim.NodeID, m sim.Message) {
	switch m := m.(type) {
	case MsgPreVote:
		n.handlePreVote(from, m) // rejected: the leader is alive
	case *MsgAppResp:
		n.heardFrom(from) // an answer: the leader reaches it (check_quorum)
		n.handleAppResp(from, *m)
	case MsgHeartbeatResp:
		n.heardFrom(from)
		n.handleHeartbeatResp(from, m)
	case MsgVote:
		n.handleVote(from, m) // rejected: it voted for itself
	case *MsgApp, MsgHeartbeat, MsgSnapshot:
		// Raft §5.2 elects at most one leader per term; only a planted bug
		// (two votes from one server in a term) gets here.
		n.assert(n.bugs.HasAny(safetyBugs), "two leaders in one term")
		n.becomeFollower(n.term, from)
		stepFollower(n, from, m)
	}
}

// upToDate reports whether a candidate's log ending at cand is at least as
// up-to-date as this server's (Raft §5.4.1: a later last term, or the same
// and as long), counting the entries this server lost to corruption (lost).
func (n *node) upToDate(cand logPosition) bool {
	return cand.atLeast(n.lastPosition()) && cand.atLeast(n.lost)
}

// handleVote decides a MsgVote of the current term (Raft §5.2, §5.4.1).
func (n *node) handleVote(from sim.NodeID, m MsgVote) {
	free := n.vote == sim.None || n.vote == from
	// Raft §5.4.1: vote only for a candidate whose log is at least as
	// up-to-date as ours (a later last term, or the same and as long), so a
	// leader holds every committed entry.
	cand := logPosition{m.LastIndex, m.LastTerm}
	upToDate := n.upToDate(cand)
	if n.bugs.Has(noLogCheckOnVote) {
		upToDate = true
	}
	leaderAlive := n.heardLeaderRecently() && !m.Transfer // lease mode only; a transfer's target campaigns past it
	granted := free && upToDate && !leaderAlive
	switch {
	case !free:
		n.probe(ProbeVoteRejectedVoted)
	case !cand.atLeast(n.lastPosition()) && !n.bugs.Has(noLogCheckOnVote):
		n.probe(ProbeVoteRejectedLog)
	case !upToDate:
		n.probe(ProbeVoteRejectedLost)
	case leaderAlive:
		n.probe(ProbeVoteRefusedLeaderAlive)
	default:
		n.probe(ProbeVoteGranted)
	}
	if granted {
		n.vote = from
		n.persistHardState()
		n.electionStart = n.env.Now() // Raft §5.2: granting a vote resets the timeout
	}
	n.send(from, MsgVoteResp{Term: n.term, Granted: granted})
}

// handleVoteResp tallies an answer; a majority of grants wins (Raft §5.2).
func (n *node) handleVoteResp(from sim.NodeID, m MsgVoteResp) {
	n.recordVote(from, m.Granted)
	if n.wonVotes() {
		n.becomeLeader()
	}
}

// recordVote notes server from's answer to a vote or pre-vote request. A
// grant counts even after a rejection: the rejection may answer a request
// of an older term or round (it carries only the voter's term, §5.1), while
// a grant is a vote the voter gave this one.
func (n *node) recordVote(from sim.NodeID, granted bool) {
	switch {
	case granted:
		n.votes[from] = voteGranted
	case n.votes[from] == voteUnknown:
		n.votes[from] = voteRejected
	}
}
