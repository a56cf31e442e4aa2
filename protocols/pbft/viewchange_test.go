package pbft

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/internal/prototest"
	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

// View changes (§4.4, §4.5.2): certificates, their validation, and the
// new-view message.

// preparedEverywhere runs cmdA through pre-prepare and prepare at every
// replica of a 4-replica net, losing the commits: it is prepared at all of
// them and committed at none.
func preparedEverywhere(t *testing.T) *testNet {
	tn := newTestNet(t, 4, testConfig())
	tn.StartAll()
	tn.Drop = func(e envelope) bool { _, commit := e.Msg.(MsgCommit); return commit }
	request(tn, cmdA.Client, cmdA.Seq, string(cmdA.Op), 0)
	tn.Stabilize()
	for id := range sim.NodeID(4) {
		require.True(t, tn.Node(id).at(1).certOK)
		require.False(t, tn.Node(id).at(1).committed)
	}
	tn.Drop = nil
	return tn
}

func TestViewChangeCarriesPreparedRequestsIntoTheNewView(t *testing.T) {
	tn := preparedEverywhere(t)
	for _, id := range []sim.NodeID{2, 3} {
		tn.Do(id, func(n *node) { n.startViewChange(1) })
	}
	vcs := sentBy[MsgViewChange](tn, 2)
	require.Len(t, vcs, 3)
	require.Len(t, vcs[0].Prepared, 1, "P holds the prepared certificate")
	require.Equal(t, cmdA, vcs[0].Prepared[0].Cmd)
	tn.Stabilize() // 1, the new primary, joins on f+1 view changes and starts the view

	require.Equal(t, []sim.Observation{{Kind: sim.ObsLeader, Node: 1, Incarnation: 1, Term: 1}}, tn.Observed(1, sim.ObsLeader))
	for id := range sim.NodeID(4) {
		n := tn.Node(id)
		require.Equal(t, uint64(1), n.view, "replica %v", id)
		require.False(t, n.changing)
		commits := tn.Observed(id, sim.ObsCommit)
		require.Len(t, commits, 1)
		require.Equal(t, sim.Observation{Kind: sim.ObsCommit, Node: id, Incarnation: 1, Term: 1, Index: 1, Digest: cmdA.Digest()}, commits[0])
	}
	require.Equal(t, uint64(2), tn.Node(1).next, "new requests go after O")
	request(tn, 101, 1, "set b 1", 1)
	tn.Stabilize()
	require.Equal(t, uint64(2), tn.Node(3).exec)
	agreementHolds(t, tn.Obs)
}

func TestViewChangeTimerAndJoining(t *testing.T) {
	tn := newTestNet(t, 4, testConfig())
	tn.StartAll()
	tn.Drop = func(e envelope) bool { return e.From == 0 || e.To == 0 } // the primary is gone
	cmd := request(tn, 100, 1, "set a 1", 1)
	request(tn, 100, 1, "set a 1", 2)
	tn.Stabilize()
	tn.Advance(testConfig().RequestTimeout)
	tn.Fire(1, timerRequest)
	require.True(t, tn.Node(1).changing)
	require.NotContains(t, tn.Env(1).Timers, timerRequest,
		"§4.5.2: the timer for the new view waits until 2f+1 replicas asked for it")
	tn.Stabilize()
	require.False(t, tn.Node(3).changing, "one replica alone does not move the others")

	tn.Fire(2, timerRequest)
	tn.Stabilize()
	require.Equal(t, uint64(1), tn.Node(3).view, "f+1 view changes: replica 3 joins (§4.5.2)")
	require.False(t, tn.Node(1).changing, "2f+1: the new primary starts view 1")
	tn.Inject(100, 1, service.Request{Cmd: cmd}) // the client retries
	tn.Stabilize()
	for _, id := range []sim.NodeID{1, 2, 3} {
		require.Equal(t, uint64(1), tn.Node(id).exec)
	}
}

