package raft

import (
	"slices"

	"github.com/simrun/simrun/sim"
)

// Coverage probes (sim.Probe): each acceptance and rejection check of the
// term rules, votes and AppendEntries fires its own probe, as do the rare
// paths; a sweep that leaves one cold never exercised it.

// Probe describes a coverage probe.
type Probe struct {
	Name, Description string
}

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
	ProbeNotLeaderRedirect      = "raft/request-redirected-not-leader"
)

var knownProbes = []Probe{
	{ProbeStepDownHigherTerm, "a server saw a higher term and adopted it (§5.1)"},
	{ProbeLeaderStepDown, "a leader saw a higher term and stepped down (§5.1)"},
	{ProbeVoteRejectedStaleTerm, "a vote request of a stale term was rejected (§5.1)"},
	{ProbeAppendRejectedStale, "an AppendEntries of a stale term was rejected (§5.1)"},
	{ProbeStaleResponseIgnored, "a response of a stale term was ignored (§5.1)"},
	{ProbeVoteGranted, "a vote was granted (§5.2, §5.4.1)"},
	{ProbeVoteRejectedVoted, "a vote was refused: already voted for another in this term (§5.2)"},
	{ProbeVoteRejectedLog, "a vote was refused: the candidate's log is not at least as up-to-date (§5.4.1)"},
	{ProbeVoteRejectedLost, "a vote was refused: the candidate's log is behind entries this server lost to corruption"},
	{ProbeElectionStarted, "an election timed out and a candidate started (§5.2)"},
	{ProbeLeaderElected, "a candidate won a majority (§5.2)"},
	{ProbeCandidateLost, "a candidate heard from the leader of its term and stepped down (§5.2)"},
	{ProbeAppendRejectedMissing, "an AppendEntries was rejected: no entry at PrevIndex (§5.3)"},
	{ProbeAppendRejectedMismatch, "an AppendEntries was rejected: the entry at PrevIndex has another term (§5.3)"},
	{ProbeAppendTruncated, "a follower deleted a conflicting suffix of its log (§5.3)"},
	{ProbeRejectOfOldTerm, "a leader ignored the rejection of an AppendEntries of an earlier term"},
	{ProbeMatchLowered, "a leader lowered a follower's match index: the follower's log lost entries"},
	{ProbeStaleRejectIgnored, "a leader ignored a rejection older than what it knows of the follower"},
	{ProbeResendStalled, "a leader probed again a follower that acknowledged nothing for a while (§5.3: retry)"},
	{ProbeOldTermNotCounted, "a leader did not commit an entry of an earlier term by counting replicas (§5.4.2)"},
	{ProbeRecoveringNoCampaign, "a server recovering entries lost to corruption did not campaign"},
	{ProbeRecoveredLostEntries, "a server's log caught up with the entries it lost to corruption"},
	{ProbeNotLeaderRedirect, "a server that is not the leader pointed a client at the leader (§8)"},
}

// KnownProbes lists the probes.
func KnownProbes() []Probe { return slices.Clone(knownProbes) }

func (n *node) probe(name string) { sim.Probe(n.env, name) }
