package pbft

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/internal/digestcheck"
	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

// The three phases' messages are hashed from their binary forms; each
// variant differs from the first of its kind in one field.
func TestMessageDigestsSeeEveryField(t *testing.T) {
	type vote struct{ view, seq, digest uint64 }
	votes := []vote{{1, 2, 3}, {9, 2, 3}, {1, 9, 3}, {1, 2, 9}}
	sigs := []sim.Signature{{Signer: 1, Digest: 5}, {Signer: 2, Digest: 5}, {Signer: 1, Digest: 6}}
	var msgs []sim.Message
	for _, v := range votes {
		for _, s := range sigs {
			msgs = append(msgs, MsgPrepare{SignedVote{View: v.view, Seq: v.seq, Digest: v.digest, Sig: s}},
				MsgCommit{SignedVote{View: v.view, Seq: v.seq, Digest: v.digest, Sig: s}},
				MsgPrePrepare{View: v.view, Seq: v.seq, Digest: v.digest, Sig: s})
		}
	}
	for _, c := range []service.Command{{Client: 5, Seq: 3, Op: []byte("get k")}, {Client: 6, Seq: 3, Op: []byte("get k")},
		{Client: 5, Seq: 4, Op: []byte("get k")}, {Client: 5, Seq: 3, Op: []byte("get j")}, service.Noop} {
		msgs = append(msgs, MsgPrePrepare{View: 1, Seq: 2, Digest: 3, Sig: sigs[0], Cmd: c})
	}
	require.NoError(t, digestcheck.Collision(msgs...))
}
