package pbft

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

// Scripted tests of the normal case (§4.1, §4.2): the quorum rules and the
// prepared and committed-local predicates.

// signedPrePrepare is view's primary's pre-prepare of cmd at seq, cmd
// signed by its client as the workload's clients sign what they send.
func signedPrePrepare(tn *testNet, view, seq uint64, cmd service.Command) MsgPrePrepare {
	d := cmd.Digest()
	if !cmd.IsNoop() {
		tn.Sign(cmd.Client, d)
	}
	p := sim.NodeID(view % uint64(len(tn.Servers())))
	return MsgPrePrepare{View: view, Seq: seq, Digest: d, Cmd: cmd, Sig: tn.Sign(p, prePrepareDigest(view, seq, d))}
}

func signedPrepare(tn *testNet, from sim.NodeID, view, seq, d uint64) MsgPrepare {
	return MsgPrepare{SignedVote{View: view, Seq: seq, Digest: d, Sig: tn.Sign(from, prepareDigest(view, seq, d))}}
}

func signedCommit(tn *testNet, from sim.NodeID, view, seq, d uint64) MsgCommit {
	return MsgCommit{SignedVote{View: view, Seq: seq, Digest: d, Sig: tn.Sign(from, commitDigest(view, seq, d))}}
}

var (
	cmdA = service.Command{Client: 100, Seq: 1, Op: []byte("set a 1")}
	cmdB = service.Command{Client: 100, Seq: 1, Op: []byte("set a 2")}
)

func TestNormalCaseExecutesEverywhereAndReplies(t *testing.T) {
	tn := newTestNet(t, 4, testConfig())
	tn.StartAll()
	cmd := request(tn, 100, 1, "set a 1", 0)
	tn.Stabilize()
	for id := range sim.NodeID(4) {
		commits, applies := tn.Observed(id, sim.ObsCommit), tn.Observed(id, sim.ObsApply)
		require.Len(t, commits, 1, "replica %v", id)
		require.Equal(t, sim.Observation{Kind: sim.ObsCommit, Node: id, Incarnation: 1, Term: 0, Index: 1, Digest: cmd.Digest()}, commits[0])
		require.Len(t, applies, 1)
		require.Equal(t, uint64(1), applies[0].Index)
	}
	require.Len(t, tn.Replies, 4, "every replica replies to the client (§4.1)")
	for _, r := range tn.Replies {
		require.Equal(t, service.Reply{Client: 100, Seq: 1, Status: service.StatusOK, Result: []byte("ok")}, r)
	}
	require.Equal(t, []sim.Observation{{Kind: sim.ObsLeader, Node: 0, Incarnation: 1, Term: 0}}, tn.Observed(0, sim.ObsLeader))

	// A retry of an executed request gets the cached reply and runs nothing.
	tn.Replies = nil
	request(tn, 100, 1, "set a 1", 2)
	tn.Stabilize()
	require.Len(t, tn.Replies, 1)
	require.Len(t, tn.Observed(0, sim.ObsApply), 1)
}

func TestBackupRelaysAndStartsTheViewChangeTimer(t *testing.T) {
	tn := newTestNet(t, 4, testConfig())
	tn.StartAll()
	cmd := request(tn, 100, 1, "set a 1", 2)
	tn.Step()
	require.Equal(t, []envelope{{From: 2, To: 0, Msg: service.Request{Cmd: cmd}}}, tn.Queue)
	require.Equal(t, testConfig().RequestTimeout, tn.Env(2).Timers[timerRequest], "§4.4: the backup waits for the request")
	tn.Stabilize()
	require.NotContains(t, tn.Env(2).Timers, timerRequest, "executed: no longer waiting")
}

// backupWithPrePrepare starts replica 1 alone (its peers down) and delivers
// the primary's pre-prepare of cmdA at sequence number 1.
func backupWithPrePrepare(t *testing.T, n int, cfg Config) *testNet {
	tn := newTestNet(t, n, cfg)
	tn.Start(1)
	tn.Inject(0, 1, signedPrePrepare(tn, 0, 1, cmdA))
	tn.Step()
	return tn
}

