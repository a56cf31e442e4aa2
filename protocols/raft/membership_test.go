package raft

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/internal/prototest"
	"github.com/simrun/simrun/sim"
)

// newMemberNet returns servers started servers of which the first members
// form the configuration, led by server 0 (term 1, its no-op committed).
func newMemberNet(t *testing.T, servers, members int, bugs ...string) *testNet {
	cfg := DefaultConfig()
	cfg.Members, cfg.Bugs = members, bugs
	tn := newTestNet(t, servers, cfg)
	tn.StartAll()
	forceLeader(tn, 0)
	tn.Stabilize()
	heartbeats(tn, 0)
	require.Equal(t, uint64(1), tn.Node(0).commit)
	return tn
}

// change asks server id for a membership change, as the member fault does.
func change(tn *testNet, id sim.NodeID, add, remove sim.Members) {
	tn.Within(id, func(n *node, env *prototest.Env) { n.Operate(env, sim.ChangeMembers{Add: add, Remove: remove}) })
}

// configsObserved lists the configurations server id announced, in order.
func configsObserved(tn *testNet, id sim.NodeID) []string {
	var out []string
	for _, o := range tn.Observed(id, sim.ObsConfig) {
		out = append(out, o.Text)
	}
	return out
}

// Thesis §4.3: two servers added at once go through C_old,new, whose commit
// makes the leader append C_new; the new servers first catch up as learners,
// and every server ends with the new configuration.
func TestAddingTwoServersGoesThroughAJointConfiguration(t *testing.T) {
	tn := newMemberNet(t, 5, 3)
	for id := range sim.NodeID(5) {
		assert.Equal(t, sim.MembersOf(0, 1, 2), tn.Node(id).conf.voters, "n%d starts with the first three", id)
	}
	change(tn, 0, sim.MembersOf(3, 4), 0)
	require.Equal(t, sim.MembersOf(0, 1, 2), tn.Node(0).conf.voters, "learners first: no entry before they catch up")
	tn.Stabilize()
	heartbeats(tn, 0)
	assert.Equal(t, []string{"n0 n1 n2 n3 n4 joint n0 n1 n2", "n0 n1 n2 n3 n4"}, configsObserved(tn, 0))
	for id := range sim.NodeID(5) {
		assert.Equal(t, configuration{voters: sim.MembersOf(0, 1, 2, 3, 4)}, tn.Node(id).conf, "n%d", id)
	}
	tn.RequireSafe(t)
}

// A leader elected after C_old,new committed, which the previous leader
// did not live to follow with C_new, appends C_new itself (§4.3): else the
// cluster stayed joint for good and every later change was refused. Here
// n0 commits the joint configuration, its C_new reaches nobody, and n0
// crashes.
func TestLeaderElectedAfterAJointConfigurationCommittedLeavesIt(t *testing.T) {
	tn := newMemberNet(t, 5, 3)
	isNew := func(en Entry) bool { return isConfigCommand(en.Cmd) && !decodeConfig(en.Cmd).joint() }
	// deliverAllButNew delivers everything queued, and what that sends, with
	// every append cut short before C_new: its commit index still arrives.
	deliverAllButNew := func() {
		for range 1000 {
			queued := tn.Take(nil)
			if len(queued) == 0 {
				return
			}
			for _, e := range queued {
				if m, ok := e.Msg.(*MsgApp); ok {
					if i := slices.IndexFunc(m.Entries, isNew); i >= 0 {
						cut := *m
						cut.Entries = m.Entries[:i]
						e.Msg = &cut
					}
				}
				tn.DeliverOne(e)
			}
		}
		t.Fatal("the messages never settled")
	}
	change(tn, 0, sim.MembersOf(3, 4), 0)
	deliverAllButNew()
	for range 2 {
		tn.Fire(0, timerHeartbeat)
		deliverAllButNew()
	}
	n1 := tn.Node(1)
	require.True(t, n1.conf.joint(), "n1 has the joint configuration, not C_new")
	require.GreaterOrEqual(t, n1.commit, n1.latestConfigIndex(), "and knows it committed")

	tn.Crash(0)
	tn.Drop = nil
	tn.Fire(1, timerElection)
	tn.Stabilize()
	heartbeats(tn, 1)
	require.Equal(t, roleLeader, tn.Node(1).role)
	for id := sim.NodeID(1); id < 5; id++ {
		assert.Equal(t, configuration{voters: sim.MembersOf(0, 1, 2, 3, 4)}, tn.Node(id).conf, "n%d left the joint configuration", id)
	}
	change(tn, 1, 0, sim.MembersOf(0))
	tn.Stabilize()
	heartbeats(tn, 1)
	assert.Equal(t, configuration{voters: sim.MembersOf(1, 2, 3, 4)}, tn.Node(1).conf, "and takes the next change")
	tn.RequireSafe(t)
}

