package raft

import (
	"encoding/binary"
	"slices"

	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

// Membership changes (Raft thesis ch. 4; the Raft paper §6).
//
// A configuration is the set of voting servers. It travels as a log entry
// (a command of the reserved client configClient), and every server uses the
// latest configuration in its log, committed or not, from the moment it
// appends it; a truncated configuration entry takes its configuration with
// it. Elections and commits need a majority of the configuration; in a joint
// configuration (C_old,new), a majority of each half.
//
// The operator asks the leader (sim.ChangeMembers, sent by the member fault):
//
//  1. The leader takes a change only once it has committed an entry of its
//     term, and one change at a time: while a configuration entry is not
//     committed, or a joint configuration is in force, it refuses (the
//     thesis's fix to single-server changes, 2015).
//  2. Servers being added first catch up as learners (thesis §4.2.1): the
//     leader replicates to them but does not count them. The change goes
//     ahead once each holds the committed prefix and is within one
//     append of the leader's log, and is abandoned if they have not after
//     an election timeout.
//  3. A change of one server is a single-server change (thesis §4.1): the
//     new configuration at once, which overlaps the old one in a majority.
//     A change of several goes through a joint configuration (§4.3): the
//     leader appends C_old,new, and once that commits, C_new.
//  4. When a configuration commits, every server announces it
//     (sim.ObsConfig). A leader that is not in a committed C_new steps down
//     (§4.2.2); until then it replicates without counting itself.
//
// A server campaigns only while it is a member of a configuration that may
// still be in force: the one at its commit index, or a later one in its log
// (heardOf). The commit index is volatile, so a server that restarts counts
// every configuration past its snapshot until a leader tells it how far the
// log committed: a leader that appended its own removal and restarted may
// hold the only log the new configuration can elect. The leader goes on
// replicating to the servers a change removes until the change commits, so
// they normally learn of their removal and stay quiet. One that did not
// (it was cut off meanwhile) times out and campaigns: while a leader is
// alive, a server disregards vote and pre-vote requests from a server
// outside those configurations, so the removed server cannot depose the
// leader with ever higher terms (the disruption of thesis §4.2.3), nor,
// with no leader about, with a request whose log is behind. Ignoring a
// message is always safe in Raft; a server whose removal is not known to
// be committed is still heard, as the old configuration may yet be the one
// in force; and with no leader about, a removed candidate whose log is as
// up-to-date as the receiver's is heard too.

// configClient is the reserved client of configuration entries' commands.
const configClient sim.NodeID = -2

// configuration is the set of voters, and in a joint configuration the
// voters of the configuration being left.
type configuration struct {
	voters, outgoing sim.Members
}

// members are the servers of either half.
func (c configuration) members() sim.Members { return c.voters | c.outgoing }

func (c configuration) joint() bool { return c.outgoing != 0 }

// String is "n0 n1 n2", or "n0 n1 n3 joint n0 n1 n2" for a joint
// configuration (the new voters first).
func (c configuration) String() string {
	if c.joint() {
		return c.voters.String() + " joint " + c.outgoing.String()
	}
	return c.voters.String()
}

// quorum reports whether the servers yes says yes to hold a majority of the
// voters, and of the outgoing voters in a joint configuration.
func (c configuration) quorum(yes func(sim.NodeID) bool) bool {
	return majority(c.voters, yes) && (!c.joint() || majority(c.outgoing, yes))
}

func majority(set sim.Members, yes func(sim.NodeID) bool) bool {
	count := 0
	for id := range set.All() {
		if yes(id) {
			count++
		}
	}
	return 2*count > set.Len()
}

// agreed returns the highest value that a majority of the voters (of each
// half) holds at least, of value per server: the commit index of match
// indexes, the confirmed round of acknowledged rounds. scratch is reused.
func (c configuration) agreed(value func(sim.NodeID) uint64, scratch []uint64) uint64 {
	v := agreedIn(c.voters, value, scratch)
	if c.joint() {
		v = min(v, agreedIn(c.outgoing, value, scratch))
	}
	return v
}

func agreedIn(set sim.Members, value func(sim.NodeID) uint64, scratch []uint64) uint64 {
	s := scratch[:0]
	for id := range set.All() {
		s = append(s, value(id))
	}
	if len(s) == 0 {
		return 0
	}
	slices.Sort(s)
	return s[len(s)-(len(s)/2+1)] // a majority holds at least this much
}

// configEntry is a configuration entry of the log, by index (index 0: the
// initial configuration, in no entry).
type configEntry struct {
	index uint64
	conf  configuration
}

// configCommand encodes a configuration as the command of its log entry.
func configCommand(c configuration) service.Command {
	op := binary.AppendUvarint(nil, uint64(c.voters))
	op = binary.AppendUvarint(op, uint64(c.outgoing))
	return service.Command{Client: configClient, Op: op}
}

// isConfigCommand reports whether cmd is a configuration entry's.
func isConfigCommand(cmd service.Command) bool { return cmd.Client == configClient }

// decodeConfig reads a configuration entry's command; a malformed one (which
// a checksummed record cannot hold) reads as no voters.
func decodeConfig(cmd service.Command) configuration {
	voters, n := binary.Uvarint(cmd.Op)
	if n <= 0 {
		return configuration{}
	}
	outgoing, _ := binary.Uvarint(cmd.Op[n:])
	return configuration{voters: sim.Members(voters), outgoing: sim.Members(outgoing)}
}

// initialConfig is the configuration before any entry: the first
// Config.Members servers, or all of them.
func (n *node) initialConfig() configuration {
	count := len(n.servers)
	if n.cfg.Members > 0 {
		count = min(n.cfg.Members, count)
	}
	return configuration{voters: sim.FirstMembers(count)}
}

// loadConfigs rebuilds the configuration entries from the log, after the
// snapshot's configuration (or the initial one).
func (n *node) loadConfigs() {
	base := configEntry{conf: n.initialConfig()}
	if n.snap.index > 0 {
		base = configEntry{index: n.snap.index, conf: n.snap.conf}
	}
	n.configs = append(n.configs[:0], base)
	for i := n.snap.index + 1; i <= n.lastIndex(); i++ {
		if cmd := n.entryAt(i).Cmd; isConfigCommand(cmd) {
			n.configs = append(n.configs, configEntry{index: i, conf: decodeConfig(cmd)})
		}
	}
	n.conf = n.configs[len(n.configs)-1].conf
}

// configAt is the configuration in force at index (at least the first
// index the configurations know: the snapshot's).
func (n *node) configAt(index uint64) configuration { return n.configs[n.configPos(index)].conf }

// configPos is the position in configs of the configuration in force at
// index.
func (n *node) configPos(index uint64) int {
	for i := len(n.configs) - 1; i > 0; i-- {
		if n.configs[i].index <= index {
			return i
		}
	}
	return 0
}

// configAppended puts a configuration entry just appended at index in force.
func (n *node) configAppended(index uint64, cmd service.Command) {
	n.configs = append(n.configs, configEntry{index: index, conf: decodeConfig(cmd)})
	n.conf = n.configs[len(n.configs)-1].conf
}

// configTruncated drops the configuration entries from index on: the latest
// one left is in force again.
func (n *node) configTruncated(index uint64) {
	for len(n.configs) > 1 && n.configs[len(n.configs)-1].index >= index {
		n.configs = n.configs[:len(n.configs)-1]
	}
	n.conf = n.configs[len(n.configs)-1].conf
}

// latestConfigIndex is the index of the configuration in force (0: the
// initial one).
func (n *node) latestConfigIndex() uint64 { return n.configs[len(n.configs)-1].index }

// isMember reports whether id is in either half of this server's latest
// configuration.
func (n *node) isMember(id sim.NodeID) bool { return n.conf.members().Has(id) }

// committedConfig is the configuration in force at the commit index.
func (n *node) committedConfig() configuration { return n.configAt(n.commit) }

// heardOf reports whether id is a member of a configuration that may still
// be the one the cluster runs under: the one in force at the commit index,
// or any later one in the log. A server whose removal is not known to be
// committed still takes part. The commit index is volatile: after a
// restart only the snapshot is known committed, so every configuration
// past it counts until a leader tells how far it committed.
func (n *node) heardOf(id sim.NodeID) bool {
	for _, c := range n.configs[n.configPos(n.commit):] {
		if c.conf.members().Has(id) {
			return true
		}
	}
	return false
}

// mayCampaign reports whether this server may start an election: a member
// of a configuration that may still be in force may (heardOf; the planted
// bug keeps a removed server campaigning regardless). A server whose
// removal is not known committed may hold the only up-to-date log (a leader
// that removed itself and restarted, with the others behind it); it counts
// its votes in its latest configuration, without its own, as a leader that
// removes itself does.
func (n *node) mayCampaign() bool { return n.heardOf(n.id) || n.bugs.Has(removedServerCampaigns) }

// ignoresNonMember reports whether m, from server from, is disregarded
// because from is outside this server's configurations (removed).
//
// A vote or pre-vote request is, while a leader is known to be alive (this
// server leads, or heard from a leader within ElectionTimeoutMin), the
// guard of thesis §4.2.3; and with no leader about, when the candidate's
// log is behind this server's: the vote would be refused anyway, and
// adopting the term of a candidate that cannot win here would only depose
// the leader this server is about to follow (a swarm sweep saw a removed
// server's terms, heard between a removed leader stepping down and its
// successor's first heartbeat, depose the successor). A removed candidate
// whose log is as up-to-date is heard: this server's own log may be the one
// behind, its configuration older than the candidate's (a disk that lost
// entries, a long partition), and the candidate may hold the only log that
// can still be elected.
//
// Anything else is heard, a response of a higher term included, though it
// may come from a removed server that raised its term campaigning alone (a
// delayed answer to an AppendEntries sent before its removal deposes the
// leader once). A server cannot tell a removed server from one a later
// configuration, not in its log yet, added back: a stale leader that
// disregarded such a member's term would go on leading a term the cluster
// left (a swarm sweep of raft-membership-rolling showed it).
func (n *node) ignoresNonMember(from sim.NodeID, m sim.Message) bool {
	if isVoteRequest(m) && n.removed(from) && (n.role == roleLeader || n.heardLeaderWithin() || !n.candidateUpToDate(m)) {
		n.probe(ProbeNonMemberVoteIgnored)
		return true
	}
	return false
}

// removed reports whether id is outside every configuration that may still
// be in force (heardOf), and so disregarded; the planted bug
// removed-server-campaigns hears it all the same.
func (n *node) removed(id sim.NodeID) bool {
	return !n.heardOf(id) && !n.bugs.Has(removedServerCampaigns)
}

// candidateUpToDate reports whether the log of the candidate asking m, a
// vote or pre-vote request, is at least as up-to-date as this server's.
func (n *node) candidateUpToDate(m sim.Message) bool {
	switch m := m.(type) {
	case MsgVote:
		return n.upToDate(logPosition{m.LastIndex, m.LastTerm})
	case MsgPreVote:
		return n.upToDate(logPosition{m.LastIndex, m.LastTerm})
	}
	return false
}

// isVoteRequest reports whether m asks for a vote or a pre-vote.
func isVoteRequest(m sim.Message) bool {
	switch m.(type) {
	case MsgVote, MsgPreVote:
		return true
	}
	return false
}

// leaderHint is the leader a redirected client is pointed at: the leader of
// the current term, if known, except on a server outside its configuration
// that has not heard from a leader lately. A removed server hears from no
// leader any more, and its stale hint could send clients in circles between
// servers that know no better.
func (n *node) leaderHint() sim.NodeID {
	if !n.isMember(n.id) && !n.heardLeaderWithin() {
		return sim.None
	}
	return n.lead
}

// peers are the servers a leader replicates to: the members of its latest
// configuration, those of the latest committed one (servers being removed
// learn of it), and the learners of a change in progress; itself excluded.
func (n *node) peers() sim.Members {
	return (n.conf.members() | n.committedConfig().members() | n.change.learners).Without(n.id)
}

// wonVotes reports whether the votes granted so far make a majority.
func (n *node) wonVotes() bool {
	return n.conf.quorum(func(id sim.NodeID) bool { return n.votes[id] == voteGranted })
}

// changeState is a leader's membership change waiting for its learners to
// catch up (step 2 above).
type changeState struct {
	learners, add, remove sim.Members
	until                 sim.Time // when the change is abandoned, on the leader's clock
}

// startChange takes up an operator's membership change, as the leader.
func (n *node) startChange(c sim.ChangeMembers) {
	switch {
	case n.role != roleLeader:
		n.probe(ProbeChangeNotLeader)
		return
	case !n.mayChange(c):
		n.probe(ProbeChangeRefused)
		return
	}
	n.probe(ProbeChangeStarted)
	n.change = changeState{learners: c.Add, add: c.Add, remove: c.Remove,
		until: n.env.Now().Add(n.cfg.ElectionTimeoutMax)}
	for id := range c.Add.All() {
		// Probe at the last entry (a probe carries entries; the leader's
		// log holds at least its no-op): a learner's log is unknown.
		n.prs[id] = progress{next: n.lastIndex(), probing: true}
		n.sendAppend(id)
	}
	n.maybeProposeChange()
}

// mayChange reports whether the leader can take change c now: its term has
// an entry committed, no other change is in progress, the servers added
// are servers outside the configuration and those removed are in it, and
// someone is left to vote.
func (n *node) mayChange(c sim.ChangeMembers) bool {
	all := sim.FirstMembers(len(n.servers))
	return n.ownTermCommitted() && !n.changing() &&
		c.Add&^all == 0 && c.Add&n.conf.voters == 0 && c.Remove&^n.conf.voters == 0 &&
		(c.Add != 0 || c.Remove != 0) && (n.conf.voters&^c.Remove|c.Add) != 0
}

// changing reports whether a change is in progress: learners catching up,
// a configuration entry not committed yet, or a joint configuration.
func (n *node) changing() bool {
	return n.change.add != 0 || n.change.remove != 0 || n.latestConfigIndex() > n.commit || n.conf.joint()
}

// maybeProposeChange appends the change's configuration entry once the
// learners have caught up: C_new for one server (or, planted bug, for
// several), C_old,new for several.
func (n *node) maybeProposeChange() {
	c := &n.change
	if c.add == 0 && c.remove == 0 {
		return
	}
	for id := range c.learners.All() {
		if pr := n.prs[id]; pr.match < n.commit || pr.match+uint64(n.cfg.MaxEntriesPerAppend) < n.lastIndex() {
			return // still catching up
		}
	}
	next := configuration{voters: n.conf.voters&^c.remove | c.add}
	if (c.add|c.remove).Len() > 1 && !n.bugs.Has(noJointConsensus) {
		next.outgoing = n.conf.voters
	}
	n.probe(ProbeChangeProposed)
	*c = changeState{}
	n.appendEntry(Entry{Term: n.term, Cmd: configCommand(next)})
	n.broadcastAppend()
	n.maybeCommit()
}

// tickChange abandons, at a heartbeat, a change whose learners have not
// caught up in time.
func (n *node) tickChange() {
	c := &n.change
	if c.add == 0 && c.remove == 0 {
		return
	}
	if now := n.env.Now(); now >= c.until || now < c.until.Add(-n.cfg.ElectionTimeoutMax) {
		n.probe(ProbeChangeAbandoned)
		*c = changeState{}
	}
}

// leaveJoint appends C_new after a committed C_old,new (§4.3): by the leader
// that committed the joint configuration, or by one elected after it
// committed, which would otherwise lead a joint configuration for good and
// refuse every later change (changing).
func (n *node) leaveJoint() {
	n.probe(ProbeJointLeft)
	n.appendEntry(Entry{Term: n.term, Cmd: configCommand(configuration{voters: n.conf.voters})})
	n.prs[n.id].match = n.lastIndex() // maybeCommit, which would set it, may run before
}

// configCommitted runs when the configuration entry at index commits: it
// is announced; a leader then leaves a joint configuration for the new one
// (§4.3), or steps down if the committed configuration leaves it out.
func (n *node) configCommitted(index uint64, e *Entry) {
	conf := decodeConfig(e.Cmd)
	n.env.Observe(sim.Observation{Kind: sim.ObsConfig, Term: e.Term, Index: index,
		Digest: uint64(conf.voters), Outgoing: conf.outgoing, Text: conf.String()})
	if n.role != roleLeader || index != n.latestConfigIndex() {
		return
	}
	switch {
	case conf.joint():
		n.leaveJoint()
		n.broadcastAppend()
	case !conf.voters.Has(n.id):
		n.probe(ProbeRemovedLeaderStepsDown)
		n.becomeFollower(n.term, sim.None)
	}
}
