package pbft

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/sim"
)

// Checkpoints, garbage collection, water marks and state transfer (§4.3).

// requests sends count requests from distinct clients to replica to,
// delivering each before the next.
func requests(tn *testNet, count int, to sim.NodeID) {
	for i := range count {
		request(tn, sim.NodeID(100+i), 1, "set k"+strconv.Itoa(i)+" v", to)
		tn.Stabilize()
	}
}

func TestStableCheckpointCollectsTheLog(t *testing.T) {
	tn := newTestNet(t, 4, testConfig()) // K=4, L=8
	tn.StartAll()
	requests(tn, 10, 0)
	for id := range sim.NodeID(4) {
		n := tn.Node(id)
		require.Equal(t, uint64(10), n.exec)
		require.Equal(t, uint64(8), n.h, "checkpoints 4 and 8 are stable")
		require.Equal(t, uint64(8), n.stable.Seq)
		require.Len(t, n.stable.Proof, 3, "2f+1 signed checkpoint messages")
		require.Equal(t, uint64(8), n.snap.cert.Seq, "the state at the stable checkpoint is kept")
		require.Len(t, n.log, 2, "only 9 and 10 are left")
		require.Equal(t, []string{entryKey(9), entryKey(10)}, tn.Disk(id).Keys(entryKeyPrefix))
		require.Empty(t, n.own, "no checkpoint above 8 yet")
		tn.Do(id, func(n *node) { require.True(t, n.validCheckpointCert(n.stable)) })
	}
}

// Checkpoint messages that were all lost are sent again at a status round a
// whole interval later, until the checkpoint is stable: otherwise no replica ever gathers
// 2f+1, the window never moves, and past h+L the primary assigns nothing.
func TestLostCheckpointMessagesAreSentAgain(t *testing.T) {
	tn := newTestNet(t, 4, testConfig()) // K=4
	tn.StartAll()
	tn.Drop = func(e envelope) bool { _, ok := e.Msg.(MsgCheckpoint); return ok }
	requests(tn, 4, 0)
	for id := range sim.NodeID(4) {
		require.Equal(t, uint64(4), tn.Node(id).exec)
		require.Zero(t, tn.Node(id).h, "n%d: every checkpoint message was lost", id)
	}
	tn.Drop = nil
	for id := range sim.NodeID(4) {
		tn.Fire(id, timerStatus)
	}
	tn.Stabilize()
	for id := range sim.NodeID(4) {
		require.Zero(t, tn.Node(id).h, "n%d: not sent again before a whole status interval passed", id)
	}
	tn.Advance(testConfig().StatusInterval)
	for id := range sim.NodeID(4) {
		tn.Fire(id, timerStatus)
	}
	tn.Stabilize()
	for id := range sim.NodeID(4) {
		require.Equal(t, uint64(4), tn.Node(id).h, "n%d: checkpoint 4 is stable", id)
	}
	tn.Advance(testConfig().StatusInterval)
	tn.Fire(0, timerStatus)
	for _, e := range tn.Take(nil) {
		_, again := e.Msg.(MsgCheckpoint)
		require.False(t, again, "a stable checkpoint is not sent again")
	}
}

func TestCheckpointNeedsAQuorumOfMatchingDigests(t *testing.T) {
	tn := newTestNet(t, 7, testConfig()) // f=2: 5 matching messages
	tn.Start(1)
	n := tn.Node(1)
	for _, c := range []struct {
		from   sim.NodeID
		digest uint64
		stable uint64
	}{
		{0, 7, 0}, {2, 7, 0}, {3, 8, 0},
		{3, 7, 0}, // a second message from 3 for the same sequence number is ignored
		{4, 7, 0}, {5, 7, 0},
		{6, 7, 4}, // the fifth for 7
	} {
		tn.Inject(c.from, 1, MsgCheckpoint{Seq: 4, Digest: c.digest, Sig: tn.Sign(c.from, checkpointDigest(4, c.digest))})
		tn.Step()
		require.Equal(t, c.stable, n.stable.Seq, "after %+v", c)
		require.Zero(t, n.h, "the log is kept until this replica has the state at the checkpoint")
	}
	var proof []sim.Signature
	for _, id := range []sim.NodeID{0, 2, 4, 5, 6} {
		proof = append(proof, sim.Signature{Signer: id, Digest: checkpointDigest(4, 7)})
	}
	require.Equal(t, CheckpointCert{Seq: 4, Digest: 7, Proof: proof}, n.stable)
	require.Zero(t, n.exec, "stable without the state: it must be fetched")
}