func TestNewViewOverdueDoublesTheWait(t *testing.T) {
	tn := newTestNet(t, 4, testConfig())
	tn.Start(2)
	T := testConfig().RequestTimeout
	tn.Do(2, func(n *node) {
		n.viewChanges[0].View, n.viewChanges[1].View = 100, 100 // 2f+1 with replica 2: its timer runs
		n.startViewChange(1)
	})
	require.Equal(t, T, tn.Env(2).Timers[timerRequest])
	tn.Fire(2, timerRequest)
	require.Equal(t, uint64(2), tn.Node(2).view)
	require.Equal(t, 2*T, tn.Env(2).Timers[timerRequest], "§4.5.2: then 2T")
	tn.Fire(2, timerRequest)
	require.Equal(t, 4*T, tn.Env(2).Timers[timerRequest])
}

// TestQuietViewDoublesTheRequestWait: a view entered by a view change that
// executes nothing before a request's timer runs out is a failure too
// (§4.5.2: the timer runs until the replica executes a request in the new
// view), so the next view's wait, and its requests', double; an execution
// brings the next view change's back to T, and requests wait at least twice
// as long as the slowest lately took. Without them a network whose
// requests take longer than T changes view for good (pbft-slow-network).
func TestQuietViewDoublesTheRequestWait(t *testing.T) {
	tn := newTestNet(t, 4, testConfig())
	tn.StartAll()
	T := testConfig().RequestTimeout
	tn.Drop = func(e envelope) bool { _, pp := e.Msg.(MsgPrePrepare); return pp } // nothing is ordered
	for id := range sim.NodeID(4) {
		request(tn, 100, 1, "set x 1", id)
	}
	tn.Stabilize()
	changeView := func(backups ...sim.NodeID) {
		tn.Advance(8 * T) // past every wait
		for _, id := range backups {
			tn.Fire(id, timerRequest)
		}
		tn.Stabilize()
	}
	changeView(1, 2, 3)
	require.Equal(t, uint64(1), tn.Node(2).view)
	require.False(t, tn.Node(2).changing)
	require.Equal(t, T, tn.Env(2).Timers[timerRequest], "the first new view came in time: T")

	changeView(0, 2, 3)
	require.Equal(t, uint64(2), tn.Node(3).view)
	require.False(t, tn.Node(3).changing)
	require.Equal(t, 2*T, tn.Env(3).Timers[timerRequest], "view 1 executed nothing: 2T")

	tn.Drop = nil
	request(tn, 100, 1, "set x 1", 2)
	tn.Stabilize()
	require.Equal(t, uint64(1), tn.Node(3).exec)
	require.Zero(t, tn.Node(3).failures, "view 2 executed a request: the next view change waits T")
	request(tn, 100, 2, "set x 2", 3)
	tn.Step() // the request reaches backup 3 alone
	require.Equal(t, 2*T, tn.Env(3).Timers[timerRequest], "view 2 keeps the wait it began with")

	tn.Advance(3 * T) // the request takes 3T to execute
	tn.Stabilize()
	request(tn, 100, 3, "set x 3", 3)
	tn.Step()
	require.Equal(t, 6*T, tn.Env(3).Timers[timerRequest], "twice the slowest execution lately")
}

// TestLaggingReplicasCatchUpWithTheAheadOnes: two correct replicas that
// restarted run one view ahead of three others (n=7, f=2: fewer than f+1,
// so they cannot pull the rest along). The ahead ones wait, because fewer
// than 2f+1 replicas asked for their view; the ones behind time out and
// reach it; then the view starts. Before this rule, both groups waited the
// same capped backoff and stayed a view apart for good (a sweep found it).
func TestLaggingReplicasCatchUpWithTheAheadOnes(t *testing.T) {
	tn := newTestNet(t, 7, testConfig())
	for _, id := range []sim.NodeID{0, 1, 2, 3, 5} {
		tn.Start(id) // 4 and 6 are silent: never started
	}
	for _, id := range []sim.NodeID{1, 3, 5} {
		tn.Do(id, func(n *node) { n.startViewChange(1) })
	}
	for _, id := range []sim.NodeID{0, 2} {
		tn.Do(id, func(n *node) { n.startViewChange(1) })
		tn.Do(id, func(n *node) { n.startViewChange(2) })
	}
	tn.Stabilize()
	for _, id := range []sim.NodeID{0, 2} {
		require.NotContains(t, tn.Env(id).Timers, timerRequest, "replica %v waits ahead: only 2 asked for view 2", id)
	}
	for _, id := range []sim.NodeID{1, 3, 5} {
		require.Contains(t, tn.Env(id).Timers, timerRequest, "replica %v is behind with 5 at views >= 1: its timer runs", id)
		tn.Fire(id, timerRequest)
	}
	tn.Stabilize()
	for _, id := range []sim.NodeID{0, 1, 2, 3, 5} {
		require.Equal(t, uint64(2), tn.Node(id).view, "replica %v", id)
		require.False(t, tn.Node(id).changing, "replica %v is in view 2, started by replica 2", id)
	}
}

