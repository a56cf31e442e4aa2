package pbft

import (
	"fmt"
	"slices"
	"strings"

	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

// Byzantine replicas (§3: "faulty nodes may behave arbitrarily"). A Byzantine
// replica runs the correct replica's code with hooks where it lies: what it
// sends, to whom and when. It signs only as itself (sim.Env.Sign), so a
// signature it makes up for another replica fails verification, as a forged
// one would. Byzantine replicas with the same behaviour know each other and
// collude. Their observations are not judged: the checkers judge the correct
// replicas only.

// Behaviour describes a Byzantine behaviour.
type Behaviour struct {
	Name, Description string
}

// The Byzantine behaviours, by name.
const (
	BehaviourSilent           = "silent"
	BehaviourCrash            = "crash"
	BehaviourEquivocate       = "equivocate"
	BehaviourWrongDigest      = "wrong-digest"
	BehaviourConflictingVotes = "conflicting-votes"
	BehaviourForgeViewChange  = "forge-view-change"
	BehaviourWrongResults     = "wrong-results"
	BehaviourDelay            = "delay"
	BehaviourForgeRequests    = "forge-requests"
)

var knownBehaviours = []Behaviour{
	{BehaviourConflictingPrePrepares, "as primary, sends every backup its pre-prepare and, at the next status tick, a " +
		"second one for the same view and sequence number with another request (one in ten signed over the first " +
		"digest, one in ten carrying the first request): a backup must keep the first (§4.2); it also prepares, as a " +
		"primary must not"},
	{BehaviourConflictingVotes, "as a backup, votes (prepare and commit, at once) for the request to half of the " +
		"other replicas and for a conflicting one to the other half"},
	{BehaviourCrash, "behaves correctly, then stops for good at a moment drawn from its own random stream " +
		"in [0, byzantine_crash_within]"},
	{BehaviourDelay, "behaves correctly but holds every message to a set of victims (about half of the other " +
		"replicas, drawn from its stream) for byzantine_delay"},
	{BehaviourEquivocate, "as primary, sends a pre-prepare of the request to half of the correct backups and a " +
		"conflicting one (a null request) for the same sequence number to the others, with matching commits; " +
		"as a backup of a colluding primary, prepares and commits whatever each replica was told"},
	{BehaviourForgeCatchUp, "answers status messages with forged catch-up: commit certificates whose request is not " +
		"the one signed or whose signatures are made up or all its own, state transfers whose proof is forged, or whose " +
		"bytes do not match their checkpoint (a real stable one included, over a state it made up), checkpoint messages off the interval or signed over another digest"},
	{BehaviourForgeRequests, "ahead of each client request it receives, makes up a copy in the client's name with a " +
		"sequence number far ahead, and relays it to the primary (as primary, orders it): a replica must take a request " +
		"only if its client signed it (§4.1); one that did not would run the operation twice and drop the client's " +
		"later requests as stale"},
	{BehaviourForgeViewChange, "sends view-change messages with forged-looking data (certificates with too " +
		"few, made-up or repeated signatures, a stable checkpoint with a forged proof, or stale data with nothing " +
		"prepared), now and then unprompted, and as new primary a new-view message whose O does not follow from V"},
	{BehaviourReplay, "takes part in the protocol and at every status tick sends a few replicas messages it saw or sent " +
		"before: its own from older views, and the others' as if they were its own"},
	{BehaviourSilent, "sends nothing and ignores everything"},
	{BehaviourTamperViewChange, "sends view-change messages broken in each way §4.4 checks (signed over other contents, " +
		"certificates out of order or of the new view, forged proofs, another's message relayed), and as new primary " +
		"new-views relaying tampered view-change messages (their prepared certificates stripped, so their signatures " +
		"fail), one replica's twice, one for another view, or its own malformed"},
	{BehaviourTwins, "Twins: runs two honest instances with its identity and keys, each talking to half of the other " +
		"replicas and of the clients, so as primary it orders different requests under one sequence number"},
	{BehaviourUsurpPrimary, "as a backup, races the primary: on each pre-prepare it accepts, sends the others " +
		"pre-prepares of its own for the next sequence number, signed with its own key (a forged request to half of " +
		"the correct replicas, a null request to the other half), with matching prepares and commits: a replica must " +
		"take pre-prepares from the view's primary only (§4.1)"},
	{BehaviourWrongDigest, "sends pre-prepares whose digest is not the request's, and prepares, commits and " +
		"checkpoints with wrong digests"},
	{BehaviourWrongNewView, "as new primary, sends new-views with valid view-change messages but pre-prepares that do " +
		"not follow from them (§4.4): other requests than the ones prepared, one too many or too few, a wrong sequence " +
		"number, a request that does not match its digest, or a bad signature"},
	{BehaviourWrongResults, "takes part in the protocol but replies to clients, at once and before executing, " +
		"with results computed on an empty state"},
}

// KnownBehaviours lists the Byzantine behaviours, sorted by name.
func KnownBehaviours() []Behaviour { return slices.Clone(knownBehaviours) }

// ValidateBehaviour reports an unknown behaviour name.
func ValidateBehaviour(name string) error {
	if slices.ContainsFunc(knownBehaviours, func(b Behaviour) bool { return b.Name == name }) {
		return nil
	}
	names := make([]string, len(knownBehaviours))
	for i, b := range knownBehaviours {
		names[i] = b.Name
	}
	return fmt.Errorf("pbft: unknown Byzantine behaviour %q (known: %s)", name, strings.Join(names, ", "))
}

// byzantine is the state of a Byzantine replica's behaviour.
type byzantine struct {
	behaviour string
	colluders uint64 // replicas with the same behaviour, this one included
	stopped   bool   // crash: stopped for good
	victims   uint64 // delay: the replicas whose messages are held
	held      []heldMessage
	adv       adversary // the behaviours of adversaries.go
}

type heldMessage struct {
	at sim.Time
	to sim.NodeID
	m  sim.Message
}

// stoppedKey marks on disk that a crash-like replica stopped, so that a
// restart does not revive it.
const stoppedKey = "pbft/byzantine/stopped"

// forgedOp is the operation of requests Byzantine replicas make up. Its
// client is the Byzantine replica itself, a server, so no reply goes out.
var forgedOp = []byte("forged")

func newByzantine(behaviour string, all []ByzantineReplica) *byzantine {
	b := &byzantine{behaviour: behaviour}
	for _, r := range all {
		if r.Behaviour == behaviour {
			b.colluders |= bit(r.ID)
		}
	}
	return b
}

// start sets the behaviour up and reports whether the replica runs at all.
func (b *byzantine) start(n *node) bool {
	switch b.behaviour {
	case BehaviourSilent:
		return false
	case BehaviourCrash:
		if _, ok := n.env.Disk().Get(stoppedKey); ok {
			b.stopped = true
			return false
		}
		stopAt := sim.Time(n.env.Rand().DurationBetween(0, n.cfg.ByzantineCrashWithin))
		n.env.SetTimer(timerByzantine, max(0, stopAt.Sub(n.env.Now())))
	case BehaviourTwins:
		b.startTwins(n)
	case BehaviourDelay:
		for _, id := range n.servers {
			if id != n.id && n.env.Rand().Chance(0.5) {
				b.victims |= bit(id)
			}
		}
		if b.victims == 0 {
			b.victims = bit((n.id + 1) % sim.NodeID(n.size()))
		}
	}
	return true
}

// mute reports whether the replica ignores everything now.
func (b *byzantine) mute() bool { return b.behaviour == BehaviourSilent || b.stopped }

// timer stops a crash-like replica, or releases a delayer's held messages.
func (b *byzantine) timer(n *node) {
	switch b.behaviour {
	case BehaviourCrash:
		b.stopped = true
		n.env.Disk().Put(stoppedKey, nil)
		n.dirty = true
		n.env.CancelTimer(timerStatus)
		n.env.CancelTimer(timerRequest)
	case BehaviourDelay:
		now := n.env.Now()
		i := 0
		for ; i < len(b.held) && b.held[i].at <= now; i++ {
			n.env.Send(b.held[i].to, b.held[i].m)
		}
		b.held = slices.Delete(b.held, 0, i)
		if len(b.held) > 0 {
			n.env.SetTimer(timerByzantine, b.held[0].at.Sub(now))
		}
	}
}

// hold keeps a delayer's message to a victim for ByzantineDelay. Every
// message waits as long, so they leave in the order they were sent.
func (b *byzantine) hold(n *node, to sim.NodeID, m sim.Message) bool {
	switch b.behaviour {
	case BehaviourReplay:
		b.remember(m)
		return false
	case BehaviourTwins, behaviourTwin: // each twin talks to its half only
		if n.isServer(to) {
			return b.adv.side&bit(to) == 0
		}
		return !b.mine(n, to, b.behaviour == BehaviourTwins)
	}
	if b.behaviour != BehaviourDelay || b.victims&bit(to) == 0 || n.cfg.ByzantineDelay == 0 {
		return false
	}
	b.held = append(b.held, heldMessage{at: n.env.Now().Add(n.cfg.ByzantineDelay), to: to, m: m})
	if len(b.held) == 1 {
		n.env.SetTimer(timerByzantine, n.cfg.ByzantineDelay)
	}
	return true
}

// request: a wrong-results replica answers a request at once.
func (b *byzantine) request(n *node, cmd service.Command) bool {
	switch b.behaviour {
	case BehaviourWrongResults:
		b.wrongReply(n, cmd)
	case BehaviourForgeRequests:
		b.forgeRequest(n, cmd)
	}
	return false
}

// forgedSeqAhead is how far past a client's request a forged copy's
// sequence number is.
const forgedSeqAhead = 1000

// forgeRequest has a copy of cmd that its client never sent ordered ahead
// of it: the same operation under a sequence number far ahead.
func (b *byzantine) forgeRequest(n *node, cmd service.Command) {
	forged := cmd
	forged.Seq += forgedSeqAhead
	if n.isPrimary() {
		n.order(forged)
		return
	}
	n.send(n.primary(n.view), service.Request{Cmd: forged})
}

// acceptedPrePrepare: a wrong-results replica answers the request in a
// pre-prepare at once, ahead of the replicas that execute it.
func (b *byzantine) acceptedPrePrepare(n *node, m MsgPrePrepare) {
	if b.behaviour == BehaviourUsurpPrimary {
		b.usurp(n, m)
		return
	}
	if b.behaviour == BehaviourWrongResults && !m.Cmd.IsNoop() && !n.isServer(m.Cmd.Client) {
		b.wrongReply(n, m.Cmd)
	}
}

// wrongReply answers cmd with the result it would have on an empty state: a
// well-formed answer that is wrong whenever the state matters.
func (b *byzantine) wrongReply(n *node, cmd service.Command) {
	result := n.newSM().Apply(cmd.Op)
	n.send(cmd.Client, service.Reply{Client: cmd.Client, Seq: cmd.Seq, Status: service.StatusOK, Result: result})
}

// muteReplies: a wrong-results replica sends no true result.
func (b *byzantine) muteReplies() bool { return b.behaviour == BehaviourWrongResults }

// prePrepare sends a Byzantine primary's pre-prepare, if it lies about it.
func (b *byzantine) prePrepare(n *node, pp MsgPrePrepare) bool {
	switch b.behaviour {
	case BehaviourEquivocate:
		alt := b.alternative(n, pp.Seq, pp.Cmd)
		other := MsgPrePrepare{View: pp.View, Seq: pp.Seq, Digest: alt.Digest(), Cmd: alt}
		other.Sig = n.sign(prePrepareDigest(other.View, other.Seq, other.Digest))
		for _, id := range n.servers {
			switch {
			case id == n.id:
			case b.otherSide(n, pp.View, id):
				n.send(id, other)
			default:
				n.send(id, pp)
			}
		}
		// The primary's commits go with its pre-prepares: it has nothing to
		// wait for.
		b.splitVotes(n, tagCommit, pp.View, pp.Seq, pp.Digest, alt.Digest())
		return true
	case BehaviourConflictingPrePrepares:
		b.prePrepareConflicting(n, pp)
		return true
	case BehaviourWrongDigest:
		bad := pp
		bad.Digest = corrupt(pp.Digest)
		bad.Sig = n.sign(prePrepareDigest(bad.View, bad.Seq, bad.Digest))
		n.broadcast(bad)
		return true
	}
	return false
}

// vote sends a Byzantine replica's prepare or commit, if it lies about it.
func (b *byzantine) vote(n *node, tag byte, view, seq, digest uint64) bool {
	switch b.behaviour {
	case BehaviourEquivocate:
		p := n.primary(view)
		if p == n.id || b.colluders&bit(p) == 0 {
			return false // only a colluding primary's equivocation is backed
		}
	case BehaviourConflictingVotes:
	case BehaviourWrongDigest:
		d := corrupt(digest)
		n.broadcast(voteMessage(tag, SignedVote{View: view, Seq: seq, Digest: d, Sig: n.sign(voteDigest(tag, view, seq, d))}))
		return true
	default:
		return false
	}
	e := n.at(seq)
	alt := b.alternative(n, seq, e.pp.cmd).Digest()
	if tag == tagPrepare {
		b.splitVotes(n, tagPrepare, view, seq, digest, alt)
		e.commitSent = true // it commits at once, both ways
	}
	b.splitVotes(n, tagCommit, view, seq, digest, alt)
	return true
}

// splitVotes sends a vote for real to the replicas on the request's side and
// for alt to the others (see otherSide).
func (b *byzantine) splitVotes(n *node, tag byte, view, seq, real, alt uint64) {
	for _, id := range n.servers {
		if id == n.id {
			continue
		}
		d := real
		if b.otherSide(n, view, id) {
			d = alt
		}
		n.send(id, voteMessage(tag, SignedVote{View: view, Seq: seq, Digest: d, Sig: n.sign(voteDigest(tag, view, seq, d))}))
	}
}

// otherSide reports whether replica id is told the alternative request: the
// correct backups of view (all but the primary and the colluders), in ID
// order, are split in two halves, the second half told the alternative. The
// colluders compute the same split without talking.
func (b *byzantine) otherSide(n *node, view uint64, id sim.NodeID) bool {
	p := n.primary(view)
	if id == p || b.colluders&bit(id) != 0 {
		return false
	}
	var correct []sim.NodeID
	for _, r := range n.servers {
		if r != p && b.colluders&bit(r) == 0 {
			correct = append(correct, r)
		}
	}
	return slices.Index(correct, id) >= len(correct)/2
}

// alternative is the request a liar puts against cmd at seq: a null
// request, or, against a null request, a forged one.
func (b *byzantine) alternative(n *node, seq uint64, cmd service.Command) service.Command {
	if cmd.IsNoop() {
		return n.forgedCommand(seq)
	}
	return service.Noop
}

// forgedCommand is a request no client sent, in the faulty replica's own
// name and signed by it: correct replicas cannot tell it from a client's.
func (n *node) forgedCommand(seq uint64) service.Command {
	cmd := service.Command{Client: n.id, Seq: seq, Op: forgedOp}
	n.sign(cmd.Digest())
	return cmd
}

// corrupt turns a digest into a wrong one.
func corrupt(d uint64) uint64 { return d ^ 0x9e3779b97f4a7c15 }

// checkpointDigest is the state digest a replica announces.
func (b *byzantine) checkpointDigest(d uint64) uint64 {
	if b.behaviour == BehaviourWrongDigest {
		return corrupt(d)
	}
	return d
}

// rewriteViewChange replaces a Byzantine replica's view-change data as its
// behaviour has it: a forger's (forgeViewChange), an equivocator's
// (claimMinority); the others' stay as a correct replica's.
func (b *byzantine) rewriteViewChange(n *node, vc *MsgViewChange) {
	switch b.behaviour {
	case BehaviourForgeViewChange:
		b.forgeViewChange(n, vc)
	case BehaviourEquivocate:
		b.claimMinority(n, vc)
	}
}

// forgeViewChange replaces a forger's view-change data, choosing at random:
// a prepared certificate for a forged request with only its own prepare (too
// few signers), or with forged prepares (forgedProof: made up for the others,
// or its own repeated), a stable checkpoint beyond the real one with a forged
// proof, or stale data: no stable checkpoint and nothing prepared (valid,
// like a replica that lost its disk: the others must cope with it).
func (b *byzantine) forgeViewChange(n *node, vc *MsgViewChange) {
	switch n.env.Rand().IntN(4) {
	case 0, 1:
		seq := vc.Stable.Seq + 1
		if k := len(vc.Prepared); k > 0 {
			seq = vc.Prepared[k-1].Seq + 1
		}
		if seq > vc.Stable.Seq+n.window() {
			return
		}
		view := vc.View - 1
		cmd := n.forgedCommand(seq)
		d := cmd.Digest()
		c := PreparedCert{View: view, Seq: seq, Cmd: cmd, PrePrepare: madeUp(n.primary(view), prePrepareDigest(view, seq, d))}
		c.Prepares = n.forgedProof(n.prepareQuorum(), prepareDigest(view, seq, d), n.primary(view))
		if n.primary(view) == n.id {
			c.PrePrepare = n.sign(c.PrePrepare.Digest)
		}
		if n.env.Rand().Chance(0.5) {
			c.Prepares = []sim.Signature{n.sign(prepareDigest(view, seq, d))} // too few
		}
		vc.Prepared = append(slices.Clone(vc.Prepared), c)
	case 2:
		k := uint64(n.cfg.CheckpointInterval)
		seq := (vc.Stable.Seq/k + 2) * k
		digest := n.env.Rand().Uint64()
		vc.Stable = CheckpointCert{Seq: seq, Digest: digest}
		vc.Stable.Proof = n.forgedProof(n.quorum, checkpointDigest(seq, digest), sim.None)
		vc.Prepared = nil
	default:
		vc.Stable, vc.Prepared = CheckpointCert{}, nil
	}
}

// madeUp is a signature a forger makes up for another replica: it looks right
// but the kernel knows the signer never made it, so Verify fails.
func madeUp(signer sim.NodeID, digest uint64) sim.Signature {
	return sim.Signature{Signer: signer, Digest: digest}
}

// forgedProof returns count signatures over digest for a certificate the
// forger cannot honestly fill. Half the time they are made up for replicas
// other than except, and each fails Verify; otherwise they are the forger's
// own real signature, count times: each verifies, and only the rule that a
// certificate's signatures come from distinct replicas (§4.2) refuses them,
// unless the forger is except itself (the primary of a prepared
// certificate's view), whose signature the certificate may not hold at all.
func (n *node) forgedProof(count int, digest uint64, except sim.NodeID) []sim.Signature {
	if n.env.Rand().Chance(0.5) {
		return slices.Repeat([]sim.Signature{n.sign(digest)}, count)
	}
	var proof []sim.Signature
	for _, id := range n.servers {
		if id != except && len(proof) < count {
			proof = append(proof, madeUp(id, digest))
		}
	}
	return proof
}

// forgeNewView: a forging new primary puts a forged request in O (signing it
// properly: it is the primary), or leaves out a view-change message, so that
// O does not follow from V.
func (b *byzantine) forgeNewView(n *node, nv *MsgNewView) {
	switch b.behaviour {
	case BehaviourTamperViewChange:
		b.adv.honest = *nv
		b.tamperNewView(n, nv, 0) // stripped: the others' variants go with it (sendNewView)
		return
	case BehaviourWrongNewView:
		b.adv.honest = *nv
		b.wrongNewView(n, nv, 0) // other requests: the others' variants go with it (sendNewView)
		return
	case BehaviourForgeViewChange:
	default:
		return
	}
	if len(nv.PrePrepares) == 0 || n.env.Rand().Chance(0.5) {
		nv.ViewChanges = nv.ViewChanges[:len(nv.ViewChanges)-1]
		return
	}
	pps := slices.Clone(nv.PrePrepares)
	pp := &pps[0]
	pp.Cmd = n.forgedCommand(pp.Seq)
	pp.Digest = pp.Cmd.Digest()
	pp.Sig = n.sign(prePrepareDigest(pp.View, pp.Seq, pp.Digest))
	nv.PrePrepares = pps
}

// tick runs at every status tick: conflicting pre-prepares leave, a
// replayer replays, and a forger now and then asks for the next view
// unprompted, with forged data, and claims to start it.
func (b *byzantine) tick(n *node) {
	switch b.behaviour {
	case BehaviourConflictingPrePrepares:
		b.sendConflicting(n)
		return
	case BehaviourReplay:
		b.replay(n)
		return
	}
	if b.behaviour != BehaviourForgeViewChange || !n.env.Rand().Chance(0.2) {
		return
	}
	vc := MsgViewChange{View: n.view + 1, Replica: n.id, Stable: n.stable}
	b.forgeViewChange(n, &vc)
	vc.Sig = n.sign(viewChangeDigest(&vc))
	n.broadcast(vc)
	cmd := n.forgedCommand(n.h + 1)
	pp := MsgPrePrepare{View: vc.View, Seq: n.h + 1, Digest: cmd.Digest(), Cmd: cmd}
	pp.Sig = n.sign(prePrepareDigest(pp.View, pp.Seq, pp.Digest))
	n.broadcast(MsgNewView{View: vc.View, ViewChanges: []MsgViewChange{vc}, PrePrepares: []MsgPrePrepare{pp}})
}

// viewChange sends a Byzantine replica's view-change message, if it lies
// about it.
func (b *byzantine) viewChange(n *node, vc MsgViewChange) bool {
	if b.behaviour != BehaviourTamperViewChange {
		return false
	}
	b.tamperViewChange(n, vc)
	return true
}

// status: a forger of catch-up answers a status message with lies, besides
// the true answer.
func (b *byzantine) status(n *node, from sim.NodeID, m MsgStatus) {
	if b.behaviour == BehaviourForgeCatchUp {
		b.forgeCatchUp(n, from, m)
	}
}

// receive sees every message a Byzantine replica receives: a replayer keeps
// it, and Twins hand it to the instance whose half sent it. It reports
// whether this instance should not handle it.
func (b *byzantine) receive(n *node, env sim.Env, from sim.NodeID, m sim.Message) bool {
	switch b.behaviour {
	case BehaviourReplay:
		b.remember(m)
	case BehaviourTwins:
		return b.twinReceive(n, env, from, m)
	}
	return false
}

// claimMinority: an equivocating primary's view change carries, beside its
// prepared certificates, for every sequence number where it equivocated
// and did not prepare, the request of its own pre-prepare as prepared,
// with the real prepares of the minority told it (fewer than 2f): only the
// prepared certificate's quorum check refuses it, and, first in the new
// view's set, it would replace the majority's committed request.
func (b *byzantine) claimMinority(n *node, vc *MsgViewChange) {
	var certs []PreparedCert
	first, last := n.viewChangeSeqs()
	for seq := first; seq <= last; seq++ {
		e := n.at(seq)
		switch {
		case e.certOK:
			certs = append(certs, e.cert)
		case e.pp.ok && n.primary(e.pp.view) == n.id:
			if sigs := matchingSigs(e.prepares, e.pp.view, e.pp.digest, n.id, 1); sigs != nil {
				certs = append(certs, PreparedCert{View: e.pp.view, Seq: seq, Cmd: e.pp.cmd, PrePrepare: e.pp.sig, Prepares: sigs})
			}
		}
	}
	vc.Prepared = certs
}
