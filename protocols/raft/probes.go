package raft

import (
	"slices"

	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

// Coverage probes (sim.Probe): each acceptance and rejection check of the
// term rules, votes and AppendEntries fires its own probe, as do the rare
// paths; a sweep that leaves one cold never exercised it.

// Probe describes a coverage probe.
type Probe = service.Probe

// The probes, by name.
const (
	ProbeStepDownHigherTerm     = "raft/step-down-on-higher-term"
	ProbeLeaderStepDown         = "raft/leader-step-down-on-higher-term"
	ProbeVoteRejectedStaleTerm  = "raft/vote-rejected-stale-term"
	ProbeAppendRejectedStale    = "raft/append-rejected-stale-term"
	ProbeStaleResponseIgnored   = "raft/stale-response-ignored"
	ProbeVoteGranted            = "raft/vote-granted"
	ProbeVoteRejectedVoted      = "raft/vote-rejected-already-voted"
	ProbeVoteRejectedLog        = "raft/vote-rejected-log-not-up-to-date"
	ProbeVoteRejectedLost       = "raft/vote-rejected-lost-entries"
	ProbeElectionStarted        = "raft/election-started"
	ProbeLeaderElected          = "raft/leader-elected"
	ProbeCandidateLost          = "raft/candidate-lost-to-leader"
	ProbeAppendRejectedMissing  = "raft/append-rejected-missing-entries"
	ProbeAppendRejectedMismatch = "raft/append-rejected-log-mismatch"
	ProbeAppendTruncated        = "raft/append-truncated-conflicting-suffix"
	ProbeRejectOfOldTerm        = "raft/append-reject-of-older-term-ignored"
	ProbeMatchLowered           = "raft/match-lowered-follower-lost-entries"
	ProbeStaleRejectIgnored     = "raft/append-reject-stale-ignored"
	ProbeResendStalled          = "raft/resend-to-stalled-follower"
	ProbeOldTermNotCounted      = "raft/old-term-entry-not-committed-by-count"
	ProbeRecoveringNoCampaign   = "raft/recovering-no-campaign"
	ProbeRecoveredLostEntries   = "raft/recovered-lost-entries"
	ProbeTornEntryDropped       = "raft/torn-entry-dropped-at-start"
	ProbeNotLeaderRedirect      = "raft/request-redirected-not-leader"
	ProbeReadIndexRead          = "raft/read-served-after-round"
	ProbeLeaseRead              = "raft/read-served-under-lease"
	ProbeVoteRefusedLeaderAlive = "raft/vote-refused-leader-heard-recently"
	ProbeVoteIgnoredLeaderAlive = "raft/vote-ignored-leader-heard-recently"

	ProbePreVoteStarted            = "raft/pre-vote-started"
	ProbePreVoteGranted            = "raft/pre-vote-granted"
	ProbePreVoteRejected           = "raft/pre-vote-rejected"
	ProbePreVoteRejectedLeader     = "raft/pre-vote-rejected-leader-heard-recently"
	ProbePreVoteWon                = "raft/pre-vote-won"
	ProbeCheckQuorumStepDown       = "raft/check-quorum-step-down"
	ProbeTransferStarted           = "raft/transfer-started"
	ProbeTransferNotLeader         = "raft/transfer-asked-of-non-leader"
	ProbeTransferRefused           = "raft/transfer-refused"
	ProbeTransferRefusedRequest    = "raft/transfer-request-refused"
	ProbeTransferTimeoutNow        = "raft/transfer-timeout-now-sent"
	ProbeTransferAborted           = "raft/transfer-aborted"
	ProbeTransferCampaign          = "raft/transfer-target-campaigns"
	ProbeTransferTimeoutNowIgnored = "raft/transfer-timeout-now-ignored"

	ProbeChangeStarted          = "raft/member-change-started"
	ProbeChangeNotLeader        = "raft/member-change-asked-of-non-leader"
	ProbeChangeRefused          = "raft/member-change-refused"
	ProbeChangeProposed         = "raft/member-change-proposed"
	ProbeChangeAbandoned        = "raft/member-change-abandoned"
	ProbeJointLeft              = "raft/joint-configuration-left"
	ProbeRemovedLeaderStepsDown = "raft/removed-leader-steps-down"
	ProbeNotMemberNoCampaign    = "raft/non-member-no-campaign"
	ProbeNonMemberVoteIgnored   = "raft/non-member-vote-ignored"

	ProbeSnapshotTaken              = "raft/snapshot-taken"
	ProbeSnapshotRestored           = "raft/snapshot-restored-at-start"
	ProbeSnapshotSent               = "raft/snapshot-sent"
	ProbeSnapshotInstalledKept      = "raft/snapshot-installed-log-suffix-kept"
	ProbeSnapshotInstalledDiscarded = "raft/snapshot-installed-log-discarded"
	ProbeSnapshotOld                = "raft/snapshot-ignored-not-past-commit"
	ProbeAppendBelowSnapshot        = "raft/append-prev-below-snapshot"
	ProbeHeartbeatBelowSnapshot     = "raft/heartbeat-skipped-match-compacted"
)

var knownProbes = []Probe{
	{Name: ProbeStepDownHigherTerm, Description: "a server saw a higher term and adopted it (§5.1)"},
	{Name: ProbeLeaderStepDown, Description: "a leader saw a higher term and stepped down (§5.1)"},
	{Name: ProbeVoteRejectedStaleTerm, Description: "a vote request of a stale term was rejected (§5.1)"},
	{Name: ProbeAppendRejectedStale, Description: "an AppendEntries of a stale term was rejected (§5.1)"},
	{Name: ProbeStaleResponseIgnored, Description: "a response of a stale term was ignored (§5.1)"},
	{Name: ProbeVoteGranted, Description: "a vote was granted (§5.2, §5.4.1)"},
	{Name: ProbeVoteRejectedVoted, Description: "a vote was refused: already voted for another in this term (§5.2)"},
	{Name: ProbeVoteRejectedLog, Description: "a vote was refused: the candidate's log is not at least as up-to-date (§5.4.1)"},
	{Name: ProbeVoteRejectedLost, Description: "a vote was refused: the candidate's log is behind entries this server lost to corruption"},
	{Name: ProbeElectionStarted, Description: "an election timed out and a candidate started (§5.2)"},
	{Name: ProbeLeaderElected, Description: "a candidate won a majority (§5.2)"},
	{Name: ProbeCandidateLost, Description: "a candidate heard from the leader of its term and stepped down (§5.2)"},
	{Name: ProbeAppendRejectedMissing, Description: "an AppendEntries was rejected: no entry at PrevIndex (§5.3)"},
	{Name: ProbeAppendRejectedMismatch, Description: "an AppendEntries was rejected: the entry at PrevIndex has another term (§5.3)"},
	{Name: ProbeAppendTruncated, Description: "a follower deleted a conflicting suffix of its log (§5.3)"},
	{Name: ProbeRejectOfOldTerm, Description: "a leader ignored the rejection of an AppendEntries of an earlier term"},
	{Name: ProbeMatchLowered, Description: "a leader lowered a follower's match index: the follower's log lost entries"},
	{Name: ProbeStaleRejectIgnored, Description: "a leader ignored a rejection older than what it knows of the follower"},
	{Name: ProbeResendStalled, Description: "a leader probed again a follower that acknowledged nothing for a while (§5.3: retry)"},
	{Name: ProbeOldTermNotCounted, Description: "a leader did not commit an entry of an earlier term by counting replicas (§5.4.2)"},
	{Name: ProbeRecoveringNoCampaign, Description: "a server recovering entries lost to corruption did not campaign"},
	{Name: ProbeRecoveredLostEntries, Description: "a server's log caught up with the entries it lost to corruption"},
	{Name: ProbeTornEntryDropped, Description: "a restarted server dropped the end of its log that a crash tore before it was synced"},
	{Name: ProbeNotLeaderRedirect, Description: "a server that is not the leader pointed a client at the leader (§8)"},
	{Name: ProbeReadIndexRead, Description: "a leader answered a read outside the log once a majority confirmed its leadership (thesis §6.4)"},
	{Name: ProbeLeaseRead, Description: "a leader answered a read outside the log at once, under its lease (thesis §6.4)"},
	{Name: ProbeVoteRefusedLeaderAlive, Description: "a server in lease mode refused its vote: it heard from a leader too recently, whose lease it backs"},
	{Name: ProbeVoteIgnoredLeaderAlive, Description: "a server in lease mode ignored a vote request of a higher term, term and all: it heard from a leader too recently (thesis §4.2.3)"},
	{Name: ProbePreVoteStarted, Description: "a server started a pre-vote round instead of a new term (thesis §9.6)"},
	{Name: ProbePreVoteGranted, Description: "a server said it would vote for a pre-candidate (thesis §9.6)"},
	{Name: ProbePreVoteRejected, Description: "a server said it would not vote for a pre-candidate: a stale term or a less up-to-date log"},
	{Name: ProbePreVoteRejectedLeader, Description: "a server refused a pre-vote: it leads, or heard from a leader within the election timeout (thesis §9.6)"},
	{Name: ProbePreVoteWon, Description: "a majority would vote for a pre-candidate: it campaigns"},
	{Name: ProbeCheckQuorumStepDown, Description: "a leader that heard from no majority within the election timeout stepped down (thesis §6.2)"},
	{Name: ProbeTransferStarted, Description: "a leader began handing its leadership over (thesis §3.10)"},
	{Name: ProbeTransferNotLeader, Description: "a server that is not the leader was asked to hand leadership over, and ignored it"},
	{Name: ProbeTransferRefused, Description: "a leader refused a hand-over: to itself, to no server, or while another runs"},
	{Name: ProbeTransferRefusedRequest, Description: "a leader handing leadership over turned a client away (thesis §3.10)"},
	{Name: ProbeTransferTimeoutNow, Description: "a leader sent MsgTimeoutNow to a transfer's target whose log it had brought up to date"},
	{Name: ProbeTransferAborted, Description: "a leader gave a transfer up after an election timeout and took requests again (thesis §3.10)"},
	{Name: ProbeTransferCampaign, Description: "a transfer's target campaigned at once on MsgTimeoutNow"},
	{Name: ProbeTransferTimeoutNowIgnored, Description: "a server recovering lost entries, or outside the configuration, ignored a MsgTimeoutNow"},
	{Name: ProbeChangeStarted, Description: "a leader took up a membership change: its new servers catch up as learners (thesis §4.2.1)"},
	{Name: ProbeChangeNotLeader, Description: "a server that is not the leader was asked to change the membership, and ignored it"},
	{Name: ProbeChangeRefused, Description: "a leader refused a membership change: another in progress, no entry of its term committed yet, or servers that cannot be added or removed"},
	{Name: ProbeChangeProposed, Description: "a leader appended a configuration entry: C_new for one server, C_old,new for several (thesis §4.1, §4.3)"},
	{Name: ProbeChangeAbandoned, Description: "a leader gave a membership change up: its learners did not catch up within an election timeout"},
	{Name: ProbeJointLeft, Description: "a joint configuration committed and the leader appended C_new (thesis §4.3)"},
	{Name: ProbeRemovedLeaderStepsDown, Description: "a leader stepped down once a configuration without it committed (thesis §4.2.2)"},
	{Name: ProbeNotMemberNoCampaign, Description: "a server outside its latest configuration (a spare, or removed) did not campaign"},
	{Name: ProbeNonMemberVoteIgnored, Description: "a member ignored a vote or pre-vote request from a server outside its latest configuration (thesis §4.2.3)"},
	{Name: ProbeSnapshotTaken, Description: "a server snapshotted its state machine and compacted its log (§7)"},
	{Name: ProbeSnapshotRestored, Description: "a restarted server restored its snapshot, then read the log after it"},
	{Name: ProbeSnapshotSent, Description: "a leader sent its snapshot to a follower that needs compacted entries (InstallSnapshot, §7)"},
	{Name: ProbeSnapshotInstalledKept, Description: "a follower installed a snapshot whose last entry its log holds, and kept the entries after it (thesis §5.1)"},
	{Name: ProbeSnapshotInstalledDiscarded, Description: "a follower installed a snapshot and discarded its log, which was too short or conflicted (thesis §5.1)"},
	{Name: ProbeSnapshotOld, Description: "a follower ignored a snapshot not past its commit index"},
	{Name: ProbeAppendBelowSnapshot, Description: "an AppendEntries whose previous entry is compacted here passed: that entry is committed"},
	{Name: ProbeHeartbeatBelowSnapshot, Description: "a leader skipped a heartbeat to a follower whose match index it compacted while entries were in flight"},
}

// KnownProbes lists the probes.
func KnownProbes() []Probe { return slices.Clone(knownProbes) }

func (n *node) probe(name string) { sim.Probe(n.env, name) }
