package pbft

import (
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/simrun/simrun/internal/prototest"
	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

// Persistence and recovery: what a replica promised survives a crash.

func TestRestartedBackupKeepsItsPrePrepare(t *testing.T) {
	tn := newTestNet(t, 4, testConfig())
	tn.StartAll()
	tn.Drop = func(e envelope) bool { return e.To != 1 && e.From != 100 } // 1 hears the primary; nothing else gets through
	request(tn, cmdA.Client, cmdA.Seq, string(cmdA.Op), 0)
	tn.Stabilize()
	require.True(t, tn.Node(1).at(1).pp.ok)
	tn.Drop = nil
	tn.Crash(1)
	tn.Start(1)
	require.Equal(t, cmdA.Digest(), tn.Node(1).at(1).pp.digest)
	tn.Queue = nil
	tn.Inject(0, 1, signedPrePrepare(tn, 0, 1, cmdB))
	tn.Step()
	require.Equal(t, cmdA.Digest(), tn.Node(1).at(1).pp.digest, "no conflicting pre-prepare after a restart")
	for _, p := range sentBy[MsgPrepare](tn, 1) {
		require.Equal(t, cmdA.Digest(), p.Digest)
	}
}

func TestRestartedReplicaKeepsItsPreparedCertificate(t *testing.T) {
	tn := preparedEverywhere(t)
	tn.Crash(2)
	tn.Start(2)
	require.True(t, tn.Node(2).at(1).certOK)
	tn.Do(2, func(n *node) { n.startViewChange(1) })
	vc := sentBy[MsgViewChange](tn, 2)[0]
	require.Len(t, vc.Prepared, 1, "the certificate survives for the view change")
	tn.Do(3, func(n *node) { require.True(t, n.checkViewChange(&vc) == vcValid) })
}

func TestRestartedReplicaReexecutesFromItsCheckpoint(t *testing.T) {
	tn := newTestNet(t, 4, testConfig())
	tn.StartAll()
	requests(tn, 6, 0)
	before := tn.Node(2).sessions.LastApplied(105)
	tn.Crash(2)
	tn.Obs, tn.Replies, tn.Queue = nil, nil, nil
	tn.Start(2)
	tn.Stabilize()
	n := tn.Node(2)
	require.Equal(t, uint64(6), n.exec)
	require.Equal(t, uint64(4), n.h)
	require.Equal(t, before, n.sessions.LastApplied(105))
	var applied []uint64
	for _, o := range tn.Observed(2, sim.ObsApply) {
		applied = append(applied, o.Index)
	}
	require.Equal(t, []uint64{4, 5, 6}, applied, "the checkpoint's state, then the committed log above it")
	require.Len(t, tn.Observed(2, sim.ObsCommit), 2, "commits above the checkpoint are announced again")
	require.Empty(t, tn.Observed(2, sim.ObsLeader))
	require.Empty(t, tn.Replies, "no replies while re-executing")
	agreementHolds(t, append(tn.Observed(0, sim.ObsApply), tn.Obs...))
}

func TestRestartedReplicaResumesItsViewChange(t *testing.T) {
	tn := newTestNet(t, 4, testConfig())
	tn.StartAll()
	tn.Do(3, func(n *node) { n.startViewChange(1) })
	tn.Crash(3)
	tn.Queue = nil
	tn.Start(3)
	require.True(t, tn.Node(3).changing)
	require.Equal(t, uint64(1), tn.Node(3).view)
	require.Len(t, sentBy[MsgViewChange](tn, 3), 3, "it resends its view change")
	tn.Inject(0, 3, signedPrePrepare(tn, 0, 1, cmdA))
	tn.Step()
	require.Nil(t, tn.Node(3).at(1), "no part in the old view")
}

func TestRestartedPrimaryDoesNotReuseSequenceNumbers(t *testing.T) {
	tn := newTestNet(t, 4, testConfig())
	tn.StartAll()
	tn.Drop = func(e envelope) bool { return e.From == 0 && int(e.To) < 4 }
	request(tn, 100, 1, "set a 1", 0)
	tn.Stabilize()
	tn.Crash(0)
	tn.Start(0)
	require.Equal(t, uint64(2), tn.Node(0).next)
	require.Equal(t, uint64(1), tn.Node(0).assigned[100])
	require.Empty(t, tn.Observed(0, sim.ObsLeader)[1:], "view 0 announced once")
}

func TestCorruptRecordsAreForgotten(t *testing.T) {
	tn := newTestNet(t, 4, testConfig())
	tn.StartAll()
	requests(tn, 2, 0)
	tn.Crash(3)
	d := tn.Disk(3)
	b, _ := d.Get(entryKey(2))
	b[3] ^= 0x10
	d.Put(entryKey(2), b)
	d.Sync()
	tn.Start(3)
	require.Equal(t, uint64(1), tn.Node(3).exec, "entry 2 is gone")
	require.NotContains(t, d.Keys(entryKeyPrefix), entryKey(2))
	tn.Fire(3, timerStatus)
	tn.Stabilize()
	require.Equal(t, uint64(2), tn.Node(3).exec, "and fetched again")
}

func TestEntryRecordRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		sig := func(label string) sim.Signature {
			return sim.Signature{Signer: sim.NodeID(rapid.IntRange(0, 63).Draw(t, label+".signer")), Digest: rapid.Uint64().Draw(t, label+".digest")}
		}
		sigs := func(label string) []sim.Signature {
			out := make([]sim.Signature, rapid.IntRange(0, 5).Draw(t, label+".n"))
			for i := range out {
				out[i] = sig(label)
			}
			return out
		}
		command := func(label string) service.Command {
			return service.Command{Client: sim.NodeID(rapid.IntRange(-1, 100).Draw(t, label+".client")),
				Seq: rapid.Uint64().Draw(t, label+".seq"), Op: rapid.SliceOf(rapid.Byte()).Draw(t, label+".op")}
		}
		seq := rapid.Uint64Range(1, 1<<40).Draw(t, "seq")
		var e entry
		if rapid.Bool().Draw(t, "pp") {
			cmd := command("pp")
			e.pp = prePrepare{ok: true, view: rapid.Uint64().Draw(t, "pp.view"), cmd: cmd, digest: cmd.Digest(), sig: sig("pp")}
		}
		if rapid.Bool().Draw(t, "cert") {
			e.certOK = true
			e.cert = PreparedCert{View: rapid.Uint64().Draw(t, "cert.view"), Seq: seq, Cmd: command("cert"), PrePrepare: sig("cert.pp"), Prepares: sigs("cert")}
		}
		if !e.pp.ok && !e.certOK || rapid.Bool().Draw(t, "committed") {
			e.committed = true
			e.done = CommitCert{View: rapid.Uint64().Draw(t, "done.view"), Seq: seq, Cmd: command("done"), Commits: sigs("done")}
		}
		got, err := decodeEntry(seq, encodeEntry(&e))
		require.NoError(t, err)
		normalize := func(e *entry) {
			for _, c := range []*service.Command{&e.pp.cmd, &e.cert.Cmd, &e.done.Cmd} {
				if len(c.Op) == 0 {
					c.Op = nil
				}
			}
			for _, s := range []*[]sim.Signature{&e.cert.Prepares, &e.done.Commits} {
				if len(*s) == 0 {
					*s = nil
				}
			}
		}
		normalize(&e)
		normalize(&got)
		require.Equal(t, e, got)
		sealed := sealRecord(encodeEntry(&e))
		body, err := openRecord(sealed)
		require.NoError(t, err)
		require.Equal(t, encodeEntry(&e), body)
		bit := rapid.IntRange(0, len(sealed)*8-1).Draw(t, "bit")
		sealed[bit/8] ^= 1 << (bit % 8)
		_, err = openRecord(sealed)
		require.Error(t, err, "a flipped bit fails the checksum")
	})
}

