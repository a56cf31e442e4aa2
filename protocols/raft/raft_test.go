package raft

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

func diskHardState(t *testing.T, tn *testNet, id sim.NodeID) (uint64, sim.NodeID) {
	b, ok := tn.Disk(id).Get(hardStateKeys[0])
	require.True(t, ok)
	h, err := decodeHardState(b)
	require.NoError(t, err)
	b2, _ := tn.Disk(id).Get(hardStateKeys[1])
	require.Equal(t, b, b2, "both copies")
	return h.term, h.vote
}

// Raft §5.1, §5.2, §5.4.1: who gets a vote.
func TestVote(t *testing.T) {
	const voter, cand, other = 0, 1, 2
	tests := []struct {
		name      string
		vote      sim.NodeID // the voter's vote in term 2
		msg       MsgVote
		bugs      []string
		granted   bool
		term      uint64
		persisted sim.NodeID // vote on disk afterwards
	}{
		{"stale term", sim.None, MsgVote{Term: 1, LastIndex: 9, LastTerm: 2}, nil, false, 2, sim.None},
		{"free and up to date", sim.None, MsgVote{Term: 2, LastIndex: 2, LastTerm: 2}, nil, true, 2, cand},
		{"already voted for another", other, MsgVote{Term: 2, LastIndex: 2, LastTerm: 2}, nil, false, 2, other},
		{"already voted for this one", cand, MsgVote{Term: 2, LastIndex: 2, LastTerm: 2}, nil, true, 2, cand},
		{"new term, older last term", other, MsgVote{Term: 3, LastIndex: 5, LastTerm: 1}, nil, false, 3, sim.None},
		{"new term, same last term, shorter", other, MsgVote{Term: 3, LastIndex: 1, LastTerm: 2}, nil, false, 3, sim.None},
		{"new term, later last term", other, MsgVote{Term: 3, LastIndex: 1, LastTerm: 3}, nil, true, 3, cand},
		{"no log check (bug)", sim.None, MsgVote{Term: 2, LastIndex: 1, LastTerm: 1}, []string{BugNoTermCheckOnVote}, true, 2, cand},
		{"vote kept in memory only (bug)", sim.None, MsgVote{Term: 2, LastIndex: 2, LastTerm: 2}, []string{BugForgetVote}, true, 2, sim.None},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Bugs = tt.bugs
			tn := newTestNet(t, 3, cfg)
			writeState(tn, voter, 2, tt.vote, entries(1, 2))
			tn.Start(voter)
			receive(tn, cand, voter, tt.msg)
			resp, ok := takeLast(tn, voter, cand).(MsgVoteResp)
			require.True(t, ok)
			assert.Equal(t, tt.granted, resp.Granted)
			assert.Equal(t, tt.term, resp.Term)
			term, vote := diskHardState(t, tn, voter)
			assert.Equal(t, tt.term, term)
			assert.Equal(t, tt.persisted, vote)
			assert.Zero(t, tn.Disk(voter).Unsynced(), "the vote is synced before the response")
		})
	}
}

// Raft Figure 2: a follower's election timeout restarts when it grants a
// vote, not when a candidate it refuses (its log is behind) shows it a higher
// term: candidates that cannot win must not keep the servers that can from
// campaigning. A swarm sweep found a cluster with no leader for good that
// way (raft-lossy --swarm all, seed 61: two stale candidates taking turns).
func TestRefusedCandidateDoesNotPutTheElectionOff(t *testing.T) {
	const voter, cand = 0, 1
	for _, tt := range []struct {
		name    string
		msg     MsgVote
		granted bool
	}{
		{"refused: an older last term", MsgVote{Term: 5, LastIndex: 9, LastTerm: 1}, false},
		{"granted", MsgVote{Term: 5, LastIndex: 2, LastTerm: 2}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tn := newTestNet(t, 3, DefaultConfig())
			writeState(tn, voter, 2, sim.None, entries(1, 2))
			tn.Start(voter)
			started := tn.Node(voter).electionStart
			tn.Advance(200 * time.Millisecond)
			receive(tn, cand, voter, tt.msg)
			resp, ok := takeLast(tn, voter, cand).(MsgVoteResp)
			require.True(t, ok)
			require.Equal(t, tt.granted, resp.Granted)
			require.Equal(t, uint64(5), tn.Node(voter).term, "the term is adopted either way")
			if tt.granted {
				assert.Greater(t, tn.Node(voter).electionStart, started, "a vote granted restarts the timeout")
			} else {
				assert.Equal(t, started, tn.Node(voter).electionStart, "a refused candidate leaves the timeout running")
			}
		})
	}
}