// Thesis §4.1: one server is changed directly, and a leader that removes
// itself steps down once the change commits, and never campaigns again.
func TestRemovedLeaderStepsDownAndStaysQuiet(t *testing.T) {
	tn := newMemberNet(t, 3, 3)
	change(tn, 0, 0, sim.MembersOf(0))
	tn.Stabilize()
	assert.Equal(t, []string{"n1 n2"}, configsObserved(tn, 0), "a single-server change: no joint configuration")
	n0 := tn.Node(0)
	assert.Equal(t, roleFollower, n0.role, "removed, the leader stepped down")
	tn.Take(nil)
	tn.Fire(0, timerElection)
	assert.Empty(t, tn.Take(nil), "a removed server does not campaign")
	tn.Fire(1, timerElection)
	tn.Stabilize()
	assert.Equal(t, roleLeader, tn.Node(1).role, "the remaining two elect a leader between them")
}

// A leader that appended its own removal and restarted before learning it
// committed may hold the only log a majority of the new configuration can
// elect: here n3 removed itself, only n0 (now down) got the entry, and n1
// and n2 count votes in the configuration with n3, which would refuse them
// (its log is ahead). The commit index is volatile, so after the restart n3
// cannot know its removal committed, and it campaigns (a swarm sweep of
// raft-membership-grow found the cluster stuck for good: n3 saw itself a
// spare, the others could not win).
func TestRestartedLeaderWhoseRemovalIsUncommittedCampaigns(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Members = 3
	tn := newTestNet(t, 4, cfg)
	withN3 := Entry{Term: 1, Cmd: configCommand(configuration{voters: sim.MembersOf(0, 1, 2, 3)})}
	withoutN3 := Entry{Term: 1, Cmd: configCommand(configuration{voters: sim.MembersOf(0, 1, 2)})}
	behind := []Entry{withN3, entries(1)[0]}
	for _, id := range []sim.NodeID{1, 2} {
		writeState(tn, id, 1, 3, behind)
	}
	writeState(tn, 3, 1, 3, append(slices.Clone(behind), withoutN3))
	for _, id := range []sim.NodeID{1, 2, 3} {
		tn.Start(id)
	}
	tn.Fire(3, timerElection)
	tn.Stabilize()
	assert.Equal(t, []string{"n0 n1 n2 n3", "n0 n1 n2"}, configsObserved(tn, 3), "n3 was elected and committed its removal")
	assert.NotEqual(t, roleLeader, tn.Node(3).role, "removed, it stepped down")
	tn.Fire(1, timerElection)
	tn.Stabilize()
	assert.Equal(t, roleLeader, tn.Node(1).role, "n1 and n2 are a majority of n0 n1 n2")
	tn.RequireSafe(t)
}

// One change at a time: the leader refuses a second change while the
// first is not committed.
func TestSecondChangeRefusedWhileOneIsInProgress(t *testing.T) {
	tn := newMemberNet(t, 5, 3)
	change(tn, 0, sim.MembersOf(3), 0)
	change(tn, 0, sim.MembersOf(4), 0)
	tn.Stabilize()
	heartbeats(tn, 0)
	assert.Equal(t, []string{"n0 n1 n2 n3"}, configsObserved(tn, 0))
	change(tn, 0, sim.MembersOf(4), 0)
	tn.Stabilize()
	heartbeats(tn, 0)
	assert.Equal(t, []string{"n0 n1 n2 n3", "n0 n1 n2 n3 n4"}, configsObserved(tn, 0), "once committed, the next change goes ahead")
}

// A member ignores the vote or pre-vote request of a server outside its
// configuration, term and all; with the planted bug it takes the term up
// and deposes nobody's leader but its own. Both requests are
// sim.VoteRequests, so that the stale-leader check does not take their
// term as seen by a leader that rightly kept its own (a swarm sweep
// reported a leader going on in its term after a removed server's
// pre-vote of a higher one).
func TestRemovedServerVotesAreIgnored(t *testing.T) {
	for _, req := range []sim.Message{MsgVote{Term: 7, LastIndex: 9, LastTerm: 1}, MsgPreVote{Term: 7, Next: 8, LastIndex: 9, LastTerm: 1}} {
		_, ok := req.(sim.VoteRequest)
		require.True(t, ok, "%T is a sim.VoteRequest", req)
		for _, tt := range []struct {
			bugs []string
			term uint64
		}{{nil, 1}, {[]string{BugRemovedServerCampaigns}, 7}} {
			tn := newMemberNet(t, 4, 3, tt.bugs...)
			receive(tn, 3, 1, req)
			assert.Equal(t, tt.term, tn.Node(1).term, "%T, bugs %v", req, tt.bugs)
		}
	}
	for _, m := range []sim.Message{MsgVoteResp{}, MsgPreVoteResp{}, &MsgApp{}, MsgHeartbeat{}, MsgTimeoutNow{}} {
		_, ok := m.(sim.VoteRequest)
		assert.False(t, ok, "%T shows a term in force", m)
	}
}