func TestEntryKeysSortBySequence(t *testing.T) {
	require.Equal(t, "pbft/entry/00000000000000000042", entryKey(42))
	seq, ok := parseEntryKey(entryKey(1 << 40))
	require.True(t, ok)
	require.Equal(t, uint64(1<<40), seq)
	require.Less(t, entryKey(9), entryKey(10))
	for _, bad := range []string{"pbft/entry/0", "pbft/entry/0000000000000000000x", "pbft/entry/00000000000000000000"} {
		_, ok := parseEntryKey(bad)
		require.False(t, ok, bad)
	}
}

// TestNewViewRecordRoundTrips: the kept new-view message decodes to the
// same value, and a record cut short or with a huge list length is refused
// without allocating for the length it claims.
func TestNewViewRecordRoundTrips(t *testing.T) {
	cmd := service.Command{Client: 5, Seq: 2, Op: []byte("put k v")}
	nv := MsgNewView{View: 3,
		ViewChanges: []MsgViewChange{{View: 3, Replica: 1, Stable: CheckpointCert{Seq: 10, Digest: 7,
			Proof: []sim.Signature{{Signer: 0, Digest: 9}}},
			Prepared: []PreparedCert{{View: 2, Seq: 11, Cmd: cmd, PrePrepare: sim.Signature{Signer: 2, Digest: 4},
				Prepares: []sim.Signature{{Signer: 1, Digest: 4}, {Signer: 3, Digest: 4}}}},
			Sig: sim.Signature{Signer: 1, Digest: 8}}},
		PrePrepares: []MsgPrePrepare{{View: 3, Seq: 11, Digest: cmd.Digest(), Cmd: cmd, Sig: sim.Signature{Signer: 3, Digest: 6}}},
	}
	b := encodeNewView(nv)
	r := reader{b: b}
	got := r.newView()
	require.NoError(t, r.end())
	require.Equal(t, nv, got)

	short := reader{b: b[:len(b)-3]}
	short.newView()
	require.Error(t, short.end())

	huge := reader{b: []byte{3, 0xff, 0xff, 0xff, 0xff, 0x0f}}
	huge.newView()
	require.Error(t, huge.end())
}