// Raft §5.3: the consistency check, the conflict hint, and merging entries.
func TestAppendEntriesReceiver(t *testing.T) {
	const follower, leader = 1, 0
	tests := []struct {
		name  string
		msg   MsgApp
		resp  sim.Message // nil: no answer
		terms []uint64    // the follower's log afterwards
	}{
		{"stale term", MsgApp{Term: 2, PrevIndex: 5, PrevTerm: 2},
			MsgAppResp{Term: 3, Index: 5, Reject: true}, []uint64{1, 1, 2, 2, 2}},
		{"prev past the log", MsgApp{Term: 3, PrevIndex: 7, PrevTerm: 3},
			MsgAppResp{Term: 3, Index: 7, Reject: true, ConflictIndex: 6}, []uint64{1, 1, 2, 2, 2}},
		{"prev term differs", MsgApp{Term: 3, PrevIndex: 4, PrevTerm: 3},
			MsgAppResp{Term: 3, Index: 4, Reject: true, ConflictTerm: 2, ConflictIndex: 3}, []uint64{1, 1, 2, 2, 2}},
		{"conflict truncates", MsgApp{Term: 3, PrevIndex: 2, PrevTerm: 1, Entries: entries(1, 1, 3)[2:]},
			MsgAppResp{Term: 3, Index: 3}, []uint64{1, 1, 3}},
		{"matching stale append keeps the suffix", MsgApp{Term: 3, PrevIndex: 1, PrevTerm: 1, Entries: entries(1, 1)[1:]},
			MsgAppResp{Term: 3, Index: 2}, []uint64{1, 1, 2, 2, 2}},
		{"appends past the end", MsgApp{Term: 3, PrevIndex: 5, PrevTerm: 2, Entries: entries(1, 1, 2, 2, 2, 3, 3)[5:]},
			MsgAppResp{Term: 3, Index: 7}, []uint64{1, 1, 2, 2, 2, 3, 3}},
		{"heartbeat", MsgApp{Term: 3, PrevIndex: 3, PrevTerm: 2},
			nil, []uint64{1, 1, 2, 2, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tn := newTestNet(t, 3, DefaultConfig())
			writeState(tn, follower, 3, sim.None, entries(1, 1, 2, 2, 2))
			tn.Start(follower)
			receive(tn, leader, follower, tt.msg)
			assert.Equal(t, tt.resp, takeLast(tn, follower, leader))
			n := tn.Node(follower)
			assert.Equal(t, tt.terms, terms(n.log.all()))
			// The disk holds the same log: a restart recovers it.
			st := loadState(tn.Disk(follower))
			assert.Equal(t, tt.terms, terms(st.log.all()))
		})
	}
}

// Raft §5.3: "the follower's commitIndex is min(leaderCommit, index of last
// new entry)": a heartbeat must not commit a stale suffix it did not check.
func TestFollowerCommitsOnlyCheckedEntries(t *testing.T) {
	tn := newTestNet(t, 3, DefaultConfig())
	writeState(tn, 1, 3, sim.None, entries(1, 1, 2, 2, 2))
	tn.Start(1)
	receive(tn, 0, 1, MsgApp{Term: 3, PrevIndex: 2, PrevTerm: 1, Commit: 9})
	assert.Equal(t, uint64(2), tn.Node(1).commit)
	assert.Equal(t, uint64(2), tn.Node(1).applied)
	receive(tn, 0, 1, MsgApp{Term: 3, PrevIndex: 5, PrevTerm: 2, Commit: 4})
	assert.Equal(t, uint64(4), tn.Node(1).commit)
}

