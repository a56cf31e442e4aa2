package paxos

import (
	"encoding/binary"
	"slices"

	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

// Reconfiguration with an alpha window (Paxos Made Simple §3, end;
// Lamport, Malkhi and Zhou, "Reconfiguring a State Machine", 2010). See
// doc.go, "Membership", for the rules and why this style.
//
// A configuration (a set of acceptors) is a command chosen in a slot like
// any other. The configuration chosen at slot i governs the slots from
// i+Alpha on: their proposals need a majority of its members. A leader
// never proposes past commit+Alpha, so every slot it proposes in has its
// configuration fixed by slots it knows chosen (confAt is exact there).
// Phase 1 covers the window [commit+1, commit+Alpha] and needs a majority
// of every configuration governing it (windowConfs); a leader whose window
// reaches a configuration its ballot has no promises from runs phase 1
// again in a new ballot, or, removed, steps down.

// configSeq marks a configuration command: a command of no client (so the
// state machine and the sessions see a no-op) with this Seq, whose Op holds
// the members as 8 big-endian bytes.
const configSeq = 1

// configCommand returns the command that makes m the configuration.
func configCommand(m sim.Members) service.Command {
	return service.Command{Client: sim.None, Seq: configSeq, Op: binary.BigEndian.AppendUint64(nil, uint64(m))}
}

// configOf returns the members a configuration command names.
func configOf(c service.Command) (sim.Members, bool) {
	if !c.IsNoop() || c.Seq != configSeq || len(c.Op) != 8 {
		return 0, false
	}
	return sim.Members(binary.BigEndian.Uint64(c.Op)), true
}

// ConfigChange is a configuration chosen at Slot (0: the initial one, which
// governs from slot 1).
type ConfigChange struct {
	Slot    uint64
	Members sim.Members
}

// effect is how many slots after its own a configuration takes effect:
// Alpha, or 1 with the planted bug no-alpha-window.
func (n *node) effect() uint64 {
	if n.bugs.Has(noAlphaWindow) {
		return 1
	}
	return uint64(n.cfg.Alpha)
}

// governsFrom is the first slot c governs.
func (n *node) governsFrom(c ConfigChange) uint64 {
	if c.Slot == 0 {
		return 1
	}
	return c.Slot + n.effect()
}

// initialConf is the configuration a cluster starts with.
func (n *node) initialConf() sim.Members {
	if n.cfg.Members > 0 {
		return sim.FirstMembers(min(n.cfg.Members, len(n.servers)))
	}
	return sim.FirstMembers(len(n.servers))
}

// confAt returns the members governing slot s as the configurations chosen
// up to the commit index say: exact for s up to commit+effect.
func (n *node) confAt(s uint64) sim.Members {
	for i := len(n.history) - 1; i > 0; i-- {
		if n.governsFrom(n.history[i]) <= s {
			return n.history[i].Members
		}
	}
	return n.history[0].Members
}

// newestConf is the configuration chosen last.
func (n *node) newestConf() sim.Members { return n.history[len(n.history)-1].Members }

// member reports whether this server belongs to the newest configuration:
// only members campaign (spares and removed servers learn, and redirect
// clients).
func (n *node) member() bool { return n.newestConf().Has(n.id) }

// windowEnd is the last slot a leader may propose in: Alpha past the commit
// index.
func (n *node) windowEnd() uint64 { return n.commit + uint64(n.cfg.Alpha) }

// windowConfs lists the configurations governing [commit+1, commit+Alpha].
func (n *node) windowConfs() []sim.Members {
	confs := []sim.Members{n.confAt(n.commit + 1)}
	for _, c := range n.history[1:] {
		if f := n.governsFrom(c); f > n.commit+1 && f <= n.windowEnd() && !slices.Contains(confs, c.Members) {
			confs = append(confs, c.Members)
		}
	}
	return confs
}

// covered reports whether this server's ballot has (or, in phase 1, asks
// for) the promises of a majority of m.
func (n *node) covered(m sim.Members) bool { return slices.Contains(n.ballotConfs, m) }

// ballotMembers is every member of the configurations the ballot covers:
// the servers a proposer asks for promises and a leader sends proposals to.
func (n *node) ballotMembers() sim.Members {
	var all sim.Members
	for _, c := range n.ballotConfs {
		all |= c
	}
	return all
}

// isQuorum reports whether set holds a majority of the members of m.
func isQuorum(set uint64, m sim.Members) bool { return 2*count(set&uint64(m)) > m.Len() }

// mayPropose reports whether the leader may propose in slot s: inside the
// window, in a configuration its ballot covers, and, for a leader the newest
// configuration removed, only in a configuration it still belongs to.
func (n *node) mayPropose(s uint64) bool {
	m := n.confAt(s)
	covered := n.covered(m) || n.bugs.Has(proposeUncoveredConfig) // planted bug: phase 1 need not cover m
	return s <= n.windowEnd() && covered && (n.member() || m.Has(n.id))
}

// changing reports whether a change is in progress: requested, proposed and
// not chosen, or chosen and not yet in force over the whole window.
func (n *node) changing() bool {
	return n.wantChange != 0 || n.changeAt > n.commit || n.governsFrom(n.history[len(n.history)-1]) > n.commit+1
}

// noteProposal keeps track of a configuration command the leader proposes
// (its own or adopted): one change at a time, and the slots it leaves to
// the old configuration are filled with no-ops at once, so that the new one
// takes over without waiting for client load (PMS §3 suggests no-ops to
// hasten it).
func (n *node) noteProposal(s uint64, cmd service.Command) {
	if _, ok := configOf(cmd); ok {
		n.changeAt = max(n.changeAt, s)
		n.padUntil = max(n.padUntil, s+n.effect()-1)
	}
}

// Operate implements sim.Operable: the operator's membership change
// (sim.ChangeMembers) goes to the leader, which proposes it as a command;
// a leadership transfer (sim.TransferLeadership) to the leader, which asks
// its target to take over.
func (n *node) Operate(env sim.Env, req sim.Message) {
	n.env = env
	switch req := req.(type) {
	case sim.ChangeMembers:
		n.requestChange(req)
	case sim.TransferLeadership:
		n.transferLeadership(req.To)
	}
	n.finish()
}

// transferLeadership asks server to, a member of every configuration in
// force or coming, to campaign at once, as a leader that a change removed
// does (MsgHandOver: the target first learns every slot this leader knows
// chosen). This leader goes on leading until the target's higher ballot
// preempts it: Paxos needs no pause for safety (whatever it gets chosen
// meanwhile, the target's phase 1 learns or the slot stays open for it),
// and a target that is down or cut off leaves the cluster as it was.
func (n *node) transferLeadership(to sim.NodeID) {
	inForce := n.confAt(n.commit + 1)
	if n.role != roleLeader || to == n.id || !inForce.Has(to) || !n.newestConf().Has(to) {
		n.probe(ProbeTransferIgnored)
		return
	}
	n.probe(ProbeTransferHandOver)
	n.send(to, MsgHandOver{Ballot: n.ballot, Commit: n.commit})
}

// requestChange takes up a change if this server leads, belongs to the
// newest configuration, no change is in progress, and the change makes
// sense against the newest configuration.
func (n *node) requestChange(c sim.ChangeMembers) {
	newest := n.newestConf()
	next := newest&^c.Remove | c.Add
	switch {
	case n.role != roleLeader || !n.member() || n.changing():
	case c.Add&newest != 0 || c.Remove&^newest != 0 || next == 0 || next&^sim.FirstMembers(len(n.servers)) != 0:
	default:
		n.probe(ProbeChangeRequested)
		n.wantChange = next
		n.fillWindow()
		return
	}
	n.probe(ProbeChangeRefused)
}

// applyConfig makes the configuration chosen at slot s the newest one and
// announces it. Until it takes effect, the old one still governs the slots
// before s+effect: the announcement names both.
func (n *node) applyConfig(s uint64, r *record, m sim.Members) {
	old := n.newestConf()
	n.history = append(n.history, ConfigChange{Slot: s, Members: m})
	n.probe(ProbeConfigChosen)
	o := sim.Observation{Kind: sim.ObsConfig, Term: r.ballot, Index: s, Digest: uint64(m), Text: m.String()}
	if n.effect() > 1 {
		o.Outgoing = old
	}
	n.env.Observe(o)
}

// observeInForce announces that the newest configuration governs alone from
// now on, once the last slot the old one governs (at) is applied.
func (n *node) observeInForce(at uint64, r *record) {
	last := n.history[len(n.history)-1]
	if last.Slot > 0 && n.effect() > 1 && at == last.Slot+n.effect()-1 {
		n.env.Observe(sim.Observation{Kind: sim.ObsConfig, Term: r.ballot, Index: at, Digest: uint64(last.Members),
			Text: last.Members.String()})
	}
}

// configsFor returns the configurations that govern some slot after index
// (nil when that is the initial one alone): what a snapshot at index
// carries, so that configurations survive compaction.
func (n *node) configsFor(index uint64) []ConfigChange {
	i := len(n.history) - 1
	for i > 0 && n.governsFrom(n.history[i]) > index+1 {
		i--
	}
	if i == 0 && len(n.history) == 1 && n.history[0].Slot == 0 {
		return nil
	}
	return slices.Clone(n.history[i:])
}

// restoreConfigs installs the configurations a snapshot carries.
func (n *node) restoreConfigs(cs []ConfigChange) {
	if len(cs) == 0 {
		n.history = []ConfigChange{{Members: n.initialConf()}}
		return
	}
	n.history = slices.Clone(cs)
}

// checkConfiguration runs at the end of every handler. A proposer or leader
// whose ballot does not cover the configuration of the first slot not
// chosen starts phase 1 again in a new ballot; one the newest configuration
// removed stops (a leader once it has no slot of its own configuration
// left) and hands over. A server asked to take over campaigns once it knows
// the change that made it a member.
func (n *node) checkConfiguration() {
	switch {
	case n.role == roleFollower:
		if n.takeOver != 0 && n.commit >= n.takeOver {
			n.takeOver = 0
			n.campaignNow()
		}
	case !n.member() && (n.role == roleProposer || !n.confAt(n.commit+1).Has(n.id)):
		leader := n.role == roleLeader
		n.probe(ProbeRemovedSteppedDown)
		n.becomeFollower(sim.None)
		if leader {
			n.handOver()
		}
	case !n.covered(n.confAt(n.commit + 1)):
		n.probe(ProbeNewConfigPhase1)
		n.startPhase1()
	}
}

// handOver asks a member of the newest configuration to campaign at once,
// rather than wait for its failure detector: the lowest-numbered one that
// was in the old configuration too (it heard the decisions), else the
// lowest-numbered one.
func (n *node) handOver() {
	newest := n.newestConf()
	to := newest & n.confAt(n.commit)
	if to == 0 {
		to = newest
	}
	if to == 0 {
		return
	}
	n.probe(ProbeHandOver)
	n.send(to.IDs()[0], MsgHandOver{Ballot: n.ballot, Commit: n.commit})
}

// handleHandOver: a removed leader, or one the operator asked to transfer
// its leadership, asks this server to take over. It does at once if it
// knows every slot the leader knew chosen; otherwise it catches up first.
func (n *node) handleHandOver(from sim.NodeID, m MsgHandOver) {
	if n.owner(m.Ballot) != from || m.Ballot < n.promise {
		n.probe(ProbeStaleHandOverIgnored)
		return
	}
	if n.commit < m.Commit {
		// Catch up first, to the leader's commit index: the answers come
		// in chunks or as a snapshot, and each asks for more while
		// knownCommit is ahead.
		n.takeOver = m.Commit
		n.knownCommit = max(n.knownCommit, m.Commit)
		n.requestLearn(from)
		return
	}
	n.campaignNow()
}

// campaignNow starts phase 1 without waiting for the failure detector.
func (n *node) campaignNow() {
	if n.role == roleFollower && n.member() {
		n.failures = 0
		n.startPhase1()
	}
}