func TestPreparedNeedsTwoFMatchingPreparesFromDistinctBackups(t *testing.T) {
	d := cmdA.Digest()
	tests := []struct {
		name     string
		n        int
		bugs     []string
		prepares func(tn *testNet) []envelope
		prepared bool
	}{
		{"own prepare and one more (f=1)", 4, nil, func(tn *testNet) []envelope {
			return []envelope{{From: 2, To: 1, Msg: signedPrepare(tn, 2, 0, 1, d)}}
		}, true},
		{"own prepare alone", 4, nil, func(tn *testNet) []envelope { return nil }, false},
		{"the primary's prepare does not count", 4, nil, func(tn *testNet) []envelope {
			return []envelope{{From: 0, To: 1, Msg: signedPrepare(tn, 0, 0, 1, d)}}
		}, false},
		{"a prepare for another digest does not count", 4, nil, func(tn *testNet) []envelope {
			return []envelope{{From: 2, To: 1, Msg: signedPrepare(tn, 2, 0, 1, cmdB.Digest())}}
		}, false},
		{"a prepare of another view does not count", 4, nil, func(tn *testNet) []envelope {
			return []envelope{{From: 2, To: 1, Msg: signedPrepare(tn, 2, 1, 1, d)}}
		}, false},
		{"a prepare signed by someone else does not count", 4, nil, func(tn *testNet) []envelope {
			return []envelope{{From: 2, To: 1, Msg: signedPrepare(tn, 3, 0, 1, d)}}
		}, false},
		{"a made-up signature does not count", 4, nil, func(tn *testNet) []envelope {
			return []envelope{{From: 2, To: 1, Msg: MsgPrepare{SignedVote{View: 0, Seq: 1, Digest: d, Sig: sim.Signature{Signer: 2, Digest: prepareDigest(0, 1, d)}}}}}
		}, false},
		{"f=2: a repeated prepare counts once", 7, nil, func(tn *testNet) []envelope {
			p := signedPrepare(tn, 2, 0, 1, d)
			return []envelope{{From: 2, To: 1, Msg: p}, {From: 2, To: 1, Msg: p}, {From: 3, To: 1, Msg: signedPrepare(tn, 3, 0, 1, d)}}
		}, false},
		{"f=2: own prepare and three more", 7, nil, func(tn *testNet) []envelope {
			return []envelope{{From: 2, To: 1, Msg: signedPrepare(tn, 2, 0, 1, d)}, {From: 3, To: 1, Msg: signedPrepare(tn, 3, 0, 1, d)}, {From: 5, To: 1, Msg: signedPrepare(tn, 5, 0, 1, d)}}
		}, true},
		{"planted quorum-2f: own prepare alone", 4, []string{BugQuorum2f}, func(tn *testNet) []envelope { return nil }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.Bugs = tt.bugs
			tn := backupWithPrePrepare(t, tt.n, cfg)
			tn.Queue = append(tn.Queue, tt.prepares(tn)...)
			tn.Stabilize()
			e := tn.Node(1).at(1)
			require.Equal(t, tt.prepared, e.certOK)
			require.Equal(t, tt.prepared, e.commitSent, "a commit goes out once prepared")
		})
	}
}

func TestPreparesBeforeThePrePrepareCount(t *testing.T) {
	tn := newTestNet(t, 4, testConfig())
	tn.Start(1)
	tn.Inject(2, 1, signedPrepare(tn, 2, 0, 1, cmdA.Digest()))
	tn.Step()
	require.False(t, tn.Node(1).at(1).certOK)
	tn.Inject(0, 1, signedPrePrepare(tn, 0, 1, cmdA))
	tn.Step()
	require.True(t, tn.Node(1).at(1).certOK)
}

func TestCommittedLocalNeedsPreparedAndTwoFPlusOneCommits(t *testing.T) {
	d := cmdA.Digest()
	tests := []struct {
		name      string
		bugs      []string
		prepared  bool
		commits   []sim.NodeID
		other     bool // the commits are for another digest
		committed bool
	}{
		{"prepared, own commit and two more", nil, true, []sim.NodeID{2, 3}, false, true},
		{"the primary's commit counts", nil, true, []sim.NodeID{0, 3}, false, true},
		{"own commit and one more", nil, true, []sim.NodeID{2}, false, false},
		{"commits for another digest", nil, true, []sim.NodeID{2, 3}, true, false},
		{"not prepared: commits alone do not do it", nil, false, []sim.NodeID{0, 2, 3}, false, false},
		{"planted quorum-2f: own commit and one more", []string{BugQuorum2f}, true, []sim.NodeID{2}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.Bugs = tt.bugs
			tn := backupWithPrePrepare(t, 4, cfg)
			if tt.prepared {
				tn.Inject(3, 1, signedPrepare(tn, 3, 0, 1, d))
			}
			for _, from := range tt.commits {
				cd := d
				if tt.other {
					cd = cmdB.Digest()
				}
				tn.Inject(from, 1, signedCommit(tn, from, 0, 1, cd))
			}
			tn.Stabilize()
			require.Equal(t, tt.committed, tn.Node(1).at(1).committed)
			require.Len(t, tn.Observed(1, sim.ObsApply), map[bool]int{true: 1}[tt.committed])
		})
	}
}