// Raft Figure 7: a new leader in term 8 brings each possible follower log in
// line, backing off a term at a time thanks to the conflict hint.
func TestFigure7Backtracking(t *testing.T) {
	leaderLog := []uint64{1, 1, 1, 4, 4, 5, 5, 6, 6, 6}
	followers := map[string][]uint64{
		"a": {1, 1, 1, 4, 4, 5, 5, 6, 6},
		"b": {1, 1, 1, 4},
		"c": {1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6},
		"d": {1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7},
		"e": {1, 1, 1, 4, 4, 4, 4},
		"f": {1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3},
	}
	for _, name := range []string{"a", "b", "c", "d", "e", "f"} {
		t.Run(name, func(t *testing.T) {
			tn := newTestNet(t, 2, DefaultConfig())
			writeState(tn, 0, 7, sim.None, entries(leaderLog...))
			follower := entries(followers[name]...)
			for i := range follower {
				if i < len(leaderLog) && follower[i].Term == leaderLog[i] {
					follower[i] = entries(leaderLog...)[i] // equal terms mean equal entries (Log Matching)
				}
			}
			writeState(tn, 1, 7, sim.None, follower)
			tn.StartAll()
			forceLeader(tn, 0)
			rejects := 0
			tn.Drop = func(e envelope) bool {
				if r, ok := e.Msg.(*MsgAppResp); ok && r.Reject {
					rejects++
				}
				return false
			}
			tn.Stabilize()
			heartbeats(tn, 0)            // tell the follower the commit index
			want := append(leaderLog, 8) // the new leader's no-op
			assert.Equal(t, want, terms(tn.Node(1).log.all()))
			assert.LessOrEqual(t, rejects, 2, "one round trip per conflicting term at most")
			for _, id := range tn.Servers() {
				n := tn.Node(id)
				assert.Equal(t, uint64(len(want)), n.commit)
				assert.Equal(t, n.commit, n.applied)
			}
			tn.RequireSafe(t)
		})
	}
}

// Raft Figure 8 and §5.4.2, played out on five servers. S1 leads term 4 and
// replicates the term-2 entry at index 2 to S3, so it sits on a majority
// (S1, S2, S3), while its own no-op of term 4 reaches only S2. S1 crashes;
// S5, whose log ends with a term-3 entry at index 2, wins term 5 with the
// votes of S3 and S4 and overwrites index 2. That is only safe because S1 did
// not commit index 2 by counting replicas: under commit-old-term it did, and
// two servers observe different commands committed at index 2.
func TestFigure8(t *testing.T) {
	for _, bug := range []bool{false, true} {
		name := "correct"
		cfg := DefaultConfig()
		cfg.MaxEntriesPerAppend = 1
		if bug {
			name, cfg.Bugs = BugCommitOldTerm, []string{BugCommitOldTerm}
		}
		t.Run(name, func(t *testing.T) {
			const s1, s2, s3, s4, s5 = 0, 1, 2, 3, 4
			tn := newTestNet(t, 5, cfg)
			e1, e2, e3 := entries(1)[0], entries(1, 2)[1], entries(1, 3)[1]
			writeState(tn, s1, 3, sim.None, []Entry{e1, e2})
			writeState(tn, s2, 3, sim.None, []Entry{e1, e2})
			writeState(tn, s3, 3, sim.None, []Entry{e1})
			writeState(tn, s4, 3, sim.None, []Entry{e1})
			writeState(tn, s5, 4, sim.None, []Entry{e1, e3})
			tn.StartAll()

			// S1 leads term 4 but reaches only S2 and S3, and S3 gets only
			// the old entry: its first probe (with the no-op) is rejected,
			// the term-2 entry follows alone (one entry per MsgApp), and the
			// MsgApp that would bring the no-op after it is lost.
			tn.Drop = func(e envelope) bool {
				if e.From == s1 && (e.To == s4 || e.To == s5) {
					return true
				}
				m, ok := e.Msg.(*MsgApp)
				return ok && e.To == s3 && len(m.Entries) > 0 && m.Entries[0].Term == 4 && tn.Node(s3).lastIndex() == 2
			}
			forceLeader(tn, s1)
			tn.Stabilize()
			require.Equal(t, []uint64{1, 2}, terms(tn.Node(s3).log.all()))
			require.Equal(t, []uint64{1, 2, 4}, terms(tn.Node(s2).log.all()))
			if bug {
				require.Equal(t, uint64(2), tn.Node(s1).commit, "the bug commits the term-2 entry")
			} else {
				require.Equal(t, uint64(0), tn.Node(s1).commit, "§5.4.2: no commit of an old-term entry by counting")
			}

			// S1 crashes; S5 campaigns in term 5 and wins with S3 and S4.
			tn.Crash(s1)
			tn.Drop = nil
			tn.Fire(s5, timerElection)
			tn.Stabilize()
			require.Equal(t, roleLeader, tn.Node(s5).role)
			for _, id := range []sim.NodeID{s3, s4, s5} {
				assert.Equal(t, []uint64{1, 3, 5}, terms(tn.Node(id).log.all()), "server %d", id)
			}
			assert.Equal(t, bug, len(tn.Violations()) > 0, "%v", tn.Violations())
		})
	}
}

