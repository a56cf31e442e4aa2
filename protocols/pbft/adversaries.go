package pbft

import (
	"slices"
	"time"

	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

// Adversaries for the acceptance checks. The behaviours of this file each
// attack validity checks that the first eight never reached: a primary that
// sends one backup two pre-prepares for one sequence number, view-change and
// new-view messages tampered with in every way a backup checks, new-views
// whose pre-prepares do not follow from their view-change messages, replays
// of old and others' messages, forged catch-up answers, and Twins (Bano et
// al., "Twins: BFT Systems Made Robust", OPODIS 2021): two honest instances
// sharing one identity and its keys, each talking to half of the replicas;
// and a backup that races the primary with pre-prepares of its own. Every
// check they reach fires its probe (probes.go), and the planted bugs
// accept-conflicting-pre-prepare, trust-relayed-view-changes,
// trust-new-view-pre-prepares and accept-pre-prepare-from-backup each remove
// one of the checks; runner/bugs_test.go proves each is caught.

// The behaviours of this file, by name.
const (
	BehaviourConflictingPrePrepares = "conflicting-pre-prepares"
	BehaviourTamperViewChange       = "tamper-view-change"
	BehaviourWrongNewView           = "wrong-new-view"
	BehaviourReplay                 = "replay"
	BehaviourForgeCatchUp           = "forge-catch-up"
	BehaviourTwins                  = "twins"
	BehaviourUsurpPrimary           = "usurp-primary"
)

// behaviourTwin is the second instance of a Twins pair: honest code whose
// sends are filtered to its half, never named in a scenario.
const behaviourTwin = "twin"

// replayStore bounds the messages a replayer keeps.
const replayStore = 64

// twinTimers is the first timer kind of the second twin: its kinds are
// shifted past the first one's.
const twinTimers sim.TimerKind = 8

// adversary is the state of the behaviours of this file.
type adversary struct {
	later []MsgPrePrepare // conflicting-pre-prepares: to send at the next status tick
	store []sim.Message   // replay: messages seen, a ring of replayStore
	next  int

	// twins: the second instance and its disk; side is the set of replicas
	// this instance talks to.
	twin     *node
	twinDisk *sim.Disk
	side     uint64

	// tamper-view-change, wrong-new-view: the new-view as it should be.
	honest MsgNewView
}

// prePrepareConflicting: the primary multicasts its pre-prepare, and at the
// next status tick sends every backup a second one for the same view and
// sequence number with another request (a null request, or a forged one
// against a null request), one in ten signed over the first digest (a bad
// signature) and one in ten carrying the first request (a digest that is not
// its request's). A backup must keep the first (§4.2). It also prepares, as
// a primary must not.
func (b *byzantine) prePrepareConflicting(n *node, pp MsgPrePrepare) {
	n.broadcast(pp)
	// A primary does not prepare (§4.2): backups refuse its prepare.
	n.broadcast(MsgPrepare{SignedVote{View: pp.View, Seq: pp.Seq, Digest: pp.Digest, Sig: n.sign(prepareDigest(pp.View, pp.Seq, pp.Digest))}})
	alt := b.alternative(n, pp.Seq, pp.Cmd)
	other := MsgPrePrepare{View: pp.View, Seq: pp.Seq, Digest: alt.Digest(), Cmd: alt}
	signed := other.Digest
	switch r := n.env.Rand().IntN(10); {
	case r == 0: // signed over the first digest
		signed = pp.Digest
	case r == 1: // a digest that is not its request's
		other.Cmd = pp.Cmd
	}
	other.Sig = n.sign(prePrepareDigest(other.View, other.Seq, signed))
	b.adv.later = append(b.adv.later, other)
}

// usurp: a backup that has just accepted the primary's pre-prepare for seq
// plays the primary of the next sequence number before the primary does: it
// sends the other replicas pre-prepares of its own, signed with its own key,
// for seq+1 in the same view, a forged request to one half of the correct
// replicas and a null request to the other (otherSide), with its prepares
// and commits for each. A replica must refuse a pre-prepare from anyone but
// the view's primary (§4.1); one that took these would log different
// requests at one view and sequence number on different replicas, none of
// which gathers a quorum: the sequence numbers it took stall.
func (b *byzantine) usurp(n *node, pp MsgPrePrepare) {
	if n.primary(pp.View) == n.id || b.colluders&bit(n.primary(pp.View)) != 0 {
		return
	}
	seq := pp.Seq + 1
	forged := n.forgedCommand(seq)
	forgedDigest, nullDigest := forged.Digest(), service.Noop.Digest()
	for _, id := range n.servers {
		if id == n.id {
			continue
		}
		cmd := forged
		if b.otherSide(n, pp.View, id) {
			cmd = service.Noop
		}
		own := MsgPrePrepare{View: pp.View, Seq: seq, Digest: cmd.Digest(), Cmd: cmd}
		own.Sig = n.sign(prePrepareDigest(own.View, own.Seq, own.Digest))
		n.send(id, own)
	}
	b.splitVotes(n, tagPrepare, pp.View, seq, forgedDigest, nullDigest)
	b.splitVotes(n, tagCommit, pp.View, seq, forgedDigest, nullDigest)
}

// sendConflicting sends the queued conflicting pre-prepares of this view.
func (b *byzantine) sendConflicting(n *node) {
	for _, pp := range b.adv.later {
		if pp.View == n.view && !n.changing {
			n.broadcast(pp)
		}
	}
	b.adv.later = b.adv.later[:0]
}

// tamperViewChange relays another replica's view-change message as if it
// were a message of its own, and sends each replica a view-change message
// broken in one of the ways §4.4's checks catch, the replicas taking turns
// from a way drawn at random: signed over other contents, prepared
// certificates out of order or beyond the window, a certificate of the view
// being asked for, a certificate with forged prepares, a stable checkpoint
// with a forged proof (forgedProof). The correct one follows at the next
// status tick.
func (b *byzantine) tamperViewChange(n *node, vc MsgViewChange) {
	for _, id := range n.servers {
		if other := n.viewChanges[id]; id != n.id && other.View > 0 {
			n.broadcast(other) // not signed by its sender: relayed ones travel in new-views
			break
		}
	}
	turn := n.env.Rand().IntN(5)
	for _, id := range n.servers {
		if id != n.id {
			turn++
			n.send(id, b.malformedViewChange(n, vc, turn%5))
		}
	}
}

// malformedViewChange returns vc broken in the given way (0-4), signed by
// this replica.
func (b *byzantine) malformedViewChange(n *node, vc MsgViewChange, how int) MsgViewChange {
	vc.Prepared = slices.Clone(vc.Prepared)
	seq := vc.Stable.Seq + 1
	cmd := n.forgedCommand(seq)
	switch how {
	case 0: // signed over other contents
		vc.Sig = n.sign(viewChangeDigest(&vc) ^ 1)
		return vc
	case 1: // certificates out of order, or beyond the window
		if k := len(vc.Prepared); k > 0 {
			vc.Prepared = append(vc.Prepared, vc.Prepared[k-1])
		} else {
			s := vc.Stable.Seq + n.window() + 1
			vc.Prepared = append(vc.Prepared, PreparedCert{View: vc.View - 1, Seq: s, Cmd: n.forgedCommand(s)})
		}
	case 2: // a certificate of the view asked for (it cannot have prepared there yet)
		vc.Prepared = []PreparedCert{{View: vc.View, Seq: seq, Cmd: cmd, PrePrepare: n.sign(prePrepareDigest(vc.View, seq, cmd.Digest()))}}
	case 3: // a certificate with forged prepares
		view := vc.View - 1
		c := PreparedCert{View: view, Seq: seq, Cmd: cmd, PrePrepare: madeUp(n.primary(view), prePrepareDigest(view, seq, cmd.Digest()))}
		c.Prepares = n.forgedProof(n.prepareQuorum(), prepareDigest(view, seq, cmd.Digest()), n.primary(view))
		vc.Prepared = []PreparedCert{c}
	default: // a stable checkpoint with a forged proof
		k := uint64(n.cfg.CheckpointInterval)
		s := (vc.Stable.Seq/k + 1) * k
		d := n.env.Rand().Uint64()
		vc.Stable, vc.Prepared = CheckpointCert{Seq: s, Digest: d}, nil
		vc.Stable.Proof = n.forgedProof(n.quorum, checkpointDigest(s, d), sim.None)
	}
	vc.Sig = n.sign(viewChangeDigest(&vc))
	return vc
}

// tamperNewView: as new primary, a new-view whose relayed view-change
// messages a backup must refuse (§4.4), broken in the given way (0-9): the
// others' messages with their prepared certificates stripped (their
// signatures no longer match) and O computed from what is left, which hides
// every prepared request (0-3, the new-view the primary enters); its own
// message, stripped of certificates, in place of every other, with O
// computed from them (4); one relayed for another view (5); or its own
// message malformed (6-9).
func (b *byzantine) tamperNewView(n *node, nv *MsgNewView, r int) {
	vcs := slices.Clone(nv.ViewChanges)
	last := len(vcs) - 1
	switch {
	case r < 4:
		for i := range vcs {
			switch {
			case vcs[i].Replica == n.id: // its own, signed again
				vcs[i].Prepared = nil
				vcs[i].Sig = n.sign(viewChangeDigest(&vcs[i]))
			case len(vcs[i].Prepared) > 0:
				vcs[i].Prepared = nil
			default: // nothing to hide: the signature breaks all the same
				vcs[i].Stable = CheckpointCert{Seq: vcs[i].Stable.Seq}
			}
		}
		_, nv.PrePrepares = n.newViewPrePrepares(nv.View, vcs)
	case r < 5: // its own message, without certificates, in every place: only the duplicate check refuses it
		own := MsgViewChange{View: nv.View, Replica: n.id, Stable: n.stable}
		own.Sig = n.sign(viewChangeDigest(&own))
		for i := range vcs {
			vcs[i] = own
		}
		_, nv.PrePrepares = n.newViewPrePrepares(nv.View, vcs)
	case r < 6:
		vcs[last].View++
	default: // its own, malformed in one of four ways
		i := slices.IndexFunc(vcs, func(vc MsgViewChange) bool { return vc.Replica == n.id })
		if i < 0 {
			i = last
		}
		own := MsgViewChange{View: nv.View, Replica: n.id, Stable: n.stable}
		vcs[i] = b.malformedViewChange(n, own, r-5)
	}
	nv.ViewChanges = vcs
}

// sendNewView sends the new-view the primary entered to every backup, each
// backup getting then another variant of its own among the other ways to
// break it, the backups taking turns from a variant drawn at random, so
// that one view change tries several.
func (b *byzantine) sendNewView(n *node, nv MsgNewView) bool {
	if b.behaviour != BehaviourTamperViewChange && b.behaviour != BehaviourWrongNewView {
		return false
	}
	turn := n.env.Rand().IntN(10)
	for _, id := range n.servers {
		if id == n.id {
			continue
		}
		turn++
		extra := b.adv.honest
		if b.behaviour == BehaviourTamperViewChange {
			b.tamperNewView(n, &extra, []int{0, 4, 5, 6, 7, 8, 9}[turn%7]) // stripped, a duplicate, another view, its own malformed
		} else {
			b.wrongNewView(n, &extra, 10+turn%10) // a count, a sequence number, a digest or a signature
		}
		n.send(id, nv)
		n.send(id, extra)
	}
	return true
}

// wrongNewView: as new primary, a new-view with valid view-change messages
// whose O does not follow from them (§4.4), broken in the given way (0-19):
// every re-issued request replaced by another (a null request, or a forged
// one against a null request), properly signed (0-9, the new-view the
// primary enters); a pre-prepare too many or too few (10-13); one for the
// wrong sequence number or with a request that does not match its digest
// (14-16); or one not signed by the primary over its digest (17-19).
func (b *byzantine) wrongNewView(n *node, nv *MsgNewView, r int) {
	pps := slices.Clone(nv.PrePrepares)
	next := uint64(1)
	if k := len(pps); k > 0 {
		next = pps[k-1].Seq + 1
	} else if len(nv.ViewChanges) > 0 {
		stable, _ := n.computeNewView(nv.ViewChanges)
		next = stable.Seq + 1
	}
	sign := func(pp *MsgPrePrepare) { pp.Sig = n.sign(prePrepareDigest(pp.View, pp.Seq, pp.Digest)) }
	switch {
	case len(pps) == 0 || (r >= 10 && r < 14): // one too many (or one fewer)
		if len(pps) > 0 && r%2 == 0 {
			pps = pps[:len(pps)-1]
			break
		}
		cmd := n.forgedCommand(next)
		pp := MsgPrePrepare{View: nv.View, Seq: next, Digest: cmd.Digest(), Cmd: cmd}
		sign(&pp)
		pps = append(pps, pp)
	case r < 10: // other requests
		for i := range pps {
			pps[i].Cmd = b.alternative(n, pps[i].Seq, pps[i].Cmd)
			pps[i].Digest = pps[i].Cmd.Digest()
			sign(&pps[i])
		}
	case r < 17: // the wrong sequence number, or a request that does not match its digest
		i := n.env.Rand().IntN(len(pps))
		if r%2 == 0 {
			pps[i].Seq += uint64(len(pps))
			sign(&pps[i])
		} else {
			pps[i].Cmd = b.alternative(n, pps[i].Seq, pps[i].Cmd)
		}
	default: // signed over another digest
		i := n.env.Rand().IntN(len(pps))
		pps[i].Sig = n.sign(prePrepareDigest(pps[i].View, pps[i].Seq, corrupt(pps[i].Digest)))
	}
	nv.PrePrepares = pps
}

// remember keeps a message a replayer saw or sent, in a ring.
func (b *byzantine) remember(m sim.Message) {
	switch m.(type) {
	case MsgPrePrepare, MsgPrepare, MsgCommit, MsgCheckpoint, MsgViewChange, MsgNewView, MsgCommitted, MsgState:
	default:
		return
	}
	if len(b.adv.store) < replayStore {
		b.adv.store = append(b.adv.store, m)
		return
	}
	b.adv.store[b.adv.next] = m
	b.adv.next = (b.adv.next + 1) % replayStore
}

// replay sends up to three remembered messages, each to a replica drawn at
// random: its own from earlier views, and the others' as if they were its
// own (their signatures name someone else).
func (b *byzantine) replay(n *node) {
	if len(b.adv.store) == 0 {
		return
	}
	for range 1 + n.env.Rand().IntN(3) {
		m := b.adv.store[n.env.Rand().IntN(len(b.adv.store))]
		to := n.servers[n.env.Rand().IntN(len(n.servers))]
		if to != n.id {
			n.env.Send(to, m)
		}
	}
}

// forgeCatchUp answers about one status in three with forged catch-up
// (§4.3), drawn at random: a commit certificate for the next sequence number
// the asker lacks whose request is not the one signed, or whose signatures
// are forged (forgedProof), a forged state transfer (forgeState), or a
// checkpoint message off the checkpoint interval or signed over another
// digest.
func (b *byzantine) forgeCatchUp(n *node, from sim.NodeID, m MsgStatus) {
	if !n.env.Rand().Chance(0.35) {
		return
	}
	k := uint64(n.cfg.CheckpointInterval)
	seq := m.Exec + 1
	switch n.env.Rand().IntN(4) {
	case 0:
		cmd := n.forgedCommand(seq)
		cert := CommitCert{View: m.View, Seq: seq, Cmd: cmd}
		if e := n.at(seq); e != nil && e.committed {
			cert = e.done
			cert.Cmd = cmd // the signatures are for another request
		} else {
			cert.Commits = n.forgedProof(n.quorum, commitDigest(cert.View, seq, cmd.Digest()), sim.None)
		}
		n.env.Send(from, MsgCommitted{Certs: []CommitCert{cert}})
	case 1:
		b.forgeState(n, from, m.Exec)
	case 2:
		if seq%k == 0 {
			seq++
		}
		d := n.env.Rand().Uint64()
		n.env.Send(from, MsgCheckpoint{Seq: seq, Digest: d, Sig: n.sign(checkpointDigest(seq, d))})
	default:
		s := (m.Exec/k + 1) * k
		d := n.env.Rand().Uint64()
		n.env.Send(from, MsgCheckpoint{Seq: s, Digest: d, Sig: n.sign(checkpointDigest(s, corrupt(d)))})
	}
}

// forgeState sends a replica that executed up to exec a state transfer it
// must refuse: the initial state under a checkpoint certificate with a
// forged proof, half of them with a digest the bytes do not match either;
// or, where this replica holds a real stable checkpoint the asker lacks,
// that checkpoint's valid certificate over a state of its own making (its
// state with one forged request more), which only the comparison of the
// bytes with the certified digest exposes.
func (b *byzantine) forgeState(n *node, to sim.NodeID, exec uint64) {
	if n.snap.cert.Seq > exec && n.env.Rand().Chance(0.5) {
		sessions := service.NewSessions(n.newSM())
		if sessions.Restore(n.snap.data) != nil {
			return
		}
		sessions.Apply(n.forgedCommand(n.snap.cert.Seq))
		if data, err := sessions.Snapshot(); err == nil {
			n.env.Send(to, MsgState{Checkpoint: n.snap.cert, Last: n.snap.last, Data: data})
		}
		return
	}
	data, err := service.NewSessions(n.newSM()).Snapshot()
	if err != nil {
		return
	}
	k := uint64(n.cfg.CheckpointInterval)
	s := (exec/k + 1) * k
	c := CheckpointCert{Seq: s, Digest: stateDigest(data, 0)}
	if n.env.Rand().Chance(0.5) {
		c.Digest = corrupt(c.Digest) // the bytes do not match
	}
	c.Proof = n.forgedProof(n.quorum, checkpointDigest(s, c.Digest), sim.None)
	n.env.Send(to, MsgState{Checkpoint: c, Data: data})
}

// Twins. The replica runs two honest instances with its identity: this one,
// and a second with its own memory, its own (volatile) disk and its timers
// shifted by twinTimers. The other replicas are split in two halves (in ID
// order); each instance hears from and sends to its half only, and the
// clients are split the same way (by ID parity), so as primary the twins
// order different requests under the same sequence numbers and signatures,
// and as backups they vote for whatever their half was told.

// startTwins builds the second instance and starts it.
func (b *byzantine) startTwins(n *node) {
	var others []sim.NodeID
	for _, id := range n.servers {
		if id != n.id {
			others = append(others, id)
		}
	}
	half := len(others) / 2
	twin := &node{id: n.id, cfg: n.cfg, bugs: n.bugs, newSM: n.newSM, byz: &byzantine{behaviour: behaviourTwin}}
	for i, id := range others {
		if i < half {
			b.adv.side |= bit(id)
		} else {
			twin.byz.adv.side |= bit(id)
		}
	}
	b.adv.twin, b.adv.twinDisk = twin, sim.NewDisk()
	twin.Start(b.twinEnv(n.env))
}

// twinEnv is the second twin's view of env.
func (b *byzantine) twinEnv(env sim.Env) sim.Env { return &twinEnv{Env: env, disk: b.adv.twinDisk} }

// mine reports whether a message from the given node belongs to this
// instance: a replica of its half, or a client of its parity (the first
// instance takes the even ones).
func (b *byzantine) mine(n *node, from sim.NodeID, first bool) bool {
	if n.isServer(from) {
		return b.adv.side&bit(from) != 0
	}
	return (from%2 == 0) == first
}

// twinReceive hands a message to the second twin if it belongs to its half,
// and reports whether the first one should not see it.
func (b *byzantine) twinReceive(n *node, env sim.Env, from sim.NodeID, m sim.Message) bool {
	twin := b.adv.twin
	if twin.byz.mine(twin, from, false) {
		twin.Receive(b.twinEnv(env), from, m)
	}
	return !b.mine(n, from, true)
}

// twinTimer runs a timer of the second twin.
func (b *byzantine) twinTimer(env sim.Env, kind sim.TimerKind) {
	b.adv.twin.Timer(b.twinEnv(env), kind-twinTimers)
}

// twinEnv gives the second twin its own disk and timer kinds; its
// observations go unannounced (a Byzantine replica's prove nothing).
type twinEnv struct {
	sim.Env
	disk *sim.Disk
}

func (e *twinEnv) Disk() *sim.Disk { return e.disk }

func (e *twinEnv) SetTimer(k sim.TimerKind, d time.Duration) { e.Env.SetTimer(k+twinTimers, d) }

func (e *twinEnv) CancelTimer(k sim.TimerKind) { e.Env.CancelTimer(k + twinTimers) }

func (e *twinEnv) Observe(sim.Observation) {}