// aViewChange returns a valid view-change message of replica 2 for view 1
// carrying cmdA's prepared certificate, and the net.
func aViewChange(t *testing.T) (*testNet, MsgViewChange) {
	tn := preparedEverywhere(t)
	tn.Do(2, func(n *node) { n.startViewChange(1) })
	return tn, sentBy[MsgViewChange](tn, 2)[0]
}

func TestForgedViewChangesAreRejected(t *testing.T) {
	resign := func(tn *testNet, vc *MsgViewChange) { vc.Sig = tn.Sign(vc.Replica, viewChangeDigest(vc)) }
	forged := service.Command{Client: 2, Seq: 1, Op: []byte("forged")}
	fd := forged.Digest()
	tests := []struct {
		name   string
		forge  func(tn *testNet, vc *MsgViewChange)
		valid  bool
		reason string
	}{
		{"as sent", func(*testNet, *MsgViewChange) {}, true, ""},
		{"stale: nothing stable, nothing prepared", func(tn *testNet, vc *MsgViewChange) {
			vc.Prepared = nil
			resign(tn, vc)
		}, true, "a replica that lost everything looks like this"},
		{"made-up signatures", func(tn *testNet, vc *MsgViewChange) {
			vc.Prepared[0] = PreparedCert{View: 0, Seq: 1, Cmd: forged,
				PrePrepare: madeUp(0, prePrepareDigest(0, 1, fd)),
				Prepares:   []sim.Signature{madeUp(1, prepareDigest(0, 1, fd)), madeUp(3, prepareDigest(0, 1, fd))}}
			resign(tn, vc)
		}, false, "signers that never signed"},
		{"too few prepares", func(tn *testNet, vc *MsgViewChange) {
			vc.Prepared[0].Prepares = vc.Prepared[0].Prepares[:1]
			resign(tn, vc)
		}, false, ""},
		{"the same prepare twice", func(tn *testNet, vc *MsgViewChange) {
			p := vc.Prepared[0].Prepares
			vc.Prepared[0].Prepares = []sim.Signature{p[0], p[0]}
			resign(tn, vc)
		}, false, ""},
		{"a prepare by the primary", func(tn *testNet, vc *MsgViewChange) {
			vc.Prepared[0].Prepares = []sim.Signature{vc.Prepared[0].Prepares[0], tn.Sign(0, prepareDigest(0, 1, cmdA.Digest()))}
			resign(tn, vc)
		}, false, "the primary pre-prepares, it does not prepare"},
		{"a pre-prepare not by the primary", func(tn *testNet, vc *MsgViewChange) {
			vc.Prepared[0].PrePrepare = tn.Sign(3, prePrepareDigest(0, 1, cmdA.Digest()))
			resign(tn, vc)
		}, false, ""},
		{"another request under genuine signatures", func(tn *testNet, vc *MsgViewChange) {
			vc.Prepared[0].Cmd = cmdB
			resign(tn, vc)
		}, false, "signatures are of the digest"},
		{"tampered after signing", func(tn *testNet, vc *MsgViewChange) {
			vc.Prepared = nil
		}, false, ""},
		{"signed by another replica", func(tn *testNet, vc *MsgViewChange) {
			vc.Sig = tn.Sign(3, viewChangeDigest(vc))
		}, false, ""},
		{"a certificate from the new view", func(tn *testNet, vc *MsgViewChange) {
			vc.Prepared[0].View = 1
			resign(tn, vc)
		}, false, ""},
		{"a certificate beyond the window", func(tn *testNet, vc *MsgViewChange) {
			vc.Prepared[0].Seq = 9
			resign(tn, vc)
		}, false, ""},
		{"a stable checkpoint with a made-up proof", func(tn *testNet, vc *MsgViewChange) {
			vc.Stable = CheckpointCert{Seq: 4, Digest: 5, Proof: []sim.Signature{
				madeUp(0, checkpointDigest(4, 5)), madeUp(1, checkpointDigest(4, 5)), madeUp(3, checkpointDigest(4, 5))}}
			vc.Prepared = nil
			resign(tn, vc)
		}, false, ""},
		{"a stable checkpoint with too short a proof", func(tn *testNet, vc *MsgViewChange) {
			vc.Stable = CheckpointCert{Seq: 4, Digest: 5, Proof: []sim.Signature{
				tn.Sign(0, checkpointDigest(4, 5)), tn.Sign(1, checkpointDigest(4, 5))}}
			vc.Prepared = nil
			resign(tn, vc)
		}, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tn, vc := aViewChange(t)
			vc.Prepared = append([]PreparedCert(nil), vc.Prepared...)
			tt.forge(tn, &vc)
			tn.Do(3, func(n *node) { require.Equal(t, tt.valid, n.checkViewChange(&vc) == vcValid, tt.reason) })
			// Delivered to the new primary, an invalid one is not logged.
			tn.Queue = nil
			tn.Inject(2, 1, vc)
			tn.Step()
			require.Equal(t, tt.valid, tn.Node(1).viewChanges[2].View == 1)
		})
	}
}

