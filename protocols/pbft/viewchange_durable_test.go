package pbft

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/internal/prototest"
)

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