// On a disk that reorders writes only a sync orders two of them: the stable
// checkpoint and the snapshot that stand for the entries a truncation
// deletes are synced before the deletes, or a crash could keep the deletes
// alone, and the replica restart at its old low water mark over a hole
// where entries it had voted on were.
func TestTruncationFollowsADurableCheckpoint(t *testing.T) {
	tn := newTestNet(t, 4, testConfig())
	tn.StartAll()
	requests(tn, 3, 0)
	require.Equal(t, []string{entryKey(1), entryKey(2), entryKey(3)}, tn.Disk(2).Keys(entryKeyPrefix))
	tn.Within(2, func(n *node, env *prototest.Env) {
		n.env = env
		n.writeStable()
		n.writeSnapshot()
		n.truncateLog(2)
		require.Equal(t, 2, tn.Disk(2).Unsynced(), "the checkpoint waits for a sync with the deletes of entries 1 and 2")
	})
}

// A checkpoint that becomes stable is written, snapshot and all, and synced
// before the entries it stands for go: a replica whose log was truncated
// ahead of the snapshot, cut by a crash on a disk that reorders writes,
// came back with neither, and a primary then assigned a sequence number
// twice.
func TestStableCheckpointIsDurableBeforeTheLogGoes(t *testing.T) {
	tn := newTestNet(t, 4, testConfig()) // K=4
	tn.StartAll()
	tn.Drop = func(e envelope) bool { _, ok := e.Msg.(MsgCheckpoint); return ok && e.To == 2 }
	requests(tn, 4, 0)
	require.Equal(t, uint64(4), tn.Node(0).stable.Seq, "checkpoint 4 is stable at the others")
	require.Zero(t, tn.Node(2).h, "n2 heard no checkpoint message: its log is whole")
	tn.Within(2, func(n *node, env *prototest.Env) {
		n.env = env
		n.stable = tn.Node(0).stable
		n.applyStable()
		require.Equal(t, uint64(4), n.h)
		require.Equal(t, 4, tn.Disk(2).Unsynced(), "only the deletes of entries 1-4 wait: the snapshot was synced before them")
	})
}