func TestComputeNewView(t *testing.T) {
	x := service.Command{Client: 100, Seq: 1, Op: []byte("x")}
	y := service.Command{Client: 101, Seq: 1, Op: []byte("y")}
	z := service.Command{Client: 102, Seq: 1, Op: []byte("z")}
	cert := func(view, seq uint64, cmd service.Command) PreparedCert {
		return PreparedCert{View: view, Seq: seq, Cmd: cmd}
	}
	stable4 := CheckpointCert{Seq: 4, Digest: 9}
	tests := []struct {
		name   string
		vcs    []MsgViewChange
		stable uint64
		cmds   []service.Command
	}{
		{"nothing prepared", []MsgViewChange{{}, {}, {}}, 0, []service.Command{}},
		{"the certificate of the highest view wins; gaps get null requests", []MsgViewChange{
			{Prepared: []PreparedCert{cert(0, 1, x), cert(0, 3, y)}},
			{Prepared: []PreparedCert{cert(2, 1, z)}},
			{},
		}, 0, []service.Command{z, service.Noop, y}},
		{"min-s is the latest stable checkpoint; below it nothing is re-issued", []MsgViewChange{
			{Stable: stable4},
			{Prepared: []PreparedCert{cert(0, 2, x), cert(0, 6, y)}},
			{},
		}, 4, []service.Command{service.Noop, y}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := &node{}
			stable, cmds := n.computeNewView(tt.vcs)
			require.Equal(t, tt.stable, stable.Seq)
			require.Equal(t, tt.cmds, cmds)
		})
	}
}

// aNewView returns the new-view message replica 1 builds for view 1 from the
// view changes of 1, 2 and 3, with cmdA prepared, before anyone receives it.
func aNewView(t *testing.T) (*testNet, MsgNewView) {
	tn := preparedEverywhere(t)
	for _, id := range []sim.NodeID{2, 3, 1} {
		tn.Do(id, func(n *node) { n.startViewChange(1) })
	}
	tn.Drop = func(e envelope) bool { _, nv := e.Msg.(MsgNewView); return nv }
	tn.Stabilize()
	tn.Drop = nil
	nv := tn.Node(1).newView
	require.Equal(t, uint64(1), nv.View)
	require.Len(t, nv.ViewChanges, 3)
	require.Len(t, nv.PrePrepares, 1)
	require.Equal(t, cmdA, nv.PrePrepares[0].Cmd)
	return tn, nv
}