func TestPrePrepareAcceptance(t *testing.T) {
	good := func(tn *testNet) MsgPrePrepare { return signedPrePrepare(tn, 0, 1, cmdA) }
	tests := []struct {
		name   string
		from   sim.NodeID
		pp     func(tn *testNet) MsgPrePrepare
		accept bool
	}{
		{"from the primary", 0, good, true},
		{"from a backup", 2, good, false},
		{"a digest that is not the request's", 0, func(tn *testNet) MsgPrePrepare {
			pp := good(tn)
			pp.Digest = cmdB.Digest()
			pp.Sig = tn.Sign(0, prePrepareDigest(0, 1, pp.Digest))
			return pp
		}, false},
		{"signed by another replica", 0, func(tn *testNet) MsgPrePrepare {
			pp := good(tn)
			pp.Sig = tn.Sign(2, pp.Sig.Digest)
			return pp
		}, false},
		{"of another view", 1, func(tn *testNet) MsgPrePrepare { return signedPrePrepare(tn, 1, 1, cmdA) }, false},
		{"above the high water mark", 0, func(tn *testNet) MsgPrePrepare { return signedPrePrepare(tn, 0, 9, cmdA) }, false},
		{"at the high water mark", 0, func(tn *testNet) MsgPrePrepare { return signedPrePrepare(tn, 0, 8, cmdA) }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tn := newTestNet(t, 4, testConfig())
			tn.Start(1)
			pp := tt.pp(tn)
			tn.Inject(tt.from, 1, pp)
			tn.Step()
			e := tn.Node(1).at(pp.Seq)
			require.Equal(t, tt.accept, e != nil && e.pp.ok)
			require.Len(t, sentBy[MsgPrepare](tn, 1), map[bool]int{true: 3}[tt.accept])
		})
	}
}

func TestOnePrePreparePerViewAndSequenceNumber(t *testing.T) {
	tn := backupWithPrePrepare(t, 4, testConfig())
	tn.Queue = nil
	tn.Inject(0, 1, signedPrePrepare(tn, 0, 1, cmdB)) // an equivocating primary
	tn.Step()
	require.Equal(t, cmdA.Digest(), tn.Node(1).at(1).pp.digest, "§4.2: the first pre-prepare stands")
	require.Empty(t, tn.Queue, "no prepare for the conflicting request")
}

func TestRequestsExecuteInSequenceOrder(t *testing.T) {
	tn := newTestNet(t, 4, testConfig())
	tn.StartAll()
	// Sequence number 1's messages are held back; 2 commits first.
	var held []envelope
	tn.Drop = func(e envelope) bool {
		if seqOf(e.Msg) == 1 {
			held = append(held, e)
			return true
		}
		return false
	}
	request(tn, 100, 1, "set a 1", 0)
	request(tn, 101, 1, "set b 1", 0)
	tn.Stabilize()
	require.True(t, tn.Node(2).at(2).committed)
	require.Zero(t, tn.Node(2).exec, "2 waits for 1")
	tn.Drop = nil
	tn.Queue = append(tn.Queue, held...)
	tn.Stabilize()
	for id := range sim.NodeID(4) {
		applies := tn.Observed(id, sim.ObsApply)
		require.Len(t, applies, 2)
		require.Equal(t, []uint64{1, 2}, []uint64{applies[0].Index, applies[1].Index})
	}
}

// seqOf returns the sequence number of a normal-case message, or 0.
func seqOf(m sim.Message) uint64 {
	switch m := m.(type) {
	case MsgPrePrepare:
		return m.Seq
	case MsgPrepare:
		return m.Seq
	case MsgCommit:
		return m.Seq
	}
	return 0
}

// TestAReplicaCannotMakeUpAClientsRequest: requests are the client's own
// (§4.1, §4.2: signed by it), so a faulty replica that relays a request it
// made up in a client's name, or a faulty primary that pre-prepares one,
// gets nothing executed; the client's own request then runs as sent.
func TestAReplicaCannotMakeUpAClientsRequest(t *testing.T) {
	t.Run("relayed by a faulty backup", func(t *testing.T) {
		tn := newTestNet(t, 4, testConfig(), ByzantineReplica{ID: 3, Behaviour: BehaviourSilent})
		tn.StartAll()
		tn.Inject(3, 0, service.Request{Cmd: service.Command{Client: 100, Seq: 1, Op: []byte("set a evil")}})
		tn.Stabilize()
		require.Zero(t, tn.Node(0).exec, "the primary ordered a request client 100 never sent")
		for id := range sim.NodeID(3) {
			request(tn, 100, 1, "set a 1", id)
		}
		tn.Stabilize()
		request(tn, 101, 1, "get a", 0)
		tn.Stabilize()
		require.Equal(t, "1", string(tn.Replies[len(tn.Replies)-1].Result))
	})
	t.Run("pre-prepared by a faulty primary", func(t *testing.T) {
		tn := newTestNet(t, 4, testConfig(), ByzantineReplica{ID: 0, Behaviour: BehaviourSilent})
		tn.StartAll()
		forged := service.Command{Client: 100, Seq: 1000, Op: []byte("set a evil")}
		d := forged.Digest()
		pp := MsgPrePrepare{View: 0, Seq: 1, Digest: d, Cmd: forged, Sig: tn.Sign(0, prePrepareDigest(0, 1, d))}
		for _, id := range []sim.NodeID{1, 2, 3} {
			tn.Inject(0, id, pp)
		}
		tn.Stabilize()
		for _, id := range []sim.NodeID{1, 2, 3} {
			e := tn.Node(id).at(1)
			require.True(t, e == nil || !e.pp.ok, "n%d accepted a pre-prepare of a request client 100 never sent", id)
		}
	})
}