func TestWaterMarksBoundThePrimary(t *testing.T) {
	tn := newTestNet(t, 4, testConfig()) // L=8
	tn.StartAll()
	// The primary's messages are lost: nothing commits, the window stays at (0, 8].
	tn.Drop = func(e envelope) bool { return e.From == 0 && e.To != 0 && int(e.To) < 4 }
	requests(tn, 9, 0)
	p := tn.Node(0)
	require.Equal(t, uint64(9), p.next, "§4.2: sequence numbers 1..8 only")
	require.Len(t, p.queued, 1)

	// Retransmission fills the gaps; the checkpoints at 4 and 8 become
	// stable, the window moves, and the queued request is ordered.
	tn.Drop = nil
	tn.Advance(time.Second)
	tn.Fire(0, timerStatus)
	tn.Stabilize()
	for id := range sim.NodeID(4) {
		require.Equal(t, uint64(9), tn.Node(id).exec, "replica %v", id)
		require.Equal(t, uint64(8), tn.Node(id).h)
	}
	agreementHolds(t, tn.Obs)
}

func TestStateTransferToAReplicaBehind(t *testing.T) {
	tn := newTestNet(t, 4, testConfig())
	tn.StartAll()
	tn.Drop = func(e envelope) bool { return e.From == 3 || e.To == 3 }
	requests(tn, 10, 0)
	require.Zero(t, tn.Node(3).exec)
	tn.Drop = nil
	tn.Obs = nil

	// Replica 3's status reveals it is behind the others' stable
	// checkpoint: they send the state (8), then the certificates for 9, 10.
	tn.Fire(3, timerStatus)
	tn.Stabilize()
	require.Equal(t, uint64(8), tn.Node(3).exec)
	require.Equal(t, uint64(8), tn.Node(3).h)
	tn.Fire(3, timerStatus)
	tn.Stabilize()
	require.Equal(t, uint64(10), tn.Node(3).exec)
	applies := tn.Observed(3, sim.ObsApply)
	require.Len(t, applies, 3)
	require.Equal(t, tn.Node(0).at(9).done.Cmd.Digest(), applies[1].Digest)
	require.Equal(t, uint64(8), applies[0].Index)
	agreementHolds(t, append(tn.Observed(0, sim.ObsApply), applies...))
	require.Equal(t, tn.Node(0).sessions.LastApplied(107), tn.Node(3).sessions.LastApplied(107))
}

func TestStateTransferChecksTheDigest(t *testing.T) {
	tn := newTestNet(t, 4, testConfig())
	tn.StartAll()
	tn.Drop = func(e envelope) bool { return e.From == 3 || e.To == 3 }
	requests(tn, 8, 0)
	tn.Drop = nil
	good := MsgState{Checkpoint: tn.Node(0).snap.cert, Last: tn.Node(0).snap.last, Data: tn.Node(0).snap.data}
	bad := good
	bad.Data = append([]byte(nil), good.Data...)
	bad.Data[0] ^= 1
	forged := good
	forged.Checkpoint.Proof = forged.Checkpoint.Proof[:2]
	for _, m := range []MsgState{bad, forged} {
		tn.Inject(1, 3, m)
		tn.Stabilize()
		require.Zero(t, tn.Node(3).exec, "state that does not match a proven digest is refused")
	}
	tn.Inject(1, 3, good)
	tn.Stabilize()
	require.Equal(t, uint64(8), tn.Node(3).exec)
}

func TestCommitCertificatesCatchUpAReplica(t *testing.T) {
	tn := newTestNet(t, 4, testConfig())
	tn.StartAll()
	tn.Drop = func(e envelope) bool { return e.To == 3 }
	requests(tn, 3, 0)
	tn.Drop = nil
	certs := tn.Node(1).commitCerts(1, 0)
	require.Len(t, certs, 3)
	forged := certs[2]
	forged.Commits = []sim.Signature{certs[2].Commits[0], certs[2].Commits[0], certs[2].Commits[1]}
	short := certs[1]
	short.Commits = short.Commits[:2]
	tn.Inject(1, 3, MsgCommitted{Certs: []CommitCert{certs[0], short, forged}})
	tn.Stabilize()
	require.Equal(t, uint64(1), tn.Node(3).exec, "only the valid certificate counts")
	tn.Inject(1, 3, MsgCommitted{Certs: certs})
	tn.Stabilize()
	require.Equal(t, uint64(3), tn.Node(3).exec)
	agreementHolds(t, tn.Obs)
}