// A leader answers a command once it is applied, appends a retry of a pending
// command only once, and answers a retry of an applied one from the session
// (the command does not run twice). Non-leaders point at the leader.
func TestClientRequests(t *testing.T) {
	const client = 3
	tn := newLeaderNet(t)

	tn.Request(client, 1, 1, "add k")
	tn.Stabilize()
	require.Equal(t, []service.Reply{{Client: client, Seq: 1, Status: service.StatusNotLeader, Leader: 0}}, tn.Replies)
	tn.Replies = nil

	tn.Request(client, 0, 1, "add k")
	tn.Request(client, 0, 1, "add k") // a retry while the first is pending
	tn.Stabilize()
	require.Equal(t, []service.Reply{{Client: client, Seq: 1, Status: service.StatusOK, Result: []byte("1")}}, tn.Replies)
	require.Equal(t, uint64(2), tn.Node(0).lastIndex(), "no-op and one copy of the command")
	tn.Replies = nil

	tn.Request(client, 0, 1, "add k") // a retry after the reply was lost
	tn.Stabilize()
	require.Equal(t, []service.Reply{{Client: client, Seq: 1, Status: service.StatusOK, Result: []byte("1")}}, tn.Replies)
	tn.Replies = nil

	tn.Request(client, 0, 2, "add k")
	tn.Stabilize()
	require.Equal(t, []service.Reply{{Client: client, Seq: 2, Status: service.StatusOK, Result: []byte("2")}}, tn.Replies,
		"the retried command ran once")
	heartbeats(tn, 0)
	for _, id := range tn.Servers() {
		n := tn.Node(id)
		assert.Equal(t, n.lastIndex(), n.applied)
	}
}

// Raft Figure 2: entries are on stable storage before they are acknowledged;
// under ack-before-sync they are not.
func TestAppendSyncsBeforeAcknowledging(t *testing.T) {
	for _, bug := range []bool{false, true} {
		cfg := DefaultConfig()
		if bug {
			cfg.Bugs = []string{BugAckBeforeSync}
		}
		tn := newTestNet(t, 3, cfg)
		writeState(tn, 1, 3, sim.None, entries(1))
		tn.Start(1)
		receive(tn, 0, 1, MsgApp{Term: 3, PrevIndex: 1, PrevTerm: 1, Entries: entries(1, 3)[1:]})
		require.Equal(t, MsgAppResp{Term: 3, Index: 2}, takeLast(tn, 1, 0))
		assert.Equal(t, bug, tn.Disk(1).Unsynced() > 0, "bug=%v", bug)
	}
}

