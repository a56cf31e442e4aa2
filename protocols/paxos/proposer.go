package paxos

import (
	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

// startPhase1 makes this server a proposer with a new ballot, higher than any
// it has seen (PMS §2.2, phase 1a), covering every slot it does not know
// chosen (PMS §3: "the new leader ... executes phase 1 for infinitely many
// instances" with one short message). Its own acceptor promises first.
func (n *node) startPhase1() {
	if n.role == roleLeader {
		n.env.CancelTimer(timerHeartbeat)
	}
	clear(n.pending)
	n.role, n.lead = roleProposer, sim.None
	n.ballot = n.nextBallot()
	n.raisePromise(n.ballot)
	n.resetLeaderTimer() // the phase-1 timeout
	n.promised = bit(n.id)
	if n.rejoining {
		n.promised = 0 // only the others' promises count (rejoin.go)
	}
	n.p1From, n.p1Last = n.commit+1, n.commit
	n.adopted = n.adopted[:0]
	n.p1Unknown = n.p1Unknown[:0]
	for s := n.p1From; s <= n.lastSlot(); s++ {
		switch r := n.rec(s); {
		case r.lost:
			n.unknownAt(s, n.id)
		case !r.empty():
			n.adopt(PromiseEntry{Slot: s, Ballot: r.ballot, Decided: r.chosen, Cmd: r.cmd})
		}
	}
	if n.phase1Done() {
		n.becomeLeader() // a one-server cluster
		return
	}
	n.sendPrepares()
	n.env.SetTimer(timerHeartbeat, n.cfg.HeartbeatInterval)
}

// sendPrepares sends MsgPrepare to every server that has not promised yet.
func (n *node) sendPrepares() {
	var m sim.Message = MsgPrepare{Ballot: n.ballot, From: n.p1From, Rejoin: n.rejoining}
	for _, id := range n.servers {
		if id != n.id && n.promised&bit(id) == 0 {
			n.send(id, m)
		}
	}
}

// handlePromise collects phase 1b answers; a majority makes this server the
// leader of its ballot (PMS §2.2).
func (n *node) handlePromise(from sim.NodeID, m MsgPromise) {
	if n.role != roleProposer || m.Ballot != n.ballot || n.promised&bit(from) != 0 {
		n.probe(ProbeStalePromiseIgnored)
		return // late, stale or duplicated
	}
	if m.Snapshot.Index > n.commit {
		n.installSnapshot(m.Snapshot)
	}
	for _, e := range m.Entries {
		n.adopt(e)
	}
	for _, s := range m.Lost {
		n.unknownAt(s, from)
	}
	n.advanceCommit()
	n.promised |= bit(from)
	if n.phase1Done() {
		n.becomeLeader()
	}
}

// unknownSlot is a slot some promisers cannot report on (rejoin.go).
type unknownSlot struct {
	slot    uint64
	servers uint64
}

// unknownAt notes that server id lost its record of slot s.
func (n *node) unknownAt(s uint64, id sim.NodeID) {
	n.p1Unknown = append(n.p1Unknown, unknownSlot{slot: s, servers: bit(id)})
	n.p1Last = max(n.p1Last, s)
}

// phase1Done reports whether a majority promised and, for every slot some
// promiser lost its record of, a majority of promisers could report on it:
// that majority meets every majority that may have chosen a value there.
func (n *node) phase1Done() bool {
	if count(n.promised) < n.quorum {
		return false
	}
	for _, u := range n.p1Unknown {
		if n.isChosen(u.slot) {
			continue
		}
		var blind uint64
		for _, v := range n.p1Unknown {
			if v.slot == u.slot {
				blind |= v.servers
			}
		}
		if count(n.promised&^blind) < n.quorum {
			return false
		}
	}
	return true
}

// adopt merges one reported slot into phase 1's result. A chosen value is
// learned at once. Otherwise the proposal with the highest ballot wins: PMS
// §2.2, P2c, "v is the value of the highest-numbered proposal among the
// responses".
func (n *node) adopt(e PromiseEntry) {
	if e.Slot <= n.commit {
		return
	}
	n.p1Last = max(n.p1Last, e.Slot)
	if e.Decided {
		n.learn(e.Slot, e.Ballot, e.Cmd)
		return
	}
	if n.bugs.ignoreAccepted {
		return // planted bug: accepted values are not carried over
	}
	i := e.Slot - n.p1From
	for uint64(len(n.adopted)) <= i {
		n.adopted = append(n.adopted, adoption{})
	}
	if a := &n.adopted[i]; e.Ballot > a.ballot {
		a.ballot, a.cmd = e.Ballot, e.Cmd
	}
}

// becomeLeader ends phase 1: announce the ballot, and propose in it, for
// every slot not known chosen up to the highest slot reported, the adopted
// value or, in a gap, a no-op (PMS §3: the leader "fills the gaps ... by
// proposing a special 'no-op' command"), so that every slot below the last
// one anyone knows of gets chosen and applied. New commands go after them.
// With the planted bug ignore-accepted, the slots nobody knows chosen are
// left to new commands instead.
func (n *node) becomeLeader() {
	n.assert(n.role == roleProposer, "only a proposer becomes leader")
	n.env.CancelTimer(timerLeader)
	n.probe(ProbeLeaderElected)
	n.role, n.lead, n.failures = roleLeader, n.id, 0
	clear(n.unanswered)
	if n.rejoining {
		n.finishRejoin()
	}
	n.env.Observe(sim.Observation{Kind: sim.ObsLeader, Term: n.ballot})
	last := max(n.p1Last, n.commit)
	if n.bugs.ignoreAccepted {
		last = n.commit
	}
	for s := n.commit + 1; s <= last; s++ {
		if n.isChosen(s) {
			continue
		}
		cmd := service.Noop
		if i := s - n.p1From; i < uint64(len(n.adopted)) && n.adopted[i].ballot > 0 {
			cmd = n.adopted[i].cmd
			n.probe(ProbeAdoptedValue)
		} else {
			n.probe(ProbeNoopFilled)
		}
		n.propose(s, cmd)
	}
	clear(n.adopted)
	n.adopted = n.adopted[:0]
	n.next = last + 1
	n.skipChosen()
	n.broadcastAccepts(n.commit+1, last)
	n.resendBelow = n.next
	n.broadcast(MsgHeartbeat{Ballot: n.ballot, Commit: n.commit})
	n.env.SetTimer(timerHeartbeat, n.cfg.HeartbeatInterval)
	n.announceDecisions()
	n.advanceCommit()
}

// skipChosen moves next past slots known chosen.
func (n *node) skipChosen() {
	n.next = max(n.next, n.commit+1)
	for n.isChosen(n.next) {
		n.next++
	}
}

// propose is phase 2a for one slot: the leader's own acceptor accepts first
// (it promised the ballot), then the proposal goes to the others.
func (n *node) propose(s uint64, cmd service.Command) {
	n.assert(n.role == roleLeader && n.promise == n.ballot, "proposing without leading the promised ballot")
	r := n.ensure(s)
	n.assert(!r.chosen, "proposing in a chosen slot")
	r.ballot, r.cmd, r.acks = n.ballot, cmd, bit(n.id)
	n.writeRecord(s, r)
	if count(r.acks) >= n.quorum {
		n.decide(s, r) // a one-server cluster
	}
}

// proposed reports whether slot s holds this leader's open proposal.
func (n *node) proposed(s uint64) bool {
	r := n.rec(s)
	return r != nil && !r.chosen && r.ballot == n.ballot
}

// broadcastAccepts sends the leader's proposals in [lo, hi] to every other
// server, in runs of at most MaxSlotsPerMessage; each message is built once.
func (n *node) broadcastAccepts(lo, hi uint64) {
	for s := lo; s <= hi; {
		if !n.proposed(s) {
			s++
			continue
		}
		m := n.acceptRun(s, hi)
		n.broadcastAccept(m)
		s += uint64(len(m.Cmds))
	}
}

// maxUnansweredAccepts bounds the accepts a leader has sent one server
// without hearing back. A server that falls behind (a slow disk: each accept
// is a sync; a clogged link; a pause) is not flooded with single-slot
// accepts and decisions it would work through one at a time: the
// heartbeat's retransmission (one batch per interval) and its catch-up
// (MsgLearn) bring it up to date in batches instead. An answer that covers
// the leader's latest proposal shows the server caught up and opens the
// window again, so lost answers do not throttle it for long.
const maxUnansweredAccepts = 8

// keepingUp reports whether server id answers the leader's accepts.
func (n *node) keepingUp(id sim.NodeID) bool { return n.unanswered[id] < maxUnansweredAccepts }

// broadcastAccept sends m to every other server that is keeping up. The
// message is boxed once for all of them.
func (n *node) broadcastAccept(m MsgAccept) {
	var msg sim.Message = m
	for _, id := range n.servers {
		if id != n.id && n.keepingUp(id) {
			n.unanswered[id]++
			n.send(id, msg)
		}
	}
}

// acceptRun builds the MsgAccept for the run of open proposals from s on,
// up to hi and MaxSlotsPerMessage slots.
func (n *node) acceptRun(s, hi uint64) MsgAccept {
	end := min(hi, s+uint64(n.cfg.MaxSlotsPerMessage)-1)
	if end > s && n.env.Buggify(buggifyOneSlot) {
		end = s
	}
	m := MsgAccept{Ballot: n.ballot, Slot: s}
	for t := s; t <= end && n.proposed(t); t++ {
		m.Cmds = append(m.Cmds, n.rec(t).cmd)
	}
	return m
}

// handleAccepted counts phase 2b answers; a proposal accepted by a majority
// is chosen (PMS §2.2), and the leader, the distinguished learner, learns it.
func (n *node) handleAccepted(from sim.NodeID, m MsgAccepted) {
	if n.role != roleLeader || m.Ballot != n.ballot {
		n.probe(ProbeStaleAcceptedIgnored)
		return // an answer to an earlier ballot: it decides nothing now
	}
	switch {
	case m.Slot+m.Count >= n.next:
		n.unanswered[from] = 0 // caught up with every proposal
	case n.unanswered[from] > 0:
		n.unanswered[from]--
	}
	for s := max(m.Slot, n.commit+1); s < m.Slot+m.Count; s++ {
		if !n.proposed(s) {
			continue
		}
		r := n.rec(s)
		r.acks |= bit(from)
		if count(r.acks) >= n.quorum {
			n.decide(s, r)
		}
	}
	n.announceDecisions()
	n.advanceCommit()
}

// decide learns the leader's own proposal at s as chosen in its ballot. The
// record already holds the value; the commit index will say it is chosen.
func (n *node) decide(s uint64, r *record) {
	r.chosen = true
	n.observeCommit(s, r)
	n.decided = append(n.decided, s)
}

// announceDecisions tells the other learners (PMS §2.3) which slots were
// just chosen, one MsgDecide per run of consecutive slots. A server that is
// not keeping up learns them from the heartbeat's commit index instead.
func (n *node) announceDecisions() {
	for i := 0; i < len(n.decided); {
		j := i + 1
		for j < len(n.decided) && n.decided[j] == n.decided[j-1]+1 {
			j++
		}
		if !n.env.Buggify(buggifySkipDecide) {
			var m sim.Message = MsgDecide{Ballot: n.ballot, Slot: n.decided[i], Count: uint64(j - i)}
			for _, id := range n.servers {
				if id != n.id && n.keepingUp(id) {
					n.send(id, m)
				}
			}
		}
		i = j
	}
	n.decided = n.decided[:0]
}

// heartbeat is the leader's periodic round: a MsgHeartbeat to everyone (the
// failure detector's evidence, and the decided prefix for laggards), and a
// resend of proposals that a server has not answered for a whole interval.
func (n *node) heartbeat() {
	n.broadcast(MsgHeartbeat{Ballot: n.ballot, Commit: n.commit})
	for _, id := range n.servers {
		if id != n.id {
			n.retransmit(id)
		}
	}
	n.resendBelow = n.next
}

// retransmit resends to one server the run of open proposals starting at the
// first one it has not acknowledged, among those older than the last
// heartbeat: one message per server per interval, however far behind.
func (n *node) retransmit(to sim.NodeID) {
	for s := n.commit + 1; s < n.resendBelow; s++ {
		if n.proposed(s) && n.rec(s).acks&bit(to) == 0 {
			n.send(to, n.acceptRun(s, n.resendBelow-1))
			return
		}
	}
}