// With no leader heard from lately, a removed server's vote request is
// heard only if its log is as up-to-date as the receiver's: one behind
// would be refused anyway, and its term would depose the leader about to
// be elected (thesis §4.2.3 leaves that window open).
func TestRemovedCandidateBehindIsIgnoredWithNoLeaderAbout(t *testing.T) {
	for _, tt := range []struct {
		lastIndex, lastTerm, term uint64
	}{{1, 1, 1}, {50, 9, 7}} {
		tn := newMemberNet(t, 4, 4)
		change(tn, 0, 0, sim.MembersOf(3))
		tn.Stabilize()
		heartbeats(tn, 0)
		require.Equal(t, []string{"n0 n1 n2"}, configsObserved(tn, 1))
		tn.Now = tn.Now.Add(time.Hour) // no leader heard from lately
		receive(tn, 3, 1, MsgVote{Term: 7, LastIndex: tt.lastIndex, LastTerm: tt.lastTerm})
		assert.Equal(t, tt.term, tn.Node(1).term, "a removed candidate with its log at %d/%d", tt.lastIndex, tt.lastTerm)
	}
}

// The planted bug no-joint-consensus changes several servers at once.
func TestNoJointConsensusBugSkipsTheJointConfiguration(t *testing.T) {
	tn := newMemberNet(t, 5, 3, BugNoJointConsensus)
	change(tn, 0, sim.MembersOf(3, 4), sim.MembersOf(1, 2))
	tn.Stabilize()
	heartbeats(tn, 0)
	assert.Equal(t, []string{"n0 n3 n4"}, configsObserved(tn, 0))
}

// A configuration is in force from its append, and a truncated one takes
// its configuration with it; a restart rebuilds the configurations from
// the log.
func TestConfigurationFollowsTheLog(t *testing.T) {
	tn := newMemberNet(t, 4, 3)
	tn.Take(nil)
	change(tn, 0, 0, sim.MembersOf(2))
	tn.Deliver(func(e envelope) bool { return e.To == 1 }) // only n1 gets the entry
	tn.Take(nil)
	n1 := tn.Node(1)
	require.Equal(t, sim.MembersOf(0, 1), n1.conf.voters, "in force once appended, uncommitted")
	tn.Crash(1)
	tn.Restart(1)
	require.Equal(t, sim.MembersOf(0, 1), tn.Node(1).conf.voters, "rebuilt from the log after a restart")
	// n2 leads term 2 without the entry and overwrites it on n1.
	forceLeader(tn, 2)
	tn.Stabilize()
	heartbeats(tn, 2)
	assert.Equal(t, sim.MembersOf(0, 1, 2), tn.Node(1).conf.voters, "the truncated entry took its configuration along")
}

// A joint configuration agrees on a value only as far as a majority of each
// half holds it (thesis §4.3): the commit index and the confirmed round are
// the lower of the two halves' majorities, never the higher.
func TestJointConfigurationAgreesInBothHalves(t *testing.T) {
	held := map[sim.NodeID]uint64{0: 9, 1: 9, 2: 3, 3: 3, 4: 3}
	value := func(id sim.NodeID) uint64 { return held[id] }
	old := configuration{voters: sim.MembersOf(0, 1, 2)}
	joint := configuration{voters: sim.MembersOf(2, 3, 4), outgoing: sim.MembersOf(0, 1, 2)}
	assert.Equal(t, uint64(9), old.agreed(value, nil), "0 and 1 of 0, 1, 2")
	assert.Equal(t, uint64(3), joint.agreed(value, nil), "the new half's majority holds 3 only")
	held[3], held[4] = 9, 9
	assert.Equal(t, uint64(9), joint.agreed(value, nil), "3 and 4 caught up: both halves hold 9")
}