func TestNewViewValidation(t *testing.T) {
	tests := []struct {
		name  string
		forge func(tn *testNet, nv *MsgNewView)
		valid bool
	}{
		{"as sent", func(*testNet, *MsgNewView) {}, true},
		{"another request in O, signed by the primary", func(tn *testNet, nv *MsgNewView) {
			pp := &nv.PrePrepares[0]
			pp.Cmd, pp.Digest = cmdB, cmdB.Digest()
			pp.Sig = tn.Sign(1, prePrepareDigest(1, 1, pp.Digest))
		}, false},
		{"a null request in O where one prepared", func(tn *testNet, nv *MsgNewView) {
			pp := &nv.PrePrepares[0]
			pp.Cmd, pp.Digest = service.Noop, noopDigest
			pp.Sig = tn.Sign(1, prePrepareDigest(1, 1, pp.Digest))
		}, false},
		{"O missing a pre-prepare", func(tn *testNet, nv *MsgNewView) { nv.PrePrepares = nil }, false},
		{"O signed by a backup", func(tn *testNet, nv *MsgNewView) {
			nv.PrePrepares[0].Sig = tn.Sign(2, nv.PrePrepares[0].Sig.Digest)
		}, false},
		{"2f view changes", func(tn *testNet, nv *MsgNewView) { nv.ViewChanges = nv.ViewChanges[:2] }, false},
		{"one view change twice", func(tn *testNet, nv *MsgNewView) {
			nv.ViewChanges = []MsgViewChange{nv.ViewChanges[0], nv.ViewChanges[1], nv.ViewChanges[1]}
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tn, nv := aNewView(t)
			nv.PrePrepares = append([]MsgPrePrepare(nil), nv.PrePrepares...)
			nv.ViewChanges = append([]MsgViewChange(nil), nv.ViewChanges...)
			tt.forge(tn, &nv)
			tn.Inject(1, 3, nv)
			tn.Step()
			require.Equal(t, tt.valid, !tn.Node(3).changing)
		})
	}
}

func TestNewViewIsRelayedToAReplicaLeftBehind(t *testing.T) {
	tn, _ := aNewView(t)
	tn.Inject(1, 2, tn.Node(1).newView)
	tn.Stabilize()
	require.True(t, tn.Node(3).changing, "3 missed the new view")
	tn.Fire(3, timerStatus) // its status shows it waiting; 1 and 2 relay the new view
	tn.Stabilize()
	require.False(t, tn.Node(3).changing)
	require.Equal(t, uint64(1), tn.Node(3).exec)
	agreementHolds(t, tn.Obs)
}

func TestAReplicaThatKeepsExecutingDoesNotRunAhead(t *testing.T) {
	tn := newTestNet(t, 4, testConfig())
	tn.StartAll()
	tn.Do(3, func(n *node) { n.startViewChange(1) }) // alone: the others stay in view 0
	tn.Stabilize()
	requests(tn, 2, 0)
	tn.Fire(3, timerStatus)
	tn.Stabilize()
	require.Equal(t, uint64(2), tn.Node(3).exec, "it executes from the others' certificates")
	tn.Advance(time.Second)
	tn.Fire(3, timerRequest)
	require.Equal(t, uint64(1), tn.Node(3).view, "progress elsewhere: it waits again instead of moving on")
	tn.Fire(3, timerRequest)
	require.Equal(t, uint64(2), tn.Node(3).view, "no progress: on to the next view")
}

// A replica that learned a stable checkpoint (2f+1 proofs) before it
// executed that far sends, in its view change, only the certificates past
// that checkpoint, as §4.4 has it: its log below it is still there, and a
// view change carrying those certificates fails every other replica's check
// (a new primary's new-view with it was rejected forever in a swarm sweep,
// pbft-byz-crash-n4 seed 100061).
func TestViewChangeCarriesOnlyCertificatesPastTheStableCheckpoint(t *testing.T) {
	tn := newTestNet(t, 4, testConfig())
	tn.StartAll()
	tn.Drop = func(e envelope) bool { _, commit := e.Msg.(MsgCommit); return commit && e.To == 3 }
	requests(tn, 10, 0)
	tn.Drop = nil
	n3 := tn.Node(3)
	require.Zero(t, n3.exec, "replica 3 prepared everything and committed nothing")
	require.Equal(t, uint64(8), n3.stable.Seq, "but it holds the proof that 8 is stable")
	require.Less(t, n3.h, n3.stable.Seq)
	for seq := uint64(1); seq <= 8; seq++ {
		require.True(t, n3.at(seq).certOK, "its log still holds the certificate of %d", seq)
	}

	tn.Do(3, func(n *node) { n.startViewChange(1) })
	vcs := sentBy[MsgViewChange](tn, 3)
	require.NotEmpty(t, vcs)
	vc := vcs[0]
	require.Empty(t, vc.Prepared, "the checkpoint covers every certificate it has (9 and 10 were past its window)")
	require.Equal(t, uint64(8), vc.Stable.Seq)
	fault := vcBadSignature
	tn.Do(0, func(n *node) { fault = n.checkViewChange(&vc) })
	require.Equal(t, vcValid, fault, "another replica takes it")
}

