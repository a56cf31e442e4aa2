package raft

import (
	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

// Leadership transfer (Raft thesis §3.10), asked by the operator
// (sim.TransferLeadership, sent by the transfer fault). The leader stops
// accepting client requests, brings the target's log up to date, and sends
// it a MsgTimeoutNow; the target campaigns at once, with no pre-vote, and
// its MsgVote says so (Transfer), so that voters waive their guard against
// disruptive servers (a leader heard recently: lease mode's refusal,
// §4.2.3). The log check of §5.4.1 still applies, and the leader's own log
// grows no more, so the target wins unless the messages fail. If no new
// leader shows up within ElectionTimeoutMin, the leader gives up and takes
// requests again.
//
// A target elected past the followers' lease guard may be elected while
// the leader's lease still runs: a leader that starts a transfer voids its
// lease and gets no other for the rest of its term (reads then go through
// read-index rounds, which rely on no clock).

// transferState is a leader's hand-over in progress, for its term.
type transferState struct {
	to      sim.NodeID // the target; sim.None when no transfer runs
	until   sim.Time   // when the transfer is abandoned, on the leader's clock
	noLease bool       // a transfer began in this term: no lease any more
}

// Operate implements sim.Operable: the operator's requests.
func (n *node) Operate(env sim.Env, req sim.Message) {
	if n.down {
		return
	}
	n.env = env
	switch r := req.(type) {
	case sim.TransferLeadership:
		n.startTransfer(r.To)
	case sim.ChangeMembers:
		n.startChange(r)
	}
	n.finish()
}

// startTransfer begins handing leadership to server to.
func (n *node) startTransfer(to sim.NodeID) {
	switch {
	case n.role != roleLeader:
		n.probe(ProbeTransferNotLeader)
		return
	case to == n.id || !n.conf.voters.Has(to) || n.transfer.to != sim.None:
		n.probe(ProbeTransferRefused)
		return
	}
	n.probe(ProbeTransferStarted)
	n.transfer.to, n.transfer.until = to, n.env.Now().Add(n.cfg.ElectionTimeoutMin)
	if !n.bugs.Has(transferKeepsProposing) {
		n.transfer.noLease = !n.bugs.Has(transferRenewsLease)
		n.reads.leaseUntil = 0
	}
	n.sendTimeoutNowIfCaughtUp()
	if pr := &n.prs[to]; pr.match < n.lastIndex() && (pr.probing || pr.next <= n.lastIndex()) {
		n.sendAppend(to)
	}
}

// transferring reports whether a hand-over runs and the leader must turn
// clients away (unless the planted bug keeps it taking them).
func (n *node) transferring() bool {
	return n.transfer.to != sim.None && !n.bugs.Has(transferKeepsProposing)
}

// refuseDuringTransfer answers a client's request with the transfer's
// target as the leader to try.
func (n *node) refuseDuringTransfer(from sim.NodeID, cmd service.Command) {
	n.probe(ProbeTransferRefusedRequest)
	n.send(from, service.Reply{Client: cmd.Client, Seq: cmd.Seq, Status: service.StatusNotLeader, Leader: n.transfer.to})
}

// sendTimeoutNowIfCaughtUp tells the target to campaign once its log matches
// the leader's.
func (n *node) sendTimeoutNowIfCaughtUp() {
	if to := n.transfer.to; to != sim.None && n.prs[to].match == n.lastIndex() {
		n.probe(ProbeTransferTimeoutNow)
		n.send(to, MsgTimeoutNow{Term: n.term})
	}
}

// tickTransfer runs at each heartbeat of a leader with a hand-over running:
// it gives up after ElectionTimeoutMin, else asks the target again (a
// MsgTimeoutNow may be lost).
func (n *node) tickTransfer() {
	if n.transfer.to == sim.None {
		return
	}
	if now := n.env.Now(); now >= n.transfer.until || now < n.transfer.until.Add(-n.cfg.ElectionTimeoutMin) {
		n.probe(ProbeTransferAborted)
		n.transfer.to = sim.None
		return
	}
	n.sendTimeoutNowIfCaughtUp()
}

// handleTimeoutNow runs on the target: campaign at once, as the leader of
// its term asked, unless it may not campaign at all (recovering entries
// lost to corruption).
func (n *node) handleTimeoutNow() {
	if n.recovering() || !n.mayCampaign() {
		n.probe(ProbeTransferTimeoutNowIgnored)
		return
	}
	n.probe(ProbeTransferCampaign)
	n.becomeCandidate(true)
}
