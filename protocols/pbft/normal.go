package pbft

import (
	"cmp"
	"slices"

	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

// Normal-case operation (§4.1, §4.2): the primary assigns a sequence number
// to a request and multicasts a pre-prepare; backups that accept it multicast
// prepares; a replica with the pre-prepare and 2f matching prepares has the
// request prepared and multicasts a commit; with 2f+1 matching commits it is
// committed-local, and requests are executed in sequence-number order, each
// replica replying to the client directly.

// handleRequest serves a client's request (§4.1), sent to this replica by the
// client or forwarded by a backup.
func (n *node) handleRequest(from sim.NodeID, cmd service.Command) {
	if cmd.IsNoop() || cmd.Seq == 0 || n.isServer(cmd.Client) || (!n.isServer(from) && from != cmd.Client) {
		return // not a client's request
	}
	if !service.ClientSigned(n.env, cmd) {
		n.probe(ProbeRequestRefusedUnsigned)
		return // §4.1: made up in the client's name (relayed by a faulty replica)
	}
	if n.byz != nil && n.byz.request(n, cmd) {
		return
	}
	last := n.sessions.LastApplied(cmd.Client)
	switch {
	case cmd.Seq < last:
		return // the client has moved on
	case cmd.Seq == last:
		// §4.1: a request already executed is answered again with the
		// result kept for its client. Sessions returns the cached result
		// for a duplicate without running it.
		result, _ := n.sessions.Apply(cmd)
		n.reply(cmd, result)
		return
	}
	switch {
	case n.changing:
		return // no new requests during a view change; the client retries
	case n.isPrimary():
		if n.env.Buggify(buggifyIgnoreRequest) {
			return // the client retries, to every replica: the backups relay it and watch
		}
		n.order(cmd)
	case !n.isServer(from):
		// §4.1, §4.4: a backup relays the request to the primary and waits
		// to see it executed; if it is not, the primary is suspect.
		n.send(n.primary(n.view), service.Request{Cmd: cmd})
		n.await(cmd)
	}
}

// order is the primary's side of §4.2: assign the next sequence number to the
// request, within the water marks, and multicast the pre-prepare. A request
// already ordered in this view is not ordered again (its retries come from
// clients that have not heard enough replies yet).
func (n *node) order(cmd service.Command) {
	if seq, ok := n.assigned[cmd.Client]; ok && seq >= cmd.Seq {
		return
	}
	if n.next > n.h+n.window() {
		n.enqueue(cmd) // §4.2: no sequence number above the high water mark
		return
	}
	seq := n.next
	n.next++
	n.assigned[cmd.Client] = cmd.Seq
	pp := MsgPrePrepare{View: n.view, Seq: seq, Digest: cmd.Digest(), Cmd: cmd}
	pp.Sig = n.sign(prePrepareDigest(pp.View, pp.Seq, pp.Digest))
	n.acceptPrePrepare(pp)
	n.sendPrePrepare(pp)
}

// sendPrePrepare multicasts a pre-prepare to the backups.
func (n *node) sendPrePrepare(pp MsgPrePrepare) {
	if n.byz != nil && n.byz.prePrepare(n, pp) {
		return
	}
	n.broadcast(pp)
}

// enqueue keeps a request until the window moves: one per client, the latest.
func (n *node) enqueue(cmd service.Command) {
	for i := range n.queued {
		if n.queued[i].Client == cmd.Client {
			if n.queued[i].Seq < cmd.Seq {
				n.queued[i] = cmd
			}
			return
		}
	}
	n.queued = append(n.queued, cmd)
}

// drainQueue orders the queued requests that fit in the window.
func (n *node) drainQueue() {
	if len(n.queued) == 0 || !n.isPrimary() {
		return
	}
	queued := n.queued
	n.queued = nil
	for _, cmd := range queued {
		if cmd.Seq > n.sessions.LastApplied(cmd.Client) {
			n.order(cmd)
		}
	}
}

// handlePrePrepare is a backup's acceptance test of §4.2: the pre-prepare
// is signed by the primary of the backup's current view, its digest is the
// request's, its sequence number is between the water marks, and the backup
// has accepted no other pre-prepare for that view and sequence number.
func (n *node) handlePrePrepare(from sim.NodeID, m MsgPrePrepare) {
	switch {
	case n.changing:
		n.probe(ProbePrePrepareRejectedChanging)
		return
	case m.View < n.view:
		n.probe(ProbePrePrepareRejectedOldView)
		return
	case m.View > n.view:
		n.probe(ProbePrePrepareRejectedLaterView)
		return
	case from != n.primary(m.View) && !n.bugs.Has(acceptPrePrepareFromBackup):
		n.probe(ProbePrePrepareRejectedNotPrim)
		return
	case !n.inWindow(m.Seq):
		n.probe(ProbePrePrepareRejectedWindow)
		return
	case m.Digest != m.Cmd.Digest():
		n.probe(ProbePrePrepareRejectedDigest)
		return // a wrong digest
	case !m.Cmd.IsNoop() && !service.ClientSigned(n.env, m.Cmd):
		n.probe(ProbePrePrepareRejectedUnsigned)
		return // §4.2: the request is not its client's (a faulty primary made it up)
	case !n.verify(m.Sig, from, prePrepareDigest(m.View, m.Seq, m.Digest)):
		n.probe(ProbePrePrepareRejectedSig)
		return
	}
	if e := n.ensure(m.Seq); e.pp.ok && e.pp.view == m.View {
		if e.pp.digest == m.Digest {
			n.probe(ProbePrePrepareDuplicate)
			return // a copy
		}
		// §4.2: a backup accepts a pre-prepare only if it "has not accepted
		// a pre-prepare message for view v and sequence number n containing
		// a different digest": the first one stands.
		n.probe(ProbePrePrepareRejectedConflict)
		if !n.bugs.Has(acceptConflictingPrePrepare) {
			return
		}
		*e = entry{} // planted bug: the log entry is overwritten
	}
	n.probe(ProbePrePrepareAccepted)
	n.acceptPrePrepare(m)
}

// acceptPrePrepare logs the pre-prepare (synced before the prepare that
// reveals it leaves), and a backup multicasts its prepare. Votes that came
// before the pre-prepare may make the request prepared at once.
func (n *node) acceptPrePrepare(m MsgPrePrepare) {
	e := n.ensure(m.Seq)
	e.pp = prePrepare{ok: true, view: m.View, digest: m.Digest, cmd: m.Cmd, sig: m.Sig}
	e.prepareSent, e.commitSent, e.sentAt = false, false, n.env.Now()
	n.writeEntry(m.Seq, e)
	if n.byz != nil {
		n.byz.acceptedPrePrepare(n, m)
	}
	if n.primary(m.View) != n.id {
		n.sendVote(tagPrepare, m.Seq)
	}
	n.checkPrepared(m.Seq)
}

// sendVote signs and multicasts this replica's prepare or commit for seq, in
// the view and for the digest of its pre-prepare (a prepare) or of its
// prepared certificate (a commit), and counts it as its own vote.
func (n *node) sendVote(tag byte, seq uint64) {
	e := n.at(seq)
	view, digest := e.pp.view, e.pp.digest
	if tag == tagCommit {
		view, digest = e.cert.View, e.cert.Cmd.Digest()
	}
	v := vote{view: view, digest: digest, sig: n.sign(voteDigest(tag, view, seq, digest))}
	if tag == tagPrepare {
		storeVote(&e.prepares, v)
		e.prepareSent = true
	} else {
		storeVote(&e.commits, v)
		e.commitSent = true
	}
	m := voteMessage(tag, SignedVote{View: view, Seq: seq, Digest: digest, Sig: v.sig})
	e.sentAt = n.env.Now()
	if n.byz != nil && n.byz.vote(n, tag, view, seq, digest) {
		return
	}
	if n.env.Buggify(buggifyWithholdVote) {
		return // sent, as far as this replica knows: retransmit sends it an interval later
	}
	n.broadcast(m)
}

// handlePrepare logs a backup's signed prepare (§4.2: "if their signatures
// are correct, their view number equals the replica's current view, and
// their sequence number is between h and H"). Prepares of a later view are
// kept too, as the new-view message that makes them current may come after
// them. The primary does not prepare.
func (n *node) handlePrepare(from sim.NodeID, m MsgPrepare) {
	if !n.acceptVote(from, m.SignedVote, prepareDigest(m.View, m.Seq, m.Digest), prepareRejections) {
		return
	}
	switch {
	case from == n.primary(m.View):
		n.probe(ProbePrepareRejectedPrimary)
		return
	case m.View > n.view || n.changing:
		n.probe(ProbePrepareLaterView)
	}
	storeVote(&n.ensure(m.Seq).prepares, vote{view: m.View, digest: m.Digest, sig: m.Sig})
	n.checkPrepared(m.Seq)
}

// handleCommit logs a signed commit, under the same conditions (§4.2).
func (n *node) handleCommit(from sim.NodeID, m MsgCommit) {
	if !n.acceptVote(from, m.SignedVote, commitDigest(m.View, m.Seq, m.Digest), commitRejections) {
		return
	}
	storeVote(&n.ensure(m.Seq).commits, vote{view: m.View, digest: m.Digest, sig: m.Sig})
	n.checkCommitted(m.Seq)
}

// voteRejections names the probes a phase's rejected votes fire.
type voteRejections struct{ oldView, window, sig string }

var (
	prepareRejections = voteRejections{ProbePrepareRejectedOldView, ProbePrepareRejectedWindow, ProbePrepareRejectedSig}
	commitRejections  = voteRejections{ProbeCommitRejectedOldView, ProbeCommitRejectedWindow, ProbeCommitRejectedSig}
)

// acceptVote applies the checks a prepare and a commit share (§4.2): a view
// not older than this replica's, a sequence number within the water marks,
// and from's signature over signed, the digest of what it votes for.
func (n *node) acceptVote(from sim.NodeID, v SignedVote, signed uint64, rejected voteRejections) bool {
	switch {
	case v.View < n.view:
		n.probe(rejected.oldView)
	case !n.inWindow(v.Seq):
		n.probe(rejected.window)
	case !n.verify(v.Sig, from, signed):
		n.probe(rejected.sig)
	default:
		return true
	}
	return false
}

// storeVote keeps one vote per voter: a vote of a later view replaces the
// voter's earlier one, and of two votes in one view the first stands (a
// correct replica sends one per view, so a second one is a Byzantine
// replica's, and either will do).
func storeVote(votes *[]vote, v vote) {
	for i, old := range *votes {
		if old.sig.Signer == v.sig.Signer {
			if v.view > old.view {
				(*votes)[i] = v
			}
			return
		}
	}
	if *votes == nil {
		*votes = make([]vote, 0, votesCap) // not 1, 2, then 4
	}
	*votes = append(*votes, v)
}

// votesCap is the room an entry's prepares or commits start with: a
// quorum of the smallest cluster.
const votesCap = 4

// matchingSigs returns the signatures of the votes for (view, digest),
// leaving out exclude's, sorted by voter: limit of them, or nil if there are
// fewer. Counting comes first, so that the common case (not yet a quorum)
// allocates nothing.
func matchingSigs(votes []vote, view, digest uint64, exclude sim.NodeID, limit int) []sim.Signature {
	count := 0
	for _, v := range votes {
		if v.view == view && v.digest == digest && v.sig.Signer != exclude {
			count++
		}
	}
	if count < limit {
		return nil
	}
	sigs := make([]sim.Signature, 0, count)
	for _, v := range votes {
		if v.view == view && v.digest == digest && v.sig.Signer != exclude {
			sigs = append(sigs, v.sig)
		}
	}
	slices.SortFunc(sigs, func(a, b sim.Signature) int { return cmp.Compare(a.Signer, b.Signer) })
	return sigs[:limit]
}

// checkPrepared applies §4.2's predicate prepared(m, v, n, i): the request's
// pre-prepare and 2f matching prepares from distinct backups in the current
// view. The certificate is synced before the commit that reveals it leaves.
func (n *node) checkPrepared(seq uint64) {
	e := n.at(seq)
	if e == nil || !e.pp.ok || n.changing || e.pp.view != n.view {
		return
	}
	if !e.certOK || e.cert.View != e.pp.view {
		sigs := matchingSigs(e.prepares, e.pp.view, e.pp.digest, n.primary(e.pp.view), n.prepareQuorum())
		if len(sigs) < n.prepareQuorum() {
			return
		}
		n.probe(ProbePrepared)
		e.cert = PreparedCert{View: e.pp.view, Seq: seq, Cmd: e.pp.cmd, PrePrepare: e.pp.sig, Prepares: sigs}
		e.certOK = true
		n.writeEntry(seq, e)
	}
	if !e.commitSent {
		n.sendVote(tagCommit, seq)
	}
	n.checkCommitted(seq)
}

// checkCommitted applies §4.2's committed-local(m, v, n, i): the request is
// prepared, and 2f+1 matching commits (possibly including this replica's)
// from distinct replicas were logged. The predicate is per view: a request
// re-issued by a new view commits again there, and is reported again (the
// same request, unless more than f replicas lie or a planted bug broke the
// view change, which the agreement checker then sees). It runs once.
func (n *node) checkCommitted(seq uint64) {
	e := n.at(seq)
	if e == nil || !e.certOK || (e.committed && e.done.View >= e.cert.View) {
		return
	}
	digest := e.cert.Cmd.Digest()
	sigs := matchingSigs(e.commits, e.cert.View, digest, sim.None, n.quorum)
	if len(sigs) < n.quorum {
		return
	}
	if e.committed {
		n.probe(ProbeCommittedAgainInLaterVew)
	} else {
		n.probe(ProbeCommittedLocal)
	}
	n.commit(seq, CommitCert{View: e.cert.View, Seq: seq, Cmd: e.cert.Cmd, Commits: sigs})
	n.executeReady()
}

// commit records that the request of cert committed at seq.
func (n *node) commit(seq uint64, cert CommitCert) {
	e := n.ensure(seq)
	e.done, e.committed = cert, true
	n.writeEntry(seq, e)
	n.maxCommit = max(n.maxCommit, seq)
	n.env.Observe(sim.Observation{Kind: sim.ObsCommit, Term: cert.View, Index: seq, Digest: cert.Cmd.Digest()})
}

// executeReady executes the committed requests that follow the last executed
// one, in sequence-number order (§4.2: "after executing all requests with
// lower sequence numbers"). While the state up to the low water mark is
// missing (exec < h), nothing runs until state transfer brings it.
func (n *node) executeReady() {
	for n.exec >= n.h {
		e := n.at(n.exec + 1)
		if e == nil || !e.committed {
			break
		}
		n.execute(n.exec+1, e.done)
	}
	n.advanceStable(n.stable) // caught up with a checkpoint learned ahead of time?
}

// execute runs one committed request and replies to its client (§4.1: every
// replica replies; the client waits for f+1 matching replies). Client
// sessions run each request once; a null request changes nothing.
func (n *node) execute(seq uint64, cert CommitCert) {
	n.exec = seq
	cmd := cert.Cmd
	result, outcome := n.sessions.Apply(cmd)
	var own ownCheckpoint // the checkpoint's state, taken before the apply is announced with its digest
	if seq%uint64(n.cfg.CheckpointInterval) == 0 {
		own = n.snapshotState(seq, cmd.Digest())
	}
	n.env.Observe(sim.Observation{Kind: sim.ObsApply, Term: cert.View, Index: seq, Digest: cmd.Digest(),
		Result: service.ResultDigest(result), State: own.digest})
	if !n.recovering && (outcome == service.Applied || outcome == service.Duplicate) {
		n.reply(cmd, result)
	}
	if !cmd.IsNoop() {
		n.stopWaiting(cmd.Client, cmd.Seq)
	}
	if !n.changing {
		n.failures, n.quietView = 0, false // §4.5.2: progress in the view; the next view change waits T again
	}
	if own.seq != 0 {
		n.takeCheckpoint(own)
	}
}

// reply answers a client directly (§4.1).
func (n *node) reply(cmd service.Command, result []byte) {
	if n.isServer(cmd.Client) || (n.byz != nil && n.byz.muteReplies()) {
		return // a command no client sent (a forgery), or a liar
	}
	n.send(cmd.Client, service.Reply{Client: cmd.Client, Seq: cmd.Seq, Status: service.StatusOK, Result: result})
}

// await notes that a backup waits for a client's request to execute (§4.4)
// and arms the view-change timer if it was not running. A newer request of a
// client replaces the one it waits for but keeps its start: nothing of that
// client has executed since, and restarting the wait would let clients that
// give up sooner than RequestTimeout hold off a view change from a primary
// that executes nothing, for good. An execution restarts it (stopWaiting).
func (n *node) await(cmd service.Command) {
	for i := range n.waiting {
		if w := &n.waiting[i]; w.client == cmd.Client {
			w.seq = max(w.seq, cmd.Seq)
			return
		}
	}
	n.waiting = append(n.waiting, waitingRequest{client: cmd.Client, seq: cmd.Seq, since: n.env.Now()})
	n.armRequestTimer()
}

// stopWaiting forgets the request of client up to seq, which executed, and
// notes how long it took (slowest). A newer request of the client that took
// the executed one's place is waited for from now: §4.4 restarts the timer
// when a request executes and another is still awaited. (await keeps one
// entry per client.)
func (n *node) stopWaiting(client sim.NodeID, seq uint64) {
	i := slices.IndexFunc(n.waiting, func(w waitingRequest) bool { return w.client == client })
	if i < 0 {
		return
	}
	if w := &n.waiting[i]; w.seq <= seq {
		n.slowest = max(n.env.Now().Sub(w.since), n.slowest-n.slowest/8)
		n.waiting = slices.Delete(n.waiting, i, i+1)
	} else {
		w.since = n.env.Now()
	}
	n.armRequestTimer()
}

// armRequestTimer sets the view-change timer for the oldest request waited
// for: each request waits at most requestWait. (§4.4 restarts one timer
// when a request executes; timing each request keeps a primary that serves
// some clients from starving another forever.) During a view change the
// timer waits for the new view instead and is left alone.
func (n *node) armRequestTimer() {
	if n.changing {
		return
	}
	if len(n.waiting) == 0 {
		n.env.CancelTimer(timerRequest)
		return
	}
	oldest := n.waiting[0].since
	for _, w := range n.waiting[1:] {
		oldest = min(oldest, w.since)
	}
	n.env.SetTimer(timerRequest, max(0, oldest.Add(n.requestWait()).Sub(n.env.Now())))
}

// tickRequest: a request waited too long, so the primary is suspect and
// the backup starts a view change (§4.4); or the new view is overdue, and
// the replica moves on to the next view, waiting twice as long (§4.5.2).
// A view entered by a view change that executed nothing before its request
// timer ran out is a failure too (§4.5.2: the timer runs until the replica
// "executes a request in the new view"): without it, a network whose
// requests take longer than RequestTimeout changes view for good.
// While changing, a replica that keeps executing requests (from commit
// certificates of the others) sees the old view alive and waits again
// without moving on, so it does not run away to ever higher views alone.
func (n *node) tickRequest() {
	if n.changing {
		if n.exec > n.lastExecVCs {
			n.lastExecVCs = n.exec
			n.env.SetTimer(timerRequest, n.backoff())
			return
		}
		n.failures++
		n.startViewChange(n.view + 1)
		return
	}
	if len(n.waiting) == 0 {
		return
	}
	oldest := n.waiting[0].since
	for _, w := range n.waiting[1:] {
		oldest = min(oldest, w.since)
	}
	if n.env.Now() < oldest.Add(n.requestWait()) {
		n.armRequestTimer()
		return
	}
	if n.quietView {
		n.failures++
	}
	n.startViewChange(n.view + 1)
}