// TestLaggingNewPrimarySignsOnePrePreparePerNumber: a replica that becomes
// primary while it lags behind the stable checkpoint skips the pre-prepares
// of its own new-view that lie beyond its window; once state transfer moves
// the window there, it accepts them and orders new requests after them,
// instead of signing a second pre-prepare for one of their numbers (which
// the backups refuse as conflicting, stalling the view until the next
// view change). The same holds when it restarts before the transfer: the
// new-view it kept on disk says which numbers it assigned, also when some
// of them lie in its window and some beyond it.
func TestLaggingNewPrimarySignsOnePrePreparePerNumber(t *testing.T) {
	t.Run("running", func(t *testing.T) { laggingNewPrimary(t, false, false) })
	t.Run("restarted before the transfer", func(t *testing.T) { laggingNewPrimary(t, true, false) })
	t.Run("restarted, its new-view across its window's end", func(t *testing.T) { laggingNewPrimary(t, true, true) })
}

// laggingNewPrimary has n1 miss requests 1-9 (or, across, 5-13, its
// window then ending at 12 inside the new view's 9-13) and then lead view 1.
func laggingNewPrimary(t *testing.T, restart, across bool) {
	tn := newTestNet(t, 4, testConfig()) // K=4, L=8
	tn.StartAll()
	behind, last := uint64(0), uint64(9) // n1's low water mark, the last number ordered
	if across {
		requests(tn, 4, 0)
		behind, last = 4, 13
	}
	tn.Drop = func(e envelope) bool { // n1 hears nothing; the checkpoint at 12 is lost, so 8 is stable
		cp, ok := e.Msg.(MsgCheckpoint)
		return e.To == 1 || (ok && cp.Seq == 12)
	}
	for i := range 9 {
		request(tn, sim.NodeID(300+i), 1, "set j"+strconv.Itoa(i)+" v", 0)
		tn.Stabilize()
	}
	tn.Drop = func(e envelope) bool { _, vc := e.Msg.(MsgViewChange); return e.To == 1 && !vc }
	for _, id := range []sim.NodeID{2, 3} {
		tn.Do(id, func(n *node) { n.startViewChange(1) })
	}
	tn.Stabilize()
	if restart {
		tn.Crash(1)
		tn.Restart(1)
	}
	primary := tn.Node(1)
	require.Equal(t, uint64(1), primary.view)
	require.False(t, primary.changing)
	require.Equal(t, behind, primary.h, "the new primary entered the view behind the stable checkpoint")
	ordered := map[uint64]uint64{} // seq -> digest of the new view's pre-prepares
	for _, pp := range primary.newView.PrePrepares {
		ordered[pp.Seq] = pp.Digest
	}
	require.Contains(t, ordered, last, "the new-view re-issues the requests prepared past the checkpoint")

	signed := map[uint64][]uint64{} // seq -> digests n1 sent pre-prepares for in view 1
	tn.Drop = func(e envelope) bool {
		if pp, ok := e.Msg.(MsgPrePrepare); ok && e.From == 1 && pp.View == 1 {
			signed[pp.Seq] = append(signed[pp.Seq], pp.Digest)
		}
		return false
	}
	tn.Do(1, func(n *node) { n.tickStatus() }) // state transfer to the checkpoint
	tn.Stabilize()
	require.Equal(t, uint64(8), primary.h)
	request(tn, 200, 1, "set y 1", 1)
	tn.Stabilize()
	tn.Do(1, func(n *node) { n.tickStatus() }) // the prepares it missed, as commit certificates
	tn.Stabilize()
	for seq, digests := range signed {
		if want, ok := ordered[seq]; ok {
			require.Equal(t, []uint64{want}, digests, "seq %d: only the new-view's own pre-prepare", seq)
		}
	}
	for id := range sim.NodeID(4) {
		require.GreaterOrEqual(t, tn.Node(id).exec, last+1, "n%d executed the new view's requests and the new one", id)
	}
	tn.RequireSafe(t)
}

