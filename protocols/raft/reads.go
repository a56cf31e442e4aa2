package raft

import (
	"slices"
	"time"

	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

// Reads without the log (Raft thesis §6.4). In ReadIndex and ReadLease mode
// a leader serves a read-only command from its own applied state once it
// knows that state holds every write acknowledged before the read was sent:
//
//   - it has committed an entry of its own term, so its commit index covers
//     every entry committed by an earlier leader (§5.4.2, thesis §6.4 step 1);
//   - it was still the leader after the read arrived: a heartbeat round
//     (MsgHeartbeat) sent after that was acknowledged by a majority in its
//     term, so no later leader had been elected when the round left
//     (ReadIndex); or, in ReadLease mode, its lease holds.
//
// A server applies each entry as it commits it, so the leader's applied
// index is its commit index and the read index of step 1 is reached at once.
//
// The lease. A round started at local time s and acknowledged by a majority
// gives a lease until s + ElectionTimeoutMin/LeaseDrift on the leader's
// clock. Each follower that acknowledged it heard from the leader after s
// and, in ReadLease mode, refuses to vote for ElectionTimeoutMin on its own
// clock after hearing from a leader (as thesis §4.2.3 has servers do; and
// after a restart, which forgets when it last heard), so no other leader can
// be elected
// before that, and any new majority includes one of them (or the leader
// itself, which steps down before voting). With clock rates at most
// LeaseDrift apart, the lease ends first. A clock that jumps (a skew fault)
// breaks that assumption, as it breaks any lease.

// maxOpenRounds bounds the rounds a leader remembers the start of while it
// waits for their acknowledgements; an older round that is confirmed later
// only confirms leadership, and extends no lease (which is safe).
const maxOpenRounds = 64

// readState is a leader's bookkeeping for reads outside the log, for the
// term it leads.
type readState struct {
	round     uint64   // the last heartbeat round sent
	acked     []uint64 // per server: the highest round it acknowledged
	confirmed uint64   // the highest round a majority acknowledged
	// open are the rounds sent and not yet confirmed, oldest first, with
	// the local time each was sent.
	open []openRound
	// leaseFrom and leaseUntil bound the lease on the leader's clock: from
	// the start of the confirmed round to the end of the lease.
	leaseFrom, leaseUntil sim.Time
	waiting               []waitingRead // reads waiting for a round or a commit
}

type openRound struct {
	round uint64
	at    sim.Time
}

// waitingRead is a read the leader will answer once a majority has
// acknowledged round (sent after the read arrived) and an entry of its
// term is committed.
type waitingRead struct {
	from  sim.NodeID
	cmd   service.Command
	round uint64
}

// leaseDuration is how long a lease lasts on the leader's clock: the
// minimum election timeout divided by the drift bound (the whole timeout
// with the lease-no-drift-margin bug). One float division, made once:
// IEEE 754 rounds it the same on every platform.
func leaseDuration(cfg Config, b bugSet) time.Duration {
	if b.Has(leaseNoDriftMargin) {
		return cfg.ElectionTimeoutMin // planted bug: no allowance for clock drift
	}
	return time.Duration(float64(cfg.ElectionTimeoutMin) / cfg.leaseDrift())
}

// leaseDrift is LeaseDrift, or its default.
func (c Config) leaseDrift() float64 {
	if c.LeaseDrift == 0 {
		return DefaultConfig().LeaseDrift
	}
	return c.LeaseDrift
}

// ClockDrift is what the configuration assumes of the servers' clocks: under
// ReadLease, that one runs at most LeaseDrift times faster than another and
// none jumps; otherwise nothing (0): no read or vote depends on a clock.
func (c Config) ClockDrift() float64 {
	if c.ReadMode != ReadLease {
		return 0
	}
	return c.leaseDrift()
}

// offLogRead serves a leader's read outside the log, if the read mode says
// so: at once under a lease, else once a new round confirms leadership. It
// reports whether it took the command (a read, in ReadIndex or ReadLease
// mode).
func (n *node) offLogRead(from sim.NodeID, cmd service.Command) bool {
	if n.cfg.ReadMode == ReadLog || n.cfg.ReadMode == "" || !n.sessions.ReadOnly(cmd.Op) {
		return false
	}
	if n.cfg.ReadMode == ReadLease && n.leaseHolds() && n.ownTermCommitted() {
		n.probe(ProbeLeaseRead)
		n.serveLocalRead(from, cmd)
		return true
	}
	if slices.ContainsFunc(n.reads.waiting, func(r waitingRead) bool {
		return r.cmd.Client == cmd.Client && r.cmd.Seq == cmd.Seq
	}) {
		return true // a retry of a read that waits already: one answer will do
	}
	if !n.joinsRoundInFlight() {
		n.startRound()
	}
	n.reads.waiting = append(n.reads.waiting, waitingRead{from: from, cmd: cmd, round: n.reads.round})
	n.confirmRounds() // a one-server cluster confirms at once
	return true
}

// joinsRoundInFlight reports whether a new read waits for the heartbeat round
// already in flight. It never does: only a round sent after the read arrived
// proves the leader was still the leader then (thesis §6.4). The planted bug
// readJoinsEarlierRound joins the open round instead.
func (n *node) joinsRoundInFlight() bool {
	return n.bugs.Has(readJoinsEarlierRound) && len(n.reads.open) > 0
}

// leaseHolds reports whether the leader's lease covers its clock's reading
// now. A clock read before the lease began has been stepped back: no lease.
func (n *node) leaseHolds() bool {
	now := n.env.Now()
	return n.reads.leaseUntil != 0 && now >= n.reads.leaseFrom && now < n.reads.leaseUntil
}

// ownTermCommitted reports whether the leader has committed an entry of its
// term (its no-op at first), which commits every entry of earlier leaders.
func (n *node) ownTermCommitted() bool { return n.termAt(n.commit) == n.term }

// startRound sends a new heartbeat round to every follower.
func (n *node) startRound() {
	r := &n.reads
	r.round++
	r.acked[n.id] = r.round
	if len(r.open) == maxOpenRounds {
		r.open = slices.Delete(r.open, 0, 1)
	}
	r.open = append(r.open, openRound{round: r.round, at: n.env.Now()})
	for id := range n.conf.members().Without(n.id).All() {
		n.send(id, MsgHeartbeat{Term: n.term, Round: r.round})
	}
}

// handleHeartbeat answers a leadership check of the current term, as a
// follower: the leader is alive, which postpones the election and, in
// lease mode, refuses votes for a while (heardLeaderRecently).
func (n *node) handleHeartbeat(from sim.NodeID, m MsgHeartbeat) {
	n.heardFromLeader(from)
	n.send(from, MsgHeartbeatResp{Term: n.term, Round: m.Round})
}

// handleHeartbeatResp counts a follower's acknowledgement of a round.
func (n *node) handleHeartbeatResp(from sim.NodeID, m MsgHeartbeatResp) {
	if m.Round > n.reads.acked[from] && m.Round <= n.reads.round {
		n.reads.acked[from] = m.Round
		n.confirmRounds()
	}
}

// confirmRounds finds the highest round a majority has acknowledged (a
// follower that acknowledged a later round answered after this one left
// too), extends the lease from its start, and answers the reads it covers.
func (n *node) confirmRounds() {
	r := &n.reads
	c := n.conf.agreed(func(id sim.NodeID) uint64 { return r.acked[id] }, n.scratch)
	if c <= r.confirmed {
		return
	}
	r.confirmed = c
	for len(r.open) > 0 && r.open[0].round <= c {
		if o := r.open[0]; o.round == c && n.cfg.ReadMode == ReadLease && !n.transfer.noLease {
			from := o.at // the round's start: the followers heard from the leader after it
			if n.bugs.Has(leaseFromAcks) {
				from = n.env.Now()
			}
			if until := from.Add(n.lease); until > r.leaseUntil {
				r.leaseFrom, r.leaseUntil = from, until
			}
		}
		r.open = r.open[1:]
	}
	n.serveWaiting()
}

// serveWaiting answers the waiting reads whose round is confirmed, once an
// entry of the leader's term is committed.
func (n *node) serveWaiting() {
	if len(n.reads.waiting) == 0 || !n.ownTermCommitted() {
		return
	}
	kept := n.reads.waiting[:0]
	for _, w := range n.reads.waiting {
		if w.round > n.reads.confirmed {
			kept = append(kept, w)
			continue
		}
		n.probe(ProbeReadIndexRead)
		n.serveLocalRead(w.from, w.cmd)
	}
	clear(n.reads.waiting[len(kept):])
	n.reads.waiting = kept
}

// resetReads starts a leader's term with no rounds, lease or waiting reads.
func (n *node) resetReads() {
	acked := n.reads.acked
	if len(acked) != len(n.servers) {
		acked = make([]uint64, len(n.servers))
	}
	clear(acked)
	n.reads = readState{acked: acked}
}

// dropReads answers the reads a deposed leader still holds with the leader
// it now knows, so that their clients retry there at once.
func (n *node) dropReads() {
	for _, w := range n.reads.waiting {
		n.send(w.from, service.Reply{Client: w.cmd.Client, Seq: w.cmd.Seq, Status: service.StatusNotLeader, Leader: n.lead})
	}
	n.resetReads()
}

// ignoresVote reports whether this server disregards m, a MsgVote of a
// higher term, because it heard from a leader less than ElectionTimeoutMin
// ago (heardLeaderRecently). A leader is exempt: it steps down before it
// votes, and serves no more reads.
func (n *node) ignoresVote(m sim.Message) bool {
	_, ok := m.(MsgVote)
	return ok && n.role != roleLeader && n.heardLeaderRecently()
}

// heardLeaderRecently reports whether this server must refuse its vote
// because it heard from a leader (or restarted) less than
// ElectionTimeoutMin ago on its clock: in lease mode only, where a
// leader's lease relies on it: it will not help elect another leader
// before the lease it backs runs out.
func (n *node) heardLeaderRecently() bool {
	if n.cfg.ReadMode != ReadLease || n.bugs.Has(leaseNoVoteGuard) {
		return false // with the planted bug lease-no-vote-guard, no guard at all
	}
	now := n.env.Now()
	if now < n.heardLeader {
		n.heardLeader = now // the clock was stepped back: wait the full timeout from now
	}
	if n.bugs.Has(voteGuardAsLongAsLease) {
		return now.Sub(n.heardLeader) < n.lease // the lease is measured on the leader's clock, not this one
	}
	return now.Sub(n.heardLeader) < n.cfg.ElectionTimeoutMin
}
