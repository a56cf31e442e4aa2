package raft

import (
	"fmt"
	"slices"
	"time"

	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

// Config tunes a Raft cluster. Every server of a world gets the same Config.
type Config struct {
	// ElectionTimeoutMin and ElectionTimeoutMax bound the randomized election
	// timeout: a follower that hears from no leader for a duration drawn
	// uniformly from [min, max] starts an election (Raft §5.2). Randomizing
	// makes split votes rare; max must exceed min.
	ElectionTimeoutMin time.Duration `yaml:"election_timeout_min"`
	ElectionTimeoutMax time.Duration `yaml:"election_timeout_max"`
	// HeartbeatInterval is how often a leader sends AppendEntries to every
	// follower, with or without entries (Raft §5.2), and how often a candidate
	// retries unanswered vote requests (Raft §5.1: RPCs are retried). It must
	// be below ElectionTimeoutMin or followers time out under a live leader.
	HeartbeatInterval time.Duration `yaml:"heartbeat_interval"`
	// MaxEntriesPerAppend bounds the entries of one MsgApp, so that a lagging
	// follower catches up in chunks (at least 1).
	MaxEntriesPerAppend int `yaml:"max_entries_per_append"`
	// ReadMode is how the leader serves a read-only command (Raft thesis
	// §6.4): through the log like a write (ReadLog, the default), after a
	// heartbeat round confirms its leadership (ReadIndex), or at once while
	// its lease holds (ReadLease). See reads.go.
	ReadMode ReadMode `yaml:"read_mode"`
	// LeaseDrift bounds how far apart two servers' clocks may run: a
	// duration measured on one clock may be LeaseDrift times longer, or
	// shorter, measured on another. A lease lasts ElectionTimeoutMin divided
	// by it, on the leader's clock (ReadLease only; at least 1; 0 means
	// the default, 1.25).
	LeaseDrift float64 `yaml:"lease_drift"`
	// PreVote has a server whose election timeout runs out ask the others
	// first whether they would vote for it (thesis §9.6): it campaigns, in a
	// new term, only once a majority would. The round changes nobody's term
	// or vote, so a server cut off from the cluster does not raise its term
	// and depose the leader when it returns. See prevote.go.
	PreVote bool `yaml:"pre_vote"`
	// CheckQuorum has a leader step down when it has not heard from a
	// majority of the servers (itself included) within ElectionTimeoutMin
	// (thesis §6.2), so that clients stop waiting on a leader that cannot
	// commit; followers then answer every heartbeat. See prevote.go.
	CheckQuorum bool `yaml:"check_quorum"`
	// SnapshotInterval is how many entries a server applies between two
	// snapshots of its state machine and client sessions (Raft §7): the log
	// up to the snapshot is deleted from memory and disk, and a follower
	// that needs deleted entries receives the snapshot (MsgSnapshot). 0
	// keeps the whole log. A state machine that is not a
	// service.Snapshotter is never snapshotted. See snapshot.go.
	SnapshotInterval int `yaml:"snapshot_interval"`
	// Members is how many servers, the first ones, form the initial
	// configuration; the others start as spares, outside it, until a
	// membership change adds them (membership.go). 0 means every server.
	// Set from the scenario's members key, not from protocol_options.
	Members int `yaml:"-"`
	// Bugs names planted bugs to switch on (see KnownBugs). Empty for the
	// correct protocol.
	Bugs []string `yaml:"bugs"`
}

// MaxServers bounds a Raft cluster: a configuration is a sim.Members set.
const MaxServers = sim.MaxMembers

// DefaultConfig suits networks with 1-10ms latency: heartbeats every 50ms,
// election timeouts of 300-600ms (several heartbeats, many round trips). A
// snapshot every 10,000 applied entries keeps a long run's log bounded while
// a shipped scenario of half a minute (a few thousand entries) never
// compacts.
func DefaultConfig() Config {
	return Config{
		ElectionTimeoutMin:  300 * time.Millisecond,
		ElectionTimeoutMax:  600 * time.Millisecond,
		HeartbeatInterval:   50 * time.Millisecond,
		MaxEntriesPerAppend: 64,
		ReadMode:            ReadLog,
		LeaseDrift:          1.25,
		SnapshotInterval:    10000,
	}
}

// ReadMode is how a leader serves reads; the zero value is ReadLog.
type ReadMode string

// The read modes.
const (
	// ReadLog appends a read to the log like any command and answers it when
	// it applies: linearizable with no clock assumption, at the cost of a
	// log entry and a disk sync per read.
	ReadLog ReadMode = "log"
	// ReadIndex answers a read from the leader's state once a heartbeat
	// round sent after the read arrived is acknowledged by a majority and
	// an entry of the leader's term is committed (thesis §6.4): no log
	// entry, one round trip, no clock assumption.
	ReadIndex ReadMode = "read-index"
	// ReadLease answers a read at once while the leader's lease holds (a
	// majority acknowledged a heartbeat round started less than
	// ElectionTimeoutMin/LeaseDrift ago on its clock), and as ReadIndex
	// otherwise. Followers refuse votes for ElectionTimeoutMin after
	// hearing from a leader (thesis §4.2.3), which is what the lease relies
	// on, along with clocks whose rates differ by at most LeaseDrift.
	ReadLease ReadMode = "lease"
)

var readModes = []ReadMode{ReadLog, ReadIndex, ReadLease}

// Validate reports an impossible setting or an unknown bug name.
func (c Config) Validate() error {
	if err := service.CheckLeaderTimeouts("raft", "election_timeout",
		c.ElectionTimeoutMin, c.ElectionTimeoutMax, c.HeartbeatInterval); err != nil {
		return err
	}
	if c.Members < 0 {
		return fmt.Errorf("raft: members %d is negative", c.Members)
	}
	if c.MaxEntriesPerAppend < 1 {
		return fmt.Errorf("raft: max_entries_per_append %d must be at least 1", c.MaxEntriesPerAppend)
	}
	if c.SnapshotInterval < 0 {
		return fmt.Errorf("raft: snapshot_interval %d must not be negative (0 keeps the whole log)", c.SnapshotInterval)
	}
	if c.ReadMode != "" && !slices.Contains(readModes, c.ReadMode) {
		return fmt.Errorf("raft: read_mode %q is not one of log, read-index, lease", c.ReadMode)
	}
	if c.LeaseDrift != 0 && !(c.LeaseDrift >= 1 && c.LeaseDrift <= 100) {
		return fmt.Errorf("raft: lease_drift %v must be in [1, 100] (a clock runs at most that many times faster than another)", c.LeaseDrift)
	}
	if err := knownBugs.Check(c.Bugs); err != nil {
		return err
	}
	for _, leaseBug := range []string{BugLeaseFromAcks, BugLeaseNoDriftMargin, BugLeaseNoVoteGuard, BugRestartForgetsLeaseGuard,
		BugTransferRenewsLease, BugVoteGuardAsLongAsLease} {
		if slices.Contains(c.Bugs, leaseBug) && c.ReadMode != ReadLease {
			return fmt.Errorf("raft: bug %s needs read_mode: lease", leaseBug)
		}
	}
	if slices.Contains(c.Bugs, BugReadIndexJoinsEarlierRound) && c.ReadMode != ReadIndex && c.ReadMode != ReadLease {
		return fmt.Errorf("raft: bug %s needs read_mode: read-index or lease", BugReadIndexJoinsEarlierRound)
	}
	if slices.Contains(c.Bugs, BugCheckQuorumOnSend) && !c.CheckQuorum {
		return fmt.Errorf("raft: bug %s needs check_quorum: true", BugCheckQuorumOnSend)
	}
	return nil
}

// StepDownBound is, with CheckQuorum, the longest a leader cut off from a
// majority goes on leading, on its own clock (runner.Servers.StepDown): it
// last heard from a majority when the cut began, or from an answer sent
// before it and delivered late; a heartbeat tick finds the quorum inactive
// at most ElectionTimeoutMin plus HeartbeatInterval after that; the second
// ElectionTimeoutMin allows for the late answer. 0 without CheckQuorum.
func (c Config) StepDownBound() time.Duration {
	if !c.CheckQuorum {
		return 0
	}
	return 2*c.ElectionTimeoutMin + c.HeartbeatInterval
}

// QuorumWindow is, with CheckQuorum, how recently on its clock a leader
// must have heard from each server of a majority to go on leading
// (runner.Servers.QuorumWindow): ElectionTimeoutMin. 0 without CheckQuorum.
func (c Config) QuorumWindow() time.Duration {
	if !c.CheckQuorum {
		return 0
	}
	return c.ElectionTimeoutMin
}

// Bug describes a planted bug: a deliberate deviation from the paper that the
// simulator's faults and checkers are expected to expose.
type Bug = service.Bug

// The planted bugs, by name.
const (
	BugCommitOldTerm     = "commit-old-term"
	BugForgetVote        = "forget-vote"
	BugAckBeforeSync     = "ack-before-sync"
	BugNoTermCheckOnVote = "no-term-check-on-vote"
	BugNoAppendRetry     = "no-append-retry"
	BugSendBeforeSync    = "send-before-sync"
	BugCountStaleAcks    = "count-stale-acks"
	// Availability bugs: the safety checkers cannot see them; the
	// stale-leader and progress checks do.
	BugLeaderIgnoresHigherTerm = "leader-ignores-higher-term"
	BugStaleAppendResetsTimer  = "stale-append-resets-timer"
	BugMatchNeverLowered       = "match-never-lowered"
	// A weaker-consistency option: the log and every replica's state stay
	// correct, only reads are served weaker than linearizable.
	BugStaleFollowerReads         = "stale-follower-reads"
	BugLeaderLocalReads           = "leader-local-reads"
	BugFollowerWriteCache         = "follower-write-cache"
	BugLeaseFromAcks              = "lease-from-acks"
	BugLeaseNoDriftMargin         = "lease-no-drift-margin"
	BugLeaseNoVoteGuard           = "lease-no-vote-guard"
	BugRestartForgetsLeaseGuard   = "restart-forgets-lease-guard"
	BugPartialTransactions        = "partial-transactions"
	BugReadIndexJoinsEarlierRound = "read-index-joins-earlier-round"
	BugVoteGuardAsLongAsLease     = "vote-guard-as-long-as-lease"
	// Leadership transfer (thesis §3.10).
	BugTransferKeepsProposing = "transfer-keeps-proposing"
	BugTransferRenewsLease    = "transfer-renews-lease"
	// Membership changes (thesis ch. 4).
	BugNoJointConsensus       = "no-joint-consensus"
	BugRemovedServerCampaigns = "removed-server-campaigns"
	// Log compaction (§7).
	BugSnapshotForgetsConfig   = "snapshot-forgets-config"
	BugSnapshotForgetsSessions = "snapshot-forgets-sessions"
	BugInstallStaleSnapshot    = "install-stale-snapshot"
	// Check-quorum (thesis §6.2).
	BugCheckQuorumOnSend = "check-quorum-on-send"
)

var knownBugs = service.BugTable[bug]{Protocol: "raft", Bugs: []Bug{
	ackBeforeSync: {Name: BugAckBeforeSync, Description: "log entries are acknowledged (and counted by the leader) " +
		"without syncing the disk, so a crash loses acknowledged, even committed, entries"},
	checkQuorumOnSend: {Name: BugCheckQuorumOnSend, Description: "an availability bug (check_quorum only): the " +
		"leader counts a server as active when it sends it a heartbeat instead of when it hears from it (thesis " +
		"§6.2 counts answers), so a leader cut off from a majority never steps down and holds its clients, which " +
		"wait on commits it cannot make"},
	commitOldTerm: {Name: BugCommitOldTerm, Description: "the leader commits entries of earlier terms by counting " +
		"replicas, the Figure 8 scenario of Raft §5.4.2"},
	countStaleAcks: {Name: BugCountStaleAcks, Description: "a leader counts an AppendEntries response of an older " +
		"term toward a follower's match index (Raft §5.1 ignores a stale response): re-elected after its log was " +
		"truncated, it takes a late acknowledgement of entries it no longer has for its new ones, and commits entries " +
		"that fewer than a majority hold"},
	followerWriteCache: {Name: BugFollowerWriteCache, Description: "a weaker-consistency option: a follower " +
		"acknowledges every command at once from its applied state with its acknowledged writes laid over it, and " +
		"forwards each write to the leader as a proxy under a session of its own, resending it until applied: " +
		"forwards race, so a client's writes (or a write and the write its client read) reach the log out of order, " +
		"and a follower's crash loses what it acknowledged"},
	forgetVote: {Name: BugForgetVote, Description: "votedFor is kept only in memory, so a restarted server may vote " +
		"twice in one term and elect two leaders (Raft §5.2, Figure 2 persistent state)"},
	installStaleSnapshot: {Name: BugInstallStaleSnapshot, Description: "a follower installs a snapshot from the " +
		"leader that its commit index has already passed (thesis §5.1 ignores one that does not reach past it): its " +
		"state machine goes back to the snapshot and applies the entries after it a second time, and until it " +
		"catches up again it holds a state older than it answered from"},
	leaderIgnoresHigherTerm: {Name: BugLeaderIgnoresHigherTerm, Description: "an availability bug: a leader that " +
		"gets a response carrying a higher term (an AppendEntries or vote answer) ignores it instead of stepping " +
		"down (Raft §5.1), and goes on leading its stale term until a request of the new term reaches it"},
	leaderLocalReads: {Name: BugLeaderLocalReads, Description: "a weaker-consistency option: the leader answers a " +
		"get from its own applied state at once, without a log round or a check that a majority still follows it " +
		"(Raft §8 and thesis §6.4 require one of them), so a deposed leader that has not heard of its successor " +
		"serves stale values"},
	leaseFromAcks: {Name: BugLeaseFromAcks, Description: "a weaker-consistency option (read_mode: lease only): the " +
		"lease runs from when a majority's acknowledgements of a heartbeat round arrived instead of from when the " +
		"round was sent (thesis §6.4): acknowledgements that arrive late stretch the lease past the followers' " +
		"election timeouts, so a leader cut off after them serves stale values while a new leader takes writes"},
	leaseNoDriftMargin: {Name: BugLeaseNoDriftMargin, Description: "a weaker-consistency option (read_mode: lease " +
		"only): the lease lasts the full minimum election timeout on the leader's clock, with no allowance for clock " +
		"drift (thesis §6.4 divides it by the drift bound): a leader whose clock runs slow, or whose followers' " +
		"clocks run fast, still believes its lease after a new leader took writes, and serves stale values"},
	leaseNoVoteGuard: {Name: BugLeaseNoVoteGuard, Description: "a weaker-consistency option (read_mode: lease " +
		"only): a server that heard from a leader within the minimum election timeout still votes for another " +
		"candidate and adopts its term (thesis §4.2.3 has it do neither), nor waits after a restart: a follower cut " +
		"off from the leader is elected and takes writes while the leader, which has not heard of it, serves reads " +
		"under its lease"},
	matchNeverLowered: {Name: BugMatchNeverLowered, Description: "an availability bug: the leader takes a " +
		"rejection below a follower's match index for a stale answer, as if match indexes only grew; a follower whose " +
		"disk lost acknowledged entries (a corrupted record) answers every probe so, and stays behind for as long as " +
		"that leader leads, which stalls the cluster once it is part of the only majority left"},
	noAppendRetry: {Name: BugNoAppendRetry, Description: "a liveness bug: the leader never retries an AppendEntries " +
		"(Raft §5.3 says it retries indefinitely): a lost append or a rejection leaves that follower behind for good"},
	noJointConsensus: {Name: BugNoJointConsensus, Description: "a membership change of several servers (two added at " +
		"once, a replacement) goes straight to the new configuration instead of through a joint one (thesis §4.3): a " +
		"majority of the old configuration and one of the new may be disjoint, and each elects its own leader, who " +
		"commits its own entries"},
	noLogCheckOnVote: {Name: BugNoTermCheckOnVote, Description: "votes are granted without the check that the " +
		"candidate's log is at least as up-to-date (last term, then length) as the voter's (Raft §5.4.1), so a stale " +
		"leader overwrites committed entries"},
	partialTransactions: {Name: BugPartialTransactions, Description: "a weaker-consistency option for list-append " +
		"transactions: the leader logs a transaction in two parts, the second only once the first applied, with " +
		"other commands in between, and answers when the second applied: other transactions see half of it, and it " +
		"sees theirs (not serializable); a leader deposed midway leaves it applied partly"},
	readJoinsEarlierRound: {Name: BugReadIndexJoinsEarlierRound, Description: "a weaker-consistency option (read_mode: " +
		"read-index, or lease once the lease ran out): a read that reaches the leader while a heartbeat round is in " +
		"flight waits for that round instead of one sent after it arrived (thesis §6.4): the round's " +
		"acknowledgements, sent before the read came, may predate a newer leader's election and writes, so a deposed " +
		"leader answers from a round that no longer proves its leadership and serves stale values"},
	removedServerCampaigns: {Name: BugRemovedServerCampaigns, Description: "an availability bug: a server removed " +
		"from the configuration keeps campaigning, and members hear its vote requests (thesis §4.2.3): its ever " +
		"higher terms depose every leader the cluster elects, which no one else can stop without pre-vote"},
	restartForgetsGuard: {Name: BugRestartForgetsLeaseGuard, Description: "a weaker-consistency option (read_mode: lease " +
		"only): a restarted server votes at once instead of waiting the minimum election timeout first (thesis " +
		"§4.2.3), so a server that acknowledged the leader's round just before it crashed elects a follower cut off " +
		"from the leader, which takes writes while the leader serves reads under the lease that acknowledgement gave"},
	sendBeforeSync: {Name: BugSendBeforeSync, Description: "each message leaves before the sync of the state it " +
		"depends on, inside the same step (the classic integration bug of a Ready loop that sends before it " +
		"persists): invisible unless a crash cuts the step"},
	snapshotForgetsConfig: {Name: BugSnapshotForgetsConfig, Description: "a snapshot does not record the " +
		"configuration in force at its index (thesis §5.1 keeps it with the snapshot): it carries the initial " +
		"configuration, so a server whose configuration entries were compacted away, restarted from the snapshot or " +
		"installed it from the leader goes back to the initial members, counts their votes and acknowledgements, and " +
		"elects and commits with a majority of servers that may no longer be members"},
	snapshotForgetsSessions: {Name: BugSnapshotForgetsSessions, Description: "a snapshot restored at a restart, or " +
		"installed from the leader, brings back the state machine but not the client sessions (Raft §8 and thesis " +
		"§6.3 keep them in the snapshot): a command that a client retried and the log holds twice runs twice on " +
		"that server, whose state then differs from the others'"},
	staleAppendResetsTimer: {Name: BugStaleAppendResetsTimer, Description: "an availability bug: a follower resets " +
		"its election timer on an AppendEntries of a stale term before rejecting it (Raft §5.2 resets it for the " +
		"current leader only), so a deposed leader that hears nothing back keeps the others from electing a new one"},
	staleFollowerReads: {Name: BugStaleFollowerReads, Description: "a weaker-consistency option: a server that is " +
		"not the leader answers a get from its own applied state instead of redirecting it to the leader (Raft §8 " +
		"sends every read through the leader), so a lagging or partitioned follower serves stale values: not " +
		"linearizable, and not sequentially consistent or monotonic when a client moves between servers"},
	transferKeepsProposing: {Name: BugTransferKeepsProposing, Description: "during a leadership transfer the leader " +
		"goes on accepting client requests (thesis §3.10 has it stop): it appends writes the target's election " +
		"discards, and with read_mode: lease it answers reads under its lease while the target, which campaigns past " +
		"the followers' lease guard, is elected and takes writes: stale reads"},
	transferRenewsLease: {Name: BugTransferRenewsLease, Description: "a weaker-consistency option (read_mode: lease " +
		"only): a leader that begins a leadership transfer voids its lease but renews it from the heartbeat rounds " +
		"acknowledged during the transfer (thesis §3.10 and §6.4: no lease once a transfer began), so when the " +
		"target's TimeoutNow comes late, the target is elected past the followers' lease guard (a transfer's vote) " +
		"and takes writes while the old leader, giving up on the transfer, serves reads under a lease a follower " +
		"gave it meanwhile"},
	voteGuardAsLongAsLease: {Name: BugVoteGuardAsLongAsLease, Description: "a weaker-consistency option " +
		"(read_mode: lease only): a server refuses votes for as long as a leader's lease lasts " +
		"(election_timeout_min divided by lease_drift) after hearing from it, on its own clock, instead of the " +
		"whole election_timeout_min (thesis §4.2.3): the lease is measured on the leader's clock, and on a voter " +
		"whose clock runs fast the guard ends before the lease it backs, so a follower cut off from the leader is " +
		"elected and takes writes while the leader serves reads under its lease"},
}}

// KnownBugs lists the planted bugs, sorted by name.
func KnownBugs() []Bug { return knownBugs.Known() }

// bug is a planted bug's position in knownBugs, its bit in a bugSet.
type bug uint8

// The planted bugs' positions, in the order of their names.
const (
	ackBeforeSync bug = iota
	checkQuorumOnSend
	commitOldTerm
	countStaleAcks
	followerWriteCache
	forgetVote
	installStaleSnapshot
	leaderIgnoresHigherTerm
	leaderLocalReads
	leaseFromAcks
	leaseNoDriftMargin
	leaseNoVoteGuard
	matchNeverLowered
	noAppendRetry
	noJointConsensus
	noLogCheckOnVote
	partialTransactions
	readJoinsEarlierRound
	removedServerCampaigns
	restartForgetsGuard
	sendBeforeSync
	snapshotForgetsConfig
	snapshotForgetsSessions
	staleAppendResetsTimer
	staleFollowerReads
	transferKeepsProposing
	transferRenewsLease
	voteGuardAsLongAsLease
)

// bugSet is the parsed form of Config.Bugs.
type bugSet = service.BugSet[bug]

// safetyBugs are the planted bugs that break the log's safety. Assertions of
// cross-node safety properties (never truncate a committed entry, one leader
// per term) are only made when none is on: such a bug should reach the
// checkers as a violation, not stop the run as a protocol crash. The others
// harm only availability or liveness, or weaken reads while the log and the
// replicas' states stay correct.
var safetyBugs = service.BugsOf(ackBeforeSync, commitOldTerm, countStaleAcks, forgetVote, noJointConsensus,
	noLogCheckOnVote, installStaleSnapshot, sendBeforeSync, snapshotForgetsConfig, snapshotForgetsSessions)
