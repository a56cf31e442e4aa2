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
		tn.request(sim.NodeID(100+i), 1, "set k"+strconv.Itoa(i)+" v", to)
		tn.run()
	}
}

func TestStableCheckpointCollectsTheLog(t *testing.T) {
	tn := newTestNet(t, 4, testConfig()) // K=4, L=8
	tn.startAll()
	requests(tn, 10, 0)
	for id := range sim.NodeID(4) {
		n := tn.nodes[id]
		require.Equal(t, uint64(10), n.exec)
		require.Equal(t, uint64(8), n.h, "checkpoints 4 and 8 are stable")
		require.Equal(t, uint64(8), n.stable.Seq)
		require.Len(t, n.stable.Proof, 3, "2f+1 signed checkpoint messages")
		require.Equal(t, uint64(8), n.snap.cert.Seq, "the state at the stable checkpoint is kept")
		require.Len(t, n.log, 2, "only 9 and 10 are left")
		require.Equal(t, []string{entryKey(9), entryKey(10)}, tn.envs[id].disk.Keys(entryKeyPrefix))
		require.Empty(t, n.own, "no checkpoint above 8 yet")
		tn.do(id, func(n *node) { require.True(t, n.validCheckpointCert(n.stable)) })
	}
}

func TestCheckpointNeedsAQuorumOfMatchingDigests(t *testing.T) {
	tn := newTestNet(t, 7, testConfig()) // f=2: 5 matching messages
	tn.start(1)
	n := tn.nodes[1]
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
		tn.inject(c.from, 1, MsgCheckpoint{Seq: 4, Digest: c.digest, Sig: tn.sign(c.from, checkpointDigest(4, c.digest))})
		tn.step()
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
	tn.startAll()
	// The primary's messages are lost: nothing commits, the window stays at (0, 8].
	tn.drop = func(e envelope) bool { return e.from == 0 && e.to != 0 && int(e.to) < 4 }
	requests(tn, 9, 0)
	p := tn.nodes[0]
	require.Equal(t, uint64(9), p.next, "§4.2: sequence numbers 1..8 only")
	require.Len(t, p.queued, 1)

	// Retransmission fills the gaps; the checkpoints at 4 and 8 become
	// stable, the window moves, and the queued request is ordered.
	tn.drop = nil
	tn.advance(time.Second)
	tn.fire(0, timerStatus)
	tn.run()
	for id := range sim.NodeID(4) {
		require.Equal(t, uint64(9), tn.nodes[id].exec, "replica %v", id)
		require.Equal(t, uint64(8), tn.nodes[id].h)
	}
	agreementHolds(t, tn.obs)
}

func TestStateTransferToAReplicaBehind(t *testing.T) {
	tn := newTestNet(t, 4, testConfig())
	tn.startAll()
	tn.drop = func(e envelope) bool { return e.from == 3 || e.to == 3 }
	requests(tn, 10, 0)
	require.Zero(t, tn.nodes[3].exec)
	tn.drop = nil
	tn.obs = nil

	// Replica 3's status reveals it is behind the others' stable
	// checkpoint: they send the state (8), then the certificates for 9, 10.
	tn.fire(3, timerStatus)
	tn.run()
	require.Equal(t, uint64(8), tn.nodes[3].exec)
	require.Equal(t, uint64(8), tn.nodes[3].h)
	tn.fire(3, timerStatus)
	tn.run()
	require.Equal(t, uint64(10), tn.nodes[3].exec)
	applies := tn.observed(3, sim.ObsApply)
	require.Len(t, applies, 3)
	require.Equal(t, tn.nodes[0].at(9).done.Cmd.Digest(), applies[1].Digest)
	require.Equal(t, uint64(8), applies[0].Index)
	agreementHolds(t, append(tn.observed(0, sim.ObsApply), applies...))
	require.Equal(t, tn.nodes[0].sessions.LastApplied(107), tn.nodes[3].sessions.LastApplied(107))
}

func TestStateTransferChecksTheDigest(t *testing.T) {
	tn := newTestNet(t, 4, testConfig())
	tn.startAll()
	tn.drop = func(e envelope) bool { return e.from == 3 || e.to == 3 }
	requests(tn, 8, 0)
	tn.drop = nil
	good := MsgState{Checkpoint: tn.nodes[0].snap.cert, Last: tn.nodes[0].snap.last, Data: tn.nodes[0].snap.data}
	bad := good
	bad.Data = append([]byte(nil), good.Data...)
	bad.Data[0] ^= 1
	forged := good
	forged.Checkpoint.Proof = forged.Checkpoint.Proof[:2]
	for _, m := range []MsgState{bad, forged} {
		tn.inject(1, 3, m)
		tn.run()
		require.Zero(t, tn.nodes[3].exec, "state that does not match a proven digest is refused")
	}
	tn.inject(1, 3, good)
	tn.run()
	require.Equal(t, uint64(8), tn.nodes[3].exec)
}

func TestCommitCertificatesCatchUpAReplica(t *testing.T) {
	tn := newTestNet(t, 4, testConfig())
	tn.startAll()
	tn.drop = func(e envelope) bool { return e.to == 3 }
	requests(tn, 3, 0)
	tn.drop = nil
	certs := tn.nodes[1].commitCerts(1, 0)
	require.Len(t, certs, 3)
	forged := certs[2]
	forged.Commits = []sim.Signature{certs[2].Commits[0], certs[2].Commits[0], certs[2].Commits[1]}
	short := certs[1]
	short.Commits = short.Commits[:2]
	tn.inject(1, 3, MsgCommitted{Certs: []CommitCert{certs[0], short, forged}})
	tn.run()
	require.Equal(t, uint64(1), tn.nodes[3].exec, "only the valid certificate counts")
	tn.inject(1, 3, MsgCommitted{Certs: certs})
	tn.run()
	require.Equal(t, uint64(3), tn.nodes[3].exec)
	agreementHolds(t, tn.obs)
}
