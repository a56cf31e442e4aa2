package pbft

import (
	"slices"

	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

// View changes (§4.4). A backup whose timer expires stops accepting messages
// of its view and multicasts a view-change message for the next view with its
// stable checkpoint (and proof) and a prepared certificate for every request
// that prepared at it above that checkpoint. The new primary, with 2f+1
// valid view-change messages, multicasts a new-view message: those messages,
// and a pre-prepare for every sequence number between the latest stable
// checkpoint among them and the highest prepared one, re-issuing the request
// of the certificate with the highest view, or a null request where none
// prepared. Backups check the new-view message by recomputing it, then
// prepare its pre-prepares in the new view. Every certificate is checked
// signature by signature, so forged or short ones are rejected with the
// message that carries them.

// startViewChange moves to view w: the view is synced before the view-change
// message leaves, so that after a crash the replica does not take part in
// the old view again.
func (n *node) startViewChange(w uint64) {
	n.assert(w > n.view, "a view change to an older view")
	n.view, n.changing = w, true
	n.writeView()
	n.queued = n.queued[:0]
	clear(n.assigned)
	n.lastExecVCs = n.exec
	n.sendViewChange()
	n.armViewChangeTimer()
	n.maybeNewView()
}

// resumeViewChange: a replica that restarts while changing view resends its
// view-change message (rebuilt from the same durable state).
func (n *node) resumeViewChange() {
	n.lastExecVCs = n.exec
	n.sendViewChange()
	n.armViewChangeTimer()
}

// armViewChangeTimer is §4.5.2's first rule: a replica that asked for view v
// starts its timer for the new view only once 2f+1 replicas (itself
// included) have asked for v or a later view; until then it waits. Without
// it, replicas that restarted (their backoff reset) run one view ahead of the
// others for good once every wait is capped at BackoffLimit doublings:
// fewer than f+1 ahead cannot pull the rest along, and the rest always reach
// a view after its replicas have left it. With it, the replicas furthest
// behind are the ones whose timers run, until they catch up.
func (n *node) armViewChangeTimer() {
	if n.viewChangeQuorum() {
		n.env.SetTimer(timerRequest, n.backoff())
		n.vcTimerArmed = true
		return
	}
	n.env.CancelTimer(timerRequest)
	n.vcTimerArmed = false
}

// viewChangeQuorum reports whether 2f+1 replicas have asked for this view
// or a later one.
func (n *node) viewChangeQuorum() bool {
	count := 0
	for i := range n.viewChanges {
		if n.viewChanges[i].View >= n.view {
			count++
		}
	}
	return count >= n.quorum
}

// viewChangeSeqs are the sequence numbers a view change reports on: past
// the last stable checkpoint this replica knows, to the last it logged.
func (n *node) viewChangeSeqs() (first, last uint64) { return max(n.h, n.stable.Seq) + 1, n.lastSeq() }

// sendViewChange builds, signs, logs and multicasts the view-change message.
func (n *node) sendViewChange() {
	vc := MsgViewChange{View: n.view, Replica: n.id, Stable: n.stable}
	if !n.bugs.Has(dropPreparedCerts) {
		// §4.4: the requests prepared past the last stable checkpoint this
		// replica knows. That checkpoint may be ahead of its low water mark
		// (proved stable by others before it executed that far): the
		// certificates below it are covered by it, and a view change that
		// carried them is one every other replica rejects.
		first, last := n.viewChangeSeqs()
		for seq := first; seq <= last; seq++ {
			if e := n.at(seq); e.certOK {
				vc.Prepared = append(vc.Prepared, e.cert)
			}
		}
	}
	if n.byz != nil {
		n.byz.rewriteViewChange(n, &vc)
	}
	vc.Sig = n.sign(viewChangeDigest(&vc))
	n.ownVC = vc
	n.viewChanges[n.id] = vc
	if n.byz != nil && n.byz.viewChange(n, vc) {
		return
	}
	n.broadcast(vc)
}

// handleViewChange logs a valid view-change message for a view beyond ours
// (or the one we move to). Then §4.5.2: f+1 replicas asking for later views
// make this replica join the smallest of them, and the new primary may have
// its 2f+1.
func (n *node) handleViewChange(from sim.NodeID, m MsgViewChange) {
	switch {
	case m.Replica != from:
		n.probe(ProbeViewChangeRejectedRelayed)
		return // relayed view changes travel inside new-view messages
	case m.View < n.view || (m.View == n.view && !n.changing):
		n.probe(ProbeViewChangeRejectedOldView)
		return // about a view we are past; its sender catches up from our status
	case m.View <= n.viewChanges[from].View:
		n.probe(ProbeViewChangeIgnoredCopy)
		return // a copy, or older than what we hold from it
	}
	if fault := n.checkViewChange(&m); fault != vcValid {
		n.probe(fault.probe(false))
		return
	}
	n.probe(ProbeViewChangeAccepted)
	n.viewChanges[from] = m
	if n.changing && !n.vcTimerArmed && n.viewChangeQuorum() {
		n.armViewChangeTimer()
	}
	n.maybeJoin()
	n.maybeNewView()
}

// maybeJoin is §4.5.2's second rule: "if a replica receives a set of f+1
// valid view-change messages from other replicas for views greater than its
// current view, it sends a view-change message for the smallest view in the
// set" (the f+1 highest ones, so that one of them is a correct replica's).
func (n *node) maybeJoin() {
	var views []uint64
	for i := range n.viewChanges {
		if v := n.viewChanges[i].View; sim.NodeID(i) != n.id && v > n.view {
			views = append(views, v)
		}
	}
	enough := n.f + 1
	if n.bugs.Has(joinOnFViewChanges) {
		enough = max(n.f, 1) // planted bug: f replicas, which may all be faulty
	}
	if len(views) < enough {
		return
	}
	slices.Sort(views)
	n.probe(ProbeViewChangeJoined)
	n.startViewChange(views[len(views)-enough])
}

// maybeNewView: the primary of the view we move to, holding 2f+1 valid
// view-change messages for it, starts the view.
func (n *node) maybeNewView() {
	if !n.changing || n.primary(n.view) != n.id {
		return
	}
	var vcs []MsgViewChange
	for i := range n.viewChanges {
		if n.viewChanges[i].View == n.view && len(vcs) < n.newViewQuorum() {
			vcs = append(vcs, n.viewChanges[i])
		}
	}
	if len(vcs) < n.newViewQuorum() {
		return
	}
	stable, pps := n.newViewPrePrepares(n.view, vcs)
	nv := MsgNewView{View: n.view, ViewChanges: vcs, PrePrepares: pps}
	if n.byz != nil {
		n.byz.forgeNewView(n, &nv)
	}
	n.enterView(nv, stable)
	if n.byz != nil && n.byz.sendNewView(n, nv) {
		return
	}
	n.broadcast(nv)
}

// newViewPrePrepares is the O of a new view made of vcs (§4.4), signed by
// this replica, and the stable checkpoint it starts from.
func (n *node) newViewPrePrepares(view uint64, vcs []MsgViewChange) (CheckpointCert, []MsgPrePrepare) {
	stable, cmds := n.computeNewView(vcs)
	pps := make([]MsgPrePrepare, len(cmds))
	for i, cmd := range cmds {
		pps[i] = MsgPrePrepare{View: view, Seq: stable.Seq + 1 + uint64(i), Digest: cmd.Digest(), Cmd: cmd}
		pps[i].Sig = n.sign(prePrepareDigest(view, pps[i].Seq, pps[i].Digest))
	}
	return stable, pps
}

// prefers reports whether the new view re-issues certificate c's request
// rather than best's, found before it: the one of the higher view (§4.4),
// or, with the planted bug new-view-lowest-certificate, of the lower; with
// new-view-first-certificate, best.
func (n *node) prefers(c, best *PreparedCert) bool {
	switch {
	case n.bugs.Has(newViewFirstCertificate):
		return false
	case n.bugs.Has(newViewLowestCertificate):
		return c.View < best.View
	}
	return c.View > best.View
}

// newViewQuorum is how many view-change messages a new view needs: 2f+1
// (§4.4), whose certificates then include one of every correct replica that
// prepared a committed request; 2f with the planted bug new-view-from-2f.
func (n *node) newViewQuorum() int {
	if n.bugs.Has(newViewFrom2f) {
		return n.quorum - 1
	}
	return n.quorum
}

// startsAt reports whether the new view starts at checkpoint c rather than at
// best, the choice among the view changes before c (none if first): min-s is
// the latest stable checkpoint in V (§4.4), or, with the planted bug
// new-view-lowest-stable-checkpoint, the lowest.
func (n *node) startsAt(c, best CheckpointCert, first bool) bool {
	if n.bugs.Has(newViewLowestStable) {
		return first || c.Seq < best.Seq
	}
	return c.Seq > best.Seq
}

// computeNewView is the new primary's computation of §4.4, which backups
// repeat: min-s is the latest stable checkpoint in V, max-s the highest
// sequence number of a prepared certificate in V, and for every sequence
// number in between, O re-issues the request of the certificate with the
// highest view, or a null request (service.Noop) if none prepared. It
// returns the checkpoint at min-s and the requests for min-s+1..max-s.
func (n *node) computeNewView(vcs []MsgViewChange) (CheckpointCert, []service.Command) {
	var stable CheckpointCert
	for i := range vcs {
		if n.startsAt(vcs[i].Stable, stable, i == 0) {
			stable = vcs[i].Stable
		}
	}
	var best []*PreparedCert // best[i] is for sequence number stable.Seq+1+i
	for i := range vcs {
		for j := range vcs[i].Prepared {
			c := &vcs[i].Prepared[j]
			if c.Seq <= stable.Seq {
				continue
			}
			k := int(c.Seq - stable.Seq - 1)
			for len(best) <= k {
				best = append(best, nil)
			}
			if best[k] == nil || n.prefers(c, best[k]) {
				best[k] = c
			}
		}
	}
	cmds := make([]service.Command, len(best))
	for i, c := range best {
		cmds[i] = service.Noop
		if c != nil {
			cmds[i] = c.Cmd
		}
	}
	return stable, cmds
}

// handleNewView checks a new-view message for a view beyond ours (or the one
// we move to) and enters that view. Any replica may relay it: it carries its
// own proof.
func (n *node) handleNewView(m MsgNewView) {
	if m.View < n.view || (m.View == n.view && !n.changing) {
		n.probe(ProbeNewViewRejectedOldView)
		return
	}
	stable, fault := n.checkNewView(&m)
	if fault != "" {
		n.probe(fault)
		return
	}
	n.probe(ProbeNewViewEntered)
	n.enterView(m, stable)
}

// checkNewView checks §4.4's conditions: 2f+1 valid view-change messages
// for the view from distinct replicas, and O exactly as computed from them,
// each pre-prepare signed by the view's primary. It returns the stable
// checkpoint of V, or the probe of the first check that failed.
func (n *node) checkNewView(m *MsgNewView) (CheckpointCert, string) {
	if len(m.ViewChanges) < n.newViewQuorum() {
		return CheckpointCert{}, ProbeNewViewRejectedTooFew
	}
	var seen uint64
	for i := range m.ViewChanges {
		vc := &m.ViewChanges[i]
		switch {
		case vc.View != m.View || !n.isServer(vc.Replica):
			return CheckpointCert{}, ProbeNewViewRejectedWrongView
		case seen&bit(vc.Replica) != 0 && !n.bugs.Has(newViewRepeatedViewChanges):
			return CheckpointCert{}, ProbeNewViewRejectedDuplicate
		}
		// (The planted bug trust-relayed-view-changes trusts the new
		// primary to have checked the messages it relays.)
		if fault := n.checkViewChange(vc); fault != vcValid && !n.bugs.Has(trustRelayedViewChanges) {
			return CheckpointCert{}, fault.probe(true)
		}
		seen |= bit(vc.Replica)
	}
	stable, cmds := n.computeNewView(m.ViewChanges)
	if n.bugs.Has(trustNewViewPrePrepares) {
		// Planted bug: O is taken as sent; only its signatures are checked.
		return stable, n.checkNewViewSignatures(m, stable)
	}
	if len(m.PrePrepares) != len(cmds) {
		return CheckpointCert{}, ProbeNewViewRejectedLength
	}
	p := n.primary(m.View)
	for i := range m.PrePrepares {
		pp := &m.PrePrepares[i]
		d := cmds[i].Digest()
		switch {
		case pp.View != m.View || pp.Seq != stable.Seq+1+uint64(i) || pp.Cmd.Digest() != pp.Digest:
			return CheckpointCert{}, ProbeNewViewRejectedPrePrepare
		case pp.Digest != d:
			return CheckpointCert{}, ProbeNewViewRejectedRequest
		case !n.verify(pp.Sig, p, prePrepareDigest(pp.View, pp.Seq, d)):
			return CheckpointCert{}, ProbeNewViewRejectedPrePrepareSig
		}
	}
	return stable, ""
}

// checkNewViewSignatures is the planted bug trust-new-view-pre-prepares:
// O's pre-prepares are checked for their view, sequence numbers above the
// stable checkpoint, digests and signatures, not against V.
func (n *node) checkNewViewSignatures(m *MsgNewView, stable CheckpointCert) string {
	p := n.primary(m.View)
	for i := range m.PrePrepares {
		pp := &m.PrePrepares[i]
		switch {
		case pp.View != m.View || pp.Seq <= stable.Seq || pp.Cmd.Digest() != pp.Digest:
			return ProbeNewViewRejectedPrePrepare
		case !n.verify(pp.Sig, p, prePrepareDigest(pp.View, pp.Seq, pp.Digest)):
			return ProbeNewViewRejectedPrePrepareSig
		}
	}
	return ""
}

// enterView starts view m.View: the view is synced, the stable checkpoint of
// V adopted (state transfer follows if this replica lacks it), and the
// pre-prepares of O accepted, backups multicasting their prepares.
func (n *node) enterView(m MsgNewView, stable CheckpointCert) {
	n.view, n.changing, n.vcTimerArmed, n.quietView = m.View, false, false, true
	n.viewWait = n.backoff()
	n.writeView()
	n.newView = m
	n.writeNewView()
	n.ownVC = MsgViewChange{}
	for i := range n.viewChanges {
		if n.viewChanges[i].View <= m.View {
			n.viewChanges[i] = MsgViewChange{}
		}
	}
	n.advanceStable(stable)
	if n.primary(m.View) == n.id {
		clear(n.assigned)
		n.next = n.firstFree()
		n.assignNewView()
		n.assignLogged()
		n.announceLeader()
	}
	n.acceptNewView()
	now := n.env.Now()
	for i := range n.waiting {
		n.waiting[i].since = now // the new primary gets a full timeout
	}
	n.armRequestTimer()
}

// firstFree is the first sequence number a primary entering its view may
// assign: past its low water mark and past the stable checkpoint it knows
// (§4.4: the new-view's numbers start after min-s), which it may know before
// it executed that far. Numbered from its own mark, a primary behind the
// checkpoint pre-prepared requests every backup with the checkpoint refused,
// and took them for ordered when its clients retried.
func (n *node) firstFree() uint64 { return max(n.h, n.stable.Seq) + 1 }

// assignNewView has the primary count the sequence numbers and requests
// its new-view's pre-prepares assigned, all of them, so that it never
// assigns one of those numbers again or orders one of those requests twice.
// Those beyond its window (a primary that entered the view behind the
// stable checkpoint) count too: it signed them, and signing another
// pre-prepare for one of their numbers, once state transfer moved its
// window there, would be equivocation from a correct primary.
func (n *node) assignNewView() {
	for _, pp := range n.newView.PrePrepares {
		n.next = max(n.next, pp.Seq+1)
		if !pp.Cmd.IsNoop() {
			n.assigned[pp.Cmd.Client] = max(n.assigned[pp.Cmd.Client], pp.Cmd.Seq)
		}
	}
}

// assignLogged has the primary count the sequence numbers and requests of
// the pre-prepares of its view in its log as assigned: it signed them, in
// this incarnation or before a crash, maybe for a new-view of its own that
// a crash cut short (its record lost, some of its pre-prepares kept), so
// signing another pre-prepare for one of their numbers would be
// equivocation from a correct primary. The numbers its new-view re-issues
// are the new-view's (assignNewView; acceptNewView replaces what a torn
// attempt logged there), and so are their requests.
func (n *node) assignLogged() {
	for seq := n.h + 1; seq <= n.lastSeq(); seq++ {
		e := n.at(seq)
		if e == nil || !e.pp.ok || e.pp.view != n.view || n.reissued(seq) {
			continue
		}
		n.next = max(n.next, seq+1)
		if !e.pp.cmd.IsNoop() {
			n.assigned[e.pp.cmd.Client] = max(n.assigned[e.pp.cmd.Client], e.pp.cmd.Seq)
		}
	}
}

// reissued reports whether the new-view of the current view re-issues seq:
// its pre-prepares number a run from its stable checkpoint on.
func (n *node) reissued(seq uint64) bool {
	pps := n.newView.PrePrepares
	return n.newView.View == n.view && len(pps) > 0 && seq >= pps[0].Seq && seq <= pps[len(pps)-1].Seq
}

// acceptNewView accepts the pre-prepares of the current view's new-view
// that lie in the window and hold no pre-prepare of this view yet (at the
// primary, no pre-prepare of another request: one a torn earlier attempt
// at its new-view logged was never sent, since every send syncs the
// new-view's record first, and gives way): all of
// them on entering the view, and on a replica that entered it behind the
// stable checkpoint, those its window reaches once state transfer moved it
// (without them the primary, and each backup, would never prepare those
// numbers, and the view would stall until the next view change).
func (n *node) acceptNewView() {
	if n.changing || n.newView.View != n.view {
		return
	}
	primary := n.primary(n.view) == n.id
	for _, pp := range n.newView.PrePrepares {
		if !n.inWindow(pp.Seq) {
			continue
		}
		if e := n.at(pp.Seq); e != nil && e.pp.ok && e.pp.view >= pp.View && !(primary && e.pp.view == pp.View && e.pp.digest != pp.Digest) {
			continue
		}
		n.acceptPrePrepare(pp)
	}
}

// vcFault is what is wrong with a view-change message (vcValid: nothing).
type vcFault uint8

const (
	vcValid vcFault = iota
	vcBadSignature
	vcBadProof
	vcCertOrder
	vcCertView
	vcBadCert
)

// probe names the fault's probe, for a view-change message received
// directly or relayed inside a new-view message.
func (f vcFault) probe(relayed bool) string {
	direct := [...]string{vcBadSignature: ProbeViewChangeRejectedSig, vcBadProof: ProbeViewChangeRejectedProof,
		vcCertOrder: ProbeViewChangeRejectedCertOrder, vcCertView: ProbeViewChangeRejectedCertView, vcBadCert: ProbeViewChangeRejectedCert}
	inNewView := [...]string{vcBadSignature: ProbeNewViewRejectedRelayedSig, vcBadProof: ProbeNewViewRejectedRelayedProof,
		vcCertOrder: ProbeNewViewRejectedRelayedOrder, vcCertView: ProbeNewViewRejectedRelayedCertV, vcBadCert: ProbeNewViewRejectedRelayedCert}
	if relayed {
		return inNewView[f]
	}
	return direct[f]
}

// checkViewChange checks a view-change message (§4.4): its signature (it
// may have been relayed), its stable checkpoint's proof, and each prepared
// certificate, for increasing sequence numbers between the checkpoint and
// the window's end, from views before the new one.
func (n *node) checkViewChange(vc *MsgViewChange) vcFault {
	if !n.isServer(vc.Replica) || vc.View == 0 || !n.verify(vc.Sig, vc.Replica, viewChangeDigest(vc)) {
		return vcBadSignature
	}
	if !n.validCheckpointCert(vc.Stable) {
		return vcBadProof
	}
	prev := vc.Stable.Seq
	for i := range vc.Prepared {
		c := &vc.Prepared[i]
		switch {
		case c.Seq <= prev || c.Seq > vc.Stable.Seq+n.window():
			return vcCertOrder
		case c.View >= vc.View:
			return vcCertView
		case !n.validPreparedCert(c):
			return vcBadCert
		}
		prev = c.Seq
	}
	return vcValid
}

// validPreparedCert checks a prepared certificate (§4.2): the pre-prepare
// signed by the primary of its view, and 2f prepares of the same from
// distinct backups (2f-1 with the planted bug short-prepared-certificate).
func (n *node) validPreparedCert(c *PreparedCert) bool {
	d := c.Cmd.Digest()
	p := n.primary(c.View)
	need := n.prepareQuorum()
	if n.bugs.Has(shortPreparedCertificate) {
		need--
	}
	return n.verify(c.PrePrepare, p, prePrepareDigest(c.View, c.Seq, d)) &&
		n.validSigs(c.Prepares, prepareDigest(c.View, c.Seq, d), need, p)
}

// validCommitCert checks a commit certificate: 2f+1 commits of the same from
// distinct replicas.
func (n *node) validCommitCert(c *CommitCert) bool {
	return n.validSigs(c.Commits, commitDigest(c.View, c.Seq, c.Cmd.Digest()), n.quorum, sim.None)
}

// validCheckpointCert checks a stable checkpoint's proof: 2f+1 checkpoint
// messages of the same from distinct replicas (§4.3). Sequence number 0 is
// the initial state.
func (n *node) validCheckpointCert(c CheckpointCert) bool {
	if c.Seq == 0 {
		return c.Digest == 0 && len(c.Proof) == 0
	}
	return c.Seq%uint64(n.cfg.CheckpointInterval) == 0 &&
		n.validSigs(c.Proof, checkpointDigest(c.Seq, c.Digest), n.quorum, sim.None)
}

// validSigs reports whether sigs are at least need valid signatures of
// digest by distinct replicas other than exclude. One bad signature spoils
// the set: a correct replica never builds such a set.
func (n *node) validSigs(sigs []sim.Signature, digest uint64, need int, exclude sim.NodeID) bool {
	var seen uint64
	for _, s := range sigs {
		repeated := seen&bit(s.Signer) != 0 && !n.bugs.Has(countRepeatedSigners)
		if !n.isServer(s.Signer) || s.Signer == exclude || repeated || s.Digest != digest || !n.env.Verify(s) {
			return false
		}
		seen |= bit(s.Signer)
	}
	return len(sigs) >= need
}