// A replica whose view-change message left remembers the view change across
// a crash that cuts the step right after the send (a mid-step crash: the
// handler's end, which syncs everything, never comes). Written after the
// message, the view was lost to such a crash, and the replica came back in
// the old view, free to prepare and commit there after telling the others it
// had left it.
func TestViewChangeSentOnlyAfterTheViewIsSynced(t *testing.T) {
	tn := newTestNet(t, 4, testConfig())
	tn.StartAll()
	tn.Stabilize()
	tn.Within(2, func(n *node, env *prototest.Env) {
		n.env = env
		n.startViewChange(1) // no finish: the crash cuts the step here
	})
	require.NotEmpty(t, sentBy[MsgViewChange](tn, 2), "the view change was sent")
	tn.Restart(2)
	n := tn.Node(2)
	require.Equal(t, uint64(1), n.view, "the restarted replica went back to the view it left")
	require.True(t, n.changing)
}

// TestNewPrimaryKeepsToThePrePreparesItLogged: a new primary whose log holds
// pre-prepares of its view that its new-view does not (it signed them for a
// new-view of its own that a crash cut short, the new-view's record lost
// and those entries kept, on a disk that reorders unsynced writes) orders
// new requests after them. Numbering from the new-view alone, it signed a
// second pre-prepare for one of their numbers, the equivocation of a
// correct primary a swarm sweep of pbft-reordered-mid-step caught.
func TestNewPrimaryKeepsToThePrePreparesItLogged(t *testing.T) {
	tn := newTestNet(t, 4, testConfig())
	tn.StartAll()
	tn.Do(1, func(n *node) {
		n.startViewChange(1)
		for seq, cmd := range map[uint64]service.Command{1: cmdA, 2: {Client: 101, Seq: 1, Op: []byte("set b 1")}} {
			e := n.ensure(seq)
			e.pp = prePrepare{ok: true, view: 1, digest: cmd.Digest(), cmd: cmd, sig: n.sign(prePrepareDigest(1, seq, cmd.Digest()))}
			n.writeEntry(seq, e)
		}
	})
	tn.Stabilize()
	signed := newPrimaryTakesView1(t, tn)
	primary := tn.Node(1)
	require.Empty(t, primary.newView.PrePrepares, "nothing prepared: the new-view re-issues nothing")
	require.Equal(t, uint64(3), primary.next, "new requests go after the numbers it logged")
	request(tn, 102, 1, "set c 1", 1)
	tn.Stabilize()
	tn.Do(1, func(n *node) { n.tickStatus() })
	tn.Stabilize()
	for seq, digests := range signed {
		for _, d := range digests {
			require.Equal(t, digests[0], d, "seq %d: one pre-prepare per number", seq)
		}
	}
	require.Contains(t, signed, uint64(3), "the new request got number 3")
	tn.RequireSafe(t)
}

// TestNewPrimaryTakesItsNewViewOverWhatItLogged: the pre-prepares a torn
// new-view attempt left in the new primary's log may differ from those of
// the new-view it then sends (other view changes, other certificates): for
// the numbers the new-view re-issues, the new-view's stand, at the primary
// as at the backups, or it would retransmit a second pre-prepare for them.
func TestNewPrimaryTakesItsNewViewOverWhatItLogged(t *testing.T) {
	tn := preparedEverywhere(t) // cmdA prepared at number 1 everywhere, committed nowhere
	tn.Do(1, func(n *node) {
		n.startViewChange(1)
		e := n.ensure(1)
		e.pp = prePrepare{ok: true, view: 1, digest: cmdB.Digest(), cmd: cmdB, sig: n.sign(prePrepareDigest(1, 1, cmdB.Digest()))}
		n.writeEntry(1, e)
	})
	tn.Stabilize()
	signed := newPrimaryTakesView1(t, tn)
	primary := tn.Node(1)
	require.Equal(t, cmdA.Digest(), primary.at(1).pp.digest, "the new-view's pre-prepare, not the one it logged")
	tn.Do(1, func(n *node) { n.at(1).sentAt = 0; n.retransmit() })
	tn.Stabilize()
	require.NotEmpty(t, signed[1])
	for _, d := range signed[1] {
		require.Equal(t, cmdA.Digest(), d, "one pre-prepare for number 1")
	}
	tn.RequireSafe(t)
}