// A joint change to a configuration of the leader alone (two servers
// removed at once: C_old,new = n0 joint n0 n1 n2). When C_old,new commits,
// configCommitted appends C_new = n0 (leaveJoint), which needs only n0: the
// heartbeat counts it. Counted only when a follower acknowledged something
// or a client wrote, with the removed servers down (they were removed for
// it) and no client traffic, C_new stayed uncommitted, and every later
// change was refused (changing()).
func TestLeaderAloneInCNewCommitsIt(t *testing.T) {
	tn := newMemberNet(t, 3, 3)
	change(tn, 0, 0, sim.MembersOf(1, 2))
	// Deliver until n0 has committed C_old,new and appended C_new, then the
	// removed servers go down.
	for range 100 {
		if tn.Node(0).conf == (configuration{voters: sim.MembersOf(0)}) {
			break
		}
		require.True(t, tn.Step(), "ran out of messages before n0 left the joint configuration")
	}
	require.Equal(t, configuration{voters: sim.MembersOf(0)}, tn.Node(0).conf, "n0 appended C_new")
	tn.Crash(1)
	tn.Crash(2)
	tn.Take(nil) // what was in flight is lost with them
	tn.FireAdvance = 0
	for range 20 {
		tn.Advance(50 * time.Millisecond)
		tn.Fire(0, timerHeartbeat)
		tn.Stabilize()
	}
	n0 := tn.Node(0)
	assert.Equal(t, n0.lastIndex(), n0.commit, "C_new = n0 is stored on a majority of C_new (n0): committed")
	assert.Contains(t, configsObserved(tn, 0), "n0", "and announced")
}

// unsyncedAtCommit wraps a step's Env and notes, for every commit the
// server announces, how many of its disk writes were not yet synced: what a
// crash cut right after that observation (a torn step,
// sim.World.CrashMidStep) would lose.
type unsyncedAtCommit struct {
	*prototest.Env
	at map[uint64]int // index -> unsynced writes when its commit was announced
}

func (e *unsyncedAtCommit) Observe(o sim.Observation) {
	if o.Kind == sim.ObsCommit {
		e.at[o.Index] = e.Env.Disk().Unsynced()
	}
	e.Env.Observe(o)
}

// A configuration of one voter, reached by removing the others, lets the
// leader count its own log alone. It may count only entries on its disk
// (Raft Figure 2; thesis §10.2.1 lets a leader commit before its own write
// only when a majority of the others have written the entry). Counting its
// written but unsynced log, it committed, announced and applied a client's
// entry in the step that wrote it, before the sync; a crash cut between the
// two (a torn step) lost an entry announced committed and applied, and
// after the restart the server committed a different one, its no-op, at
// that index: an agreement violation.
func TestSingleVoterCommitsOnlyWhatItSynced(t *testing.T) {
	tn := newMemberNet(t, 3, 3)
	change(tn, 0, 0, sim.MembersOf(2))
	tn.Stabilize()
	heartbeats(tn, 0)
	change(tn, 0, 0, sim.MembersOf(1))
	tn.Stabilize()
	heartbeats(tn, 0)
	require.Equal(t, configuration{voters: sim.MembersOf(0)}, tn.Node(0).conf, "removals left n0 alone")
	singleVoterCommitsOnlyWhatItSynced(t, tn)
}

// The same in a cluster of one server from the start.
func TestOneServerClusterCommitsOnlyWhatItSynced(t *testing.T) {
	tn := newTestNet(t, 1, DefaultConfig())
	tn.StartAll()
	forceLeader(tn, 0)
	tn.Stabilize()
	singleVoterCommitsOnlyWhatItSynced(t, tn)
}

func singleVoterCommitsOnlyWhatItSynced(t *testing.T, tn *testNet) {
	n0 := tn.Node(0)
	require.Equal(t, roleLeader, n0.role)
	require.Equal(t, n0.lastIndex(), n0.commit)

	// 1. Through the real handler: when n0 announces the commit of a
	// client's command, the entry must be on its disk already.
	index := n0.lastIndex() + 1
	probe := &unsyncedAtCommit{at: map[uint64]int{}}
	tn.Within(0, func(n *node, env *prototest.Env) {
		probe.Env = env
		n.Receive(probe, 9, prototest.Request(9, 1, "put k v"))
	})
	require.Contains(t, probe.at, index, "a one-voter leader commits at once")
	assert.Zero(t, probe.at[index], "n0 announced the commit of %d with writes not yet synced", index)

	// 2. The consequence: the same step cut right after the commit's
	// observations, before the reply and the handler's closing sync (run
	// handleRequest's own steps up to there, then crash), loses the entry.
	index = n0.lastIndex() + 1
	tn.Within(0, func(n *node, env *prototest.Env) {
		n.env = env
		n.appendEntry(Entry{Term: n.term, Cmd: prototest.Cmd(9, 2, "put k w")})
		n.broadcastAppend()
		n.maybeCommit()
	})
	require.Equal(t, index, n0.commit)
	tn.Crash(0)
	tn.Restart(0)
	forceLeader(tn, 0)
	tn.Stabilize()
	tn.RequireSafe(t) // fails: index committed twice, with different entries
}
