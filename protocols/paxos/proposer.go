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
	n.dropLeadership()
	n.takeOver = 0
	n.role, n.lead = roleProposer, sim.None
	n.ballot = n.nextBallot()
	n.raisePromise(n.ballot)
	n.resetLeaderTimer() // the phase-1 timeout
	n.promised = bit(n.id)
	if n.rejoining {
		n.promised = 0 // only the others' promises count (rejoin.go)
	}
	n.p1From, n.p1Last = n.commit+1, n.commit
	n.ballotConfs = n.windowConfs()
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

// sendPrepares sends MsgPrepare to every member of the configurations
// phase 1 needs that has not promised yet.
func (n *node) sendPrepares() {
	var m sim.Message = MsgPrepare{Ballot: n.ballot, From: n.p1From, Rejoin: n.rejoining}
	members := n.ballotMembers()
	for _, id := range n.servers {
		if id != n.id && members.Has(id) && n.promised&bit(id) == 0 {
			n.send(id, m)
		}
	}
}

// handlePromise collects phase 1b answers; a majority makes this server the
// leader of its ballot (PMS §2.2).
func (n *node) handlePromise(from sim.NodeID, m MsgPromise) {
	// The planted bug count-stale-promises takes a promise of an older
	// ballot for one of this ballot.
	current := m.Ballot == n.ballot || (m.Ballot < n.ballot && n.bugs.Has(countStalePromises))
	if n.role != roleProposer || !current || n.promised&bit(from) != 0 {
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
	if !n.member() || !n.covered(n.confAt(n.commit+1)) {
		return // what it learned changed the configuration: checkConfiguration starts over
	}
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

// phase1Done reports whether a majority of every configuration the ballot
// covers promised and, for every slot some promiser lost its record of, a
// majority of promisers could report on it: that majority meets every
// majority that may have chosen a value there.
func (n *node) phase1Done() bool {
	for _, c := range n.ballotConfs {
		if !isQuorum(n.promised, c) {
			return false
		}
		// A rejoining server may have promised, before its loss, a ballot
		// above the one it rejoins with, and a phase 1 that counted that
		// forgotten promise may still complete. Every other member's promise
		// (each above its own, see rejoin.go) puts the rejoin ballot above
		// every ballot any of them had started, since a proposer promises
		// its own ballot on disk first: the server never accepts below a
		// promise it forgot.
		if n.rejoining && uint64(c)&^bit(n.id)&^n.promised != 0 {
			return false
		}
	}
	for _, u := range n.p1Unknown {
		if n.isChosen(u.slot) {
			continue
		}
		blind := u.servers // planted bug oneLostRecordAtATime: the others that lost the slot count
		if !n.bugs.Has(oneLostRecordAtATime) {
			for _, v := range n.p1Unknown {
				if v.slot == u.slot {
					blind |= v.servers
				}
			}
		}
		for _, c := range n.ballotConfs {
			if !isQuorum(n.promised&^blind, c) {
				return false
			}
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
	if n.bugs.Has(ignoreAccepted) {
		return // planted bug: accepted values are not carried over
	}
	i := e.Slot - n.p1From
	for uint64(len(n.adopted)) <= i {
		n.adopted = append(n.adopted, adoption{})
	}
	if a := &n.adopted[i]; n.outranks(e.Ballot, a.ballot) {
		a.ballot, a.cmd = e.Ballot, e.Cmd
	}
}

// outranks reports whether a reported proposal of ballot b replaces the one
// adopted so far, of ballot adopted (0: none): the higher ballot wins (P2c),
// or, with the planted bug adopt-lowest-ballot, the lower.
func (n *node) outranks(b, adopted uint64) bool {
	if n.bugs.Has(adoptLowestBallot) {
		return adopted == 0 || b < adopted
	}
	return b > adopted
}

// becomeLeader ends phase 1: announce the ballot, and propose in it, for
// every slot not known chosen up to the highest slot reported, the adopted
// value or, in a gap, a no-op (PMS §3: the leader "fills the gaps ... by
// proposing a special 'no-op' command"), so that every slot below the last
// one anyone knows of gets chosen and applied. New commands go after them.
// Only slots in the window that the ballot covers are proposed now; the
// rest follow as the window moves (fillWindow). With the planted bug
// ignore-accepted, the slots nobody knows chosen are left to new commands
// instead.
func (n *node) becomeLeader() {
	n.assert(n.role == roleProposer, "only a proposer becomes leader")
	n.env.CancelTimer(timerLeader)
	n.probe(ProbeLeaderElected)
	n.role, n.lead, n.failures = roleLeader, n.id, 0
	clear(n.unanswered)
	n.env.Observe(sim.Observation{Kind: sim.ObsLeader, Term: n.ballot})
	n.p1Last = max(n.p1Last, n.commit)
	if n.bugs.Has(ignoreAccepted) {
		n.p1Last = n.commit
	}
	n.noteChanges()
	last := n.p1Last
	for s := n.commit + 1; s <= last; s++ {
		if !n.mayPropose(s) {
			last = s - 1
			break
		}
		if !n.isChosen(s) {
			n.propose(s, n.adoptedAt(s))
		}
	}
	n.next = last + 1
	n.skipChosen()
	n.maybeFinishRejoin()
	n.broadcastAccepts(n.commit+1, last)
	n.decideAlone(n.commit+1, last)
	n.resendBelow = n.next
	n.broadcast(MsgHeartbeat{Ballot: n.ballot, Commit: n.commit})
	n.env.SetTimer(timerHeartbeat, n.cfg.HeartbeatInterval)
	n.announceDecisions()
	n.advanceCommit()
}

// adoptedAt is what a new leader proposes in slot s of phase 1's range: the
// adopted value (P2c), or a no-op in a gap.
func (n *node) adoptedAt(s uint64) service.Command {
	if i := s - n.p1From; i < uint64(len(n.adopted)) && n.adopted[i].ballot > 0 {
		n.probe(ProbeAdoptedValue)
		return n.adopted[i].cmd
	}
	n.probe(ProbeNoopFilled)
	return service.Noop
}

// noteChanges finds, for a new leader, the configuration changes in phase
// 1's range (chosen or adopted) and in the window: one change at a time,
// and the old configuration's rest filled with no-ops.
func (n *node) noteChanges() {
	last := n.history[len(n.history)-1]
	if last.Slot > 0 {
		n.padUntil = max(n.padUntil, last.Slot+n.effect()-1)
	}
	for s := n.commit + 1; s <= n.p1Last; s++ {
		if r := n.rec(s); r != nil && r.chosen {
			n.noteProposal(s, r.cmd)
		} else if i := s - n.p1From; i < uint64(len(n.adopted)) && n.adopted[i].ballot > 0 {
			n.noteProposal(s, n.adopted[i].cmd)
		}
	}
}

// fillWindow proposes in the free slots of the window, as long as the
// ballot covers their configuration: the rest of phase 1's range (adopted
// values and no-ops), no-ops for the old configuration's rest after a
// change, a requested change, then queued client commands.
func (n *node) fillWindow() {
	if n.role != roleLeader {
		return
	}
	n.skipChosen()
	lo := n.next
	for n.mayPropose(n.next) {
		s := n.next
		cmd, ok := n.nextProposal(s)
		if !ok {
			break
		}
		n.next++
		n.propose(s, cmd)
		if !cmd.IsNoop() {
			n.pending.Add(cmd, s, cmd.Client)
		}
		n.skipChosen()
	}
	n.maybeFinishRejoin()
	if n.next > n.p1Last && len(n.adopted) > 0 {
		clear(n.adopted)
		n.adopted = n.adopted[:0]
	}
	if n.next > lo {
		n.broadcastAccepts(lo, n.next-1)
		n.decideAlone(lo, n.next-1)
	}
	if len(n.decided) > 0 { // a one-member configuration chose them at once
		n.announceDecisions()
		n.advanceCommit()
	}
}

// nextProposal is the command for free slot s, if any is due.
func (n *node) nextProposal(s uint64) (service.Command, bool) {
	switch {
	case s <= n.p1Last:
		return n.adoptedAt(s), true
	case s <= n.padUntil:
		n.probe(ProbeNoopPadded)
		return service.Noop, true
	case n.wantChange != 0 && n.governsFrom(n.history[len(n.history)-1]) <= s:
		cmd := configCommand(n.wantChange)
		n.wantChange = 0
		return cmd, true
	case len(n.queue) > 0:
		cmd := n.queue[0]
		n.queue[0] = service.Command{}
		n.queue = n.queue[1:]
		return cmd, true
	}
	return service.Command{}, false
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
	n.assert(s <= n.windowEnd(), "proposing past the alpha window")
	r := n.ensure(s)
	n.assert(!r.chosen, "proposing in a chosen slot")
	r.ballot, r.cmd, r.acks = n.ballot, cmd, bit(n.id)
	n.writeRecord(s, r)
	n.noteProposal(s, cmd)
}

// decideAlone decides the leader's open proposals in [lo, hi] that its own
// acceptance makes chosen: in a one-member configuration (a one-server
// cluster, or one a change shrank to one) that acceptor is a majority by
// itself. Its acceptance counts once it is on disk (PMS §2.3): a crash
// between the write and the sync loses it, so the value was never accepted,
// and a later ballot may choose another one in the slot. The disk is synced
// before the first such decision, once for all of them.
func (n *node) decideAlone(lo, hi uint64) {
	synced := false
	for s := lo; s <= hi; s++ {
		if !n.proposed(s) {
			continue
		}
		r := n.rec(s)
		if !isQuorum(r.acks, n.confAt(s)) {
			continue
		}
		if !synced {
			n.flush()
			synced = true
		}
		n.decide(s, r)
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

// broadcastAccept sends m to every other member of the ballot's
// configurations that is keeping up. The message is boxed once for all of
// them.
func (n *node) broadcastAccept(m MsgAccept) {
	var msg sim.Message = m
	members := n.ballotMembers()
	for _, id := range n.servers {
		if id != n.id && members.Has(id) && n.keepingUp(id) {
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
		if isQuorum(r.acks, n.confAt(s)) {
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
			var m sim.Message = MsgDecide{SlotRun{Ballot: n.ballot, Slot: n.decided[i], Count: uint64(j - i)}}
			members := n.ballotMembers()
			for _, id := range n.servers {
				if id != n.id && members.Has(id) && n.keepingUp(id) {
					n.send(id, m)
				}
			}
		}
		i = j
	}
	n.decided = n.decided[:0]
}

// heartbeat is the leader's periodic round: a MsgHeartbeat to everyone (the
// failure detector's evidence, and the decided prefix for laggards, spares
// included, so that a server is caught up when it joins), and a
// resend of proposals that a server has not answered for a whole interval.
func (n *node) heartbeat() {
	n.broadcast(MsgHeartbeat{Ballot: n.ballot, Commit: n.commit})
	members := n.ballotMembers()
	for _, id := range n.servers {
		if id != n.id && members.Has(id) {
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

// maybeFinishRejoin ends a rejoin once this leader has proposed, and so
// recorded in its own acceptor, every slot its phase 1 reported: the slots
// past the alpha window are kept only in memory until then, and a server
// that lost its snapshot holds no record of the acceptances it had
// compacted there, which a later phase 1 counting it would take for none.
func (n *node) maybeFinishRejoin() {
	if n.rejoining && n.role == roleLeader && n.next > n.p1Last {
		n.finishRejoin()
	}
}
