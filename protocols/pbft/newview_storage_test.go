package pbft

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

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