// newPrimaryTakesView1 has n2 and n3 ask for view 1, which n1, changing to
// it already, then starts as its primary; it returns, by number, the
// digests of the pre-prepares n1 sends in view 1 from then on, those of its
// new-view included.
func newPrimaryTakesView1(t *testing.T, tn *testNet) map[uint64][]uint64 {
	t.Helper()
	signed := map[uint64][]uint64{}
	tn.Drop = func(e envelope) bool {
		switch m := e.Msg.(type) {
		case MsgPrePrepare:
			if e.From == 1 && m.View == 1 {
				signed[m.Seq] = append(signed[m.Seq], m.Digest)
			}
		case MsgNewView:
			for _, pp := range m.PrePrepares {
				signed[pp.Seq] = append(signed[pp.Seq], pp.Digest)
			}
		}
		return false
	}
	for _, id := range []sim.NodeID{2, 3} {
		tn.Do(id, func(n *node) { n.startViewChange(1) })
	}
	tn.Stabilize()
	require.Equal(t, uint64(1), tn.Node(1).view)
	require.False(t, tn.Node(1).changing)
	return signed
}

// A correct primary that enters its view behind the stable checkpoint of the
// view changes (min-s) with nothing to re-issue numbers new requests after
// min-s (§4.4), not from its own low water mark: numbered at or below it,
// every backup with the checkpoint refused the pre-prepare (out of its
// window), and the primary, taking the request for ordered, ignored the
// client's retries after state transfer; the backups' timers then deposed
// a correct primary.
func TestLaggingPrimaryWithNothingToReissueNumbersAfterTheCheckpoint(t *testing.T) {
	tn := newTestNet(t, 4, testConfig()) // K=4, L=8
	tn.StartAll()
	tn.Drop = func(e envelope) bool { return e.To == 1 } // n1 misses requests 1-8
	requests(tn, 8, 0)
	for _, id := range []sim.NodeID{0, 2, 3} {
		require.Equal(t, uint64(8), tn.Node(id).h)
	}
	require.Zero(t, tn.Node(1).exec)
	// View change to view 1 (primary n1): n1 hears the view changes only.
	tn.Drop = func(e envelope) bool { _, vc := e.Msg.(MsgViewChange); return e.To == 1 && !vc }
	for _, id := range []sim.NodeID{2, 3} {
		tn.Do(id, func(n *node) { n.startViewChange(1) })
	}
	tn.Stabilize()
	p := tn.Node(1)
	require.Equal(t, uint64(1), p.view)
	require.False(t, p.changing)
	require.Empty(t, p.newView.PrePrepares, "O is empty: everything up to min-s=8 committed")
	require.Equal(t, uint64(8), p.stable.Seq)
	require.Zero(t, p.h, "n1 entered view 1 behind the stable checkpoint")

	// A client's request reaches the new primary before state transfer does.
	tn.Drop = nil
	cmd := request(tn, 200, 1, "set y 1", 1)
	tn.Stabilize()
	require.Greater(t, p.next, uint64(8), "a correct primary never assigns a number at or below min-s (assigned %d)", p.next-1)

	// State transfer, then the client retries to every replica.
	tn.Do(1, func(n *node) { n.tickStatus() })
	tn.Stabilize()
	require.Equal(t, uint64(8), p.h)
	for id := range sim.NodeID(4) {
		request(tn, 200, 1, "set y 1", id)
	}
	tn.Stabilize()
	for id := range sim.NodeID(4) {
		require.Equal(t, uint64(1), tn.Node(id).sessions.LastApplied(200), "n%d executed %v", id, cmd)
	}
}