// A restarted server recovers term, vote and log from its disk, and starts
// as a follower that knows nothing committed yet.
func TestRestartRecoversDurableState(t *testing.T) {
	tn := newLeaderNet(t)
	tn.Request(3, 0, 1, "set a 1")
	tn.Stabilize()
	before := tn.Node(0)
	tn.Crash(0)
	tn.Start(0)
	after := tn.Node(0)
	assert.Equal(t, before.term, after.term)
	assert.Equal(t, before.vote, after.vote)
	assert.Equal(t, before.log.all(), after.log.all())
	assert.Equal(t, roleFollower, after.role)
	assert.Zero(t, after.commit)
	assert.Equal(t, time.Duration(0), after.electionStart.Sub(tn.Now))
}

// Raft §5.1: the answer to a MsgApp of a stale term carries only the
// follower's term. If the old leader leads that term by the time it arrives,
// the answer must not be read as a rejection of the log (regression: it once
// moved match below zero).
func TestStaleTermRejectionIsIgnored(t *testing.T) {
	tn := newLeaderNet(t)
	tn.Request(3, 0, 1, "add k")
	tn.Stabilize()
	leader := tn.Node(0)
	before := leader.prs[1]
	require.Equal(t, leader.lastIndex(), before.match)
	receive(tn, 1, 0, MsgAppResp{Term: leader.term, Index: 1, Reject: true})
	assert.Equal(t, before, leader.prs[1])
	assert.Empty(t, tn.Queue)
}

// A grant counts even after a rejection from the same voter: the rejection
// may answer a MsgVote of an older term. Duplicates count once.
func TestCandidateCountsLateGrants(t *testing.T) {
	tn, n := newCandidateNet(t, 5)
	receive(tn, 1, 0, MsgVoteResp{Term: n.term})
	receive(tn, 1, 0, MsgVoteResp{Term: n.term, Granted: true})
	receive(tn, 1, 0, MsgVoteResp{Term: n.term, Granted: true})
	require.Equal(t, roleCandidate, n.role, "two votes of five")
	receive(tn, 2, 0, MsgVoteResp{Term: n.term, Granted: true})
	require.Equal(t, roleLeader, n.role)
}

// TestCandidateIgnoresGrantsOfAnOlderTerm: a grant answers the MsgVote of
// its term (Raft §5.1: a response of a stale term is ignored); the grants of
// a candidate's earlier term do not elect it in this one.
func TestCandidateIgnoresGrantsOfAnOlderTerm(t *testing.T) {
	tn, n := newCandidateNet(t, 5)
	old := n.term
	tn.Fire(0, timerElection) // a split vote: a new term
	tn.Queue = nil
	require.Equal(t, roleCandidate, n.role)
	require.Greater(t, n.term, old)
	receive(tn, 1, 0, MsgVoteResp{Term: old, Granted: true})
	receive(tn, 2, 0, MsgVoteResp{Term: old, Granted: true})
	require.Equal(t, roleCandidate, n.role, "grants of the older term")
	receive(tn, 1, 0, MsgVoteResp{Term: n.term, Granted: true})
	receive(tn, 2, 0, MsgVoteResp{Term: n.term, Granted: true})
	require.Equal(t, roleLeader, n.role)
}

// TestHalfTheVotesDoNotElect: of four servers, a candidate needs three votes,
// its own included; two are half, not a majority (Raft §5.2).
func TestHalfTheVotesDoNotElect(t *testing.T) {
	tn, n := newCandidateNet(t, 4)
	receive(tn, 1, 0, MsgVoteResp{Term: n.term, Granted: true})
	require.Equal(t, roleCandidate, n.role, "two votes of four")
	receive(tn, 2, 0, MsgVoteResp{Term: n.term, Granted: true})
	require.Equal(t, roleLeader, n.role)
}

// newCandidateNet starts servers servers of which server 0 campaigns, its
// vote requests dropped: a test hands it the answers.
func newCandidateNet(t *testing.T, servers int) (*testNet, *node) {
	tn := newTestNet(t, servers, DefaultConfig())
	tn.StartAll()
	tn.Fire(0, timerElection)
	tn.Queue = nil
	n := tn.Node(0)
	require.Equal(t, roleCandidate, n.role)
	return tn, n
}
